"""Seasons: the list, the season page with its stepper and gates, and the advance action."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from ..auth.roles import Action, may
from ..auth.views import role_required
from ..extensions import db
from ..htmx import redirect_after_write, render
from . import services
from .models import Season, SeasonTransition
from .workflow import ORDER, SeasonStatus, next_status

bp = Blueprint("seasons", __name__, url_prefix="/seasons")


@bp.get("/")
@login_required
def index():
    """Seasons, filtered by status and searched by code or name, paged."""
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()
    stmt = select(Season).order_by(Season.start_date.desc(), Season.season_code)
    if status in {s.value for s in SeasonStatus}:
        stmt = stmt.where(Season.status == SeasonStatus(status))
    else:
        status = ""
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Season.season_code).like(like),
                              func.lower(Season.name).like(like)))
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render("seasons/index.html", block="results", page=page, status=status, q=q,
                  statuses=ORDER)


@bp.get("/<code>")
@login_required
def detail(code: str):
    """The season page: header, stepper, the gate checklist and the transition button."""
    season = services.get_season(db.session, code)
    checklist = services.season_gates(db.session, season)
    transitions = db.session.scalars(
        select(SeasonTransition).where(SeasonTransition.season_id == season.id)
        .order_by(SeasonTransition.created_at)).all()
    return render("seasons/detail.html", block="workflow", season=season, checklist=checklist,
                  next=next_status(season.status), order=ORDER, transitions=transitions,
                  can_advance=may(current_user.role, Action.MANAGE_SEASONS))


@bp.post("/<code>/advance")
@role_required(Action.MANAGE_SEASONS)
def advance(code: str):
    """Move the season to its next status; 409 with the reason when a gate or the workflow refuses."""
    season = services.get_season(db.session, code)
    target = request.form.get("target") or None
    season = services.advance_season(db.session, current_user, season.id, target=target,
                                     note=request.form.get("note"))
    flash(f"Season {season.season_code} is now {season.status.title}.", "success")
    return redirect_after_write(url_for("seasons.detail", code=season.season_code))
