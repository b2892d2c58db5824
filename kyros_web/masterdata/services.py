"""Clusters, locations and categories: the rules of SPEC §2, audited."""
from __future__ import annotations

import re
import uuid

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from .. import audit, ids
from ..auth.roles import Action, require
from ..errors import Conflict, NotFound, ValidationFailed
from ..planning.models import OTBPlan, RangeIntent, SeasonPlan
from ..purchasing.models import PurchaseOrder
from ..transaction import transactional
from .models import Category, Cluster, Location, LocationType

CATEGORY_CODE_RE = re.compile(r"^[A-Z0-9_-]{1,50}$")
LOCATION_CODE_RE = re.compile(r"^[A-Z0-9]{16}$")
LOCATION_FIELDS = ("location_code", "name", "type", "cluster_id", "address", "city",
                   "country", "is_active")
CATEGORY_FIELDS = ("code", "name", "description", "parent_id")


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def find_cluster(session: Session, name: str) -> Cluster | None:
    return session.scalar(select(Cluster).where(func.lower(Cluster.name) == name.strip().lower()))


@transactional
def create_cluster(session: Session, user, *, name: str, description: str | None = None) -> Cluster:
    """A cluster; names are unique regardless of case."""
    require(user, Action.EDIT_MASTERDATA)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": "Name is required"})
    if len(name) > 100:
        raise ValidationFailed({"name": "Name must be at most 100 characters"})
    if find_cluster(session, name):
        raise Conflict(f"A cluster named {name!r} already exists")
    cluster = Cluster(name=name, description=_text(description))
    session.add(cluster)
    session.flush()
    audit.record(session, user=user, action="create", entity="cluster", entity_id=cluster.id,
                 after={"name": name, "description": cluster.description})
    return cluster


@transactional
def create_location(session: Session, user, *, name: str, type: str,
                    cluster_id: uuid.UUID | None = None, location_code: str | None = None,
                    address: str | None = None, city: str | None = None,
                    country: str | None = None) -> Location:
    """A location; its 16-character code is generated when not given."""
    require(user, Action.EDIT_MASTERDATA)
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Name is required"
    if type not in {t.value for t in LocationType}:
        errors["type"] = "Type must be store or warehouse"
    code = (location_code or "").strip().upper()
    if code and not LOCATION_CODE_RE.match(code):
        errors["location_code"] = "Location code must be 16 characters A–Z and 0–9"
    if errors:
        raise ValidationFailed(errors)
    if cluster_id is not None and session.get(Cluster, cluster_id) is None:
        raise NotFound("Cluster not found")

    def taken(c: str) -> bool:
        return bool(session.scalar(select(exists().where(Location.location_code == c))))

    if code and taken(code):
        raise Conflict(f"Location code {code} is already used")
    location = Location(location_code=code or ids.unique_code(ids.location_code, taken),
                        name=name, type=LocationType(type), cluster_id=cluster_id,
                        address=_text(address), city=_text(city), country=_text(country),
                        is_active=True)
    session.add(location)
    session.flush()
    audit.record(session, user=user, action="create", entity="location", entity_id=location.id,
                 after=audit.snapshot(location, LOCATION_FIELDS))
    return location


def category_has_rows(session: Session, category_id: uuid.UUID) -> bool:
    """True when plans, OTB, range intent or POs reference the category."""
    return any(session.scalar(select(exists().where(model.category_id == category_id)))
               for model in (SeasonPlan, OTBPlan, RangeIntent, PurchaseOrder))


@transactional
def create_category(session: Session, user, *, code: str, name: str,
                    parent_id: uuid.UUID | None = None,
                    description: str | None = None) -> Category:
    """A category in the tree; a parent that already has season rows cannot get children."""
    require(user, Action.EDIT_MASTERDATA)
    code = (code or "").strip().upper()
    name = (name or "").strip()
    errors = {}
    if not CATEGORY_CODE_RE.match(code):
        errors["code"] = ("Code is required: up to 50 upper-case letters, digits, '-' and '_'")
    if not name:
        errors["name"] = "Name is required"
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(select(exists().where(Category.code == code))):
        raise Conflict(f"Category code {code} is already used")
    if parent_id is not None:
        parent = session.get(Category, parent_id)
        if parent is None:
            raise NotFound("Parent category not found")
        if category_has_rows(session, parent.id):
            raise ValidationFailed({"parent_id": f"{parent.code} has plans, OTB, range intent or "
                                    "POs, so it must stay a leaf category"})
    category = Category(code=code, name=name, parent_id=parent_id, description=_text(description))
    session.add(category)
    session.flush()
    audit.record(session, user=user, action="create", entity="category", entity_id=category.id,
                 after=audit.snapshot(category, CATEGORY_FIELDS))
    return category


def leaf_category_ids(session: Session) -> set[uuid.UUID]:
    """Categories without children."""
    child = Category.__table__.alias("child")
    return set(session.scalars(select(Category.id).where(
        ~exists().where(child.c.parent_id == Category.id))))
