"""Optimistic concurrency for versioned rows (plans, OTB rows, range intent, POs): the row is
locked and read afresh inside the writing transaction and the version the editor saw is
compared there, so the check and the write are one step."""
from __future__ import annotations

from typing import Callable

from sqlalchemy.orm import Session

from .errors import StaleVersion, ValidationFailed

RELOAD = "reload the page and try again"


def lock_row(session: Session, stmt):
    """The row `stmt` selects, locked until the transaction ends and read from the database.

    `populate_existing` matters: the request may have loaded the row before the lock was
    taken (to render it, to find its keys), and the identity map would hand back those stale
    values, letting a save based on an old version through.
    """
    return session.scalar(stmt.with_for_update().execution_options(populate_existing=True))


def version_number(raw) -> int:
    """The version a form sends back with an edit: a whole number, else ValidationFailed.

    An edit without the version it was based on could overwrite a change it never saw, so it
    is refused rather than saved.
    """
    if isinstance(raw, bool):
        raw = None
    if isinstance(raw, int):
        value = raw
    else:
        text = (raw or "").strip() if isinstance(raw, str) else ""
        if not text:
            raise ValidationFailed({"version": "The form did not say which version of the row it "
                                               f"edits; {RELOAD}"})
        if not text.isascii() or not text.isdigit() or len(text) > 9:
            raise ValidationFailed({"version": "The version sent with the form is not a whole "
                                               f"number; {RELOAD}"})
        value = int(text)
    if value < 0:
        raise ValidationFailed({"version": "The version sent with the form is not a whole "
                                           f"number; {RELOAD}"})
    return value


def require_version(row, expected, *, what: str,
                    who: Callable[[], str | None] = lambda: None) -> None:
    """Refuse an edit based on another version of the row than the stored one.

    Call with the row from `lock_row`; raises ValidationFailed when `expected` is not a
    version number and StaleVersion (409) naming who changed the row (asked only then) and
    when.
    """
    expected = version_number(expected)
    if row.version != expected:
        when = row.updated_at
        raise StaleVersion(f"{what} was changed by {who() or 'another user'} at "
                           f"{when:%Y-%m-%d %H:%M} UTC since you loaded it (your version "
                           f"{expected}, now {row.version}); reload to see the current values")
