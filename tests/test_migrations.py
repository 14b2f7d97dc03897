"""Migrations run on databases holding live rows, forwards and back, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from core.migrate import downgrade, upgrade

LIVE_ROWS = [
    "INSERT INTO person (id, name, email, job_title, is_admin, active, created_at) VALUES "
    "(1, 'Paul Knight', 'paul.knight@scambs.example', 'PM', false, true, '2010-02-26 10:00:00'),"
    "(2, 'Steve Hampson', 'steve.hampson@scambs.example', 'Sponsor', false, true,"
    " '2010-02-26 10:00:00')",
    "INSERT INTO api_token (id, person_id, token_hash, label, created_at) VALUES "
    "(1, 1, 'abc', 'laptop', '2010-02-26 10:00:00')",
    "INSERT INTO project (id, code, name, objective, cost_tolerance_pence, reminder_working_days,"
    " sponsor_id, manager_id, rfc_counter, created_at) VALUES "
    "(1, 'CSE', 'Customer Service Excellence', '', 0, 5, 2, 1, 0, '2010-02-26 10:00:00')",
    "INSERT INTO audit_event (id, at, actor_id, actor_role, actor_address, subject_type,"
    " subject_id, subject_version, action, from_status, to_status, outcome, detail) VALUES "
    "(1, '2010-02-26 10:00:00', 1, 'admin', '', 'project', 1, 1, 'create', '', 'active', 'ok',"
    " ''),"
    "(2, '2010-02-26 10:05:00', 1, 'requester', '', 'rfc', 1, 1, 'create', '', 'draft', 'ok', '')",
]


def _rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_security_migration_keeps_live_rows_and_goes_back(db_url, env):
    downgrade(db_url, "base")
    upgrade(db_url, "0001")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for sql in LIVE_ROWS:
            conn.execute(text(sql))
    engine.dispose()

    upgrade(db_url, "head")
    assert _rows(db_url, "SELECT code, open_to_all_officers FROM project") == [("CSE", False)]
    assert _rows(db_url, "SELECT label, expires_at, revoked_at FROM api_token") == [
        ("laptop", None, None)]
    assert [r[0] for r in _rows(db_url, "SELECT action FROM audit_event ORDER BY id")] == [
        "create", "create"]
    tables = inspect(create_engine(db_url)).get_table_names()
    assert "throttle" in tables

    downgrade(db_url, "0001")
    assert _rows(db_url, "SELECT count(*) FROM audit_event") == [(2,)]
    assert "throttle" not in inspect(create_engine(db_url)).get_table_names()
    upgrade(db_url, "head")  # and forwards again, as a redeploy would
    assert _rows(db_url, "SELECT count(*) FROM person") == [(2,)]


def test_append_only_migration_chains_live_rows_and_locks_the_table(db_url, env):
    """0003 on a database holding audit rows (more than one batch of them) with no hashes."""
    from sqlalchemy.exc import DBAPIError
    from sqlmodel import Session

    from services.audit import GENESIS, verify_chain

    downgrade(db_url, "base")
    upgrade(db_url, "0002")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for sql in LIVE_ROWS:
            conn.execute(text(sql))
        conn.execute(text(
            "INSERT INTO audit_event (id, at, actor_id, actor_role, actor_address, subject_type,"
            " subject_id, subject_version, action, from_status, to_status, outcome, detail)"
            " VALUES (:id, :at, NULL, 'system', '', 'rfc', 1, 1, 'remind', 'draft', 'draft',"
            " 'ok', :detail)"),
            [{"id": i, "at": f"2010-03-01 09:{i % 60:02d}:00.{i:06d}", "detail": f"n°{i} ✓"}
             for i in range(3, 1004)])
    engine.dispose()
    assert _rows(db_url, "SELECT count(*) FROM audit_event WHERE row_hash = ''") == [(1003,)]

    upgrade(db_url, "head")
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            result = verify_chain(session)
        assert (result.intact, result.events) == (True, 1003), result.problem
        assert _rows(db_url, "SELECT prev_hash FROM audit_event WHERE id = 1") == [(GENESIS,)]
        for sql in ("UPDATE audit_event SET detail = 'x' WHERE id = 2",
                    "DELETE FROM audit_event WHERE id = 1003"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(sql))
    finally:
        engine.dispose()

    downgrade(db_url, "0002")  # the triggers go; the rows stay
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET detail = 'edited before 0003' WHERE id = 2"))
    engine.dispose()
    upgrade(db_url, "head")  # chains again, over the edited row
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            assert verify_chain(session).intact
    finally:
        engine.dispose()
