"""Projects and their RFC registers."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from core import clock
from models import Person, Project, ProjectMember, Rfc, Stage
from models.projects import CODE_PATTERN, ProjectCreate, ProjectPublic
from services import audit
from services.actors import Actor
from services.errors import Conflict, Invalid, NotFound
from services.people import find_by_email


def _person(session: Session, email: str, what: str) -> Person:
    person = find_by_email(session, email)
    if person is None:
        raise Invalid(f"The {what} {email} is not registered in Signoff. Add them first.")
    return person


def create_project(session: Session, *, actor: Actor, data: ProjectCreate) -> Project:
    """Register a project with its sponsor, manager and cost tolerance."""
    if get_project(session, code=data.code, required=False) is not None:
        raise Conflict(f"A project with code {data.code} already exists.")
    sponsor = _person(session, data.sponsor_email, "sponsor")
    manager = _person(session, data.manager_email, "project manager")
    alternate = (
        _person(session, data.alternate_approver_email, "alternate approver")
        if data.alternate_approver_email else None
    )
    if alternate is not None and alternate.id == sponsor.id:
        raise Invalid("The alternate approver must be someone other than the sponsor.")
    project = Project(
        code=data.code, name=data.name.strip(), objective=data.objective,
        cost_tolerance_pence=data.cost_tolerance_pence, sponsor_id=sponsor.id or 0,
        manager_id=manager.id or 0, alternate_approver_id=alternate.id if alternate else None,
        created_at=clock.now(),
    )
    session.add(project)
    session.flush()
    for person, role in ((sponsor, "Project Sponsor"), (manager, "Project Manager")):
        add_member(session, project=project, person=person, role=role)
    audit.record(
        session, actor_id=actor.person_id, actor_role="admin" if actor.is_admin else "officer",
        actor_address=actor.address, subject_type="project", subject_id=project.id or 0,
        subject_version=1, action="create", to_status="active",
    )
    return project


def add_member(session: Session, *, project: Project, person: Person, role: str) -> None:
    exists = session.exec(
        select(ProjectMember).where(
            ProjectMember.project_id == project.id, ProjectMember.person_id == person.id
        )
    ).first()
    if exists is None:
        session.add(ProjectMember(project_id=project.id or 0, person_id=person.id or 0, role=role))


def get_project(session: Session, *, code: str, required: bool = True) -> Project | None:
    valid = re.fullmatch(CODE_PATTERN, code) is not None
    project = session.exec(select(Project).where(Project.code == code)).first() if valid else None
    if project is None and required:
        raise NotFound(f"There is no project with code {code}.")
    return project


def list_projects(session: Session) -> list[Project]:
    return list(session.exec(select(Project).order_by(col(Project.code))))


def register(session: Session, *, project: Project) -> list[Rfc]:
    """The project's RFC register, newest first."""
    return list(
        session.exec(
            select(Rfc).where(Rfc.project_id == project.id).order_by(col(Rfc.number).desc())
        )
    )


def stages(session: Session, *, project: Project) -> list[Stage]:
    return list(
        session.exec(
            select(Stage).where(Stage.project_id == project.id).order_by(col(Stage.number))
        )
    )


def members(session: Session, *, project: Project) -> list[tuple[Person, str]]:
    rows = session.exec(
        select(Person, ProjectMember.role)
        .join(ProjectMember, col(ProjectMember.person_id) == col(Person.id))
        .where(ProjectMember.project_id == project.id)
        .order_by(col(ProjectMember.id))
    )
    return [(person, role) for person, role in rows]


def to_public(session: Session, project: Project) -> ProjectPublic:
    def email(pid: int | None) -> str | None:
        person = session.get(Person, pid) if pid else None
        return person.email if person else None

    return ProjectPublic(
        id=project.id or 0, code=project.code, name=project.name, objective=project.objective,
        sponsor_email=email(project.sponsor_id) or "",
        manager_email=email(project.manager_id) or "",
        alternate_approver_email=email(project.alternate_approver_id),
        cost_tolerance_pence=project.cost_tolerance_pence,
    )


OPEN_STATUSES = ("draft", "impact_analysis", "awaiting_approval")


def overview(session: Session) -> list[tuple[Project, str, str, int]]:
    """Every project with its Project Manager's and sponsor's names and its open RFC count."""
    from sqlalchemy import func
    from sqlalchemy.orm import aliased

    manager, sponsor = aliased(Person), aliased(Person)
    open_rfcs = (
        select(func.count(col(Rfc.id)))
        .where(col(Rfc.project_id) == col(Project.id), col(Rfc.status).in_(OPEN_STATUSES))
        .correlate(Project)
        .scalar_subquery()
    )
    rows = session.exec(
        select(Project, manager.name, sponsor.name, open_rfcs)
        .join(manager, col(manager.id) == col(Project.manager_id))
        .join(sponsor, col(sponsor.id) == col(Project.sponsor_id))
        .order_by(col(Project.name))
    )
    return [(p, m, s, n) for p, m, s, n in rows]
