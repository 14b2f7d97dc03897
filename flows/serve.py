"""`python -m flows.serve`: run the flows on their schedules in this process (demo, small sites).

Production uses `prefect deploy --all` from prefect.yaml and a process work pool instead;
the schedules here are the same as there.
"""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.common import TIMEZONE
from flows.deliver_outbox import deliver_outbox
from flows.rfc_reminders import rfc_reminders


def deployments() -> list:  # type: ignore[type-arg]
    return [
        deliver_outbox.to_deployment(
            name="deliver-outbox", schedule=Cron("* * * * *", timezone=TIMEZONE),
            concurrency_limit=1, tags=["signoff"],
        ),
        rfc_reminders.to_deployment(
            name="rfc-reminders", schedule=Cron("0 9 * * *", timezone=TIMEZONE),
            concurrency_limit=1, tags=["signoff"],
        ),
    ]


if __name__ == "__main__":
    # Not paused on shutdown: the next `signoff demo` picks the schedules up again.
    serve(*deployments(), pause_on_shutdown=False, limit=4)
