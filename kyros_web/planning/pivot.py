"""The OTB pivot of a season (issue 14, item 1): months across, the hierarchy down, every group
row the exact sum of the rows under it. Pure: it arranges the sums planning/queries.otb_pivot
reads into a tree of rows, sorts siblings and says which rows show; no database, no Flask.

A row is a node of the tree. Its key names its path from the top, one segment per level
("c.<cluster id>", "l.<location id>", "k.<category id>", joined by "~"), so a key means the same
row whatever else is open, and `?open=<key>` can be repeated in a link that works without script.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from ..args import as_int, as_month
from ..errors import ValidationFailed
from .otb import budget, remaining
from .rules import OTB_LABELS

ZERO = Decimal("0")

# What the shops did (the actuals upload, issue 16), beside the plan.
ACTUAL_LABELS = {"actual_sales": "Actual sales", "actual_markdowns": "Actual markdowns",
                 "actual_closing_stock": "Actual closing stock"}
# The figures summed per row and month, in this order; "remaining" is computed from three
# (OTB + adjustments − committed, planning/otb.py). Adjustments are the approved moves of open
# to buy into or out of the cells (issue 17).
FIGURES = (*OTB_LABELS, "otb", "adjustments", "committed", *ACTUAL_LABELS)
MEASURE_LABELS = {**OTB_LABELS, "otb": "OTB", "adjustments": "Adjustments",
                  "committed": "Committed", "remaining": "Remaining", **ACTUAL_LABELS}
MEASURES = tuple(MEASURE_LABELS)
DEFAULT_MEASURES = ("otb", "adjustments", "committed", "remaining")
# Stock positions: their season total is the position at one end of the season, not a sum.
LAST_MONTH, FIRST_MONTH = "planned_closing_stock", "opening_stock"
# Actual stock is known up to the current month: its season total is the latest month's.
ACTUAL_STOCK = "actual_closing_stock"
# A negative value of these is flagged: the cell is over-bought.
FLAGGED = frozenset({"otb", "remaining"})
# The measures a planner types (at a leaf) or spreads (at a group or a total).
EDITABLE = frozenset(OTB_LABELS)
TOTAL = "total"

# Levels from the top; the category dimension spans every level of the category tree.
LAYOUTS = {"location": ("cluster", "location", "category"),
           "category": ("category", "cluster", "location")}
LAYOUT_LABELS = {"location": "Locations first", "category": "Categories first"}
PREFIX = {"cluster": "c", "location": "l", "category": "k"}
KIND = {prefix: kind for kind, prefix in PREFIX.items()}
NO_CLUSTER, NO_CLUSTER_LABEL = "none", "(no cluster)"
PATH_SEPARATOR = " › "


@dataclass(frozen=True)
class PivotView:
    """What the planner asked to see: the layout, the measures, the order, the open groups."""

    layout: str = "location"
    measures: tuple = DEFAULT_MEASURES
    sort: str = "label"  # "label", "total" or a month as YYYY-MM
    descending: bool = False
    open: frozenset = frozenset()  # node keys
    level: int = 0  # every group above this depth is open too...
    closed: frozenset = frozenset()  # ...but these

    def opened(self, key: str, depth: int) -> bool:
        return key not in self.closed and (key in self.open or depth < self.level)

    def args(self, **changes) -> dict:
        """The query-string arguments of this view (with `changes`), defaults left out."""
        view = {**self.__dict__, **changes}
        out = {}
        if view["layout"] != "location":
            out["layout"] = view["layout"]
        if tuple(view["measures"]) != DEFAULT_MEASURES:
            out["measure"] = list(view["measures"])
        if view["sort"] != "label":
            out["sort"] = view["sort"]
        if view["descending"]:
            out["dir"] = "desc"
        if view["level"]:
            out["level"] = view["level"]
        if view["open"]:
            out["open"] = sorted(view["open"])
        if view["closed"]:
            out["closed"] = sorted(view["closed"])
        return out

    def pairs(self, *without: str) -> list[tuple[str, str]]:
        """The arguments as (name, value) pairs for hidden inputs, less those named."""
        return [(name, str(item)) for name, value in self.args().items() if name not in without
                for item in (value if isinstance(value, list) else [value])]

    def toggle(self, key: str | None) -> "PivotView":
        """This view with the group of `key` opened if it is closed, or closed if it is open
        (the same view when `key` is no node key)."""
        segments = parse_key(key) if key else None
        if not segments:
            return self
        args = self.toggled(key, len(segments) - 1)
        return replace(self, open=frozenset(args.get("open", ())),
                       closed=frozenset(args.get("closed", ())))

    def toggled(self, key: str, depth: int) -> dict:
        """The arguments of this view with the group of `key` opened if it is closed, or
        closed if it is open."""
        if self.opened(key, depth):
            return self.args(open=self.open - {key},
                             closed=self.closed | {key} if depth < self.level else self.closed)
        return self.args(open=self.open | {key}, closed=self.closed - {key})


def read_view(*, layout=None, measures=(), sort=None, direction=None, open_keys=(), level=None,
              closed_keys=(), months=()) -> PivotView:
    """The view from query-string values; anything unknown falls back to the default."""
    layout = layout if layout in LAYOUTS else "location"
    chosen = tuple(dict.fromkeys(m for m in measures if m in MEASURE_LABELS)) or DEFAULT_MEASURES
    month = as_month(sort) if sort not in (None, "label", "total") else None
    if sort not in ("label", "total"):
        sort = month.strftime("%Y-%m") if month in months else "label"
    depth = as_int(level) or 0
    return PivotView(layout=layout, measures=chosen, sort=sort, descending=direction == "desc",
                     open=frozenset(k for k in open_keys if parse_key(k) is not None),
                     level=min(max(depth, 0), 20),
                     closed=frozenset(k for k in closed_keys if parse_key(k) is not None))


def cell_key(measure: str, location_id: uuid.UUID, category_id: uuid.UUID, month: date) -> str:
    """An editable cell as the page names it: "measure|location|category|YYYY-MM"."""
    return f"{measure}|{location_id.hex}|{category_id.hex}|{month:%Y-%m}"


def narrow(ids: frozenset | None, within: frozenset | None) -> frozenset | None:
    """Ids kept by two narrowings (None: not narrowed)."""
    if ids is None:
        return within
    return ids if within is None else ids & within


def segment(kind: str, node_id: uuid.UUID | None) -> str:
    return f"{PREFIX[kind]}.{node_id.hex if node_id else NO_CLUSTER}"


def parse_key(key: str) -> list[tuple[str, uuid.UUID | None]] | None:
    """A node key's segments as (kind, id), or None when it is no key."""
    if not isinstance(key, str) or not key or len(key) > 2000:
        return None
    out = []
    for part in key.split("~"):
        prefix, _, value = part.partition(".")
        if prefix not in KIND:
            return None
        if prefix == "c" and value == NO_CLUSTER:
            out.append(("cluster", None))
            continue
        try:
            out.append((KIND[prefix], uuid.UUID(hex=value)))
        except ValueError:
            return None
    return out


