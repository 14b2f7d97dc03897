"""chase: daily at 09:00 (London), chase every domain's late steps.

Thin: services.platform.chasing decides who is due what, once, and queues one digest per
person; this flow schedules it, sends the mail straight away, and says in an artifact whom it
chased for what.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact

from core.db import write_session
from flows.common import TASK_OPTIONS
from flows.events import publish_events
from services.platform import chasing
from services.platform.delivery import deliver_due

ACTION_LABELS = {
    "reminded": "Reminded",
    "escalated": "Escalated to",
    "link_reissued": "New link for",
    "copied": "Copied to",
    "not_escalated": "Could not escalate",
}


def summary(report: chasing.ChaseReport) -> str:
    lines = [f"# Chasing for {report.today:%A %-d %B %Y}", ""]
    if not report.working_day:
        return "\n".join(lines + ["Not a working day: nobody is chased today."])
    if not report.steps:
        return "\n".join(lines + ["Nothing is overdue: nobody needed chasing."])
    lines += ["| about | what | who | owes | detail |", "|---|---|---|---|---|"]
    for s in report.steps:
        who = s.to.replace("<", "&lt;").replace(">", "&gt;").replace("|", "/")
        lines.append(
            f"| {s.ref} | {ACTION_LABELS.get(s.action, s.action)} | {who} | "
            f"{s.duty} | {s.detail.replace('|', '/')} |"
        )
    lines += ["", f"{report.digests} digest email(s) queued: one per person told anything."]
    return "\n".join(lines)


@task(name="chase-overdue-steps", **TASK_OPTIONS)
async def chase_steps(today: date | None) -> chasing.ChaseReport:
    with write_session() as session:
        return chasing.run(session, today=today, subject_types=chasing.scheduled_with("chase"))


@task(name="send-chase-mail", **TASK_OPTIONS)
async def send_mail() -> int:
    return (await deliver_due()).sent


@flow(name="chase", log_prints=False, persist_result=False)
async def chase(today: date | None = None) -> dict[str, object]:
    """Remind, escalate and refresh links for every overdue step; idempotent per day."""
    report = await chase_steps(today)
    sent = await send_mail() if report.digests else 0
    await publish_events()
    get_run_logger().info("chase: %s, emails sent %d", report.as_dict(), sent)
    await acreate_markdown_artifact(
        markdown=summary(report), key="chase", description="Who was chased for what"
    )
    return report.as_dict() | {"emails_sent": sent}
