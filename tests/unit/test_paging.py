"""Page numbers from the query string are clamped in one place (paging.page_number)."""
import pytest

from kyros_web.paging import MAX_PAGE, page_number


@pytest.mark.parametrize("raw,expected", [
    ("3", 3), (" 4 ", 4), ("1", 1), ("0", 1), ("-1", 1), ("-99999999999999999999", 1),
    ("10000000000000000000", MAX_PAGE), (str(MAX_PAGE + 1), MAX_PAGE), ("9" * 5000, 1),
    ("abc", 1), ("1e9", 1), ("2.5", 1), ("", 1), (None, 1), (7, 7),
])
def test_page_number(raw, expected):
    """Unreadable is page 1, below 1 is 1, and nothing is above MAX_PAGE."""
    assert page_number(raw) == expected


def test_max_page_keeps_offsets_small():
    """Even a page size of 1000 keeps the OFFSET far inside a 64-bit integer."""
    assert (MAX_PAGE - 1) * 1000 < 2 ** 62
