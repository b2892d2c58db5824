"""Clusters, locations and categories: the rules of SPEC §2, audited."""
from __future__ import annotations

import re
import uuid

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from .. import audit, ids
from ..auth.roles import Action, require
from ..errors import Conflict, Duplicate, NotFound, ValidationFailed
from ..transaction import transactional
from .models import Category, Cluster, Location, LocationType
from .references import is_referenced

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
    name = _cluster_name(name)
    if find_cluster(session, name):
        raise Duplicate({"name": f"A cluster named {name!r} already exists"})
    cluster = Cluster(name=name, description=_text(description))
    session.add(cluster)
    session.flush()
    audit.record(session, user=user, action="create", entity="cluster", entity_id=cluster.id,
                 after={"name": name, "description": cluster.description})
    return cluster


def _location_errors(name: str, type: str) -> dict[str, str]:
    """A location, new or changed, has a name and is a store or a warehouse."""
    errors = {}
    if not name:
        errors["name"] = "Name is required"
    if type not in {t.value for t in LocationType}:
        errors["type"] = "Type must be store or warehouse"
    return errors


@transactional
def create_location(session: Session, user, *, name: str, type: str,
                    cluster_id: uuid.UUID | None = None, location_code: str | None = None,
                    address: str | None = None, city: str | None = None,
                    country: str | None = None) -> Location:
    """A location; its 16-character code is generated when not given."""
    require(user, Action.EDIT_MASTERDATA)
    name = (name or "").strip()
    errors = _location_errors(name, type)
    code = (location_code or "").strip().upper()
    if code and not LOCATION_CODE_RE.match(code):
        errors["location_code"] = "Location code must be 16 characters A–Z and 0–9"
    if errors:
        raise ValidationFailed(errors)
    if cluster_id is not None and session.get(Cluster, cluster_id) is None:
        raise ValidationFailed({"cluster_id": "Cluster not found"})

    def taken(c: str) -> bool:
        return bool(session.scalar(select(exists().where(Location.location_code == c))))

    if code and taken(code):
        raise Duplicate({"location_code": f"Location code {code} is already used"})
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
    """True when season data (plans, OTB, range intent, POs) refers to the category."""
    return is_referenced(session, Category.__table__, category_id)


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
        raise Duplicate({"code": f"Category code {code} is already used"})
    if parent_id is not None:
        _require_may_have_children(session, _parent(session, parent_id))
    category = Category(code=code, name=name, parent_id=parent_id, description=_text(description))
    session.add(category)
    session.flush()
    audit.record(session, user=user, action="create", entity="category", entity_id=category.id,
                 after=audit.snapshot(category, CATEGORY_FIELDS))
    return category


CLUSTER_FIELDS = ("name", "description")


def _cluster_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": "Name is required"})
    if len(name) > 100:
        raise ValidationFailed({"name": "Name must be at most 100 characters"})
    return name


@transactional
def update_cluster(session: Session, user, cluster_id: uuid.UUID, *, name: str,
                   description: str | None = None) -> Cluster:
    """Rename or describe a cluster; the name stays unique regardless of case."""
    require(user, Action.EDIT_MASTERDATA)
    cluster = _get(session, Cluster, cluster_id, "Cluster")
    name = _cluster_name(name)
    other = find_cluster(session, name)
    if other is not None and other.id != cluster.id:
        raise Duplicate({"name": f"A cluster named {other.name!r} already exists"})
    before = audit.snapshot(cluster, CLUSTER_FIELDS)
    cluster.name, cluster.description = name, _text(description)
    _audit_update(session, user, "cluster", cluster, before, CLUSTER_FIELDS)
    return cluster


@transactional
def delete_cluster(session: Session, user, cluster_id: uuid.UUID) -> None:
    """Delete a cluster that no location belongs to."""
    require(user, Action.EDIT_MASTERDATA)
    cluster = _get(session, Cluster, cluster_id, "Cluster")
    count = session.scalar(select(func.count(Location.id)).where(Location.cluster_id == cluster.id))
    if count:
        raise Conflict(f"Cluster {cluster.name} has {count} location(s); move them to another "
                       "cluster before deleting it")
    _audit_delete(session, user, "cluster", cluster, CLUSTER_FIELDS)


@transactional
def update_location(session: Session, user, location_id: uuid.UUID, *, name: str, type: str,
                    cluster_id: uuid.UUID | None = None, address: str | None = None,
                    city: str | None = None, country: str | None = None,
                    is_active: bool | None = None) -> Location:
    """Change a location's details; its code is fixed once given (files refer to it).
    `is_active` (None: unchanged) activates or deactivates it in the same step, audited as
    set_location_active does."""
    require(user, Action.EDIT_MASTERDATA)
    location = _get(session, Location, location_id, "Location")
    name = (name or "").strip()
    errors = _location_errors(name, type)
    if errors:
        raise ValidationFailed(errors)
    if cluster_id is not None and session.get(Cluster, cluster_id) is None:
        raise ValidationFailed({"cluster_id": "Cluster not found"})
    before = audit.snapshot(location, LOCATION_FIELDS)
    location.name, location.type, location.cluster_id = name, LocationType(type), cluster_id
    location.address, location.city, location.country = _text(address), _text(city), _text(country)
    _audit_update(session, user, "location", location, before, LOCATION_FIELDS)
    if is_active is not None:
        _set_active(session, user, location, is_active)
    return location


