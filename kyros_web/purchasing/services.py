"""Purchase orders and GRNs against the OTB (SPEC §2, §5): each write as one unit of work; the
rules they apply are purchasing/rules.py's."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import exists, func, select, type_coerce, update
from sqlalchemy.orm import Session

from ..clock import today
from .. import audit, mail
from ..auth.roles import Action, require
from ..auth.services import emails_allowed
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..modelbase import Money, utcnow
from ..planning.queries import cell_figures
from ..planning.services import DECISION_NOTE, require_season_cell
from ..seasons.services import lock_season, require_editable
from ..seasons.workflow import Area
from ..transaction import transactional
from ..values import month_start, months_between, note_text
from ..versioning import lock_row, require_version
from ..templating import money
from .models import GRNRecord, PORelease, POSource, POStatus, PurchaseOrder
from .rules import (GRN_DAYS_AHEAD, check_po_change, check_receipt, check_received_total, checked_po_value,
                    checked_received_value, number_problem, over_otb, po_source, po_terms,
                    receipt_allowance, require_changeable, status_after_receipts)

PO_FIELDS = ("po_number", "location_id", "category_id", "supplier", "order_date",
             "delivery_date", "po_value", "source", "status")
GRN_FIELDS = ("grn_number", "po_id", "grn_date", "received_value")


@dataclass(frozen=True)
class POResult:
    po: PurchaseOrder
    over_otb_by: Decimal | None  # set when the PO takes its month over OTB (policy warn)


def _policy() -> str:
    return current_app.config.get("KYROS_OTB_POLICY", "warn")


def _tolerance() -> Decimal:
    return Decimal(current_app.config.get("KYROS_OVER_RECEIPT_TOLERANCE", 0))


def _days_ahead() -> int:
    return current_app.config.get("KYROS_GRN_DAYS_AHEAD", GRN_DAYS_AHEAD)


def document_number(value: str | None, field: str, label: str) -> str:
    """A PO or GRN number, trimmed, under the one rule of purchasing/rules.py; raises
    ValidationFailed naming the field."""
    number = (value or "").strip()
    problem = number_problem(number)
    if problem:
        raise ValidationFailed({field: f"{label} {problem}"})
    return number


def _po_values(session: Session, season, *, po_number: str, location_id, category_id, po_value,
               order_date: date | None, delivery_date: date | None, supplier: str | None,
               source: str) -> dict:
    """Checked PO fields under purchasing/rules.py: number, value, delivery, source, and a
    cell of the season."""
    number = (po_number or "").strip()
    errors = {}
    problem = number_problem(number)
    if problem:
        errors["po_number"] = f"PO number {problem}"
    if order_date is None:
        errors["order_date"] = "Order date is required"
    try:
        po_source(source)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    value = checked_po_value(po_value)
    delivery_date, source = po_terms(value, order_date, delivery_date, source,
                                     months=months_between(season.start_date, season.end_date),
                                     season_code=season.season_code)
    require_season_cell(session, season, location_id, category_id)
    return {"po_number": number, "location_id": location_id, "category_id": category_id,
            "supplier": (supplier or "").strip() or None, "order_date": order_date,
            "delivery_date": delivery_date, "po_value": value, "source": source}


def _over_otb(session: Session, season, values: dict, policy: str | None,
              exclude_po: uuid.UUID | None = None) -> Decimal | None:
    """How far the PO takes its month over OTB (None when within); refused under `block`."""
    month = month_start(values["delivery_date"])
    figures = cell_figures(session, season.id, values["location_id"], values["category_id"],
                           month, exclude_po=exclude_po)
    return over_otb(figures.otb, figures.committed, values["po_value"], month=month,
                    policy=policy or _policy(), adjustments=figures.adjustments)


@transactional
def create_po(session: Session, user, season_id: uuid.UUID, *, po_number: str,
              location_id: uuid.UUID, category_id: uuid.UUID, po_value, order_date: date,
              delivery_date: date | None = None, supplier: str | None = None,
              source: str = POSource.MANUAL.value, policy: str | None = None,
              release_reason: str | None = None) -> POResult:
    """Record a PO (status range_uploaded) against the OTB of its delivery month.

    Policy `warn` saves and reports how far over OTB it goes; `block` refuses with the
    OTB, committed and remaining figures (SPEC §5). With a `release_reason`, a PO over its
    budget asks for a release instead (issue 17, item 2): under `block` it is saved awaiting
    release (consuming nothing) until a planner or an admin decides; under `warn` it is
    saved open and the request is recorded as an exception the policy approved.
    """
    require(user, Action.EDIT_PURCHASING)
    release_reason = note_text(release_reason, "release_reason", label="The reason")
    season = lock_season(session, season_id)
    require_editable(season, Area.PURCHASING)
    values = _po_values(session, season, po_number=po_number, location_id=location_id,
                        category_id=category_id, po_value=po_value, order_date=order_date,
                        delivery_date=delivery_date, supplier=supplier, source=source)
    if session.scalar(select(exists().where(PurchaseOrder.po_number == values["po_number"]))):
        raise ValidationFailed({"po_number": f"PO number {values['po_number']} is already used"})
    policy = policy or _policy()
    # Asking for a release: the amount over is measured, never refused.
    over_by = _over_otb(session, season, values, "warn" if release_reason else policy)
    held = bool(over_by and release_reason and policy == "block")
    po = PurchaseOrder(season_id=season.id, created_by=user.id, **values,
                       status=POStatus.AWAITING_RELEASE if held else POStatus.OPEN)
    session.add(po)
    session.flush()
    after = audit.snapshot(po, PO_FIELDS)
    if over_by:
        after["over_otb_by"] = str(over_by)
    audit.record(session, user=user, action="create", entity="purchase_order", entity_id=po.id,
                 season_id=season.id, after=after)
    if over_by and release_reason:
        _ask_release(session, user, season, po, over_by, release_reason,
                     "pending" if held else "recorded")
    return POResult(po, over_by)


def _ask_release(session: Session, user, season, po, over_by, reason: str, status: str):
    release = PORelease(season_id=season.id, po_id=po.id, over_by=over_by, reason=reason,
                        status=status, requested_by=user.id)
    session.add(release)
    session.flush()
    audit.record(session, user=user, action="request_release" if status == "pending"
                 else "record_release", entity="purchase_order", entity_id=po.id,
                 season_id=season.id, after={"po_number": po.po_number, "over_by": over_by,
                                             "reason": reason, "release": status})
    if status == "pending" and mail.configured():
        mail.tell(session, emails_allowed(session, Action.APPROVE, but=user),
                  f"Kyros: PO {po.po_number} in {season.season_code} waits for a release",
                  f"{user.email} asks to release PO {po.po_number} ({money(po.po_value)}), "
                  f"{money(over_by)} over its cell's budget in {season.name} "
                  f"({season.season_code}).\n\nReason: {reason}\n\nRelease or reject it: "
                  f"{mail.link('/approvals/')}\n")
    return release


@transactional
def decide_release(session: Session, user, release_id: uuid.UUID, *, approve: bool,
                   note: str) -> PORelease:
    """Release a PO waiting over its budget (it becomes open and consumes) or reject it (it
    is cancelled), with a note: by a planner or an admin who did not ask for it. Two people
    deciding at once: one wins, the other is told (a conditional UPDATE of a pending row,
    under the season's row lock)."""
    require(user, Action.APPROVE)
    note = note_text(note, "note", required=DECISION_NOTE)
    season_id = session.scalar(select(PORelease.season_id).where(PORelease.id == release_id))
    if season_id is None:
        raise NotFound("Release request not found")
    season = lock_season(session, season_id)
    require_editable(season, Area.PURCHASING)
    release = session.execute(select(PORelease).where(PORelease.id == release_id)
                              .execution_options(populate_existing=True)).scalar_one()
    if release.requested_by == user.id:
        raise Forbidden("You asked for this release; a planner or an admin decides it")
    status = "approved" if approve else "rejected"
    decided = session.execute(
        update(PORelease)
        .where(PORelease.id == release.id, PORelease.status == "pending",
               PORelease.requested_by != user.id)
        .values(status=status, decided_by=user.id, decided_at=utcnow(), decision_note=note,
                updated_at=utcnow())
        .execution_options(synchronize_session=False))
    po = lock_row(session, select(PurchaseOrder).where(PurchaseOrder.id == release.po_id))
    if decided.rowcount != 1:
        session.refresh(release)
        who = release.decider.email if release.decider is not None else "its buyer"
        raise Conflict(f"The release of PO {po.po_number} was {release.status} by {who} "
                       "already")
    before = po.status
    po.status = POStatus.OPEN if approve else POStatus.CANCELLED
    po.version += 1
    session.refresh(release)
    audit.record(session, user=user, action="release" if approve else "reject_release",
                 entity="purchase_order", entity_id=po.id, season_id=season.id,
                 before={"status": before.value},
                 after={"status": po.status.value, "po_number": po.po_number, "note": note})
    if mail.configured():
        mail.queue(session, mail.Message(
            (release.requester.email,),
            f"Kyros: PO {po.po_number} in {season.season_code} is "
            f"{'released' if approve else 'rejected'}",
            f"{user.email} {'released' if approve else 'rejected'} PO {po.po_number} "
            f"({money(po.po_value)}, {money(release.over_by)} over its budget): it is now "
            f"{po.status.title.lower()}.\n\nNote: {note}\n"))
    return release


@transactional
def update_po(session: Session, user, po_id: uuid.UUID, *, expected_version: int,
              policy: str | None = None, **fields) -> POResult:
    """Change an open or partly received PO; its value may not drop below what was received.

    The OTB policy applies again, counting the PO once. `expected_version` is the version the
    editor saw: ValidationFailed without one, StaleVersion when the PO changed since.
    """
    po = _locked_po(session, user, po_id)
    season = po.season
    require_changeable(po.po_number, po.status)
    require_version(po, expected_version, what=f"PO {po.po_number}",
                    who=lambda: audit.last_actor(session, "purchase_order", po.id))
    values = _po_values(session, season, **fields)
    if values["po_number"] != po.po_number and session.scalar(
            select(exists().where(PurchaseOrder.po_number == values["po_number"]))):
        raise ValidationFailed({"po_number": f"PO number {values['po_number']} is already used"})
    first_receipt = session.scalar(select(func.min(GRNRecord.grn_date))
                                   .where(GRNRecord.po_id == po.id))
    check_po_change(values["po_value"], _received(session, po.id), values["order_date"],
                    first_receipt)
    over_by = _over_otb(session, season, values, policy, exclude_po=po.id)
    before = audit.snapshot(po, PO_FIELDS)
    for key, value in values.items():
        if getattr(po, key) != value:
            setattr(po, key, value)
    b, a = audit.changes(before, audit.snapshot(po, PO_FIELDS))
    if a:
        po.version += 1
        if over_by:
            a["over_otb_by"] = str(over_by)
        audit.record(session, user=user, action="update", entity="purchase_order",
                     entity_id=po.id, season_id=po.season_id, before=b, after=a)
    return POResult(po, over_by)


def _received(session: Session, po_id: uuid.UUID) -> Decimal:
    return session.scalar(select(type_coerce(func.coalesce(func.sum(GRNRecord.received_value), 0),
                                             Money)).where(GRNRecord.po_id == po_id))


def _locked_po(session: Session, user, po_id: uuid.UUID) -> PurchaseOrder:
    require(user, Action.EDIT_PURCHASING)
    po = session.get(PurchaseOrder, po_id)
    if po is None:
        raise NotFound("Purchase order not found")
    season = lock_season(session, po.season_id)
    require_editable(season, Area.PURCHASING)
    return lock_row(session, select(PurchaseOrder).where(PurchaseOrder.id == po_id))


def _same_version(session: Session, po: PurchaseOrder, expected_version) -> None:
    """StaleVersion unless `expected_version` (when given) is the locked PO's version."""
    if expected_version is not None:
        require_version(po, expected_version, what=f"PO {po.po_number}",
                        who=lambda: audit.last_actor(session, "purchase_order", po.id))


@transactional
def cancel_po(session: Session, user, po_id: uuid.UUID, *,
              expected_version: int | None = None) -> PurchaseOrder:
    """Cancel a PO that has no GRNs; it stops consuming OTB. With `expected_version`,
    StaleVersion when the PO changed since that version."""
    po = _locked_po(session, user, po_id)
    _same_version(session, po, expected_version)
    if po.status is POStatus.CANCELLED:
        return po
    if session.scalar(select(exists().where(GRNRecord.po_id == po.id))):
        raise ValidationFailed({"status": f"PO {po.po_number} has goods received and cannot be "
                                "cancelled; short-close it instead"})
    before = po.status
    po.status = POStatus.CANCELLED
    po.version += 1
    # A release still asked for goes with it.
    session.execute(update(PORelease).where(PORelease.po_id == po.id,
                                            PORelease.status == "pending")
                    .values(status="withdrawn", updated_at=utcnow())
                    .execution_options(synchronize_session=False))
    audit.record(session, user=user, action="cancel", entity="purchase_order", entity_id=po.id,
                 season_id=po.season_id, before={"status": before.value},
                 after={"status": po.status.value})
    return po


@transactional
def close_po(session: Session, user, po_id: uuid.UUID, *,
             expected_version: int | None = None) -> PurchaseOrder:
    """Short-close a partly received PO: the part not received stops consuming OTB. With
    `expected_version`, StaleVersion when the PO changed since that version."""
    po = _locked_po(session, user, po_id)
    _same_version(session, po, expected_version)
    if po.status is not POStatus.PARTIALLY_RECEIVED:
        raise ValidationFailed({"status": f"Only a partly received PO can be short-closed; "
                                f"PO {po.po_number} is {po.status.title.lower()}"})
    po.status = POStatus.CLOSED
    po.version += 1
    audit.record(session, user=user, action="close", entity="purchase_order", entity_id=po.id,
                 season_id=po.season_id, before={"status": "partially_received"},
                 after={"status": "closed", "received": str(_received(session, po.id))})
    return po


@transactional
def create_grn(session: Session, user, *, po_id: uuid.UUID, grn_number: str, grn_date: date,
               received_value) -> GRNRecord:
    """Record goods received against a PO; the PO's status follows (SPEC §2).

    Refused: a cancelled or closed PO, a date before the order date or too far after today,
    and a receipt that takes the PO beyond its value plus the over-receipt tolerance.
    """
    po = _locked_po(session, user, po_id)
    number = document_number(grn_number, "grn_number", "GRN number")
    if grn_date is None:
        raise ValidationFailed({"grn_date": "GRN date is required"})
    value = checked_received_value(received_value)
    check_receipt(po.po_number, po.status, po.order_date, grn_date, value,
                  today=today(), days_ahead=_days_ahead())
    if session.scalar(select(exists().where(GRNRecord.grn_number == number))):
        raise ValidationFailed({"grn_number": f"GRN number {number} is already used"})
    received = _received(session, po.id)
    check_received_total(po.po_number, po.po_value, received, value,
                         receipt_allowance(_tolerance()))
    grn = GRNRecord(grn_number=number, po_id=po.id, grn_date=grn_date, received_value=value,
                    created_by=user.id)
    session.add(grn)
    before_status = po.status
    po.status = status_after_receipts(po.status, po.po_value, received + value)
    if po.status is not before_status:
        po.version += 1
    session.flush()
    audit.record(session, user=user, action="create", entity="grn_record", entity_id=grn.id,
                 season_id=po.season_id, after=audit.snapshot(grn, GRN_FIELDS))
    return grn


def create_grn_for(session: Session, user, season_id: uuid.UUID, *, po_number: str,
                   **receipt) -> GRNRecord:
    """create_grn for the PO of that number in the season (as typed on a form or a file)."""
    po_id = session.scalar(select(PurchaseOrder.id).where(
        PurchaseOrder.po_number == document_number(po_number, "po_number", "PO number"),
        PurchaseOrder.season_id == season_id))
    if po_id is None:
        raise ValidationFailed({"po_number": f"No PO {po_number} in this season"})
    return create_grn(session, user, po_id=po_id, **receipt)
