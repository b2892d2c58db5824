"""The rules of a purchasing row (SPEC §2, §5): what a PO or GRN number may be made of, a PO's
value and dates, when a PO may change or receive goods, its status after receipts and how far
it takes its OTB month. One owner for the forms, the services and the upload files. Pure:
plain values and Decimal in, ValidationFailed naming the form's field out."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from ..errors import OverBudget, ValidationFailed
from ..planning.otb import budget, remaining
from ..templating import money
from ..values import Digits, at_least, decimal_value, month_start
from .models import GRNRecord, POSource, POStatus, PurchaseOrder

ZERO = Decimal("0")
HUNDRED = Decimal("100")
PO_VALUE_DIGITS = Digits.of(PurchaseOrder.po_value)
RECEIVED_DIGITS = Digits.of(GRNRecord.received_value)
SOURCES = {s.value: s for s in POSource}
SOURCE_RULE = "Source must be one of " + ", ".join(SOURCES)
# Statuses in which a PO no longer changes, and those in which it receives no goods.
FIXED = frozenset({POStatus.CANCELLED, POStatus.CLOSED, POStatus.RECEIVED,
                   POStatus.AWAITING_RELEASE})
NOT_RECEIVING = frozenset({POStatus.CANCELLED, POStatus.CLOSED, POStatus.AWAITING_RELEASE})
# Statuses that follow the receipts; cancelled and closed POs keep theirs.
FOLLOWING_RECEIPTS = frozenset({POStatus.OPEN, POStatus.PARTIALLY_RECEIVED, POStatus.RECEIVED})
# Days after today a GRN may be dated when KYROS_GRN_DAYS_AHEAD does not say.
GRN_DAYS_AHEAD = 7
# Said of a running total that counts the earlier rows of the file being uploaded.
IN_FILE = " (this file included)"

MAX_LENGTH = 50
# A PO number is a segment of its pages' addresses (/purchasing/<season>/pos/<po_number>), a
# key in upload files and a cell in exports. Letters, digits, '-', '_' and '.' need no
# escaping anywhere; '/', '?', '#', '%' and spaces break the address. The first character is
# a letter or digit so that '.' and '..' (which browsers fold away) and a leading '-' (read
# as a formula by spreadsheets) cannot occur. ASCII only: look-alike letters from other
# scripts would make two numbers that read the same.
_ALLOWED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*", re.ASCII)
# The PO list's own sub-pages sit where a PO number would: /pos/new and /pos/figures.
RESERVED = frozenset({"new", "figures"})
RULE = ("may hold only letters A–Z, digits, '-', '_' and '.', starting with a letter or "
        "digit (e.g. PO-2026.001_A)")


def number_problem(number: str | None) -> str | None:
    """Why the trimmed `number` cannot be a PO or GRN number, or None when it can.

    1–50 characters of ASCII letters, digits, '-', '_' and '.', the first a letter or a
    digit, and not a word the PO pages use themselves. The caller puts the field's label
    in front of the message ("PO number may hold only …").
    """
    if not number:
        return "is required"
    if len(number) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if not _ALLOWED.fullmatch(number):
        return RULE
    if number in RESERVED:
        return f"cannot be '{number}', a word the PO pages use themselves"
    return None


def po_source(source: str | None) -> POSource:
    """The PO's source, one of POSource (an upload names its file format when the row does
    not say). Raises ValidationFailed on `source`."""
    found = SOURCES.get(source)
    if found is None:
        raise ValidationFailed({"source": SOURCE_RULE})
    return found


def checked_po_value(raw, *, required: bool = True) -> Decimal | None:
    """A typed PO value: within its column and more than 0 (SPEC §2); ValidationFailed on
    `po_value`. None only when not `required` and nothing was typed."""
    value = decimal_value(raw, "po_value", "PO value", required=required,
                          digits=PO_VALUE_DIGITS)
    at_least(value, ZERO, "po_value", "PO value", strict=True)
    return value


def po_terms(po_value: Decimal, order_date: date, delivery_date: date | None,
             source: str | None, *, months, season_code: str) -> tuple[date, POSource]:
    """A PO's value, delivery and source (SPEC §2): (delivery date, source).

    The value (read into its column's digits) is more than 0; the delivery date defaults to
    the order date and is on or after it; the delivery month is one of the season's `months`
    (first days of the month); the source is one of POSource. Raises ValidationFailed on
    the first field that breaks its rule.
    """
    at_least(po_value, ZERO, "po_value", "PO value", strict=True)
    delivery = delivery_date or order_date
    if delivery < order_date:
        raise ValidationFailed({"delivery_date": "Delivery date must be on or after the order "
                                "date"})
    month = month_start(delivery)
    if month not in months:
        raise ValidationFailed({"delivery_date": f"Delivery month {month:%Y-%m} is not a month "
                                f"of season {season_code}"})
    return delivery, po_source(source)


def require_changeable(po_number: str, status: POStatus) -> None:
    """A cancelled, short-closed or fully received PO no longer changes (SPEC §2).
    Raises ValidationFailed on `status`."""
    if status in FIXED:
        raise ValidationFailed({"status": f"PO {po_number} is {status.title.lower()} and can "
                                "no longer be changed"})


def check_po_change(po_value: Decimal, received: Decimal, order_date: date | None = None,
                    first_receipt: date | None = None) -> None:
    """A PO's new value is never below what it has received, and its order date never after
    its first goods receipt (`first_receipt`, None without one). ValidationFailed on
    `po_value` or `order_date`."""
    if po_value < received:
        raise ValidationFailed({"po_value": f"PO value cannot be below the {money(received)} "
                                "already received"})
    if first_receipt is not None and order_date > first_receipt:
        raise ValidationFailed({"order_date": "Order date cannot be after a goods receipt "
                                f"({first_receipt.isoformat()})"})


def over_otb(otb: Decimal, committed_before: Decimal, po_value: Decimal, *, month: date,
             policy: str, in_file: bool = False, adjustments: Decimal = ZERO) -> Decimal | None:
    """How far a PO of `po_value` takes its OTB cell's month over OTB, None when within (SPEC
    §5): `committed_before` is what the cell's other POs commit (planning/otb.py).

    The cell's committed total with this PO must fit a money column (the database sums it on
    every page). Under policy `block` a PO over OTB is refused with the cell's OTB, committed
    and remaining; under `warn` the amount over is returned for the caller to report.
    `in_file`: the committed total counts the earlier rows of an upload. `adjustments`: the
    approved moves of open to buy into (or out of) the cell, which its budget adds to the OTB
    (issue 17). ValidationFailed on `po_value`.
    """
    committed_after = committed_before + po_value
    # The message is made only for a refusal: an upload asks this of every row.
    problem = PO_VALUE_DIGITS.problem(committed_after)
    if problem:
        raise ValidationFailed({"po_value": f"The committed total of the cell in {month:%Y-%m} "
                                f"with this PO{IN_FILE if in_file else ''} {problem}"})
    cell_budget = budget(otb, adjustments)
    over_by = committed_after - cell_budget
    if over_by <= ZERO:
        return None
    if policy == "block":
        moved = f", adjustments {money(adjustments)}" if adjustments else ""
        raise OverBudget({"po_value": (
            f"This PO would take {month:%Y-%m} over OTB by {money(over_by)}: OTB {money(otb)}"
            f"{moved}, committed {money(committed_before)}, remaining "
            f"{money(remaining(cell_budget, committed_before))}")})
    return over_by


def checked_received_value(raw) -> Decimal:
    """A typed received value: within its column and more than 0; ValidationFailed on
    `received_value`."""
    value = decimal_value(raw, "received_value", "Received value", digits=RECEIVED_DIGITS)
    at_least(value, ZERO, "received_value", "Received value", strict=True)
    return value


def check_receipt(po_number: str, status: POStatus, order_date: date, grn_date: date,
                  received_value: Decimal, *, today: date, days_ahead: int) -> None:
    """Goods may be received against a PO (SPEC §2): not a cancelled or short-closed one, a
    value more than 0, dated on or after the PO's order date and at most `days_ahead` days
    after `today` (KYROS_GRN_DAYS_AHEAD: a receipt is recorded when the goods arrive, so a
    date far ahead is a typing error). ValidationFailed on `po_id`, `received_value` or
    `grn_date`."""
    if status in NOT_RECEIVING:
        raise ValidationFailed({"po_id": f"PO {po_number} is {status.title.lower()}; no goods "
                                "can be received against it"})
    at_least(received_value, ZERO, "received_value", "Received value", strict=True)
    if grn_date < order_date:
        raise ValidationFailed({"grn_date": "GRN date must be on or after the PO's order date "
                                f"({order_date.isoformat()})"})
    latest = today + timedelta(days=days_ahead)
    if grn_date > latest:
        raise ValidationFailed({"grn_date": f"GRN date {grn_date.isoformat()} is more than "
                                f"{days_ahead} days after today ({today.isoformat()}); the "
                                f"latest accepted is {latest.isoformat()}"})


def receipt_allowance(tolerance: Decimal) -> Decimal:
    """What a PO's value is multiplied by for the most it may receive: 1 + tolerance %."""
    return 1 + tolerance / HUNDRED


