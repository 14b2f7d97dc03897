"""The chase of late figures (the CorVu practice), on the platform's chasing engine.

Each working day `run_day`: opens the returns of the period that ended last month (one per
officer with figures due, one email with one link each), lets the platform chase them (a
notice a few working days before the due date; on the first working day after it a reminder,
repeated every few working days, copying the responsible officer and then the line manager
as they mount; never escalated and dropped, since the figures are still wanted), and sends
the performance team a summary of who is still late. Everything is keyed, so a repeated or
caught-up run sends nothing twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from core import clock
from core.db import dialect_name
from core.settings import get_settings
from models import Person, Step
from models.performance import FigureReturn, ReturnStatus
from services.performance import figures, periods
from services.performance.returns_workflow import ENTER_LINK, STEP, SUBJECT
from services.platform import action_links, chasing, outbox, steps
from services.platform.people import by_ids


@dataclass(frozen=True)
class Chased:
    ret: FigureReturn
    officer: Person | None


def _load(session: Session, ids: list[int]) -> dict[int, Chased]:
    if not ids:
        return {}
    rows = list(session.exec(select(FigureReturn).where(col(FigureReturn.id).in_(ids))))
    people = by_ids(session, [r.officer_id for r in rows])
    return {r.id: Chased(r, people.get(r.officer_id)) for r in rows if r.id is not None}


def _copies(session: Session, step: Step, chased: Chased, number: int) -> list[Person]:
    """From the chase numbered `copy_responsible_from`, the responsible officers of the late
    figures; from `copy_manager_from`, the officer's line manager too."""
    settings = get_settings()
    ids: list[int | None] = []
    if number >= settings.copy_responsible_from:
        outstanding = figures.items(
            session, officer_id=chased.ret.officer_id, period=chased.ret.period
        )
        ids += [i.measure.responsible_officer_id for i in outstanding if i.outstanding]
    if number >= settings.copy_manager_from and chased.officer is not None:
        ids.append(chased.officer.manager_id)
    people = by_ids(session, ids)
    return [people[i] for i in dict.fromkeys(ids) if i in people]


def _name(chased: Chased) -> str:
    return chased.officer.name if chased.officer else "someone"


chasing.register(
    chasing.Policy(
        subject_type=SUBJECT,
        waiting={STEP: ReturnStatus.open},
        duty={STEP: "enter your performance figures"},
        noun={STEP: "late figures"},
        load=_load,
        status=lambda c: c.ret.status,
        ref=lambda c: f"{_name(c)}, {periods.label(c.ret.period)}",
        interval=lambda c: get_settings().figures_chase_interval,
        escalate_to=lambda session, step, c: None,
        link_purpose=ENTER_LINK,
        link_kinds=frozenset({STEP}),
        needs_link=lambda step, c: True,
        escalates=False,
        copies=_copies,
        schedule="performance-chase",
    )
)


def notice_on(due: date) -> date:
    """The day the notice before the due date goes: `figures_remind_before` working days
    before it (the due date itself when that is 0)."""
    day, left = due, get_settings().figures_remind_before
    while left > 0:
        day -= timedelta(days=1)
        if clock.is_working_day(day):
            left -= 1
    return day


def open_period(session: Session, *, period: str) -> int:
    """Open a return, a step and a link for each officer with figures outstanding for the
    period and no return yet, and email each their link; the number opened."""
    due = periods.due_on(period)
    have = set(session.exec(select(FigureReturn.officer_id).where(FigureReturn.period == period)))
    owing = _officers_owing(session, period) - have
    if not owing:
        return 0
    now = clock.now()
    table = FigureReturn.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    # Every return in one statement. A return a run at the same moment opened is left out
    # (that run emails the officer); on PostgreSQL this waits for that run to commit first.
    opened = sorted(
        session.execute(
            insert(table)
            .on_conflict_do_nothing(index_elements=["officer_id", "period"])
            .returning(table.c.id, table.c.officer_id, table.c.version),
            [
                {
                    "officer_id": officer_id,
                    "period": period,
                    "due_on": due,
                    "status": ReturnStatus.open,
                    "version": 1,
                    "opened_at": now,
                    "updated_at": now,
                }
                for officer_id in sorted(owing)
            ],
        ).all(),
        key=lambda row: row.officer_id,
    )
    # A step, a link and an email each, in one statement each however many officers.
    subjects = [(steps.Subject(SUBJECT, ret.id, ret.version), ret.officer_id) for ret in opened]
    steps.open_each(
        session,
        owed=subjects,
        kind=STEP,
        due_on=due,
        first_chase_on=notice_on(due) - timedelta(days=1),
    )
    link_ids = action_links.issue_each(
        session,
        purpose=ENTER_LINK,
        links=[action_links.For(officer, s.type, s.id, s.version) for s, officer in subjects],
    )
    outbox.queue_each(
        session,
        [
            outbox.Mail(
                "figures_due",
                officer,
                f"figures_due:r{s.id}",
                subject_type=SUBJECT,
                subject_id=s.id,
                expect_status=ReturnStatus.open,
                action_token_id=link_id,
            )
            for (s, officer), link_id in zip(subjects, link_ids, strict=True)
        ],
    )
    return len(opened)


