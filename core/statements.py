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

Unlike `session.execute`, nothing is flushed first: ORM objects added or changed in the session
are not yet in the database when a prepared statement runs. The statements sent this way touch
rows that are themselves written this way or by Core (audit, steps, links, outbox, a
workflow's status); call `session.flush()` first if one ever depends on an ORM change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlmodel import Session

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class Ran:
    """What a statement did: rows matched or written, and what it returned (as tuples)."""

    rowcount: int
    rows: list[tuple[Any, ...]]

    def scalar(self) -> Any:
        """The first column of the only row; None when nothing was returned."""
        return self.rows[0][0] if self.rows else None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters in the order the SQL takes them
    positional: bool
    binds: dict[str, Processor]  # parameter -> the column type's bind processor
    defaults: dict[str, Any]  # parameter -> a value given in the statement, or a column default
    returns: bool
    results: tuple[Processor | None, ...]  # per returned column


class Prepared:
    """One Core statement, compiled once per database (and, for an INSERT or UPDATE given its
    columns as parameters, per set of columns), run on the session's own connection."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def run(self, session: Session, params: Mapping[str, Any] | None = None) -> Ran:
        """Execute once with `params`; returned rows are fetched before it comes back."""
        params = params or {}
        connection = session.connection()
        dialect = connection.dialect
        compiled = self._for(dialect, tuple(params))
        args = _arguments(compiled, params)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, args)
            rows = cursor.fetchall() if compiled.returns else []
            rowcount = cursor.rowcount
        except dialect.loaded_dbapi.Error as error:
            raise _wrapped(error, compiled.sql, args, dialect) from error
        finally:
            cursor.close()
        if any(compiled.results):
            rows = [
                tuple(p(v) if p else v for p, v in zip(compiled.results, row, strict=True))
                for row in rows
            ]
        return Ran(rowcount, [tuple(row) for row in rows])

    def run_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
        """Execute once per row of parameters (all with the same keys); the rows written."""
        if not rows:
            return 0
        connection = session.connection()
        dialect = connection.dialect
        compiled = self._for(dialect, tuple(rows[0]))
        if compiled.returns:
            raise TypeError("run_many cannot return rows: SQLite's executemany refuses them")
        args = [_arguments(compiled, row) for row in rows]
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(compiled.sql, args)
            return int(cursor.rowcount)
        except dialect.loaded_dbapi.Error as error:
            raise _wrapped(error, compiled.sql, args, dialect) from error
        finally:
            cursor.close()

    def _for(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
        key = (dialect.name, keys)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = _compile(self.statement, dialect, keys)
        return found


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
    results = tuple(
        entry.type._cached_result_processor(dialect, None)
        for entry in getattr(compiled, "_result_columns", ())
    )
    return _Compiled(
        sql=compiled.string,
        names=names,
        positional=compiled.positional,
        binds={name: processors[name] for name in names if name in processors},
        defaults=defaults,
        returns=bool(compiled.returning)
        or not (compiled.isinsert or compiled.isupdate or compiled.isdelete),
        results=results,
    )


def _arguments(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
    """The parameters as the driver takes them, through the column types' processors; a value
    a type refuses (a naive time) is raised as SQLAlchemy raises it, a StatementError."""
    values = []
    for name in compiled.names:
        value = params[name] if name in params else compiled.defaults[name]
        processor = compiled.binds.get(name)
        try:
            values.append(processor(value) if processor is not None else value)
        except Exception as error:
            raise exc.StatementError(
                f"({type(error).__name__}) {error}", compiled.sql, dict(params), error
            ) from error
    if compiled.positional:
        return tuple(values)
    return dict(zip(compiled.names, values, strict=True))


def _wrapped(error: Exception, sql: str, args: Any, dialect: Dialect) -> exc.DBAPIError:
    return exc.DBAPIError.instance(sql, args, error, dialect.loaded_dbapi.Error, dialect=dialect)  # type: ignore[return-value]
