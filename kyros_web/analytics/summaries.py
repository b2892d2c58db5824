"""A season's figures kept summed as writes land (issue 19, item 4), so that no page adds up
a whole season's facts on a request.

Two tables hold, per season, the sums of its facts per location × month and per leaf
category × month (`dim` "l" or "c", `key_id` the location or category):

- `season_figures`: the sums of analytics/sql.py `season_facts` (plans with month NULL,
  OTB, adjustments, committed, received, open to buy and over-bought worked out per cell,
  the plan's own figures);
- `season_forecast_figures`: the sums of planning/inseason.py `forecast_cells` (plan,
  actuals and the reforecast), split by whether the cells have actuals (`actualised`).

Every page total is an exact sum of these rows (a sum of sums). Every figure of a group is
a sum over the location × category pairs in it (a cell's figures depend on that cell, the
trend of the reforecast on its pair), so a write that touched some pairs moves each group
by what those pairs add now less what they added before. Each table counts the rows it
sums (`facts`, `cells`); a group's row exists while that count is not 0, as in a
recomputation. tests/services/test_summaries.py checks, after random sequences of writes
(services, imports, grid steps), that the tables equal a recomputation of the whole season.

How they stay up to date. Writes note which pairs they are about to touch: the ORM's flush
(every object of a figure model written, with its old location and category when they
changed), ORM statements (the rows their WHERE clause names, read before the statement
runs), and bulk.py's COPY and array UPDATEs, which call `note_rows` first. A pair noted for
the first time in a transaction has its sums read then (`contributions`, the same SQL as a
recomputation narrowed to the pair), before the write runs. Just before the transaction
commits (or reads the summaries itself: `settle`), the touched pairs are read again and the
rows of their locations and categories moved by the difference, inside the writing
transaction: every write of a season's figures holds the season's row lock
(seasons/services.lock_season) until it commits, so two moves of one season never
interleave, and a reader sees the figures and the facts of the same commit. A write that
touches many groups (an import, a spread) or the season's own terms sums the whole season
again in one pass.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from decimal import Decimal

from sqlalchemy import (Date, Float, Numeric, Uuid, and_, bindparam, case, delete, event,
                        func, insert, inspect, literal, or_, select, tuple_, type_coerce)
from sqlalchemy.orm import Session

from .. import summaries as hooks
from ..planning import inseason
from ..planning.kpis import SPLIT_SUMS
from ..planning.models import OTBAdjustmentLine, OTBPlan, SeasonActual, SeasonPlan
from ..purchasing.models import GRNRecord, PurchaseOrder
from ..seasons.models import Season
from ..sqlfuncs import narrowing
from . import sql
from .models import (CATEGORY, FACT_SUMS, LOCATION, TABLES, season_figures,
                     season_forecast_figures)

DIRTY = "kyros_dirty_figures"  # season → the location × category pairs touched, or ALL
BEFORE = "kyros_figures_before"  # season → table → the touched pairs' sums before the writes
FRESH = "kyros_figures_fresh"  # season → pairs noted whose sums are still to be read
ALL = "all"  # a season whose every group must be summed again
# Above this many touched groups a season is summed again whole: one pass over its facts
# costs less than narrowing to most of them.
MANY_GROUPS = 400
# Above this many rows a bulk write is not looked up row by row: its season is summed whole.
MANY_ROWS = 5000


# Refreshing


def refresh(session: Session, season) -> None:
    """Sum the whole season's figures again from its facts, in the caller's transaction."""
    for table in TABLES:
        _run(session, delete(table).where(table.c.season_id == season.id))
    if session.get_bind().dialect.name == "postgresql":
        # Work room to sort and hash the cells in memory (see planning/inseason.py).
        _run(session, select(func.set_config("work_mem", inseason.WORK_MEM, True)))
    for stmt in _summed(session, season):
        _run(session, stmt)


def _run(session: Session, stmt):
    # The summaries are derived: writing them moves no data version of their own.
    return session.execute(stmt.execution_options(version_scope=None))


def _sources(season, **narrowed):
    """Per summary table: (table, the facts or cells it sums, the split columns, the summed
    columns' names, their sums). Each table counts the rows it sums (`facts`, `cells`): a
    group's row exists while that count is not 0, as in a recomputation."""
    only = narrowing(**narrowed)
    facts = sql.season_facts(season.id, only)
    cells = inseason.forecast_cells(season, **narrowed)
    return ((season_figures, facts, [], [*FACT_SUMS, "facts"],
             [*[func.sum(facts.c[n]) for n in FACT_SUMS], func.count()]),
            (season_forecast_figures, cells, [cells.c.actualised], [*SPLIT_SUMS, "cells"],
             [*[func.coalesce(func.sum(cells.c[n]), 0) for n in SPLIT_SUMS], func.count()]))


def _into(table, names, extra, query):
    return insert(table).from_select(
        ["season_id", "dim", "key_id", "month", *(["actualised"] if extra else []), *names],
        query)


def _summed(session: Session, season):
    """INSERT … SELECT statements filling both tables with every group of the season.
    PostgreSQL sums both dimensions in one pass over the facts (GROUPING SETS); SQLite, which
    has none, sums each dimension in a pass of its own."""
    if session.get_bind().dialect.name == "postgresql":
        for table, source, extra, names, sums in _sources(season):
            by_location = func.grouping(source.c.location_id) == 0
            yield _into(table, names, extra, select(
                literal(season.id, Uuid), case((by_location, LOCATION), else_=CATEGORY),
                func.coalesce(source.c.location_id, source.c.category_id), source.c.month,
                *extra, *sums).group_by(func.grouping_sets(
                    tuple_(source.c.location_id, source.c.month, *extra),
                    tuple_(source.c.category_id, source.c.month, *extra))))
        return
    for dim in (LOCATION, CATEGORY):
        for table, source, extra, names, sums in _sources(season):
            key = source.c.location_id if dim == LOCATION else source.c.category_id
            yield _into(table, names, extra,
                        select(literal(season.id, Uuid), literal(dim), key, source.c.month,
                               *extra, *sums).group_by(key, source.c.month, *extra))


# Moving the summaries by what a write changed


def _exact_type(session: Session, kind):
    """The type to read a summed column with so that adding to it loses nothing: SQLite keeps
    the margin products (plain Numeric) as floats, read as they are and added exactly."""
    if session.get_bind().dialect.name == "sqlite" and type(kind) is Numeric:
        return Float()
    return kind


def _exact(value):
    return Decimal(value) if isinstance(value, float) else value


# Built statements of `contributions`, by season and what shapes them, the most recently
# used kept: building them costs more than running them on a few pairs, and each season's
# take about 0.8 MB.
_STATEMENTS: OrderedDict[tuple, list] = OrderedDict()
_MANY_STATEMENTS = 8
_STATEMENTS_LOCK = threading.Lock()


def _contribution_statements(session: Session, season) -> list:
    """Per summary table: (its name, the number of key columns, a SELECT of the sums of
    the cells of the locations `:kyros_locations` × categories `:kyros_categories` by pair,
    month and split), built once per season and shape."""
    dialect = session.get_bind().dialect.name
    key = (dialect, season.id, season.reforecast_method, season.start_date, season.end_date)
    with _STATEMENTS_LOCK:
        found = _STATEMENTS.get(key)
        if found is not None:
            _STATEMENTS.move_to_end(key)
            return found
    built = []
    for table, source, extra, names, sums in _sources(
            season, location_ids=bindparam("kyros_locations", expanding=True),
            category_ids=bindparam("kyros_categories", expanding=True)):
        keys = [source.c.location_id, source.c.category_id,
                type_coerce(source.c.month, Date), *extra]
        typed = [type_coerce(s, _exact_type(session, table.c[n].type))
                 for s, n in zip(sums, names)]
        built.append((table.name, len(keys), select(*keys, *typed).group_by(*keys)))
    with _STATEMENTS_LOCK:
        _STATEMENTS[key] = built
        while len(_STATEMENTS) > _MANY_STATEMENTS:
            _STATEMENTS.popitem(last=False)
    return built


def contributions(session: Session, season, pairs: set) -> dict:
    """The sums of the location × category pairs `pairs` of a season as they stand, by table
    name then (location, category, month[, actualised]): what those pairs add to the groups
    of their location and their category. Narrowed to the pairs' locations × categories
    (a location × category is always kept or dropped whole, sqlfuncs.narrowing)."""
    out = {table.name: {} for table in TABLES}
    if not pairs:
        return out
    params = {"kyros_locations": sorted({p[0] for p in pairs}, key=str),
              "kyros_categories": sorted({p[1] for p in pairs}, key=str)}
    for name, width, stmt in _contribution_statements(session, season):
        found = out[name]
        for row in session.connection().execute(stmt, params):
            if (row[0], row[1]) in pairs:
                found[tuple(row[:width])] = [_exact(v) for v in row[width:]]
    return out


def _shift(session: Session, season, before: dict, after: dict) -> None:
    """Move the season's summary rows by the difference between the pairs' sums `before`
    their writes and `after` (contributions): each pair's change lands on its location's
    group and on its category's. A row whose count falls to 0 goes, as a recomputation
    would not make it; the rows of other groups are not read."""
    for table in TABLES:
        old, new = before.get(table.name, {}), after.get(table.name, {})
        split = "actualised" in table.c
        names = [c.name for c in table.c
                 if c.name not in ("season_id", "dim", "key_id", "month", "actualised")]
        moves: dict[tuple, list] = {}
        for key in old.keys() | new.keys():
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            was, now = was or [0] * len(names), now or [0] * len(names)
            change = [b - a for a, b in zip(was, now)]
            location_id, category_id, month, *extra = key
            for group in ((LOCATION, location_id), (CATEGORY, category_id)):
                into = moves.setdefault((*group, month, *extra), [0] * len(names))
                for i, amount in enumerate(change):
                    into[i] += amount
        moves = {key: change for key, change in moves.items() if any(change)}
        if not moves:
            continue
        ids = {dim: {key[1] for key in moves if key[0] == dim} for dim in (LOCATION, CATEGORY)}
        mine = and_(table.c.season_id == season.id,
                    or_(*[and_(table.c.dim == dim, table.c.key_id.in_(sorted(group, key=str)))
                          for dim, group in ids.items() if group]))
        key_columns = [table.c.dim, table.c.key_id, table.c.month,
                       *([table.c.actualised] if split else [])]
        value_columns = [type_coerce(table.c[n], _exact_type(session, table.c[n].type))
                         for n in names]
        rows = {tuple(r[:len(key_columns)]): [_exact(v) for v in r[len(key_columns):]]
                for r in _run(session, select(*key_columns, *value_columns).where(mine))}
        for key, change in moves.items():
            rows[key] = [a + b for a, b in zip(rows.get(key, [0] * len(names)), change)]
        _run(session, delete(table).where(mine))
        floats = {n for n in names if isinstance(_exact_type(session, table.c[n].type), Float)}
        count = names.index("cells" if split else "facts")
        kept = [{"season_id": season.id, **dict(zip([c.name for c in key_columns], key)),
                 **{n: float(v) if n in floats else v for n, v in zip(names, values)}}
                for key, values in rows.items() if values[count] != 0]
        if kept:
            session.execute(insert(table).execution_options(version_scope=None), kept)


# Noting what a transaction touched


def _dirty(session: Session) -> dict:
    return session.info.setdefault(DIRTY, {})


def note(session: Session, season_id, location_id=None, category_id=None) -> None:
    """Note that a write is about to touch a cell's location × category of a season (both
    None: any of its groups). A pair noted for the first time in the transaction has its
    sums read (`_capture`) before the write runs."""
    if season_id is None:
        return
    groups = _dirty(session).setdefault(season_id, set())
    if ALL in groups:
        return
    if location_id is None or category_id is None:
        note_all(session, season_id)
    elif (location_id, category_id) not in groups:
        groups.add((location_id, category_id))
        session.info.setdefault(FRESH, {}).setdefault(season_id, set()).add(
            (location_id, category_id))


def note_all(session: Session, season_id) -> None:
    """The whole season is summed again before the transaction commits."""
    groups = _dirty(session).setdefault(season_id, set())
    groups.clear()
    groups.add(ALL)
    for key in (BEFORE, FRESH):
        session.info.get(key, {}).pop(season_id, None)


def _capture(session: Session) -> None:
    """Read the sums of the pairs noted for the first time, before the write that noted them
    runs: settle moves the summaries by their difference from the sums after. A season
    whose touched locations and categories grow past MANY_GROUPS is summed whole instead."""
    fresh = session.info.pop(FRESH, None)
    for season_id, pairs in (fresh or {}).items():
        groups = _dirty(session)[season_id]
        if ALL in groups:
            continue
        if len({g[0] for g in groups}) + len({g[1] for g in groups}) > MANY_GROUPS:
            note_all(session, season_id)
            continue
        season = session.get(Season, season_id)
        if season is None:  # new in this transaction: nothing summed before
            continue
        before = session.info.setdefault(BEFORE, {}).setdefault(season_id, {})
        for name, sums in contributions(session, season, pairs).items():
            before.setdefault(name, {}).update(sums)


# The models whose rows are facts of the figures: each names its season, location and
# category; a GRN its PO's.
FIGURE_MODELS = {OTBPlan, SeasonPlan, SeasonActual, OTBAdjustmentLine, PurchaseOrder}


def _pairs_where(session: Session, model, whereclause) -> list:
    """(season, location, category) of the rows of a figure model a WHERE clause names."""
    if model is GRNRecord:
        stmt = (select(PurchaseOrder.season_id, PurchaseOrder.location_id,
                       PurchaseOrder.category_id)
                .join(GRNRecord, GRNRecord.po_id == PurchaseOrder.id))
    else:
        stmt = select(model.season_id, model.location_id, model.category_id)
    if whereclause is not None:
        stmt = stmt.where(whereclause)
    return session.connection().execute(stmt.distinct()).all()


def note_rows(session: Session, model, records: list[dict], *, season_id=None,
              updating: bool = False) -> None:
    """A bulk write of `records` into a model (bulk.py) in the season `season_id` when the
    writer knows it. Rows of a figure model are noted: new ones by the season, location and
    category they carry (a GRN by its PO's); updated ones (by "id") by those they have before
    the UPDATE runs (call it first) and those they are given, so a row moved to another
    location notes both. Past MANY_ROWS the season is noted whole."""
    if not records or (model not in FIGURE_MODELS and model is not GRNRecord):
        return
    _note_records(session, model, records, season_id, updating)
    _capture(session)


def _note_records(session: Session, model, records: list[dict], season_id,
                  updating: bool) -> None:
    if len(records) > MANY_ROWS:
        seasons = {season_id} if season_id else {r.get("season_id") for r in records}
        if None in seasons:
            # Nothing names the season: every season the rows may belong to.
            seasons = set(session.connection().execute(
                select(_season_column(model)).distinct()).scalars())
        for one in seasons:
            note_all(session, one)
        return
    if updating:
        for row in _pairs_where(session, model, model.id.in_([r["id"] for r in records])):
            note(session, *row)
    if model is GRNRecord:
        po_ids = {r["po_id"] for r in records if r.get("po_id")}
        if po_ids:
            for row in _pairs_where(session, PurchaseOrder, PurchaseOrder.id.in_(po_ids)):
                note(session, *row)
        return
    keys = ("season_id", "location_id", "category_id")
    for r in records:
        if all(r.get(k) for k in keys):
            note(session, *(r[k] for k in keys))


def _season_column(model):
    if model is GRNRecord:
        return PurchaseOrder.season_id
    return model.season_id


def _po_pair(session: Session, po_id):
    """The PO's (season, location, category) when the session holds it, else None."""
    po = session.identity_map.get(inspect(PurchaseOrder).identity_key_from_primary_key((po_id,)))
    return None if po is None else (po.season_id, po.location_id, po.category_id)


@event.listens_for(Session, "before_flush")
def _note_flushed(session: Session, _context, _instances) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        kind = type(obj)
        if kind in FIGURE_MODELS:
            state = inspect(obj)
            note(session, obj.season_id, obj.location_id, obj.category_id)
            if state.persistent or obj in session.deleted:
                old = {name: state.attrs[name].history.deleted
                       for name in ("season_id", "location_id", "category_id")}
                if any(old.values()):
                    before = {name: (old[name][0] if old[name] else getattr(obj, name))
                              for name in old}
                    note(session, before["season_id"], before["location_id"],
                         before["category_id"])
        elif kind is GRNRecord:
            po = obj.__dict__.get("purchase_order")
            po_ids = {obj.po_id, *inspect(obj).attrs["po_id"].history.deleted} - {None}
            if po is not None:
                note(session, po.season_id, po.location_id, po.category_id)
                po_ids.discard(po.id)
            missing = set()
            for po_id in po_ids:
                pair = _po_pair(session, po_id)
                if pair is None:
                    missing.add(po_id)
                else:
                    note(session, *pair)
            if missing:
                for row in _pairs_where(session, PurchaseOrder, PurchaseOrder.id.in_(missing)):
                    note(session, *row)
        elif kind is Season and obj in session.dirty:
            state = inspect(obj)
            if any(state.attrs[name].history.has_changes()
                   for name in ("reforecast_method", "start_date", "end_date")):
                note_all(session, obj.id)
    _capture(session)


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    """An ORM UPDATE or DELETE of a figure model: the rows it names, read before it runs;
    an INSERT: the rows it carries."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is None or (mapper.class_ not in FIGURE_MODELS and mapper.class_ is not GRNRecord):
        return
    model = mapper.class_
    params = state.parameters
    if state.is_insert:
        rows = params if isinstance(params, list) else [params] if params else []
        note_rows(state.session, model, [dict(r) for r in rows])
        return
    if isinstance(params, list) and state.statement.whereclause is None:
        # A bulk UPDATE by primary key (bulk.py on SQLite): the rows its records name.
        note_rows(state.session, model, [dict(r) for r in params], updating=True)
        return
    for row in _pairs_where(state.session, model, state.statement.whereclause):
        note(state.session, *row)
    _capture(state.session)


def settle(session: Session) -> None:
    """Bring the summaries up to date with this transaction's writes so far: before it
    commits, and before a read of the summaries in a transaction that has written (it reads
    its own writes, as a query of the facts would). A season noted whole is summed again;
    otherwise its groups move by what the touched pairs add now less what they added before
    the writes. Without writes, no statement."""
    session.flush()
    dirty = session.info.pop(DIRTY, None)
    before = session.info.pop(BEFORE, None) or {}
    session.info.pop(FRESH, None)
    if not dirty:
        return
    for season_id in sorted(dirty, key=str):
        season = session.get(Season, season_id)
        if season is None:
            continue
        pairs = dirty[season_id]
        if ALL in pairs:
            refresh(session, season)
        else:
            _shift(session, season, before.get(season_id, {}),
                   contributions(session, season, pairs))


@event.listens_for(Session, "before_commit")
def _settle_before_commit(session: Session) -> None:
    settle(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        for key in (DIRTY, BEFORE, FRESH):
            session.info.pop(key, None)


def refresh_all(session: Session) -> int:
    """Sum every season's figures again, in the caller's transaction (migration 0020 fills
    the tables this way); returns the seasons summed."""
    seasons = session.scalars(select(Season)).all()
    for season in seasons:
        refresh(session, season)
    return len(seasons)


def refresh_season(session: Session, season_id) -> None:
    """Sum one season's figures again in a transaction of its own, holding the season's row
    lock as every write of its figures does (`flask kyros refresh-figures`: after rows were
    changed by hand in the database, say)."""
    from ..seasons.services import lock_season

    try:
        refresh(session, lock_season(session, season_id))
        session.commit()
    except BaseException:
        session.rollback()
        raise


hooks.register(note_rows=note_rows, settle=settle)
