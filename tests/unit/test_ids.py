"""Generated codes: formats of SPEC §2, from `secrets`, retried on collision."""
import re

import pytest

from kyros_web import ids


def test_season_code_format():
    for _ in range(200):
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", ids.season_code())


def test_location_code_format():
    for _ in range(200):
        assert re.fullmatch(r"[A-Z0-9]{16}", ids.location_code())


def test_codes_differ():
    assert len({ids.season_code() for _ in range(500)}) == 500


def test_unique_code_retries_on_collision():
    drawn = iter(["AAAA-AAAA", "AAAA-AAAA", "BBBB-BBBB"])
    taken = {"AAAA-AAAA"}
    assert ids.unique_code(lambda: next(drawn), taken.__contains__) == "BBBB-BBBB"


def test_unique_code_gives_up():
    with pytest.raises(RuntimeError):
        ids.unique_code(lambda: "SAME-CODE", lambda c: True, attempts=3)
