"""A season's figures kept summed as writes land (issue 19, item 4), so that no page adds up
a whole season's facts on a request.

Two tables hold, per season, the sums of its facts per location × month and per leaf
category × month (`dim` "l" or "c", `key_id` the location or category):

- `season_figures`: the sums of analytics/sql.py `season_facts` (plans with month NULL,
  OTB, adjustments, committed, received, open to buy and over-bought worked out per cell,
  the plan's own figures);
- `season_forecast_figures`: the sums of planning/inseason.py `forecast_cells` (plan,
  actuals and the reforecast), split by whether the cells have actuals (`actualised`).

Every page total is an exact sum of these rows (a sum of sums), and a location's or a
category's rows are those of a full recomputation narrowed to it: the same SQL, run on the
groups a write touched. tests/services/test_summaries.py checks, after random sequences of
writes, that the tables equal a recomputation of the whole season.

How they stay up to date. Writes note which cells they touched (location × category of a
season): the ORM's flush (every object of a figure model written, with its old location and
category when they changed), ORM statements (the rows their WHERE clause names, read before
the statement runs), and bulk.py's COPY and array UPDATEs, which call `note_rows`. Just
before the transaction commits (or reads the summaries itself: `settle`), each touched
season's touched locations and categories are summed again from the facts, inside the
writing transaction: every write of a season's
figures holds the season's row lock (seasons/services.lock_season) until it commits, so two
refreshes of one season never interleave, and a reader sees the figures and the facts of
the same commit. A write that touches many groups (an import) sums the whole season again
in one pass.
"""
from __future__ import annotations

from sqlalchemy import (Uuid, and_, case, delete, event, func, insert, inspect, literal, or_,
                        select, tuple_)
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

DIRTY = "kyros_dirty_figures"
ALL = "all"  # a season whose every group must be summed again
# Above this many touched groups a season is summed again whole: one pass over its facts
# costs less than narrowing to most of them.
MANY_GROUPS = 400
# Above this many rows a bulk write is not looked up row by row: its season is summed whole.
MANY_ROWS = 5000


# Refreshing


def refresh(session: Session, season, location_ids=None, category_ids=None) -> None:
    """Sum the season's figures again: of the locations `location_ids` and the categories
    `category_ids`, or (both None) of the whole season. In the caller's transaction."""
    location_ids = sorted(location_ids or [], key=str) or None
    category_ids = sorted(category_ids or [], key=str) or None
    whole = location_ids is None and category_ids is None
    for table in TABLES:
        stmt = delete(table).where(table.c.season_id == season.id)
        if not whole:
            stmt = stmt.where(or_(*[and_(table.c.dim == dim, table.c.key_id.in_(ids))
                                    for dim, ids in ((LOCATION, location_ids),
                                                     (CATEGORY, category_ids)) if ids]))
        _run(session, stmt)
    if session.get_bind().dialect.name == "postgresql":
        # Work room to sort and hash the cells in memory (see planning/inseason.py).
        _run(session, select(func.set_config("work_mem", inseason.WORK_MEM, True)))
    for stmt in _summed(session, season, location_ids, category_ids):
        _run(session, stmt)


def _run(session: Session, stmt) -> None:
    # The summaries are derived: writing them moves no data version of their own.
    session.execute(stmt.execution_options(version_scope=None))


