"""Read-only SQL of the season pages: the season list, its locations and the candidates to
add, its transitions and audit history, and how many rows it holds (SPEC §3, §9)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..audit import AuditEvent
from ..auth.models import User
from ..masterdata.models import Cluster, Location
from ..paging import Page, paginate_objects
from ..planning.models import OTBPlan, RangeIntent, SeasonPlan
from ..purchasing.models import GRNRecord, PurchaseOrder
from .models import Season, SeasonLocation, SeasonTransition
from .workflow import SeasonStatus

# How many matching locations the "add locations" search offers at once.
CANDIDATE_LIMIT = 50


def _contains(text: str):
    return f"%{text.lower()}%"


def season_page(session: Session, *, status: SeasonStatus | None, q: str, page: int,
                per_page: int) -> Page:
    """Seasons, newest first, of one status (None: all) whose code or name contains `q`."""
    stmt = select(Season).order_by(Season.start_date.desc(), Season.season_code)
    if status is not None:
        stmt = stmt.where(Season.status == status)
    if q:
        like = _contains(q)
        stmt = stmt.where(or_(func.lower(Season.season_code).like(like),
                              func.lower(Season.name).like(like)))
    return paginate_objects(session, stmt, page, per_page)


def transitions(session: Session, season_id: uuid.UUID) -> list[SeasonTransition]:
    """The season's status changes, oldest first, with who made them."""
    return session.scalars(
        select(SeasonTransition).where(SeasonTransition.season_id == season_id)
        .options(selectinload(SeasonTransition.user))
        .order_by(SeasonTransition.created_at)).all()


def assigned_locations(session: Session, season_id: uuid.UUID, page: int,
                       per_page: int) -> Page:
    """The season's locations by name."""
    stmt = (select(Location).join(SeasonLocation, SeasonLocation.location_id == Location.id)
            .where(SeasonLocation.season_id == season_id)
            .order_by(func.lower(Location.name)))
    return paginate_objects(session, stmt, page, per_page)


def location_candidates(session: Session, season_id: uuid.UUID, q: str) -> list[Location]:
    """Active locations not yet in the season whose name or code contains `q`, by name."""
    like = _contains(q)
    taken = select(SeasonLocation.location_id).where(SeasonLocation.season_id == season_id)
    return session.scalars(
        select(Location).where(Location.is_active.is_(True), Location.id.not_in(taken),
                               or_(func.lower(Location.name).like(like),
                                   func.lower(Location.location_code).like(like)))
        .order_by(func.lower(Location.name)).limit(CANDIDATE_LIMIT)).all()


def clusters(session: Session) -> list[Cluster]:
    """Every cluster by name, for "add all of a cluster"."""
    return session.scalars(select(Cluster).order_by(func.lower(Cluster.name))).all()


@dataclass(frozen=True)
class HistoryChoices:
    """What the history filters offer: the entities and the users the season's trail names."""

    entities: list[str]
    users: list  # rows of (id, email)

    def user_ids(self) -> set[str]:
        return {str(u.id) for u in self.users}


def history_choices(session: Session, season_id: uuid.UUID) -> HistoryChoices:
    """The entity names and users that occur in the season's audit trail, sorted."""
    entities = session.scalars(select(AuditEvent.entity).distinct()
                               .where(AuditEvent.season_id == season_id)
                               .order_by(AuditEvent.entity)).all()
    users = session.execute(select(User.id, User.email).where(User.id.in_(
        select(AuditEvent.user_id).where(AuditEvent.season_id == season_id)))
        .order_by(User.email)).all()
    return HistoryChoices(entities=list(entities), users=list(users))


def history_page(session: Session, season_id: uuid.UUID, *, entity: str, entity_id: str,
                 user_id: uuid.UUID | None, page: int, per_page: int) -> Page:
    """The season's audit events, newest first, narrowed by whichever filters are given."""
    stmt = (select(AuditEvent).where(AuditEvent.season_id == season_id)
            .options(selectinload(AuditEvent.user))
            .order_by(AuditEvent.at.desc(), AuditEvent.id))
    if entity:
        stmt = stmt.where(AuditEvent.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if user_id is not None:
        stmt = stmt.where(AuditEvent.user_id == user_id)
    return paginate_objects(session, stmt, page, per_page)


def season_counts(session: Session, season: Season) -> dict[str, int]:
    """How many rows of each kind the season holds, in one statement."""
    def n(model, *where):
        return select(func.count(model.id)).where(*where).scalar_subquery()

    sid = season.id
    row = session.execute(select(
        n(SeasonLocation, SeasonLocation.season_id == sid).label("locations"),
        n(SeasonPlan, SeasonPlan.season_id == sid).label("plan rows"),
        n(OTBPlan, OTBPlan.season_id == sid).label("OTB rows"),
        n(RangeIntent, RangeIntent.season_id == sid).label("range intents"),
        n(PurchaseOrder, PurchaseOrder.season_id == sid).label("POs"),
        select(func.count(GRNRecord.id)).join(PurchaseOrder, PurchaseOrder.id == GRNRecord.po_id)
        .where(PurchaseOrder.season_id == sid).scalar_subquery().label("GRNs"),
    )).one()
    return dict(row._mapping)
