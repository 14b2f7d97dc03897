"""planning-cycle: daily at 08:00 (London), what time drives in the service-planning cycle.

Thin: services.planning.calendar kicks cycles off, reminds and chases plan owners, chases
signatories through the platform's chasing engine, sends the weekly progress summary and
records PP4 once the sign-off deadline has passed; this flow schedules it, sends the mail
straight away, and leaves an artifact saying what it did. 08:00, an hour before
performance-chase opens March's returns in April: PP4 is in before anyone is asked for it.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact

from core.db import write_session
from flows.chase import summary as chase_summary
from flows.common import TASK_OPTIONS
from services.planning import calendar
from services.platform.delivery import deliver_due


@task(name="run-planning-day", **TASK_OPTIONS)
async def run_day(today: date | None) -> calendar.DayReport:
    with write_session() as session:
        return calendar.run_day(session, today=today)


@task(name="send-planning-mail", **TASK_OPTIONS)
async def send_mail() -> int:
    return (await deliver_due()).sent


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("<", "&lt;").replace(">", "&gt;")


def summary(report: calendar.DayReport) -> str:
    lines = [f"# Service planning, {report.today:%A %-d %B %Y}", ""]
    lines += [f"Planning cycle {label} kicked off." for label in report.kicked_off]
    if report.told:
        lines += ["", "| email | to | about |", "|---|---|---|"]
        lines += [
            f"| {calendar.VERB[t.what]} | {_cell(t.to)} | {_cell(t.about)} |" for t in report.told
        ]
    elif report.working_day:
        lines.append("No plan owner or performance team email was due today.")
    lines += ["", *(r.line() for r in report.pp4)] if report.pp4 else []
    lines += ["", *report.notes] if report.notes else []
    if report.chase is not None:
        lines += ["", chase_summary(report.chase).replace("# Chasing", "## Signatories chased", 1)]
    elif not report.working_day:
        lines += ["", "Not a working day: nobody is emailed today."]
    return "\n".join(lines)


@flow(name="planning-cycle", log_prints=False, persist_result=False)
async def planning_cycle(today: date | None = None) -> dict[str, object]:
    """Kick off, remind, chase, summarise and record PP4 for the planning cycles; idempotent."""
    report = await run_day(today)
    sent = await send_mail()
    get_run_logger().info("planning-cycle: %s, emails sent %d", report.as_dict(), sent)
    await acreate_markdown_artifact(
        markdown=summary(report), key="planning-cycle", description="The planning cycle's day"
    )
    return report.as_dict() | {"emails_sent": sent}
