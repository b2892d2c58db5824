"""Plans, OTB rows and range intent: writes under the workflow guard (SPEC §2, §3, §5)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.orm import Session, object_session

from .. import audit, mail
from ..auth.models import User
from ..auth.roles import Action, require
from ..auth.services import emails_allowed
from ..errors import Conflict, Forbidden, NotFound, StaleVersion, ValidationFailed
from ..masterdata.models import Category, Cluster
from ..masterdata.tree import is_leaf
from ..modelbase import utcnow
from .queries import adjustment_rows, scope_cells
from ..seasons.models import Season, SeasonLocation
from ..seasons.services import lock_season, require_editable
from ..seasons.workflow import Area
from ..transaction import transactional
from ..values import decimal_value, months_between, next_month, note_text
from ..templating import money
from ..versioning import lock_row, require_version
from .models import OTBAdjustment, OTBAdjustmentLine, OTBPlan, RangeIntent, SeasonPlan
from . import adjustments, rules
from .otb import remaining
from .rules import OTB_INPUTS, PLAN_FIELDS, RANGE_FIELDS

ZERO = Decimal("0")
# What a decision on a request (a move, a release) says when it has no note.
DECISION_NOTE = "Add a note to your decision"

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


# Moving open to buy with approval (issue 17, item 1)

def _check_scope(session: Session, season: Season, scope: adjustments.Scope, side: str) -> None:
    """Each part of a scope names something of the season: a location assigned to it, a
    cluster and a category that exist, one of its months. `side` is 'from' or 'to'."""
    errors = {}
    if scope.location_id is not None and not session.scalar(select(exists().where(
            SeasonLocation.season_id == season.id,
            SeasonLocation.location_id == scope.location_id))):
        errors[f"{side}_location"] = "The location is not assigned to this season"
    if scope.cluster_id is not None and session.get(Cluster, scope.cluster_id) is None:
        errors[f"{side}_location"] = "The cluster does not exist"
    if scope.category_id is not None and session.get(Category, scope.category_id) is None:
        errors[f"{side}_category"] = "The category does not exist"
    if scope.month is not None and scope.month not in months_between(season.start_date,
                                                                     season.end_date):
        errors[f"{side}_month"] = (f"{scope.month:%Y-%m} is not a month of season "
                                   f"{season.season_code}")
    if errors:
        raise ValidationFailed(errors)


def _move(session: Session, season: Season, amount, source, target) -> tuple[list, list, list]:
    """(source cells, target cells, lines) of a move as it would be made now."""
    source_cells = scope_cells(session, season.id, source)
    target_cells = scope_cells(session, season.id, target)
    try:
        lines = adjustments.move_lines(amount, source_cells,
                                       [(k, b) for k, b, _ in target_cells])
    except adjustments.MoveRefused as refused:
        raise ValidationFailed({"": str(refused)}) from None
    return source_cells, target_cells, lines


@transactional
def request_adjustment(session: Session, user, season_id: uuid.UUID, *, amount, source,
                       target, reason: str) -> OTBAdjustment:
    """Ask to move `amount` of open to buy from the `source` scope to the `target` scope
    (adjustments.Scope each) with a reason: pending until another planner or an admin
    decides it. Checked now as it would be made (both scopes have OTB cells and do not
    overlap); the source's open to buy is checked when it is approved."""
    require(user, Action.EDIT_PLANNING)
    errors = {}
    try:
        amount = adjustments.check_amount(decimal_value(amount, "amount", "The amount to move"))
    except adjustments.MoveRefused as refused:
        errors["amount"] = str(refused)
    except ValidationFailed as bad:
        errors.update(bad.errors)
    try:
        reason = note_text(reason, "reason", label="The reason",
                           required="Say why the OTB should move")
    except ValidationFailed as bad:
        errors.update(bad.errors)
    if errors:
        raise ValidationFailed(errors)
    season = lock_season(session, season_id)
    require_editable(season, Area.ADJUSTMENTS)
    _check_scope(session, season, source, "from")
    _check_scope(session, season, target, "to")
    _move(session, season, amount, source, target)
    number = (session.scalar(select(func.max(OTBAdjustment.number))
                             .where(OTBAdjustment.season_id == season.id)) or 0) + 1
    row = OTBAdjustment(
        season_id=season.id, number=number, amount=amount, reason=reason,
        status=adjustments.PENDING, requested_by=user.id,
        from_location_id=source.location_id, from_cluster_id=source.cluster_id,
        from_category_id=source.category_id, from_month=source.month,
        to_location_id=target.location_id, to_cluster_id=target.cluster_id,
        to_category_id=target.category_id, to_month=target.month)
    session.add(row)
    session.flush()
    # The scopes as the pages name them, so the history reads like the request.
    named = adjustment_rows(session, ids=[row.id])[0]
    audit.record(session, user=user, action="request", entity="otb_adjustment",
                 entity_id=row.id, season_id=season.id,
                 after={"number": number, "amount": amount, "reason": reason,
                        "from": named.source, "to": named.target})
    if mail.configured():
        mail.tell(session, emails_allowed(session, Action.APPROVE, but=user),
                  f"Kyros: request #{number} in {season.season_code} waits for your decision",
                  f"{user.email} asks to move {money(amount)} of open to buy in "
                  f"{season.name} ({season.season_code})\nfrom {named.source}\nto "
                  f"{named.target}.\n\nReason: {reason}\n\nApprove or reject it: "
                  f"{mail.link('/approvals/')}\n")
    return row


