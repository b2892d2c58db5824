"""Edits in the OTB grid (issue 14, items 2, 3, 4 and 6): typed cells, pasted blocks, totals
spread over the cells below them, and undoing those, one step at a time.

Every step is one transaction under the season's lock and status guard. Every figure is read
and checked by planning/rules, the rules an upload applies. A row changed by someone else
since the planner loaded it is refused, not overwritten, and so is the whole step: nothing is
half-saved. A step is written set-based (one statement for the changed rows, one for the new
ones), audited as one event, and its figures are kept (grid_edit_cells) so it can be undone
while nobody else has changed those rows since.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session, aliased

from .. import audit
from ..auth.models import User
from ..auth.roles import Action, require
from ..bulk import collector_paused, insert_rows, update_rows
from ..errors import ValidationFailed
from ..masterdata.models import Category, Location
from ..masterdata.tree import is_leaf
from ..modelbase import utcnow
from ..seasons.models import Season, SeasonLocation
from ..seasons.services import lock_season, require_editable
from ..seasons.workflow import Area
from ..transaction import transactional
from ..values import months_between, next_month
from ..versions import current, season_scope
from . import rules
from .models import GridEdit, GridEditCell, OTBPlan
from .pivot import CARRY_ROWS, RowChange, cell_key
from .rules import OTB_INPUTS, OTB_LABELS
from .spread import spread

ZERO = Decimal("0")
# The most cells one typed or pasted step may name (a pasted block is at most this big).
MAX_CELLS = 5000
# The steps kept per planner and season; undo goes back at least UNDO_STEPS of them.
STEPS_KEPT = 50
UNDO_STEPS = 20
# Spreading: by the cells' current values, evenly, or by the shape of another input.
SHAPES = {"current": "their current values", "even": "evenly",
          **{name: f"the shape of {label.lower()}" for name, label in OTB_LABELS.items()}}
# Rows read or locked per statement when a step names them one by one.
BATCH = 500


# Cells


@dataclass(frozen=True)
class Cell:
    """One editable figure of the grid: an input of a location × leaf category × month."""

    measure: str
    location_id: uuid.UUID
    category_id: uuid.UUID
    month: date

    @property
    def key(self) -> str:
        """The cell as the page names it: "measure|location|category|YYYY-MM"."""
        return cell_key(self.measure, self.location_id, self.category_id, self.month)

    @property
    def row(self) -> tuple:
        return self.location_id, self.category_id, self.month

    @classmethod
    def parse(cls, key) -> "Cell | None":
        """The cell a key names, or None when it names none."""
        if not isinstance(key, str) or len(key) > 200:
            return None
        parts = key.split("|")
        if len(parts) != 4 or parts[0] not in OTB_INPUTS:
            return None
        try:
            year, month = (int(p) for p in parts[3].split("-"))
            return cls(parts[0], uuid.UUID(hex=parts[1]), uuid.UUID(hex=parts[2]),
                       date(year, month, 1))
        except ValueError:
            return None


@dataclass(frozen=True)
class Typed:
    """A value typed or pasted into a cell, with the version its row had when the planner
    loaded it (0: there was no row yet)."""

    cell: Cell
    text: str
    version: int


class CellsRefused(ValidationFailed):
    """A step refused as a whole; `errors` maps each refused cell's key (or "" for the step)
    to its message. `stale`: some rows were changed by someone else meanwhile (409)."""

    def __init__(self, errors: dict[str, str], *, stale: bool = False):
        super().__init__(errors)
        self.stale = stale
        if stale:
            self.status_code = 409


# Rows


@dataclass
class _Row:
    """An OTB row a step reads and changes (locked), or one it creates."""

    id: uuid.UUID
    location_id: uuid.UUID
    category_id: uuid.UUID
    month: date
    version: int  # 0: the step creates the row
    values: dict
    before: dict = field(default_factory=dict)
    typed: set = field(default_factory=set)  # the inputs the step itself sets

    @property
    def key(self) -> tuple:
        return self.location_id, self.category_id, self.month

    @property
    def changed(self) -> dict:
        return {n: v for n, v in self.values.items() if self.before.get(n) != v}

    @property
    def is_new(self) -> bool:
        return self.version == 0


ROW_COLUMNS = (OTBPlan.id, OTBPlan.location_id, OTBPlan.category_id, OTBPlan.month,
               OTBPlan.version, *(getattr(OTBPlan, name) for name in OTB_INPUTS))


def _row(found) -> _Row:
    # By position (ROW_COLUMNS' order): a spread reads every row of a season.
    row_id, location_id, category_id, month, version, *inputs = found
    values = dict(zip(OTB_INPUTS, inputs))
    return _Row(row_id, location_id, category_id, month, version, values, before=dict(values))


def _lock_rows(session: Session, season_id: uuid.UUID, keys: Iterable[tuple]) -> dict:
    """The season's OTB rows of these (location, category, month) keys, locked: key → _Row."""
    keys = set(keys)
    out: dict = {}
    locations = sorted({k[0] for k in keys})
    for start in range(0, len(locations), BATCH):
        chunk = locations[start:start + BATCH]
        stmt = select(*ROW_COLUMNS).where(
            OTBPlan.season_id == season_id, OTBPlan.location_id.in_(chunk),
            OTBPlan.category_id.in_({k[1] for k in keys if k[0] in set(chunk)}),
            OTBPlan.month.in_({k[2] for k in keys})).with_for_update()
        for found in session.execute(stmt):
            row = _row(found)
            if row.key in keys:
                out[row.key] = row
    return out


