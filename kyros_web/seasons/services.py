"""Season writes and the workflow guard (SPEC §3): lock the row, check status, write, audit."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit, ids
from ..auth.roles import Action, require
from ..errors import (GateFailed, IllegalTransition, NotEditable, NotFound, SeasonLocked,
                      ValidationFailed)
from ..masterdata.models import Cluster, Location
from ..planning.models import SeasonPlan
from ..planning.reforecast import METHODS
from ..transaction import transactional
from . import gates as gates_mod
from .facts import season_facts
from .models import Season, SeasonLocation, SeasonTransition
from .workflow import Area, SeasonStatus, is_legal, may_edit, next_status, statuses_editing

SEASON_FIELDS = ("season_code", "name", "start_date", "end_date", "status", "chain_stock",
                 "reforecast_method")


def get_season(session: Session, code_or_id) -> Season:
    """The season by code or id; NotFound otherwise."""
    if isinstance(code_or_id, uuid.UUID):
        season = session.get(Season, code_or_id)
    else:
        season = session.scalar(select(Season).where(Season.season_code == str(code_or_id).upper()))
    if season is None:
        raise NotFound(f"Season {code_or_id} not found")
    return season


def lock_season(session: Session, season_id: uuid.UUID) -> Season:
    """Load the season with its row locked until the transaction ends.

    PostgreSQL: SELECT … FOR UPDATE, so a concurrent transition or write waits.
    SQLite has no row locks; a no-op UPDATE takes the database write lock instead,
    which serialises writers the same way.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Season).where(Season.id == season_id)
                        .values(status=Season.status)
                        .execution_options(synchronize_session=False, version_scope=None))
    season = session.execute(
        select(Season).where(Season.id == season_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if season is None:
        raise NotFound("Season not found")
    return season


def require_editable(season: Season, area: Area) -> None:
    """Raise unless the season's current status lets `area` change (SPEC §3).

    Call after lock_season, inside the writing transaction.
    """
    if season.status is SeasonStatus.LOCKED:
        raise SeasonLocked()
    if not may_edit(season.status, area):
        allowed = " or ".join(f"'{s.value}'" for s in statuses_editing(area))
        raise NotEditable(
            f"{area.title} can only be changed while the season is {allowed}; "
            f"season {season.season_code} is '{season.status.value}'"
        )


def _validate_dates(name: str, start_date: date | None, end_date: date | None) -> None:
    errors = {}
    if not (name or "").strip():
        errors["name"] = "Name is required"
    elif len(name.strip()) > 200:
        errors["name"] = "Name must be at most 200 characters"
    if start_date is None:
        errors["start_date"] = "Start date is required"
    if end_date is None:
        errors["end_date"] = "End date is required"
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = "End date must be on or after the start date"
    if errors:
        raise ValidationFailed(errors)


@transactional
def create_season(session: Session, user, *, name: str, start_date: date,
                  end_date: date) -> Season:
    """Create a season in status `created` with a generated code (retried on collision)."""
    require(user, Action.MANAGE_SEASONS)
    _validate_dates(name, start_date, end_date)
    for _ in range(5):
        code = ids.unique_code(
            ids.season_code,
            lambda c: session.scalar(select(exists().where(Season.season_code == c))),
        )
        season = Season(season_code=code, name=name.strip(), start_date=start_date,
                        end_date=end_date, status=SeasonStatus.CREATED, chain_stock=True,
                        created_by=user.id)
        try:
            # A savepoint so a code drawn twice by two requests at once is retried.
            with session.begin_nested():
                session.add(season)
        except IntegrityError:
            continue
        break
    else:
        raise RuntimeError("could not allocate a unique season code")
    audit.record(session, user=user, action="create", entity="season", entity_id=season.id,
                 season_id=season.id, after=audit.snapshot(season, SEASON_FIELDS))
    return season


@transactional
def update_season(session: Session, user, season_id: uuid.UUID, *, name: str,
                  start_date: date, end_date: date, chain_stock: bool | None = None) -> Season:
    """Change name, dates and (when given) the stock chain while the season allows details
    to change."""
    require(user, Action.MANAGE_SEASONS)
    season = lock_season(session, season_id)
    require_editable(season, Area.DETAILS)
    _validate_dates(name, start_date, end_date)
    before = audit.snapshot(season, SEASON_FIELDS)
    season.name, season.start_date, season.end_date = name.strip(), start_date, end_date
    if chain_stock is not None:
        season.chain_stock = bool(chain_stock)
    b, a = audit.changes(before, audit.snapshot(season, SEASON_FIELDS))
    if a:
        audit.record(session, user=user, action="update", entity="season",
                     entity_id=season.id, season_id=season.id, before=b, after=a)
    return season


@transactional
def set_reforecast_method(session: Session, user, season_id: uuid.UUID, method: str) -> Season:
    """Choose how the in-season reforecast forecasts the months without actuals (issue 16):
    until the season is locked, by whoever manages seasons; audited."""
    require(user, Action.MANAGE_SEASONS)
    if method not in METHODS:
        shown = method if len(method) <= 20 else method[:20] + "…"
        raise ValidationFailed({"reforecast_method": f"Reforecast method “{shown}” is unknown: "
                                "it is " + " or ".join(f"“{m}”" for m in METHODS)})
    season = lock_season(session, season_id)
    require_editable(season, Area.REFORECAST)
    if season.reforecast_method != method:
        before = season.reforecast_method
        season.reforecast_method = method
        audit.record(session, user=user, action="update", entity="season",
                     entity_id=season.id, season_id=season.id,
                     before={"reforecast_method": before}, after={"reforecast_method": method})
    return season


@transactional
def delete_season(session: Session, user, season_id: uuid.UUID) -> None:
    """Delete a season; only while `created` (SPEC §3)."""
    require(user, Action.MANAGE_SEASONS)
    season = lock_season(session, season_id)
    require_editable(season, Area.DELETE)
    # A created season holds only its location links; plans and the rest come later.
    for link in session.scalars(select(SeasonLocation).where(SeasonLocation.season_id == season.id)):
        session.delete(link)
    audit.record(session, user=user, action="delete", entity="season", entity_id=season.id,
                 season_id=season.id, before=audit.snapshot(season, SEASON_FIELDS))
    session.flush()
    session.delete(season)


def _assign(session: Session, user, season: Season, locations: list[Location]) -> int:
    """Add the locations not yet in the season; returns how many were added."""
    already = set(session.scalars(select(SeasonLocation.location_id).where(
        SeasonLocation.season_id == season.id,
        SeasonLocation.location_id.in_([loc.id for loc in locations]))))
    added = sorted((loc for loc in locations if loc.id not in already),
                   key=lambda loc: loc.location_code)
    for loc in added:
        session.add(SeasonLocation(season_id=season.id, location_id=loc.id))
    if added:
        audit.record(session, user=user, action="assign_locations", entity="season_location",
                     entity_id=season.id, season_id=season.id,
                     after={"location_codes": [loc.location_code for loc in added]})
    return len(added)


def _locked_for_locations(session: Session, user, season_id: uuid.UUID) -> Season:
    require(user, Action.MANAGE_SEASONS)
    season = lock_season(session, season_id)
    require_editable(season, Area.LOCATIONS)
    return season


@transactional
def assign_locations(session: Session, user, season_id: uuid.UUID,
                     location_ids: list[uuid.UUID]) -> int:
    """Add these locations to the season; returns how many were new. Inactive ones refused."""
    season = _locked_for_locations(session, user, season_id)
    if not location_ids:
        return 0
    return _assign(session, user, season, _addable(session, location_ids, "locations"))


def _addable(session: Session, location_ids, field: str) -> list[Location]:
    """The locations of these ids; NotFound for an unknown one, ValidationFailed on `field`
    for an inactive one."""
    wanted = set(location_ids)
    locations = session.scalars(select(Location).where(Location.id.in_(wanted))).all()
    missing = wanted - {loc.id for loc in locations}
    if missing:
        raise NotFound(f"{len(missing)} location(s) not found")
    inactive = sorted(loc.location_code for loc in locations if not loc.is_active)
    if inactive:
        raise ValidationFailed({field: "Inactive locations cannot be added: "
                                + ", ".join(inactive)})
    return list(locations)


@transactional
def assign_cluster(session: Session, user, season_id: uuid.UUID, cluster_id: uuid.UUID) -> int:
    """Add every active location of a cluster ("add all of Region 03")."""
    season = _locked_for_locations(session, user, season_id)
    cluster = session.get(Cluster, cluster_id)
    if cluster is None:
        raise NotFound("Cluster not found")
    locations = session.scalars(select(Location).where(
        Location.cluster_id == cluster.id, Location.is_active.is_(True))).all()
    return _assign(session, user, season, list(locations))


@transactional
def assign_all_active(session: Session, user, season_id: uuid.UUID) -> int:
    """Add every active location."""
    season = _locked_for_locations(session, user, season_id)
    locations = session.scalars(select(Location).where(Location.is_active.is_(True))).all()
    return _assign(session, user, season, list(locations))


@transactional
def remove_locations(session: Session, user, season_id: uuid.UUID,
                     location_ids: list[uuid.UUID]) -> int:
    """Take locations out of the season; refused for a location that already has plans."""
    season = _locked_for_locations(session, user, season_id)
    links = session.scalars(select(SeasonLocation).where(
        SeasonLocation.season_id == season.id,
        SeasonLocation.location_id.in_(set(location_ids)))).all()
    planned = set(session.scalars(select(SeasonPlan.location_id).where(
        SeasonPlan.season_id == season.id, SeasonPlan.location_id.in_(set(location_ids)))))
    if planned:
        codes = sorted(session.scalars(select(Location.location_code)
                                       .where(Location.id.in_(planned))))
        raise ValidationFailed({"locations": "Locations with plan rows cannot be removed "
                                "(delete their plans first): " + ", ".join(codes)})
    codes = sorted(link.location.location_code for link in links)
    for link in links:
        session.delete(link)
    if links:
        audit.record(session, user=user, action="remove_locations", entity="season_location",
                     entity_id=season.id, season_id=season.id,
                     before={"location_codes": codes})
    return len(links)


def season_gates(session: Session, season: Season) -> list[gates_mod.Gate]:
    """The checklist for leaving the season's current status."""
    return gates_mod.gates(season.status, season_facts(session, season))


@transactional
def advance_season(session: Session, user, season_id: uuid.UUID,
                   target: SeasonStatus | None = None, note: str | None = None) -> Season:
    """Move the season to its one legal next status, hard gates enforced (SPEC §3).

    `target`, when given, must be that next status (IllegalTransition otherwise), so a
    stale button never jumps a step. Raises GateFailed with the gates' messages.
    """
    require(user, Action.MANAGE_SEASONS)
    return _advance(session, user, lock_season(session, season_id), target, note)


@transactional
def define_locations(session: Session, user, season_id: uuid.UUID,
                     location_ids: list[uuid.UUID] | None = None) -> Season:
    """The seed's one call for a created season: add these locations (None: every active
    one) and move to `locations_defined`, in one transaction — refused as a whole when the
    season is past `created` or a gate fails, so nothing is half done."""
    season = _locked_for_locations(session, user, season_id)
    if season.status is not SeasonStatus.CREATED:
        raise IllegalTransition(season.status.value, SeasonStatus.LOCATIONS_DEFINED.value)
    if location_ids is None:
        locations = session.scalars(select(Location).where(Location.is_active.is_(True))).all()
    else:
        locations = _addable(session, location_ids, "location_ids")
    _assign(session, user, season, list(locations))
    session.flush()
    return _advance(session, user, season, SeasonStatus.LOCATIONS_DEFINED, None)


def _advance(session: Session, user, season: Season, target, note: str | None) -> Season:
    """The transition of a locked season (see advance_season)."""
    current = season.status
    if target is None:
        target = next_status(current)
        if target is None:
            raise SeasonLocked()
    elif target not in {s.value for s in SeasonStatus}:
        raise IllegalTransition(current.value, str(target))
    target = SeasonStatus(target)
    if not is_legal(current, target):
        raise IllegalTransition(current.value, target.value)
    failing = gates_mod.blocking(season_gates(session, season))
    if failing:
        raise GateFailed(failing)
    season.status = target
    session.add(SeasonTransition(season_id=season.id, from_status=current, to_status=target,
                                 user_id=user.id, note=(note or "").strip() or None))
    audit.record(session, user=user, action="transition", entity="season", entity_id=season.id,
                 season_id=season.id, before={"status": current.value},
                 after={"status": target.value})
    return season
