"""deliver-outbox: send what the outbox holds. Every minute, and on demand after mail is queued.

Also publishes new RFC transitions as Prefect events (flows/events.py): this is the flow that
runs right after every change, so the Prefect event feed follows the RFCs closely.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact

from flows.common import TASK_OPTIONS
from flows.events import publish_events
from services.platform.delivery import DeliveryReport, deliver_due

LISTED = 100  # messages named in a run's artifact; a backlog's run lists the first ones


def summary(report: DeliveryReport, events: int) -> str:
    lines = [
        "# Outbox delivery",
        "",
        "| sent | retried later | failed (5xx) | dropped (reason expired) | RFC events published |",
        "|---|---|---|---|---|",
        f"| {report.sent} | {report.retried} | {report.failed} | {report.dropped} | {events} |",
    ]
    if report.sent_to:
        lines += ["", "## Sent", ""] + [f"- {line}" for line in report.sent_to[:LISTED]]
        if len(report.sent_to) > LISTED:
            lines.append(f"- … and {len(report.sent_to) - LISTED} more")
    return "\n".join(lines)


@task(name="send-due-mail", **TASK_OPTIONS)
async def send_due_mail() -> DeliveryReport:
    # Safe to retry: rows already sent are settled; rows claimed by a crashed attempt are
    # claimed again when their lease runs out.
    return await deliver_due()


@flow(name="deliver-outbox", log_prints=False, persist_result=False)
async def deliver_outbox() -> dict[str, int]:
    """Claim due outbox rows and send them; safe to run twice at once (rows are claimed)."""
    report = await send_due_mail()
    events = await publish_events()
    get_run_logger().info("outbox: %s", report.as_dict())
    if report.sent or report.retried or report.failed or report.dropped:
        await acreate_markdown_artifact(
            markdown=summary(report, events),
            key="deliver-outbox",
            description="What this delivery run sent",
        )
    return report.as_dict() | {"events": events}
