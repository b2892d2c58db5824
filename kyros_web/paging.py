"""Server-side paging for any select (rows of several columns, not just one model)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session


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
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1


def paginate_rows(session: Session, stmt, page: int, per_page: int,
                  total: int | None = None) -> Page:
    """Two statements whatever the size: the count (unless the caller knows it), and one
    page of rows."""
    if total is None:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = min(page, max(1, math.ceil(total / per_page)))
    items = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=items, page=page, per_page=per_page, total=total)
