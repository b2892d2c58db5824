"""Read-only SQL of master data for the pages and the JSON API: the locations list with its
filters, clusters, the flat category list with each category's level, and lookups by id or
code (SPEC §2)."""
from __future__ import annotations

import uuid

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..errors import NotFound
from .models import Category, Cluster, Location, LocationType
from .tree import category_ancestors, in_use, is_leaf


def locations(*, q: str | None = None, cluster_id: uuid.UUID | None = None,
              type: LocationType | str | None = None, active: bool | None = None) -> Select:
    """Locations by name then code, whose name or code contains `q`, of one cluster, one type
    and one active flag (None: any)."""
    stmt = select(Location).order_by(func.lower(Location.name), Location.location_code)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Location.name).like(like),
                              func.lower(Location.location_code).like(like)))
    if cluster_id is not None:
        stmt = stmt.where(Location.cluster_id == cluster_id)
    if type:
        stmt = stmt.where(Location.type == LocationType(type))
    if active is not None:
        stmt = stmt.where(Location.is_active.is_(active))
    return stmt


def clusters(*, cluster_id: uuid.UUID | None = None) -> Select:
    """Rows (Cluster, location_count) by name, regardless of case (one, given its id)."""
    count = (select(func.count(Location.id)).where(Location.cluster_id == Cluster.id)
             .correlate(Cluster).scalar_subquery())
    stmt = select(Cluster, count.label("location_count")).order_by(func.lower(Cluster.name))
    if cluster_id is not None:
        stmt = stmt.where(Cluster.id == cluster_id)
    return stmt


def _by_id_or(session: Session, model, key: str, column, label: str):
    """The row whose id is `key`, else whose `column` is `key`; NotFound otherwise. An id is
    tried first, but a code that merely looks like an id still finds its row."""
    found = None
    try:
        found = session.get(model, uuid.UUID(str(key)))
    except ValueError:
        pass
    if found is None:
        found = session.scalar(select(model).where(column))
    if found is None:
        raise NotFound(f"{label} {key} not found")
    return found


def location_by_key(session: Session, key: str) -> Location:
    """The location by id or location_code (any case)."""
    return _by_id_or(session, Location, key, Location.location_code == str(key).upper(),
                     "Location")


def cluster_by_key(session: Session, key: str) -> Cluster:
    """The cluster by id or name (any case)."""
    return _by_id_or(session, Cluster, key,
                     func.lower(Cluster.name) == str(key).strip().lower(), "Cluster")


def category_by_key(session: Session, key: str) -> Category:
    """The category by id or code (any case)."""
    return _by_id_or(session, Category, key, Category.code == str(key).upper(),
                     "Category")


def category_by_code(session: Session, code: str) -> Category | None:
    return session.scalar(select(Category).where(Category.code == code.strip().upper()))


def categories(*, category_id: uuid.UUID | None = None, parent_id: uuid.UUID | None = None,
               parent_code: str | None = None, level: int | None = None,
               leaf: bool | None = None, q: str | None = None) -> Select:
    """Rows (Category, parent_code, level, is_leaf, in_use) by code: `level` 1 for a top-level
    category, as the analytics count levels; filtered by id, parent (id or code), level, leaf
    flag and part of the code or name."""
    up = category_ancestors()
    levels = (select(up.c.category_id, func.count().label("level"))
              .group_by(up.c.category_id).subquery("category_levels"))
    parent = aliased(Category, name="parent")
    stmt = (select(Category, parent.code.label("parent_code"), levels.c.level,
                   is_leaf().label("is_leaf"), in_use().label("in_use"))
            .join(levels, levels.c.category_id == Category.id)
            .outerjoin(parent, parent.id == Category.parent_id)
            .order_by(Category.code))
    if category_id is not None:
        stmt = stmt.where(Category.id == category_id)
    if parent_id is not None:
        stmt = stmt.where(Category.parent_id == parent_id)
    if parent_code:
        stmt = stmt.where(parent.code == parent_code.strip().upper())
    if level is not None:
        stmt = stmt.where(levels.c.level == level)
    if leaf is not None:
        stmt = stmt.where(is_leaf() if leaf else ~is_leaf())
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Category.code).like(like),
                              func.lower(Category.name).like(like)))
    return stmt
