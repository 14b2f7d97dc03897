"""Request for Change use cases: raise, edit, submit, record impact, decide, withdraw."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from core import clock
from core.statements import Prepared, attach
from models import ActionToken
from models.change_control import Project, Rfc, RfcStatus
from models.change_control.rfcs import (
    Classification,
    DecisionInput,
    ImpactInput,
    RfcCreate,
    RfcUpdate,
)
from services.change_control import access, rfc_workflow
from services.change_control.projects import visible_project
from services.change_control.roles import roles_on
from services.platform import audit, steps
from services.platform.actors import Actor
from services.platform.errors import Conflict, Invalid, NotFound, Refusal

# Built once: an RFC with its project is one query, whatever the request does next.
_RFC_AND_PROJECT = Prepared(
    select(Rfc, Project)
    .join(Project, col(Project.id) == col(Rfc.project_id))
    .where(col(Rfc.id) == bindparam("rfc_id"))
)
_RFC = Rfc.__table__  # type: ignore[attr-defined]
_INSERT_RFC = Prepared(insert(_RFC).returning(_RFC.c.id))
_NEXT_NUMBER = Prepared(
    update(Project)
    .where(col(Project.id) == bindparam("project_id"))
    .values(rfc_counter=col(Project.rfc_counter) + 1)
    .returning(col(Project.rfc_counter))
)


def get_rfc(session: Session, *, rfc_id: int) -> tuple[Rfc, Project]:
    found = _RFC_AND_PROJECT.load(session, {"rfc_id": rfc_id}, Rfc, Project)
    if not found:
        raise NotFound(f"There is no Request for Change with id {rfc_id}.")
    return found[0]  # type: ignore[return-value]


def get_rfc_for(session: Session, *, actor: Actor, rfc_id: int, action: str) -> tuple[Rfc, Project]:
    """The RFC for someone about to act on it: to those who may not see it, it does not exist.

    Checked before anything about its state, so an outsider learns nothing; the attempt is
    still recorded as refused.
    """
    rfc, project = get_rfc(session, rfc_id=rfc_id)
    if not may_view(session, rfc=rfc, project=project, actor=actor):
        raise NotFound(
            f"There is no Request for Change with id {rfc_id}.",
            refusal=Refusal(
                "rfc",
                rfc.id or 0,
                rfc.version,
                action,
                rfc.status,
                actor.person_id,
                "outsider",
                actor.address,
            ),
        )
    return rfc, project


def create_rfc(session: Session, *, actor: Actor, project_code: str, data: RfcCreate) -> Rfc:
    """Raise a draft RFC (Part 1) on a project its people (or, if open, any officer) see."""
    project = visible_project(session, code=project_code, actor=actor)
    number = _NEXT_NUMBER.run(session, {"project_id": project.id}).scalar()
    now = clock.now()
    row = {
        "project_id": project.id,
        "number": number,
        "ref": f"{project.code}-RFC-{number:03d}",
        "title": data.title,
        "description": data.description,
        "expected_benefits": data.expected_benefits,
        "issue_log_no": data.issue_log_no,
        "requester_id": actor.person_id,
        "raised_on": clock.today(),
        "status": RfcStatus.draft,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    # One INSERT ... RETURNING id; the RFC then joins the session as if it had been read,
    # without building it through the model's constructor or the unit of work's flush.
    rfc = attach(session, Rfc, row | {"id": _INSERT_RFC.run(session, row).scalar()})
    audit.record(
        session,
        actor_id=actor.person_id,
        actor_role="requester",
        actor_address=actor.address,
        subject_type="rfc",
        subject_id=rfc.id or 0,
        subject_version=1,
        action="create",
        to_status=RfcStatus.draft,
    )
    return rfc


def edit_rfc(session: Session, *, actor: Actor, rfc_id: int, data: RfcUpdate) -> Rfc:
    """Change Part 1; bumps the version, so links for the old version stop working."""
    rfc, project = get_rfc_for(session, actor=actor, rfc_id=rfc_id, action="edit")
    if data.version is not None and data.version != rfc.version:
        _, _, refusal = rfc_workflow.authorise(rfc, project, action="edit", actor=actor)
        raise Conflict(
            f"{rfc.ref} has changed since you opened it (now version {rfc.version}). "
            "Reload it and make your change again.",
            refusal=refusal,
        )
    sent = data.model_dump(exclude_unset=True, exclude={"version"})
    changes = {
        k: v
        for k, v in sent.items()
        if (v is not None or k == "issue_log_no") and getattr(rfc, k) != v
    }
    if not changes:
        raise Invalid("Nothing was changed: the request already says that.")
    rfc_workflow.apply(
        session,
        rfc=rfc,
        project=project,
        action="edit",
        actor=actor,
        changes=changes,
        detail="changed " + ", ".join(sorted(changes)),
    )
    return rfc


def submit_rfc(session: Session, *, actor: Actor, rfc_id: int) -> Rfc:
    """Send a draft to the Project Manager for impact analysis."""
    rfc, project = get_rfc_for(session, actor=actor, rfc_id=rfc_id, action="submit")
    rfc_workflow.apply(session, rfc=rfc, project=project, action="submit", actor=actor)
    return rfc


def classify(impact: ImpactInput, project: Project) -> Classification:
    """Major if it extends the timescale, needs resources, or costs more than the tolerance."""
    major = (
        impact.extends_timescale
        or impact.needs_extra_resources
        or impact.cost_pence > project.cost_tolerance_pence
    )
    return Classification.major if major else Classification.minor


def choose_approver(rfc: Rfc, project: Project, classification: Classification) -> int | None:
    """Minor: the PM; major: the sponsor; never the requester (then the next in line)."""
    line = [project.sponsor_id, project.alternate_approver_id]
    if classification == Classification.minor:
        line.insert(0, project.manager_id)
    return next((p for p in line if p is not None and p != rfc.requester_id), None)


def record_impact(session: Session, *, actor: Actor, rfc_id: int, data: ImpactInput) -> Rfc:
    """Part 2: the PM's impact analysis; classifies the change and routes it for decision."""
    rfc, project = get_rfc_for(session, actor=actor, rfc_id=rfc_id, action="record_impact")
    _, _, refusal = rfc_workflow.authorise(rfc, project, action="record_impact", actor=actor)
    classification = classify(data, project)
    approver_id = choose_approver(rfc, project, classification)
    if approver_id is None:
        raise Invalid(
            f"{rfc.ref} was raised by the project's sponsor, so the sponsor cannot approve it, "
            "and the project has no alternate approver. Ask an administrator to name one.",
            refusal=refusal,
        )
    changes = data.model_dump() | {
        "classification": classification,
        "approver_id": approver_id,
        "impact_by_id": actor.person_id,
        "impact_at": clock.now(),
    }
    decider = (
        "Project Manager"
        if approver_id == project.manager_id
        else "sponsor"
        if approver_id == project.sponsor_id
        else "alternate approver"
    )
    rfc_workflow.apply(
        session,
        rfc=rfc,
        project=project,
        action="record_impact",
        actor=actor,
        changes=changes,
        detail=f"classified {classification}; decision by {decider}",
    )
    return rfc