def _chain(session: Session, season: Season, rows: dict) -> list[_Row]:
    """With the season's stock chain on, the next month's opening stock follows each changed
    closing stock (rules.chained_opening) unless the step typed that opening stock itself.
    Returns the rows the chain changed; rows it needs that the step did not read are locked
    and added to `rows`. Errors are keyed to the closing stock's row."""
    carry = {}
    for row in list(rows.values()):
        # A row the step creates carries only a closing stock typed into it.
        opening = rules.chained_opening(season.chain_stock,
                                        row.typed if row.is_new else set(row.changed),
                                        row.values["planned_closing_stock"])
        if opening is not None:
            carry[(row.location_id, row.category_id, next_month(row.month))] = (row, opening)
    missing = [k for k in carry if k not in rows]
    rows.update(_lock_rows(session, season.id, missing))
    chained, problems = [], {}
    for key, (source, opening) in carry.items():
        following = rows.get(key)
        if following is None or "opening_stock" in following.typed:
            continue
        if following.values["opening_stock"] == opening:
            continue
        try:
            rules.check_chained(following.values, opening, f"{following.month:%Y-%m}")
        except ValidationFailed as exc:
            problems[source.key] = exc.errors["planned_closing_stock"]
            continue
        following.values["opening_stock"] = opening
        chained.append(following)
    if problems:
        raise _RowProblems(problems)
    return chained


class _RowProblems(Exception):
    """Messages per row key, for the caller to put on the row's cells."""

    def __init__(self, problems: dict):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def _check_rows(rows: Iterable[_Row]) -> dict:
    """rules.check_otb on every row that changed: row key → (field, message) when refused."""
    problems = {}
    for row in rows:
        if row.is_new or row.changed:
            try:
                rules.check_otb(row.values)
            except ValidationFailed as exc:
                name, message = next(iter(exc.errors.items()))
                problems[row.key] = (name, message)
    return problems


# Writing a step