@dataclass(frozen=True)
class CategoryInfo:
    code: str
    name: str
    parent_id: uuid.UUID | None
    is_leaf: bool


@dataclass(frozen=True)
class Hierarchy:
    """The names and codes rows show: clusters (id → name), locations (id → (code, name,
    cluster id)) and the category tree (id → CategoryInfo)."""

    clusters: dict
    locations: dict
    categories: dict

    def category_chain(self, category_id: uuid.UUID) -> list[uuid.UUID]:
        """The category and its ancestors, the top of the tree first."""
        chain, seen = [], set()
        current = category_id
        while current is not None and current not in seen and current in self.categories:
            seen.add(current)
            chain.append(current)
            current = self.categories[current].parent_id
        return list(reversed(chain)) or [category_id]

    def locations_in(self, cluster_id: uuid.UUID | None) -> set[uuid.UUID]:
        """The locations of a cluster (None: the locations without one)."""
        return {i for i, (_, _, cluster) in self.locations.items() if cluster == cluster_id}

    def category_path(self, category_id: uuid.UUID) -> str:
        return PATH_SEPARATOR.join(self.categories[c].name if c in self.categories else "?"
                                   for c in self.category_chain(category_id))

    def scope_ids(self, key: str) -> tuple[frozenset | None, frozenset | None]:
        """The locations and the categories (a category and all below it) a row key covers;
        None where the key does not narrow them (the grand total covers everything)."""
        locations = categories = None
        for kind, node_id in parse_key(key) or []:
            if kind == "cluster":
                locations = frozenset(self.locations_in(node_id))
            elif kind == "location":
                locations = frozenset({node_id})
            else:
                below = {c for c in self.categories if node_id in self.category_chain(c)}
                categories = frozenset(below | {node_id})
        return locations, categories

    def category_depth(self) -> int:
        """How many levels the category tree has."""
        return max((len(self.category_chain(c)) for c in self.categories), default=1)


