"""Production shape, for real on loopback (docs/operations.md):

PostgreSQL for Signoff and for the Prefect server, `prefect deploy --all` from prefect.yaml
into a process work pool, a process worker, the web app under uvicorn with two workers and
an SMTP relay (aiosmtpd). A change made through the web app's API queues the sponsor's email
and nudges deliver-outbox; the worker's run delivers it. A chase run sends a due
reminder. Every wait is bounded; every process is killed in teardown.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.databases import (
    PG_HOST,
    PG_PORT,
    PG_USER,
    SECRET,
    _pg_admin,
    _unavailable,
    reset_caches,
)
from support.factories import MAJOR
from support.smtp_recorder import SmtpRecorder, free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(900)]


def wait_until(
    check: Callable[[], Any], timeout: float, what: str, procs: list[Proc] | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        for proc in procs or []:
            if proc.popen.poll() is not None:
                pytest.fail(
                    f"{proc.name} exited ({proc.popen.returncode}) while waiting for "
                    f"{what}:\n{proc.log_tail()}"
                )
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.log_tail()}" for p in procs or [])
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")
        time.sleep(1)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


class Processes:
    """Children in their own sessions; stop() kills each one's whole tree, flow runs included."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[Proc] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Proc:
        log = self.logs / f"{name}.log"
        popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),  # noqa: S603
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        from cli.demo import tree_rss

        trees = {p.popen.pid: set(tree_rss(p.popen.pid)) for p in self.procs}
        for proc in reversed(self.procs):
            if proc.popen.poll() is None:
                os.killpg(proc.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs:
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for pids in trees.values():  # flow runs of a process worker have sessions of their own
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            if proc.popen.poll() is None:
                proc.popen.wait(timeout=10)


def prefect(*args: str, env: dict[str, str], timeout: float = 180) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        cwd=ROOT,
        env=env,  # noqa: S603
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"prefect {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, str]]:
    """Two fresh PostgreSQL databases: one for Signoff (migrated), one for Prefect."""
    try:
        admin = _pg_admin()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "not available"
        _unavailable(f"PostgreSQL at {PG_HOST}:{PG_PORT} is not reachable: {exc}")
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    names = {"signoff": f"signoff_prod_{suffix}", "prefect": f"prefect_prod_{suffix}"}
    for name in names.values():
        admin.execute(f'CREATE DATABASE "{name}"')
    base = f"{PG_USER}@{PG_HOST}:{PG_PORT}"
    urls = {
        "signoff": f"postgresql+psycopg://{base}/{names['signoff']}",
        "prefect": f"postgresql+asyncpg://{base}/{names['prefect']}",
    }
    try:
        from core.migrate import upgrade

        upgrade(urls["signoff"])
        yield urls
    finally:
        reset_caches()
        for name in names.values():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@dataclass
class Site:
    api: str  # Prefect API
    web: str  # the web app
    relay: SmtpRecorder
    signoff_env: dict[str, str]
    procs: list[Proc]


@pytest.fixture(scope="module")
def site(databases: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    logs = tmp_path_factory.mktemp("production")
    relay = SmtpRecorder().start()
    prefect_port, web_port = free_port(), free_port()
    api = f"http://127.0.0.1:{prefect_port}/api"
    web = f"http://127.0.0.1:{web_port}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNOFF_", "PREFECT_"))}
    prefect_env = clean | {
        "PREFECT_HOME": str(logs / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_CLI_PROMPT": "false",
    }
    signoff_env = {
        "SIGNOFF_ENV": "production",
        "SIGNOFF_DATABASE_URL": databases["signoff"],
        "SIGNOFF_SECRET_KEY": SECRET,
        "SIGNOFF_BASE_URL": web,
        "SIGNOFF_SMTP_HOST": "127.0.0.1",
        "SIGNOFF_SMTP_PORT": str(relay.port),
        "SIGNOFF_MAIL_FROM": "Signoff <signoff@council.example>",
        "SIGNOFF_PREFECT_API_URL": api,
    }
    processes = Processes(logs)
    try:
        server = processes.start(
            "prefect-server",
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(prefect_port),
            ],
            prefect_env
            | {
                "PREFECT_API_DATABASE_CONNECTION_URL": databases["prefect"],
                "PREFECT_UI_ENABLED": "false",
            },
        )
        wait_until(
            lambda: httpx.get(f"{api}/health", timeout=5).status_code == 200,
            240,
            "the Prefect server on PostgreSQL",
            [server],
        )
        client_env = prefect_env | {"PREFECT_API_URL": api}
        prefect(
            "work-pool", "create", "signoff", "--type", "process", "--overwrite", env=client_env
        )
        prefect("--no-prompt", "deploy", "--all", env=client_env)
        worker = processes.start(
            "worker",
            [
                sys.executable,
                "-m",
                "prefect",
                "worker",
                "start",
                "--pool",
                "signoff",
                "--type",
                "process",
            ],
            client_env
            | signoff_env
            | {"SIGNOFF_HOME": str(ROOT), "PREFECT_WORKER_QUERY_SECONDS": "2"},
        )
        webapp = processes.start(
            "web",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(web_port),
                "--workers",
                "2",
                "--log-level",
                "warning",
            ],
            clean | signoff_env,
        )
        wait_until(
            lambda: httpx.get(f"{web}/sign-in", timeout=5).status_code == 200,
            120,
            "the web app (2 uvicorn workers)",
            [webapp],
        )
        wait_until(lambda: _worker_online(api), 120, "the process worker", [worker])
        yield Site(api, web, relay, signoff_env, [server, worker, webapp])
    finally:
        processes.stop()
        relay.stop()


