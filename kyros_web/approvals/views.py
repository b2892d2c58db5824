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


@bp.app_context_processor
def waiting_count():
    """`approvals_waiting()` for the navigation: how many requests wait for the current user
    (asked only when the page shows the link, to those who may decide)."""
    def approvals_waiting() -> int:
        if not (current_user.is_authenticated and may(current_user.role, Action.APPROVE)):
            return 0
        return counts.waiting_count(db.session, current_user)
    return {"approvals_waiting": approvals_waiting}


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
    return render_template("approvals/_count.html",
                           nav_waiting=waiting_count()["approvals_waiting"]())


@bp.get("/")
@login_required
def index():
    """What waits for your decision, and what you asked for."""
    return render("approvals/index.html", **_context())


@bp.post("/adjustments/<uuid:adjustment_id>")
@role_required(Action.APPROVE)
def decide(adjustment_id: uuid.UUID):
    """Approve or reject one request to move open to buy, with a note."""
    form = request.form
    decision = form.get("decision")
    if decision not in ("approve", "reject"):
        return _refused(adjustment_id, {"decision": "Choose approve or reject"}, form)
    try:
        row = services.decide_adjustment(
            db.session, current_user, adjustment_id, approve=decision == "approve",
            note=form.get("note", ""), override_reason=form.get("override_reason"))
    except ValidationFailed as exc:
        return _refused(adjustment_id, exc.errors, form)
    verb = "approved" if row.status == "approved" else "rejected"
    message = f"Request #{row.number} to move {money(row.amount)} is {verb}."
    if wants_fragment():
        decided = queries.adjustment_rows(db.session, ids=[row.id])[0]
        body, status = render("approvals/index.html", block="row", r=decided,
                              decided_now=message, can_decide=True, errors={}, values={})
        return body, status, CHANGED
    flash(message, "success")
    return redirect_after_write(url_for("approvals.index"))


def _refused(adjustment_id, errors: dict, form):
    """The request again with the messages next to its fields (422): its row for htmx, the
    page otherwise."""
    context = _context(errors={adjustment_id: errors},
                       values={adjustment_id: form.to_dict()})
    if wants_fragment():
        row = next((r for r in context["waiting"] if r.id == adjustment_id), None)
        if row is not None:
            return render("approvals/index.html", block="row", status_code=422, r=row,
                          **{k: v for k, v in context.items() if k != "r"})
    return render("approvals/index.html", status_code=422, **context)


@bp.post("/releases/<uuid:release_id>")
@role_required(Action.APPROVE)
def decide_release(release_id: uuid.UUID):
    """Release a PO over its budget, or reject it, with a note."""
    form = request.form
    decision = form.get("decision")
    if decision not in ("approve", "reject"):
        return _refused_release(release_id, {"decision": "Choose release or reject"}, form)
    try:
        release = purchasing.decide_release(db.session, current_user, release_id,
                                            approve=decision == "approve",
                                            note=form.get("note", ""))
    except ValidationFailed as exc:
        return _refused_release(release_id, exc.errors, form)
    row = purchasing_queries.release_rows(db.session, ids=[release.id])[0]
    verb = "released: it is open and consumes its budget" if release.status == "approved" \
        else "rejected: it is cancelled"
    message = f"PO {row.po_number} is {verb}."
    if wants_fragment():
        body, status = render("approvals/index.html", block="release", p=row,
                              decided_now=message, can_decide=True, errors={}, values={})
        return body, status, CHANGED
    flash(message, "success")
    return redirect_after_write(url_for("approvals.index"))


def _refused_release(release_id, errors: dict, form):
    context = _context(errors={release_id: errors}, values={release_id: form.to_dict()})
    if wants_fragment():
        row = next((r for r in context["releases"] if r.id == release_id), None)
        if row is not None:
            return render("approvals/index.html", block="release", status_code=422, p=row,
                          **context)
    return render("approvals/index.html", status_code=422, **context)
