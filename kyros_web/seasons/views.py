"""Seasons: list, create/edit, the season page with stepper and gates, its locations and its
history (SPEC §3, §7, §9)."""
from __future__ import annotations

import uuid

from flask import Blueprint, current_app, flash, request, url_for
from flask_login import current_user, login_required

from ..auth.roles import Action, may
from ..auth.access import role_required
from ..errors import ValidationFailed
from ..extensions import db
from ..forms import submit
from ..htmx import redirect_after_write, render
from ..paging import page_number
from ..planning.reforecast import METHODS
from ..versions import cached
from . import queries, services
from .forms import SeasonForm
from .models import Season
from .workflow import ORDER, Area, SeasonStatus, can_edit, next_status, statuses_editing

bp = Blueprint("seasons", __name__, url_prefix="/seasons")


def _paging() -> dict:
    """The page the query string asks for and the configured page size."""
    return {"page": page_number(request.args.get("page")),
            "per_page": current_app.config["PAGE_SIZE"]}


def _page_args(season: Season) -> dict:
    """What the shared season header and tabs need."""
    return {"season": season, "can_edit_details": can_edit(current_user, season, Area.DETAILS),
            "can_delete": can_edit(current_user, season, Area.DELETE)}


@bp.get("/")
@login_required
def index():
    """Seasons, filtered by status and searched by code or name, paged."""
    status = request.args.get("status", "")
    if status not in {s.value for s in SeasonStatus}:
        status = ""
    q = request.args.get("q", "").strip()
    page = queries.season_page(db.session, status=SeasonStatus(status) if status else None, q=q,
                               **_paging())
    return render("seasons/index.html", block="results", page=page, status=status, q=q,
                  statuses=ORDER, can_create=may(current_user.role, Action.MANAGE_SEASONS))


@bp.get("/new")
@role_required(Action.MANAGE_SEASONS)
def new():
    """The form for a new season."""
    return render("seasons/form.html", form=SeasonForm(), season=None)


def _save(season: Season | None, done: str):
    """Run the season form: create a season (none yet) or update this one, then its page."""
    form = SeasonForm()

    def save():
        fields = {"name": form.name.data, "start_date": form.start_date.data,
                  "end_date": form.end_date.data}
        if season is None:
            return services.create_season(db.session, current_user, **fields)
        return services.update_season(db.session, current_user, season.id,
                                      chain_stock=form.chain_stock.data, **fields)

    return submit(form, save, template="seasons/form.html", season=season,
                  success=lambda s: url_for("seasons.detail", code=s.season_code),
                  message=lambda s: f"Season {s.season_code} {done}")


@bp.post("/")
@role_required(Action.MANAGE_SEASONS)
def create():
    """Create a season; its code is generated."""
    return _save(None, "created. Next: assign its locations.")


@bp.get("/<code>/edit")
@role_required(Action.MANAGE_SEASONS)
def edit(code: str):
    """The form to change a season's name, dates and stock chain."""
    season = services.get_season(db.session, code)
    services.require_editable(season, Area.DETAILS)
    return render("seasons/form.html", form=SeasonForm(obj=season), season=season)


@bp.post("/<code>")
@role_required(Action.MANAGE_SEASONS)
def update(code: str):
    """Save a season's name, dates and stock chain."""
    return _save(services.get_season(db.session, code), "saved.")


@bp.post("/<code>/delete")
@role_required(Action.MANAGE_SEASONS)
def delete(code: str):
    """Delete a season that is still `created`."""
    season = services.get_season(db.session, code)
    services.delete_season(db.session, current_user, season.id)
    flash(f"Season {code.upper()} deleted.", "success")
    return redirect_after_write(url_for("seasons.index"))


def _fix_links(season: Season) -> dict[Area, str]:
    """Where each gate's problem is fixed."""
    code = season.season_code
    return {Area.LOCATIONS: url_for("seasons.locations", code=code),
            Area.PLANS: url_for("planning.plans", code=code),
            Area.OTB: url_for("planning.otb", code=code),
            Area.RANGE: url_for("planning.range_intent", code=code),
            Area.PURCHASING: url_for("purchasing.pos", code=code)}


@bp.get("/<code>")
@login_required
def detail(code: str, lock_error: str | None = None):
    """The season page: header, stepper, the gate checklist and the transition button."""
    season = services.get_season(db.session, code)
    checklist = cached(db.session, season.id, ("gates", season.status),
                       lambda: services.season_gates(db.session, season))
    transitions = queries.transitions(db.session, season.id)
    return render("seasons/detail.html", block="workflow",
                  status_code=422 if lock_error else 200, checklist=checklist,
                  next=next_status(season.status), order=ORDER, transitions=transitions,
                  can_advance=may(current_user.role, Action.MANAGE_SEASONS),
                  fix_links=_fix_links(season), lock_error=lock_error, **_page_args(season))


