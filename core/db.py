"""Database engine and sessions; the same code runs on SQLite (WAL) and PostgreSQL.

Write sessions on SQLite start with BEGIN IMMEDIATE so two writers queue on the lock
instead of failing when one upgrades a read snapshot; reads stay deferred and concurrent.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.pool import PoolProxiedConnection
from sqlmodel import Session

from core.settings import get_settings

T = TypeVar("T")
V = TypeVar("V")
SQLITE_BUSY_SECONDS = 15  # how long a SQLite writer waits for the lock before giving up
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
        # Read and write sessions have sent their BEGIN already (`_Transaction`): only a
        # connection used some other way (a migration, a test's own Session) begins here.
        driver = conn.connection.driver_connection
        if not driver.in_transaction:
            _on_driver(driver.execute, "BEGIN", conn.dialect)


def _on_driver(call: Callable[[str], Any], sql: str, dialect: Dialect) -> None:
    """`call(sql)`: BEGIN (or COMMIT) on the driver's connection, not through SQLAlchemy's
    execution: a third of an empty transaction's cost went on sending BEGIN that way
    (bench/README.md). Errors are raised as SQLAlchemy raises them."""
    try:
        call(sql)
    except dialect.loaded_dbapi.Error as error:
        raise driver_error(error, sql, (), dialect) from error


def driver_error(error: Exception, sql: str, args: Any, dialect: Dialect) -> exc.DBAPIError:
    """A driver's error as SQLAlchemy raises it ("database is locked" is an OperationalError,
    a duplicate key an IntegrityError), for statements sent on the driver's connection."""
    return exc.DBAPIError.instance(sql, args, error, dialect.loaded_dbapi.Error, dialect=dialect)  # type: ignore[return-value]


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


def reset_engine() -> None:
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    _queue_for.cache_clear()


def read_session() -> _Transaction:
    """One transaction that reads (deferred on SQLite, so readers never wait on a writer),
    rolled back at the end; see `_Transaction`."""
    return _Transaction(write=False)


def write_session() -> _Transaction:
    """One transaction: committed on success, rolled back on any exception. On SQLite it
    starts with BEGIN IMMEDIATE, and the process's writers take turns in arrival order
    (`WriterQueue`); see `_Transaction`."""
    return _Transaction(write=True)


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


class _Own:
    """A session's transaction as `_Transaction` began it: the pooled driver connection, and
    SQLAlchemy's Connection over it, made only when the session first asks for a bind."""

    __slots__ = ("engine", "fairy", "driver", "connection")

    def __init__(self, engine: Engine, fairy: PoolProxiedConnection) -> None:
        self.engine = engine
        self.fairy = fairy
        self.driver: Any = fairy.driver_connection
        self.connection: Connection | None = None

    def connect(self) -> Connection:
        if self.connection is None:
            # Over the driver connection this transaction already holds: the pool is not
            # asked again (a second connection to SQLite would wait on our own write lock).
            self.connection = Connection(self.engine, self.fairy)
        return self.connection

    def taken_up(self) -> bool:
        """Whether the session has begun its own transaction on the Connection (it then
        commits or rolls back itself)."""
        return self.connection is not None and self.connection.in_transaction()


class _Session(Session):
    """A session over a transaction `_Transaction` began itself on a pooled driver connection.

    Its bind, SQLAlchemy's Connection over that driver connection, is made the first time the
    ORM asks for one (a query, a flush, a savepoint). Until then prepared statements
    (core.statements) run straight on the driver (`driver_before_orm`), so a transaction that
    never goes through the ORM pays neither for a Connection nor for the session's
    transaction bookkeeping (bench/README.md, tenth pass).
    """

    own: _Own

    def get_bind(
        self, mapper: Any = None, *, clause: Any = None, bind: Any = None, **_: Any
    ) -> Any:
        return bind if bind is not None else self.own.connect()


class _Transaction:
    """`read_session()` or `write_session()`: one transaction, begun here on a pooled driver
    connection (BEGIN or BEGIN IMMEDIATE on SQLite; PostgreSQL's driver begins with the first
    statement) and given to the caller as a `_Session`. A write commits on success and rolls
    back on any exception; a read always ends with a rollback. On SQLite a write first takes
    its turn in the process's `WriterQueue`; once it has committed, the callbacks registered
    with `after_commit` run.

    A class, not two nested generator context managers: an empty write transaction cost
    ~69-77 µs that way and ~45-50 µs this way on the tenth pass's machine.
    """

    __slots__ = ("write", "own", "session", "queue")

    def __init__(self, *, write: bool) -> None:
        self.write = write

    def __enter__(self) -> Session:
        engine = get_engine()
        queue = _queue_for(engine) if self.write else None
        self.queue = queue if queue is not None and queue.enter() else None
        try:
            own = self.own = _Own(engine, engine.raw_connection())
            try:
                if engine.dialect.name == "sqlite":
                    sql = "BEGIN IMMEDIATE" if self.write else "BEGIN"
                    _on_driver(own.driver.execute, sql, engine.dialect)
                session = self.session = _Session(expire_on_commit=False)
                session.own = own
            except BaseException:
                own.fairy.close()
                raise
        except BaseException:
            if self.queue is not None:
                self.queue.leave()
            raise
        return session

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        session, own = self.session, self.own
        committed = False
        try:
            if self.write and kind is None:
                session.flush()
                if own.taken_up():
                    session.commit()  # the session took the transaction up: it commits it
                else:
                    _on_driver(lambda _: own.driver.commit(), "COMMIT", own.engine.dialect)
                committed = True
        finally:
            try:
                if not committed:  # a read, or a write that failed
                    if not own.taken_up():
                        own.driver.rollback()
                    elif self.write:
                        session.rollback()
                    # else a read the session took up: closing the session rolls it back and
                    # leaves the rows it read as they were read (a rollback would expire them)
                session.close()
            finally:
                (own.connection or own.fairy).close()  # back to the pool
                if self.queue is not None:
                    self.queue.leave()
        if committed:
            for callback in session.info.get(_AFTER_COMMIT, {}).values():
                callback()


def driver_before_orm(session: Session) -> tuple[Any, Dialect] | None:
    """The driver connection (and dialect) of a read or write session's transaction while the
    session has not yet taken it up (nothing sent through the ORM, no savepoint open): a
    statement sent to it belongs to the transaction. None once the session has it, or for a
    session made elsewhere: then statements go through `session.connection()`, which also
    sends a savepoint's SAVEPOINT."""
    own: _Own | None = getattr(session, "own", None)
    if own is None or own.taken_up() or session.get_nested_transaction() is not None:
        return None
    return own.driver, own.engine.dialect


def dialect_name(session: Session) -> str:
    """The session's database, "sqlite" or "postgresql", found without making its bind."""
    own: _Own | None = getattr(session, "own", None)
    return str((own.engine if own is not None else session.get_bind()).dialect.name)


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