def _save_step(session: Session, user, season: Season, kind: str, summary: str,
               rows: Iterable[_Row], *, audit_after: dict | None = None) -> GridEdit | None:
    """Write the changed and new rows, the step and its cells, and one audit event. Returns
    the step, or None when nothing changed. A changed row is written with only the inputs
    that changed (a spread moves one input of tens of thousands of rows)."""
    now = utcnow()
    new, diffs = [], {}
    for r in rows:
        if r.is_new:
            new.append(r)
        elif diff := r.changed:
            diffs[r.id] = diff
    changed = [r for r in rows if r.id in diffs]
    if not changed and not new:
        return None
    scope = season_scope(season.id)
    user_id = user.id  # once: `user` may be the request's proxy
    update_rows(session, OTBPlan, [
        {"id": r.id, **diffs[r.id], "version": r.version + 1, "uploaded_by": user_id,
         "updated_at": now} for r in changed], scope=scope)
    insert_rows(session, OTBPlan, [
        {"id": r.id, "season_id": season.id, "location_id": r.location_id,
         "category_id": r.category_id, "month": r.month, **r.values, "version": 1,
         "uploaded_by": user_id, "created_at": now, "updated_at": now} for r in new],
        scope=scope)
    cells = [{"edit_id": None, "row_id": r.id, "field": name, "before": r.before.get(name),
              "after": value, "version_before": r.version, "version_after": r.version + 1}
             for r in changed + new for name, value in diffs.get(r.id, r.values).items()]
    step = GridEdit(season_id=season.id, user_id=user.id, kind=kind, summary=summary[:300],
                    cells=len(cells), created_at=now, updated_at=now)
    # What the step changed, for keeping the pivot's sums warm (queries.carry_pivot_forward);
    # a step of many rows (a spread) leaves the pivot to be read again.
    step.row_changes = [
        RowChange(r.location_id, r.category_id, r.month,
                  {n: (r.before.get(n) or ZERO, v) for n, v in diffs.get(r.id, r.values).items()},
                  r.version + 1)
        for r in changed + new] if len(changed) + len(new) <= CARRY_ROWS else []
    session.add(step)
    session.flush()
    for cell in cells:
        cell["edit_id"] = step.id
    insert_rows(session, GridEditCell, cells, scope=scope)
    one = (changed + new)[0] if len(changed) + len(new) == 1 else None
    audit.record(session, user=user, action=f"grid_{kind}", entity="otb_plan",
                 entity_id=one.id if one else None, season_id=season.id,
                 before={n: one.before.get(n) for n in diffs[one.id]} if one and not one.is_new
                 else None,
                 after={"step": str(step.id), "summary": step.summary, "cells": len(cells),
                        "rows": len(changed) + len(new), **(audit_after or {})})
    _prune(session, season.id, user.id)
    return step


