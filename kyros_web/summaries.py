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

from sqlalchemy import (Column, Date, ForeignKey, Index, Integer, Numeric, SmallInteger,
                        String, Table, Uuid, and_, case, delete, event, func, insert, inspect,
                        literal, or_, select, tuple_)
from sqlalchemy.orm import Session

from .extensions import db
from .modelbase import Money

LOCATION, CATEGORY = "l", "c"
DIRTY = "kyros_dirty_figures"
ALL = "all"  # a season whose every group must be summed again
# Above this many touched groups a season is summed again whole: one pass over its facts
# costs less than narrowing to most of them.
MANY_GROUPS = 400
# Above this many rows a bulk write is not looked up row by row: its season is summed whole.
MANY_ROWS = 5000

FACT_SUMS = {  # column → type; the names of analytics/sql.py season_facts
    "sales": Money, "mxs": Numeric, "otb": Money, "adjustments": Money, "committed": Money,
    "received": Money, "open": Money, "over": Money, "over_cells": Integer,
    "received_due": Money, "otb_sales": Money, "markdowns": Money, "opening": Money,
    "txs": Numeric, "turns_sales": Money, "plan_rows": Integer, "otb_rows": Integer,
}
FORECAST_PRODUCTS = ("margin_sxm", "margin_stxm")


def _key_columns():
    return [Column("season_id", Uuid, ForeignKey("seasons.id", ondelete="CASCADE"),
                   nullable=False),
            Column("dim", String(1), nullable=False),
            Column("key_id", Uuid, nullable=False)]


season_figures = Table(
    "season_figures", db.metadata, *_key_columns(), Column("month", Date),
    *[Column(name, kind, nullable=False) for name, kind in FACT_SUMS.items()],
    Index("ix_season_figures_group", "season_id", "dim", "key_id"),
)


def _forecast_columns():
    from .planning.kpis import SPLIT_SUMS
    return [Column(name, Numeric if name in FORECAST_PRODUCTS else Money, nullable=False)
            for name in SPLIT_SUMS]


season_forecast_figures = Table(
    "season_forecast_figures", db.metadata, *_key_columns(),
    Column("month", Date, nullable=False), Column("actualised", SmallInteger, nullable=False),
    *_forecast_columns(), Column("cells", Integer, nullable=False),
    Index("ix_season_forecast_figures_group", "season_id", "dim", "key_id"),
)

TABLES = (season_figures, season_forecast_figures)


# Refreshing


def refresh(session: Session, season, location_ids=None, category_ids=None) -> None:
    """Sum the season's figures again: of the locations `location_ids` and the categories
    `category_ids`, or (both None) of the whole season. In the caller's transaction."""
    whole = location_ids is None and category_ids is None
    for table in TABLES:
        stmt = delete(table).where(table.c.season_id == season.id)
        if not whole:
            stmt = stmt.where(or_(*[and_(table.c.dim == dim, table.c.key_id.in_(ids))
                                    for dim, ids in ((LOCATION, location_ids),
                                                     (CATEGORY, category_ids)) if ids]))
        _run(session, stmt)
    if whole:
        for stmt in _summed(session, season, None, None):
            _run(session, stmt)
        return
    if location_ids:
        for stmt in _summed(session, season, LOCATION, sorted(location_ids)):
            _run(session, stmt)
    if category_ids:
        for stmt in _summed(session, season, CATEGORY, sorted(category_ids)):
            _run(session, stmt)


def _run(session: Session, stmt) -> None:
    # The summaries are derived: writing them moves no data version of their own.
    session.execute(stmt.execution_options(version_scope=None))


