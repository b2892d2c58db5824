"""The Approvals page: what waits for the current user's decision, across seasons, and what
they asked for; approve or reject in place (htmx) or by a plain form. Decisions are
planning.services.decide_adjustment's."""
from __future__ import annotations

import uuid

from flask import Blueprint, flash, request, url_for
from flask_login import current_user, login_required

from ..auth.access import role_required
from ..auth.roles import Action, may
from ..errors import ValidationFailed
from ..extensions import db
from ..htmx import redirect_after_write, render, wants_fragment
from ..planning import queries, services
from ..templating import money

bp = Blueprint("approvals", __name__, url_prefix="/approvals")

STATUSES = ("pending", "approved", "rejected")


@bp.app_context_processor
def waiting_count():
    """`approvals_waiting()` for the navigation: how many requests wait for the current user
    (asked only when the page shows the link, to those who may decide)."""
    def approvals_waiting() -> int:
        if not (current_user.is_authenticated and may(current_user.role, Action.APPROVE)):
            return 0
        return queries.waiting_count(db.session, current_user)
    return {"approvals_waiting": approvals_waiting}


def _context(**extra) -> dict:
    season = (request.args.get("season") or "").strip().upper()
    status = request.args.get("status") if request.args.get("status") in STATUSES else ""
    waiting = (queries.adjustment_rows(db.session, waiting_for=current_user)
               if may(current_user.role, Action.APPROVE) else [])
    mine = queries.adjustment_rows(db.session, asked_by=current_user.id, status=status or None)
    if season:
        waiting = [r for r in waiting if r.season_code == season]
        mine = [r for r in mine if r.season_code == season]
    seasons = sorted({r.season_code for r in waiting} | {r.season_code for r in mine})
    return {"waiting": waiting, "mine": mine, "season": season, "status": status,
            "statuses": STATUSES, "seasons": seasons,
            "can_decide": may(current_user.role, Action.APPROVE), "errors": {}, "values": {},
            **extra}


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
        return render("approvals/index.html", block="row", r=decided, decided_now=message,
                      can_decide=True, errors={}, values={})
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
