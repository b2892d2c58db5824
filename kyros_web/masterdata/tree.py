"""The category tree built from one query, for the tree page and parent pickers."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from .models import Category
from .references import referenced


@dataclass
class Node:
    category: Category
    in_use: bool | None
    depth: int
    children: list["Node"] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children


def in_use():
    """SQL truth, per category row: season data (plans, OTB, range intent, POs) refers to it."""
    return referenced(Category.__table__)


def is_leaf():
    """SQL truth, per category row: it has no sub-categories, so season rows may use it
    (SPEC §2). The one way every screen, picker, upload and template finds leaves."""
    child = Category.__table__.alias("child")
    return ~exists().where(child.c.parent_id == Category.id)


def category_ancestors():
    """SQL rows (`category_id`, `ancestor_id`): every category paired with itself and with
    each category above it, so rows of a leaf can be grouped at any level of the tree."""
    up = select(Category.id.label("category_id"), Category.id.label("ancestor_id")
                ).cte("category_up", recursive=True)
    parent = aliased(Category)
    return up.union_all(select(up.c.category_id, parent.parent_id)
                        .join(parent, parent.id == up.c.ancestor_id)
                        .where(parent.parent_id.is_not(None)))


def leaf_categories(session: Session) -> list:
    """The leaf categories (`id`, `code`, `name`) by code: what season rows and POs may use."""
    return session.execute(select(Category.id, Category.code, Category.name)
                           .where(is_leaf()).order_by(Category.code)).all()


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
