"""The Approvals page: what waits for the current user's decision, across seasons, and what
they asked for; approve or reject in place (htmx) or by a plain form. The decisions are
planning.services.decide_adjustment's and purchasing.services.decide_release's."""
from __future__ import annotations

import uuid

from flask import Blueprint, flash, render_template, request, url_for
from flask_login import current_user, login_required

from ..auth.access import role_required
from ..auth.roles import Action, may
from ..errors import ValidationFailed
from ..extensions import db
from ..htmx import redirect_after_write, render, wants_fragment
from ..planning import queries, services
from ..purchasing import queries as purchasing_queries
from ..purchasing import services as purchasing
from ..templating import money
from . import queries as counts

bp = Blueprint("approvals", __name__, url_prefix="/approvals")

# After a decision in place, the navigation's count refreshes itself (approvals/_count.html).
CHANGED = {"HX-Trigger": "approvals-changed"}
STATUSES = ("pending", "approved", "rejected", "recorded", "withdrawn")


# Each kind of request as the page shows it: its list in _context, the block that draws
# one, and the name that block reads it by.
KINDS = {"move": ("waiting", "row", "r"), "release": ("releases", "release", "p")}


def _waiting_now() -> int:
    """How many requests wait for the current user (0, unasked, for who may not decide)."""
    if not (current_user.is_authenticated and may(current_user.role, Action.APPROVE)):
        return 0
    return counts.waiting_count(db.session, current_user)


@bp.app_context_processor
def waiting_count():
    """`approvals_waiting()` for the navigation (asked only when the page shows the link)."""
    return {"approvals_waiting": _waiting_now}


def _context(**extra) -> dict:
    """The page's lists: what waits for the user (moves and releases) and what they asked
    for, narrowed to a season and (what they asked for) a status; the season choices are
    every season these lists hold."""
    season = (request.args.get("season") or "").strip().upper()
    status = request.args.get("status") if request.args.get("status") in STATUSES else ""
    can_decide = may(current_user.role, Action.APPROVE)
    lists = {
        "waiting": (queries.adjustment_rows(db.session, waiting_for=current_user)
                    if can_decide else []),
        "releases": (purchasing_queries.release_rows(db.session, waiting_for=current_user)
                     if can_decide else []),
        "mine": queries.adjustment_rows(db.session, asked_by=current_user.id,
                                        status=status or None),
        "my_releases": purchasing_queries.release_rows(db.session, asked_by=current_user.id,
                                                       status=status or None),
    }
    seasons = sorted({r.season_code for rows in lists.values() for r in rows})
    if season:
        lists = {name: [r for r in rows if r.season_code == season]
                 for name, rows in lists.items()}
    return {**lists, "season": season, "status": status, "statuses": STATUSES,
            "seasons": seasons, "can_decide": can_decide, "errors": {}, "values": {}, **extra}


@bp.get("/count")
@login_required
def count():
    """The navigation's count alone, after a decision on the page."""
    return render_template("approvals/_count.html", nav_waiting=_waiting_now())


@bp.get("/")
@login_required
def index():
    """What waits for your decision, and what you asked for."""
    return render("approvals/index.html", **_context())


def _decision(form) -> bool | None:
    """True to approve (release), False to reject, None when the form says neither."""
    return {"approve": True, "reject": False}.get(form.get("decision"))


@bp.post("/adjustments/<uuid:adjustment_id>")
@role_required(Action.APPROVE)
def decide(adjustment_id: uuid.UUID):
    """Approve or reject one request to move open to buy, with a note."""
    form = request.form
    approve = _decision(form)
    if approve is None:
        return _refused("move", adjustment_id, {"decision": "Choose approve or reject"}, form)
    try:
        row = services.decide_adjustment(
            db.session, current_user, adjustment_id, approve=approve,
            note=form.get("note", ""), override_reason=form.get("override_reason"))
    except ValidationFailed as exc:
        return _refused("move", adjustment_id, exc.errors, form)
    verb = "approved" if row.status == "approved" else "rejected"
    return _decided("move", queries.adjustment_rows(db.session, ids=[row.id])[0],
                    f"Request #{row.number} to move {money(row.amount)} is {verb}.")


@bp.post("/releases/<uuid:release_id>")
@role_required(Action.APPROVE)
def decide_release(release_id: uuid.UUID):
    """Release a PO over its budget, or reject it, with a note."""
    form = request.form
    approve = _decision(form)
    if approve is None:
        return _refused("release", release_id, {"decision": "Choose release or reject"}, form)
    try:
        release = purchasing.decide_release(db.session, current_user, release_id,
                                            approve=approve, note=form.get("note", ""))
    except ValidationFailed as exc:
        return _refused("release", release_id, exc.errors, form)
    row = purchasing_queries.release_rows(db.session, ids=[release.id])[0]
    verb = ("released: it is open and consumes its budget" if release.status == "approved"
            else "rejected: it is cancelled")
    return _decided("release", row, f"PO {row.po_number} is {verb}.")


def _decided(kind: str, item, message: str):
    """After a decision: the decided request in place for htmx (and the navigation's count
    told to refresh), else back to the page with the message."""
    if wants_fragment():
        _, block, name = KINDS[kind]
        body, status = render("approvals/index.html", block=block, decided_now=message,
                              can_decide=True, errors={}, values={}, **{name: item})
        return body, status, CHANGED
    flash(message, "success")
    return redirect_after_write(url_for("approvals.index"))


def _refused(kind: str, item_id, errors: dict, form):
    """The request again with the messages next to its fields (422): the request alone for
    htmx, the page otherwise."""
    context = _context(errors={item_id: errors}, values={item_id: form.to_dict()})
    if wants_fragment():
        listed, block, name = KINDS[kind]
        item = next((r for r in context[listed] if r.id == item_id), None)
        if item is not None:
            return render("approvals/index.html", block=block, status_code=422,
                          **context, **{name: item})
    return render("approvals/index.html", status_code=422, **context)
