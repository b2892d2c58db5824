"""Roles and what each may do (SPEC §4): one table, read by views and services alike."""
from __future__ import annotations

from enum import StrEnum

from ..errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    BUYER = "buyer"
    VIEWER = "viewer"

    @property
    def title(self) -> str:
        return self.value.capitalize()


class Action(StrEnum):
    MANAGE_USERS = "manage_users"
    EDIT_MASTERDATA = "edit_masterdata"
    MANAGE_SEASONS = "manage_seasons"
    EDIT_PLANNING = "edit_planning"
    EDIT_PURCHASING = "edit_purchasing"
    UPLOAD = "upload"  # some kind of file; the kind decides which of the above applies
    # Decide what someone else asked for: moving OTB (issue 17); never one's own request.
    APPROVE = "approve"
    # Acknowledge an exception of the inbox with a note (issue 17, item 4).
    ACKNOWLEDGE = "acknowledge"
    READ = "read"


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.MANAGE_USERS: frozenset({Role.ADMIN}),
    Action.EDIT_MASTERDATA: frozenset({Role.ADMIN, Role.PLANNER}),
    Action.MANAGE_SEASONS: frozenset({Role.ADMIN, Role.PLANNER}),
    Action.EDIT_PLANNING: frozenset({Role.ADMIN, Role.PLANNER}),
    Action.EDIT_PURCHASING: frozenset({Role.ADMIN, Role.BUYER}),
    Action.UPLOAD: frozenset({Role.ADMIN, Role.PLANNER, Role.BUYER}),
    Action.APPROVE: frozenset({Role.ADMIN, Role.PLANNER}),
    Action.ACKNOWLEDGE: frozenset({Role.ADMIN, Role.PLANNER, Role.BUYER}),
    Action.READ: frozenset(Role),
}


def may(role: Role | str, action: Action) -> bool:
    """True when the role is allowed the action."""
    return Role(role) in PERMISSIONS[action]


def require(user, action: Action) -> None:
    """Raise Forbidden unless the acting user is active and their role allows the action.

    Services call this too, so a path that skips the view check still cannot write.
    """
    if user is None or not getattr(user, "is_active", False) or not may(user.role, action):
        raise Forbidden("You do not have permission to do this.")
