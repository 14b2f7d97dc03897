"""Fixtures of performance data collection's tests (helpers: tests/support/performance.py).

`people` registers data/ccs_people.csv (the officers and their line managers) and `card`
imports data/scorecard_ccs_2009-10_q3.csv as CCS-0910 for December 2009, both on the last
day of 2009, through the same service functions `signoff users import` and `signoff
scorecards import` call.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from support.databases import env_vars, reset_caches
from support.performance import at, import_card, import_people, registered

from core import clock


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Settings without a database, for the rules that only read settings (periods, RAG)."""
    for key in [k for k in os.environ if k.startswith("SIGNOFF_")]:
        monkeypatch.delenv(key)
    for key, value in env_vars("sqlite:///unused.db", 25).items():
        monkeypatch.setenv(key, value)
    reset_caches()
    from core.settings import get_settings

    yield get_settings()
    reset_caches()


@pytest.fixture
def people(env: Any) -> dict[str, Any]:
    """data/ccs_people.csv registered on 31 December 2009: name -> Person."""
    with clock.frozen(at("2009-12-31", "12:00")):
        import_people()
    return registered()


@pytest.fixture
def card(people: dict[str, Any]) -> Any:
    """The real scorecard imported for December 2009 (its ImportReport)."""
    with clock.frozen(at("2009-12-31", "12:00")):
        return import_card()
