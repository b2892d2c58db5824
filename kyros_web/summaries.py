"""Where writes tell the summaries of a season's figures what they touched, and where a
reader asks them to be up to date (issue 19, item 4). The summaries themselves are the
analytics' (analytics/summaries.py), which registers here when imported; infrastructure that
writes rows in bulk (bulk.py) and the reads below analytics call these two functions without
knowing them."""
from __future__ import annotations

from typing import Callable

_hooks: dict[str, Callable] = {}


def register(*, note_rows: Callable, settle: Callable) -> None:
    _hooks.update(note_rows=note_rows, settle=settle)


def note_rows(session, model, records: list[dict], *, season_id=None,
              updating: bool = False) -> None:
    """A bulk write of `records` into `model` (bulk.py), in season `season_id` when the writer
    knows it; an UPDATE is noted before it runs (`updating`)."""
    if "note_rows" in _hooks:
        _hooks["note_rows"](session, model, records, season_id=season_id, updating=updating)


def settle(session) -> None:
    """Bring the summaries up to date with what this transaction wrote so far."""
    if "settle" in _hooks:
        _hooks["settle"](session)
