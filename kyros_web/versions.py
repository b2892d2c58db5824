"""Data versions, and a cache of derived figures keyed on them.

Every committed write moves a counter: the season's own (`season:<id>`) when the rows it
touched belong to one season, the shared one (`shared`: master data, users, anything whose
season is not known) otherwise. The counters move in the writing transaction, so a reader
that sees the new rows also sees the new version, and a figure cached under
(season version, shared version) can never be served after a write has committed.

Each model declares which counter its rows move (`__version_scope__`: SEASON_DATA,
SHARED_DATA, through(relationship) or NOT_VERSIONED). Writes are noticed three ways: the ORM
flush (every model object written), ORM set-based statements (`session.execute(update(M)…)`,
which move the season named in their rows, or the counter named by the execution option
`version_scope`, or else the shared counter), and `touch(session, scope)`, which any write the ORM does not see (COPY,
raw SQL) must call.

The cache itself lives in each worker process (a bounded LRU); the versions live in the
database, so every worker sees a write on its very next request.
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
import uuid
from collections import OrderedDict
from typing import Any, Callable, Hashable

from flask import current_app
from sqlalchemy import BigInteger, String, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from .extensions import db

SHARED = "shared"
PENDING = "kyros_pending_scopes"


def season_scope(season_id: uuid.UUID) -> str:
    return f"season:{season_id}"


def season_of_scope(scope: str | None) -> uuid.UUID | None:
    """The season a scope names (None for the shared one)."""
    if scope and scope.startswith("season:"):
        return uuid.UUID(scope.removeprefix("season:"))
    return None


class Scope(ABC):
    """Which counter a model's writes move; models declare one as `__version_scope__`."""

    @abstractmethod
    def of_object(self, session: Session, obj: Any) -> str | None:
        """The counter a written object moves (None: it moves none)."""

    def of_rows(self, rows) -> set[str]:
        """The counters a set-based write of these parameter rows moves."""
        return {SHARED}


class _Shared(Scope):
    def of_object(self, session, obj):
        return SHARED


class _NotVersioned(Scope):
    def of_object(self, session, obj):
        return None

    def of_rows(self, rows):
        return set()


class _BySeason(Scope):
    """The season named by a column of the row (a season's own rows: its id)."""

    def __init__(self, column: str):
        self.column = column

    def of_object(self, session, obj):
        season_id = getattr(obj, self.column, None)
        return season_scope(season_id) if season_id else SHARED

    def of_rows(self, rows):
        # Without the season in every row, any season may have changed.
        if rows and all(r.get(self.column) for r in rows):
            return {season_scope(r[self.column]) for r in rows}
        return {SHARED}


class _Through(Scope):
    """The scope of the row a many-to-one relationship points at (a GRN: its PO's)."""

    def __init__(self, relationship: str):
        self.relationship = relationship

    def of_object(self, session, obj):
        rel = db.inspect(type(obj)).relationships[self.relationship]
        parent = obj.__dict__.get(self.relationship)
        if parent is None:
            key = tuple(getattr(obj, c.key) for c in rel.local_columns)
            if None not in key:
                parent = session.identity_map.get(rel.mapper.identity_key_from_primary_key(key))
        if parent is None:
            return SHARED
        return scope_of(session, parent)


SHARED_DATA = _Shared()
SEASON_DATA = _BySeason("season_id")
SEASON_ITSELF = _BySeason("id")
NOT_VERSIONED = _NotVersioned()


def through(relationship: str) -> Scope:
    return _Through(relationship)


def scope_of(session: Session, obj: Any) -> str | None:
    """The counter a written object moves (None: it moves none)."""
    scope = getattr(type(obj), "__version_scope__", SHARED_DATA)
    return scope.of_object(session, obj)


def touch(session: Session, *scopes: str) -> None:
    """Note that this transaction changed data of `scopes`; their counters move at commit.

    Every write the ORM does not see (COPY, raw SQL) calls this.
    """
    session.info.setdefault(PENDING, set()).update(s for s in scopes if s)


class DataVersion(db.Model):
    __tablename__ = "data_versions"
    __version_scope__ = NOT_VERSIONED

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


@event.listens_for(Session, "after_flush")
def _note_written(session: Session, _context) -> None:
    touch(session, *{scope_of(session, obj)
                     for obj in (*session.new, *session.dirty, *session.deleted)})