def _officers_owing(session: Session, period: str) -> set[int]:
    return set(_outstanding(session, period))


def _outstanding(session: Session, period: str) -> Counter[int]:
    """Officer id -> how many figures they owe for the period (as `figures.items` counts
    the outstanding ones), for every officer owing any: one query, counted in SQL."""
    from models.performance import Figure, Measure, Scorecard

    rows = session.exec(
        select(Measure.data_source_officer_id, Measure.frequency, func.count())
        .join(Scorecard, col(Scorecard.id) == col(Measure.scorecard_id))
        .outerjoin(
            Figure, (col(Figure.measure_id) == col(Measure.id)) & (col(Figure.period) == period)
        )
        .where(
            col(Measure.active),
            col(Scorecard.year) == periods.financial_year(period),
            col(Measure.data_source_officer_id).is_not(None),
            col(Figure.id).is_(None),
        )
        .group_by(col(Measure.data_source_officer_id), col(Measure.frequency))
    )
    owed: Counter[int] = Counter()
    for officer, frequency, count in rows:
        if officer is not None and periods.is_due(frequency, period):
            owed[officer] += count
    return owed


@dataclass
class DayReport:
    today: date
    opened: dict[str, int] = field(default_factory=dict)
    chase: chasing.ChaseReport | None = None
    late: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "opened": self.opened,
            "chase": self.chase.as_dict() if self.chase else None,
            "late_officers": len(self.late),
        }


def run_day(session: Session, *, today: date | None = None) -> DayReport:
    """One day's work of the performance chase (the `performance-chase` flow's)."""
    today = today or clock.today()
    report = DayReport(today)
    if not clock.is_working_day(today):
        return report
    period = periods.ended_by(today)
    report.opened[period] = open_period(session, period=period)
    report.chase = chasing.run(session, today=today, subject_types=[SUBJECT])
    report.late = late_returns(session, today=today)
    if report.late:
        _summary(session, today, report.late)
    return report


def late_returns(session: Session, *, today: date) -> list[dict[str, Any]]:
    """Open returns past their due date, most late first: who, which period, how late."""
    rows = list(
        session.exec(
            select(FigureReturn, Step)
            .join(
                Step,
                (col(Step.subject_type) == SUBJECT)
                & (col(Step.subject_id) == col(FigureReturn.id)),
            )
            .where(
                col(FigureReturn.status) == ReturnStatus.open,
                col(FigureReturn.due_on) < today,
                col(Step.closed_at).is_(None),
            )
            .order_by(col(FigureReturn.due_on), col(FigureReturn.id))
        )
    )
    people = by_ids(session, [r.officer_id for r, _ in rows])
    owed = {period: _outstanding(session, period) for period in {r.period for r, _ in rows}}
    out = []
    for ret, step in rows:
        officer = people.get(ret.officer_id)
        out.append(
            {
                "return_id": ret.id,
                "officer": officer.name if officer else "?",
                "email": officer.email if officer else "",
                "period": ret.period,
                "period_label": periods.label(ret.period),
                "figures": owed[ret.period][ret.officer_id],
                "days_late": (today - ret.due_on).days,
                "chases": step.reminder_count,
            }
        )
    return out


def _summary(session: Session, today: date, late: list[dict[str, Any]]) -> None:
    """The day's list of late officers for the performance team (administrators), once a day."""
    for person_id in session.exec(
        select(Person.id).where(col(Person.is_admin), col(Person.active))
    ):
        outbox.queue(
            session,
            template="performance/figures_late_summary",
            to_person_id=person_id or 0,
            key=f"figures_late_summary:{today.isoformat()}:p{person_id}",
            context={"late": late, "today": today.isoformat()},
        )
