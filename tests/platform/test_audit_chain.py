"""The audit trail is append-only in the database and tamper-evident by its hash chain.

Tampering is done the way someone with DDL rights would: switch the triggers off, change rows,
switch them on again. On PostgreSQL that happens inside one transaction, so the session's
shared database never stays unprotected.
"""

from __future__ import annotations

import re
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from support.databases import PG_HOST, PG_PORT, PG_USER, _pg_admin, reset_caches
from support.processes import signoff

from services.platform.audit import GENESIS

ROOT = Path(__file__).resolve().parents[2]


def _engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(url)


def tamper(url: str, *statements: str, params: dict[str, Any] | None = None) -> None:
    """Run statements with the audit triggers off, as an attacker with DDL rights could."""
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            if url.startswith("sqlite"):
                conn.execute(text("DROP TRIGGER audit_event_no_update"))
                conn.execute(text("DROP TRIGGER audit_event_no_delete"))
            else:
                conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            for sql in statements:
                conn.execute(text(sql), params or {})
            if not url.startswith("sqlite"):
                conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    finally:
        engine.dispose()


def _system_event(session: Any, action: str) -> None:
    """One audit event about RFC 1, recorded by the system, in the caller's transaction."""
    from services.platform import audit

    audit.record(
        session,
        actor_id=None,
        actor_role="system",
        actor_address="",
        subject_type="rfc",
        subject_id=1,
        subject_version=1,
        action=action,
    )


def lifecycle(factory: Any, team: Any) -> None:
    """Some history: an approved RFC, a withdrawn one and a refused attempt (as the API
    records it: the attempt rolls back, the refusal is written in its own transaction)."""
    from services.platform.audit import record_refusal
    from services.platform.errors import ServiceError

    rfc = factory.in_status(team, "approved")
    factory.in_status(team, "withdrawn")
    with pytest.raises(ServiceError) as refused:  # refused; which error is the API's business
        factory.decide(rfc, team.stranger)
    assert refused.value.refusal is not None
    record_refusal(refused.value.refusal, refused.value.message)
    factory.in_status(team, "awaiting_approval")


def verify(url: str) -> Any:
    from core.db import read_session
    from services.platform.audit import verify_chain

    reset_caches()
    with read_session() as session:
        return verify_chain(session)


def audit_ids(url: str) -> list[int]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT id FROM audit_event ORDER BY id"))]
    finally:
        engine.dispose()


# --- the database refuses -------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_event SET detail = 'nothing to see' WHERE id = :id",
        "UPDATE audit_event SET row_hash = prev_hash",
        "DELETE FROM audit_event WHERE id = :id",
        "DELETE FROM audit_event",
    ],
)
def test_database_refuses_changing_audit_rows(db_url, env, factory, team, sql):
    before = _rows(db_url)
    assert before, "creating the team writes audit rows"
    engine = _engine(db_url)
    try:
        with pytest.raises(DBAPIError, match="audit_event is append-only"), engine.begin() as conn:
            conn.execute(text(sql), {"id": before[0][0]})
    finally:
        engine.dispose()
    assert _rows(db_url) == before


@pytest.mark.postgres
def test_postgres_refuses_truncate(env, factory, team, backend):
    if backend != "postgres":
        pytest.skip("TRUNCATE is PostgreSQL's")
    before = _rows(env.database_url)
    engine = _engine(env.database_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_event"))
    finally:
        engine.dispose()
    assert _rows(env.database_url) == before


def _rows(url: str) -> list[tuple]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("SELECT * FROM audit_event ORDER BY id"))]
    finally:
        engine.dispose()


# --- the chain ------------------------------------------------------------------------------


def test_a_lifecycle_leaves_an_intact_chain(env, factory, team, smtp):
    lifecycle(factory, team)
    rows = _rows(env.database_url)
    assert len(rows) >= 10
    result = verify(env.database_url)
    assert (result.intact, result.events) == (True, len(rows))
    done = signoff(env.database_url, smtp.port, "audit", "verify")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"{len(rows)} events, chain intact"
    assert result.last_hash in done.stdout