@dataclass
class Node:
    """One row of the pivot: a cluster, a location or a category, under its parent."""

    key: str
    kind: str
    node_id: uuid.UUID | None
    depth: int
    label: str
    code: str
    title: str
    expandable: bool
    ids: dict  # the id of each level on the path: kind → id (the deepest category)
    figures: dict = field(default_factory=dict)  # month → [Decimal per FIGURES]
    children: dict = field(default_factory=dict)
    parent: "Node | None" = field(default=None, repr=False)

    @property
    def is_leaf(self) -> bool:
        """A location × leaf category row: where values are typed."""
        return not self.expandable

    def add(self, month: date, values) -> None:
        sums = self.figures.setdefault(month, [ZERO] * len(FIGURES))
        for i, value in enumerate(values):
            sums[i] += value


def _value(figures: dict, measure: str, month: date) -> Decimal:
    sums = figures.get(month)
    if sums is None:
        return ZERO
    if measure == "remaining":
        return remaining(budget(sums[FIGURES.index("otb")], sums[FIGURES.index("adjustments")]),
                         sums[FIGURES.index("committed")])
    return sums[FIGURES.index(measure)]


class Tree:
    """The hierarchy of a pivot, built level by level as its sums arrive: which levels each
    statement groups by, which groups it reads, the rows, their order and which show. What a
    row holds and how it sorts is the subclass's."""

    def __init__(self, view: PivotView, hierarchy: Hierarchy):
        self.view, self.hierarchy = view, hierarchy
        self.dims = LAYOUTS[view.layout]
        self.root = Node("", "root", None, -1, "Total", "", "", True, {})
        self.nodes: dict[str, Node] = {}

    # Building

    def stages(self) -> list[tuple]:
        """What each statement groups by: the first level, then each level below it."""
        return [self.dims[:n] for n in range(1, len(self.dims) + 1)]

    def wanted(self, stage: int) -> dict | None:
        """What stage > 0 reads: the location and category ids under the open groups shown
        at the level above (None: nothing there is open, so the stage is not read)."""
        if stage == 0:
            return {}
        parent_dim = self.dims[stage - 1]
        opened = [n for n in self.visible() if n.kind == parent_dim and self.is_open(n)
                  and (parent_dim != "category" or self._is_leaf_category(n.node_id))]
        if not opened:
            return None
        only = {}
        if any("cluster" in n.ids or "location" in n.ids for n in opened):
            only["location"] = frozenset().union(*(
                {n.ids["location"]} if "location" in n.ids
                else self.hierarchy.locations_in(n.ids["cluster"]) for n in opened))
        if any("category" in n.ids for n in opened):
            only["category"] = frozenset(n.ids["category"] for n in opened)
        return only

    def _parent(self, group_by: tuple, row) -> Node | None:
        """The row a stage's result row hangs under: the path of its values for every level
        but the last (None when that group was not read)."""
        parent = self.root
        for dim in group_by[:-1]:
            for seg in self._segments(dim, row._mapping[dim]):
                parent = parent.children.get(seg[0]) if parent is not None else None
        return parent

    def _path(self, parent: Node, dim: str, value) -> list[Node]:
        """The rows from under `parent` down to `value` of `dim` (every category level down
        to it), made where they are missing."""
        ids, out = dict(parent.ids), []
        for seg, kind, node_id in self._segments(dim, value):
            ids[kind] = node_id
            node = parent.children.get(seg)
            if node is None:
                node = self._node(parent, seg, kind, node_id, dict(ids))
            out.append(node)
            parent = node
        return out

    def _segments(self, dim: str, value) -> list[tuple[str, str, uuid.UUID | None]]:
        ids = self.hierarchy.category_chain(value) if dim == "category" else [value]
        return [(segment(dim, i), dim, i) for i in ids]

    def _is_leaf_category(self, category_id) -> bool:
        info = self.hierarchy.categories.get(category_id)
        return info is None or info.is_leaf

    def _node(self, parent: Node, seg: str, kind: str, node_id, ids: dict) -> Node:
        key = f"{parent.key}~{seg}" if parent.key else seg
        h = self.hierarchy
        if kind == "cluster":
            label = h.clusters.get(node_id, NO_CLUSTER_LABEL) if node_id else NO_CLUSTER_LABEL
            code, title = "", label
        elif kind == "location":
            code, label, _ = h.locations.get(node_id, ("?", "(unknown location)", None))
            title = f"{label} ({code})"
        else:
            info = h.categories.get(node_id)
            code = info.code if info else "?"
            label, title = h.category_path(node_id), code
        last_dim = self.dims[-1]
        expandable = not (kind == last_dim and (kind != "category"
                                                or self._is_leaf_category(node_id)))
        node = Node(key, kind, node_id, parent.depth + 1, label, code, title, expandable, ids,
                    parent=parent)
        parent.children[seg] = node
        self.nodes[key] = node
        return node

    # Reading

    def is_open(self, node: Node) -> bool:
        return node.expandable and (node is self.root or self.view.opened(node.key, node.depth))

    def sort_key(self, node: Node):
        return (node.node_id is None, node.label.casefold(), node.code)

    def children(self, node: Node) -> list[Node]:
        """A row's children in the order asked for (siblings only ever sort among themselves)."""
        return sorted(node.children.values(), key=self.sort_key, reverse=self.view.descending)

    def visible(self, node: Node | None = None) -> list[Node]:
        """The rows shown under `node` (the top by default), in order: the children of every
        open row follow it."""
        out = []

        def walk(parent: Node):
            for child in self.children(parent):
                out.append(child)
                if self.is_open(child):
                    walk(child)

        walk(node or self.root)
        return out

    def find(self, key: str | None) -> Node | None:
        """The row of `key`, if it is shown (all its ancestors are open)."""
        node = self.nodes.get(key or "")
        parent = node.parent if node else None
        while parent is not None and parent is not self.root:
            if not self.is_open(parent):
                return None
            parent = parent.parent
        return node

    def level_names(self) -> list[str]:
        """What each depth of the tree holds, for "Expand all to level N"."""
        names = []
        for dim in self.dims:
            if dim == "category":
                names += [f"Category level {n}" for n in
                          range(1, self.hierarchy.category_depth() + 1)]
            else:
                names.append({"cluster": "Clusters", "location": "Locations"}[dim])
        return names


