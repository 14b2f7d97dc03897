"""Chase late human steps: remind the owner, escalate after repeated reminders, refresh links.

A batch reconciler: each run asks "which open approval tasks are overdue today?" and does the
next step for each, once. A step is claimed with a conditional UPDATE on the task (its reminder
count or escalation mark) and its email is queued under a key naming the task and the step, so
a run repeated the same day, two runs at once, or a run catching up after days of downtime
sends each reminder once. Catching up sends the step that is due, not every step missed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from core import clock
from core.settings import get_settings
from core.templating import long_date
from models import ActionToken, ApprovalTask, OutboxMessage, Person, Project, Rfc, RfcStatus
from models.approvals import TaskKind
from services import action_links, outbox

# A link is re-issued when it would expire before the start of the second working day from
# today, so a weekend or a bank holiday (no runs send on those) never lets one lapse.
REISSUE_WORKING_DAYS = 2

WAITING_STATUS = {
    TaskKind.impact_analysis: RfcStatus.impact_analysis,
    TaskKind.decision: RfcStatus.awaiting_approval,
}
DUTY = {TaskKind.impact_analysis: "record the impact analysis", TaskKind.decision: "decide"}
WHAT = {"record the impact analysis": "impact analysis", "decide": "decision"}


@dataclass(frozen=True)
class Step:
    """One thing a run did, for the run's summary."""

    action: str  # reminded | escalated | link_reissued | not_escalated
    rfc_ref: str
    to: str  # "Name <email>" of the recipient ("" when nobody could be told)
    duty: str  # what the task owner owes: "record the impact analysis" / "decide"
    detail: str

    def line(self) -> str:
        name = self.to.split(" <", 1)[0] or "nobody"
        what = f"{WHAT.get(self.duty, self.duty)} of {self.rfc_ref}"
        verb = {"reminded": "Reminded", "escalated": "Escalated to",
                "link_reissued": "New approval link for"}.get(self.action)
        if verb is None:  # not_escalated
            return f"Could not escalate {what}: {self.detail}"
        return f"{verb} {name}: {what}"


@dataclass
class ReminderReport:
    today: date
    working_day: bool = True
    steps: list[Step] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for s in self.steps if s.action == action)

    def lines(self) -> list[str]:
        """One human line per step: "Reminded Paul Knight: impact analysis of CSE-RFC-004"."""
        return [step.line() for step in self.steps]

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "working_day": self.working_day,
            "reminded": self.count("reminded"),
            "escalated": self.count("escalated"),
            "link_reissued": self.count("link_reissued"),
            "not_escalated": self.count("not_escalated"),
        }


def next_due(task: ApprovalTask, project: Project) -> date:
    """The date the owner's next reminder (or escalation) falls due after."""
    if task.reminded_at is None:
        return task.due_on
    last = task.reminded_at.astimezone(clock.local_tz()).date()
    return clock.add_working_days(last, project.reminder_working_days)


def send_due_reminders(
    session: Session, *, today: date | None = None, max_reminders: int | None = None
) -> ReminderReport:
    """Remind owners of overdue steps, escalate after `max_reminders`, re-issue expiring links."""
    today = today or clock.today()
    limit = get_settings().reminders_before_escalation if max_reminders is None else max_reminders
    report = ReminderReport(today=today, working_day=clock.is_working_day(today))
    if not report.working_day:
        return report  # nobody is chased on a weekend or a bank holiday
    for task, rfc, project in _open_tasks(session):
        if rfc.status != WAITING_STATUS.get(TaskKind(task.kind)):
            continue  # stale step; the service that moved the RFC on closes it
        step = None
        if task.escalated_at is None and today > next_due(task, project):
            if task.reminder_count < limit:
                step = _remind(session, task, rfc, project, today)
            else:
                step = _escalate(session, task, rfc, project)
        if step is not None:
            report.steps.append(step)
        if (step is None or step.action != "reminded") and _needs_link(task, rfc, project):
            reissued = _reissue_link_if_expiring(session, task, rfc, today)
            if reissued is not None:
                report.steps.append(reissued)
    return report


def _open_tasks(session: Session) -> list[tuple[ApprovalTask, Rfc, Project]]:
    rows = session.exec(
        select(ApprovalTask, Rfc, Project)
        .join(Rfc, col(Rfc.id) == col(ApprovalTask.rfc_id))
        .join(Project, col(Project.id) == col(Rfc.project_id))
        .where(col(ApprovalTask.closed_at).is_(None))
        .order_by(col(ApprovalTask.id))
    )
    return [(t, r, p) for t, r, p in rows]


def _needs_link(task: ApprovalTask, rfc: Rfc, project: Project) -> bool:
    """Approvers other than the PM decide by emailed link; the PM decides in the app."""
    return task.kind == TaskKind.decision and task.owner_id != project.manager_id