@transactional
def decide_adjustment(session: Session, user, adjustment_id: uuid.UUID, *, approve: bool,
                      note: str, override_reason: str | None = None) -> OTBAdjustment:
    """Approve or reject a pending request with a note: by a planner or an admin who did not
    ask for it. Approval writes the move's lines (adjustments.move_lines) and is refused
    when the source has less open to buy left than the amount, unless `override_reason`
    says why it may. Two people deciding at once: one wins, the other is told (the
    decision is a conditional UPDATE of a pending row, under the season's row lock)."""
    require(user, Action.APPROVE)
    note = note_text(note, "note", required=DECISION_NOTE)
    override_reason = note_text(override_reason, "override_reason",
                                label="The override reason")
    season_id = session.scalar(select(OTBAdjustment.season_id)
                               .where(OTBAdjustment.id == adjustment_id))
    if season_id is None:
        raise NotFound("OTB adjustment not found")
    season = lock_season(session, season_id)
    require_editable(season, Area.ADJUSTMENTS)
    row = session.execute(select(OTBAdjustment).where(OTBAdjustment.id == adjustment_id)
                          .execution_options(populate_existing=True)).scalar_one()
    if row.requested_by == user.id:
        raise Forbidden("You asked for this move; another planner or an admin decides it")
    status = adjustments.APPROVED if approve else adjustments.REJECTED
    decided = session.execute(
        update(OTBAdjustment)
        .where(OTBAdjustment.id == row.id, OTBAdjustment.status == adjustments.PENDING,
               OTBAdjustment.requested_by != user.id)
        .values(status=status, decided_by=user.id, decided_at=utcnow(), decision_note=note,
                override_reason=override_reason if approve else None, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if decided.rowcount != 1:
        session.refresh(row)
        who = row.decider.email if row.decider is not None else "someone else"
        raise Conflict(f"Request #{row.number} was {row.status} by {who} already")
    if approve:
        source = adjustments.Scope(row.from_location_id, row.from_cluster_id,
                                   row.from_category_id, row.from_month)
        target = adjustments.Scope(row.to_location_id, row.to_cluster_id, row.to_category_id,
                                   row.to_month)
        source_cells, _, lines = _move(session, season, row.amount, source, target)
        left = sum((remaining(b, c) for _, b, c in source_cells), ZERO)
        short = adjustments.source_shortfall(row.amount, left)
        if short and not override_reason:
            raise ValidationFailed({"override_reason": (
                f"The source has {money(left)} open to buy left, {money(short)} less than "
                f"the {money(row.amount)} to move: give an override reason, or reject")})
        session.execute(insert(OTBAdjustmentLine), [
            {"id": uuid.uuid4(), "adjustment_id": row.id, "season_id": season.id,
             "location_id": loc, "category_id": cat, "month": month, "amount": amount,
             "created_at": utcnow(), "updated_at": utcnow()}
            for (loc, cat, month), amount in lines])
    session.refresh(row)
    if mail.configured():
        named = adjustment_rows(session, ids=[row.id])[0]
        extra = f"\nOverride: {override_reason}" if approve and override_reason else ""
        mail.queue(session, mail.Message(
            (row.requester.email,), f"Kyros: request #{row.number} in {season.season_code} is "
            f"{status}",
            f"{user.email} {status} your request to move {money(row.amount)} of open to buy in "
            f"{season.name} ({season.season_code})\nfrom {named.source}\nto {named.target}."
            f"\n\nNote: {note}{extra}\n\nThe season's moves: "
            f"{mail.link(f'/planning/{season.season_code}/adjustments')}\n"))
    audit.record(session, user=user, action="approve" if approve else "reject",
                 entity="otb_adjustment", entity_id=row.id, season_id=season.id,
                 before={"status": adjustments.PENDING},
                 after={"status": status, "number": row.number, "note": note,
                        **({"override_reason": override_reason}
                           if approve and override_reason else {}),
                        **({"lines": len(lines)} if approve else {})})
    return row
