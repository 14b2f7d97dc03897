"""Signoff's deployments, in one table: `flows/serve.py` serves them (the demo, small sites),
the demo waits for each, and tests/test_flows.py checks that prefect.yaml (`prefect deploy
--all`) declares the same. Imports nothing of Prefect, so the demo supervisor can read it."""

from __future__ import annotations

from dataclasses import dataclass

TIMEZONE = "Europe/London"


@dataclass(frozen=True)
class Deployment:
    name: str
    entrypoint: str  # "flows/chase.py:chase", as prefect.yaml names it
    cron: str
    concurrency_limit: int = 1
    timezone: str = TIMEZONE

    @property
    def module(self) -> str:
        return self.entrypoint.split(":")[0].removesuffix(".py").replace("/", ".")

    @property
    def flow_name(self) -> str:
        return self.entrypoint.split(":")[1]


DEPLOYMENTS = (
    # Every minute, and nudged by the web app after a commit that queued email.
    Deployment("deliver-outbox", "flows/deliver_outbox.py:deliver_outbox", "* * * * *"),
    # Daily at 09:00 London time: every domain's late steps, one digest per person.
    Deployment("chase", "flows/chase.py:chase", "0 9 * * *"),
    # Daily at 09:00 London time: open the month's returns of figures, chase late figures,
    # and tell the performance team who is still late.
    Deployment("performance-chase", "flows/performance_chase.py:performance_chase", "0 9 * * *"),
    # Daily at 08:00 London time: the service-planning calendar (kick-off, reminders, chases,
    # the weekly summary, PP4), before performance-chase opens March's returns in April.
    Deployment("planning-cycle", "flows/planning_cycle.py:planning_cycle", "0 8 * * *"),
)
