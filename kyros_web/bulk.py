"""Many rows in one go, for the import engine and the planning grid: new rows by COPY on
PostgreSQL (one executemany INSERT elsewhere), changed rows by one UPDATE joined to the new
values as arrays on PostgreSQL (an executemany UPDATE by primary key elsewhere). All run on
the session's connection, inside its transaction, so a later failure rolls the rows back with
everything else (SPEC §6: all rows or none)."""
from __future__ import annotations

import gc
from contextlib import contextmanager

from sqlalchemy import insert, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from . import summaries
from .versions import season_of_scope, touch


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector paused while a step builds a season's worth of rows
    (usable as a decorator). Each collection it would start walks every object the step has
    made so far, again and again as they grow: at 68,400 OTB rows that cost a spread or an
    undo about a second. Reference counting still frees memory meanwhile; any cycles are
    collected once the collector runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def insert_rows(session: Session, model, records: list[dict], *, scope: str) -> None:
    """INSERT the records (column → value, the same columns in each) into the model's table;
    a column missing from them gets its Python-side default, as with insert(). `scope` is
    the data version the rows belong to (COPY is invisible to the ORM, so it is named)."""
    if not records:
        return
    touch(session, scope)
    summaries.note_rows(session, model, records, season_id=season_of_scope(scope))
    conn = session.connection()
    table = model.__table__
    defaults = [c for c in table.columns
                if c.key not in records[0] and c.default is not None and c.computed is None]
    if (conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"
            and all(d.default.is_scalar or d.default.is_callable for d in defaults)):
        _copy(conn, table, records, defaults)
    else:
        session.execute(insert(model).execution_options(version_scope=scope), records)


def _copy(conn, table, records: list[dict], defaults: list) -> None:
    # One INSERT per row costs PostgreSQL a parse-bind-execute round each even when
    # pipelined; COPY streams the rows. Values go through the column types' own bind
    # processing (enums to their values, JSON wrapped), the same as an INSERT would.
    from psycopg import Error, sql

    dialect = conn.dialect
    names = list(records[0])
    columns = [table.c[n] for n in names] + defaults
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    converted = [(i, p) for i, p in enumerate(processors) if p is not None]
    column_list = sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table.name), column_list)
    cursor = conn.connection.cursor()
    try:
        # The binary format is several times cheaper to write than text, but needs each
        # column's type: the table itself says which.
        cursor.execute(sql.SQL("SELECT {} FROM {} WHERE false").format(
            column_list, sql.Identifier(table.name)))
        types = [d.type_code for d in cursor.description]
        with cursor.copy(statement) as copy:
            copy.set_types(types)
            for record in records:
                row = [record[n] for n in names]
                row.extend(_default(c) for c in defaults)
                for i, process in converted:
                    row[i] = process(row[i])
                copy.write_row(row)
    except Error as exc:
        raise DBAPIError.instance(statement.as_string(cursor), None, exc, Error,
                                  dialect=dialect) from exc
    finally:
        cursor.close()


def _default(column):
    default = column.default
    return default.arg(None) if default.is_callable else default.arg


def update_rows(session: Session, model, records: list[dict], *, scope: str) -> None:
    """UPDATE the model's rows named by each record's "id" to the record's other values;
    records may name different columns (one statement per set of columns). `scope` is the
    data version the rows belong to."""
    if not records:
        return
    summaries.note_rows(session, model, records, season_id=season_of_scope(scope),
                        updating=True)
    conn = session.connection()
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        touch(session, scope)
        alike: dict[tuple, list[dict]] = {}
        for record in records:
            alike.setdefault(tuple(record), []).append(record)
        for group in alike.values():
            _update_from_arrays(conn, model.__table__, group)
    else:
        session.execute(update(model).execution_options(version_scope=scope), records)


def _update_from_arrays(conn, table, records: list[dict]) -> None:
    # An executemany UPDATE costs PostgreSQL a parse-bind-execute round per row even when
    # pipelined; one statement joined to the values as arrays (one per column) costs one.
    # A column with one value for every row (who changed them, and when) is sent once:
    # psycopg dumps an array element by element in Python.
    dialect = conn.dialect
    params, arrays, aliases, assignments = {}, [], [], []
    for i, name in enumerate(records[0]):
        column = table.c[name]
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        values = [r[name] for r in records]
        values = [process(v) for v in values] if process else values
        cast = column.type.compile(dialect=dialect)
        if name != "id" and values.count(values[0]) == len(values):
            params[f"v{i}"] = values[0]
            assignments.append(f'"{column.name}" = CAST(:v{i} AS {cast})')
            continue
        params[f"v{i}"] = values
        arrays.append(f"CAST(:v{i} AS {cast}[])")
        aliases.append(f"c{i}")
        if name == "id":
            id_alias = aliases[-1]
        else:
            assignments.append(f'"{column.name}" = v.c{i}')
    conn.execute(text(
        f'UPDATE "{table.name}" AS t SET {", ".join(assignments)} '
        f"FROM unnest({', '.join(arrays)}) AS v({', '.join(aliases)}) "
        f"WHERE t.id = v.{id_alias}"), params)
