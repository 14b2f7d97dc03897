"""What the cycle's dashboard and a plan's page show: each plan's status, who is holding it up,
the days left to its next deadline, and who signed which version when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from core import clock
from models import Person
from models.planning import (
    PlanningCycle,
    PlanResponse,
    PlanStatus,
    PlanVersion,
    ResponseKind,
    ServicePlan,
)
from services.planning import signers
from services.planning.plan_workflow import LABELS


@dataclass
class PlanRow:
    plan: ServicePlan
    owner: Person
    status_label: str
    version_number: int | None  # the newest submitted version
    holding_up: list[Person]  # whom the plan waits on now
    deadline: date  # drafts due until submitted, then the sign-off deadline
    deadline_label: str
    days_left: int  # negative when past
    signed: int = 0  # signatures on the current version
    to_sign: int = 0  # signatories in all


@dataclass
class Dashboard:
    cycle: PlanningCycle
    today: date
    rows: list[PlanRow]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def approved_share(self) -> float | None:
        """The share of plans approved so far, as PP4 counts it at the deadline."""
        total = len(self.rows)
        return None if not total else self.counts.get(PlanStatus.approved, 0) / total


def dashboard(session: Session, *, cycle: PlanningCycle, today: date | None = None) -> Dashboard:
    """Every plan of the cycle with what it waits for, in service-area order."""
    today = today or clock.today()
    plans = session.exec(
        select(ServicePlan)
        .where(ServicePlan.cycle_id == cycle.id)
        .order_by(col(ServicePlan.service_area))
    ).all()
    people = {p.id: p for p in session.exec(select(Person))}
    rows = [_row(session, cycle, plan, people, today) for plan in plans]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.plan.status] = counts.get(row.plan.status, 0) + 1
    return Dashboard(cycle, today, rows, counts)


def _row(
    session: Session,
    cycle: PlanningCycle,
    plan: ServicePlan,
    people: dict[int | None, Person],
    today: date,
) -> PlanRow:
    owner = people[plan.owner_id]
    number = None
    if plan.current_version_id is not None:
        version = session.get(PlanVersion, plan.current_version_id)
        number = version.number if version else None
    named = {p.id: p for _, p in signers.current(session, plan_id=plan.id or 0)}
    if plan.status == PlanStatus.submitted:
        waiting = signers.still_to_sign(session, plan=plan)
        deadline, label = cycle.signoff_by, "sign-off"
    elif plan.status == PlanStatus.approved:
        waiting, deadline, label = [], cycle.signoff_by, "sign-off"
    else:
        waiting = [owner]
        past_drafts = today > cycle.drafts_due
        deadline = cycle.signoff_by if past_drafts else cycle.drafts_due
        label = "sign-off" if past_drafts else "drafts due"
    return PlanRow(
        plan=plan,
        owner=owner,
        status_label=LABELS[plan.status],
        version_number=number,
        holding_up=waiting,
        deadline=deadline,
        deadline_label=label,
        days_left=(deadline - today).days,
        signed=len(named) - len(waiting) if plan.status == PlanStatus.submitted else 0,
        to_sign=len(named),
    )


@dataclass
class Answer:
    person: Person
    kind: ResponseKind
    comment: str
    at: datetime


@dataclass
class VersionHistory:
    version: PlanVersion
    submitted_by: Person | None
    answers: list[Answer]


def history(session: Session, *, plan: ServicePlan) -> list[VersionHistory]:
    """Each submitted version, newest first, with every answer given to it: signatures on
    older versions stay visible."""
    versions = session.exec(
        select(PlanVersion)
        .where(PlanVersion.plan_id == plan.id)
        .order_by(col(PlanVersion.number).desc())
    ).all()
    answers: dict[int, list[Answer]] = {}
    rows = session.exec(
        select(PlanResponse, Person)
        .join(Person, col(Person.id) == col(PlanResponse.person_id))
        .where(PlanResponse.plan_id == plan.id)
        .order_by(col(PlanResponse.at), col(PlanResponse.id))
    )
    for response, person in rows:
        answers.setdefault(response.version_id, []).append(
            Answer(person, response.kind, response.comment, response.at)
        )
    return [
        VersionHistory(v, session.get(Person, v.submitted_by_id), answers.get(v.id or 0, []))
        for v in versions
    ]