def _prune(session: Session, season_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Keep the newest STEPS_KEPT steps of a planner in a season; older ones go, cells and
    all (the audit trail keeps what they did)."""
    kept = (select(GridEdit.id).where(GridEdit.season_id == season_id,
                                      GridEdit.user_id == user_id)
            .order_by(GridEdit.created_at.desc(), GridEdit.id.desc()).limit(STEPS_KEPT))
    old = select(GridEdit.id).where(GridEdit.season_id == season_id,
                                    GridEdit.user_id == user_id, GridEdit.id.not_in(kept))
    old_ids = list(session.scalars(old))
    if old_ids:
        session.execute(delete(GridEditCell).where(GridEditCell.edit_id.in_(old_ids)))
        session.execute(delete(GridEdit).where(GridEdit.id.in_(old_ids))
                        .execution_options(synchronize_session=False))


def _start(session: Session, user, season_id: uuid.UUID) -> Season:
    require(user, Action.EDIT_PLANNING)
    season = lock_season(session, season_id)
    require_editable(season, Area.OTB)
    return season


def note_season_version(session: Session, step: GridEdit) -> tuple | None:
    """After a typed or pasted step has committed: when it was the season's one change (its
    counter moved by exactly one since the step read it under the season lock, the shared one
    not at all), record the version its commit made and return the versions now; else None.
    Recording it moves no version (it changes no figure)."""
    before = getattr(step, "versions_before", None)
    now = current(session, step.season_id)
    if before is None or now != (before[0] + 1, before[1]):
        session.rollback()
        return None
    session.execute(update(GridEdit).where(GridEdit.id == step.id)
                    .values(season_version=now[0])
                    .execution_options(synchronize_session=False, version_scope=None))
    session.commit()
    return now


# Typing and pasting


@transactional
def write_cells(session: Session, user, season_id: uuid.UUID, typed: list[Typed], *,
                kind: str = "type") -> GridEdit | None:
    """Save typed or pasted cells as one step (kind "type" or "paste"), or refuse them all.

    Each value is read by rules.read_otb_input and each row it changes checked by
    rules.check_otb; a cell whose row another user changed (or created, or deleted) since it
    was loaded is refused. A cell without a row creates it, its other inputs 0. Raises
    CellsRefused naming every refused cell; returns the step (None when nothing changed)."""
    season = _start(session, user, season_id)
    before = current(session, season.id)  # under the season's lock: the versions this step moves on
    if not typed:
        raise CellsRefused({"": "No cells were sent"})
    if len(typed) > MAX_CELLS:
        raise CellsRefused({"": f"At most {MAX_CELLS:,} cells can be pasted at once; this "
                            f"block has {len(typed):,}"})
    errors: dict[str, str] = {}
    values: dict[Cell, Decimal] = {}
    for item in typed:
        try:
            values[item.cell] = rules.read_otb_input(item.cell.measure, item.text)
        except ValidationFailed as exc:
            errors[item.cell.key] = next(iter(exc.errors.values()))
    months = set(months_between(season.start_date, season.end_date))
    for item in typed:
        if item.cell.month not in months:
            errors[item.cell.key] = (f"{item.cell.month:%Y-%m} is not a month of season "
                                     f"{season.season_code}")
    rows = _lock_rows(session, season.id, {item.cell.row for item in typed})
    stale = _stale(session, typed, rows, errors)
    _require_new_cells_allowed(session, season, typed, rows, errors)
    if errors:
        raise CellsRefused(errors, stale=stale)
    by_row: dict[tuple, list[Cell]] = {}
    for cell, value in values.items():
        row = rows.get(cell.row)
        if row is None:
            row = rows[cell.row] = _Row(uuid.uuid4(), *cell.row, 0,
                                        {name: ZERO for name in OTB_INPUTS})
        row.values[cell.measure] = value
        row.typed.add(cell.measure)
        by_row.setdefault(cell.row, []).append(cell)
    _refuse_row_problems(session, season, rows, by_row)
    summary = _typed_summary(session, typed, rows, kind)
    step = _save_step(session, user, season, kind, summary, rows.values())
    if step is not None:
        step.versions_before = before
    return step


def _stale(session: Session, typed: list[Typed], rows: dict, errors: dict) -> bool:
    """Mark every cell whose row is not at the version it was loaded with, naming who last
    wrote each such row (one statement for them all)."""
    stale = [(item, rows.get(item.cell.row)) for item in typed
             if (rows[item.cell.row].version if item.cell.row in rows else 0) != item.version]
    changed = {row.id for _, row in stale if row is not None}
    editors = dict(session.execute(
        select(OTBPlan.id, User.email).join(User, User.id == OTBPlan.uploaded_by)
        .where(OTBPlan.id.in_(changed))).all()) if changed else {}
    for item, row in stale:
        if row is None:
            errors[item.cell.key] = ("This row was deleted since you loaded the page; reload "
                                     "to see the current rows")
            continue
        errors[item.cell.key] = (f"Changed by {editors.get(row.id) or 'another user'} since "
                                 f"you loaded the page (now {row.values[item.cell.measure]:,.2f}); "
                                 "reload to see the current values")
    return bool(stale)


def _require_new_cells_allowed(session: Session, season: Season, typed: list[Typed],
                               rows: dict, errors: dict) -> None:
    """A cell that creates a row needs a location of the season and a leaf category."""
    new = [item for item in typed if item.cell.row not in rows and item.cell.key not in errors]
    if not new:
        return
    locations = set(session.scalars(select(SeasonLocation.location_id).where(
        SeasonLocation.season_id == season.id,
        SeasonLocation.location_id.in_({i.cell.location_id for i in new}))))
    leaves = set(session.scalars(select(Category.id).where(
        Category.id.in_({i.cell.category_id for i in new}), is_leaf())))
    for item in new:
        if item.cell.location_id not in locations:
            errors[item.cell.key] = "The location is not assigned to this season"
        elif item.cell.category_id not in leaves:
            errors[item.cell.key] = ("OTB rows use leaf categories only; this category has "
                                     "sub-categories or no longer exists")


def _refuse_row_problems(session: Session, season: Season, rows: dict, by_row: dict) -> None:
    """Check every changed row, then carry the stock chain; refuse naming the cells of each
    row refused (a chain refusal on the closing stock that carries)."""
    errors = {}
    for key, (name, message) in _check_rows(rows.values()).items():
        cells = by_row.get(key, [])
        for cell in [c for c in cells if c.measure == name] or cells:
            errors[cell.key] = message
    if errors:
        raise CellsRefused(errors)
    try:
        _chain(session, season, rows)
    except _RowProblems as exc:
        raise CellsRefused({
            cell.key: message for key, message in exc.problems.items()
            for cell in by_row.get(key, []) if cell.measure == "planned_closing_stock"
        }) from None


def _names(session: Session, location_ids, category_ids) -> tuple[dict, dict]:
    """Codes of the locations and categories named: id → code."""
    locations = dict(session.execute(select(Location.id, Location.location_code)
                                     .where(Location.id.in_(set(location_ids)))).all())
    categories = dict(session.execute(select(Category.id, Category.code)
                                      .where(Category.id.in_(set(category_ids)))).all())
    return locations, categories


def describe_cell(cell: Cell, locations: dict, categories: dict) -> str:
    """"Planned sales, LOC1, D01-P01-C01, Feb 2026": the cell's accessible name."""
    return ", ".join((OTB_LABELS[cell.measure], locations.get(cell.location_id, "?"),
                      categories.get(cell.category_id, "?"), f"{cell.month:%b %Y}"))


