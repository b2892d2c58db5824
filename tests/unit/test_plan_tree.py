"""The plans-by-group tree (planning/pivot.py PlanTree): result rows of each level land on
the right rows with their own figures (never summed), category rows above the leaf get their
path, only open groups are read further, siblings sort by a column with blanks lowest, and
the view falls back to its defaults."""
from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal as D
from types import SimpleNamespace

from kyros_web.planning.pivot import (CategoryInfo, Hierarchy, PivotView, PlanTree,
                                      read_plan_view, segment)

NORTH, ALPHA, BETA, GAMMA = (uuid.uuid4() for _ in range(4))
W, TOPS, TEES, MENS = (uuid.uuid4() for _ in range(4))
HIERARCHY = Hierarchy(
    clusters={NORTH: "North"},
    locations={ALPHA: ("A1", "Alpha", NORTH), BETA: ("B1", "Beta", NORTH),
               GAMMA: ("G1", "Gamma", None)},
    categories={W: CategoryInfo("W", "Womens", None, False),
                TOPS: CategoryInfo("W-T", "Tops", W, False),
                TEES: CategoryInfo("W-T-1", "Tees", TOPS, True),
                MENS: CategoryInfo("M", "Mens", None, True)})


def result(rows=1, sales="0", margin=None, turns=None, approved=0, plan_id=None, **levels):
    """A stage's result row as the database gives it."""
    return SimpleNamespace(_mapping={**levels, "rows": rows, "planned_sales": D(sales),
                                     "margin": margin, "turns": turns, "approved": approved,
                                     "plan_id": str(plan_id or uuid.uuid4())})


def location_tree(view=PivotView(level=9)) -> PlanTree:
    tree = PlanTree(view, HIERARCHY)
    tree.set_total(SimpleNamespace(rows=3, planned_sales=D("30"), margin=D("20"), turns=None,
                                   approved=1))
    tree.add_groups(0, [result(2, "20", D("25"), cluster=NORTH), result(1, "10", D("10"), cluster=None)])
    tree.add_groups(1, [result(1, "15", D("30"), cluster=NORTH, location=ALPHA),
                        result(1, "5", D("10"), D("2"), cluster=NORTH, location=BETA),
                        result(1, "10", D("10"), cluster=None, location=GAMMA)])
    return tree


def test_each_row_keeps_its_own_figures():
    """A group's margin is what its result row says, not a sum of its children's."""
    tree = location_tree()
    north = tree.nodes[segment("cluster", NORTH)]
    assert tree.value(tree.root, "margin") == D("20") and tree.value(tree.root, "turns") is None
    assert (tree.value(north, "rows"), tree.value(north, "margin")) == (2, D("25"))
    assert [n.label for n in tree.children(north)] == ["Alpha", "Beta"]
    assert tree.children(tree.root)[1].label == "(no cluster)"


def test_category_rows_above_the_leaf_take_their_place_by_path():
    tree = location_tree()
    alpha = f"{segment('cluster', NORTH)}~{segment('location', ALPHA)}"
    tees_id = uuid.uuid4()
    # The leaf's row can come before its ancestors': the rows between are made on the way.
    tree.add_groups(2, [result(1, "15", D("30"), plan_id=tees_id, cluster=NORTH, location=ALPHA, category=TEES),
                        result(1, "15", D("30"), cluster=NORTH, location=ALPHA, category=W),
                        result(1, "15", D("30"), cluster=NORTH, location=ALPHA, category=TOPS),
                        result(9, "99", cluster=NORTH, location=uuid.uuid4(), category=W)])
    shown = tree.visible(tree.nodes[alpha])
    assert [(n.label, n.code, n.is_leaf) for n in shown] == [
        ("Womens", "W", False), ("Womens › Tops", "W-T", False),
        ("Womens › Tops › Tees", "W-T-1", True)]
    assert all(tree.value(n, "planned_sales") == D("15") for n in shown)
    assert shown[-1].figures["plan_id"] == tees_id and "plan_id" not in shown[0].figures
    assert tree.value(tree.nodes[alpha], "rows") == 1  # the location's own row, not 3


def test_only_open_groups_are_read_further():
    tree = PlanTree(PivotView(open=frozenset({segment("cluster", NORTH)})), HIERARCHY)
    tree.add_groups(0, [result(cluster=NORTH), result(cluster=None)])
    assert tree.wanted(1) == {"location": frozenset({ALPHA, BETA})}
    closed = PlanTree(PivotView(), HIERARCHY)
    closed.add_groups(0, [result(cluster=NORTH)])
    assert closed.wanted(1) is None


def test_categories_first_reads_below_open_leaf_categories_only():
    tees_key = f"{segment('category', W)}~{segment('category', TOPS)}~{segment('category', TEES)}"
    tree = PlanTree(PivotView(layout="category", level=2, open=frozenset({tees_key})), HIERARCHY)
    tree.add_groups(0, [result(category=c) for c in (W, TOPS, TEES, MENS)])
    # Womens and Tops are open too, but their children are categories, read with them.
    assert tree.wanted(1) == {"category": frozenset({TEES, MENS})}
    tree.add_groups(1, [result(2, category=TEES, cluster=NORTH)])
    assert tree.nodes[f"{tees_key}~{segment('cluster', NORTH)}"].expandable


def test_siblings_sort_by_a_column_blanks_lowest():
    ascending = location_tree(PivotView(level=9, sort="turns"))
    north = ascending.nodes[segment("cluster", NORTH)]
    assert [n.label for n in ascending.children(north)] == ["Alpha", "Beta"]  # blank, then 2
    descending = location_tree(PivotView(level=9, sort="planned_sales", descending=True))
    assert [n.label for n in descending.visible()] == ["North", "Alpha", "Beta",
                                                       "(no cluster)", "Gamma"]
    by_margin = location_tree(PivotView(level=9, sort="margin"))
    assert [n.label for n in by_margin.visible()] == ["(no cluster)", "Gamma", "North", "Beta",
                                                      "Alpha"]


def test_the_view_falls_back_to_its_defaults():
    view = read_plan_view(layout="sideways", sort="2026-02", direction="up", level="x",
                          open_keys=["c.none", "zz"])
    assert view == PivotView(open=frozenset({"c.none"}))
    assert read_plan_view(layout="category", sort="approved", direction="desc") == replace(
        PivotView(layout="category"), sort="approved", descending=True)
    assert view.args(sort="margin") == {"sort": "margin", "open": ["c.none"]}