@transactional
def set_location_active(session: Session, user, location_id: uuid.UUID, active: bool) -> Location:
    """Activate or deactivate a location; an inactive one cannot join a season."""
    require(user, Action.EDIT_MASTERDATA)
    location = _get(session, Location, location_id, "Location")
    _set_active(session, user, location, active)
    return location


def _set_active(session: Session, user, location: Location, active: bool) -> None:
    if location.is_active != active:
        location.is_active = active
        audit.record(session, user=user, action="activate" if active else "deactivate",
                     entity="location", entity_id=location.id,
                     before={"is_active": not active}, after={"is_active": active})


def location_is_referenced(session: Session, location_id: uuid.UUID) -> bool:
    """True when any season takes part with it or any season data names it."""
    return is_referenced(session, Location.__table__, location_id)


@transactional
def delete_location(session: Session, user, location_id: uuid.UUID) -> None:
    """Delete a location no season refers to; one that is referenced is deactivated instead."""
    require(user, Action.EDIT_MASTERDATA)
    location = _get(session, Location, location_id, "Location")
    if location_is_referenced(session, location.id):
        raise Conflict(f"Location {location.location_code} is used by season data and cannot be "
                       "deleted; deactivate it instead")
    _audit_delete(session, user, "location", location, LOCATION_FIELDS)


def descendant_ids(session: Session, category_id: uuid.UUID) -> set[uuid.UUID]:
    """Every category below the given one in the tree."""
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    for cid, parent in session.execute(select(Category.id, Category.parent_id)):
        children.setdefault(parent, []).append(cid)
    found, stack = set(), [category_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


@transactional
def update_category(session: Session, user, category_id: uuid.UUID, *, name: str,
                    parent_id: uuid.UUID | None, description: str | None = None) -> Category:
    """Rename or move a category. Refused: a move under itself or its own descendants (a
    cycle), and a move under a category that has season rows (it must stay a leaf)."""
    require(user, Action.EDIT_MASTERDATA)
    category = _get(session, Category, category_id, "Category")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": "Name is required"})
    if parent_id is not None and parent_id != category.parent_id:
        if parent_id == category.id or parent_id in descendant_ids(session, category.id):
            raise ValidationFailed({"parent_id": "A category cannot move under itself or one of "
                                    "its own sub-categories"})
        _require_may_have_children(session, _parent(session, parent_id))
    before = audit.snapshot(category, CATEGORY_FIELDS)
    category.name, category.parent_id = name, parent_id
    category.description = _text(description)
    _audit_update(session, user, "category", category, before, CATEGORY_FIELDS)
    return category


@transactional
def delete_category(session: Session, user, category_id: uuid.UUID) -> None:
    """Delete a category without sub-categories that no season data refers to."""
    require(user, Action.EDIT_MASTERDATA)
    category = _get(session, Category, category_id, "Category")
    if session.scalar(select(exists().where(Category.parent_id == category.id))):
        raise Conflict(f"Category {category.code} has sub-categories; delete or move them first")
    if category_has_rows(session, category.id):
        raise Conflict(f"Category {category.code} is used by plans, OTB, range intent or POs "
                       "and cannot be deleted")
    _audit_delete(session, user, "category", category, CATEGORY_FIELDS)


def _require_may_have_children(session: Session, parent: Category) -> None:
    """The leaf rule: a category that season rows refer to cannot get sub-categories."""
    if category_has_rows(session, parent.id):
        raise ValidationFailed({"parent_id": f"{parent.code} has plans, OTB, range intent or "
                                "POs, so it must stay a leaf category"})


def _parent(session: Session, parent_id: uuid.UUID) -> Category:
    """The parent a create or a move names; an unknown one is bad input, not a missing page."""
    parent = session.get(Category, parent_id)
    if parent is None:
        raise ValidationFailed({"parent_id": "Parent category not found"})
    return parent


def _get(session: Session, model, object_id, label: str):
    obj = session.get(model, object_id)
    if obj is None:
        raise NotFound(f"{label} not found")
    return obj


def _audit_delete(session: Session, user, entity: str, obj, fields) -> None:
    audit.record(session, user=user, action="delete", entity=entity, entity_id=obj.id,
                 before=audit.snapshot(obj, fields))
    session.delete(obj)


def _audit_update(session: Session, user, entity: str, obj, before: dict, fields) -> None:
    b, a = audit.changes(before, audit.snapshot(obj, fields))
    if a:
        audit.record(session, user=user, action="update", entity=entity, entity_id=obj.id,
                     before=b, after=a)