CHANNELS = {"app": "via app", "api": "via API"}  # how the history says a decision came in


def decide(
    session: Session, *, actor: Actor, rfc_id: int, data: DecisionInput, channel: str = "app"
) -> Rfc:
    """The named approver approves or rejects (in the app, or by API with channel="api")."""
    rfc, project = get_rfc_for(session, actor=actor, rfc_id=rfc_id, action=data.decision)
    return record_decision(
        session, rfc=rfc, project=project, actor=actor, data=data, channel=channel
    )


def record_decision(
    session: Session,
    *,
    rfc: Rfc,
    project: Project,
    actor: Actor,
    data: DecisionInput,
    link: ActionToken | None = None,
    channel: str = "app",
) -> Rfc:
    """Apply a decision; with `link`, that single-use link is consumed in the same transaction.

    Rows are always locked in the order rfc, then action_token, so a decision by link racing
    a decision or withdrawal in the app cannot deadlock on PostgreSQL.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown decision channel {channel!r}")
    if data.decision == "reject" and not data.reason:
        raise Invalid("Give a reason for rejecting the change.")
    changes = {
        "decided_by_id": actor.person_id,
        "decided_at": clock.now(),
        "decision_reason": data.reason,
    }
    rfc_workflow.apply(
        session,
        rfc=rfc,
        project=project,
        action=data.decision,
        actor=actor,
        changes=changes,
        link=link,
        detail="via emailed link" if link else CHANNELS[channel],
    )
    return rfc


def withdraw_rfc(session: Session, *, actor: Actor, rfc_id: int, reason: str = "") -> Rfc:
    """The requester (or PM) withdraws the RFC, saying why; anyone waiting on it is told."""
    rfc, project = get_rfc_for(session, actor=actor, rfc_id=rfc_id, action="withdraw")
    rfc_workflow.apply(
        session, rfc=rfc, project=project, action="withdraw", actor=actor, detail=reason.strip()
    )
    return rfc


def my_rfcs(session: Session, *, person_id: int) -> tuple[list[Rfc], list[Rfc]]:
    """(RFCs waiting on this person, RFCs they raised), newest first."""
    open_tasks = steps.open_subject_ids(session, subject_type="rfc", owner_id=person_id)
    # IN, not a join: one RFC appears once however many of its steps this person owes.
    waiting = session.exec(
        select(Rfc).where(col(Rfc.id).in_(open_tasks)).order_by(col(Rfc.updated_at).desc())
    )
    raised = session.exec(
        select(Rfc).where(Rfc.requester_id == person_id).order_by(col(Rfc.id).desc()).limit(200)
    )
    return list(waiting), list(raised)


def may_view(session: Session, *, rfc: Rfc, project: Project, actor: Actor) -> bool:
    """Those who see the project (change_control.access), and the RFC's requester and approver."""
    if roles_on(rfc, project, actor.person_id):
        return True
    return access.sees_project(session, project=project, actor=actor)
