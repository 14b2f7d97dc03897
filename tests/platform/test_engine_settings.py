"""The PostgreSQL connection pool follows SIGNOFF_DB_POOL_SIZE and SIGNOFF_DB_MAX_OVERFLOW
(docs/operations.md, "The web app"): an operator sizes it to the worker's concurrency."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.db import make_engine
from core.settings import get_settings, reset_settings_cache

PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"  # not connected to: only the pool read


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def use(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(f"SIGNOFF_{key.upper()}", value)
        reset_settings_cache()

    yield use
    reset_settings_cache()


def test_the_pool_has_ten_connections_and_twenty_more_when_busy_by_default(settings_env) -> None:
    settings_env()
    engine = make_engine(PG_URL)
    assert (engine.pool.size(), engine.pool._max_overflow) == (10, 20)  # type: ignore[attr-defined]


def test_the_pool_is_sized_from_the_environment(settings_env) -> None:
    settings_env(db_pool_size="25", db_max_overflow="15")
    engine = make_engine(PG_URL)
    assert (engine.pool.size(), engine.pool._max_overflow) == (25, 15)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("key", "value"),
    [("db_pool_size", "0"), ("db_pool_size", "ten"), ("db_max_overflow", "-1")],
)
def test_a_pool_size_that_cannot_work_is_refused_at_start(settings_env, key, value) -> None:
    settings_env(**{key: value})
    with pytest.raises(ValidationError):
        get_settings()