class Pivot(Tree):
    """The tree of one season's OTB pivot: a row's figures are its sums per month."""

    def __init__(self, view: PivotView, hierarchy: Hierarchy, months: list[date],
                 through: date | None = None):
        super().__init__(view, hierarchy)
        self.months = list(months)
        # The months that can have actuals: up to the current month (all when not given).
        self.actual_months = [m for m in self.months if through is None or m <= through]
        # The version of each OTB row shown at a leaf, (location, category, month) → version:
        # an edit sends it back, so a row changed meanwhile is refused (no row: version 0).
        self.versions: dict = {}

    def add_sums(self, stage: int, rows) -> None:
        """Attach one stage's rows (a value per group-by level, month, then FIGURES): each sum
        goes to the rows of its own level; the levels above were summed by an earlier stage."""
        group_by = self.dims[:stage + 1]
        for row in rows:
            parent = self._parent(group_by, row)
            if parent is None:
                continue  # its parent was not read: nothing to hang it on
            month, values = row._mapping["month"], [row._mapping[name] for name in FIGURES]
            if stage == 0:
                self.root.add(month, values)
            for node in self._path(parent, group_by[-1], row._mapping[group_by[-1]]):
                node.add(month, values)

    @staticmethod
    def measure_label(measure: str) -> str:
        return MEASURE_LABELS[measure]

    @staticmethod
    def flagged(measure: str, value: Decimal) -> bool:
        """A negative OTB or remaining: the cell is over-bought."""
        return measure in FLAGGED and value < 0

    @property
    def stock_measures(self) -> list[str]:
        """The stock positions shown, whose season total is no sum."""
        return [m for m in self.view.measures if m in (LAST_MONTH, FIRST_MONTH, ACTUAL_STOCK)]

    def value(self, node: Node, measure: str, month: date) -> Decimal:
        return _value(node.figures, measure, month)

    def total_months(self, measure: str) -> list[date]:
        """The months a season total of `measure` covers: every month shown, but for a stock
        position only one, the last month shown for closing stock, the first for opening
        stock, and for actual closing stock the last month shown up to the current month."""
        if measure == LAST_MONTH:
            return self.months[-1:]
        if measure == FIRST_MONTH:
            return self.months[:1]
        if measure == ACTUAL_STOCK:
            return self.actual_months[-1:]
        return self.months

    def total(self, node: Node, measure: str) -> Decimal:
        """The season total of a row: the sum of the months total_months names."""
        return sum((self.value(node, measure, m) for m in self.total_months(measure)), ZERO)

    def sort_key(self, node: Node):
        measure = self.view.measures[0]
        label = super().sort_key(node)
        if self.view.sort == "label":
            return label
        figure = (self.total(node, measure) if self.view.sort == "total"
                  else self.value(node, measure, as_month(self.view.sort)))
        return (figure, label)

    def leaf_pairs(self) -> set[tuple]:
        """(location, category) of every leaf row shown."""
        return {(n.ids["location"], n.ids["category"]) for n in self.visible() if n.is_leaf}

    def cell(self, node: Node, measure: str, month: date) -> str | None:
        """The key of an editable cell (an input at a leaf row), else None."""
        if not node.is_leaf or measure not in EDITABLE:
            return None
        return cell_key(measure, node.ids["location"], node.ids["category"], month)

    def version(self, node: Node, month: date) -> int:
        return self.versions.get((node.ids["location"], node.ids["category"], month), 0)

    def spread_target(self, node: Node, measure: str, month: date | None) -> str | None:
        """What a group or total cell of an input names when a total is typed into it:
        "row key|measure|YYYY-MM or total" (the grand total's row key is empty)."""
        if node.is_leaf and month is not None or measure not in EDITABLE:
            return None
        return f"{node.key}|{measure}|{month.strftime('%Y-%m') if month else TOTAL}"

    def spread_targets(self) -> list[tuple[str, str]]:
        """Every group or total cell of an input shown: (target, what it is in words)."""
        return [(target, self.accessible_name(node, measure, month))
                for node in [self.root] + [n for n in self.visible() if not n.is_leaf]
                for measure in self.view.measures for month in [None] + self.months
                for target in [self.spread_target(node, measure, month)] if target]

    def spread_scope(self, target: str, filters) -> tuple:
        """What a total typed at a group or total cell ("row key|measure|YYYY-MM or total")
        spreads over, within the grid's `filters` (cluster, location, category ids):
        (measure, location ids or None, category ids or None, months, what it is in words).
        A season total covers total_months (a stock position: its one month)."""
        key, _, rest = (target or "").partition("|")
        measure, _, month_text = rest.partition("|")
        node = self.find(key) if key else self.root
        if node is None or measure not in EDITABLE:
            raise ValidationFailed({"target": "Choose a group row the grid shows (open it "
                                    "there first) or the total, and one of the five inputs"})
        locations, categories = self.hierarchy.scope_ids(key)
        if filters.cluster_id:
            locations = narrow(locations,
                               frozenset(self.hierarchy.locations_in(filters.cluster_id)))
        if filters.location_id:
            locations = narrow(locations, frozenset({filters.location_id}))
        categories = narrow(categories, filters.category_ids)
        if month_text == TOTAL:
            months, when = self.total_months(measure), "season total"
        else:
            month = as_month(month_text)
            if month not in self.months:
                raise ValidationFailed({"target": "Choose a month the grid shows"})
            months, when = [month], f"{month:%b %Y}"
        where = "all rows" if node is self.root else node.label
        return measure, locations, categories, tuple(months), f"{where}, {when}"

    def paste_cells(self, lines: list, block: str, line_index, month) -> list[tuple[str, str]]:
        """The cells a tab-separated block fills from a line of the grid ((leaf row, input)
        pairs in the grid's order) and a month: (cell key, text) to the right and below."""
        if not block.strip():
            raise ValidationFailed({"block": "Paste a block of cells (copied from a "
                                    "spreadsheet)"})
        rows = [r.split("\t") for r in block.replace("\r\n", "\n").rstrip("\n").split("\n")]
        start = as_int(line_index)
        if start is None or not 0 <= start < len(lines):
            raise ValidationFailed({"line": "Choose the line the block starts at"})
        if month not in self.months:
            raise ValidationFailed({"month": "Choose the month the block starts at"})
        first = self.months.index(month)
        width = max(len(r) for r in rows)
        if start + len(rows) > len(lines) or first + width > len(self.months):
            raise ValidationFailed({"block": f"The block is {len(rows)} × {width} cells; from "
                                    "there it runs past the grid's last line or month"})
        return [(self.cell(node, measure, self.months[first + c]), text.strip())
                for r, values in enumerate(rows) for node, measure in [lines[start + r]]
                for c, text in enumerate(values)]

    def row_name(self, node: Node) -> str:
        """A leaf row in words: "Alpha (LOC1) · Womens › Tops › Tees (W-T-1)"."""
        code, name, _ = self.hierarchy.locations.get(node.ids["location"], ("?", "?", None))
        category = node.ids["category"]
        info = self.hierarchy.categories.get(category)
        return (f"{name} ({code}) · {self.hierarchy.category_path(category)} "
                f"({info.code if info else '?'})")

    def line_name(self, node: Node, measure: str) -> str:
        """A leaf row's line of one measure, for a picker: "Planned sales · Alpha (LOC1) ·
        Womens › Tops › Tees (W-T-1)"."""
        return f"{MEASURE_LABELS[measure]} · {self.row_name(node)}"

    def accessible_name(self, node: Node, measure: str, month: date | None) -> str:
        """Measure, location code (or the cluster), category code, month: what a screen reader
        says for a figure."""
        h, parts = self.hierarchy, [MEASURE_LABELS[measure]]
        if node is self.root:
            parts.append("all rows")
        elif "location" in node.ids:
            parts.append(h.locations.get(node.ids["location"], ("?",))[0])
        elif "cluster" in node.ids:
            parts.append(h.clusters.get(node.ids["cluster"], NO_CLUSTER_LABEL)
                         if node.ids["cluster"] else NO_CLUSTER_LABEL)
        if "category" in node.ids:
            info = h.categories.get(node.ids["category"])
            parts.append(info.code if info else "?")
        parts.append(month.strftime("%b %Y") if month else "season total")
        return ", ".join(parts)