def _typed_summary(session: Session, typed: list[Typed], rows: dict, kind: str) -> str:
    if len(typed) == 1:
        cell = typed[0].cell
        locations, categories = _names(session, [cell.location_id], [cell.category_id])
        row = rows[cell.row]
        before = row.before.get(cell.measure)
        return (f"{describe_cell(cell, locations, categories)}: "
                f"{'(new)' if before is None else f'{before:,.2f}'} → "
                f"{row.values[cell.measure]:,.2f}")
    lines = len({(c.cell.measure, c.cell.location_id, c.cell.category_id) for c in typed})
    months = len({c.cell.month for c in typed})
    verb = "Pasted" if kind == "paste" else "Typed"
    return f"{verb} {len(typed):,} cells ({lines:,} lines × {months} months)"


# Spreading a total


@dataclass(frozen=True)
class Scope:
    """The leaf cells under a total: the season's OTB rows of these locations and categories
    (None: any) in these months, and what the planner reads as the total's place."""

    locations: frozenset | None
    categories: frozenset | None
    months: tuple
    label: str


@dataclass(frozen=True)
class SpreadPlan:
    """What a spread will change (or changed): the cells, their total before and after, the
    first changes named, and a fingerprint of the rows' versions that the save compares."""

    measure: str
    shape: str
    total: Decimal
    before: Decimal
    cells: int
    changed: int
    changes: list  # (cell name, before, after) for the first SHOWN
    fingerprint: str


SHOWN = 50


def _rows_in(session: Session, season_id: uuid.UUID, scope: Scope, *, lock: bool) -> list[_Row]:
    stmt = (select(*ROW_COLUMNS).where(OTBPlan.season_id == season_id,
                                       OTBPlan.month.in_(scope.months))
            .order_by(OTBPlan.location_id, OTBPlan.category_id, OTBPlan.month))
    if scope.locations is not None:
        stmt = stmt.where(OTBPlan.location_id.in_(scope.locations))
    if scope.categories is not None:
        stmt = stmt.where(OTBPlan.category_id.in_(scope.categories))
    if lock:
        stmt = stmt.with_for_update()
    return [_row(found) for found in session.execute(stmt)]


