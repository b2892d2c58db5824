"""The summaries kept as writes land (kyros_web/analytics/summaries.py, issue 19 item 4) always equal a
recomputation of the whole season: after random sequences of the writes that move figures,
each through its own service (POs created, edited, moved, cancelled and short-closed, GRNs,
OTB and plan edits, approved moves of open to buy, the reforecast method, and imports of POs,
GRNs and actuals), every summary row is the one a full recomputation gives. Runs on SQLite and
on PostgreSQL (CI runs both)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from kyros_web.analytics import summaries
from kyros_web.errors import DomainError
from kyros_web.planning import services as planning
from kyros_web.planning.pivot import FIGURES
from kyros_web.planning.queries import GridFilters, pivot_sums
from kyros_web.planning.adjustments import Scope
from kyros_web.purchasing import services as purchasing
from kyros_web.purchasing.models import PurchaseOrder
from kyros_web.purchasing.queries import POFilters, po_totals, totals_from_pos
from kyros_web.seasons.services import advance_season, set_reforecast_method
from kyros_web.seasons.workflow import SeasonStatus

from ..conftest import PG_URL
from .test_uploads import load

FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
MONTHS = [FEB, MAR, APR]
CONFIG = {"KYROS_OTB_POLICY": "warn", "KYROS_OVER_RECEIPT_TOLERANCE": D("0"),
          "KYROS_MAX_UPLOAD_MB": 25}

money = st.integers(1, 500_000).map(lambda cents: D(cents) / 100)
place = st.integers(0, 1)
leaf = st.integers(0, 2)
month = st.integers(0, 2)

operations = st.one_of(
    st.tuples(st.just("po"), place, leaf, month, money),
    st.tuples(st.just("edit po"), st.integers(0, 20), place, leaf, month, money),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("grn"), st.integers(0, 20), money),
    st.tuples(st.just("short-close"), st.integers(0, 20)),
    st.tuples(st.just("move"), leaf, leaf, month, money),
    st.tuples(st.just("method"), st.sampled_from(["trend", "plan"])),
    st.tuples(st.just("import pos"), st.lists(st.tuples(place, leaf, month, money), min_size=1,
                                              max_size=4)),
    st.tuples(st.just("import grns"), st.lists(st.tuples(st.integers(0, 20), money),
                                               min_size=1, max_size=3)),
    st.tuples(st.just("import actuals"), st.lists(st.tuples(place, leaf, st.integers(0, 1),
                                                            money, money, money),
                                                  min_size=1, max_size=4)),
)


@pytest.fixture
def shop(session, make, app, monkeypatch):
    """A season in season (range uploaded) of two locations × three leaves × three months,
    the clock in April so February and March may have actuals."""
    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 4, 20))
    monkeypatch.setitem(app.config, "KYROS_OTB_POLICY", "warn")
    locations = [make.location(), make.location()]
    parent = make.category()
    leaves = [make.category(parent=parent) for _ in range(3)]
    season = make.season(SeasonStatus.PLAN_UPLOADED, start=FEB, end=date(2026, 4, 30),
                         locations=locations, leaves=leaves)
    make.otb_rows(season, [(loc, lf, m, ("5000", "100", "2000", "2000", "0"))
                           for loc in locations for lf in leaves for m in MONTHS])
    advance_season(session, make.admin, season.id)
    make.fill(season)
    advance_season(session, make.admin, season.id)
    assert season.status is SeasonStatus.RANGE_UPLOADED
    return dict(season=season, locations=locations, leaves=leaves, buyer=make.user("buyer"),
                planners=(make.user("planner"), make.user("planner")), admin=make.admin)


def stored(session, season_id) -> dict:
    """Every summary row of the season, keyed by its group, month (and split)."""
    out = {}
    for table in summaries.TABLES:
        keys = [c for c in ("dim", "key_id", "month", "actualised") if c in table.c]
        for row in session.execute(select(table).where(table.c.season_id == season_id)):
            m = row._mapping
            out[(table.name, *[m[k] for k in keys])] = tuple(
                m[c.name] for c in table.c if c.name not in (*keys, "season_id"))
    return out


def sequences(examples: int):
    """Hypothesis settings of a run of random write sequences on the test's own database."""
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def run_all_then_compare(session, season, run, ops, then=None) -> None:
    """Each operation through `run` (one refused writes nothing), then every summary row of
    the season is the one a recomputation of the whole season gives; `then()` checks more
    before it is all rolled back."""
    for op in ops:
        try:
            run(op)
        except DomainError:
            session.rollback()  # refused: nothing written, nothing to sum
    kept = stored(session, season.id)
    summaries.refresh(session, season)
    assert stored(session, season.id) == kept
    if then is not None:
        then()
    session.rollback()