# The plans by group (issue 14, item 1): the season plan rows in the same hierarchy. A group's
# figures are read whole from the database per group, never added up here: its margin and turns
# are averages weighted by planned sales, which no sum of the children's averages gives.

PLAN_COLUMNS = {"rows": "Rows", "planned_sales": "Planned sales (retail)",
                "margin": "Planned margin", "turns": "Inventory turns", "approved": "Approved"}


def read_plan_view(*, layout=None, sort=None, direction=None, open_keys=(), level=None,
                   closed_keys=()) -> PivotView:
    """The plans-by-group view from query-string values: the pivot's, sorted by the row label
    or one of PLAN_COLUMNS; anything unknown falls back to the default."""
    view = read_view(layout=layout, direction=direction, open_keys=open_keys, level=level,
                     closed_keys=closed_keys)
    return replace(view, sort=sort if sort in PLAN_COLUMNS else "label")


class PlanTree(Tree):
    """The tree of one season's plan rows: a row's figures are PLAN_COLUMNS, read per group."""

    def set_total(self, figures) -> None:
        """The grand total row's figures (an object or row with PLAN_COLUMNS' names)."""
        self.root.figures = {name: getattr(figures, name) for name in PLAN_COLUMNS}

    def add_groups(self, stage: int, rows) -> None:
        """Attach one stage's rows (a value per group-by level, PLAN_COLUMNS, then the id of a
        plan row, kept for a leaf: a location × leaf category is one plan row). A row of a
        category above the leaf carries that category's own figures; the rows between it and
        its parent are made as they are passed and filled by their own result rows."""
        group_by = self.dims[:stage + 1]
        for row in rows:
            parent = self._parent(group_by, row)
            if parent is None:
                continue  # its parent was not read: nothing to hang it on
            node = self._path(parent, group_by[-1], row._mapping[group_by[-1]])[-1]
            node.figures = {name: row._mapping[name] for name in PLAN_COLUMNS}
            if node.is_leaf:
                node.figures["plan_id"] = uuid.UUID(str(row._mapping["plan_id"]))

    def value(self, node: Node, column: str):
        """A row's figure (None for a weighted average over no weight: shown blank)."""
        return node.figures.get(column)

    def sort_key(self, node: Node):
        """By the label, or by a column (blank lowest), then the label."""
        label = super().sort_key(node)
        if self.view.sort == "label":
            return label
        value = self.value(node, self.view.sort)
        return (value is not None, value if value is not None else ZERO, label)


