"""performance-chase: daily at 09:00 (London), the chase of late performance figures.

Thin: services.performance.chasing opens the month's returns, chases late ones through the
platform's chasing engine and queues the performance team's summary; this flow schedules it,
sends the mail straight away, and leaves an artifact saying whom it chased.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact

from core.db import write_session
from flows.chase import summary as chase_summary
from flows.common import TASK_OPTIONS
from services.performance import chasing
from services.platform.delivery import deliver_due


@task(name="chase-late-figures", **TASK_OPTIONS)
async def chase_figures(today: date | None) -> chasing.DayReport:
    with write_session() as session:
        return chasing.run_day(session, today=today)


@task(name="send-performance-mail", **TASK_OPTIONS)
async def send_mail() -> int:
    return (await deliver_due()).sent


def summary(report: chasing.DayReport) -> str:
    lines = [f"# Performance figures, {report.today:%A %-d %B %Y}", ""]
    for period, count in report.opened.items():
        lines.append(f"Returns opened for {period}: {count}.")
    if report.late:
        lines += [
            "",
            "| officer | period | figures | days late | chased |",
            "|---|---|---|---|---|",
        ]
        for r in report.late:
            lines.append(
                f"| {str(r['officer']).replace('|', '/')} | {r['period_label']} | {r['figures']} "
                f"| {r['days_late']} | {r['chases']} |"
            )
    if report.chase is not None:
        lines += ["", chase_summary(report.chase)]
    return "\n".join(lines)


@flow(name="performance-chase", log_prints=False, persist_result=False)
async def performance_chase(today: date | None = None) -> dict[str, object]:
    """Open returns, chase late figures, summarise for the performance team; idempotent."""
    report = await chase_figures(today)
    sent = await send_mail()
    get_run_logger().info("performance-chase: %s, emails sent %d", report.as_dict(), sent)
    await acreate_markdown_artifact(
        markdown=summary(report), key="performance-chase", description="Late figures chased"
    )
    return report.as_dict() | {"emails_sent": sent}
