"""Statements sent straight to the driver's cursor (core/statements.py), on SQLite and
PostgreSQL: they store exactly what SQLAlchemy stores, belong to the caller's transaction and
savepoint, report driver errors as SQLAlchemy's, and refuse what they cannot send faithfully."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, exc, insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from core.db import read_session, write_session
from core.statements import Prepared, attach
from models import OutboxMessage, Person
from models.change_control import Project, Rfc, RfcStatus

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


# --- whole rows as ORM instances: Prepared.load and attach ------------------------------------

_RFC_WITH_PROJECT = select(Rfc, Project).join(Project, Project.id == Rfc.project_id)  # type: ignore[arg-type]
_ONE_RFC = Prepared(_RFC_WITH_PROJECT.where(Rfc.id == bindparam("rfc_id")))  # type: ignore[arg-type]


def _columns(instance: Any) -> dict[str, Any]:
    return {c.key: getattr(instance, c.key) for c in type(instance).__table__.columns}


def test_a_loaded_row_is_what_the_orm_loads_and_the_session_holds_it(
    factory: Any, team: Any
) -> None:
    rfc = factory.in_status(team, "approved")  # times, dates, enums, floats and booleans set
    with read_session() as s:
        by_orm = s.execute(_RFC_WITH_PROJECT.where(Rfc.id == rfc.id)).one()  # type: ignore[arg-type]
        expected = [_columns(by_orm[0]), _columns(by_orm[1])]
    with write_session() as s:
        [(loaded, project)] = _ONE_RFC.load(s, {"rfc_id": rfc.id}, Rfc, Project)
        assert [_columns(loaded), _columns(project)] == expected
        assert type(loaded.status) is RfcStatus and loaded.decided_at.tzinfo is UTC
        assert isinstance(loaded.raised_on, date) and isinstance(loaded.extends_timescale, bool)
        assert s.get(Rfc, rfc.id) is loaded and s.get(Project, project.id) is project
        assert not s.dirty and not s.new  # held as read: nothing to flush
        loaded.title = "Changed after loading"  # the unit of work still sees later changes
    with read_session() as s:
        assert s.get(Rfc, rfc.id).title == "Changed after loading"  # type: ignore[union-attr]


def test_a_held_row_is_persistent_in_its_session_and_readable_after_it(
    factory: Any, team: Any
) -> None:
    """Held as the ORM holds a row it read: in the session until it closes, then detached
    with every column still readable; a rollback through the ORM expires it, as it does
    a row the ORM loaded."""
    rfc = factory.rfc(team)
    with write_session() as s:
        [(loaded, project)] = _ONE_RFC.load(s, {"rfc_id": rfc.id}, Rfc, Project)
        assert inspect(loaded).persistent and object_session(loaded) is s
        assert loaded in s and project in s
    assert inspect(loaded).detached and loaded.title == rfc.title  # no query needed
    with write_session() as s:
        s.execute(select(Person)).first()  # the ORM's own transaction has begun
        [(loaded, _)] = _ONE_RFC.load(s, {"rfc_id": rfc.id}, Rfc, Project)
        s.rollback()
        assert "title" in inspect(loaded).expired_attributes


def test_a_row_the_session_already_holds_comes_back_as_it_stands(factory: Any, team: Any) -> None:
    rfc = factory.rfc(team)
    with write_session() as s:
        held = s.get(Rfc, rfc.id)
        assert held is not None
        held.title = "Not yet flushed"
        [(loaded, _)] = _ONE_RFC.load(s, {"rfc_id": rfc.id}, Rfc, Project)
        assert loaded is held and loaded.title == "Not yet flushed"
        s.expire(held)  # an expired instance takes the row's values, as a query would
        [(again, _)] = _ONE_RFC.load(s, {"rfc_id": rfc.id}, Rfc, Project)
        assert again is held and not inspect(held).unloaded
        assert again.title == rfc.title


def test_no_row_loads_nothing_and_a_select_of_other_columns_is_refused(env: Any) -> None:
    with read_session() as s:
        assert _ONE_RFC.load(s, {"rfc_id": 999_999}, Rfc, Project) == []
        with pytest.raises(TypeError, match="not a SELECT of whole rows of Rfc"):
            _ONE_RFC.load(s, {"rfc_id": 1}, Rfc)  # Project's columns too
        with pytest.raises(TypeError, match="not a SELECT of whole rows of Project, Rfc"):
            _ONE_RFC.load(s, {"rfc_id": 1}, Project, Rfc)  # the wrong order
        some = Prepared(select(Rfc.id, Rfc.title).where(Rfc.id == bindparam("rfc_id")))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="not a SELECT of whole rows of Rfc"):
            some.load(s, {"rfc_id": 1}, Rfc)


def test_load_one_gives_the_rows_instance_or_none(factory: Any, team: Any) -> None:
    by_code = Prepared(select(Project).where(Project.code == bindparam("code")))  # type: ignore[arg-type]
    with read_session() as s:
        project = by_code.load_one(s, {"code": team.project.code}, Project)
        assert project is s.get(Project, team.project.id)
        assert by_code.load_one(s, {"code": "NOPE"}, Project) is None


def test_attach_holds_an_inserted_row_with_its_columns_defaults(factory: Any, team: Any) -> None:
    person = factory.person("Richard May").id
    values = _row(person, "attached")
    with write_session() as s:
        values["id"] = Prepared(insert(_OUTBOX).returning(_OUTBOX.c.id)).run(s, values).scalar()
        message = attach(s, OutboxMessage, values)
        assert not inspect(message).unloaded  # every column held: none read again on use
        assert s.get(OutboxMessage, values["id"]) is message and not s.dirty
        attached = _columns(message)
    with read_session() as s:
        assert _columns(s.get(OutboxMessage, values["id"])) == attached  # defaults as stored
    assert (attached["status"], attached["attempts"]) == ("queued", 0)


def test_attach_refuses_a_column_the_table_does_not_have(env: Any) -> None:
    with read_session() as s, pytest.raises(TypeError, match=r"unknown \['colour'\]"):
        attach(s, OutboxMessage, {"id": 1, "colour": "red"})


def test_attach_must_be_given_a_column_whose_default_is_computed(env: Any) -> None:
    """A default made by a function is made at insert time: attach cannot know what it was."""
    from sqlalchemy import JSON, Column, Integer
    from sqlalchemy.orm import registry

    mapped = registry()

    @mapped.mapped
    class Thing:
        __tablename__ = "thing"
        id = Column(Integer, primary_key=True)
        made = Column(JSON, default=dict)

    with read_session() as s:
        with pytest.raises(TypeError, match=r"computed default \['made'\]"):
            attach(s, Thing, {"id": 1})
        assert attach(s, Thing, {"id": 1, "made": {}}).made == {}


# --- one read on a connection of its own: Prepared.read_alone ---------------------------------

_KEYS = Prepared(select(_OUTBOX.c.idempotency_key).order_by(_OUTBOX.c.idempotency_key))


def test_a_read_alone_sees_what_is_committed_and_holds_nothing_open(
    factory: Any, backend: str
) -> None:
    from core.db import get_engine

    person = factory.person("Richard May").id
    with write_session() as s:
        Prepared(insert(_OUTBOX)).run(s, _row(person, "committed"))
    engine = get_engine()
    with write_session() as s:
        Prepared(insert(_OUTBOX)).run(s, _row(person, "not yet"))
        assert _KEYS.read_alone(engine).rows == [("committed",)]  # another connection's view
        checked_out = engine.pool.checkedout()  # type: ignore[attr-defined]
    assert _KEYS.read_alone(engine).rows == [("committed",), ("not yet",)]
    assert engine.pool.checkedout() == checked_out - 1  # type: ignore[attr-defined]
    if backend == "postgres":  # its connection went back to the pool with no transaction open
        with read_session() as s:
            stuck = s.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                )
            ).scalar()
        assert stuck == 0


def test_a_read_alone_refuses_a_write_before_sending_it(factory: Any) -> None:
    from core.db import get_engine

    person = factory.person("Richard May").id
    with write_session() as s:
        Prepared(insert(_OUTBOX)).run(s, _row(person, "kept"))
    wipe = Prepared(update(_OUTBOX).values(template="wiped"))
    with pytest.raises(TypeError, match="read_alone runs SELECTs only"):
        wipe.read_alone(get_engine())
    with read_session() as s:
        assert s.execute(select(_OUTBOX.c.template)).scalars().all() == ["rfc_decided"]
