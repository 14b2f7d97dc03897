"""Shared fixtures: real databases (SQLite file and PostgreSQL), a real SMTP server, the app.

Nothing is mocked except the clock (core.clock.frozen). Every test that asks for `env` gets an empty
migrated database of its own: a SQLite file under tmp_path, a copy of one migrated once per
test process with core.migrate.upgrade,
or the session's uniquely named PostgreSQL database (created with psycopg, migrated with
core.migrate.upgrade, dropped at the end of the session) with every table truncated.
PostgreSQL tests skip when the server is unreachable, except under CI=true,
where they fail.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.databases import (
    PG_HOST,
    PG_PORT,
    PG_USER,
    TABLES,
    _pg_admin,
    _unavailable,
    env_vars,
    pg_url,
    reset_caches,
)
from support.factories import Db, Factory, Team, deliver
from support.smtp_recorder import SmtpRecorder


@pytest.fixture(scope="session")
def pg_session_db() -> Iterator[str]:
    """A uniquely named PostgreSQL database for this session, migrated, dropped at the end."""
    try:
        admin = _pg_admin()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "not available"
        _unavailable(f"PostgreSQL at {PG_HOST}:{PG_PORT} is not reachable: {exc}")
    name = f"signoff_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        from core.migrate import upgrade

        upgrade(pg_url(name))
        yield name
    finally:
        reset_caches()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def pg_database(request: pytest.FixtureRequest) -> str:
    """The session's PostgreSQL database, emptied (far cheaper than a new database each time).

    DELETE in foreign-key order beats TRUNCATE on tables this small; ids keep counting up.
    audit_event refuses DELETE (migration 0003), so its triggers are off for that one
    statement, inside the transaction (the test user is the superuser postgres).
    """
    import psycopg

    name = request.getfixturevalue("pg_session_db")
    reset_caches()  # no pooled connection may hold a lock on the tables
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=name) as conn:
        for table in reversed(TABLES):
            if table == "audit_event":
                conn.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            if table == "audit_event":
                conn.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")
        conn.commit()
    return pg_url(name)


@pytest.fixture(scope="session")
def sqlite_migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated with core.migrate.upgrade, once per test process: migrating
    took 0.25-0.4 s a test on a slow machine, copying the result ~5 ms."""
    from core.migrate import upgrade

    path = tmp_path_factory.mktemp("migrated") / "signoff.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database: a copy of the migrated SQLite file, or the
    session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        path = tmp_path / "signoff.db"
        template = sqlite3.connect(request.getfixturevalue("sqlite_migrated"))
        copy = sqlite3.connect(path)
        try:
            template.backup(copy)  # a consistent copy, rows still in the -wal file included
            copy.execute("PRAGMA journal_mode=WAL")
        finally:
            copy.close()
            template.close()
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_database")


# --- SMTP -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpRecorder]:
    server = SmtpRecorder().start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: SmtpRecorder) -> SmtpRecorder:
    """The real SMTP server, emptied and with no planned failures."""
    smtp_server.reset()
    return smtp_server


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One Prefect test server (~25 s to start) for every flow test of the session; yields
    its API URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield str(PREFECT_API_URL.value())


# --- environment ----------------------------------------------------------------------------


@pytest.fixture
def env(db_url: str, smtp: SmtpRecorder, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Settings pointing at this test's database and the SMTP server; caches reset around it."""
    for key in [k for k in os.environ if k.startswith("SIGNOFF_")]:
        monkeypatch.delenv(key)
    for key, value in env_vars(db_url, smtp.port).items():
        monkeypatch.setenv(key, value)
    reset_caches()
    from core.settings import get_settings

    settings = get_settings()
    assert settings.database_url == db_url
    yield settings
    reset_caches()


@pytest.fixture
def backend(db_url: str) -> str:
    return "sqlite" if db_url.startswith("sqlite") else "postgres"


@pytest.fixture
def db(env: Any) -> Db:
    return Db()


# --- building data through the services -----------------------------------------------------


@pytest.fixture
def factory(env: Any) -> Factory:
    return Factory()


@pytest.fixture
def team(factory: Factory) -> Team:
    return factory.team()


# --- the app --------------------------------------------------------------------------------


@pytest.fixture
def app(env: Any):  # type: ignore[no-untyped-def]
    from api.app import create_app

    return create_app()


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    """The real app in-process; server errors come back as 500 responses, not exceptions."""
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def deliver_outbox(env: Any) -> Callable[[], Any]:
    return deliver


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """Ids that can be passed back to pytest on a command line ("Steve_Hampson"), as
    `make mutation` (mutmut) does."""
    from support.ids import case_id

    if isinstance(val, bytes):
        return case_id(val.decode("latin-1"))
    return case_id(val) if isinstance(val, str) else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With `make test`'s two workers (pytest-xdist, --dist loadgroup), the tests that drive
    Chromium, start servers or the demo, or run Prefect flows all go to one worker, one at a
    time, as they always ran: they share ports, PostgreSQL roles and a Prefect server. The
    rest are spread over both workers. Without xdist the mark does nothing."""
    for item in items:
        heavy = item.get_closest_marker("browser") or item.get_closest_marker("slow")
        if heavy or "/tests/flows/" in str(item.path) or "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.xdist_group("one_at_a_time"))
