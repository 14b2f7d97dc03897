"""Statements built once and sent straight to the transaction's DB-API cursor.

SQLAlchemy spends about 16 µs of Python on each `session.execute` of a statement it has already
compiled (events, an execution context, a result object), where the driver's cursor takes about
1.3 µs; the write path sends a few dozen statements per action (bench/README.md, "The write
path on the driver's cursor"). A `Prepared` statement is compiled once per database and set of
columns, then run on the cursor of the session's own connection: in the same transaction and
savepoint, with the SQL SQLAlchemy would send, each column type's bind processor applied (a
UTC time is stored exactly as the ORM stores it) and each Python-side column default filled in.
Driver errors are raised as SQLAlchemy's (`sqlalchemy.exc.IntegrityError` and the rest), so
callers catch what they always caught.

For plain statements only: no expanding `IN` lists and no defaults that need an execution
context; those are refused when first compiled, so a statement that cannot be sent this way
fails in the first test that runs it, never quietly.

A SELECT of whole rows (`select(Rfc, Project)`) can also give ORM instances (`Prepared.load`):
each row's values become an instance held by the session as if the session had read it, so
the ORM's cost of loading (about 75 µs for an RFC with its project, against about 15 µs for the
same row as a tuple) is not paid on the write path. `attach` does the same for a row the caller
has just inserted.

Unlike `session.execute`, nothing is flushed first: ORM objects added or changed in the session
are not yet in the database when a prepared statement runs. The statements sent this way touch
rows that are themselves written this way or by Core (audit, steps, links, outbox, a
workflow's status); call `session.flush()` first if one ever depends on an ORM change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Column, Insert, exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Mapper, configure_mappers
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.sql import ClauseElement
from sqlmodel import Session

from core.db import driver_before_orm, driver_error

Processor = Callable[[Any], Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Ran:
    """What a statement did: rows matched or written, and what it returned (as tuples)."""

    rowcount: int
    rows: list[tuple[Any, ...]]

    def scalar(self) -> Any:
        """The first column of the only row; None when nothing was returned."""
        return self.rows[0][0] if self.rows else None


@dataclass
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters in the order the SQL takes them
    positional: bool
    bound: tuple[tuple[int, Processor], ...]  # (index in `names`, the type's bind processor)
    defaults: dict[str, Any]  # parameter -> a value given in the statement, or a column default
    returns: bool
    writes: bool  # an INSERT, UPDATE or DELETE
    result_types: tuple[Any, ...]  # per returned column
    columns: tuple[Any, ...]  # the table column each returned column is, where it is one
    # (index, processor) of the returned columns whose type has a result processor: known
    # from the first execution's cursor description (PostgreSQL's depends on the type sent)
    processed: tuple[tuple[int, Processor], ...] | None = None


class Prepared:
    """One Core statement, compiled once per database (and, for an INSERT or UPDATE given its
    columns as parameters, per set of columns), run on the session's own connection."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}
        self._checked: set[tuple[int, tuple[type, ...]]] = set()  # (compiled, models) by `load`

    def run(self, session: Session, params: Mapping[str, Any] | None = None) -> Ran:
        """Execute once with `params`; returned rows are fetched before it comes back."""
        return self._execute(session, params or {})[1]

    def load(
        self, session: Session, params: Mapping[str, Any], *models: type
    ) -> list[tuple[Any, ...]]:
        """Run a SELECT of whole rows of `models`, in that order (`select(Rfc, Project)`), and
        give each row as instances of them held by the session (see `attach`). A statement
        whose columns are not exactly those rows is refused the first time it runs."""
        compiled, ran = self._execute(session, params)
        layouts = [_layout(model) for model in models]
        if (id(compiled), models) not in self._checked:
            wanted = [c for layout in layouts for c in layout.mapper.local_table.columns]
            given = compiled.columns
            if len(given) != len(wanted) or any(
                a is not b for a, b in zip(given, wanted, strict=True)
            ):
                names = ", ".join(m.__name__ for m in models)
                raise TypeError(f"not a SELECT of whole rows of {names}: {self.statement}")
            self._checked.add((id(compiled), models))
        loaded = []
        for row in ran.rows:
            start, found = 0, []
            for layout in layouts:
                end = start + len(layout.keys)
                values = dict(zip(layout.keys, row[start:end], strict=True))
                found.append(_held(session, layout, values))
                start = end
            loaded.append(tuple(found))
        return loaded

    def load_one(self, session: Session, params: Mapping[str, Any], model: type) -> Any | None:
        """`load` for a SELECT of one model's row found by a unique key: its instance, or None."""
        found = self.load(session, params, model)
        return found[0][0] if found else None

    def read_alone(self, engine: Engine, params: Mapping[str, Any] | None = None) -> Ran:
        """Run a SELECT on a pooled connection of its own, with no session and no transaction
        of the caller's: for one read before any transaction starts (is this client over its
        limit?), where a read session (~33 µs, its BEGIN and ROLLBACK) would cost more than
        the read. It sees what is committed; anything but a SELECT is refused."""
        params = params or {}
        if self._for(engine.dialect, tuple(params)).writes:
            raise TypeError(f"read_alone runs SELECTs only: {self.statement}")
        driver = engine.raw_connection()
        try:
            return self._execute_on(driver, engine.dialect, params)[1]
        finally:
            driver.close()  # back to the pool, which rolls back any transaction the driver began

    def _execute(self, session: Session, params: Mapping[str, Any]) -> tuple[_Compiled, Ran]:
        driver, dialect = _driver(session)
        return self._execute_on(driver, dialect, params)

    def _execute_on(
        self, driver: Any, dialect: Dialect, params: Mapping[str, Any]
    ) -> tuple[_Compiled, Ran]:
        compiled = self._for(dialect, tuple(params))
        args = _arguments(compiled, params)
        cursor = driver.cursor()
        try:
            cursor.execute(compiled.sql, args)
            rows = cursor.fetchall() if compiled.returns else []
            rowcount = cursor.rowcount
            if compiled.processed is None and cursor.description is not None:
                compiled.processed = _result_processors(compiled, cursor.description, dialect)
        except dialect.loaded_dbapi.Error as error:
            raise driver_error(error, compiled.sql, args, dialect) from error
        finally:
            cursor.close()
        if compiled.processed:
            rows = [_processed(compiled.processed, row) for row in rows]
        return compiled, Ran(rowcount, [tuple(row) for row in rows])

    def run_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
        """Execute once per row of parameters (all with the same keys); the rows written."""
        if not rows:
            return 0
        driver, dialect = _driver(session)
        compiled = self._for(dialect, tuple(rows[0]))
        if compiled.returns:
            raise TypeError("run_many cannot return rows: SQLite's executemany refuses them")
        args = [_arguments(compiled, row) for row in rows]
        cursor = driver.cursor()
        try:
            cursor.executemany(compiled.sql, args)
            return int(cursor.rowcount)
        except dialect.loaded_dbapi.Error as error:
            raise driver_error(error, compiled.sql, args, dialect) from error
        finally:
            cursor.close()

    def _for(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
        key = (dialect.name, keys)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = _compile(self.statement, dialect, keys)
        return found


def attach(session: Session, model: type[T], values: Mapping[str, Any]) -> T:
    """An instance of `model` for a row already in the database with these values, held by the
    session as if it had read the row: nothing is flushed for it, and changes made to it later
    are flushed as usual. Columns not given take their column's default (None if it has none),
    as the row did when inserted. If the session already holds that row, its instance is
    returned as it stands, as a query would return it."""
    layout = _layout(model)  # type: ignore[arg-type]
    unknown = set(values) - set(layout.keys)
    computed = layout.computed - set(values)
    if unknown or computed:
        raise TypeError(
            f"attach({model.__name__}): unknown {sorted(unknown)}, "
            f"computed default {sorted(computed)}"
        )
    return _held(session, layout, layout.defaults | dict(values))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Layout:
    mapper: Mapper[Any]
    keys: tuple[str, ...]  # attribute names, in the table's column order
    primary_key: tuple[str, ...]
    defaults: dict[str, Any]  # a column's scalar default, or None
    computed: frozenset[str]  # columns whose default is computed: `attach` must be given them


@cache
def _layout(model: type) -> _Layout:
    configure_mappers()  # as the ORM's first query would: a process may attach before any
    mapper: Mapper[Any] = sa_inspect(model)
    columns = list(mapper.local_table.columns)
    keys = tuple(mapper.get_property_by_column(column).key for column in columns)
    defaults: dict[str, Any] = {}
    computed = set()
    for key, column in zip(keys, columns, strict=True):
        default = column.default
        if default is not None and not default.is_scalar:
            computed.add(key)
        defaults[key] = default.arg if default is not None and default.is_scalar else None
    primary_key = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
    return _Layout(mapper, keys, primary_key, defaults, frozenset(computed))


def _held(session: Session, layout: _Layout, values: Mapping[str, Any]) -> Any:
    """The session's instance for this row: the one it holds, or a new one made from `values`."""
    identity = layout.mapper.identity_key_from_primary_key(
        tuple(values[k] for k in layout.primary_key)
    )
    held = session.identity_map.get(identity)
    if held is not None:
        for key in instance_state(held).unloaded:  # expired: the row's values, as a query does
            set_committed_value(held, key, values[key])
        return held
    instance = layout.mapper.class_manager.new_instance()
    instance.__dict__.update(values)
    state = instance_state(instance)
    state.key = identity
    # Into the session as the ORM's own loading puts a row it has read (orm.loading): the
    # session's id on the state, the state in the identity map. Not session.add, which also
    # begins the session's own transaction bookkeeping (SessionTransaction, ~7 µs) that a
    # transaction of prepared statements never uses, and walks cascades that column values
    # cannot reach. The ORM begins that bookkeeping itself when it is first asked to query,
    # flush or roll back.
    state.session_id = session.hash_key
    session.identity_map._add_unpresent(state, identity)
    return instance


def _compile(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    # An INSERT compiled as for many rows: PostgreSQL would otherwise add RETURNING id for a
    # single row, which nothing here reads.
    many = isinstance(statement, Insert)
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=many)
    binds = compiled.binds
    if (
        any(b.expanding for b in binds.values())
        or compiled.literal_execute_params
        or compiled.post_compile_params
    ):
        raise TypeError(f"not a plain statement (an expanding or literal parameter): {statement}")
    defaults: dict[str, Any] = {
        name: b.value for name, b in binds.items() if not b.required and b.callable is None
    }
    for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
        default = column.default if column in compiled.insert_prefetch else column.onupdate
        if default is None or not (default.is_scalar or default.is_callable):
            raise TypeError(f"{column} has a default that needs SQLAlchemy to execute")
        value = default.arg(None) if default.is_callable else default.arg
        defaults[column.key] = value
    processors = compiled._bind_processors  # the column types', as SQLAlchemy applies them
    if compiled.positional:
        names = tuple(compiled.positiontup)
    else:
        names = tuple(binds)
    return _Compiled(
        sql=compiled.string,
        names=names,
        positional=compiled.positional,
        bound=tuple((i, processors[name]) for i, name in enumerate(names) if name in processors),
        defaults=defaults,
        returns=bool(compiled.returning)
        or not (compiled.isinsert or compiled.isupdate or compiled.isdelete),
        writes=bool(compiled.isinsert or compiled.isupdate or compiled.isdelete),
        result_types=tuple(entry.type for entry in getattr(compiled, "_result_columns", ())),
        columns=tuple(
            next((o for o in entry.objects if isinstance(o, Column)), None)
            for entry in getattr(compiled, "_result_columns", ())
        ),
    )


_DRIVER = "signoff_driver_connection"


def _driver(session: Session) -> tuple[Any, Dialect]:
    """The DB-API connection of the session's transaction, and its dialect: looked up through
    the session once per transaction and once per savepoint (the session sends a savepoint's
    SAVEPOINT when its connection is first asked for). A read or write session's transaction
    that the session has not yet taken up is used as it is (`core.db.driver_before_orm`)."""
    own = driver_before_orm(session)
    if own is not None:
        return own
    transaction = session.get_nested_transaction() or session.get_transaction()
    held = session.info.get(_DRIVER)
    if held is None or transaction is None or held[0] is not transaction:
        connection = session.connection()
        held = session.info[_DRIVER] = (
            session.get_nested_transaction() or session.get_transaction(),
            connection.connection,
            connection.dialect,
        )
    return held[1], held[2]


def _result_processors(
    compiled: _Compiled, description: Sequence[Any], dialect: Dialect
) -> tuple[tuple[int, Processor], ...]:
    """The column types' result processors, as SQLAlchemy finds them for this cursor."""
    found = []
    # A statement written as text (`SELECT pg_advisory_xact_lock(...)`) has no typed columns.
    typed = zip(compiled.result_types, description, strict=False)
    for index, (kind, described) in enumerate(typed):
        processor = kind._cached_result_processor(dialect, described[1])
        if processor is not None:
            found.append((index, processor))
    return tuple(found)


def _processed(processed: tuple[tuple[int, Processor], ...], row: Sequence[Any]) -> list[Any]:
    values = list(row)
    for index, processor in processed:
        values[index] = processor(values[index])
    return values


def _arguments(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
    """The parameters as the driver takes them, through the column types' processors; a value
    a type refuses (a naive time) is raised as SQLAlchemy raises it, a StatementError."""
    defaults = compiled.defaults
    values = [params[name] if name in params else defaults[name] for name in compiled.names]
    try:
        for index, processor in compiled.bound:
            values[index] = processor(values[index])
    except Exception as error:
        raise exc.StatementError(
            f"({type(error).__name__}) {error}", compiled.sql, dict(params), error
        ) from error
    if compiled.positional:
        return tuple(values)
    return dict(zip(compiled.names, values, strict=True))
