"""The one import engine (SPEC §6): every row parsed and checked before anything is written,
counts of new / updated / unchanged / rejected, and the all-or-nothing write. What differs
per kind lives in a small handler (kinds.py); this module never knows which kind it runs."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from . import parsing

MAX_ROWS = 1_000_000
FIRST_ERRORS = 50
CHUNK = 5000


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
    rejected_rows: dict[int, str] = field(default_factory=dict)  # row → all its messages
    total: int = 0

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows)


def _shown(value) -> str:
    return "" if value is None else str(value)[:200]


def analyse(handler, table: parsing.Table, *, write: bool = False,
            max_rows: int | None = None) -> Analysis:
    """Check every row of the table with the handler; with `write`, hand clean rows to it in
    chunks (the caller's transaction makes that all or nothing)."""
    max_rows = max_rows or MAX_ROWS
    result = Analysis()
    seen: dict[tuple, int] = {}
    outcomes: dict[int, str] = {}
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
            key = handler.key_of(values)
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
        if problems:
            _reject(result, problems)
            continue
        outcome = handler.classify(record)
        result.counts[outcome] += 1
        outcomes[number] = outcome
        if write and outcome in pending:
            pending[outcome].append(record)
            if len(pending[outcome]) >= CHUNK:
                handler.write(outcome, pending[outcome])
                pending[outcome] = []
    for key, column, message in handler.finish_checks():
        number = seen[key]
        result.counts[outcomes.pop(number)] -= 1
        _reject(result, [CellProblem(number, column, "", message)])
    if write and not result.rejected_rows:
        for outcome, records in pending.items():
            if records:
                handler.write(outcome, records)
        handler.after_write()
    return result


def _reject(result: Analysis, problems: list[CellProblem]) -> None:
    number = problems[0].row
    messages = "; ".join(p.message for p in problems)
    result.rejected_rows[number] = (result.rejected_rows[number] + "; " + messages
                                    if number in result.rejected_rows else messages)
    room = FIRST_ERRORS - len(result.errors)
    result.errors.extend(problems[:max(room, 0)])
