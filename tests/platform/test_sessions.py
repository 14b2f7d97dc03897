"""Read and write sessions begin and end their own transactions (core.db._Transaction).

Prepared statements run on the driver's connection until the session first sends something
through the ORM; from then on the session carries the same transaction. These tests pin
what that must never change: one transaction per session whichever way a statement is sent,
SQLite's write lock taken at a write's start, one snapshot for a read, rows read still
readable afterwards, and every connection back in the pool with nothing left open.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, event, func, insert, select, update

from core.db import get_engine, read_session, write_session
from core.settings import get_settings
from core.statements import Prepared
from models import OutboxMessage, Person

_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
_INSERT = Prepared(insert(_OUTBOX))
_COUNT = Prepared(select(func.count()).select_from(_OUTBOX))
_PERSON = Prepared(select(Person).where(Person.id == bindparam("id")))  # type: ignore[arg-type]
WHEN = datetime(2010, 3, 1, 9, 30, tzinfo=UTC)


def _row(person_id: int, key: str) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "template": "rfc_decided",
        "to_person_id": person_id,
        "context": {},
        "next_attempt_at": WHEN,
        "created_at": WHEN,
    }


def _keys() -> list[str]:
    with read_session() as s:
        return sorted(s.execute(select(_OUTBOX.c.idempotency_key)).scalars())


def _name(person_id: int) -> str:
    with read_session() as s:
        person = s.get(Person, person_id)
        assert person is not None
        return person.name


def _sqlite_path() -> str:
    url = get_settings().database_url
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's own locking and snapshots")
    return url.split("///", 1)[1]


def test_prepared_statements_and_the_orm_share_one_transaction_that_fails_whole(
    factory: Any,
) -> None:
    person = factory.person("Richard May").id
    with pytest.raises(RuntimeError), write_session() as s:
        _INSERT.run(s, _row(person, "before the orm"))
        assert s.execute(select(func.count()).select_from(_OUTBOX)).scalar() == 1
        s.execute(update(Person).where(Person.id == person).values(name="Changed"))  # type: ignore[arg-type]
        _INSERT.run(s, _row(person, "after the orm"))
        assert _COUNT.run(s).scalar() == 2
        raise RuntimeError("the action failed")
    assert _keys() == []
    assert _name(person) == "Richard May"


def test_prepared_statements_and_the_orm_commit_together(factory: Any) -> None:
    person = factory.person("Richard May").id
    with write_session() as s:
        _INSERT.run(s, _row(person, "before the orm"))
        s.add(Person(name="Paul Knight", email="paul.knight@example.gov.uk", created_at=WHEN))
        s.flush()
        _INSERT.run(s, _row(person, "after the orm"))
    assert _keys() == ["after the orm", "before the orm"]
    with read_session() as s:
        added = select(Person.name).where(Person.email == "paul.knight@example.gov.uk")
        assert s.execute(added).scalar() == "Paul Knight"
    with write_session() as s:  # the ORM alone, changes left for the commit to flush
        found = s.get(Person, person)
        assert found is not None
        found.name = "Richard May (Planning)"
    assert _name(person) == "Richard May (Planning)"
    with write_session() as s:  # a row loaded by a prepared statement, changed, never queried
        held = _PERSON.load_one(s, {"id": person}, Person)
        held.name = "Richard May (Housing)"
    assert _name(person) == "Richard May (Housing)"


def test_rows_a_session_read_stay_readable_after_it_ends(factory: Any) -> None:
    person = factory.person("Richard May").id
    with read_session() as s:
        read = s.get(Person, person)
    with write_session() as s:
        written = s.get(Person, person)
    assert read is not None and written is not None
    assert (read.name, read.email, written.name) == ("Richard May", read.email, "Richard May")


def test_every_connection_goes_back_to_the_pool_with_nothing_open(factory: Any) -> None:
    person = factory.person("Richard May").id
    pool = get_engine().pool
    with read_session() as s:
        _COUNT.run(s)
    with write_session() as s:
        _INSERT.run(s, _row(person, "a"))
    with pytest.raises(RuntimeError), write_session() as s:
        _INSERT.run(s, _row(person, "b"))
        raise RuntimeError("the action failed")
    with pytest.raises(RuntimeError), read_session() as s:
        s.get(Person, person)
        raise RuntimeError("the page failed")
    assert pool.checkedout() == 0  # type: ignore[attr-defined]
    assert _keys() == ["a"]


def test_a_transaction_of_prepared_statements_makes_no_sqlalchemy_connection(
    factory: Any,
) -> None:
    """The write path's transactions send only prepared statements; SQLAlchemy's Connection
    (and the session's bookkeeping over it) is made only when the ORM is first used."""
    person = factory.person("Richard May").id
    made: list[object] = []
    engine = get_engine()

    def connected(connection: object) -> None:
        made.append(connection)

    event.listen(engine, "engine_connect", connected)
    try:
        with write_session() as s:
            _INSERT.run(s, _row(person, "prepared only"))
            assert _COUNT.run(s).scalar() == 1
        with read_session() as s:
            _PERSON.run(s, {"id": person})
        assert made == []
        with write_session() as s:
            _INSERT.run(s, _row(person, "then the orm"))
            s.get(Person, person)
        assert len(made) == 1
    finally:
        event.remove(engine, "engine_connect", connected)
    assert _keys() == ["prepared only", "then the orm"]


def test_a_write_session_holds_sqlites_write_lock_from_its_start(env: Any) -> None:
    path = _sqlite_path()
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with write_session():
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # and lets it go at its end
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_read_session_sees_one_snapshot_before_and_after_the_orm_is_used(
    factory: Any,
) -> None:
    path = _sqlite_path()
    person = factory.person("Richard May").id
    other = sqlite3.connect(path, isolation_level=None)
    sql = (
        "INSERT INTO outbox_message (idempotency_key, template, to_person_id, context, status, "
        "attempts, next_attempt_at, created_at) VALUES (?, 'rfc_decided', ?, '{}', 'queued', 0, "
        "'2010-03-01 09:30:00.000000', '2010-03-01 09:30:00.000000')"
    )
    try:
        with read_session() as s:
            assert _COUNT.run(s).scalar() == 0
            other.execute(sql, ("committed meanwhile", person))
            assert _COUNT.run(s).scalar() == 0
            assert s.execute(select(func.count()).select_from(_OUTBOX)).scalar() == 0
        assert _keys() == ["committed meanwhile"]
    finally:
        other.close()