# Keeping the pivot warm after a grid step (issue 14, "Speed"): the sums a stage read before
# the step, with the step's changes added, are the sums it would read after it. A step of more
# rows than this (a spread) is read again rather than added up in Python.
CARRY_ROWS = 5000

@dataclass(frozen=True)
class RowChange:
    """An OTB row a grid step changed: its cell, each changed input (before, after; before 0
    for a new row) and the row's version after the step."""

    location_id: uuid.UUID
    category_id: uuid.UUID
    month: date
    fields: dict
    version: int


class _Sums:
    """A stage's row as pivot.add_sums reads it (`_mapping`)."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict):
        self._mapping = mapping


OTB_SIGNS = {"planned_sales": 1, "planned_markdowns": 1, "planned_closing_stock": 1,
             "opening_stock": -1, "on_order": -1}


def patched_sums(rows, group_by: tuple, f, only: tuple, changes: list[RowChange],
                 hierarchy: Hierarchy):
    """A stage's rows (sums per `group_by` and month, read with filters `f` and narrowing
    `only`) with `changes` added, or None when a change falls in a group the rows do not
    hold (the stage must be read again)."""
    keep = dict(only)
    index = {tuple(r._mapping[d] for d in group_by) + (r._mapping["month"],): dict(r._mapping)
             for r in rows}
    for change in changes:
        cluster = hierarchy.locations.get(change.location_id, (None, None, None))[2]
        if ((f.location_id and change.location_id != f.location_id)
                or (f.cluster_id and cluster != f.cluster_id)
                or (f.category_ids is not None and change.category_id not in f.category_ids)
                or (f.month and change.month != f.month)
                or ("location" in keep and change.location_id not in keep["location"])
                or ("category" in keep and change.category_id not in keep["category"])):
            continue
        dims = {"cluster": cluster, "location": change.location_id,
                "category": change.category_id}
        sums = index.get(tuple(dims[d] for d in group_by) + (change.month,))
        if sums is None:
            return None
        for name, (before, after) in change.fields.items():
            delta = after - before
            sums[name] += delta
            sums["otb"] += OTB_SIGNS[name] * delta
    return [_Sums(mapping) for mapping in index.values()]


def patched_versions(versions: dict, pairs: frozenset, months: tuple,
                     changes: list[RowChange]) -> dict:
    """The leaf rows' versions after `changes`."""
    out = dict(versions)
    for change in changes:
        if (change.location_id, change.category_id) in pairs and change.month in months:
            out[(change.location_id, change.category_id, change.month)] = change.version
    return out
