"""Domain errors raised by services, with the HTTP status each maps to (SPEC §8)."""
from __future__ import annotations


class DomainError(Exception):
    """A rule refused the operation; the message is shown to the user as is."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class WorkflowError(DomainError):
    status_code = 409


class SeasonLocked(WorkflowError):
    def __init__(self, message: str = "Season is locked and cannot be modified"):
        super().__init__(message)


class NotEditable(WorkflowError):
    """The season's status does not open this area for editing."""


class IllegalTransition(WorkflowError):
    def __init__(self, current: str, target: str):
        super().__init__(
            f"Invalid workflow transition: cannot move from '{current}' to '{target}'"
        )
        self.current = current
        self.target = target


class GateFailed(WorkflowError):
    """A hard gate blocks leaving the current status."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


class StaleVersion(DomainError):
    status_code = 409


class Conflict(DomainError):
    """A uniqueness or reference rule: the request clashes with stored data."""

    status_code = 409


class ValidationFailed(DomainError):
    """Input breaks a business rule; `errors` maps field names to messages."""

    status_code = 422

    def __init__(self, errors: dict[str, str] | str):
        if isinstance(errors, str):
            errors = {"": errors}
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class Duplicate(ValidationFailed):
    """A value that must be unique is taken: a form shows it on its field like any check; the
    JSON API answers 409 (conflict) naming the field."""


class OverBudget(ValidationFailed):
    """A PO would take its cell over budget under the `block` policy: a form shows it on the
    PO value like any check; the JSON API answers 409 with its own problem type."""


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404
