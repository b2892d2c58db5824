"""Plans, OTB rows and range intent: writes under the workflow guard (SPEC §2, §3, §5)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, object_session

from .. import audit
from ..auth.models import User
from ..auth.roles import Action, require
from ..errors import NotFound, StaleVersion, ValidationFailed
from ..masterdata.models import Category
from ..masterdata.tree import is_leaf
from ..modelbase import utcnow
from ..seasons.models import Season, SeasonLocation
from ..seasons.services import lock_season, require_editable
from ..seasons.workflow import Area
from ..transaction import transactional
from ..values import months_between, next_month
from ..versioning import lock_row, require_version
from .models import OTBPlan, RangeIntent, SeasonPlan
from . import rules
from .rules import OTB_INPUTS, PLAN_FIELDS, RANGE_FIELDS



@dataclass(frozen=True)
class Upserted:
    """What an upsert did: 'new', 'updated' or 'unchanged', and the fields it set."""

    row: object
    outcome: str
    changed: frozenset = frozenset()


def require_season_cell(session: Session, season: Season, location_id: uuid.UUID,
                         category_id: uuid.UUID) -> None:
    """The location takes part in the season and the category is a leaf."""
    if not session.scalar(select(exists().where(SeasonLocation.season_id == season.id,
                                                SeasonLocation.location_id == location_id))):
        raise ValidationFailed({"location_id": "The location is not assigned to this season"})
    require_leaf(session, category_id)


def require_leaf(session: Session, category_id: uuid.UUID) -> Category:
    """The category, which must have no children (SPEC §2: season rows use leaves)."""
    found = session.execute(select(Category, is_leaf()).where(Category.id == category_id)).first()
    if found is None:
        raise NotFound("Category not found")
    category, leaf = found
    if not leaf:
        raise ValidationFailed({"category_id": f"{category.code} has sub-categories; plans, OTB, "
                                "range intent and POs use leaf categories only"})
    return category


def _check_version(session: Session, row, expected_version, what: str) -> None:
    """Optimistic concurrency: refuse an edit based on another version of the row (the row
    comes from `lock_row`, so this compares against the committed, locked version)."""
    if expected_version is None:
        return
    require_version(row, expected_version, what=what, who=lambda: row_editor(session, row))


def _require_not_deleted(row, expected_version, what: str) -> None:
    """An edit of a row that was deleted meanwhile must not create it again."""
    if row is None and expected_version is not None:
        raise StaleVersion(f"{what} was deleted since you loaded it; reload to see the current "
                           "rows")


def _refuse_existing(row, must_be_new: bool, label: str) -> None:
    """"Add row" never overwrites: the existing row is edited in place instead."""
    if must_be_new:
        raise ValidationFailed(f"A {label} for this combination already exists; edit that row "
                               "instead")


def row_editor(session: Session, row) -> str | None:
    """Who last wrote the row (an edit or an upload), by email."""
    user = session.get(User, row.uploaded_by) if row.uploaded_by else None
    return user.email if user is not None else None


def _apply(row, values: dict, fields) -> tuple[dict, dict]:
    """Set values on the row; return (before, after) of the fields that changed."""
    before = audit.snapshot(row, fields)
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
    return audit.changes(before, audit.snapshot(row, fields))


@dataclass(frozen=True)
class _Rows:
    """What differs between the season rows a planner upserts."""

    model: type
    entity: str  # in the audit log
    label: str  # in messages: "This plan row was changed …"
    fields: tuple  # the values a change compares and audits
    created: tuple = ()  # key fields the audit of a new row names too


PLAN_ROWS = _Rows(SeasonPlan, "season_plan", "plan row", PLAN_FIELDS)
OTB_ROWS = _Rows(OTBPlan, "otb_plan", "OTB row", OTB_INPUTS, created=("month",))
RANGE_ROWS = _Rows(RangeIntent, "range_intent", "range intent", RANGE_FIELDS)


def _upsert(session: Session, user, season: Season, rows: _Rows, key: dict, values: dict,
            expected_version: int | None, must_be_new: bool, *, new: dict | None = None,
            on_change=None) -> Upserted:
    """Create the season row of `key` or change it under its version (the row is locked).

    `new` adds fields to a new row; `on_change(row, before, after)` runs after a change is
    applied and before it is audited."""
    what = f"This {rows.label}"
    row = lock_row(session, select(rows.model).where(
        rows.model.season_id == season.id,
        *(getattr(rows.model, name) == value for name, value in key.items())))
    _require_not_deleted(row, expected_version, what)
    if row is None:
        row = rows.model(season_id=season.id, version=1, uploaded_by=user.id, **key,
                         **(new or {}), **values)
        session.add(row)
        session.flush()
        audit.record(session, user=user, action="create", entity=rows.entity, entity_id=row.id,
                     season_id=season.id, after=audit.snapshot(row, rows.created + rows.fields))
        return Upserted(row, "new", frozenset(rows.fields))
    _refuse_existing(row, must_be_new, rows.label)
    _check_version(session, row, expected_version, what)
    after = _change(session, user, season, rows, row, values, on_change=on_change)
    if not after:
        return Upserted(row, "unchanged")
    return Upserted(row, "updated", frozenset(after))


def _change(session: Session, user, season: Season, rows: _Rows, row, values: dict, *,
            on_change=None, note: dict | None = None) -> dict:
    """Apply `values` to the locked `row`: when anything differs, move its version, name its
    writer, run `on_change(row, before, after)` and audit the update (with `note` added to
    what it records after). Returns the changed fields' new values ({} when none)."""
    before, after = _apply(row, values, rows.fields)
    if not after:
        return after
    row.version += 1
    row.uploaded_by = user.id
    if on_change is not None:
        on_change(row, before, after)
    audit.record(session, user=user, action="update", entity=rows.entity, entity_id=row.id,
                 season_id=season.id, before=before, after={**after, **(note or {})})
    return after


