"""What a PO or GRN number may be made of (SPEC §2): one rule for the forms, the services and
the upload files. Pure."""
from __future__ import annotations

import re

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
