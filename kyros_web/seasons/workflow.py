"""The season workflow as data: statuses in order, the one legal next step, and what
each status lets you edit (SPEC §3). Pure: no Flask, no database."""
from __future__ import annotations

from ..auth.roles import Action, may
from ..enums import Titled


class SeasonStatus(Titled):
    CREATED = "created", "Created"
    LOCATIONS_DEFINED = "locations_defined", "Locations defined"
    PLAN_UPLOADED = "plan_uploaded", "Plan uploaded"
    OTB_UPLOADED = "otb_uploaded", "OTB uploaded"
    RANGE_UPLOADED = "range_uploaded", "Range uploaded"
    LOCKED = "locked", "Locked"

    @property
    def position(self) -> int:
        return ORDER.index(self)


ORDER: tuple[SeasonStatus, ...] = tuple(SeasonStatus)

NEXT: dict[SeasonStatus, SeasonStatus] = {a: b for a, b in zip(ORDER, ORDER[1:])}


class Area(Titled):
    """What a write touches; each status opens some areas for editing."""

    DETAILS = "details", "Season details"
    LOCATIONS = "locations", "Season locations"
    PLANS = "plans", "Plans"
    OTB = "otb", "OTB"
    RANGE = "range", "Range intent"
    PURCHASING = "purchasing", "Purchase orders and GRNs"
    ACTUALS = "actuals", "Actuals"
    REFORECAST = "reforecast", "The reforecast method"
    ADJUSTMENTS = "adjustments", "OTB adjustments"
    DELETE = "delete", "The season"


# The reforecast method (issue 16) may be chosen until the season is locked.
EDITABLE: dict[SeasonStatus, frozenset[Area]] = {
    SeasonStatus.CREATED: frozenset({Area.DETAILS, Area.LOCATIONS, Area.DELETE,
                                     Area.REFORECAST}),
    SeasonStatus.LOCATIONS_DEFINED: frozenset({Area.DETAILS, Area.LOCATIONS, Area.PLANS,
                                               Area.REFORECAST}),
    SeasonStatus.PLAN_UPLOADED: frozenset({Area.OTB, Area.REFORECAST}),
    # Open to buy may move between cells, by approval, once the OTB is set (issue 17).
    SeasonStatus.OTB_UPLOADED: frozenset({Area.RANGE, Area.REFORECAST, Area.ADJUSTMENTS}),
    # In season: buying goes on and the shops' actuals come in (issue 16).
    SeasonStatus.RANGE_UPLOADED: frozenset({Area.PURCHASING, Area.ACTUALS, Area.REFORECAST,
                                            Area.ADJUSTMENTS}),
    SeasonStatus.LOCKED: frozenset(),
}


def next_status(status: SeasonStatus) -> SeasonStatus | None:
    """The one legal next status, or None once locked."""
    return NEXT.get(SeasonStatus(status))


def is_legal(current: SeasonStatus, target: SeasonStatus) -> bool:
    return NEXT.get(SeasonStatus(current)) == SeasonStatus(target)


def may_edit(status: SeasonStatus, area: Area) -> bool:
    return Area(area) in EDITABLE[SeasonStatus(status)]


def statuses_editing(area: Area) -> list[SeasonStatus]:
    """The statuses in which the area may change, in workflow order."""
    return [s for s in ORDER if area in EDITABLE[s]]


# The permission a write to each area takes (SPEC §4).
AREA_ACTIONS = {
    Area.DETAILS: Action.MANAGE_SEASONS, Area.LOCATIONS: Action.MANAGE_SEASONS,
    Area.DELETE: Action.MANAGE_SEASONS, Area.PLANS: Action.EDIT_PLANNING,
    Area.OTB: Action.EDIT_PLANNING, Area.RANGE: Action.EDIT_PLANNING,
    Area.PURCHASING: Action.EDIT_PURCHASING, Area.ACTUALS: Action.EDIT_PLANNING,
    Area.REFORECAST: Action.MANAGE_SEASONS,
    # Asking to move OTB; deciding takes Action.APPROVE, and never one's own request.
    Area.ADJUSTMENTS: Action.EDIT_PLANNING,
}


def can_edit(user, season, area: Area) -> bool:
    """The user's role may write the area and the season's status opens it: what pages ask
    before they show an edit control (the services check both again when writing)."""
    return (user is not None and getattr(user, "is_authenticated", False)
            and may(user.role, AREA_ACTIONS[area]) and may_edit(season.status, area))
