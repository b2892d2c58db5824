"""What an analytics page is made of: KPIs, charts and tables of typed cells. The same
report is rendered as HTML, printed, and exported to CSV and XLSX."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

KPI_TABLE = "kpis"

# Column kinds decide formatting on screen and cell types in exports.
TEXT, MONEY, PERCENT, COUNT, DATE, MONTH, NUMBER = ("text", "money", "percent", "count", "date",
                                                    "month", "number")
PO = "po"  # a PO number: text in exports, a link to the PO on a page
PROSE = "prose"  # words that wrap (a reason, a note), where other cells keep to one line


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = TEXT
    # On screen, a cell of this column links to the OTB grid filtered to its row (the row's
    # link) and to these filters as well, e.g. {"flag": "over"}; None: no link.
    drill: dict | None = None


@dataclass
class Table:
    name: str  # also the sheet name and the CSV file name
    title: str
    columns: list[Column]
    rows: list[list]
    note: str = ""
    total: list | None = None  # a totals row, same shape as rows
    # Per row, the OTB grid filters that show its cells (month, category, cluster, location),
    # or None for a row the grid cannot narrow to; on screen the row's first cell links there.
    links: list[dict | None] | None = None


@dataclass
class Kpi:
    label: str
    value: object
    kind: str = MONEY
    drill: dict | None = None  # on screen, links to the OTB grid with these filters


@dataclass
class Report:
    slug: str
    title: str
    kpis: list[Kpi] = field(default_factory=list)
    charts: list = field(default_factory=list)  # Markup of inline SVG
    tables: list[Table] = field(default_factory=list)
    filters: dict = field(default_factory=dict)  # shown in the print header
    notes: list[str] = field(default_factory=list)  # sentences shown under the key figures
    # What the page's filter controls offer and which option is chosen (not printed).
    choices: dict = field(default_factory=dict)

    def table(self, name: str) -> Table:
        return next(t for t in self.exported if t.name == name)

    @property
    def exported(self) -> list[Table]:
        """What an export of the page holds: its KPIs as a one-row table (a column per KPI,
        typed by its kind), then its tables."""
        if not self.kpis:
            return self.tables
        return [Table(KPI_TABLE, "Key figures", [Column(k.label, k.kind) for k in self.kpis],
                      [[k.value for k in self.kpis]]), *self.tables]


def band(mix: dict, name: str) -> Decimal | None:
    """One price band's percentage from a stored mix, or None when the mix has no such band."""
    return Decimal(mix[name]) if mix.get(name) is not None else None
