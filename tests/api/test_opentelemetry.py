"""FastAPI's own OpenTelemetry for each request is off unless SIGNOFF_OPENTELEMETRY says on.

Off, no request asks whether a tracer, meter or logger provider is set up (bench/README.md:
~45 µs of a decision). On, a process that has set up a provider gets a span per request.
Run in a child process: a tracer provider can be set only once per process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "opentelemetry-test-secret-0123456789abcdef"  # noqa: S105 - tests only
TRACED = "['GET', 'fastapi.dependencies', 'fastapi.endpoint']"  # request, dependencies, endpoint
SCRIPT = """
from opentelemetry import trace

started = []

class Tracer(trace.NoOpTracer):
    def start_span(self, name, *args, **kwargs):
        started.append(name)
        return super().start_span(name, *args, **kwargs)

class Provider(trace.TracerProvider):
    def get_tracer(self, *args, **kwargs):
        return Tracer()

trace.set_tracer_provider(Provider())

from fastapi.testclient import TestClient
from api.app import create_app

with TestClient(create_app(), base_url="http://127.0.0.1:8000") as client:
    assert client.get("/accessibility").status_code == 200
print(started)
"""


@pytest.mark.parametrize(
    ("setting", "spans"),
    [
        (None, "[]"),
        ("false", "[]"),
        ("true", TRACED),
    ],
)
def test_a_request_is_traced_only_when_opentelemetry_is_on(tmp_path, setting, spans):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
    env.update(
        SIGNOFF_ENV="test",
        SIGNOFF_SECRET_KEY=SECRET,
        SIGNOFF_DATABASE_URL=f"sqlite:///{tmp_path / 'signoff.db'}",
    )
    if setting is not None:
        env["SIGNOFF_OPENTELEMETRY"] = setting
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == spans
