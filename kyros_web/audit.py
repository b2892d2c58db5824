"""The append-only audit trail (SPEC §9): the model and the one writer services call."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Iterable

from flask import g, has_app_context
from sqlalchemy import JSON, DateTime, Index, String, Uuid, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .extensions import db
from .modelbase import IdMixin, fk, utcnow
from .versions import SEASON_DATA


class AuditEvent(IdMixin, db.Model):
    __tablename__ = "audit_events"
    __version_scope__ = SEASON_DATA
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)

    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                         default=utcnow, index=True)
    user_id: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)
    # No foreign key: the trail outlives what it describes (a deleted season keeps its history).
    season_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    entity: Mapped[str] = mapped_column(String(50), nullable=False)
    entity_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(50), nullable=False, index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    # How the change came: None from the pages, the CLI or a file; "api token NAME" through
    # the JSON API (issue 18).
    via: Mapped[str | None] = mapped_column(String(120))

    user = relationship("User")


def plain(value: Any) -> Any:
    """A value as JSON can hold it: decimals and dates as text, enums as their value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: Iterable[str]) -> dict:
    """The named attributes of a model object, as plain values."""
    return {f: plain(getattr(obj, f)) for f in fields}


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields that differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(session: Session, *, user, action: str, entity: str, entity_id=None,
           season_id=None, before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Append one audit event in the caller's transaction; it commits with the write."""
    event = AuditEvent(
        user_id=getattr(user, "id", None),
        via=acting_via(),
        season_id=season_id,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        action=action,
        before=plain(before) if before else None,
        after=plain(after) if after else None,
    )
    session.add(event)
    return event


def acting_via() -> str | None:
    """How the current request acts, when not through the pages: the API sets
    `g.audit_via` to its token's name."""
    return g.get("audit_via") if has_app_context() else None


def _latest(session: Session, stmt) -> tuple[str, datetime] | None:
    """(email, time) of the latest event `stmt` selects, if any."""
    event = session.scalar(stmt.order_by(AuditEvent.at.desc()).limit(1))
    if event is None:
        return None
    return (event.user.email if event.user is not None else "an unknown user"), event.at


def last_actor(session: Session, entity: str, entity_id) -> str | None:
    """The email of whoever made the latest recorded change to one entity, if known."""
    found = _latest(session, select(AuditEvent).where(AuditEvent.entity == entity,
                                                      AuditEvent.entity_id == str(entity_id)))
    return found[0] if found else None


def last_change_since(session: Session, season_id, since: datetime,
                      exclude_entity_id: str | None = None) -> tuple[str, datetime] | None:
    """(email, time) of the latest recorded change in a season after `since`, if any."""
    stmt = select(AuditEvent).where(AuditEvent.season_id == season_id, AuditEvent.at > since)
    if exclude_entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id.is_distinct_from(exclude_entity_id))
    return _latest(session, stmt)
