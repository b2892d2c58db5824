"""Enumerations whose members carry the words users read. Pure."""
from __future__ import annotations

from enum import StrEnum


class Titled(StrEnum):
    """A StrEnum whose members are written `NAME = "value", "Title"`: the value is stored and
    compared, the title is what pages, messages and exports show."""

    def __new__(cls, value: str, title: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member._title = title
        return member

    @property
    def title(self) -> str:
        return self._title