@bp.post("/<code>/advance")
@role_required(Action.MANAGE_SEASONS)
def advance(code: str):
    """Move the season to its next status; 409 with the reason when a gate or the workflow
    refuses. Locking asks for an explicit confirmation, since it is final."""
    season = services.get_season(db.session, code)
    target = request.form.get("target") or None
    if target == SeasonStatus.LOCKED.value and request.form.get("confirm_lock") != "yes":
        return detail(code, lock_error="Tick the box to confirm: locking is final.")
    season = services.advance_season(db.session, current_user, season.id, target=target,
                                     note=request.form.get("note"))
    flash(f"Season {season.season_code} is now {season.status.title}.", "success")
    return redirect_after_write(url_for("seasons.detail", code=season.season_code))


@bp.post("/<code>/reforecast-method")
@role_required(Action.MANAGE_SEASONS)
def reforecast_method(code: str):
    """Choose the season's reforecast method (issue 16), then back to the In season page,
    whose figures follow it."""
    season = services.get_season(db.session, code)
    method = request.form.get("reforecast_method", "")
    season = services.set_reforecast_method(db.session, current_user, season.id, method)
    flash(f"Reforecast method of season {season.season_code}: {METHODS[method]}.", "success")
    return redirect_after_write(url_for("analytics.report", code=season.season_code,
                                        slug="in-season"))


@bp.get("/<code>/locations")
@login_required
def locations(code: str):
    """The season's locations, and (while the season allows) adding and removing them."""
    season = services.get_season(db.session, code)
    q = request.args.get("q", "").strip()
    page = queries.assigned_locations(db.session, season.id, **_paging())
    editable = can_edit(current_user, season, Area.LOCATIONS)
    candidates = queries.location_candidates(db.session, season.id, q) if editable and q else []
    return render("seasons/locations.html", page=page, q=q, candidates=candidates,
                  clusters=queries.clusters(db.session), can_edit_locations=editable,
                  location_statuses=statuses_editing(Area.LOCATIONS), **_page_args(season))


def _ids(values) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(v) for v in values]
    except ValueError:
        raise ValidationFailed({"locations": "Unknown location in the request"}) from None


@bp.post("/<code>/locations")
@role_required(Action.MANAGE_SEASONS)
def assign(code: str):
    """Add locations: the ticked ones, all of a cluster, or every active location."""
    season = services.get_season(db.session, code)
    if request.form.get("cluster"):
        cluster_id = _ids([request.form["cluster"]])[0]
        added = services.assign_cluster(db.session, current_user, season.id, cluster_id)
    elif request.form.get("all") == "yes":
        added = services.assign_all_active(db.session, current_user, season.id)
    else:
        added = services.assign_locations(db.session, current_user, season.id,
                                          _ids(request.form.getlist("location_id")))
    return _locations_changed(season, added, "added")


@bp.post("/<code>/locations/remove")
@role_required(Action.MANAGE_SEASONS)
def remove(code: str):
    """Take the ticked locations out of the season."""
    season = services.get_season(db.session, code)
    removed = services.remove_locations(db.session, current_user, season.id,
                                        _ids(request.form.getlist("location_id")))
    return _locations_changed(season, removed, "removed")


def _locations_changed(season, count: int, done: str):
    """Back to the season's locations, saying how many were added or removed."""
    flash(f"{count} location{'s' if count != 1 else ''} {done}.", "success")
    return redirect_after_write(url_for("seasons.locations", code=season.season_code))


@bp.get("/<code>/history")
@login_required
def history(code: str):
    """Transitions and audit events of the season, filterable by entity and user, paged."""
    season = services.get_season(db.session, code)
    choices = queries.history_choices(db.session, season.id)
    entity = request.args.get("entity", "")
    if entity not in choices.entities:
        entity = ""
    entity_id = request.args.get("entity_id", "")[:64]
    user = request.args.get("user", "")
    if user not in choices.user_ids():
        user = ""
    page = queries.history_page(db.session, season.id, entity=entity, entity_id=entity_id,
                                user_id=uuid.UUID(user) if user else None, **_paging())
    return render("seasons/history.html", block="events", page=page, entity=entity, user=user,
                  entity_id=entity_id, names=queries.history_names(db.session, page.items),
                  entity_words=queries.ENTITY_WORDS, entities=choices.entities, users=choices.users,
                  transitions=queries.transitions(db.session, season.id), **_page_args(season))
