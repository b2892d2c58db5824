"""The category tree built from one query, for the tree page and parent pickers."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from ..planning.models import OTBPlan, RangeIntent, SeasonPlan
from ..purchasing.models import PurchaseOrder
from .models import Category


@dataclass
class Node:
    category: Category
    in_use: bool
    depth: int
    children: list["Node"] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children


def category_tree(session: Session) -> list[Node]:
    """Root nodes, children sorted by code; `in_use` marks categories season data refers to."""
    used = set(session.scalars(union(*(select(m.category_id)
                                       for m in (SeasonPlan, OTBPlan, RangeIntent, PurchaseOrder)))))
    categories = session.scalars(select(Category).order_by(Category.code)).all()
    nodes = {c.id: Node(c, c.id in used, 0) for c in categories}
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

    add(category_tree(session))
    return choices
