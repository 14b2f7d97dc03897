"""deliver-outbox: send what the outbox holds. Every minute, and on demand after mail is queued."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from services.delivery import DeliveryReport, deliver_due


def summary(report: DeliveryReport) -> str:
    lines = [
        "# Outbox delivery",
        "",
        "| sent | retried later | failed (5xx) | dropped (reason expired) |",
        "|---|---|---|---|",
        f"| {report.sent} | {report.retried} | {report.failed} | {report.dropped} |",
    ]
    if report.sent_to:
        lines += ["", "## Sent", ""] + [f"- {line}" for line in report.sent_to]
    return "\n".join(lines)


@flow(name="deliver-outbox", log_prints=False)
async def deliver_outbox() -> dict[str, int]:
    """Claim due outbox rows and send them; safe to run twice at once (rows are claimed)."""
    report = await deliver_due()
    get_run_logger().info("outbox: %s", report.as_dict())
    if report.sent or report.retried or report.failed or report.dropped:
        await create_markdown_artifact(markdown=summary(report), key="deliver-outbox",
                                       description="What this delivery run sent")
    return report.as_dict()