def _worker_online(api: str) -> bool:
    response = httpx.post(f"{api}/work_pools/signoff/workers/filter", json={}, timeout=5)
    return any(w["status"] == "ONLINE" for w in response.json())


@pytest.fixture
def signoff(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """This process's services pointed at the production Signoff database."""
    from support.factories import Factory

    for key in [k for k in os.environ if k.startswith("SIGNOFF_")]:
        monkeypatch.delenv(key)
    for key, value in site.signoff_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SIGNOFF_PREFECT_API_URL")  # the test's own writes do not nudge
    reset_caches()
    yield Factory()
    reset_caches()


def flow_run_state(api: str, run_id: str) -> str:
    return httpx.get(f"{api}/flow_runs/{run_id}", timeout=5).json()["state"]["type"]


def test_web_change_is_delivered_by_a_nudged_deliver_outbox_run_on_a_worker(site, signoff):
    team = signoff.team()
    tokens = {
        who: signoff.api_token(p)
        for who, p in (("officer", team.officer), ("manager", team.manager))
    }

    def call(who: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{site.web}/api/v1{path}",
            json=body or {},
            timeout=30,
            headers={"Authorization": f"Bearer {tokens[who]}"},
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    rfc = call(
        "officer",
        f"/projects/{team.code}/rfcs",
        {
            "title": "Extend stage 1 to 31 March",
            "description": "Merge tasks 1.2 and 2.1.",
            "expected_benefits": "One consultation instead of two.",
        },
    )
    call("officer", f"/rfcs/{rfc['id']}/submit")
    call("manager", f"/rfcs/{rfc['id']}/impact", MAJOR)
    mail = wait_until(
        lambda: [m for m in site.relay.to(team.sponsor.email) if rfc["ref"] in m.subject],
        180,
        "the sponsor's approval email via a worker's deliver-outbox run",
        site.procs,
    )
    assert mail[0].subject == f"Approval needed: {rfc['ref']} (major change)"
    assert mail[0].link().startswith(f"{site.web}/approvals/")

    def nudged_runs() -> list[dict[str, Any]]:
        return httpx.post(
            f"{site.api}/flow_runs/filter",
            timeout=10,
            json={"flow_runs": {"tags": {"all_": ["nudge"]}}},
        ).json()

    assert nudged_runs(), "the web app's commits did not nudge deliver-outbox"
    wait_until(
        lambda: any(r["state"]["type"] == "COMPLETED" for r in nudged_runs()),
        120,
        "a nudged deliver-outbox run to complete",
        site.procs,
    )


def test_a_chase_run_on_a_worker_sends_a_due_reminder(site, signoff):
    from core import clock

    run_day = date.today() - timedelta(days=1)
    while not clock.is_working_day(run_day):
        run_day -= timedelta(days=1)
    with clock.frozen(datetime.combine(run_day, datetime.min.time(), UTC) - timedelta(days=14)):
        team = signoff.team()
        rfc = signoff.in_status(team, "impact_analysis")
    deployment = httpx.get(f"{site.api}/deployments/name/chase/chase", timeout=10).json()
    run = httpx.post(
        f"{site.api}/deployments/{deployment['id']}/create_flow_run",
        timeout=10,
        json={"parameters": {"today": run_day.isoformat()}},
    ).json()
    wait_until(
        lambda: flow_run_state(site.api, run["id"]) in ("COMPLETED", "FAILED", "CRASHED"),
        180,
        "the chase run",
        site.procs,
    )
    assert flow_run_state(site.api, run["id"]) == "COMPLETED"
    reminders = wait_until(
        lambda: [m for m in site.relay.to(team.manager.email) if m.subject.startswith("Reminder:")],
        60,
        "the PM's reminder",
        site.procs,
    )
    assert [m.subject for m in reminders] == [f"Reminder: {rfc.ref} needs your impact analysis"]
