"""How change control's steps are chased (services.platform.chasing does the chasing).

The PM's impact analysis and the approver's decision are reminded every
`project.reminder_working_days` working days; after the reminders allowed, the sponsor hears
of the PM's lateness and the project group's chair of anyone else's. An approver other than
the PM decides by emailed link, so each reminder carries a fresh one, and a link about to lapse
is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from models import Person, Step
from models.change_control import Project, Rfc, RfcStatus
from services.change_control.rfc_workflow import APPROVE_LINK
from services.platform import chasing


@dataclass(frozen=True)
class Chased:
    rfc: Rfc
    project: Project


def _load(session: Session, ids: list[int]) -> dict[int, Chased]:
    if not ids:
        return {}
    rows = session.exec(
        select(Rfc, Project)
        .join(Project, col(Project.id) == col(Rfc.project_id))
        .where(col(Rfc.id).in_(ids))
    )
    return {rfc.id: Chased(rfc, project) for rfc, project in rows if rfc.id is not None}


def escalation_contact(session: Session, step: Step, chased: Chased) -> Person | None:
    """Who hears when a step stays undone: the sponsor for the PM's steps, else the group chair.

    Falls back along the project's line (group chair, alternate approver, sponsor), then to an
    administrator; never the late person themselves, never someone inactive.
    """
    project = chased.project
    if step.owner_id == project.manager_id:
        line = [project.sponsor_id, project.group_chair_id, project.alternate_approver_id]
    else:
        line = [project.group_chair_id, project.alternate_approver_id, project.sponsor_id]
    for person_id in line:
        if person_id is None or person_id == step.owner_id:
            continue
        person = session.get(Person, person_id)
        if person is not None and person.active:
            return person
    return session.exec(
        select(Person)
        .where(col(Person.is_admin), col(Person.active), col(Person.id) != step.owner_id)
        .order_by(col(Person.id))
    ).first()


def _needs_link(step: Step, chased: Chased) -> bool:
    """Approvers other than the PM decide by emailed link; the PM decides in the app."""
    return step.kind == "decision" and step.owner_id != chased.project.manager_id


chasing.register(
    chasing.Policy(
        subject_type="rfc",
        waiting={
            "impact_analysis": RfcStatus.impact_analysis,
            "decision": RfcStatus.awaiting_approval,
        },
        duty={"impact_analysis": "record the impact analysis", "decision": "decide"},
        noun={"impact_analysis": "impact analysis", "decision": "decision"},
        load=_load,
        status=lambda c: c.rfc.status,
        ref=lambda c: c.rfc.ref,
        interval=lambda c: c.project.reminder_working_days,
        escalate_to=escalation_contact,
        link_purpose=APPROVE_LINK,
        link_kinds=frozenset({"decision"}),
        needs_link=_needs_link,
    )
)