@event.listens_for(Session, "do_orm_execute")
def _note_set_based(state) -> None:
    """An ORM insert/update/delete statement moves the counters of the rows it names."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if "version_scope" in state.execution_options:
        # The writer names the counter (None: the statement changes nothing, e.g. a lock).
        touch(state.session, state.execution_options["version_scope"])
        return
    mapper = state.bind_mapper
    if mapper is None:
        touch(state.session, SHARED)
        return
    params = state.parameters
    rows = params if isinstance(params, list) else [params] if params else []
    scope = getattr(mapper.class_, "__version_scope__", SHARED_DATA)
    touch(state.session, *scope.of_rows(rows))


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    session.flush()
    scopes = session.info.pop(PENDING, None)
    if scopes:
        bump(session, scopes)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_end(session: Session, transaction) -> None:
    # A rolled-back transaction moves nothing; a rolled-back savepoint keeps what it
    # noted (moving a counter once too often only costs a recomputation).
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def bump(session: Session, scopes) -> None:
    """Move the counters of `scopes` by one, creating them as needed (in the caller's
    transaction; sorted, so concurrent writers take the rows in the same order)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(DataVersion).values([{"scope": s, "version": 1} for s in sorted(scopes)])
    session.execute(stmt.on_conflict_do_update(
        index_elements=[DataVersion.scope], set_={"version": DataVersion.version + 1}))


def current(session: Session, season_id: uuid.UUID) -> tuple[int, int]:
    """(season version, shared version) as committed, or as this transaction sees them."""
    scope = season_scope(season_id)
    found = dict(session.execute(select(DataVersion.scope, DataVersion.version)
                                 .where(DataVersion.scope.in_([scope, SHARED]))).all())
    return found.get(scope, 0), found.get(SHARED, 0)


def _has_unsaved_writes(session: Session) -> bool:
    return bool(session.info.get(PENDING) or session.new or session.dirty or session.deleted)


class FigureCache:
    """A bounded least-recently-used map, safe across the threads of one worker."""

    def __init__(self, entries: int):
        self.entries = entries
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return True, self._items[key]
            self.misses += 1
            return False, None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def versions_of(self, season_id: uuid.UUID, key: Hashable) -> list[tuple]:
        """The data versions at which the season's entry `key` is held."""
        with self._lock:
            return [full[1] for full in self._items if full[0] == season_id and full[2] == key]

    def entries_at(self, season_id: uuid.UUID, versions: tuple) -> list[tuple[Hashable, Any]]:
        """(key, value) of every entry of a season cached at these data versions."""
        with self._lock:
            return [(full[2], value) for full, value in self._items.items()
                    if full[0] == season_id and full[1] == versions]


def carry_entries(season_id: uuid.UUID, before: tuple, after: tuple,
                  patch: Callable[[Hashable, Any], Any]) -> int:
    """Keep a season's figures warm across a write whose every change the writer knows (a
    grid step): the entries cached at `before` are stored again at `after`, as `patch(key,
    value)` turns them (None: leave that entry to be computed again). The caller knows that
    `patch` is exactly what changed in between. Returns the entries carried."""
    cache = figures_cache()
    if cache.entries == 0:
        return 0
    carried = 0
    for key, value in cache.entries_at(season_id, before):
        patched = patch(key, value)
        if patched is not None:
            cache.put((season_id, after, key), patched)
            carried += 1
    return carried


def init_app(app) -> None:
    app.extensions["kyros_figures"] = FigureCache(app.config["KYROS_FIGURE_CACHE_ENTRIES"])


def figures_cache() -> FigureCache:
    return current_app.extensions["kyros_figures"]


def cached(session: Session, season_id: uuid.UUID, key: Hashable, compute: Callable[[], Any]):
    """`compute()`, or what it returned for the same key at the same data versions.

    The value is shared between requests: treat it as read-only. Inside a transaction
    that has written and not committed, nothing is read from or stored in the cache.
    """
    cache = figures_cache()
    if cache.entries == 0 or _has_unsaved_writes(session):
        return compute()
    full_key = (season_id, current(session, season_id), key)
    found, value = cache.get(full_key)
    if found:
        return value
    value = compute()
    if not _has_unsaved_writes(session):
        cache.put(full_key, value)
    return value
