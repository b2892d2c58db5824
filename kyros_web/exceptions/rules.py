"""The exceptions inbox's rules as data (issue 17, item 4): the kinds of exception, their
severities, the thresholds a season may change and their defaults, how each is measured and
when a measure is worse than the one acknowledged. Pure: no Flask, no database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

ZERO = Decimal("0")
HUNDRED = Decimal("100")


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def title(self) -> str:
        return self.value.capitalize()

    @property
    def rank(self) -> int:
        """0 for high, 1 for medium, 2 for low: the inbox lists the highest first."""
        return list(Severity).index(self)

    def at_least(self, other: "Severity") -> bool:
        """True when this severity is `other` or higher."""
        return self.rank <= Severity(other).rank


@dataclass(frozen=True)
class Kind:
    code: str
    title: str
    severity: Severity
    # True when a larger measure is worse (an amount over budget), False when a smaller one is
    # (a share of the budget left).
    higher_is_worse: bool
    measure: str  # what the figure is, for the page's column and the CLI
    unit: str  # "money", "percent" or "points"


OVER_BUDGET = Kind("over_budget", "Cell over budget", Severity.HIGH, True,
                   "over budget by", "money")
LOW_OPEN_TO_BUY = Kind("low_open_to_buy", "Little open to buy left", Severity.MEDIUM, False,
                       "of its budget left", "percent")
UNDER_USED = Kind("under_used", "Category under-using its budget", Severity.LOW, False,
                  "of its budget committed", "percent")
PO_OVERDUE = Kind("po_overdue", "Open PO past its delivery date", Severity.MEDIUM, True,
                  "not yet received", "money")
STOCK_CHAIN = Kind("stock_chain", "Opening stock ≠ last month's closing stock", Severity.MEDIUM,
                   True, "difference", "money")
PLAN_GAP = Kind("plan_gap", "Plan vs OTB planned sales gap above 1 %", Severity.MEDIUM, True,
                "gap", "money")
SHORT_CLOSED = Kind("short_closed", "Short-closed PO largely not delivered", Severity.LOW, True,
                    "not delivered", "percent")
SELL_THROUGH = Kind("sell_through", "Sell-through below plan", Severity.MEDIUM, True,
                    "points below plan", "points")

KINDS: dict[str, Kind] = {k.code: k for k in (
    OVER_BUDGET, LOW_OPEN_TO_BUY, UNDER_USED, PO_OVERDUE, STOCK_CHAIN, PLAN_GAP, SHORT_CLOSED,
    SELL_THROUGH)}


@dataclass(frozen=True)
class Threshold:
    name: str  # the column and the form field
    label: str
    default: Decimal
    help: str


# The 1 % of the plan vs OTB reconciliation is SPEC §3's and stays fixed; these four are the
# season's to change.
THRESHOLDS = (
    Threshold("low_otb_percent", "Little open to buy left: less than this % of the budget",
              Decimal("10"), "A cell within its budget is listed when what it has left is "
                             "less than this share of its budget (N)."),
    Threshold("under_used_percent", "Under-used budget by half-way: less than this % committed",
              Decimal("50"), "From the season's half-way date, a leaf category is listed when "
                             "its POs commit less than this share of its budget (M)."),
    Threshold("short_closed_percent", "Short-closed PO: more than this % not delivered",
              Decimal("20"), "A short-closed PO is listed when more than this share of its "
                             "value was never received (X)."),
    Threshold("sell_through_points", "Sell-through below plan by more than these points",
              Decimal("5"), "With actuals, a leaf category is listed when its sell-through to "
                            "date is more than this many percentage points below the plan's (Y)."),
)
THRESHOLD_NAMES = tuple(t.name for t in THRESHOLDS)
DEFAULTS = {t.name: t.default for t in THRESHOLDS}


def read_thresholds(values: dict) -> tuple[dict, dict]:
    """(thresholds, errors) from text fields: each a number from 0 to 100 with at most two
    decimals; an error names the field."""
    found, errors = {}, {}
    for t in THRESHOLDS:
        raw = str(values.get(t.name, "") or "").strip()
        try:
            number = Decimal(raw)
        except InvalidOperation:
            errors[t.name] = f"{t.label}: give a number from 0 to 100"
            continue
        if not number.is_finite() or number < 0 or number > HUNDRED:
            errors[t.name] = f"{t.label}: give a number from 0 to 100"
        elif number != number.quantize(Decimal("0.01")):
            errors[t.name] = f"{t.label}: at most two decimals"
        else:
            found[t.name] = number.quantize(Decimal("0.01"))
    return found, errors


def half_way(start: date, end: date) -> date:
    """The season's half-way date: the day in the middle of its first and last day (the
    earlier of the two middle days)."""
    return start + timedelta(days=(end - start).days // 2)


def is_worse(kind: Kind | str, acknowledged: Decimal, now: Decimal) -> bool:
    """True when the exception measures worse now than when it was acknowledged: it then
    opens again. Equal is not worse."""
    kind = KINDS[kind] if isinstance(kind, str) else kind
    return now > acknowledged if kind.higher_is_worse else now < acknowledged


def cell_key(location_code: str, category_code: str, month: date) -> str:
    return f"{location_code}|{category_code}|{month:%Y-%m}"


def pair_key(location_code: str, category_code: str) -> str:
    return f"{location_code}|{category_code}"


def percent_of(part: Decimal, whole: Decimal) -> Decimal:
    """part ÷ whole × 100, to two places (the measure kept when acknowledged); whole > 0."""
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.01"))
