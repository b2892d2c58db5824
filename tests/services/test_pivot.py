"""The OTB pivot (issue 14, item 1): group rows are exact sums of their leaves for every
measure and month, stock positions total to an end of the season, both layouts agree, filters
narrow, sorting orders siblings, and committed matches the OTB cell page's figures."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from kyros_web.masterdata.services import create_location
from kyros_web.models import OTBPlan
from kyros_web.planning import pivot, queries
from kyros_web.planning.pivot import MEASURES, PivotView, read_view
from kyros_web.purchasing.services import create_po
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.values import months_between

FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)


def build_pivot_season(make, session, status=SeasonStatus.RANGE_UPLOADED):
    """A range_uploaded season: a three-level category tree beside a one-level leaf, two
    locations in one cluster and one without a cluster, OTB rows in every cell and month (one
    negative), and POs in two cells. At another `status` (plan_uploaded: OTB can be edited),
    no POs."""
    womens = make.category("W", name="Womens")
    tops = make.category("W-T", parent=womens, name="Tops")
    leaves = [make.category("W-T-1", parent=tops, name="Tees"),
              make.category("W-T-2", parent=tops, name="Shirts"),
              make.category("W-B-1", parent=make.category("W-B", parent=womens, name="Bottoms"),
                            name="Jeans"),
              make.category("M", name="Mens")]
    north = make.cluster("North")
    locations = [make.location(name="Alpha", cluster=north), make.location(name="Beta", cluster=north),
                 create_location(session, make.admin, name="Gamma", type="store")]
    season = make.season(status, locations=locations, leaves=leaves)
    rows = {(r.location_id, r.category_id, r.month): r for r in session.scalars(
        select(OTBPlan).where(OTBPlan.season_id == season.id))}
    for i, loc in enumerate(locations):
        for j, leaf in enumerate(leaves):
            for k, month in enumerate((FEB, MAR, APR)):
                row = rows.get((loc.id, leaf.id, month)) or OTBPlan(
                    season_id=season.id, location_id=loc.id, category_id=leaf.id, month=month)
                row.planned_sales = D(1000 + 100 * i + 10 * j + k) + D("0.25")
                row.planned_markdowns = D(5 * k)
                row.planned_closing_stock = D(400 + 50 * k + j)
                row.opening_stock = D(350 + 50 * k + i)
                # One over-bought cell: Gamma × Mens in April.
                row.on_order = D("5000") if (i, j, k) == (2, 3, 2) else D(7 * j)
                session.add(row)
    session.commit()
    if status is not SeasonStatus.RANGE_UPLOADED:
        session.expire_all()
        return season, locations, leaves, north
    buyer = make.user("buyer")
    for n, (loc, leaf, day, value) in enumerate(((locations[0], leaves[0], date(2026, 2, 10), "700.10"),
                                                 (locations[0], leaves[0], date(2026, 2, 20), "300"),
                                                 (locations[2], leaves[3], date(2026, 3, 5), "999.99"))):
        create_po(session, buyer, season.id, po_number=f"PV-{n}", location_id=loc.id,
                  category_id=leaf.id, po_value=value, order_date=date(2026, 1, 15),
                  delivery_date=day, supplier="S")
    session.expire_all()
    return season, locations, leaves, north


@pytest.fixture
def pivot_season(make, session):
    return build_pivot_season(make, session)


def make_pivot(session, season, view=PivotView(), filters=queries.GridFilters()):
    months = [filters.month] if filters.month else months_between(season.start_date, season.end_date)
    return queries.otb_pivot(session, season.id, filters, view, months)


def everything(view: PivotView) -> PivotView:
    return replace(view, measures=MEASURES, level=20)


def leaves_of(table, node):
    """The location × leaf category rows under `node`."""
    return [n for n in table.visible(node) if n.is_leaf]


@pytest.mark.parametrize("layout", ["location", "category"])
def test_groups_are_the_sums_of_their_leaves(session, pivot_season, layout):
    """Every group row, every measure, every month: the exact sum of the leaf rows below it."""
    season = pivot_season[0]
    table = make_pivot(session, season, everything(PivotView(layout=layout)))
    groups = [n for n in table.visible() if not n.is_leaf] + [table.root]
    assert len(leaves_of(table, table.root)) == 3 * 4
    for group in groups:
        below = leaves_of(table, group)
        assert below, group.label
        for measure in MEASURES:
            for month in table.months:
                assert table.value(group, measure, month) == sum(
                    (table.value(n, measure, month) for n in below), D(0)), (group.label, measure)


def test_values_are_the_stored_rows(session, pivot_season):
    season, locations, leaves, _ = pivot_season
    table = make_pivot(session, season, everything(PivotView()))
    stored = session.scalars(select(OTBPlan).where(OTBPlan.season_id == season.id)).all()
    assert table.value(table.root, "planned_sales", FEB) == sum(
        r.planned_sales for r in stored if r.month == FEB)
    assert table.value(table.root, "otb", APR) == sum(
        r.approved_spend_limit for r in stored if r.month == APR)
    assert table.value(table.root, "committed", FEB) == D("1000.10")


def test_season_totals_sum_flows_and_take_stock_at_the_ends(session, pivot_season):
    """Sales add up over the months; closing stock is the last month's, opening the first's."""
    season = pivot_season[0]
    table = make_pivot(session, season, everything(PivotView()))
    for node in [table.root] + table.visible():
        for measure in ("planned_sales", "planned_markdowns", "on_order", "otb", "committed",
                        "remaining"):
            assert table.total(node, measure) == sum(
                (table.value(node, measure, m) for m in (FEB, MAR, APR)), D(0))
        assert table.total(node, "planned_closing_stock") == table.value(
            node, "planned_closing_stock", APR)
        assert table.total(node, "opening_stock") == table.value(node, "opening_stock", FEB)


def test_both_layouts_give_the_same_grand_total(session, pivot_season):
    season = pivot_season[0]
    by_location = make_pivot(session, season, everything(PivotView(layout="location")))
    by_category = make_pivot(session, season, everything(PivotView(layout="category")))
    for measure in MEASURES:
        assert by_location.total(by_location.root, measure) == by_category.total(
            by_category.root, measure)
        for month in by_location.months:
            assert (by_location.value(by_location.root, measure, month)
                    == by_category.value(by_category.root, measure, month))


def test_the_hierarchy_of_each_layout(session, pivot_season):
    """Location first: cluster, location, then the category tree to the leaf; category
    first: the category tree, cluster, location. No cluster is "(no cluster)"."""
    season, locations, leaves, north = pivot_season
    table = make_pivot(session, season, PivotView(level=20))
    tops = table.children(table.root)
    assert [n.label for n in tops] == ["North", "(no cluster)"]
    gamma = table.children(tops[1])[0]
    assert (gamma.label, gamma.code) == ("Gamma", locations[2].location_code)
    paths = [n.label for n in table.visible(gamma)]
    assert paths == ["Mens", "Womens", "Womens › Bottoms", "Womens › Bottoms › Jeans",
                     "Womens › Tops", "Womens › Tops › Shirts", "Womens › Tops › Tees"]
    tees = table.visible(gamma)[-1]
    assert (tees.code, tees.title, tees.is_leaf) == ("W-T-1", "W-T-1", True)
    table = make_pivot(session, season, PivotView(layout="category", level=20))
    mens = table.children(table.root)[0]
    assert mens.label == "Mens" and not mens.is_leaf
    assert [n.label for n in table.visible(mens)] == ["North", "Alpha", "Beta", "(no cluster)",
                                                      "Gamma"]
    assert table.visible(mens)[-1].is_leaf


def test_only_open_groups_are_read_and_shown(session, pivot_season):
    season, locations, _, _ = pivot_season
    table = make_pivot(session, season)
    assert [n.label for n in table.visible()] == ["North", "(no cluster)"]
    north = table.children(table.root)[0]
    table = make_pivot(session, season, PivotView(open=frozenset({north.key})))
    assert [n.label for n in table.visible()] == ["North", "Alpha", "Beta", "(no cluster)"]
    alpha = table.find(north.key + "~" + pivot.segment("location", locations[0].id))
    assert alpha is not None and alpha.label == "Alpha"
    # A key under a closed group is not shown, and closing a group opened by level works.
    table = make_pivot(session, season, PivotView(open=frozenset({alpha.key})))
    assert table.find(alpha.key) is None
    table = make_pivot(session, season, PivotView(level=1, closed=frozenset({north.key})))
    assert [n.label for n in table.visible()] == ["North", "(no cluster)", "Gamma"]


def test_filters_narrow(session, pivot_season):
    season, locations, leaves, north = pivot_season
    full = make_pivot(session, season, everything(PivotView()))
    tops = leaves[0].parent_id
    narrowed = [
        queries.GridFilters(cluster_id=north.id),
        queries.GridFilters(location_id=locations[2].id),
        queries.GridFilters(category_ids=frozenset({tops, leaves[0].id, leaves[1].id})),
        queries.GridFilters(month=MAR),
    ]
    for f in narrowed:
        table = make_pivot(session, season, everything(PivotView()), f)
        leaf_rows = leaves_of(table, table.root)
        assert 0 < len(leaf_rows) < 12 or f.month
        assert table.total(table.root, "planned_sales") < full.total(full.root, "planned_sales")
    table = make_pivot(session, season, everything(PivotView()), narrowed[3])
    assert table.months == [MAR]
    assert table.total(table.root, "otb") == full.value(full.root, "otb", MAR)
    table = make_pivot(session, season, everything(PivotView()), narrowed[0])
    assert "(no cluster)" not in [n.label for n in table.visible()]


def test_sort_orders_siblings_within_their_parent(session, pivot_season):
    season = pivot_season[0]
    view = PivotView(layout="category", measures=("planned_sales",), level=20)
    table = make_pivot(session, season, replace(view, sort="total", descending=True))
    for node in [table.root] + table.visible():
        totals = [table.total(c, "planned_sales") for c in table.children(node)]
        assert totals == sorted(totals, reverse=True)
    # Children still follow their own parent.
    for node in table.visible():
        if node.parent is not table.root:
            assert table.visible().index(node.parent) < table.visible().index(node)
    table = make_pivot(session, season, replace(view, sort="2026-03"))
    march = [table.value(c, "planned_sales", MAR) for c in table.children(table.root)]
    assert march == sorted(march)
    table = make_pivot(session, season, replace(view, descending=True))
    assert [c.label for c in table.children(table.root)] == ["Womens", "Mens"]


def test_committed_and_remaining_match_the_cell_figures(session, pivot_season):
    """A leaf cell with POs shows the committed and remaining the OTB cell page shows."""
    season, locations, leaves, _ = pivot_season
    table = make_pivot(session, season, everything(PivotView()))
    for loc, leaf, month in ((locations[0], leaves[0], FEB), (locations[2], leaves[3], MAR),
                             (locations[2], leaves[3], APR)):
        node = next(n for n in leaves_of(table, table.root)
                    if n.ids["location"] == loc.id and n.ids["category"] == leaf.id)
        cell = queries.cell_figures(session, season.id, loc.id, leaf.id, month)
        assert table.value(node, "otb", month) == cell.otb
        assert table.value(node, "committed", month) == cell.committed
        assert table.value(node, "remaining", month) == cell.remaining
    assert table.flagged("remaining", table.value(node, "remaining", APR))


def test_unknown_view_values_fall_back():
    months = [FEB, MAR]
    view = read_view(layout="sideways", measures=["nope", "otb", "otb"], sort="2027-01",
                     direction="up", open_keys=["x.1", "c.none", "l.zz"], level="-3", months=months)
    assert view == PivotView(measures=("otb",), open=frozenset({"c.none"}))
    assert read_view(sort="2026-03", level="abc", months=months).sort == "2026-03"
    assert read_view(measures=[], months=months).measures == pivot.DEFAULT_MEASURES
