"""rfc-reminders: daily at 09:00 (London), chase late impact analyses and decisions.

Thin: services.reminders decides who is due what, once; this flow schedules it, sends the
mail it queued straight away, and says in an artifact whom it chased for what.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact

from core.db import write_session
from flows.common import TASK_OPTIONS
from flows.events import publish_rfc_events
from services.delivery import deliver_due
from services.reminders import ReminderReport, send_due_reminders

ACTION_LABELS = {
    "reminded": "Reminded",
    "escalated": "Escalated to",
    "link_reissued": "New link for",
    "not_escalated": "Could not escalate",
}


def summary(report: ReminderReport) -> str:
    lines = [f"# RFC reminders for {report.today:%A %-d %B %Y}", ""]
    if not report.working_day:
        return "\n".join(lines + ["Not a working day: nobody is chased today."])
    if not report.steps:
        return "\n".join(lines + ["Nothing is overdue: nobody needed chasing."])
    lines += ["| RFC | what | who | owes | detail |", "|---|---|---|---|---|"]
    for s in report.steps:
        who = s.to.replace("<", "&lt;").replace(">", "&gt;").replace("|", "/")
        lines.append(f"| {s.rfc_ref} | {ACTION_LABELS.get(s.action, s.action)} | {who} | "
                     f"{s.duty} | {s.detail.replace('|', '/')} |")
    return "\n".join(lines)


@task(name="chase-overdue-steps", **TASK_OPTIONS)
async def chase(today: date | None) -> ReminderReport:
    with write_session() as session:
        return send_due_reminders(session, today=today)


@task(name="send-reminder-mail", **TASK_OPTIONS)
async def send_mail() -> int:
    return (await deliver_due()).sent


@flow(name="rfc-reminders", log_prints=False, persist_result=False)
async def rfc_reminders(today: date | None = None) -> dict[str, object]:
    """Remind, escalate and refresh links for every overdue step; idempotent per day."""
    report = await chase(today)
    sent = await send_mail() if report.steps else 0
    await publish_rfc_events()
    get_run_logger().info("reminders: %s, emails sent %d", report.as_dict(), sent)
    await acreate_markdown_artifact(markdown=summary(report), key="rfc-reminders",
                                    description="Who was chased for what")
    return report.as_dict() | {"emails_sent": sent}
