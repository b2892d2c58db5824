"""The category tree as the analytics pages roll it up: each category's depth, and the code
of its ancestor at a level."""
from __future__ import annotations

from sqlalchemy.orm import Session

from . import sql


def category_levels(session: Session) -> tuple[dict, dict, int]:
    """(category id → row with code, name, parent id; category id → depth; max depth)."""
    info = {r.id: r for r in sql.categories(session)}
    depth: dict = {}

    def depth_of(cid, seen=()):
        if cid in depth:
            return depth[cid]
        parent = info[cid].parent_id
        depth[cid] = 1 if parent is None or parent in seen else depth_of(parent, seen + (cid,)) + 1
        return depth[cid]

    for cid in info:
        depth_of(cid)
    return info, depth, max(depth.values(), default=1)


def ancestor_map(info: dict, depth: dict, level: int) -> dict:
    """Category id → the code of its ancestor at `level` (or its own, above that level)."""
    mapping = {}
    for cid in info:
        walk = cid
        while depth[walk] > level:
            walk = info[walk].parent_id
        mapping[cid] = info[walk].code
    return mapping
