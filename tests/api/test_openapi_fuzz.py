"""Schemathesis fuzzes every operation of /openapi.json: no input may cause a server error, and
every answer must be one the schema declares (status, content type, body, headers)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from core import settings as core_settings
from core import templating
from core.db import reset_engine, write_session
from core.migrate import upgrade

TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def fuzz_database(tmp_path_factory):
    """The app on its own migrated SQLite file with the CSE demo, the CCS scorecard and an
    admin's API token."""
    mp = pytest.MonkeyPatch()
    folder = tmp_path_factory.mktemp("fuzz")
    mp.setenv("SIGNOFF_ENV", "test")
    mp.setenv("SIGNOFF_DATABASE_URL", f"sqlite:///{folder}/fuzz.db")
    mp.setenv("SIGNOFF_SECRET_KEY", "fuzz-secret-key-0123456789abcdefghijkl")
    mp.setenv("SIGNOFF_BASE_URL", "http://testserver")  # the host schemathesis's client sends
    core_settings.reset_settings_cache()
    reset_engine()
    templating.environment.cache_clear()
    upgrade()
    from services.change_control.demo import load_demo
    from services.performance import imports
    from services.platform import people, people_import, tabular

    with write_session() as session:
        load_demo(session)
        # The CCS scorecard too, so the schema's examples (CCS-0910, NI016, 2009-12) reach rows.
        data = core_settings.ROOT / "data"
        people_import.import_people(session, rows=tabular.read(data / "ccs_people.csv"))
        imports.import_scorecard(
            session,
            rows=tabular.read(data / "scorecard_ccs_2009-10_q3.csv"),
            code="CCS-0910",
            period="2009-12",
            actor_id=None,
        )
        TOKEN["admin"] = people.create_api_token(session, email="emma.george@scambs.example")
    yield
    mp.undo()
    core_settings.reset_settings_cache()
    reset_engine()
    templating.environment.cache_clear()


def _load_schema():  # type: ignore[no-untyped-def]
    """The app reads its settings and database lazily, per request, so it can be built at
    import; /openapi.json is read under the host schemathesis's client sends (testserver)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGNOFF_BASE_URL", "http://testserver")
        core_settings.reset_settings_cache()
        try:
            return schemathesis.openapi.from_asgi("/openapi.json", create_app())
        finally:
            core_settings.reset_settings_cache()


schema = _load_schema()


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error(case):
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN['admin']}"}, checks=CHECKS
    )
    assert response.status_code < 500
