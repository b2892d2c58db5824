"""Read-only SQL of the season pages: the season list, its locations and the candidates to
add, its transitions and audit history, and how many rows it holds (SPEC §3, §9)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..audit import AuditEvent
from ..auth.models import User
from ..masterdata.models import Category, Cluster, Location
from ..paging import Page, paginate_objects
from ..planning.models import OTBPlan, RangeIntent, SeasonPlan
from ..planning.rules import OTB_LABELS
from ..purchasing.models import GRNRecord, POStatus, PurchaseOrder
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
        stmt = stmt.where(matches_code_or_name(q))
    return paginate_objects(session, stmt, page, per_page)


def matches_code_or_name(q: str):
    """A season whose code or name contains `q` (any case): the list's search."""
    like = _contains(q)
    return or_(func.lower(Season.season_code).like(like), func.lower(Season.name).like(like))


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


# History a person can read (issue 15, item 9): what an event is about and the values it
# names, in codes, numbers and names rather than internal ids.

# Fields of the trail that hold the id of a row of another table, and the word for them.
ID_FIELDS = {"location_id": "location", "category_id": "category", "po_id": "PO",
             "cluster_id": "cluster", "parent_id": "parent category", "approved_by": "approved by",
             "uploaded_by": "written by", "created_by": "created by"}
# What each kind of event is about, as the "What" column says it.
ENTITY_WORDS = {"purchase_order": "PO", "grn_record": "GRN", "otb_plan": "OTB row",
                "season_plan": "plan row", "range_intent": "range intent", "season": "season",
                "season_location": "season location", "otb_adjustment": "OTB move"}
# The planning grid's steps, as a person says them.
ACTION_WORDS = {"grid_type": "typed", "grid_paste": "pasted", "grid_spread": "spread",
                "grid_undo": "undone", "grid_undo_dropped": "undo refused",
                # A PO over its budget (issue 17).
                "request_release": "release asked for", "record_release": "saved over budget",
                "release": "released", "reject_release": "release rejected"}
# Fields that only matter to the machine (the grid's step id: its summary says what it did).
HIDDEN_FIELDS = frozenset({"step"})


@dataclass(frozen=True)
class HistoryNames:
    """Words for a page of audit events: `subjects` (event id → what it is about) and
    `ids` (an id as text → its label)."""

    subjects: dict
    ids: dict

    def field(self, key: str) -> str:
        return ID_FIELDS.get(key, key).replace("_", " ")

    def value(self, key: str, value):
        """A value as the page shows it: an id as its label, a status as its title."""
        if isinstance(value, str):
            if key in ID_FIELDS and value in self.ids:
                return self.ids[value]
            if key == "status":
                return status_title(value)
            if key in ("measure", "shape") and value in OTB_LABELS:
                return OTB_LABELS[value]
        return value

    @staticmethod
    def action(event) -> str:
        return ACTION_WORDS.get(event.action, event.action.replace("_", " "))

    def changes(self, event) -> list[tuple]:
        """(field words, before or None, after or None, in before, in after) per field."""
        before, after = event.before or {}, event.after or {}
        keys = [k for k in dict.fromkeys([*after, *before]) if k not in HIDDEN_FIELDS]
        return [(self.field(k), self.value(k, before.get(k)), self.value(k, after.get(k)),
                 k in before, k in after) for k in keys]


def status_title(value: str) -> str:
    """A stored status (a PO's or a season's) as its title: "Partially received"."""
    for enum in (POStatus, SeasonStatus):
        try:
            return enum(value).title
        except ValueError:
            continue
    return value


def _uuid(text) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(text))
    except ValueError:
        return None


def history_names(session: Session, events: list) -> HistoryNames:
    """The words for these events: one statement per kind of row they may name (categories,
    locations, clusters, users, POs, GRNs, OTB and plan rows, range intents), whatever the
    page holds."""
    wanted: dict[str, set] = {}

    def want(kind, raw):
        found = _uuid(raw) if raw else None
        if found is not None:
            wanted.setdefault(kind, set()).add(found)

    for event in events:
        for values in (event.before or {}, event.after or {}):
            for key, value in values.items():
                if key in ID_FIELDS:
                    want(ID_FIELDS[key], value)
        if event.entity in ENTITY_WORDS:
            want(event.entity, event.entity_id)
    ids = {}

    def label(rows):
        ids.update({str(i): text for i, text in rows})

    def some(*kinds):
        return set().union(*(wanted.get(k, set()) for k in kinds))

    # Every read runs whatever the page holds (an empty list reads nothing), so the page costs
    # the same statements whichever kinds of event it shows.
    label((i, f"{c} {n}") for i, c, n in session.execute(
        select(Category.id, Category.code, Category.name)
        .where(Category.id.in_(some("category", "parent category")))))
    label((i, f"{c} {n}") for i, c, n in session.execute(
        select(Location.id, Location.location_code, Location.name)
        .where(Location.id.in_(some("location")))))
    label(session.execute(select(Cluster.id, Cluster.name)
                          .where(Cluster.id.in_(some("cluster")))).all())
    label(session.execute(select(User.id, User.email).where(
        User.id.in_(some("approved by", "written by", "created by")))).all())
    label(session.execute(select(PurchaseOrder.id, PurchaseOrder.po_number)
                          .where(PurchaseOrder.id.in_(some("PO", "purchase_order")))).all())
    label((i, f"{grn} (PO {po})") for i, grn, po in session.execute(
        select(GRNRecord.id, GRNRecord.grn_number, PurchaseOrder.po_number)
        .join(PurchaseOrder, PurchaseOrder.id == GRNRecord.po_id)
        .where(GRNRecord.id.in_(some("grn_record")))))
    for kind, model in (("otb_plan", OTBPlan), ("season_plan", SeasonPlan)):
        month = [model.month] if kind == "otb_plan" else []
        label((r[0], " × ".join([r[1], r[2], *(f"{m:%b %Y}" for m in r[3:])]))
              for r in session.execute(
                  select(model.id, Location.location_code, Category.code, *month)
                  .join(Location, Location.id == model.location_id)
                  .join(Category, Category.id == model.category_id)
                  .where(model.id.in_(some(kind)))))
    label(session.execute(select(RangeIntent.id, Category.code)
                          .join(Category, Category.id == RangeIntent.category_id)
                          .where(RangeIntent.id.in_(some("range_intent")))).all())
    subjects = {}
    for event in events:
        word = ENTITY_WORDS.get(event.entity, event.entity.replace("_", " "))
        subjects[event.id] = _subject(event, word, ids)
    return HistoryNames(subjects, ids)


def _subject(event, word: str, ids: dict) -> str:
    """"PO PO-0042", "OTB row LOC1 × D01 × Feb 2026": a deleted row is named from what the
    event recorded of it."""
    if event.entity_id and event.entity_id in ids:
        return f"{word} {ids[event.entity_id]}"
    recorded = {**(event.before or {}), **(event.after or {})}
    parts = [ids.get(str(recorded[k]), "").split(" ")[0] for k in ("location_id", "category_id")
             if recorded.get(k)]
    if recorded.get("month"):
        parts.append(str(recorded["month"])[:7])
    for key in ("po_number", "grn_number", "season_code", "name", "number"):
        if recorded.get(key):
            parts.append(("#" if key == "number" else "") + str(recorded[key]))
            break
    return f"{word} {' × '.join(p for p in parts if p)}".strip()


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