def _fingerprint(rows: list[_Row]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(f"{row.id.hex}:{row.version};".encode())
    return digest.hexdigest()


def _read_spread(measure: str, total_text, shape: str) -> Decimal:
    if measure not in OTB_INPUTS:
        raise ValidationFailed({"measure": "Only the five inputs can be spread; OTB, committed "
                                "and remaining are computed"})
    if shape not in SHAPES:
        raise ValidationFailed({"shape": "Spread by the current values, evenly, or by the "
                                "shape of one of the five inputs"})
    return rules.read_otb_input(measure, total_text)


def _spread_rows(rows: list[_Row], measure: str, total: Decimal, shape: str) -> None:
    """Set each row's `measure` to its part of `total` (planning/spread.py's rule)."""
    current = [row.values[measure] for row in rows]
    weights = (None if shape == "current" else [Decimal(1)] * len(rows) if shape == "even"
               else [row.values[shape] for row in rows])
    for row, part in zip(rows, spread(total, current, weights=weights)):
        row.values[measure] = part
        row.typed.add(measure)


def _plan(session: Session, season_id: uuid.UUID, scope: Scope, measure: str, total_text,
          shape: str, *, lock: bool) -> tuple[list[_Row], SpreadPlan]:
    total = _read_spread(measure, total_text, shape)
    rows = _rows_in(session, season_id, scope, lock=lock)
    if not rows:
        raise ValidationFailed({"total": "There are no OTB rows under this total to spread it "
                                "over; type values into the cells first or upload them"})
    fingerprint = _fingerprint(rows)
    before = sum((row.values[measure] for row in rows), ZERO)
    _spread_rows(rows, measure, total, shape)
    moved = [row for row in rows if row.changed]
    locations, categories = _names(session, {r.location_id for r in moved[:SHOWN]},
                                   {r.category_id for r in moved[:SHOWN]})
    changes = [(describe_cell(Cell(measure, *row.key), locations, categories),
                row.before[measure], row.values[measure]) for row in moved[:SHOWN]]
    return rows, SpreadPlan(measure, shape, total, before, len(rows), len(moved), changes,
                            fingerprint)


@collector_paused()
def preview_spread(session: Session, season: Season, scope: Scope, measure: str, total_text,
                   shape: str = "current") -> SpreadPlan:
    """What spreading `total_text` over the cells of `scope` would change; nothing is saved.
    Raises ValidationFailed for a total or shape the rules refuse, or no cells."""
    _, plan = _plan(session, season.id, scope, measure, total_text, shape, lock=False)
    return plan


@transactional
@collector_paused()
def spread_total(session: Session, user, season_id: uuid.UUID, scope: Scope, measure: str,
                 total_text, shape: str, fingerprint: str) -> SpreadPlan:
    """Spread a total over the cells of `scope` as one step, the rows locked, refused when
    any of them changed since the preview (its `fingerprint`). The chain follows a spread
    closing stock. Raises CellsRefused (stale: 409), ValidationFailed."""
    season = _start(session, user, season_id)
    rows, plan = _plan(session, season.id, scope, measure, total_text, shape, lock=True)
    if plan.fingerprint != fingerprint:
        raise CellsRefused({"": "Cells under this total were changed since the preview; "
                            "preview the spread again"}, stale=True)
    problems = _check_rows(rows)
    if problems:
        raise CellsRefused({"": f"{len(problems):,} cells would not fit, e.g. "
                            + next(iter(problems.values()))[1]})
    by_key = {row.key: row for row in rows}
    try:
        chained = _chain(session, season, by_key)
    except _RowProblems as exc:
        raise CellsRefused({"": f"{len(exc.problems):,} cells would break the stock chain, "
                            "e.g. " + next(iter(exc.problems.values()))}) from None
    _save_step(session, user, season, "spread",
               f"Spread {plan.total:,.2f} of {OTB_LABELS[measure].lower()} over "
               f"{plan.cells:,} cells by {SHAPES[shape]} ({scope.label})",
               list(by_key.values()),
               audit_after={"measure": measure, "total": plan.total,
                            "total_before": plan.before, "shape": shape,
                            "chained": len(chained)})
    return plan


# Undo


@dataclass(frozen=True)
class Undone:
    """What an undo did: the step, and whether it was undone or dropped (someone else had
    changed `conflicts` of its rows since, so it could not be)."""

    step: GridEdit
    done: bool
    conflicts: int = 0


def undo_steps(session: Session, user, season_id: uuid.UUID,
               limit: int = UNDO_STEPS) -> list[GridEdit]:
    """The planner's steps in this season that can still be undone, newest first."""
    return list(session.scalars(_live_steps(season_id, user.id)
                                .order_by(GridEdit.created_at.desc(), GridEdit.id.desc())
                                .limit(limit)))


def _live_steps(season_id: uuid.UUID, user_id: uuid.UUID):
    return select(GridEdit).where(GridEdit.season_id == season_id,
                                  GridEdit.user_id == user_id, GridEdit.undone_at.is_(None))


@transactional
@collector_paused()
def undo_last(session: Session, user, season_id: uuid.UUID) -> Undone:
    """Undo the planner's latest step in the season: every figure it changed goes back, as
    one audited change of its own (a row it created is deleted). When someone else changed
    any of those rows since, nothing is restored and the step is dropped from the undo list.
    Raises ValidationFailed when there is nothing to undo."""
    season = _start(session, user, season_id)
    step = session.scalar(_live_steps(season.id, user.id)
                          .order_by(GridEdit.created_at.desc(), GridEdit.id.desc())
                          .limit(1).with_for_update())
    if step is None:
        raise ValidationFailed({"": "There is nothing of yours to undo in this season"})
    # Plain rows and one locking statement: undoing a spread reads tens of thousands.
    cells = session.execute(select(
        GridEditCell.row_id, GridEditCell.field, GridEditCell.before,
        GridEditCell.version_before, GridEditCell.version_after,
    ).where(GridEditCell.edit_id == step.id)).all()
    versions = {c.row_id: c.version_after for c in cells}
    step_rows = select(GridEditCell.row_id).where(GridEditCell.edit_id == step.id)
    current = {row.id: row for row in map(_row, session.execute(
        select(*ROW_COLUMNS).where(OTBPlan.id.in_(step_rows)).with_for_update()))}
    conflicts = sum(1 for row_id, version in versions.items()
                    if row_id not in current or current[row_id].version != version)
    now = utcnow()
    step.undone_at = now
    if conflicts:
        audit.record(session, user=user, action="grid_undo_dropped", entity="otb_plan",
                     season_id=season.id, after={"step": str(step.id), "summary": step.summary,
                                                 "conflicts": conflicts})
        return Undone(step, False, conflicts)
    restored, created = {}, []
    for cell in cells:
        if cell.version_before == 0:
            created.append(cell.row_id)
        else:
            restored.setdefault(cell.row_id, {})[cell.field] = cell.before
    scope = season_scope(season.id)
    user_id = user.id  # once: `user` may be the request's proxy
    update_rows(session, OTBPlan, [
        {"id": row_id, **fields, "version": current[row_id].version + 1,
         "uploaded_by": user_id, "updated_at": now} for row_id, fields in restored.items()],
        scope=scope)
    if created:
        session.execute(delete(OTBPlan).where(OTBPlan.id.in_(set(created)))
                        .execution_options(synchronize_session=False))
    _follow_undo(session, season.id, user.id, step.id)
    audit.record(session, user=user, action="grid_undo", entity="otb_plan",
                 entity_id=next(iter(restored)) if len(restored) == 1 and not created else None,
                 season_id=season.id,
                 after={"step": str(step.id), "summary": step.summary, "cells": len(cells),
                        "rows": len(restored) + len(set(created)),
                        "deleted_rows": len(set(created))})
    return Undone(step, True)


def _follow_undo(session: Session, season_id: uuid.UUID, user_id: uuid.UUID,
                 step_id: uuid.UUID) -> None:
    """An undo moves each restored row one version on. The planner's earlier steps that left
    those rows at the version the undone step found them in now find them at that new
    version, with the same values: they stay undoable."""
    undone = aliased(GridEditCell)
    same_row = (undone.edit_id == step_id) & (undone.row_id == GridEditCell.row_id)
    earlier = select(GridEdit.id).where(GridEdit.season_id == season_id,
                                        GridEdit.user_id == user_id,
                                        GridEdit.undone_at.is_(None))
    session.execute(
        update(GridEditCell)
        .where(GridEditCell.edit_id.in_(earlier),
               exists().where(same_row, undone.version_before == GridEditCell.version_after))
        .values(version_after=select(undone.version_after + 1).where(same_row)
                .limit(1).scalar_subquery())
        .execution_options(synchronize_session=False))
