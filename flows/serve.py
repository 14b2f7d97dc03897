"""`python -m flows.serve`: run the flows on their schedules in this process (demo, small sites).

Production uses `prefect deploy --all` from prefect.yaml and a process work pool instead;
both read their deployments from flows/deployments.py (a test holds prefect.yaml to it).
"""

from __future__ import annotations

import importlib

from prefect import serve
from prefect.schedules import Cron

from flows.deployments import DEPLOYMENTS


def deployments() -> list:  # type: ignore[type-arg]
    out = []
    for d in DEPLOYMENTS:
        flow = getattr(importlib.import_module(d.module), d.flow_name)
        out.append(
            flow.to_deployment(
                name=d.name,
                schedule=Cron(d.cron, timezone=d.timezone),
                concurrency_limit=d.concurrency_limit,
                tags=["signoff"],
            )
        )
    return out


if __name__ == "__main__":
    # Not paused on shutdown: the next `signoff demo` picks the schedules up again.
    serve(*deployments(), pause_on_shutdown=False, limit=4)
