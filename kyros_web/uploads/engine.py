"""The one import engine (SPEC §6): every row parsed and checked before anything is written,
counts of new / updated / unchanged / rejected, and the all-or-nothing write. What differs
per kind lives in a small handler (kinds.py); this module never knows which kind it runs."""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from ..bulk import collector_paused
from ..errors import ValidationFailed
from . import parsing

MAX_ROWS = 1_000_000
FIRST_ERRORS = 50
# Clean rows handed to the handler's write at a time. Above 5,000 rows a bulk write has its
# season's summaries summed again whole in one pass (analytics/summaries.py MANY_ROWS) rather
# than moved pair by pair: for an import's thousands of pairs that pass costs a fraction of
# reading every pair's sums before and after (68,400 OTB rows: about 1 s instead of 6 s, and
# 160 MB instead of 580 MB). Each chunk is written and dropped, so memory stays bounded.
CHUNK = 20_000
# Rows between two reports to a progress callback (which may write them less often).
REPORT_EVERY = 500


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable
    required: bool = False
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name


class RowError(Exception):
    """A row breaks a rule; `column` names the cell to blame (or None for the whole row)."""

    def __init__(self, column: str | None, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass
class CellProblem:
    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value,
                "message": self.message}


@dataclass
class Analysis:
    counts: Counter = field(default_factory=Counter)
    errors: list[CellProblem] = field(default_factory=list)  # the first FIRST_ERRORS
    # Row → all its messages, for rows not yet handed to the table's on_rejected (which takes
    # them as the file is read, so a million rejected rows are not all held at once).
    rejected_rows: dict[int, str] = field(default_factory=dict)
    total: int = 0
    rejected: int = 0  # rows rejected in all



def _shown(value) -> str:
    return "" if value is None else str(value)[:200]


@collector_paused()
def analyse(handler, table: parsing.Table, *, write: bool = False,
            max_rows: int | None = None, keep_errors: int = FIRST_ERRORS,
            progress: Callable[..., None] | None = None) -> Analysis:
    """Check every row of the table with the handler; with `write`, hand clean rows to it in
    chunks (the caller's transaction makes that all or nothing). The first `keep_errors`
    problems are kept in `errors`. `progress(read, checked, written)` is told the rows so far
    every REPORT_EVERY rows, and once more with `final=True` at the end (a background job
    shows them; it may raise to stop the work)."""
    max_rows = max_rows or MAX_ROWS
    result = Analysis()
    written = 0
    seen: dict[bytes, int] = {}  # row key (as a digest: 16 bytes, not a tuple) → its row
    # Each row's outcome, only for handlers whose checks on the whole file may still refuse
    # a row that passed (a million entries are not kept for nothing).
    outcomes: dict[int, str] | None = {} if handler.checks_whole_file else None
    pending: dict[str, list] = {"new": [], "updated": []}
    columns = [(c.name, c.parse, c.required, c.title) for c in handler.columns]
    for number, raw in table.rows(rejected=result.rejected_rows):
        result.total += 1
        if result.total > max_rows:
            raise parsing.LimitExceeded(f"The file has more than {max_rows:,} rows; nothing was "
                                        "stored. Split it into smaller files.")
        problems: list[CellProblem] = []
        values = {}
        for name, parse, required, title in columns:
            cell = raw.get(name)
            try:
                value = values[name] = parse(cell)
            except parsing.CellError as exc:
                problems.append(CellProblem(number, name, _shown(cell), f"{title} {exc}"))
                continue
            if required and value is None:
                problems.append(CellProblem(number, name, "", f"{title} is required"))
        record = None
        if not problems:
            key = _digest(handler.key_of(values))
            if key in seen:
                problems.append(CellProblem(
                    number, handler.blame, _shown(raw.get(handler.blame)),
                    f"Duplicate of row {seen[key]}: each {handler.key_label} may appear once"))
            else:
                seen[key] = number
                try:
                    record = handler.check(values)
                except RowError as exc:
                    column = exc.column or handler.blame
                    problems.append(CellProblem(number, column, _shown(raw.get(column)),
                                                exc.message))
                except ValidationFailed as exc:
                    # A domain rule (planning/rules.py, purchasing/rules.py) names its field
                    # as the forms do; the handler says which column of the file that is.
                    for field_name, message in exc.errors.items():
                        column = handler.column_for(field_name)
                        problems.append(CellProblem(number, column, _shown(raw.get(column)),
                                                    message))
        if progress is not None and result.total % REPORT_EVERY == 0:
            progress(result.total, result.total - 1, written)
        if problems:
            _reject(result, problems, keep_errors)
            continue
        outcome = handler.classify(record)
        result.counts[outcome] += 1
        if outcomes is not None:
            outcomes[number] = outcome
        if write and outcome in pending:
            pending[outcome].append(record)
            if len(pending[outcome]) >= CHUNK:
                handler.write(outcome, pending[outcome])
                written += len(pending[outcome])
                pending[outcome] = []
    for key, column, message in handler.finish_checks():
        number = seen[_digest(key)]
        result.counts[outcomes.pop(number)] -= 1
        _reject(result, [CellProblem(number, column, "", message)], keep_errors)
    if write and not result.rejected:
        for outcome, records in pending.items():
            if records:
                handler.write(outcome, records)
                written += len(records)
        handler.after_write()
    if progress is not None:
        progress(result.total, result.total, written, final=True)
    return result


def _digest(key: tuple) -> bytes:
    """A row key in 16 bytes: a million keys of a file cost a sixth of their tuples, and two
    different keys share a digest with odds of about 1 in 10^26."""
    return hashlib.blake2b(repr(key).encode(), digest_size=16).digest()


def _reject(result: Analysis, problems: list[CellProblem], keep: int = FIRST_ERRORS) -> None:
    number = problems[0].row
    messages = "; ".join(p.message for p in problems)
    if number in result.rejected_rows:
        result.rejected_rows[number] += "; " + messages
    else:
        result.rejected_rows[number] = messages
        result.rejected += 1
    room = keep - len(result.errors)
    result.errors.extend(problems[:max(room, 0)])
