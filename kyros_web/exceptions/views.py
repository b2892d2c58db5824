"""The exceptions inbox pages (issue 17, item 4): across the watched seasons and per season
with its thresholds; acknowledging one exception in place (htmx) or by a plain form. Rules
live in exceptions/rules.py and queries.py, writes in services.py."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, request, url_for
from flask_login import current_user, login_required

from ..auth.access import role_required
from ..auth.roles import Action, may
from ..clock import today
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..htmx import redirect_after_write, render, render_fragment, wants_fragment
from ..paging import Page, page_number
from ..seasons.services import get_season
from ..versions import cached
from . import queries, rules, services

bp = Blueprint("exceptions", __name__, url_prefix="/exceptions")

STATES = {"open": "Open", "acknowledged": "Acknowledged", "all": "Open and acknowledged"}


def _filters() -> dict:
    """The list's filters from the query string, cleaned."""
    args = request.args
    return {"season": (args.get("season") or "").strip().upper(),
            "kind": args.get("kind") if args.get("kind") in rules.KINDS else "",
            "severity": args.get("severity") if args.get("severity") in list(rules.Severity)
            else "",
            "state": args.get("state") if args.get("state") in STATES else "open"}


def _season_rules(season) -> list:
    """The season's rules as of today, kept in the figure cache until its data changes."""
    on = today()
    return cached(db.session, season.id, ("exceptions", on),
                  lambda: queries.season_rules(db.session, season, on=on))


def _listed(seasons, f: dict) -> tuple[list, list]:
    """(the exceptions the filters keep, the rules that found them) over `seasons`."""
    found_rules = [r for s in seasons for r in _season_rules(s)]
    acks = queries.acknowledgements(db.session, [s.id for s in seasons])
    found = queries.ordered(queries.with_acknowledgements(found_rules, acks))
    if f["kind"]:
        found = [x for x in found if x.kind.code == f["kind"]]
    if f["severity"]:
        found = [x for x in found if x.severity == f["severity"]]
    if f["state"] == "open":
        found = [x for x in found if x.is_open]
    elif f["state"] == "acknowledged":
        found = [x for x in found if not x.is_open]
    return found, found_rules


def _page(found: list) -> Page:
    per_page = current_app.config["PAGE_SIZE"]
    total = len(found)
    number = min(page_number(request.args.get("page")), max(1, -(-total // per_page)))
    start = (number - 1) * per_page
    return Page(found[start:start + per_page], number, per_page, total)


def _args(f: dict, **drop) -> dict:
    return {k: v for k, v in f.items() if v and k not in drop and not (k == "state" and v == "open")}


def _context(seasons, f: dict, **extra) -> dict:
    found, found_rules = _listed(seasons, f)
    return {"page": _page(found), "filters": f, "kinds": rules.KINDS.values(),
            "severities": list(rules.Severity), "states": STATES,
            "more": [r for r in found_rules if r.more > 0],
            "can_acknowledge": may(current_user.role, Action.ACKNOWLEDGE),
            "errors": {}, "values": {}, **extra}


@bp.get("/")
@login_required
def index():
    """Every watched season's exceptions, filtered by season, kind, severity and state."""
    f = _filters()
    watched = queries.watched_seasons(db.session)
    seasons = [s for s in watched if not f["season"] or s.season_code == f["season"]]
    return render("exceptions/index.html", **_context(seasons, f), seasons=watched,
                  args=_args(f))


def _season_page(code: str, *, status_code=200, block=None, threshold_errors=None,
                 threshold_values=None, state=None, **extra):
    season = get_season(db.session, code)
    f = {**_filters(), "season": season.season_code, **({"state": state} if state else {})}
    watched = season.status in queries.WATCHED
    context = _context([season] if watched else [], f, **extra)
    return render("exceptions/season.html", block=block, status_code=status_code,
                  season=season, watched=watched, args=_args(f, season=True),
                  thresholds=queries.thresholds(db.session, season.id),
                  threshold_fields=rules.THRESHOLDS,
                  can_edit_thresholds=watched and may(current_user.role, Action.EDIT_PLANNING),
                  half_way=rules.half_way(season.start_date, season.end_date),
                  threshold_errors=threshold_errors or {},
                  threshold_values=threshold_values or {}, **context)


@bp.get("/<code>")
@login_required
def season(code: str):
    """One season's exceptions and its thresholds."""
    return _season_page(code)


@bp.post("/<code>/thresholds")
@role_required(Action.EDIT_PLANNING)
def thresholds(code: str):
    """Change the season's thresholds (exceptions.services.update_thresholds)."""
    season_ = get_season(db.session, code)
    try:
        services.update_thresholds(db.session, current_user, season_.id, request.form.to_dict())
    except ValidationFailed as exc:
        return _season_page(code, status_code=422, block="thresholds",
                            threshold_errors=exc.errors,
                            threshold_values=request.form.to_dict())
    flash("The thresholds are saved; the list below follows them.", "success")
    return redirect_after_write(url_for("exceptions.season", code=season_.season_code))


@bp.post("/<code>/acknowledge")
@role_required(Action.ACKNOWLEDGE)
def acknowledge(code: str):
    """Acknowledge one exception with a note (exceptions.services.acknowledge): its row again
    for htmx, else back to the list it was on."""
    season_ = get_season(db.session, code)
    form = request.form
    kind, key = form.get("kind", ""), form.get("key", "")
    back = form.get("back", "")
    if not back.startswith("/exceptions/"):
        back = url_for("exceptions.season", code=season_.season_code)
    try:
        services.acknowledge(db.session, current_user, season_.id, kind=kind, key=key,
                             note=form.get("note", ""))
    except ValidationFailed as exc:
        return _refused(season_, kind, key, exc.errors, form)
    row = _one(season_, kind, key)
    if wants_fragment() and row is not None:
        return render_fragment("exceptions/_list.html", "row", x=row, show_season=False,
                               can_acknowledge=True, errors={}, values={}, back=back,
                               done_now=True)
    flash(f"Acknowledged: {row.what if row else key}.", "success")
    return redirect_after_write(back)


def _one(season, kind: str, key: str):
    """One exception of the season as the list shows it now, or None."""
    if kind not in rules.KINDS:
        return None
    found_rules = queries.season_rules(db.session, season, limits=None, kinds=(kind,))
    acks = queries.acknowledgements(db.session, [season.id])
    return next((x for x in queries.with_acknowledgements(found_rules, acks) if x.key == key),
                None)


def _refused(season, kind: str, key: str, errors: dict, form):
    """The exception's row with the message by its note (422) for htmx; the season's page
    otherwise."""
    row = _one(season, kind, key)
    if row is None:
        raise NotFound("This exception is no longer there")
    if wants_fragment():
        return render_fragment("exceptions/_list.html", "row", status_code=422, x=row,
                               show_season=False, can_acknowledge=True,
                               errors={row.anchor: errors}, values={row.anchor: form.to_dict()},
                               back=form.get("back", ""))
    return _season_page(season.season_code, status_code=422, state="all",
                        errors={row.anchor: errors}, values={row.anchor: form.to_dict()})