def _clear_approval(row, before: dict, after: dict) -> None:
    """A changed plan row needs approving again (SPEC §2)."""
    if row.approved:
        row.approved, row.approved_by, row.approved_at = False, None, None
        before["approved"], after["approved"] = True, False


@transactional
def upsert_plan(session: Session, user, season_id: uuid.UUID, *, location_id: uuid.UUID,
                category_id: uuid.UUID, planned_sales, planned_margin, inventory_turns=None,
                expected_version: int | None = None, must_be_new: bool = False) -> Upserted:
    """Create or change the plan row of a location × leaf category (status locations_defined).

    A change bumps the version and clears approval; an unchanged row is left alone.
    Raises NotEditable/SeasonLocked, ValidationFailed, StaleVersion.
    """
    require(user, Action.EDIT_PLANNING)
    season = lock_season(session, season_id)
    require_editable(season, Area.PLANS)
    require_season_cell(session, season, location_id, category_id)
    values = rules.read_plan({"planned_sales": planned_sales,
                              "planned_margin": planned_margin,
                              "inventory_turns": inventory_turns})
    return _upsert(session, user, season, PLAN_ROWS,
                   {"location_id": location_id, "category_id": category_id}, values,
                   expected_version, must_be_new, new={"approved": False},
                   on_change=_clear_approval)


@transactional
def approve_plans(session: Session, user, season_id: uuid.UUID,
                  plan_ids: list[uuid.UUID]) -> int:
    """Approve the given plan rows of the season, recording approver and time."""
    require(user, Action.EDIT_PLANNING)
    season = lock_season(session, season_id)
    require_editable(season, Area.PLANS)
    rows = session.scalars(select(SeasonPlan).where(
        SeasonPlan.season_id == season.id, SeasonPlan.id.in_(set(plan_ids)),
        SeasonPlan.approved.is_(False))).all()
    now = utcnow()
    for row in rows:
        row.approved, row.approved_by, row.approved_at = True, user.id, now
    if rows:
        audit.record(session, user=user, action="approve", entity="season_plan",
                     entity_id=None, season_id=season.id,
                     after={"approved_rows": len(rows)})
    return len(rows)


