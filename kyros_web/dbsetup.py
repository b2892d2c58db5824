"""Engine settings per dialect: SQLite needs foreign keys switched on and real transactions;
PostgreSQL runs without JIT compilation."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        @event.listens_for(engine, "connect")
        def _no_jit(dbapi_connection, _record):
            # Our statements are short: compiling one (20-40 ms, triggered by cost estimates
            # that count a subquery per row even when it never runs) costs more than it saves.
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET jit = off")
            dbapi_connection.commit()
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so
        # SAVEPOINT works; and enforce foreign keys, which SQLite ignores by default.
        dbapi_connection.isolation_level = None
        # Money is whole cents in 64-bit integers here; SQLite's own SUM fails with "integer
        # overflow" past 9.2e18 cents (ten maximal rows), which would take a page down.
        dbapi_connection.create_window_function("sum", 1, UnboundedSum)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")


class UnboundedSum:
    """SUM for SQLite (aggregate and window) that cannot overflow: whole numbers add up as
    Python integers, exactly; a total beyond 64 bits comes back as a float (no stored value
    or realistic sum is near it). NULLs are skipped and no value gives NULL, as SUM does."""

    def __init__(self):
        self.total = 0
        self.count = 0

    def step(self, value):
        if value is not None:
            self.total += _number(value)
            self.count += 1

    def inverse(self, value):
        if value is not None:
            self.total -= _number(value)
            self.count -= 1

    def value(self):
        if not self.count:
            return None
        if isinstance(self.total, int) and not -2 ** 63 <= self.total < 2 ** 63:
            return float(self.total)
        return self.total

    finalize = value


def _number(value):
    """A value as SQLite's SUM reads it: numbers as they are, text by its leading number."""
    if isinstance(value, (int, float)):
        return value
    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    for kind in (int, float):
        try:
            return kind(text.strip())
        except ValueError:
            continue
    return 0
