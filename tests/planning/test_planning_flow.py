"""The planning-cycle flow and its deployment: the schedule (08:00 London, before
performance-chase) as flows/deployments.py and prefect.yaml declare it, and one real run of
the flow against a Prefect test server, the real database and the real SMTP server."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from support.performance import at, import_people  # noqa: E402
from support.planning import add_plan, import_councillors, open_cycle  # noqa: E402

from core import clock  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_the_deployment_runs_daily_at_eight_in_london_before_performance_chase():
    import yaml

    from flows.deployments import DEPLOYMENTS

    table = {d.name: d for d in DEPLOYMENTS}
    planning = table["planning-cycle"]
    assert (planning.entrypoint, planning.cron, planning.timezone) == (
        "flows/planning_cycle.py:planning_cycle",
        "0 8 * * *",
        "Europe/London",
    )
    assert planning.concurrency_limit == 1
    (entry,) = [
        d
        for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
        if d["name"] == "planning-cycle"
    ]
    (schedule,) = entry["schedules"]
    assert (entry["entrypoint"], schedule["cron"], schedule["timezone"], schedule["active"]) == (
        planning.entrypoint,
        planning.cron,
        planning.timezone,
        True,
    )
    assert entry["concurrency_limit"] == {"limit": 1, "collision_strategy": "ENQUEUE"}
    # PP4 goes in before performance-chase opens March's returns on the first of April.
    assert planning.cron.split()[1] < table["performance-chase"].cron.split()[1]


def test_it_fires_at_eight_london_time_in_winter_and_summer():
    from prefect.server.schemas.schedules import CronSchedule

    schedule = CronSchedule(cron="0 8 * * *", timezone="Europe/London")
    start = datetime(2010, 3, 26, 12, tzinfo=UTC)  # the clocks went forward on Sunday 28th
    fires = asyncio.run(schedule.get_dates(n=4, start=start))
    assert [(d.astimezone(UTC).day, d.astimezone(UTC).hour) for d in fires] == [
        (27, 8),
        (28, 7),
        (29, 7),
        (30, 7),
    ]


# --- one real run ---------------------------------------------------------------------------


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


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_flow_kicks_the_cycle_off_once_and_says_so(prefect_api, env, factory, smtp):
    """Monday 4 January 2010: the 2010/11 cycle opens with the Partnerships plan."""
    from flows.planning_cycle import planning_cycle

    with clock.frozen(at("2009-12-14", "12:00")):
        import_people()
        import_councillors()
        team = factory.person("Performance Team", admin=True)
        open_cycle(
            team,
            opens_on=date(2010, 1, 4),
            objectives_by=date(2010, 1, 15),
            drafts_due=date(2010, 2, 12),
            signoff_by=date(2010, 3, 31),
        )
        add_plan(
            team,
            area="Partnerships",
            owner_email="gemma.barron@scambs.example",
            signatories=[{"email": "cllr.hartley@scambs.example", "role": "portfolio_holder"}],
        )
    with clock.frozen(at("2010-01-04", "08:00")):
        first: dict[str, Any] = asyncio.run(planning_cycle(today=date(2010, 1, 4)))
        again: dict[str, Any] = asyncio.run(planning_cycle(today=date(2010, 1, 4)))
    assert (first["kicked_off"], first["kickoff"], first["kickoff_team"]) == (["2010/11"], 1, 1)
    assert first["emails_sent"] == 2
    assert (again["kicked_off"], again["kickoff"], again["emails_sent"]) == ([], 0, 0)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted(
        ["gemma.barron@scambs.example", team.email]
    )
    second, first_artifact = artifacts("planning-cycle")[:2]
    assert "Planning cycle 2010/11 kicked off." in first_artifact
    assert "| Kick-off to | Gemma Barron &lt;gemma.barron@scambs.example&gt; |" in first_artifact
    assert "No plan owner or performance team email was due today." in second


def test_the_artifact_keeps_names_as_text_in_its_table():
    from flows.planning_cycle import summary
    from services.planning.calendar import DayReport, Told

    report = DayReport(date(2010, 1, 4), kicked_off=["2010/11"])
    report.told.append(Told("kickoff", "A | B <a@council.example>", "Parks <b>|</b> plan"))
    text = summary(report)
    assert (
        "| Kick-off to | A / B &lt;a@council.example&gt; | Parks &lt;b&gt;/&lt;/b&gt; plan |"
        in (text)
    )
    assert summary(DayReport(date(2010, 1, 2), working_day=False)).endswith(
        "Not a working day: nobody is emailed today."
    )