@transactional
def upsert_otb(session: Session, user, season_id: uuid.UUID, *, location_id: uuid.UUID,
               category_id: uuid.UUID, month: date, expected_version: int | None = None,
               must_be_new: bool = False, **inputs) -> Upserted:
    """Create or change one OTB row (status plan_uploaded). The spend limit is computed."""
    require(user, Action.EDIT_PLANNING)
    season = lock_season(session, season_id)
    require_editable(season, Area.OTB)
    require_season_cell(session, season, location_id, category_id)
    if month not in months_between(season.start_date, season.end_date):
        raise ValidationFailed({"month": f"{month:%Y-%m} is not a month of season "
                                f"{season.season_code}"})
    values, _ = rules.read_otb(inputs)
    saved = _upsert(session, user, season, OTB_ROWS,
                    {"location_id": location_id, "category_id": category_id, "month": month},
                    values, expected_version, must_be_new, on_change=_read_back_otb)
    _chain_next_month(session, user, season, saved)
    return saved


def _chain_next_month(session: Session, user, season: Season, saved: Upserted) -> None:
    """Carry a saved row's closing stock into the opening stock of the same cell's next month
    when the season chains stock (rules.chained_opening decides). The next row is locked,
    its version moves, the database recomputes its OTB and the change is audited."""
    row = saved.row
    opening = rules.chained_opening(season.chain_stock, saved.changed, row.planned_closing_stock)
    if opening is None:
        return
    following = lock_row(session, select(OTBPlan).where(
        OTBPlan.season_id == season.id, OTBPlan.location_id == row.location_id,
        OTBPlan.category_id == row.category_id, OTBPlan.month == next_month(row.month)))
    if following is None or following.opening_stock == opening:
        return
    rules.check_chained({name: getattr(following, name) for name in OTB_INPUTS}, opening,
                        f"{following.month:%Y-%m}")
    _change(session, user, season, OTB_ROWS, following, {"opening_stock": opening},
            on_change=_read_back_otb, note={"chained_from": f"{row.month:%Y-%m}"})


def _read_back_otb(row, before: dict, after: dict) -> None:
    """The database recomputes the spend limit of a changed row; read it back."""
    session = object_session(row)
    session.flush()
    session.refresh(row, ["approved_spend_limit"])


@transactional
def upsert_range(session: Session, user, season_id: uuid.UUID, *, category_id: uuid.UUID,
                 core_percent, fashion_percent, price_bands: dict | None = None,
                 expected_version: int | None = None, must_be_new: bool = False) -> Upserted:
    """Create or change the range intent of a leaf category (status otb_uploaded)."""
    require(user, Action.EDIT_PLANNING)
    season = lock_season(session, season_id)
    require_editable(season, Area.RANGE)
    require_leaf(session, category_id)
    values = rules.read_range(core_percent, fashion_percent, price_bands)
    return _upsert(session, user, season, RANGE_ROWS, {"category_id": category_id}, values,
                   expected_version, must_be_new)


def _delete_row(session: Session, user, season_id: uuid.UUID, model, row_id: uuid.UUID,
                area: Area, entity: str, fields) -> None:
    require(user, Action.EDIT_PLANNING)
    season = lock_season(session, season_id)
    require_editable(season, area)
    row = session.get(model, row_id)
    if row is None or row.season_id != season.id:
        raise NotFound("Row not found; it may have been deleted already")
    audit.record(session, user=user, action="delete", entity=entity, entity_id=row.id,
                 season_id=season.id, before=audit.snapshot(row, fields))
    session.delete(row)


@transactional
def delete_plan(session: Session, user, season_id: uuid.UUID, plan_id: uuid.UUID) -> None:
    """Delete a plan row (status locations_defined)."""
    _delete_row(session, user, season_id, SeasonPlan, plan_id, Area.PLANS, "season_plan",
                ("location_id", "category_id") + PLAN_FIELDS)


@transactional
def delete_otb(session: Session, user, season_id: uuid.UUID, otb_id: uuid.UUID) -> None:
    """Delete an OTB row (status plan_uploaded)."""
    _delete_row(session, user, season_id, OTBPlan, otb_id, Area.OTB, "otb_plan",
                ("location_id", "category_id", "month") + OTB_INPUTS)


@transactional
def delete_range(session: Session, user, season_id: uuid.UUID, range_id: uuid.UUID) -> None:
    """Delete a range intent row (status otb_uploaded)."""
    _delete_row(session, user, season_id, RangeIntent, range_id, Area.RANGE, "range_intent",
                ("category_id",) + RANGE_FIELDS)
