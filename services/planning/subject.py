"""Planning's subject, as the platform sees it: a service plan, its signature steps and links,
and how late signatures are chased (services.platform.chasing does the chasing).

A signatory is sent a notice if they have not answered within a week of being asked, then
reminded every `REMIND_EVERY` working days after the sign-off deadline with a fresh link each
time; from the second reminder the plan's owner is copied, from the third the performance
team too. Each person hears of all their late plans in one digest a day.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from core.db import CachedReads
from models import Person, Step
from models.planning import PlanningCycle, PlanResponse, PlanVersion, ResponseKind, ServicePlan
from models.planning.content import PlanContent
from services.planning.plan_workflow import LABELS, SIGN_LINK, STEP, SUBJECT, WORKFLOW
from services.planning.signers import current
from services.platform import chasing, subjects

REMIND_EVERY = 5


def _cycle(reads: CachedReads, plan: ServicePlan) -> PlanningCycle | None:
    return reads.get(PlanningCycle, plan.cycle_id)


def _email_context(reads: CachedReads, plan: ServicePlan, base: str) -> dict[str, Any]:
    cycle = _cycle(reads, plan)
    version = reads.get(PlanVersion, plan.current_version_id) if plan.current_version_id else None
    content = PlanContent.model_validate(version.content if version else plan.content)
    return {
        "plan": plan,
        "cycle": cycle,
        "cycle_label": f"{cycle.year}/{(cycle.year + 1) % 100:02d}" if cycle else "",
        "status_label": LABELS[plan.status],
        "version": version,
        "owner": reads.get(Person, plan.owner_id),
        "outstanding": content.outstanding(),
        "plan_url": f"{base}/planning/plans/{plan.id}",
        "signatories": [p.name for _, p in current(reads.session, plan_id=plan.id or 0)],
        "changes_asked": _changes_asked(reads, version),
    }


def _changes_asked(reads: CachedReads, version: PlanVersion | None) -> list[dict[str, Any]]:
    if version is None:
        return []
    rows = reads.session.exec(
        select(PlanResponse, Person)
        .join(Person, col(Person.id) == col(PlanResponse.person_id))
        .where(
            PlanResponse.version_id == version.id,
            PlanResponse.kind == ResponseKind.changes_asked,
        )
        .order_by(col(PlanResponse.id))
    )
    return [
        {"name": p.name, "version": version.number, "at": r.at, "comment": r.comment}
        for r, p in rows
    ]


subjects.register(
    subjects.SubjectType(
        name=SUBJECT,
        templates="planning",
        load=lambda reads, plan_id: reads.get(ServicePlan, plan_id),
        status=lambda plan: plan.status,
        email_context=_email_context,
        path=lambda plan: f"/planning/plans/{plan.id}",
        ref=WORKFLOW.ref,
        event_names={
            "submit": "plan_submitted",
            "ask_changes": "plan_changes_asked",
            "approve": "plan_approved",
            "sign": "plan_signed",
        },
    )
)
subjects.register_link(SIGN_LINK, "/plan-signoff/")


def _load(session: Session, ids: list[int]) -> dict[int, ServicePlan]:
    if not ids:
        return {}
    rows = session.exec(select(ServicePlan).where(col(ServicePlan.id).in_(ids)))
    return {p.id: p for p in rows if p.id is not None}


def _copies(session: Session, step: Step, plan: ServicePlan, number: int) -> list[Person]:
    """From the second late reminder the plan's owner hears; from the third, the performance
    team too."""
    people: list[Person] = []
    if number >= 2 and (owner := session.get(Person, plan.owner_id)) is not None:
        people.append(owner)
    if number >= 3:
        people += session.exec(
            select(Person).where(col(Person.is_admin), col(Person.active)).order_by(col(Person.id))
        ).all()
    return people


chasing.register(
    chasing.Policy(
        subject_type=SUBJECT,
        waiting={STEP: "submitted"},
        duty={STEP: "sign the service plan"},
        noun={STEP: "signature"},
        load=_load,
        status=lambda plan: plan.status,
        ref=WORKFLOW.ref,
        interval=lambda plan: REMIND_EVERY,
        escalate_to=lambda session, step, plan: None,
        link_purpose=SIGN_LINK,
        link_kinds=frozenset({STEP}),
        needs_link=lambda step, plan: True,
        escalates=False,
        schedule="planning-cycle",
        copies=_copies,
    )
)
