"""`python -m flows.serve`: run the flows on their schedules in this process (demo, small sites).

Production uses `prefect deploy --all` from prefect.yaml and a process work pool instead.
"""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.deliver_outbox import deliver_outbox

TIMEZONE = "Europe/London"


def deployments() -> list:  # type: ignore[type-arg]
    return [
        deliver_outbox.to_deployment(
            name="deliver-outbox", schedule=Cron("* * * * *", timezone=TIMEZONE),
            concurrency_limit=1,
        ),
    ]


if __name__ == "__main__":
    # Not paused on shutdown: the next `signoff demo` picks the schedules up again.
    serve(*deployments(), pause_on_shutdown=False, limit=4)
