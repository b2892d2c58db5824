"""Purchase orders and GRNs against the OTB (SPEC §2, §5): the policy, receipts, PO status."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import exists, func, select, type_coerce
from sqlalchemy.orm import Session

from .. import audit
from ..auth.roles import Action, require
from ..errors import NotFound, ValidationFailed
from ..modelbase import Money
from ..planning.queries import cell_figures
from ..planning.services import require_season_cell
from ..seasons.services import lock_season, require_editable
from ..seasons.workflow import Area
from ..templating import money
from ..transaction import transactional
from ..values import Digits, at_least, decimal_value, month_start, months_between, within
from ..versioning import lock_row, require_version
from .models import GRNRecord, POSource, POStatus, PurchaseOrder
from .rules import number_problem

ZERO = Decimal("0")
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


def document_number(value: str | None, field: str, label: str) -> str:
    """A PO or GRN number, trimmed, under the one rule of purchasing/rules.py; raises
    ValidationFailed naming the field."""
    number = (value or "").strip()
    problem = number_problem(number)
    if problem:
        raise ValidationFailed({field: f"{label} {problem}"})
    return number


def checked_po_value(raw, *, required: bool = True) -> Decimal | None:
    """A typed PO value: more than 0 and within its column (SPEC §2); ValidationFailed."""
    value = decimal_value(raw, "po_value", "PO value", required=required,
                          digits=Digits.of(PurchaseOrder.po_value))
    at_least(value, ZERO, "po_value", "PO value", strict=True)
    return value


def _po_values(session: Session, season, *, po_number: str, location_id, category_id, po_value,
               order_date: date | None, delivery_date: date | None, supplier: str | None,
               source: str) -> dict:
    """Checked PO fields (SPEC §2): number, value > 0, delivery in a month of the season."""
    number = (po_number or "").strip()
    errors = {}
    problem = number_problem(number)
    if problem:
        errors["po_number"] = f"PO number {problem}"
    if order_date is None:
        errors["order_date"] = "Order date is required"
    if source not in {s.value for s in POSource}:
        errors["source"] = "Source must be one of " + ", ".join(s.value for s in POSource)
    if errors:
        raise ValidationFailed(errors)
    value = checked_po_value(po_value)
    delivery_date = delivery_date or order_date
    if delivery_date < order_date:
        raise ValidationFailed({"delivery_date": "Delivery date must be on or after the order date"})
    month = month_start(delivery_date)
    if month not in months_between(season.start_date, season.end_date):
        raise ValidationFailed({"delivery_date": f"Delivery month {month:%Y-%m} is not a month "
                                f"of season {season.season_code}"})
    require_season_cell(session, season, location_id, category_id)
    return {"po_number": number, "location_id": location_id, "category_id": category_id,
            "supplier": (supplier or "").strip() or None, "order_date": order_date,
            "delivery_date": delivery_date, "po_value": value, "source": POSource(source)}


def _over_otb(session: Session, season, values: dict, policy: str | None,
              exclude_po: uuid.UUID | None = None) -> Decimal | None:
    """How far the PO takes its month over OTB (None when within); refused under `block`."""
    month = month_start(values["delivery_date"])
    figures = cell_figures(session, season.id, values["location_id"], values["category_id"],
                           month, exclude_po=exclude_po)
    # The cell's committed total is summed by the database on every page: it must fit too.
    within(figures.committed + values["po_value"], "po_value",
           f"The committed total of the cell in {month:%Y-%m} with this PO",
           Digits.of(PurchaseOrder.po_value))
    over_by = figures.committed + values["po_value"] - figures.otb
    if over_by <= 0:
        return None
    if (policy or _policy()) == "block":
        raise ValidationFailed({"po_value": (
            f"This PO would take {month:%Y-%m} over OTB by {money(over_by)}: OTB "
            f"{money(figures.otb)}, committed {money(figures.committed)}, remaining "
            f"{money(figures.remaining)}")})
    return over_by


@transactional
def create_po(session: Session, user, season_id: uuid.UUID, *, po_number: str,
              location_id: uuid.UUID, category_id: uuid.UUID, po_value, order_date: date,
              delivery_date: date | None = None, supplier: str | None = None,
              source: str = POSource.MANUAL.value, policy: str | None = None) -> POResult:
    """Record a PO (status range_uploaded) against the OTB of its delivery month.

    Policy `warn` saves and reports how far over OTB it goes; `block` refuses with the
    OTB, committed and remaining figures (SPEC §5).
    """
    require(user, Action.EDIT_PURCHASING)
    season = lock_season(session, season_id)
    require_editable(season, Area.PURCHASING)
    values = _po_values(session, season, po_number=po_number, location_id=location_id,
                        category_id=category_id, po_value=po_value, order_date=order_date,
                        delivery_date=delivery_date, supplier=supplier, source=source)
    if session.scalar(select(exists().where(PurchaseOrder.po_number == values["po_number"]))):
        raise ValidationFailed({"po_number": f"PO number {values['po_number']} is already used"})
    over_by = _over_otb(session, season, values, policy)
    po = PurchaseOrder(season_id=season.id, status=POStatus.OPEN, created_by=user.id, **values)
    session.add(po)
    session.flush()
    after = audit.snapshot(po, PO_FIELDS)
    if over_by:
        after["over_otb_by"] = str(over_by)
    audit.record(session, user=user, action="create", entity="purchase_order", entity_id=po.id,
                 season_id=season.id, after=after)
    return POResult(po, over_by)


@transactional
def update_po(session: Session, user, po_id: uuid.UUID, *, expected_version: int,
              policy: str | None = None, **fields) -> POResult:
    """Change an open or partly received PO; its value may not drop below what was received.

    The OTB policy applies again, counting the PO once. `expected_version` is the version the
    editor saw: ValidationFailed without one, StaleVersion when the PO changed since.
    """
    po = _locked_po(session, user, po_id)
    season = po.season
    if po.status in (POStatus.CANCELLED, POStatus.CLOSED, POStatus.RECEIVED):
        raise ValidationFailed({"status": f"PO {po.po_number} is {po.status.title.lower()} and "
                                "can no longer be changed"})
    require_version(po, expected_version, what=f"PO {po.po_number}",
                    who=lambda: audit.last_actor(session, "purchase_order", po.id))
    values = _po_values(session, season, **fields)
    if values["po_number"] != po.po_number and session.scalar(
            select(exists().where(PurchaseOrder.po_number == values["po_number"]))):
        raise ValidationFailed({"po_number": f"PO number {values['po_number']} is already used"})
    received = _received(session, po.id)
    if values["po_value"] < received:
        raise ValidationFailed({"po_value": f"PO value cannot be below the {money(received)} "
                                "already received"})
    grn_dates = session.scalar(select(func.min(GRNRecord.grn_date)).where(GRNRecord.po_id == po.id))
    if grn_dates is not None and values["order_date"] > grn_dates:
        raise ValidationFailed({"order_date": "Order date cannot be after a goods receipt "
                                f"({grn_dates.isoformat()})"})
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


@transactional
def cancel_po(session: Session, user, po_id: uuid.UUID) -> PurchaseOrder:
    """Cancel a PO that has no GRNs; it stops consuming OTB."""
    po = _locked_po(session, user, po_id)
    if po.status is POStatus.CANCELLED:
        return po
    if session.scalar(select(exists().where(GRNRecord.po_id == po.id))):
        raise ValidationFailed({"status": f"PO {po.po_number} has goods received and cannot be "
                                "cancelled; short-close it instead"})
    before = po.status
    po.status = POStatus.CANCELLED
    po.version += 1
    audit.record(session, user=user, action="cancel", entity="purchase_order", entity_id=po.id,
                 season_id=po.season_id, before={"status": before.value},
                 after={"status": po.status.value})
    return po


@transactional
def close_po(session: Session, user, po_id: uuid.UUID) -> PurchaseOrder:
    """Short-close a partly received PO: the part not received stops consuming OTB."""
    po = _locked_po(session, user, po_id)
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

    Refused: a cancelled or closed PO, a date before the order date, and a receipt that
    takes the PO beyond its value plus the over-receipt tolerance.
    """
    po = _locked_po(session, user, po_id)
    number = document_number(grn_number, "grn_number", "GRN number")
    if grn_date is None:
        raise ValidationFailed({"grn_date": "GRN date is required"})
    value = decimal_value(received_value, "received_value", "Received value",
                          digits=Digits.of(GRNRecord.received_value))
    at_least(value, ZERO, "received_value", "Received value", strict=True)
    if po.status in (POStatus.CANCELLED, POStatus.CLOSED):
        raise ValidationFailed({"po_id": f"PO {po.po_number} is {po.status.value}; "
                                "no goods can be received against it"})
    if grn_date < po.order_date:
        raise ValidationFailed({"grn_date": f"GRN date must be on or after the PO's order date "
                                f"({po.order_date.isoformat()})"})
    if session.scalar(select(exists().where(GRNRecord.grn_number == number))):
        raise ValidationFailed({"grn_number": f"GRN number {number} is already used"})
    received = _received(session, po.id)
    # What a PO has received is summed by the database: it must fit a money column.
    within(received + value, "received_value", f"The total received against PO {po.po_number}",
           Digits.of(GRNRecord.received_value))
    limit = po.po_value * (1 + _tolerance() / 100)
    if received + value > limit:
        raise ValidationFailed({"received_value": (
            f"Over-receipt: PO {po.po_number} is for {money(po.po_value)}, "
            f"{money(received)} is received already, so at most "
            f"{money(max(limit - received, ZERO))} more can be received")})
    grn = GRNRecord(grn_number=number, po_id=po.id, grn_date=grn_date, received_value=value,
                    created_by=user.id)
    session.add(grn)
    before_status = po.status
    po.status = (POStatus.RECEIVED if received + value >= po.po_value
                 else POStatus.PARTIALLY_RECEIVED)
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