def _summed(session: Session, season, dim: str | None, ids: list | None):
    """INSERT … SELECT statements filling both tables: for one dimension's groups `ids`, or
    (dim None) for every group of both dimensions."""
    from .analytics import sql
    from .planning import inseason

    postgresql = session.get_bind().dialect.name == "postgresql"
    dims = [dim] if dim else [LOCATION, CATEGORY]
    only = (None if dim is None else
            sql.narrowing(**{("location_ids" if dim == LOCATION else "category_ids"): ids}))
    facts = sql.season_facts(season.id, only)
    narrowed = {} if dim is None else {
        ("location_ids" if dim == LOCATION else "category_ids"): ids}
    cells = inseason.forecast_cells(season, **narrowed)
    if postgresql:
        # Room to sort and hash a season's cells in memory (see planning/inseason.py).
        _run(session, select(func.set_config("work_mem", inseason.WORK_MEM, True)))
    for table, source, extra, sums in (
            (season_figures, facts, [], [func.sum(facts.c[n]) for n in FACT_SUMS]),
            (season_forecast_figures, cells, [cells.c.actualised],
             [*[func.coalesce(func.sum(cells.c[n]), 0) for n in _split_names()],
              func.count()])):
        names = [*(["actualised"] if extra else []),
                 *(FACT_SUMS if table is season_figures else [*_split_names(), "cells"])]
        if postgresql and dim is None:
            # Both dimensions in one pass over the facts.
            by_location = func.grouping(source.c.location_id) == 0
            yield insert(table).from_select(
                ["season_id", "dim", "key_id", "month", *names],
                select(literal(season.id, Uuid), case((by_location, LOCATION), else_=CATEGORY),
                       func.coalesce(source.c.location_id, source.c.category_id),
                       source.c.month, *extra, *sums)
                .group_by(func.grouping_sets(
                    tuple_(source.c.location_id, source.c.month, *extra),
                    tuple_(source.c.category_id, source.c.month, *extra))))
            continue
        for one in dims:
            key = source.c.location_id if one == LOCATION else source.c.category_id
            yield insert(table).from_select(
                ["season_id", "dim", "key_id", "month", *names],
                select(literal(season.id, Uuid), literal(one), key, source.c.month, *extra,
                       *sums).group_by(key, source.c.month, *extra))


def _split_names():
    from .planning.kpis import SPLIT_SUMS
    return SPLIT_SUMS


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


def _figure_models():
    from .planning.models import OTBAdjustmentLine, OTBPlan, SeasonActual, SeasonPlan
    from .purchasing.models import GRNRecord, PurchaseOrder
    return {OTBPlan, SeasonPlan, SeasonActual, OTBAdjustmentLine, PurchaseOrder}, GRNRecord


def _pairs_where(session: Session, model, whereclause) -> list:
    """(season, location, category) of the rows of a figure model a WHERE clause names."""
    _, grn = _figure_models()
    from .purchasing.models import PurchaseOrder
    if model is grn:
        stmt = (select(PurchaseOrder.season_id, PurchaseOrder.location_id,
                       PurchaseOrder.category_id)
                .join(grn, grn.po_id == PurchaseOrder.id))
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
    figure, grn = _figure_models()
    if not records or (model not in figure and model is not grn):
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
    if model is grn:
        from .purchasing.models import PurchaseOrder
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
    _, grn = _figure_models()
    if model is grn:
        from .purchasing.models import PurchaseOrder
        return PurchaseOrder.season_id
    return model.season_id


def _po_pair(session: Session, po_id):
    """The PO's (season, location, category) when the session holds it, else None."""
    from .purchasing.models import PurchaseOrder
    po = session.identity_map.get(inspect(PurchaseOrder).identity_key_from_primary_key((po_id,)))
    return None if po is None else (po.season_id, po.location_id, po.category_id)


@event.listens_for(Session, "before_flush")
def _note_flushed(session: Session, _context, _instances) -> None:
    from .seasons.models import Season
    figure, grn = _figure_models()
    for obj in (*session.new, *session.dirty, *session.deleted):
        kind = type(obj)
        if kind in figure:
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
        elif kind is grn:
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
                from .purchasing.models import PurchaseOrder
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
    figure, grn = _figure_models()
    if mapper is None or (mapper.class_ not in figure and mapper.class_ is not grn):
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
    from .seasons.models import Season
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
    """Sum every season's figures again (after a migration, or by `flask kyros
    refresh-figures`); returns the seasons summed."""
    from .seasons.models import Season
    seasons = session.scalars(select(Season)).all()
    for season in seasons:
        refresh(session, season)
    return len(seasons)


