"""Server-side paging for any select, and the one place a requested page number is clamped."""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

# Far beyond any list here, and small enough that (page - 1) * page size stays a valid
# OFFSET on every database (a 20-digit page number overflows it: a 500 on PostgreSQL).
MAX_PAGE = 1_000_000


@dataclass
class Page:
    """The same face as Flask-SQLAlchemy's Pagination, which the pager macro reads."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def page_number(raw) -> int:
    """The page a query string asks for, between 1 and MAX_PAGE; unreadable text is page 1.

    Callers clamp it again to the last page once they know the total.
    """
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(1, number), MAX_PAGE)


def _last_page(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def paginate_rows(session: Session, stmt, page: int, per_page: int,
                  total: int | None = None) -> Page:
    """Two statements whatever the size: the count (unless the caller knows it), and one
    page of rows. A page past the end shows the last page."""
    if total is None:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = min(page_number(page), _last_page(total, per_page))
    items = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=items, page=page, per_page=per_page, total=total)


def paginate_objects(session: Session, stmt, page: int, per_page: int) -> Page:
    """Like paginate_rows for a select of one model: the items are its objects (eager loads
    run for the page only). A page past the end shows the last page."""
    counted = stmt.options(lazyload("*")).order_by(None).subquery()
    total = session.scalar(select(func.count()).select_from(counted))
    page = min(page_number(page), _last_page(total, per_page))
    items = list(session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
                 .unique().scalars())
    return Page(items=items, page=page, per_page=per_page, total=total)


def page_of(session: Session, stmt, id_column, row_id, order: list, per_page: int) -> int | None:
    """The page of `stmt` (a filtered select, rows ordered by `order`) that holds the row whose
    `id_column` is `row_id`, or None when the filters leave it out: one statement."""
    ranked = (stmt.with_only_columns(id_column.label("row_id"),
                                     func.row_number().over(order_by=order).label("position"))
              .order_by(None).subquery())
    position = session.scalar(select(ranked.c.position).where(ranked.c.row_id == row_id))
    return None if position is None else (position - 1) // per_page + 1