def test_each_row_links_to_the_one_before(env, factory, team):
    from core.db import write_session

    with write_session() as session:  # two events in one transaction
        for action in ("first", "second"):
            _system_event(session, action)
    engine = _engine(env.database_url)
    with engine.connect() as conn:
        chain = conn.execute(text("SELECT prev_hash, row_hash FROM audit_event ORDER BY id")).all()
    engine.dispose()
    assert chain[0][0] == GENESIS
    for (_, previous), (prev_hash, row_hash) in zip(chain, chain[1:], strict=False):
        assert prev_hash == previous and re.fullmatch("[0-9a-f]{64}", row_hash)
    assert len({row_hash for _, row_hash in chain}) == len(chain)
    assert verify(env.database_url).intact


def test_a_row_rolled_back_with_its_savepoint_is_not_chained_to(env, factory, team):
    """Appends remember the chain's head for the rest of their transaction; a savepoint that
    rolls back takes its rows with it, so the next row must chain to what is still there."""
    from core.db import write_session

    with write_session() as session:
        _system_event(session, "kept")
        savepoint = session.begin_nested()
        _system_event(session, "undone")
        savepoint.rollback()
        _system_event(session, "after")
        savepoint = session.begin_nested()
        _system_event(session, "released")
        savepoint.commit()
        _system_event(session, "last")
    engine = _engine(env.database_url)
    with engine.connect() as conn:
        actions = conn.execute(text("SELECT action FROM audit_event ORDER BY id")).scalars().all()
    engine.dispose()
    assert actions[-4:] == ["kept", "after", "released", "last"]
    assert verify(env.database_url).intact


