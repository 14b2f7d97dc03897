"""What time drives in the service-planning cycle: one day's work of the `planning-cycle` flow.

A batch reconciler, like the performance chase. Each run asks the database what is due today
and not yet done, does it, and queues every email under a unique outbox key, so a repeated,
late or caught-up run sends nothing twice:
- kick-off: when a cycle opens, each plan owner is told the calendar and what to do, and the
  performance team that the cycle has started (a plan added later gets its own kick-off);
- reminders to owners whose plan is not yet submitted, 10 and 2 working days before drafts
  are due and before the sign-off deadline (objectives are the council's, not the owners');
- signatories who have not signed are chased by the platform's engine under planning's
  policy (services/planning/subject.py), one digest per person per day;
- after drafts are due, owners whose plan is still not submitted are chased every 5 working
  days, the performance team copied from the second chase;
- each week, the performance team gets the cycle's progress (services.planning.views);
- once the sign-off deadline has passed, PP4 is recorded (services/planning/pp4.py).
Emails go on working days only; PP4, which emails nobody, is recorded on any day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from core import clock
from core.templating import long_date
from models import OutboxMessage, Person
from models.planning import PlanningCycle, PlanResponse, PlanStatus, ResponseKind, ServicePlan
from services.planning import pp4, views
from services.planning.plan_workflow import LABELS, SUBJECT
from services.planning.plans import cycle_label
from services.platform import chasing, outbox
from services.platform.people import by_ids

SCHEDULE = "planning-cycle"
REMIND_BEFORE = (10, 2)  # working days before drafts due and before sign-off
CHASE_EVERY = 5  # working days between chases of a late plan's owner
COPY_TEAM_FROM = 2  # the owner's chase from which the performance team is copied
# Summaries and owners' chases run until two weeks after the sign-off deadline: the last
# summaries say which plans missed it, and the performance team takes it up from there.
TAIL = timedelta(days=14)
WITH_OWNER = (PlanStatus.not_started, PlanStatus.drafting, PlanStatus.changes_asked)
CALENDAR = ("opens_on", "objectives_by", "drafts_due", "signoff_by")
# The mails to owners, by template. They are the only record of when an owner was last told
# about a plan and how many times they were chased: no other state is kept.
KICKOFF, REMINDER, LATE = "planning_kickoff", "planning/planning_deadline", "planning/planning_late"
KIND = {KICKOFF: "kickoff", REMINDER: "reminder", LATE: "late"}
VERB = {
    "kickoff": "Kick-off to",
    "kickoff_team": "Cycle opened, told",
    "reminder": "Reminded",
    "late": "Chased",
    "late_copy": "Copied to",
    "summary": "Weekly summary to",
}


@dataclass(frozen=True)
class Told:
    """One email this run queued, for the run's report."""

    what: str  # a key of VERB
    to: str  # "Name <email>"
    about: str

    def line(self) -> str:
        return f"{VERB[self.what]} {self.to.split(' <', 1)[0]}: {self.about}"


@dataclass
class DayReport:
    today: date
    working_day: bool = True
    kicked_off: list[str] = field(default_factory=list)  # cycle labels
    told: list[Told] = field(default_factory=list)
    pp4: list[pp4.Recorded] = field(default_factory=list)
    chase: chasing.ChaseReport | None = None
    notes: list[str] = field(default_factory=list)

    def count(self, what: str) -> int:
        return sum(1 for t in self.told if t.what == what)

    def lines(self) -> list[str]:
        return [
            *(f"Planning cycle {label} kicked off" for label in self.kicked_off),
            *(t.line() for t in self.told),
            *(r.line() for r in self.pp4),
            *(self.chase.lines() if self.chase else []),
            *self.notes,
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "working_day": self.working_day,
            "kicked_off": self.kicked_off,
            **{what: self.count(what) for what in VERB},
            "pp4": [r.as_dict() for r in self.pp4],
            "chase": self.chase.as_dict() if self.chase else None,
        }


def run_day(session: Session, *, today: date | None = None) -> DayReport:
    """One day's work of the planning calendar (the `planning-cycle` flow's)."""
    today = today or clock.today()
    report = DayReport(today, working_day=clock.is_working_day(today))
    cycles = list(session.exec(select(PlanningCycle).order_by(col(PlanningCycle.year))))
    for cycle in cycles:
        if (recorded := pp4.record(session, cycle=cycle, today=today)) is not None:
            report.pp4.append(recorded)
    if not report.working_day:
        return report  # nobody is emailed on a weekend or a bank holiday
    team = list(
        session.exec(
            select(Person).where(col(Person.is_admin), col(Person.active)).order_by(col(Person.id))
        )
    )
    for cycle in cycles:
        # A cycle is at work from the day it opens until two weeks after its deadline.
        if cycle.opens_on <= today <= cycle.signoff_by + TAIL:
            _Cycle(session, cycle, today, team, report).run()
    report.chase = chasing.run(session, today=today, subject_types=chasing.scheduled_with(SCHEDULE))
    return report