def _claim(session: Session, task: ApprovalTask, **values: Any) -> bool:
    """Take this step for this task, unless another run (or an earlier one today) took it."""
    result = session.execute(
        update(ApprovalTask)
        .where(
            col(ApprovalTask.id) == task.id,
            col(ApprovalTask.reminder_count) == task.reminder_count,
            col(ApprovalTask.escalated_at).is_(None),
            col(ApprovalTask.closed_at).is_(None),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _remind(
    session: Session, task: ApprovalTask, rfc: Rfc, project: Project, today: date
) -> Step | None:
    number = task.reminder_count + 1
    now, due = _as_of(today), next_due(task, project)
    if not _claim(session, task, reminder_count=number, reminded_at=now):
        return None
    token_id = None
    if _needs_link(task, rfc, project):
        token_id = _issue_link(session, rfc, task.owner_id).id
    owner = _person(session, task.owner_id)
    outbox.queue(
        session, template="rfc_reminder", to_person_id=task.owner_id,
        key=f"rfc_reminder:task{task.id}:n{number}", rfc_id=rfc.id,
        expect_rfc_status=WAITING_STATUS[TaskKind(task.kind)], action_token_id=token_id,
        context={
            "kind": task.kind, "number": number, "due_text": long_date(due),
            "overdue_days": clock.working_days_between(due, today),
        },
    )
    set_committed_value(task, "reminder_count", number)
    set_committed_value(task, "reminded_at", now)
    return Step("reminded", rfc.ref, _label(owner), DUTY[TaskKind(task.kind)],
                f"reminder {number}, due {due.isoformat()}" + (", fresh link" if token_id else ""))


def _as_of(today: date) -> datetime:
    """When a reminder sent for `today` is recorded as sent: now, or, for a run given another
    day (a catch-up, a drill), this time of day on that day. The next due date counts from
    reminded_at, so it must count from the day the run acted for: a run ahead of the real
    clock would otherwise find reminder 2 already due and send it straight after reminder 1."""
    now = clock.now()
    if today == clock.today():
        return now
    at = datetime.combine(today, now.astimezone(clock.local_tz()).time(), tzinfo=clock.local_tz())
    return at.astimezone(UTC)


def _escalate(session: Session, task: ApprovalTask, rfc: Rfc, project: Project) -> Step | None:
    now = clock.now()
    due = next_due(task, project)
    if not _claim(session, task, escalated_at=now):
        return None
    set_committed_value(task, "escalated_at", now)
    owner = _person(session, task.owner_id)
    duty = DUTY[TaskKind(task.kind)]
    contact = escalation_contact(session, task=task, project=project)
    if contact is None:
        return Step("not_escalated", rfc.ref, "", duty,
                    f"{owner.name if owner else 'the owner'} is late and the project names nobody "
                    "to escalate to (no sponsor, group chair, alternate approver or admin)")
    outbox.queue(
        session, template="rfc_escalation", to_person_id=contact.id or 0,
        key=f"rfc_escalation:task{task.id}", rfc_id=rfc.id,
        expect_rfc_status=WAITING_STATUS[TaskKind(task.kind)],
        context={
            "kind": task.kind, "owner_name": owner.name if owner else "",
            "owner_email": owner.email if owner else "", "reminders": task.reminder_count,
            "first_due_text": long_date(task.due_on), "due_text": long_date(due),
        },
    )
    late = owner.name if owner else "the owner"
    return Step("escalated", rfc.ref, _label(contact), duty,
                f"{late} has not done it after {task.reminder_count} reminders")


def escalation_contact(session: Session, *, task: ApprovalTask, project: Project) -> Person | None:
    """Who hears when a step stays undone: the sponsor for the PM's steps, else the group chair.

    Falls back along the project's line (group chair, alternate approver, sponsor), then to an
    administrator; never the late person themselves, never someone inactive.
    """
    owner_is_pm = task.owner_id == project.manager_id
    if owner_is_pm:
        line = [project.sponsor_id, project.group_chair_id, project.alternate_approver_id]
    else:
        line = [project.group_chair_id, project.alternate_approver_id, project.sponsor_id]
    for person_id in line:
        if person_id is None or person_id == task.owner_id:
            continue
        person = session.get(Person, person_id)
        if person is not None and person.active:
            return person
    return session.exec(
        select(Person)
        .where(col(Person.is_admin), col(Person.active), col(Person.id) != task.owner_id)
        .order_by(col(Person.id))
    ).first()


def _issue_link(session: Session, rfc: Rfc, person_id: int) -> ActionToken:
    # The same link rfcs.send_approval_link issues: current version, this approver only.
    return action_links.issue(
        session, purpose="approve_rfc", subject_type="rfc", subject_id=rfc.id or 0,
        subject_version=rfc.version, person_id=person_id,
    )


def _reissue_link_if_expiring(
    session: Session, task: ApprovalTask, rfc: Rfc, today: date
) -> Step | None:
    """A fresh link when the approver's newest one lapses within two working days."""
    newest = session.exec(
        select(ActionToken)
        .where(
            ActionToken.purpose == "approve_rfc", ActionToken.subject_type == "rfc",
            ActionToken.subject_id == rfc.id, ActionToken.subject_version == rfc.version,
            ActionToken.person_id == task.owner_id, col(ActionToken.used_at).is_(None),
        )
        .order_by(col(ActionToken.id).desc())
    ).first()
    if newest is not None and newest.revoked_at is None and newest.expires_at >= _horizon(today):
        return None
    key = f"approval_reissue:task{task.id}:after{newest.id if newest else 0}"
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)).first():
        return None
    token = _issue_link(session, rfc, task.owner_id)
    outbox.queue(
        session, template="approval_request", to_person_id=task.owner_id, key=key,
        rfc_id=rfc.id, action_token_id=token.id, expect_rfc_status=RfcStatus.awaiting_approval,
        context={"reason": "reissue"},
    )
    owner = _person(session, task.owner_id)
    was = "expired" if newest is None or newest.expires_at <= clock.now() else "expiring"
    return Step("link_reissued", rfc.ref, _label(owner), DUTY[TaskKind.decision],
                f"previous link {was}" + (f" {newest.expires_at:%Y-%m-%d}" if newest else ""))


def _horizon(today: date) -> datetime:
    """Local midnight starting the second working day after today, as an aware instant."""
    day = clock.add_working_days(today, REISSUE_WORKING_DAYS)
    return datetime.combine(day, time(0), tzinfo=clock.local_tz())


def _person(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


def _label(person: Person | None) -> str:
    return f"{person.name} <{person.email}>" if person is not None else "(unknown person)"
