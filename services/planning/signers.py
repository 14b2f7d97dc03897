"""A plan's signatories: who they are, asking them to sign a version, changing them.

Portfolio Holders sign in pairs with the plan's Corporate Manager, one pair per portfolio, in
the "Approved by" block; the Corporate Manager signs once for all the pairs. Each signatory
signs by an emailed link (councillors have no staff account), so asking them to sign is a step
each (which the chase reminds), a link each and an email each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from core import clock
from models import Person
from models.planning import (
    PlanningCycle,
    PlanResponse,
    PlanSignatory,
    PlanStatus,
    PlanVersion,
    ResponseKind,
    ServicePlan,
    SignatoryRole,
)
from services.planning.plan_workflow import SIGN_LINK, STEP, SUBJECT
from services.planning.schemas import SignatoryIn
from services.platform import action_links, outbox, steps

# A signatory is first reminded this many working days after being asked, however far off
# the sign-off deadline is: a plan waits on its slowest signatory.
FIRST_REMINDER_WORKING_DAYS = 5


@dataclass(frozen=True)
class Named:
    person: Person
    role: SignatoryRole
    portfolio: str


def current(session: Session, *, plan_id: int) -> list[tuple[PlanSignatory, Person]]:
    """The plan's signatories in block order, each with their person."""
    return list(
        session.exec(
            select(PlanSignatory, Person)
            .join(Person, col(Person.id) == col(PlanSignatory.person_id))
            .where(PlanSignatory.plan_id == plan_id)
            .order_by(col(PlanSignatory.position), col(PlanSignatory.id))
        ).all()
    )


def ids(session: Session, *, plan_id: int) -> set[int]:
    return set(
        session.exec(select(PlanSignatory.person_id).where(PlanSignatory.plan_id == plan_id))
    )


def carried_over(session: Session, *, plan_id: int) -> list[SignatoryIn]:
    """Last year's signatories, as a new plan's starting list."""
    return [
        SignatoryIn(email=person.email, role=s.role, portfolio=s.portfolio)
        for s, person in current(session, plan_id=plan_id)
        if person.active
    ]


def snapshot(signatory: PlanSignatory, person: Person) -> dict[str, Any]:
    return {
        "person_id": person.id,
        "name": person.name,
        "role": str(signatory.role),
        "portfolio": signatory.portfolio,
    }


def replace(session: Session, *, plan: ServicePlan, named: Sequence[Named]) -> None:
    """Set the plan's signatories (each person once per portfolio, in the order given)."""
    session.execute(delete(PlanSignatory).where(col(PlanSignatory.plan_id) == plan.id))
    seen: set[tuple[int, str]] = set()
    for position, n in enumerate(named):
        key = (n.person.id or 0, n.portfolio)
        if key in seen:
            continue
        seen.add(key)
        session.add(
            PlanSignatory(
                plan_id=plan.id or 0,
                person_id=n.person.id or 0,
                role=n.role,
                portfolio=n.portfolio,
                position=position,
            )
        )
    session.flush()


def ask_to_sign(
    session: Session,
    *,
    plan: ServicePlan,
    version: PlanVersion,
    people: Sequence[Person],
    reason: str = "request",
    step: bool = True,
) -> None:
    """A step (unless they already owe one), a link and an email for each person, to sign
    this version."""
    owed = list({p.id: p for p in people if p.id is not None})
    if not owed:
        return
    cycle = session.get(PlanningCycle, plan.cycle_id)
    assert cycle is not None
    subject = steps.Subject(SUBJECT, plan.id or 0, version.number)
    today = clock.today()
    if step:
        steps.open_each(
            session,
            owed=[(subject, person_id) for person_id in owed],
            kind=STEP,
            due_on=max(cycle.signoff_by, today),
            first_chase_on=min(
                clock.add_working_days(today, FIRST_REMINDER_WORKING_DAYS), cycle.signoff_by
            ),
        )
    link_ids = action_links.issue_each(
        session,
        purpose=SIGN_LINK,
        links=[action_links.For(p, SUBJECT, plan.id or 0, version.number) for p in owed],
    )
    outbox.queue_each(
        session,
        [
            outbox.Mail(
                "plan_signature_request",
                person_id,
                f"plan_signature_request:{link_id}",
                {"reason": reason, "version_id": version.id},
                SUBJECT,
                plan.id,
                PlanStatus.submitted,
                link_id,
            )
            for person_id, link_id in zip(owed, link_ids, strict=True)
        ],
    )


def responses(session: Session, *, plan_id: int) -> list[PlanResponse]:
    """Every signatory's answer to every version, oldest first."""
    return list(
        session.exec(
            select(PlanResponse)
            .where(PlanResponse.plan_id == plan_id)
            .order_by(col(PlanResponse.at), col(PlanResponse.id))
        )
    )


def still_to_sign(session: Session, *, plan: ServicePlan) -> list[Person]:
    """The current signatories who have not signed the current version."""
    signed = set(
        session.exec(
            select(PlanResponse.person_id).where(
                PlanResponse.version_id == plan.current_version_id,
                PlanResponse.kind == ResponseKind.signed,
            )
        )
    )
    people = {p.id: p for _, p in current(session, plan_id=plan.id or 0)}
    return [p for pid, p in people.items() if pid not in signed]


def changed_while_submitted(
    session: Session, *, plan: ServicePlan, before: set[int], version: PlanVersion
) -> list[Person]:
    """After the signatories of a submitted plan change: close the steps and links of those
    removed, ask those added to sign the current version. Returns those added."""
    subject = steps.Subject(SUBJECT, plan.id or 0, version.number)
    now_named = {p.id: p for _, p in current(session, plan_id=plan.id or 0)}
    for gone in before - set(now_named):
        steps.complete(session, subject=subject, kind=STEP, owner_id=gone, outcome="removed")
        action_links.revoke_for_person(
            session,
            purpose=SIGN_LINK,
            subject_type=SUBJECT,
            subject_id=plan.id or 0,
            person_id=gone,
        )
    added = [p for pid, p in now_named.items() if pid not in before]
    ask_to_sign(session, plan=plan, version=version, people=added)
    return added