def assert_po_totals_as_raw(session, season, locs, leaves) -> None:
    """The PO list's totals read from the summaries are those read from the POs, for every
    filter the summaries serve: none, a location, a parent category or a leaf, a delivery
    month, and a location or a category with a month."""
    parent = leaves[0].parent_id
    filters = [POFilters(), *[POFilters(location_id=loc.id) for loc in locs],
               POFilters(category_ids=frozenset({parent, *(lf.id for lf in leaves)})),
               POFilters(category_ids=frozenset({leaves[1].id})),
               *[POFilters(month=m) for m in MONTHS],
               POFilters(location_id=locs[1].id, month=MAR),
               POFilters(category_ids=frozenset({leaves[2].id}), month=APR)]
    for f in filters:
        assert po_totals(session, season.id, f) == totals_from_pos(session, season.id, f), f


def test_the_summaries_always_equal_a_full_recomputation(session, shop):
    season, locs, leaves = shop["season"], shop["locations"], shop["leaves"]
    buyer, admin = shop["buyer"], shop["admin"]
    counter = iter(range(10 ** 9))

    def pos():
        return session.scalars(select(PurchaseOrder).where(PurchaseOrder.season_id == season.id)
                               .order_by(PurchaseOrder.po_number)).all()

    def pick(n):
        every = pos()
        return every[n % len(every)] if every else None

    def run(op):
        kind = op[0]
        if kind == "po":
            _, p, c, m, value = op
            purchasing.create_po(session, buyer, season.id, po_number=f"S{next(counter)}",
                                 location_id=locs[p].id, category_id=leaves[c].id,
                                 po_value=value, order_date=date(2026, 1, 5),
                                 delivery_date=MONTHS[m].replace(day=10), policy="warn")
        elif kind == "edit po" and (po := pick(op[1])):
            _, _, p, c, m, value = op
            purchasing.update_po(session, buyer, po.id, expected_version=po.version,
                                 policy="warn", location_id=locs[p].id,
                                 category_id=leaves[c].id, po_value=value,
                                 order_date=po.order_date,
                                 delivery_date=MONTHS[m].replace(day=12),
                                 supplier=po.supplier, po_number=po.po_number,
                                 source=po.source.value)
        elif kind == "cancel" and (po := pick(op[1])):
            purchasing.cancel_po(session, buyer, po.id)
        elif kind == "grn" and (po := pick(op[1])):
            purchasing.create_grn(session, buyer, po_id=po.id, grn_number=f"G{next(counter)}",
                                  grn_date=date(2026, 4, 1), received_value=op[2])
        elif kind == "short-close" and (po := pick(op[1])):
            purchasing.close_po(session, buyer, po.id)
        elif kind == "move":
            _, source, target, m, amount = op
            asked = planning.request_adjustment(
                session, shop["planners"][0], season.id, amount=amount,
                source=Scope(category_id=leaves[source].id, month=MONTHS[m]),
                target=Scope(category_id=leaves[target].id, month=MONTHS[m]), reason="test")
            planning.decide_adjustment(session, shop["planners"][1], asked.id, approve=True,
                                       note="ok", override_reason="test")
        elif kind == "method":
            set_reforecast_method(session, admin, season.id, op[1])
        elif kind == "import pos":
            lines = [f"I{next(counter)},{locs[p].location_code},{leaves[c].code},{value},"
                     f"2026-01-05,{MONTHS[m].replace(day=20).isoformat()},Supplier,csv"
                     for p, c, m, value in op[1]]
            load(session, buyer, "pos", ("po_number,location_code,category_code,po_value,"
                                         "order_date,delivery_date,supplier,source\n"
                                         + "\n".join(lines) + "\n").encode(), season, config=CONFIG)
        elif kind == "import grns":
            lines = [f"H{next(counter)},{po.po_number},2026-04-02,{value}"
                     for n, value in op[1] if (po := pick(n))]
            if lines:
                load(session, buyer, "grns", ("grn_number,po_number,grn_date,received_value\n"
                                              + "\n".join(lines) + "\n").encode(), season,
                     config=CONFIG)
        elif kind == "import actuals":
            lines = {(p, c, m): f"{locs[p].location_code},{leaves[c].code},"
                                f"{MONTHS[m].strftime('%Y-%m')},{sales},{marked},{stock}"
                     for p, c, m, sales, marked, stock in op[1]}
            load(session, admin, "actuals", ("location_code,category_code,month,net_sales,"
                                             "markdowns,closing_stock\n"
                                             + "\n".join(lines.values()) + "\n").encode(),
                 season, config=CONFIG)

    @sequences(25)
    @given(st.lists(operations, min_size=1, max_size=8))
    def check(ops):
        run_all_then_compare(session, season, run, ops,
                             then=lambda: assert_po_totals_as_raw(session, season, locs, leaves))
        assert_pivot_as_raw(session, season, leaves)

    check()