@dataclass
class _Mail:
    mail: outbox.Mail
    told: Told
    plans: tuple[int, ...] = ()  # the plans an owner's mail is about


@dataclass
class _Cycle:
    """One cycle's day: what its owners and the performance team are due."""

    session: Session
    cycle: PlanningCycle
    today: date
    team: list[Person]
    report: DayReport
    keys: set[str] = field(default_factory=set)  # the cycle's mails queued so far
    told: dict[int, list[tuple[date, str]]] = field(default_factory=dict)  # plan -> (day, kind)

    def run(self) -> None:
        self.label = cycle_label(self.cycle.year)
        self.prefix = f"planning:c{self.cycle.id}:"
        self.plans = list(
            self.session.exec(
                select(ServicePlan)
                .where(ServicePlan.cycle_id == self.cycle.id)
                .order_by(col(ServicePlan.service_area))
            )
        )
        self.owners = by_ids(self.session, [p.owner_id for p in self.plans])
        self.waiting = self._waiting()
        self._read_history()
        if self.today <= self.cycle.signoff_by:
            self._kick_off()
        if self.cycle.kicked_off_at is None:
            return  # a cycle past its deadline before it was ever kicked off tells nobody
        self._remind()
        self._chase_owners()
        self._summary()

    def _read_history(self) -> None:
        mine = col(OutboxMessage.idempotency_key).startswith(self.prefix)
        self.keys = set(self.session.exec(select(OutboxMessage.idempotency_key).where(mine)))
        for template, context, subject_id in self.session.exec(
            select(OutboxMessage.template, OutboxMessage.context, OutboxMessage.subject_id).where(
                mine, col(OutboxMessage.template).in_(list(KIND))
            )
        ):
            about = [subject_id] if subject_id else [i["subject_id"] for i in context["items"]]
            self._remember(date.fromisoformat(context["on"]), KIND[template], about)

    def _remember(self, day: date, kind: str, plan_ids: Iterable[int | None]) -> None:
        for plan_id in plan_ids:
            self.told.setdefault(plan_id or 0, []).append((day, kind))

    def _queue(self, mails: list[_Mail]) -> None:
        """Queue the mails not queued before (their keys say so), and report those. Two runs
        at once may both report one: its key still queues it once."""
        new = [m for m in mails if m.mail.key not in self.keys]
        outbox.queue_each(self.session, [m.mail for m in new])
        for m in new:
            self.keys.add(m.mail.key)
            self.report.told.append(m.told)
            if m.mail.template in KIND:
                self._remember(self.today, KIND[m.mail.template], m.plans)

    def _waiting(self) -> list[ServicePlan]:
        """The plans with their owners, where the owner can be emailed (the rest are noted)."""
        found = []
        for plan in self.plans:
            owner = self.owners.get(plan.owner_id)
            if plan.status in WITH_OWNER and (owner is None or not owner.active):
                self.report.notes.append(
                    f"The {plan.service_area} plan's owner can no longer be emailed: give the "
                    "plan an active owner"
                )
            elif plan.status in WITH_OWNER:
                found.append(plan)
        return found

    def _on(self, **context: Any) -> dict[str, Any]:
        return {
            "on": self.today.isoformat(),
            "cycle_label": self.label,
            "year": self.cycle.year,
        } | (context)

    def _item(self, plan: ServicePlan, **extra: Any) -> dict[str, Any]:
        # Left out at sending time if the plan has moved on meanwhile (submitted, say, or only
        # started): it still counts as told, and the next reminder or chase catches it.
        return {
            "subject_type": SUBJECT,
            "subject_id": plan.id,
            "expect_status": plan.status,
        } | extra

    def _told_today(self, plan: ServicePlan) -> bool:
        return any(day == self.today for day, _ in self.told.get(plan.id or 0, []))

    # --- 1. kick-off ---------------------------------------------------------------------

    def _kick_off(self) -> None:
        if self.cycle.kicked_off_at is None:
            if not _claim_kick_off(self.session, self.cycle):
                return  # another run is kicking it off at this moment
            self.report.kicked_off.append(self.label)
            self._queue([self._team_note(p) for p in self.team])
        kicked = [p for p in self.waiting if f"{self.prefix}kickoff:pl{p.id}" not in self.keys]
        self._queue([self._kick_off_owner(p) for p in kicked])

    def _kick_off_owner(self, plan: ServicePlan) -> _Mail:
        owner = self.owners[plan.owner_id]
        mail = outbox.Mail(
            KICKOFF,
            owner.id or 0,
            f"{self.prefix}kickoff:pl{plan.id}",
            self._on(drafts_late=self.today > self.cycle.drafts_due),
            SUBJECT,
            plan.id,
        )
        rolled = ", rolled forward" if plan.rolled_from_id else ""
        about = f"{plan.service_area} plan {self.label}{rolled}"
        return _Mail(mail, Told("kickoff", _label(owner), about), (plan.id or 0,))

    def _team_note(self, person: Person) -> _Mail:
        plans = [
            {
                "area": p.service_area,
                "owner": self.owners[p.owner_id].name if p.owner_id in self.owners else "",
                "rolled": p.rolled_from_id is not None,
            }
            for p in self.plans
        ]
        context = self._on(
            dates={k: long_date(getattr(self.cycle, k)) for k in CALENDAR},
            plans=plans,
            remind_before=REMIND_BEFORE,
            every=CHASE_EVERY,
        )
        key = f"{self.prefix}kickoff_team:p{person.id}"
        mail = outbox.Mail("planning/planning_kickoff_team", person.id or 0, key, context)
        return _Mail(mail, Told("kickoff_team", _label(person), f"{len(plans)} plans"))

    # --- 2. reminders before drafts due and sign-off --------------------------------------

    def _remind(self) -> None:
        for deadline, due in (
            ("drafts", self.cycle.drafts_due),
            ("signoff", self.cycle.signoff_by),
        ):
            before = reminder_due(self.today, due)
            if before is None:
                continue
            by_owner: dict[int, list[ServicePlan]] = {}
            for plan in self.waiting:
                if not self._told_today(plan):  # never two emails about one plan in a day
                    by_owner.setdefault(plan.owner_id, []).append(plan)
            self._queue(
                [self._reminder(o, plans, deadline, due, before) for o, plans in by_owner.items()]
            )

    def _reminder(
        self, owner_id: int, plans: list[ServicePlan], deadline: str, due: date, before: int
    ) -> _Mail:
        context = self._on(
            deadline=deadline,
            due_text=long_date(due),
            working_days=before,
            items=[self._item(p) for p in plans],
        )
        # One per owner per deadline per threshold, whichever day it goes.
        mail = outbox.Mail(
            REMINDER, owner_id, f"{self.prefix}{deadline}_in_{before}:p{owner_id}", context
        )
        what = "drafts due" if deadline == "drafts" else "sign-off by"
        about = f"{what} {long_date(due)}, {before} working days, " + _areas(plans)
        told = Told("reminder", _label(self.owners[owner_id]), about)
        return _Mail(mail, told, tuple(p.id or 0 for p in plans))

    # --- 4. owners' late plans ------------------------------------------------------------

    def _chase_owners(self) -> None:
        """Every CHASE_EVERY working days after drafts were due, while a plan is not submitted.

        The owner's mails about the plan are the state (`told`): the first chase goes on the
        first working day after drafts were due, the next CHASE_EVERY working days after the
        owner was last told about the plan (chased, reminded of the sign-off deadline, sent a
        late kick-off) or a signatory asked for changes, so nobody gets two emails about one
        plan in a day, and a run that missed days chases once, not once per day missed."""
        if self.today <= self.cycle.drafts_due:
            return
        returned = self._returned_on()
        late: dict[int, list[tuple[ServicePlan, int]]] = {}
        for plan in self.waiting:
            history = self.told.get(plan.id or 0, [])
            since = max(
                [self.cycle.drafts_due, *(d for d, _ in history), returned.get(plan.id, date.min)]
            )
            gap = CHASE_EVERY if since > self.cycle.drafts_due else 1
            if clock.working_days_between(since, self.today) >= gap:
                number = 1 + sum(1 for _, kind in history if kind == "late")
                late.setdefault(plan.owner_id, []).append((plan, number))
        self._queue([self._late(o, chased) for o, chased in late.items()])
        copied = [(p, n) for chased in late.values() for p, n in chased if n >= COPY_TEAM_FROM]
        if copied:
            self._queue([self._late_copy(person, copied) for person in self.team])

    def _returned_on(self) -> dict[int | None, date]:
        """Plan id -> the day a signatory last asked for changes (for plans back with owners)."""
        ids = [p.id for p in self.plans if p.status == PlanStatus.changes_asked]
        if not ids:
            return {}
        rows = self.session.exec(
            select(PlanResponse.plan_id, func.max(PlanResponse.at))
            .where(
                col(PlanResponse.plan_id).in_(ids), PlanResponse.kind == ResponseKind.changes_asked
            )
            .group_by(col(PlanResponse.plan_id))
        )
        return {plan_id: at.astimezone(clock.local_tz()).date() for plan_id, at in rows}

    def _late(self, owner_id: int, chased: list[tuple[ServicePlan, int]]) -> _Mail:
        context = self._on(
            due_text=long_date(self.cycle.drafts_due),
            signoff_text=long_date(self.cycle.signoff_by),
            every=CHASE_EVERY,
            copied=bool(self.team) and any(n >= COPY_TEAM_FROM for _, n in chased),
            items=[self._item(p, number=n) for p, n in chased],
        )
        key = f"{self.prefix}late:{self.today.isoformat()}:p{owner_id}"
        about = ", ".join(f"{p.service_area} plan (chase {n})" for p, n in chased)
        told = Told("late", _label(self.owners[owner_id]), about)
        return _Mail(
            outbox.Mail(LATE, owner_id, key, context), told, tuple(p.id or 0 for p, _ in chased)
        )

    def _late_copy(self, person: Person, copied: list[tuple[ServicePlan, int]]) -> _Mail:
        items = [
            self._item(
                p,
                number=n,
                owner_name=self.owners[p.owner_id].name,
                owner_email=self.owners[p.owner_id].email,
            )
            for p, n in copied
        ]
        context = self._on(due_text=long_date(self.cycle.drafts_due), items=items)
        key = f"{self.prefix}late_copy:{self.today.isoformat()}:p{person.id}"
        mail = outbox.Mail("planning/planning_late_copy", person.id or 0, key, context)
        about = ", ".join(f"{p.service_area} plan (chase {n})" for p, n in copied)
        return _Mail(mail, Told("late_copy", _label(person), about))

    # --- 5. the weekly summary ------------------------------------------------------------

    def _summary(self) -> None:
        """On the week's first working day (or the first run after it, catching up), from the
        week after the cycle opened until two weeks after the sign-off deadline."""
        first = first_working_day_on_or_after(self.today - timedelta(days=self.today.weekday()))
        opened = first_working_day_on_or_after(self.cycle.opens_on)
        if not opened < first <= self.cycle.signoff_by + TAIL:
            return
        year, week, _ = self.today.isocalendar()
        keys = {p.id: f"{self.prefix}summary:{year}-W{week:02d}:p{p.id}" for p in self.team}
        if all(k in self.keys for k in keys.values()):
            return  # the dashboard is only worked out when someone is to get it
        context = self._on(**summary_context(self.session, self.cycle, self.today))
        about = f"{context['approved']} of {context['total']} plans approved"
        self._queue(
            [
                _Mail(
                    outbox.Mail("planning/planning_summary", p.id or 0, keys[p.id], context),
                    Told("summary", _label(p), about),
                )
                for p in self.team
            ]
        )


