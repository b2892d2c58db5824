"""A season's data, read by the same selects for two uses: the data workbook (a sheet per
table, the OTB as uploaded and the adjustments that move it on a sheet of their own) and the
fingerprint printed on the pack, so the fingerprint covers exactly what the workbook holds."""
from __future__ import annotations

import hashlib
from decimal import Decimal

from sqlalchemy import Boolean, String, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from ..planning.adjustments import scope_words
from ..planning.rules import PRICE_BANDS
from ..versions import cached
from . import sql
from .report import COUNT, DATE, MONEY, MONTH, NUMBER, Column, Table, band



# Per table of sql.season_data: the sheet title, its columns, and a row as cells.
SHEETS = {
    "locations": ("Locations", [Column("location_code"), Column("location_name"),
                                Column("type"), Column("active")],
                  lambda r: [r.location_code, r.name, r.type.value,
                             "yes" if r.is_active else "no"]),
    "plans": ("Plans", [Column("location_code"), Column("location_name"),
                        Column("category_code"), Column("category_name"),
                        Column("planned_sales", MONEY), Column("planned_margin", NUMBER),
                        Column("inventory_turns", NUMBER), Column("approved")],
              lambda r: [r.location_code, r.location_name, r.category_code, r.category_name,
                         r.planned_sales, r.planned_margin, r.inventory_turns,
                         "yes" if r.approved else "no"]),
    "otb": ("OTB", [Column("location_code"), Column("category_code"), Column("month", MONTH),
                    *[Column(n, MONEY) for n in ("planned_sales", "planned_markdowns",
                                                 "planned_closing_stock", "opening_stock",
                                                 "on_order", "approved_spend_limit")]],
            lambda r: list(r)),
    "range": ("Range intent", [Column("category_code"), Column("core_percent", NUMBER),
                               Column("fashion_percent", NUMBER),
                               *[Column(f"price_band_{b}", NUMBER) for b in PRICE_BANDS]],
              lambda r: [r.category_code, r.core_percent, r.fashion_percent,
                         *[band(r.price_band_mix, b) for b in PRICE_BANDS]]),
    "pos": ("POs", [Column("po_number"), Column("location_code"), Column("category_code"),
                    Column("supplier"), Column("order_date", DATE), Column("delivery_date", DATE),
                    Column("po_value", MONEY), Column("status"), Column("source")],
            lambda r: [r.po_number, r.location_code, r.category_code, r.supplier, r.order_date,
                       r.delivery_date, r.po_value, r.status.value, r.source.value]),
    "actuals": ("Actuals", [Column("location_code"), Column("category_code"),
                            Column("month", MONTH),
                            *[Column(n, MONEY) for n in ("net_sales", "markdowns",
                                                         "closing_stock")],
                            Column("units_sold", COUNT), Column("closing_units", COUNT)],
                lambda r: list(r)),
    "grns": ("GRNs", [Column("grn_number"), Column("po_number"), Column("grn_date", DATE),
                      Column("received_value", MONEY)],
             lambda r: list(r)),
    "adjustments": ("Adjustments", [Column("number", COUNT), Column("status"),
                                    Column("amount", MONEY), Column("from_scope"),
                                    Column("to_scope"), Column("reason"),
                                    Column("requested_by"), Column("decided_by"),
                                    Column("decision_note"), Column("override_reason"),
                                    Column("location_code"), Column("category_code"),
                                    Column("month", MONTH), Column("line_amount", MONEY)],
                    lambda r: [r.number, r.status, r.amount, scope_words(r._mapping, "from"),
                               scope_words(r._mapping, "to"), r.reason, r.requested_by, r.decided_by,
                               r.decision_note, r.override_reason, r.location_code,
                               r.category_code, r.month, r.line_amount]),
}


def season_tables(session: Session, season) -> list[tuple[str, Table]]:
    """Every table of the season's data, as (sheet title, table)."""
    tables = []
    for name, stmt in sql.season_data(season.id):
        title, columns, cells = SHEETS[name]
        tables.append((title, Table(name, title, columns,
                                    [cells(r) for r in session.execute(stmt)])))
    return tables