def assert_pivot_as_raw(session, season, leaves):
    """The OTB pivot's first level read from the summaries equals the same level summed from
    the facts (a filter on every leaf sends pivot_sums to the facts), month by month."""
    everything = GridFilters(category_ids=frozenset(leaf.id for leaf in leaves))
    for level in ("cluster", "location", "category"):
        fast = pivot_sums(session, season.id, GridFilters(), (level,), {})
        slow = pivot_sums(session, season.id, everything, (level,), {})

        def keyed(rows):
            return {(r._mapping[level], r.month): tuple(r._mapping[n] for n in FIGURES)
                    for r in rows if r.month in MONTHS and any(r._mapping[n] for n in FIGURES)}
        assert keyed(fast) == keyed(slow), level


def test_a_write_reads_only_the_pair_it_touched(session, shop, monkeypatch):
    """A PO saved in one cell moves its location's and its category's rows by that pair's
    sums before and after: the season is not summed again, no other pair is read."""
    season, locs, leaves = shop["season"], shop["locations"], shop["leaves"]
    read, whole = [], []
    real = summaries.contributions
    monkeypatch.setattr(summaries, "contributions",
                        lambda s, season, pairs: (read.append(set(pairs)),
                                                  real(s, season, pairs))[1])
    monkeypatch.setattr(summaries, "refresh", lambda *a: whole.append(a))
    purchasing.create_po(session, shop["buyer"], season.id, po_number="ONE",
                         location_id=locs[1].id, category_id=leaves[2].id, po_value=D("10"),
                         order_date=date(2026, 1, 5), delivery_date=date(2026, 3, 3),
                         policy="warn")
    assert read == [{(locs[1].id, leaves[2].id)}] * 2 and whole == []


def test_a_group_left_without_cells_loses_its_row(session, shop):
    """Actuals for every leaf of a location in February: the location's February row of cells
    without actuals goes (the rows count what they sum), as a recomputation would not make
    it, and the row of cells with actuals comes."""
    season, locs, leaves = shop["season"], shop["locations"], shop["leaves"]
    key = ("season_forecast_figures", "l", locs[0].id, FEB)
    assert (*key, 0) in stored(session, season.id)
    load(session, shop["admin"], "actuals", (
        "location_code,category_code,month,net_sales,markdowns,closing_stock\n"
        + "".join(f"{locs[0].location_code},{leaf.code},2026-02,100,0,50\n" for leaf in leaves)
    ).encode(), season, config=CONFIG)
    kept = stored(session, season.id)
    assert (*key, 0) not in kept and kept[(*key, 1)][-1] == 3
    summaries.refresh(session, season)
    assert stored(session, season.id) == kept


def test_the_figures_follow_a_write_at_once(session, shop):
    """The page's figure (committed by month) moves by the PO's value when it is saved."""
    from kyros_web.analytics import sql
    season, locs, leaves = shop["season"], shop["locations"], shop["leaves"]

    def committed():
        return {r.month: r.committed for r in sql.by_month(session, season.id)}

    before = committed()
    purchasing.create_po(session, shop["buyer"], season.id, po_number="AT-ONCE",
                         location_id=locs[0].id, category_id=leaves[0].id,
                         po_value=D("123.45"), order_date=date(2026, 1, 5),
                         delivery_date=date(2026, 3, 3), policy="warn")
    after = committed()
    assert after[MAR] - before[MAR] == D("123.45")
    assert after[FEB] == before[FEB]


grid_operations = st.one_of(
    st.tuples(st.just("type"), place, leaf, month,
              st.sampled_from(["planned_sales", "planned_markdowns", "planned_closing_stock",
                               "opening_stock", "on_order"]), money),
    st.tuples(st.just("paste"), st.lists(st.tuples(place, leaf, month, money), min_size=1,
                                         max_size=6)),
    st.tuples(st.just("spread"), st.sets(month, min_size=1), money),
    st.tuples(st.just("undo")),
)


