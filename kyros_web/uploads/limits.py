"""What reading an uploaded file may cost (SPEC §6): the limits, the time budget and the errors
that refuse a whole file. Pure: no Flask, no database."""
from __future__ import annotations

import time
from dataclasses import dataclass

MB = 1024 * 1024

# Measured on the bench retailer's OTB file (68,400 rows) written by openpyxl with inline
# strings, the most verbose writer: its sheet unpacks to 32 MB at 11:1, so a 1,000,000-row
# workbook of our widest kind unpacks to about 470 MB. See docs/notes-uploads.md.
MAX_MEMBERS = 1000  # an Excel workbook holds 10 to 30 parts
MAX_DIRECTORY_BYTES = 4 * MB  # the zip's central directory, read before anything else
MAX_UNPACKED = 1024 * MB  # all parts together, as declared and as actually read
MAX_RATIO = 200  # unpacked : packed, for parts over RATIO_FROM; real sheets are 5-30
RATIO_FROM = 1 * MB
MAX_SMALL_PART = 16 * MB  # workbook, relationships and styles parts
MAX_SHARED_STRINGS = 2_000_000
MAX_SHARED_CHARS = 64_000_000
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
# XML text or a tag without a '<' for this long cannot be one Excel cell (32,767 characters,
# at most 6 bytes each when escaped); it is refused before the parser holds it in memory.
MAX_TEXT_RUN = 256 * 1024
MAX_COLUMNS = 16_384  # Excel's own limit
MAX_DEPTH = 64  # nesting of XML elements
MAX_CELL_PARTS = 1000  # elements inside one cell (rich-text runs)
MAX_ROW_PARTS = 100_000  # elements held for one row until it is read (~10 MB)
MAX_CSV_LINE = 1024 * 1024  # characters in one line of a CSV file
DEFAULT_ROWS = 1_000_000
DEFAULT_SECONDS = 40


class FileRejected(Exception):
    """The whole file is refused (format, size, headers); nothing about single rows."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class LimitExceeded(FileRejected):
    """The file is over a size, row or time limit: refused before anything is stored."""


def too_many_rows(max_rows: int) -> LimitExceeded:
    return LimitExceeded(f"The file has more than {max_rows:,} rows; nothing was stored. "
                         "Split it into smaller files.")


@dataclass
class Budget:
    """How many rows a file may have and how long checking it may take (None: no limit)."""

    max_rows: int = DEFAULT_ROWS
    seconds: float | None = None

    def __post_init__(self):
        self.deadline = None if self.seconds is None else time.monotonic() + self.seconds

    def check(self) -> None:
        """Raise LimitExceeded once the time is up; called every few thousand rows or bytes."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise LimitExceeded(f"The file took too long to check (more than {self.seconds:g} "
                                "seconds); nothing was stored. Split it into smaller files.")
