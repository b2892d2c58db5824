"""The reforecast in SQL (planning/inseason.py) against its definition (planning/reforecast.py),
on random small seasons, on SQLite and PostgreSQL: every cell of `forecast_cells` equals what
`reforecast` gives for its location × category, by both methods, and every group of `sums_by`
holds the sums of its cells.

One season (Feb–Jul 2026, two locations, two leaves) is made once per test; each example
replaces its OTB rows, actuals and POs, so an example costs a few inserts and one query."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from kyros_web.models import OTBPlan, SeasonActual
from kyros_web.planning import inseason
from kyros_web.planning.otb import committed_value
from kyros_web.planning.reforecast import (PLAN, TREND, ActualMonth, PlannedMonth,
                                           reforecast)
from kyros_web.purchasing.models import POStatus, PurchaseOrder
from kyros_web.seasons.workflow import SeasonStatus

MONTHS = [date(2026, m, 1) for m in range(2, 8)]
CENT = D("0.01")
EXAMPLES = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

money = st.integers(0, 10 ** 8).map(lambda c: D(c) * CENT)  # up to 1,000,000.00
small = st.integers(0, 500).map(lambda c: D(c) * CENT)  # a few cents: rounding ties
amounts = st.one_of(money, small)
net_sales = st.integers(-100_000, 10 ** 8).map(lambda c: D(c) * CENT)  # returns may win


def odd_or_even(parity):
    return st.integers(0, 10 ** 7).map(lambda c: D(2 * c + parity) * CENT)


@st.composite
def cell_data(draw, months, tie):
    """One location × category: its plan rows (some months missing), actuals (some months
    without a plan row) and POs (due in a month of the season, or just outside it). With
    `tie`, the actual sales to date are the plan's × k/2 and the plan's sales are odd cents,
    so forecasts land on half cents."""
    planned = draw(st.sets(st.sampled_from(months)))
    actualised = sorted(draw(st.sets(st.sampled_from(months))))
    ratio = D(draw(st.sampled_from([1, 3, 5]))) / 2
    plan, actuals = [], {}
    for m in sorted(planned):
        sales = draw(odd_or_even(0 if m in actualised else 1)) if tie else draw(amounts)
        plan.append(PlannedMonth(m, sales, draw(amounts), draw(amounts), draw(amounts),
                                 draw(amounts)))
    by_month = {p.month: p for p in plan}
    for m in actualised:
        if tie:
            sales = by_month[m].sales * ratio if m in by_month else D("0.00")
        else:
            sales = draw(net_sales)
        actuals[m] = ActualMonth(m, sales.quantize(CENT), draw(amounts), draw(amounts))
    pos = []
    for _ in range(draw(st.integers(0, 3))):
        due = draw(st.sampled_from([date(2026, 1, 31), *[m.replace(day=15) for m in months],
                                    date(2026, 8, 1)]))
        pos.append((due, draw(money.filter(bool)),
                    draw(st.sampled_from([POStatus.OPEN, POStatus.CANCELLED]))))
    return plan, actuals, pos


@st.composite
def seasons(draw):
    """{(location index, category index): (plan, actuals, POs)} of a random small season."""
    months = MONTHS[:draw(st.integers(1, 6))]
    tie = draw(st.booleans())
    locations, categories = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return {(loc, cat): draw(cell_data(months, tie))
            for loc in range(locations) for cat in range(categories)}


def expected(plan, actuals, pos, method):
    """Month → (sales, markdowns, closing, opening, receipts, in-season OTB, committed) by
    reforecast.py. A month with POs due but neither a plan row nor actuals is a cell too; it
    is forecast as a plan of zeros (the same rule: it takes no part in the trend)."""
    committed: dict[date, D] = {}
    for due, value, status in pos:
        if MONTHS[0] <= due <= date(2026, 7, 31):
            month = due.replace(day=1)
            committed[month] = committed.get(month, D(0)) + committed_value(status, value, D(0))
    known = {p.month for p in plan} | set(actuals)
    zeros = [PlannedMonth(m, D(0), D(0), D(0), D(0)) for m in committed if m not in known]
    out = {}
    for f in reforecast(plan + zeros, actuals, method):
        c = committed.get(f.month, D(0))
        out[f.month] = (f.sales, f.markdowns, f.closing_stock, f.opening_stock, f.receipts,
                        f.in_season_otb(c), c)
    return out


def test_every_cell_of_the_sql_reforecast_is_the_definitions(session, make):
    season, locations, leaves = _season(make)
    serial = iter(range(10 ** 9))

    @EXAMPLES
    @given(seasons(), st.sampled_from([TREND, PLAN]))
    def check(data, method):
        _store(session, season, locations, leaves, data, serial, make.admin.id)
        season.reforecast_method = method
        got = _cells(session, season)
        want = {(locations[loc].id, leaves[cat].id, month): figures
                for (loc, cat), (plan, actuals, pos) in data.items()
                for month, figures in expected(plan, actuals, pos, method).items()}
        assert got == want
        _assert_sums(session, season, want)

    check()


def test_an_actualised_month_never_changes_in_sql(session, make):
    """Whatever the plan and the method, a month with actuals shows its actuals, has no
    receipts and no in-season OTB; and a plan change of any month leaves it as it was."""
    season, locations, leaves = _season(make)
    serial = iter(range(10 ** 9))

    @EXAMPLES
    @given(seasons(), st.sampled_from([TREND, PLAN]), amounts)
    def check(data, method, bump):
        _store(session, season, locations, leaves, data, serial, make.admin.id)
        season.reforecast_method = method
        before = _cells(session, season)
        for (loc, cat), (_, actuals, _) in data.items():
            for month, a in actuals.items():
                cell = before[(locations[loc].id, leaves[cat].id, month)]
                assert cell[:3] == (a.net_sales, a.markdowns, a.closing_stock)
                assert cell[4:6] == (None, None)
        changed = {key: ([PlannedMonth(p.month, p.sales + bump, p.markdowns + bump,
                                       p.closing_stock + bump, p.opening_stock, p.on_order)
                          for p in plan], actuals, pos)
                   for key, (plan, actuals, pos) in data.items()}
        _store(session, season, locations, leaves, changed, serial, make.admin.id)
        after = _cells(session, season)
        for (loc, cat), (_, actuals, _) in data.items():
            for month in actuals:
                key = (locations[loc].id, leaves[cat].id, month)
                assert after[key][:6] == before[key][:6]

    check()


def test_actuals_equal_to_the_plan_reforecast_the_plan_in_sql(session, make):
    """With actuals equal to the plan for the first months and the stock chained (each month
    opens with the last one's planned closing stock), every later month's forecast sales are
    the planned sales and its receipts its original OTB (the stored approved spend limit)."""
    season, locations, leaves = _season(make)
    serial = iter(range(10 ** 9))

    @EXAMPLES
    @given(seasons(), st.sampled_from([TREND, PLAN]), st.integers(0, 6))
    def check(data, method, done):
        chained = {}
        for key, (plan, _, pos) in data.items():
            rows, opening = [], None
            for month in MONTHS[:max((p.month for p in plan), default=MONTHS[0]).month - 1]:
                p = next((p for p in plan if p.month == month),
                         PlannedMonth(month, D(0), D(0), D(0), D(0)))
                rows.append(PlannedMonth(month, p.sales, p.markdowns, p.closing_stock,
                                         p.opening_stock if opening is None else opening,
                                         p.on_order))
                opening = p.closing_stock
            same = {p.month: ActualMonth(p.month, p.sales, p.markdowns, p.closing_stock)
                    for p in rows[:done]}
            chained[key] = (rows, same, pos)
        _store(session, season, locations, leaves, chained, serial, make.admin.id)
        season.reforecast_method = method
        got = _cells(session, season)
        otb = dict(((r.location_id, r.category_id, r.month), r.approved_spend_limit)
                   for r in session.execute(select(OTBPlan).where(
                       OTBPlan.season_id == season.id)).scalars())
        for (loc, cat), (rows, same, _) in chained.items():
            for p in rows[done:]:
                key = (locations[loc].id, leaves[cat].id, p.month)
                sales, _, _, _, receipts, _, _ = got[key]
                assert (sales, receipts) == (p.sales, otb[key])

    check()


def _assert_sums(session, season, cells):
    """Every group of sums_by (a category or location × month) holds the sums of its cells'
    figures, the actualised cells' and the forecast ones' apart where the KPIs need them."""
    rows = inseason.sums_by(session, season)
    assert {(r.by, r.id, r.month) for r in rows} == (
        {("category", c, m) for _, c, m in cells} | {("location", l, m) for l, _, m in cells})
    for r in rows:
        mine = [v for (loc, cat, m), v in cells.items()
                if m == r.month and r.id == (cat if r.by == "category" else loc)]
        done = [v for v in mine if v[4] is None]
        ahead = [v for v in mine if v[4] is not None]
        s = r.sums
        assert (s.cells, s.actual_cells) == (len(mine), len(done))
        assert s.sales == sum(v[0] for v in mine)
        assert (s.actual_sales, s.forecast_sales) == (sum(v[0] for v in done),
                                                      sum(v[0] for v in ahead))
        assert (s.markdowns, s.closing) == (sum(v[1] for v in mine), sum(v[2] for v in mine))
        assert (s.actual_opening, s.opening_ahead) == (sum(v[3] for v in done),
                                                       sum(v[3] for v in ahead))
        assert s.receipts == sum(v[4] for v in ahead)
        assert s.in_season_otb == sum(v[5] for v in ahead)
        assert s.in_season_open == sum(max(v[5], 0) for v in ahead)
        assert (s.committed, s.committed_ahead) == (sum(v[6] for v in mine),
                                                    sum(v[6] for v in ahead))


def _season(make):
    locations = [make.location(), make.location()]
    leaves = [make.category(), make.category()]
    season = make.season(SeasonStatus.RANGE_UPLOADED, start=MONTHS[0], end=date(2026, 7, 31),
                         locations=locations, leaves=leaves)
    return season, locations, leaves


def _store(session, season, locations, leaves, data, serial, user_id):
    """Replace the season's OTB rows, actuals and POs with `data`'s."""
    for model in (OTBPlan, SeasonActual, PurchaseOrder):
        session.execute(delete(model).where(model.season_id == season.id))
    plan_rows, actual_rows, po_rows = [], [], []
    for (loc, cat), (plan, actuals, pos) in data.items():
        where = {"season_id": season.id, "location_id": locations[loc].id,
                 "category_id": leaves[cat].id}
        plan_rows += [dict(where, month=p.month, planned_sales=p.sales,
                           planned_markdowns=p.markdowns, planned_closing_stock=p.closing_stock,
                           opening_stock=p.opening_stock, on_order=p.on_order) for p in plan]
        actual_rows += [dict(where, month=a.month, net_sales=a.net_sales, markdowns=a.markdowns,
                             closing_stock=a.closing_stock) for a in actuals.values()]
        po_rows += [dict(where, po_number=f"P{next(serial)}", order_date=date(2026, 1, 1),
                         delivery_date=due, po_value=value, status=status, created_by=user_id)
                    for due, value, status in pos]
    for model, rows in ((OTBPlan, plan_rows), (SeasonActual, actual_rows),
                        (PurchaseOrder, po_rows)):
        if rows:
            session.execute(insert(model), rows)
    session.flush()


def _cells(session, season):
    f = inseason.forecast_cells(season)
    rows = session.execute(select(f)).all()
    assert all(r.actualised == (1 if r.has_a else 0) for r in rows)
    return {(r.location_id, r.category_id, r.month):
            (r.sales, r.markdowns, r.closing, r.opening, r.receipts, r.in_season_otb,
             r.committed) for r in rows}
