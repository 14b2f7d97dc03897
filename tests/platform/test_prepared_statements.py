"""Statements sent straight to the driver's cursor (core/statements.py), on SQLite and
PostgreSQL: they store exactly what SQLAlchemy stores, belong to the caller's transaction and
savepoint, report driver errors as SQLAlchemy's, and refuse what they cannot send faithfully."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, exc, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from core.db import read_session, write_session
from core.statements import Prepared
from models import OutboxMessage

_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
WHEN = datetime(2010, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _row(person_id: int, key: str, **more: Any) -> dict[str, Any]:
    """An outbox row with only what has no default: the rest come from the columns' defaults."""
    return {
        "idempotency_key": key,
        "template": "rfc_decided",
        "to_person_id": person_id,
        "context": {"ref": "CSE-RFC-001", "words": "Café – naïve ‘quotes’", "n": [1, 2.5]},
        "next_attempt_at": WHEN,
        "created_at": WHEN,
    } | more


def _stored() -> dict[str, tuple[Any, ...]]:
    """Each outbox row as the database holds it, by key, without the id."""
    with read_session() as s:
        rows = s.execute(text("SELECT * FROM outbox_message ORDER BY idempotency_key"))
        return {r.idempotency_key: tuple(r)[1:] for r in rows}


def test_a_row_is_stored_exactly_as_sqlalchemy_stores_it(factory: Any) -> None:
    person = factory.person("Richard May").id
    with write_session() as s:
        s.execute(insert(_OUTBOX), _row(person, "a"))  # SQLAlchemy's own execute
        Prepared(insert(_OUTBOX)).run(s, _row(person, "b"))
    stored = _stored()
    assert stored["a"][1:] == stored["b"][1:]  # all but the key: times, JSON, defaults
    with read_session() as s:
        query = select(OutboxMessage).where(OutboxMessage.idempotency_key == "b")  # type: ignore[arg-type]
        b = s.execute(query).scalar_one()
    assert (b.status, b.attempts, b.created_at) == ("queued", 0, WHEN)
    assert b.context == _row(person, "b")["context"]


def test_a_column_default_made_by_a_function_is_called_not_stored() -> None:
    """A column whose default is a function (a planning table's `default_factory=dict`) gets
    what the function makes, {} here, not the function itself."""
    from sqlalchemy import JSON, Column, Integer, MetaData, Table
    from sqlalchemy.dialects import sqlite

    table = Table(
        "t", MetaData(), Column("id", Integer, primary_key=True), Column("x", JSON, default=dict)
    )
    compiled = Prepared(insert(table))._for(sqlite.dialect(), ())
    assert compiled.defaults == {"x": {}}


def test_many_rows_are_each_stored_and_counted(factory: Any) -> None:
    person = factory.person("Richard May").id
    prepared = Prepared(insert(_OUTBOX))
    with write_session() as s:
        assert prepared.run_many(s, [_row(person, k) for k in "xyz"]) == 3
        assert prepared.run_many(s, []) == 0
    assert sorted(_stored()) == ["x", "y", "z"]


def test_an_update_counts_the_rows_it_matched_and_returns_what_it_is_asked_for(
    factory: Any,
) -> None:
    person = factory.person("Richard May").id
    later = WHEN + timedelta(hours=1)
    claim = Prepared(
        update(_OUTBOX)
        .where(_OUTBOX.c.idempotency_key == bindparam("b_key"))
        .values(claimed_until=bindparam("b_until"))
        .returning(_OUTBOX.c.claimed_until, _OUTBOX.c.attempts)
    )
    with write_session() as s:
        Prepared(insert(_OUTBOX)).run(s, _row(person, "a"))
        done = claim.run(s, {"b_key": "a", "b_until": later})
        missed = claim.run(s, {"b_key": "nope", "b_until": later})
    assert (done.rowcount, done.rows) == (1, [(later, 0)])  # read back aware, in UTC
    assert done.rows[0][0].tzinfo is not None
    assert (missed.rowcount, missed.rows, missed.scalar()) == (0, [], None)


def test_it_belongs_to_the_callers_transaction_and_savepoint(factory: Any) -> None:
    person = factory.person("Richard May").id
    prepared = Prepared(insert(_OUTBOX))
    with pytest.raises(RuntimeError), write_session() as s:
        prepared.run(s, _row(person, "rolled back"))
        raise RuntimeError("the action failed")
    with write_session() as s:
        prepared.run(s, _row(person, "kept"))
        savepoint = s.begin_nested()
        prepared.run(s, _row(person, "in the savepoint"))
        savepoint.rollback()
    assert sorted(_stored()) == ["kept"]


def test_a_driver_error_is_sqlalchemys_and_the_transaction_goes_on_after_its_savepoint(
    factory: Any,
) -> None:
    person = factory.person("Richard May").id
    prepared = Prepared(insert(_OUTBOX))
    with write_session() as s:
        prepared.run(s, _row(person, "a"))
        with pytest.raises(IntegrityError), s.begin_nested():
            prepared.run(s, _row(person, "a"))  # the key is unique
        prepared.run(s, _row(person, "b"))
        with pytest.raises(IntegrityError), s.begin_nested():
            prepared.run_many(s, [_row(person, "c"), _row(person, "a")])  # the second clashes
    assert sorted(_stored()) == ["a", "b"]  # "c" went with the savepoint


def test_a_naive_time_is_refused_as_the_column_type_refuses_it(factory: Any) -> None:
    person = factory.person("Richard May").id
    with write_session() as s, pytest.raises(exc.StatementError) as refused:
        Prepared(insert(_OUTBOX)).run(s, _row(person, "a", created_at=datetime(2010, 3, 1)))
    assert isinstance(refused.value.orig, ValueError)
    assert str(refused.value.orig) == "naive datetime given to a UTCDateTime column"
    assert refused.value.statement is not None and "INSERT INTO outbox_message" in (
        refused.value.statement
    )


def test_a_statement_it_cannot_send_faithfully_is_refused_when_first_run(env: Any) -> None:
    expanding = Prepared(
        select(_OUTBOX.c.id).where(_OUTBOX.c.status.in_(bindparam("b", expanding=True)))
    )
    with read_session() as s, pytest.raises(TypeError, match="not a plain statement"):
        expanding.run(s, {"b": ["queued"]})
    literal = Prepared(
        select(_OUTBOX.c.id).where(_OUTBOX.c.status == bindparam("b", literal_execute=True))
    )
    with read_session() as s, pytest.raises(TypeError, match="not a plain statement"):
        literal.run(s, {"b": "queued"})
    returning = Prepared(insert(_OUTBOX).returning(_OUTBOX.c.id))
    with read_session() as s, pytest.raises(TypeError, match="cannot return rows"):
        returning.run_many(s, [{"template": "x"}])
