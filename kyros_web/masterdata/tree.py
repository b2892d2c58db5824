"""The category tree built from one query, for the tree page and parent pickers."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..planning.models import OTBPlan, RangeIntent, SeasonPlan
from ..purchasing.models import PurchaseOrder
from .models import Category


@dataclass
class Node:
    category: Category
    in_use: bool | None
    depth: int
    children: list["Node"] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children


def _has_rows(model):
    """Whether `model` has rows of the category: one probe of its index on category_id,
    however many rows the table holds.

    Asked as "is the first category_id at or after this one this one", not as EXISTS(... =
    id): PostgreSQL expects every category to have many rows and, when the visibility map is
    not set (after a bulk load, before a vacuum), plans EXISTS as a sequential scan that
    reads the whole table for each unused category. Reading the index in order is never
    planned that way.
    """
    first = (select(model.category_id).where(model.category_id >= Category.id)
             .order_by(model.category_id).limit(1).scalar_subquery())
    return func.coalesce(first == Category.id, False)


def in_use():
    """SQL truth, per category row: season data (plans, OTB, range intent, POs) refers to it."""
    return or_(*(_has_rows(m) for m in (SeasonPlan, OTBPlan, RangeIntent, PurchaseOrder)))


def category_tree(session: Session, with_usage: bool = True) -> list[Node]:
    """Root nodes, children sorted by code; `in_use` marks categories season data refers to
    (None, not looked up, when `with_usage` is off: pickers do not show it)."""
    if with_usage:
        rows = session.execute(select(Category, in_use()).order_by(Category.code)).all()
    else:
        rows = [(c, None) for c in session.scalars(select(Category).order_by(Category.code))]
    nodes = {c.id: Node(c, used, 0) for c, used in rows}
    categories = [c for c, _ in rows]
    roots = []
    for c in categories:
        node = nodes[c.id]
        if c.parent_id in nodes:
            nodes[c.parent_id].children.append(node)
        else:
            roots.append(node)

    def set_depth(node: Node, depth: int):
        node.depth = depth
        for child in node.children:
            set_depth(child, depth + 1)

    for root in roots:
        set_depth(root, 0)
    return roots


def walk(nodes: list[Node]):
    for node in nodes:
        yield node
        yield from walk(node.children)


def category_choices(session: Session, exclude: uuid.UUID | None = None) -> list[tuple[str, str]]:
    """(id, indented label) for a parent picker; `exclude` drops a category and its subtree."""
    choices = [("", "(top level)")]

    def add(nodes: list[Node]):
        for node in nodes:
            if node.category.id == exclude:
                continue
            label = "\u2003" * node.depth + f"{node.category.code} · {node.category.name}"
            choices.append((str(node.category.id), label))
            add(node.children)

    add(category_tree(session, with_usage=False))
    return choices