def test_grid_steps_keep_the_summaries_exact(session, make):
    """Typed cells, pastes (some creating rows), spreads and undo of the OTB grid, in a
    season open for OTB edits: the summaries always equal a recomputation."""
    from kyros_web.planning import edits
    from kyros_web.planning.edits import Cell, Scope, Typed
    from kyros_web.planning.models import OTBPlan

    locations = [make.location(), make.location()]
    leaves = [make.category(parent=make.category()) for _ in range(3)]
    season = make.season(SeasonStatus.PLAN_UPLOADED, start=FEB, end=date(2026, 4, 30),
                         locations=locations, leaves=leaves)
    # Every cell but the last leaf's April ones: a paste there creates rows.
    make.otb_rows(season, [(loc, lf, m, ("5000", "100", "2000", "2000", "0"))
                           for loc in locations for lf in leaves for m in MONTHS
                           if (lf, m) != (leaves[2], APR)])
    session.commit()
    planner = make.user("planner")

    def typed(p, c, m, measure, value):
        version = session.scalar(select(OTBPlan.version).where(
            OTBPlan.season_id == season.id, OTBPlan.location_id == locations[p].id,
            OTBPlan.category_id == leaves[c].id, OTBPlan.month == MONTHS[m])) or 0
        return Typed(Cell(measure, locations[p].id, leaves[c].id, MONTHS[m]), str(value),
                     version)

    def run(op):
        kind = op[0]
        if kind == "type":
            edits.write_cells(session, planner, season.id, [typed(*op[1:])])
        elif kind == "paste":
            cells = {(p, c, m): typed(p, c, m, "planned_sales", v) for p, c, m, v in op[1]}
            edits.write_cells(session, planner, season.id, list(cells.values()), kind="paste")
        elif kind == "spread":
            scope = Scope(None, None, tuple(MONTHS[m] for m in sorted(op[1])), "total")
            plan = edits.preview_spread(session, season, scope, "planned_sales", str(op[2]))
            edits.spread_total(session, planner, season.id, scope, "planned_sales", str(op[2]),
                               "current", plan.fingerprint)
        else:
            edits.undo_last(session, planner, season.id)

    @sequences(20)
    @given(st.lists(grid_operations, min_size=1, max_size=6))
    def check(ops):
        run_all_then_compare(session, season, run, ops)

    check()


def test_the_season_by_month_is_the_sum_of_its_categories(session, shop):
    """The dashboard's in-season figures (summed by the database per month) are those the In
    season page sums from its category groups."""
    from kyros_web.analytics.in_season import in_season_summary, season_cube
    from kyros_web.planning import inseason

    season, locs, leaves = shop["season"], shop["locations"], shop["leaves"]
    load(session, shop["admin"], "actuals", (
        "location_code,category_code,month,net_sales,markdowns,closing_stock\n"
        f"{locs[0].location_code},{leaves[0].code},2026-02,4100.55,10,1500\n"
        f"{locs[1].location_code},{leaves[2].code},2026-03,-20,0,1750.25\n").encode(),
        season, config=CONFIG)
    cube = season_cube(session, season)
    by_month = inseason.season_sums_by_month(session, season)
    assert by_month == cube.monthly("category")
    assert in_season_summary(session, season) == in_season_summary(session, season, cube)
    assert by_month[FEB].actual_sales == D("4100.55") and by_month[APR].actual_cells == 0


@pytest.mark.skipif(not PG_URL, reason="row locks are PostgreSQL's; set "
                                       "KYROS_TEST_DATABASE_URL (CI does)")
def test_two_writers_meeting_at_a_barrier_lose_no_move(app, session, shop, monkeypatch):
    """Two buyers save POs at once in one location (two categories): both move the location's
    rows. Each writer reads those rows and writes them back, slowed here so the two would
    overlap. Every write holds the season's row lock until it commits (and the season's data
    version row from its commit on, which alone also serialises the two: removing the season
    lock from create_po does not make this fail), so the second reads the first's rows and
    the summaries still equal a recomputation after every round."""
    import threading
    import time

    from kyros_web.auth.models import User
    from kyros_web.extensions import db

    season, locs, leaves = shop["season"], shop["locations"], shop["leaves"]
    buyer_id, season_id = shop["buyer"].id, season.id
    real_shift = summaries._shift

    def slow_shift(*args):
        time.sleep(0.05)  # the gap in which the other writer would read the same rows
        real_shift(*args)

    monkeypatch.setattr(summaries, "_shift", slow_shift)
    for n in range(5):
        start, errors = threading.Barrier(2), []

        def write(leaf_id, number):
            with app.app_context():
                try:
                    start.wait()
                    purchasing.create_po(db.session, db.session.get(User, buyer_id), season_id,
                                         po_number=number, location_id=locs[0].id,
                                         category_id=leaf_id, po_value=D("10.01"),
                                         order_date=date(2026, 1, 5),
                                         delivery_date=date(2026, 3, 3), policy="warn")
                except Exception as exc:  # reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=write, args=(leaves[i].id, f"BAR-{n}-{i}"))
                   for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors
        session.expire_all()
        kept = stored(session, season_id)
        summaries.refresh(session, season)
        assert stored(session, season_id) == kept, f"round {n}"
        session.rollback()
