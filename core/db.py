"""Database engine and sessions; the same code runs on SQLite (WAL) and PostgreSQL.

Write sessions on SQLite start with BEGIN IMMEDIATE so two writers queue on the lock
instead of failing when one upgrades a read snapshot; reads stay deferred and concurrent.
"""

from __future__ import annotations

import collections
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlmodel import Session

from core.settings import get_settings

T = TypeVar("T")
V = TypeVar("V")
SQLITE_BUSY_SECONDS = 15  # how long a SQLite writer waits for the lock before giving up
_WRITE = "signoff_write"
_AFTER_COMMIT = "signoff_after_commit"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # On the driver's connection, not through exec_driver_sql: a third of an empty
        # transaction's cost went on sending BEGIN (bench/README.md). Errors are raised as
        # SQLAlchemy raises them ("database is locked" is an OperationalError).
        sql = "BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE, False) else "BEGIN"
        try:
            conn.connection.driver_connection.execute(sql)
        except sqlite3.Error as error:
            raise exc.DBAPIError.instance(sql, (), error, sqlite3.Error) from error


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
            pool_size=20,
        )
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    settings = get_settings()
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
    )


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache
def _writer_bind(engine: Engine) -> Engine:
    """The engine as write sessions use it (BEGIN IMMEDIATE on SQLite), made once per engine:
    `execution_options` builds a new engine proxy each call."""
    return engine.execution_options(**{_WRITE: True})


def reset_engine() -> None:
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    _writer_bind.cache_clear()
    _queue_for.cache_clear()


@contextlib.contextmanager
def read_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


class WriterQueue:
    """This process's SQLite writers, served first come, first served.

    SQLite has one writer at a time. Left to its busy handler, a waiting writer sleeps and
    retries with growing sleeps while later arrivals take the lock, so under ten concurrent
    decisions some requests lost for seconds (bench/README.md, decision_http). Queued here,
    each waits only for those who came before it.

    A thread that already holds its place goes straight on (re-entrant). A wait is bounded by
    `patience` seconds: a thread that holds a write transaction and waits for another thread
    of this process that writes (a test calling the app inside its own transaction) would
    otherwise wait for ever. Past the bound the writer goes on to SQLite's own busy handling,
    which answers "database is locked" as it always did.
    """

    def __init__(self, patience: float) -> None:
        self.patience = patience
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._waiting: collections.deque[tuple[int, threading.Event]] = collections.deque()

    def enter(self) -> bool:
        """Wait for this thread's turn; False if it did not come within `patience`."""
        me = threading.get_ident()
        with self._lock:
            if self._owner == me:
                self._depth += 1
                return True
            if self._owner is None and not self._waiting:
                self._owner, self._depth = me, 1
                return True
            turn = (me, threading.Event())
            self._waiting.append(turn)
        turn[1].wait(self.patience)
        with self._lock:
            if self._owner == me:
                return True  # handed over, perhaps just as the wait ran out
            self._waiting.remove(turn)
            return False

    def leave(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth:
                return
            if self._waiting:
                self._owner, event = self._waiting.popleft()
                self._depth = 1
                event.set()
            else:
                self._owner = None


_queues: dict[str, WriterQueue] = {}  # one per SQLite database file
_queues_lock = threading.Lock()


@lru_cache
def _queue_for(engine: Engine) -> WriterQueue | None:
    """The queue of the engine's database file, found once per engine (engines made for the
    same file share it)."""
    if engine.dialect.name != "sqlite":
        return None  # PostgreSQL takes concurrent writers; its row locks queue them fairly
    key = str(engine.url)
    with _queues_lock:
        return _queues.setdefault(key, WriterQueue(patience=SQLITE_BUSY_SECONDS))


@contextlib.contextmanager
def write_session() -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any exception. On SQLite the
    process's writers take turns in arrival order (`WriterQueue`)."""
    engine = get_engine()
    writers = _queue_for(engine)
    queued = writers is not None and writers.enter()
    try:
        with Session(_writer_bind(engine), expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        if queued:
            assert writers is not None
            writers.leave()
    for callback in session.info.get(_AFTER_COMMIT, {}).values():
        callback()


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once after this write session commits (never if it rolls back), however
    often it is registered: e.g. the outbox asks for delivery when a transaction queued mail."""
    session.info.setdefault(_AFTER_COMMIT, {})[callback] = callback


def in_chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    """Ids a few hundred at a time, for `IN` lists under the databases' parameter limits."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class CachedReads:
    """Rows read once for a batch of work, by primary key, and what was worked out from them.

    The session's identity map holds rows weakly, so a batch that renders a hundred emails
    about one RFC would otherwise load the RFC, its project and its people a hundred times.
    A batch that knows what it will need reads it in a few queries up front (`hold`,
    `remember`), and the per-item code finds it here instead of asking one item at a time.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._rows: dict[tuple[type, Any], Any] = {}
        self._worked_out: dict[Hashable, Any] = {}

    def get(self, model: type[T], key: Any) -> T | None:
        if (model, key) not in self._rows:
            self._rows[model, key] = self.session.get(model, key)
        return self._rows[model, key]  # type: ignore[no-any-return]

    def hold(self, model: type[T], rows: Iterable[T]) -> None:
        """Rows already read (by `id`), so `get` finds them without a query."""
        for row in rows:
            self._rows[model, row.id] = row  # type: ignore[attr-defined]

    def remember(self, key: Hashable, compute: Callable[[], V]) -> V:
        """`compute()` once per key for the batch; `keep` may have answered it already."""
        if key not in self._worked_out:
            self._worked_out[key] = compute()
        return self._worked_out[key]  # type: ignore[no-any-return]

    def keep(self, key: Hashable, value: Any) -> None:
        """An answer `remember(key, ...)` will give, worked out for many keys at once."""
        self._worked_out[key] = value