def _summed(session: Session, season, location_ids, category_ids):
    """INSERT … SELECT statements filling both tables with the groups of the locations
    `location_ids` and the categories `category_ids` (both None: every group). PostgreSQL
    sums both dimensions in one pass over the facts of either (GROUPING SETS, keeping the
    groups asked for); SQLite, which has none, sums each dimension over its own facts."""

    wanted = {LOCATION: location_ids, CATEGORY: category_ids}
    whole = location_ids is None and category_ids is None

    def sources(**narrowed):
        only = narrowing(**narrowed)
        facts = sql.season_facts(season.id, only)
        cells = inseason.forecast_cells(season, **narrowed)
        return ((season_figures, facts, [], list(FACT_SUMS),
                 [func.sum(facts.c[n]) for n in FACT_SUMS]),
                (season_forecast_figures, cells, [cells.c.actualised], [*SPLIT_SUMS, "cells"],
                 [*[func.coalesce(func.sum(cells.c[n]), 0) for n in SPLIT_SUMS],
                  func.count()]))

    def into(table, names, extra, query):
        return insert(table).from_select(
            ["season_id", "dim", "key_id", "month", *(["actualised"] if extra else []),
             *names], query)

    if session.get_bind().dialect.name == "postgresql":
        for table, source, extra, names, sums in sources(
                location_ids=location_ids, category_ids=category_ids, either=True):
            by_location = func.grouping(source.c.location_id) == 0
            query = (select(literal(season.id, Uuid),
                            case((by_location, LOCATION), else_=CATEGORY),
                            func.coalesce(source.c.location_id, source.c.category_id),
                            source.c.month, *extra, *sums)
                     .group_by(func.grouping_sets(
                         tuple_(source.c.location_id, source.c.month, *extra),
                         tuple_(source.c.category_id, source.c.month, *extra))))
            if not whole:
                # The facts of either also make groups of other locations and categories.
                query = query.having(or_(*[
                    and_(by_location if dim == LOCATION else ~by_location,
                         (source.c.location_id if dim == LOCATION
                          else source.c.category_id).in_(ids))
                    for dim, ids in wanted.items() if ids]))
            yield into(table, names, extra, query)
        return
    for dim, ids in wanted.items():
        if not whole and not ids:
            continue
        narrowed = {} if whole else {("location_ids" if dim == LOCATION
                                      else "category_ids"): ids}
        for table, source, extra, names, sums in sources(**narrowed):
            key = source.c.location_id if dim == LOCATION else source.c.category_id
            yield into(table, names, extra,
                       select(literal(season.id, Uuid), literal(dim), key, source.c.month,
                              *extra, *sums).group_by(key, source.c.month, *extra))


# Noting what a transaction touched


def _dirty(session: Session) -> dict:
    return session.info.setdefault(DIRTY, {})


def note(session: Session, season_id, location_id=None, category_id=None) -> None:
    """Note that a write touched a cell's location × category of a season (both None: any
    of its groups)."""
    if season_id is None:
        return
    groups = _dirty(session).setdefault(season_id, set())
    if ALL in groups:
        return
    if location_id is None or category_id is None:
        groups.clear()
        groups.add(ALL)
    else:
        groups.add((location_id, category_id))


def note_all(session: Session, season_id) -> None:
    note(session, season_id)


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
    if state.is_insert:
        params = state.parameters
        rows = params if isinstance(params, list) else [params] if params else []
        note_rows(state.session, model, [dict(r) for r in rows])
        return
    for row in _pairs_where(state.session, model, state.statement.whereclause):
        note(state.session, *row)


def settle(session: Session) -> None:
    """Sum again what this transaction's writes touched so far: before it commits, and
    before a read of the summaries in a transaction that has written (it reads its own
    writes, as a query of the facts would). Without writes, no statement."""
    session.flush()
    dirty = session.info.pop(DIRTY, None)
    if not dirty:
        return
    for season_id in sorted(dirty, key=str):
        season = session.get(Season, season_id)
        if season is None:
            continue
        groups = dirty[season_id]
        locations = {g[0] for g in groups if g != ALL}
        categories = {g[1] for g in groups if g != ALL}
        if ALL in groups or len(locations) + len(categories) > MANY_GROUPS:
            refresh(session, season)
        else:
            refresh(session, season, locations, categories)
    # What the refresh flushed is summed already.
    session.info.pop(DIRTY, None)


@event.listens_for(Session, "before_commit")
def _settle_before_commit(session: Session) -> None:
    settle(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(DIRTY, None)


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
