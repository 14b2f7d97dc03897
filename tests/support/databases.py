"""The test databases: PostgreSQL's address, the tables (from the metadata), settings for a
test's own database and SMTP server."""

from __future__ import annotations

import os

import pytest

# TEST_PG_PORT only exists to check the skip/fail behaviour against a port with no server.
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", int(os.environ.get("TEST_PG_PORT", "5432")), "postgres"
SECRET = "test-secret-key-0123456789-abcdefghijklmnop"  # noqa: S105 - tests only


def _tables() -> tuple[str, ...]:
    """Every table of every domain, from the metadata, in foreign-key order (each refers only
    to tables before it)."""
    from models.all_tables import metadata

    return tuple(t.name for t in metadata.sorted_tables)


TABLES = _tables()
ORDER = {t: "id" for t in TABLES} | {"throttle": "bucket, key"}


def pg_url(name: str) -> str:
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(
        host=PG_HOST,
        port=PG_PORT,
        user=PG_USER,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    )


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (PostgreSQL tests must run under CI=true)", pytrace=False)
    pytest.skip(why)


def reset_caches() -> None:
    from core import templating
    from core.db import reset_engine
    from core.settings import reset_settings_cache

    reset_settings_cache()
    reset_engine()
    templating.environment.cache_clear()


# --- databases ------------------------------------------------------------------------------


def env_vars(db_url: str, smtp_port: int) -> dict[str, str]:
    return {
        "SIGNOFF_ENV": "test",
        "SIGNOFF_DATABASE_URL": db_url,
        "SIGNOFF_SECRET_KEY": SECRET,
        "SIGNOFF_BASE_URL": "http://testserver",
        "SIGNOFF_SMTP_HOST": "127.0.0.1",
        "SIGNOFF_SMTP_PORT": str(smtp_port),
        "SIGNOFF_SMTP_TIMEOUT_SECONDS": "10",
        "SIGNOFF_MAIL_FROM": "Signoff <signoff@council.example>",
    }
