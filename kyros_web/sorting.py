"""Sorting a list by a column the user picks: a whitelist of sort keys, each turned into an
ORDER BY that ends on a unique tie-breaker so paging under any sort is stable."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sort:
    """A list's order as the query string asks for it (`sort`, `dir`)."""

    key: str
    descending: bool


class SortKeys:
    """The keys a list may be sorted by, each naming the columns it orders on.

    A key's columns follow the chosen direction; the tie-breaker (unique, always ascending)
    comes last, so equal values keep one order from page to page. A key whose columns come
    from a subquery built per statement is declared with None and its columns given to
    `order_by`.
    """

    def __init__(self, columns: dict[str, tuple], *, default: str, tiebreak: tuple,
                 default_descending: bool = False):
        self.columns, self.tiebreak = columns, tiebreak
        self.default = Sort(default, default_descending)

    def read(self, args) -> Sort:
        """The sort in `args` (a query string); no or an unknown key is the default sort."""
        key = args.get("sort") or ""
        if key not in self.columns:
            return self.default
        return Sort(key, args.get("dir") == "desc")

    def query_args(self, sort: Sort) -> dict:
        """`sort` and `dir` to repeat in links: nothing for the default sort."""
        if sort == self.default:
            return {}
        return {"sort": sort.key, **({"dir": "desc"} if sort.descending else {})}

    def order_by(self, sort: Sort, **built: tuple) -> list:
        """ORDER BY clauses for `sort` (the default key when its key is unknown)."""
        key = sort.key if sort.key in self.columns else self.default.key
        columns = built.get(key) or self.columns[key]
        order = [c.desc() if sort.descending else c.asc() for c in columns]
        return order + [t.asc() for t in self.tiebreak if not any(t is c for c in columns)]