def summary_context(session: Session, cycle: PlanningCycle, today: date) -> dict[str, Any]:
    """The cycle's dashboard as an email's context (JSON, kept as it was when queued)."""
    board = views.dashboard(session, cycle=cycle, today=today)
    rows = [
        {
            "area": r.plan.service_area,
            "owner": r.owner.name,
            "status": r.status_label,
            "version": r.version_number,
            "with_signatories": r.plan.status == PlanStatus.submitted,
            "signed": r.signed,
            "to_sign": r.to_sign,
            "holding_up": [p.name for p in r.holding_up],
            "deadline": r.deadline_label,
            "deadline_text": long_date(r.deadline),
            "days_left": r.days_left,
        }
        for r in board.rows
    ]
    return {
        "today_text": long_date(today),
        "rows": rows,
        "counts": [{"status": LABELS[s], "plans": n} for s in LABELS if (n := board.counts.get(s))],
        "approved": board.counts.get(PlanStatus.approved, 0),
        "total": len(rows),
        "dates": {k: long_date(getattr(cycle, k)) for k in CALENDAR},
        "pp4": pp4.pp4(session, cycle).text() if today > cycle.signoff_by else None,
    }


def reminder_due(today: date, deadline: date) -> int | None:
    """Which reminder before `deadline` is due on `today`: the 10-working-day one from 10
    working days before it, the 2-day one from 2 before; None before that and from the
    deadline on. A run that missed days sends the one still due, never a stale one too."""
    left = clock.working_days_between(today, deadline)
    return min((n for n in REMIND_BEFORE if left <= n), default=None) if left > 0 else None


def first_working_day_on_or_after(day: date) -> date:
    while not clock.is_working_day(day):
        day += timedelta(days=1)
    return day


def _claim_kick_off(session: Session, cycle: PlanningCycle) -> bool:
    """Mark the cycle kicked off; of two runs at once, one does (and sends its emails)."""
    now = clock.now()
    result = session.execute(
        update(PlanningCycle)
        .where(col(PlanningCycle.id) == cycle.id, col(PlanningCycle.kicked_off_at).is_(None))
        .values(kicked_off_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(cycle, "kicked_off_at", now)  # as the row now is: nothing to flush
    return True


def _areas(plans: list[ServicePlan]) -> str:
    return ", ".join(f"{p.service_area} plan" for p in plans)


def _label(person: Person) -> str:
    return f"{person.name} <{person.email}>"
