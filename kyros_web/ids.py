"""Generated codes (SPEC §2): season `XXXX-XXXX`, location 16 characters, A–Z 0–9."""
from __future__ import annotations

import secrets
import string
from typing import Callable

ALPHABET = string.ascii_uppercase + string.digits


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def season_code() -> str:
    return f"{_random(4)}-{_random(4)}"


def location_code() -> str:
    return _random(16)


def unique_code(generate: Callable[[], str], taken: Callable[[str], bool],
                attempts: int = 10) -> str:
    """A generated code that `taken` says is free; retried on collision.

    With 36^8 season codes a collision is rare but possible; the unique constraint
    still guards the race between two requests that draw the same code.
    """
    for _ in range(attempts):
        code = generate()
        if not taken(code):
            return code
    raise RuntimeError(f"no free code after {attempts} attempts")