# The rows of a table are hashed in chunks of this many: the fingerprint is sha256 over the
# season record and, table by table, each chunk's sha256 (of its rows, a line each).
CHUNK = 10_000
# The large tables, hashed by PostgreSQL itself where it runs: formatting millions of values in
# Python cost a large season's pack half a minute.
IN_DATABASE = ("plans", "otb", "pos", "actuals", "grns")


def fingerprint(session: Session, season) -> str:
    """sha256 over the season record (its reforecast method included: the In season figures
    follow it) and every row of the data workbook's tables, read in a fixed order, so a
    printed pack can be matched to the data it came from; the same data always gives the
    same value. Each row is a line of its values (`_canonical`) joined by "|"; each table's
    rows are hashed CHUNK at a time and the chunks' digests go into the fingerprint. On
    PostgreSQL the large tables' chunks are hashed in the database (`_chunks_in_sql`),
    with the same lines; tests/web/test_analytics.py checks both ways agree."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    digest = hashlib.sha256()
    digest.update(f"{season.season_code}|{season.name}|{season.start_date}|{season.end_date}|"
                  f"{season.status.value}|{season.reforecast_method}\n".encode())
    for name, stmt in sql.season_data(season.id):
        chunks = (_chunks_in_sql(session, stmt) if postgresql and name in IN_DATABASE
                  else _chunks(session, stmt))
        for chunk in chunks:
            digest.update(f"{name}:{chunk}\n".encode())
        digest.update(b"--\n")
    return digest.hexdigest()


def _chunks(session: Session, stmt) -> list[str]:
    """The sha256 of each CHUNK rows of a table, formatted in Python."""
    chunks, lines = [], []
    for row in session.execute(stmt.execution_options(yield_per=5000)):
        lines.append("|".join(_canonical(v) for v in row) + "\n")
        if len(lines) == CHUNK:
            chunks.append(hashlib.sha256("".join(lines).encode()).hexdigest())
            lines = []
    if lines:
        chunks.append(hashlib.sha256("".join(lines).encode()).hexdigest())
    return chunks


def _chunks_in_sql(session: Session, stmt) -> list[str]:
    """The same digests as _chunks, computed by PostgreSQL: each row's line built in SQL
    with the canonical form of its values, numbered in the table's order, and each CHUNK
    lines hashed by sha256()."""
    line = func.concat_ws("|", *[_canonical_sql(c) for c in stmt.selected_columns],
                          type_=String)
    numbered = (stmt.with_only_columns(
        func.row_number().over(order_by=stmt._order_by_clauses).label("n"),
        line.label("line"), maintain_column_froms=True).order_by(None).subquery("numbered"))
    chunk = ((numbered.c.n - 1) // CHUNK).label("chunk")
    text = func.string_agg(numbered.c.line + "\n",
                           aggregate_order_by(literal(""), numbered.c.n))
    return list(session.scalars(
        select(func.encode(func.sha256(func.convert_to(text, "UTF8")), "hex"))
        .group_by(chunk).order_by(chunk)))


def _canonical_sql(column):
    """A column's value as text, as _canonical writes it ('' for none)."""
    kind = column.type
    if isinstance(kind, Boolean):
        value = case((column.is_(True), "True"), else_="False")
        return func.coalesce(case((column.is_(None), None), else_=value), "")
    return func.coalesce(cast(column, String), "")


def cached_fingerprint(session: Session, season) -> str:
    """The fingerprint, from the figure cache (it changes with the season's data version)."""
    return cached(session, season.id, ("fingerprint",), lambda: fingerprint(session, season))


def _canonical(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ",".join(f"{k}={value[k]}" for k in sorted(value))
    if hasattr(value, "value") and not isinstance(value, (str, int, Decimal)):
        return str(value.value)
    return str(value)
