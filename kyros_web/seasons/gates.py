"""The gates for leaving each status (SPEC §3): hard ones block, soft ones warn. Pure."""
from __future__ import annotations

from dataclasses import dataclass

from .workflow import Area, SeasonStatus


@dataclass(frozen=True)
class SeasonFacts:
    """Counts about one season's data that the gates are decided on."""

    active_locations: int = 0
    locations_without_plans: int = 0
    plan_rows: int = 0
    unapproved_plans: int = 0
    otb_rows: int = 0
    otb_plan_mismatches: int = 0
    stock_chain_breaks: int = 0
    negative_otb_cells: int = 0
    leaves_missing_range: int = 0
    open_pos: int = 0
    pos_over_otb: int = 0


@dataclass(frozen=True)
class Gate:
    message: str
    passed: bool
    hard: bool
    fix: Area  # where the user goes to fix it

    @property
    def blocks(self) -> bool:
        return self.hard and not self.passed


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def gates(status: SeasonStatus, f: SeasonFacts) -> list[Gate]:
    """The checklist for leaving `status`, hard gates first."""
    s = SeasonStatus(status)
    if s is SeasonStatus.CREATED:
        return [Gate("At least one active location is assigned"
                     if f.active_locations else "Assign at least one active location",
                     f.active_locations > 0, True, Area.LOCATIONS)]
    if s is SeasonStatus.LOCATIONS_DEFINED:
        return [
            Gate("The season has at least one plan row" if f.plan_rows
                 else "Add or upload at least one plan row", f.plan_rows > 0, True, Area.PLANS),
            Gate(f"{_n(f.locations_without_plans, 'assigned location')} without plans"
                 if f.locations_without_plans else "Every assigned location has plans",
                 f.locations_without_plans == 0, False, Area.PLANS),
            Gate(f"{_n(f.unapproved_plans, 'plan row')} not approved" if f.unapproved_plans
                 else ("All plan rows are approved" if f.plan_rows else "No plan rows to approve yet"),
                 f.unapproved_plans == 0, False, Area.PLANS),
        ]
    if s is SeasonStatus.PLAN_UPLOADED:
        return [
            Gate("The season has at least one OTB row" if f.otb_rows
                 else "Add or upload at least one OTB row", f.otb_rows > 0, True, Area.OTB),
            Gate(f"{_n(f.otb_plan_mismatches, 'location × category', 'location × category pairs')}"
                 " where OTB planned sales differ from the season plan by more than 1 %"
                 if f.otb_plan_mismatches else "OTB planned sales match the season plan",
                 f.otb_plan_mismatches == 0, False, Area.OTB),
            Gate(f"{_n(f.stock_chain_breaks, 'month')} whose opening stock is not the previous "
                 "month's closing stock" if f.stock_chain_breaks
                 else "Opening stock follows the previous month's closing stock",
                 f.stock_chain_breaks == 0, False, Area.OTB),
            Gate(f"{_n(f.negative_otb_cells, 'OTB cell')} with negative OTB (over-bought)"
                 if f.negative_otb_cells else "No negative OTB",
                 f.negative_otb_cells == 0, False, Area.OTB),
        ]
    if s is SeasonStatus.OTB_UPLOADED:
        return [Gate(f"{_n(f.leaves_missing_range, 'leaf category', 'leaf categories')} with OTB"
                     " but no range intent" if f.leaves_missing_range
                     else "Every leaf category with OTB has a range intent",
                     f.leaves_missing_range == 0, True, Area.RANGE)]
    if s is SeasonStatus.RANGE_UPLOADED:
        return [
            Gate(f"{_n(f.open_pos, 'PO')} still open or partly received"
                 if f.open_pos else "No open POs", f.open_pos == 0, False, Area.PURCHASING),
            Gate(f"{_n(f.pos_over_otb, 'PO')} over OTB" if f.pos_over_otb
                 else "No PO takes its month over OTB", f.pos_over_otb == 0, False,
                 Area.PURCHASING),
        ]
    return []


def blocking(checklist: list[Gate]) -> list[str]:
    """Messages of the hard gates that fail."""
    return [g.message for g in checklist if g.blocks]