def check_received_total(po_number: str, po_value: Decimal, received: Decimal,
                         received_value: Decimal, allowance: Decimal, *,
                         in_file: bool = False) -> None:
    """A receipt of `received_value` on top of the `received` so far fits (SPEC §2): the total
    fits a money column (the database sums it), and stays within the PO's value times the
    `allowance` (receipt_allowance). The refusal names the PO's value, what is received
    already and how much more may be. `in_file`: `received` counts the earlier rows of an
    upload. ValidationFailed on `received_value`."""
    note = IN_FILE if in_file else ""
    total = received + received_value
    problem = RECEIVED_DIGITS.problem(total)
    if problem:
        raise ValidationFailed({"received_value": f"The total received against PO "
                                f"{po_number}{note} {problem}"})
    limit = po_value * allowance
    if total > limit:
        raise ValidationFailed({"received_value": (
            f"Over-receipt: PO {po_number} is for {money(po_value)}, {money(received)} is "
            f"received already{note}, so at most {money(max(limit - received, ZERO))} more "
            "can be received")})


def still_to_receive(status: POStatus, po_value: Decimal, received: Decimal) -> Decimal:
    """What a PO still awaits (SPEC §2): its value less what it has received, never below 0;
    nothing once it is short-closed or cancelled."""
    if status in (POStatus.CLOSED, POStatus.CANCELLED):
        return ZERO
    return max(po_value - received, ZERO)


def status_after_receipts(status: POStatus, po_value: Decimal, received: Decimal) -> POStatus:
    """A PO's status once it has `received` in all (SPEC §2): received when it reaches the
    value, partially received when anything, else open. Cancelled and short-closed POs keep
    their status."""
    if status not in FOLLOWING_RECEIPTS:
        return status
    if received >= po_value:
        return POStatus.RECEIVED
    return POStatus.PARTIALLY_RECEIVED if received > ZERO else POStatus.OPEN
