"""The flows for real, against one Prefect test server for the whole session (~25 s to start).

Each flow runs in this process against the harness's Prefect API; Signoff's database (SQLite
and PostgreSQL) and the SMTP server are real. Faults: the relay down, 451 then OK, 550, the
database going away mid-run. The web app's nudge and `prefect deploy --all` from prefect.yaml
are checked against the same server.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from support.databases import PG_HOST, PG_PORT, PG_USER, reset_caches  # noqa: E402
from support.factories import deliver  # noqa: E402
from support.smtp_recorder import SmtpRecorder, free_port  # noqa: E402

from core import clock  # noqa: E402
from core.db import read_session  # noqa: E402
from models import OutboxMessage, OutboxStatus  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def run(flow: Any, **params: Any) -> Any:
    return asyncio.run(flow(**params))


def outbox_rows() -> list[OutboxMessage]:
    with read_session() as s:
        return list(s.query(OutboxMessage).order_by(OutboxMessage.id))


def later(minutes: float) -> Any:
    """The clock moved on (past the outbox's back-off), as a context manager."""
    return clock.frozen(datetime.now(UTC) + timedelta(minutes=minutes))


def restart_smtp_on(port: int) -> SmtpRecorder:
    from aiosmtpd.controller import Controller

    server = SmtpRecorder()
    server.port = port
    server.controller = Controller(server.handler, hostname="127.0.0.1", port=port)
    return server.start()


def point_smtp_at(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("SIGNOFF_SMTP_PORT", str(port))
    reset_caches()


def prefect_events(prefix: str, resource_id: str, wait: float = 30) -> list[dict[str, Any]]:
    """Events the Prefect server stored (its persister writes them a moment later)."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + wait
    with get_client(sync_client=True) as client:
        while True:
            response = client.request(  # type: ignore[call-arg]
                "POST",
                "/events/filter",  # type: ignore[arg-type]
                json={
                    "filter": {"event": {"prefix": [prefix]}, "resource": {"id": [resource_id]}},
                    "limit": 50,
                },
            )
            events = response.json()["events"]
            if events or time.monotonic() > deadline:
                return events
            time.sleep(0.5)


def artifacts(key: str) -> list[str]:
    """Every version of a keyed artifact, newest first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )
    assert found, f"no artifact {key!r}"
    return [str(a.data) for a in sorted(found, key=lambda a: a.created or 0, reverse=True)]


# --- each flow once, for real ---------------------------------------------------------------


def test_deliver_outbox_sends_reports_and_publishes_rfc_events(prefect_api, factory, team, smtp):
    from flows.deliver_outbox import deliver_outbox

    rfc = factory.in_status(team, "awaiting_approval")
    result = run(deliver_outbox)
    # The PM's "needs your impact analysis" is dropped: the RFC has moved on since.
    assert (result["sent"], result["dropped"], result["failed"]) == (1, 1, 0)
    assert [m.subject for m in smtp.to(team.sponsor.email)] == [
        f"Approval needed: {rfc.ref} (major change)"
    ]
    assert run(deliver_outbox)["sent"] == 0  # nothing twice
    assert len(smtp.messages) == 1
    assert team.sponsor.email in artifacts("deliver-outbox")[0]
    events = prefect_events("signoff.rfc.", f"signoff.rfc.{rfc.ref}")
    names = sorted(e["event"] for e in events)
    assert names == ["signoff.rfc.impact_recorded", "signoff.rfc.raised", "signoff.rfc.submitted"]
    assert all(e["resource"]["signoff.rfc.ref"] == rfc.ref for e in events)


def test_a_backlog_runs_artifact_names_the_first_hundred_and_counts_the_rest():
    from flows.deliver_outbox import LISTED, summary
    from services.platform.delivery import DeliveryReport

    report = DeliveryReport(
        sent=LISTED + 150, sent_to=[f"officer{i}@council.example: S" for i in range(LISTED + 150)]
    )
    text = summary(report, events=0)
    assert f"officer{LISTED - 1}@council.example" in text
    assert f"officer{LISTED}@council.example" not in text
    assert text.endswith("- … and 150 more")


def recent_working_day() -> date:
    day = datetime.now(UTC).date() - timedelta(days=1)
    while not clock.is_working_day(day):
        day -= timedelta(days=1)
    return day


def test_chase_chases_once_and_says_whom_in_an_artifact(prefect_api, factory, team, smtp):
    from flows.chase import chase

    run_day = recent_working_day()
    nine = datetime.combine(run_day, datetime.min.time().replace(hour=9), clock.local_tz())
    with clock.frozen(nine - timedelta(days=14)):
        rfc = factory.in_status(team, "impact_analysis")
        deliver()
    smtp.reset()
    with clock.frozen(nine):
        result = run(chase)
        assert (result["reminded"], result["digests"], result["emails_sent"]) == (1, 1, 1)
        assert run(chase)["reminded"] == 0  # a second run the same day: nothing
    (mail,) = smtp.messages
    assert mail.subject == f"Reminder: {rfc.ref} needs your impact analysis"
    assert team.manager.email in mail.rcpt_tos
    second, first = artifacts("chase")[:2]
    assert "Nothing is overdue" in second
    assert rfc.ref in first and team.manager.name in first and "Reminded" in first


def test_performance_chase_opens_returns_chases_and_says_whom(prefect_api, factory, smtp):
    """The real December 2009 scorecard: SX057 (Gemma Barron) and NI016 (Neil Weston) have no
    figure. Monday 4 January opens their returns; Monday 18 January chases them."""
    from support.performance import at, import_card, import_people

    from flows.performance_chase import performance_chase

    with clock.frozen(at("2009-12-31", "12:00")):
        import_people()
        import_card()
        team = factory.person("Performance Team", admin=True)
    with clock.frozen(at("2010-01-04")):
        opened = run(performance_chase, today=date(2010, 1, 4))
    assert (opened["opened"], opened["emails_sent"]) == ({"2009-12": 2}, 2)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [
        "gemma.barron@scambs.example",
        "neil.weston@scambs.example",
    ]
    smtp.reset()
    with clock.frozen(at("2010-01-18")):
        chased = run(performance_chase, today=date(2010, 1, 18))
        again = run(performance_chase, today=date(2010, 1, 18))
    said = (chased["chase"]["reminded"], chased["late_officers"], chased["emails_sent"])
    assert said == (2, 2, 3)  # two chases, and the performance team's summary
    assert (again["chase"]["reminded"], again["emails_sent"]) == (0, 0)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted(
        ["gemma.barron@scambs.example", "neil.weston@scambs.example", team.email]
    )
    on_18th, on_4th = artifacts("performance-chase")[1:3]  # newest first
    assert "| Gemma Barron | December 2009 | 1 | 3 | 1 |" in on_18th
    assert "| Neil Weston, December 2009 | Reminded |" in on_18th
    assert "Returns opened for 2009-12: 2." in on_4th


# --- faults ---------------------------------------------------------------------------------


def test_relay_down_mail_waits_then_goes_when_it_is_back(
    prefect_api, factory, team, smtp, monkeypatch
):
    from flows.deliver_outbox import deliver_outbox

    port = free_port()
    point_smtp_at(monkeypatch, port)  # nothing listens there: the relay is down
    factory.in_status(team, "approved")  # the outcome to requester, PM and sponsor
    result = run(deliver_outbox)
    assert result["sent"] == 0 and result["retried"] >= 1
    waiting = [r for r in outbox_rows() if r.status == OutboxStatus.queued]
    assert len(waiting) == 3  # nothing lost
    assert all(r.attempts <= 1 for r in waiting) and any(r.last_error for r in waiting)
    relay = restart_smtp_on(port)
    try:
        with later(5):
            assert run(deliver_outbox)["sent"] == 3
        assert len(relay.messages) == 3
        assert [r.status for r in outbox_rows()].count(OutboxStatus.sent) == 3
    finally:
        relay.stop()


def test_451_is_retried_and_sent_once(prefect_api, factory, team, smtp):
    from flows.deliver_outbox import deliver_outbox

    factory.in_status(team, "approved")  # the outcome to requester, PM and sponsor
    smtp.fail_next(1, 451)
    first = run(deliver_outbox)
    assert first["retried"] == 1 and first["sent"] == 2
    (waiting,) = [r for r in outbox_rows() if r.status == OutboxStatus.queued]
    assert waiting.last_error and waiting.last_error.startswith("451")
    with later(5):
        assert run(deliver_outbox)["sent"] == 1
    assert len(smtp.messages) == 3
    assert len({m.message_id for m in smtp.messages}) == 3


def test_550_is_permanent_and_kept_for_the_admin_outbox_page(prefect_api, factory, team, smtp):
    from flows.deliver_outbox import deliver_outbox

    factory.in_status(team, "approved")  # the outcome to requester, PM and sponsor
    smtp.fail_next(1, 550, stage="rcpt")
    assert run(deliver_outbox)["failed"] == 1
    (failed,) = [r for r in outbox_rows() if r.status == OutboxStatus.failed]
    assert failed.last_error and failed.last_error.startswith("550")
    assert "| 2 | 0 | 1 | 2 |" in artifacts("deliver-outbox")[0]  # sent, retried, failed
    with later(120):  # long after any back-off: a 5xx is never tried again
        later_run = run(deliver_outbox)
    assert (later_run["sent"], later_run["failed"]) == (0, 0)
    assert len(smtp.refused) == 1 and len(smtp.messages) == 2
    assert [r.status for r in outbox_rows()].count(OutboxStatus.failed) == 1


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_database_going_away_mid_run_is_completed_by_the_next_run(
    prefect_api, factory, team, smtp, db_url, monkeypatch
):
    """PostgreSQL refuses connections (as when restarted) after the first message is accepted."""
    import psycopg

    from flows.deliver_outbox import deliver_outbox
    from services.platform.delivery import SETTLE_EVERY

    name = db_url.rsplit("/", 1)[1]
    for _ in range(3):
        factory.in_status(team, "approved")
    queued = 9  # three outcomes each to requester, PM and sponsor (the rest are dropped)

    def admin(sql: str) -> None:
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def back_up() -> None:
        admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    original = smtp.handler.handle_DATA
    restarted = threading.Event()

    async def data_then_restart(server, session, envelope):  # type: ignore[no-untyped-def]
        reply = await original(server, session, envelope)
        if not restarted.is_set():
            restarted.set()
            admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            threading.Timer(1.0, back_up).start()  # up again before the task's retry
        return reply

    monkeypatch.setattr(smtp.handler, "handle_DATA", data_then_restart)
    try:
        run(deliver_outbox)  # the task retries once the database is back
    finally:
        back_up()
    assert restarted.is_set()
    # Rows claimed by the interrupted attempt wait for their lease; the next run after it
    # sends them. The message accepted just before the restart may be sent again (at least
    # once), but none is lost, and a second copy carries the first one's Message-ID.
    with later(10):
        run(deliver_outbox)
    sent = [r for r in outbox_rows() if r.status == OutboxStatus.sent]
    assert len(sent) == queued
    assert {r.status for r in outbox_rows()} == {OutboxStatus.sent, OutboxStatus.dropped}
    ids = {r.message_id for r in sent}
    assert len(ids) == queued
    # Sent again: only what was sent since the batch's last settle, each with its first copy's
    # Message-ID.
    assert 0 <= len(smtp.messages) - queued <= SETTLE_EVERY
    assert {m.message_id for m in smtp.messages} == ids


# --- the web app's nudge and prefect.yaml against a running server -------------------------


def test_nudge_starts_a_deliver_outbox_run_without_prefect_in_the_web_app(prefect_api, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from core import nudge
    from flows.deliver_outbox import deliver_outbox

    deployment_id = deliver_outbox.to_deployment(name="deliver-outbox").apply()
    monkeypatch.setenv("SIGNOFF_PREFECT_API_URL", prefect_api)
    reset_caches()
    flow_runs = DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
    with get_client(sync_client=True) as client:
        before = {r.id for r in client.read_flow_runs(deployment_filter=flow_runs)}
    monkeypatch.setattr(nudge, "_deployment_id", None)
    monkeypatch.setattr(nudge, "_last", 0.0)
    nudge.nudge_delivery()
    nudge.nudge_delivery()  # a burst of commits asks once
    runs: list = []
    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while not runs and time.monotonic() < deadline:
            time.sleep(0.3)
            runs = [
                r for r in client.read_flow_runs(deployment_filter=flow_runs) if r.id not in before
            ]
        time.sleep(1)  # a second run would have arrived by now
        runs = [r for r in client.read_flow_runs(deployment_filter=flow_runs) if r.id not in before]
    reset_caches()
    assert len(runs) == 1 and "nudge" in runs[0].tags


def prefect_cli(*args: str, api: str, timeout: float = 180) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_CLI_PROMPT": "false",
    }
    environment.pop("SIGNOFF_HOME", None)
    command = [sys.executable, "-m", "prefect", *args]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=environment,  # noqa: S603
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_prefect_yaml_deploys_all_against_a_running_server(prefect_api):
    from prefect.client.orchestration import get_client

    prefect_cli(
        "work-pool", "create", "signoff", "--type", "process", "--overwrite", api=prefect_api
    )
    prefect_cli("--no-prompt", "deploy", "--all", api=prefect_api)
    from flows.deployments import DEPLOYMENTS

    with get_client(sync_client=True) as client:
        deployed = {
            d.name: client.read_deployment_by_name(f"{d.flow_name.replace('_', '-')}/{d.name}")
            for d in DEPLOYMENTS
        }
    for d in DEPLOYMENTS:
        deployment = deployed[d.name]
        assert deployment.work_pool_name == "signoff"
        (schedule,) = deployment.schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (d.cron, d.timezone)
        assert schedule.active
        assert deployment.global_concurrency_limit is not None
        assert deployment.global_concurrency_limit.limit == d.concurrency_limit
        # Workers fill in their own release directory when they run a flow.
        assert deployment.pull_steps == [
            {
                "prefect.deployments.steps.set_working_directory": {
                    "directory": "{{ $SIGNOFF_HOME }}"
                }
            }
        ]


def test_prefect_yaml_declares_the_deployments_the_demo_serves():
    """prefect.yaml (production) and flows/serve.py (the demo) read one table: the file must
    hold each of its deployments, with the same entrypoint, schedule and concurrency."""
    import yaml

    from flows.deployments import DEPLOYMENTS

    declared = {
        d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
    }
    assert sorted(declared) == sorted(d.name for d in DEPLOYMENTS)
    for d in DEPLOYMENTS:
        entry = declared[d.name]
        (schedule,) = entry["schedules"]
        assert (
            entry["entrypoint"],
            schedule["cron"],
            schedule["timezone"],
            entry["concurrency_limit"]["limit"],
        ) == (d.entrypoint, d.cron, d.timezone, d.concurrency_limit), d.name


def test_the_demo_serves_every_deployment_in_the_table():
    from flows.deployments import DEPLOYMENTS
    from flows.serve import deployments

    served = {(d.name, d.flow_name) for d in deployments()}
    assert served == {(d.name, d.flow_name.replace("_", "-")) for d in DEPLOYMENTS}


def test_reminders_fire_at_nine_in_london_in_winter_and_summer():
    from prefect.client.schemas.schedules import CronSchedule

    schedule = CronSchedule(cron="0 9 * * *", timezone="Europe/London")
    start = datetime(2010, 3, 26, 12, tzinfo=UTC)  # the clocks go forward on Sunday 28th
    fires = [d.astimezone(UTC) for d in _next_dates(schedule, start, 4)]
    assert [(d.day, d.hour) for d in fires] == [(27, 9), (28, 8), (29, 8), (30, 8)]


def _next_dates(schedule: Any, start: datetime, n: int) -> list[datetime]:
    from prefect.server.schemas.schedules import CronSchedule as ServerCron

    server = ServerCron(cron=schedule.cron, timezone=schedule.timezone)
    return asyncio.run(server.get_dates(n=n, start=start))