def test_verify_walks_in_batches(env, factory, team):
    from core.db import read_session
    from services.platform.audit import verify_chain

    lifecycle(factory, team)
    count = len(audit_ids(env.database_url))
    with read_session() as session:
        assert verify_chain(session, batch=3).events == count
    middle = audit_ids(env.database_url)[count // 2]
    tamper(
        env.database_url,
        "UPDATE audit_event SET detail = 'x' WHERE id = :id",
        params={"id": middle},
    )
    with read_session() as session:
        assert verify_chain(session, batch=3).broken_id == middle


# Every field the hash covers, with a changed value: leaving one out of the hash fails here.
CHANGES = {
    "at": "at = :at",
    "actor_id": "actor_id = NULL",
    "actor_role": "actor_role = 'sponsor'",
    "actor_address": "actor_address = '203.0.113.9'",
    "subject_type": "subject_type = 'plan'",
    "subject_id": "subject_id = subject_id + 1000",
    "subject_version": "subject_version = subject_version + 1",
    "action": "action = 'reject'",
    "from_status": "from_status = 'draft'",
    "to_status": "to_status = 'rejected'",
    "outcome": "outcome = 'refused'",
    "detail": "detail = 'Agreed, with conditions.'",
}


@pytest.mark.parametrize("field", list(CHANGES))
def test_changing_any_field_breaks_the_chain_there(env, factory, team, field):
    factory.in_status(team, "approved")
    ids = audit_ids(env.database_url)
    victim = ids[-2]  # an approval-era row with an actor, statuses and a following row
    tamper(
        env.database_url,
        f"UPDATE audit_event SET {CHANGES[field]} WHERE id = :id",  # noqa: S608
        params={"id": victim, "at": datetime(2010, 2, 26, 10, 0, tzinfo=UTC)},
    )
    result = verify(env.database_url)
    assert (result.broken_id, result.problem.split(" ")[0]) == (victim, "row_hash")


@pytest.mark.parametrize(
    "how", ["change a row", "delete a row", "rehash one row", "delete the first row"]
)
def test_signoff_audit_verify_names_the_first_broken_row(env, factory, team, smtp, how):
    from sqlmodel import Session

    from models import AuditEvent
    from services.platform.audit import row_hash

    lifecycle(factory, team)
    ids = audit_ids(env.database_url)
    middle, following = ids[len(ids) // 2], ids[len(ids) // 2 + 1]
    url = env.database_url
    if how == "change a row":
        tamper(
            url,
            "UPDATE audit_event SET detail = 'Never asked.' WHERE id = :id",
            params={"id": middle},
        )
        expected = (middle, "row_hash does not match the row's contents")
    elif how == "delete a row":
        tamper(url, "DELETE FROM audit_event WHERE id = :id", params={"id": middle})
        expected = (following, "is not the row_hash of the row before it")
    elif how == "rehash one row":  # a consistent row, but the next one still names the old hash
        engine = _engine(url)
        with Session(engine) as s:
            event = s.get(AuditEvent, middle)
            assert event is not None
            event.detail = "Never asked."
            forged = row_hash(event.prev_hash, event)
        engine.dispose()
        tamper(
            url,
            "UPDATE audit_event SET detail = 'Never asked.', row_hash = :h WHERE id = :id",
            params={"id": middle, "h": forged},
        )
        expected = (following, "is not the row_hash of the row before it")
    else:
        tamper(url, "DELETE FROM audit_event WHERE id = :id", params={"id": ids[0]})
        expected = (ids[1], "is not the row_hash of the row before it")

    done = signoff(url, smtp.port, "audit", "verify")
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "chain intact" not in done.stdout
    assert f"audit chain broken at event {expected[0]} " in done.stderr
    assert expected[1] in done.stderr
    assert "Traceback" not in done.stderr


# --- concurrency ----------------------------------------------------------------------------


def test_concurrent_appends_keep_one_chain(env, factory, team, backend):
    """10 threads x 20 refused attempts, each its own transaction, all at once."""
    from services.platform import audit
    from services.platform.errors import Refusal

    threads_n, per_thread = 10, 20
    before = len(audit_ids(env.database_url))
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                refusal = Refusal(
                    subject_type="rfc",
                    subject_id=n,
                    subject_version=i,
                    action="approve",
                    from_status="awaiting_approval",
                    actor_id=team.stranger.id,
                    actor_role="stranger",
                    actor_address=f"192.0.2.{n}",
                )
                audit.record_refusal(refusal, f"thread {n} attempt {i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=append, args=(n,)) for n in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    result = verify(env.database_url)
    assert result.intact, (result.broken_id, result.problem)
    assert result.events == before + threads_n * per_thread


# --- PostgreSQL roles: the grants documented in docs/operations.md --------------------------


def documented_grants() -> tuple[str, str]:
    """The two SQL blocks of docs/operations.md's "Database roles" section."""
    doc = (ROOT / "docs" / "operations.md").read_text()
    section = doc.split("### Database roles", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.S)
    assert len(blocks) == 2, "the superuser's block and the owner's block"
    return blocks[0], blocks[1]


def _run_as(user: str, dbname: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=user, dbname=dbname, autocommit=True
    ) as conn:
        for statement in (s.strip() for s in sql.split(";")):
            lines = [ln for ln in statement.splitlines() if not ln.strip().startswith("--")]
            if "\n".join(lines).strip():
                conn.execute("\n".join(lines))


@pytest.mark.postgres
def test_documented_grants_let_the_app_work_but_not_rewrite_the_trail(
    backend, env, monkeypatch, smtp
):
    if backend != "postgres":
        pytest.skip("roles and grants are PostgreSQL's")
    from core.migrate import upgrade

    suffix = uuid.uuid4().hex[:8]
    owner, app_role, dbname = (
        f"signoff_owner_{suffix}",
        f"signoff_app_{suffix}",
        f"signoff_{suffix}",
    )

    def named(sql: str) -> str:
        return (
            sql.replace("signoff_owner", owner)
            .replace("signoff_app", app_role)
            .replace("DATABASE signoff", f"DATABASE {dbname}")
        )

    as_superuser, as_owner = (named(block) for block in documented_grants())
    admin = _pg_admin()
    try:
        _run_as(PG_USER, "postgres", as_superuser)
        upgrade(f"postgresql+psycopg://{owner}@{PG_HOST}:{PG_PORT}/{dbname}")
        _run_as(owner, dbname, as_owner)

        # The application, connected as its own role, goes through a whole lifecycle.
        app_url = f"postgresql+psycopg://{app_role}@{PG_HOST}:{PG_PORT}/{dbname}"
        monkeypatch.setenv("SIGNOFF_DATABASE_URL", app_url)
        reset_caches()
        from support.factories import Factory

        factory = Factory()
        lifecycle(factory, factory.team())
        result = verify(app_url)
        assert result.intact and result.events >= 10

        engine = _engine(app_url)
        try:
            for sql in (
                "UPDATE audit_event SET detail = 'x'",
                "DELETE FROM audit_event",
                "TRUNCATE audit_event",
            ):
                with (
                    pytest.raises(DBAPIError, match="permission denied for table audit_event"),
                    engine.begin() as conn,
                ):
                    conn.execute(text(sql))
            # Nor may it switch the triggers off.
            with pytest.raises(DBAPIError, match="must be owner"), engine.begin() as conn:
                conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        finally:
            engine.dispose()
        assert verify(app_url).events == result.events
    finally:
        reset_caches()
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        for role in (app_role, owner):
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.close()
