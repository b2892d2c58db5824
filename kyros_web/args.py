"""Lenient readers for query-string and form values: a bad value reads as None (no filter)."""
from __future__ import annotations

import uuid
from datetime import date


def as_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def as_month(value: str | None) -> date | None:
    """'2026-03' → 2026-03-01."""
    try:
        return date.fromisoformat(value + "-01") if value else None
    except ValueError:
        return None


def as_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
