"""One service call = one transaction: commit on success, roll back on any error."""
from __future__ import annotations

from functools import wraps


def transactional(fn):
    """Wrap a service taking the session first; nothing is half-written on failure."""

    @wraps(fn)
    def wrapper(session, *args, **kwargs):
        try:
            result = fn(session, *args, **kwargs)
            session.commit()
            return result
        except BaseException:
            session.rollback()
            raise

    return wrapper
