"""Projects and their RFC registers."""

from __future__ import annotations

import re

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from core import clock
from core.statements import Prepared
from models import Person
from models.change_control import Project, ProjectMember, Rfc, Stage
from models.change_control.projects import CODE_PATTERN, MemberPublic, ProjectCreate, ProjectPublic
from services.change_control import access
from services.platform import audit
from services.platform.actors import Actor
from services.platform.errors import Conflict, Forbidden, Invalid, NotFound
from services.platform.people import find_by_email


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
        if data.alternate_approver_email
        else None
    )
    if alternate is not None and alternate.id == sponsor.id:
        raise Invalid("The alternate approver must be someone other than the sponsor.")
    project = Project(
        code=data.code,
        name=data.name.strip(),
        objective=data.objective,
        cost_tolerance_pence=data.cost_tolerance_pence,
        sponsor_id=sponsor.id or 0,
        manager_id=manager.id or 0,
        alternate_approver_id=alternate.id if alternate else None,
        open_to_all_officers=data.open_to_all_officers,
        created_at=clock.now(),
    )
    session.add(project)
    session.flush()
    for person, role in ((sponsor, "Project Sponsor"), (manager, "Project Manager")):
        add_member(session, project=project, person=person, role=role)
    audit.record(
        session,
        actor_id=actor.person_id,
        actor_role="admin" if actor.is_admin else "officer",
        actor_address=actor.address,
        subject_type="project",
        subject_id=project.id or 0,
        subject_version=1,
        action="create",
        to_status="active",
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


def add_project_member(
    session: Session, *, actor: Actor, code: str, email: str, role: str
) -> ProjectMember:
    """Add a person to a project's people (admins and the project's PM); idempotent per person."""
    project = visible_project(session, code=code, actor=actor)
    _may_manage(project, actor)
    person = _person(session, email, "person")
    existing = session.exec(
        select(ProjectMember).where(
            ProjectMember.project_id == project.id, ProjectMember.person_id == person.id
        )
    ).first()
    if existing is not None:
        if existing.role == role:
            return existing
        existing.role = role
        session.add(existing)
        action = "change_member"
    else:
        existing = ProjectMember(project_id=project.id or 0, person_id=person.id or 0, role=role)
        session.add(existing)
        action = "add_member"
    _audit_membership(session, actor, project, action, f"{person.email} as {role}")
    return existing


def remove_project_member(session: Session, *, actor: Actor, code: str, email: str) -> None:
    """Take a person off a project's people; its sponsor, PM and alternate stay while named."""
    project = visible_project(session, code=code, actor=actor)
    _may_manage(project, actor)
    person = find_by_email(session, email)
    # Named people first: the alternate approver sees the project without a member row, and
    # must be told why they stay, not that they are not one of its people.
    if person is not None and access.is_named(project, person.id):
        raise Invalid(
            f"{person.name} is the project's named sponsor, manager or alternate "
            "approver, and stays one of its people while named."
        )
    row = session.exec(
        select(ProjectMember).where(
            ProjectMember.project_id == project.id,
            ProjectMember.person_id == (person.id if person else -1),
        )
    ).first()
    if person is None or row is None:
        raise NotFound(f"{email} is not one of the project's people.")
    session.delete(row)
    _audit_membership(session, actor, project, "remove_member", person.email)


def _may_manage(project: Project, actor: Actor) -> None:
    if not access.manages_members(project=project, actor=actor):
        raise Forbidden("Only administrators and the project's Project Manager manage its people.")


def _audit_membership(
    session: Session, actor: Actor, project: Project, action: str, detail: str
) -> None:
    audit.record(
        session,
        actor_id=actor.person_id,
        actor_role="admin" if actor.is_admin else "manager",
        actor_address=actor.address,
        subject_type="project",
        subject_id=project.id or 0,
        subject_version=1,
        action=action,
        detail=detail,
    )


# One query each, built once: the project by code; the same if this viewer sees it.
_BY_CODE = select(Project).where(col(Project.code) == bindparam("code"))
_BY_CODE_PREPARED = Prepared(_BY_CODE)
_SEEN_BY_CODE = Prepared(_BY_CODE.where(access.SEEN_BY_VIEWER))


def get_project(session: Session, *, code: str, required: bool = True) -> Project | None:
    project = None
    if re.fullmatch(CODE_PATTERN, code) is not None:
        project = _BY_CODE_PREPARED.load_one(session, {"code": code}, Project)
    if project is None and required:
        raise NotFound(f"There is no project with code {code}.")
    return project


def list_projects(session: Session, *, actor: Actor | None = None) -> list[Project]:
    """Projects by code: those `actor` may see, or every one (for internal use) without."""
    stmt = select(Project).order_by(col(Project.code))
    if actor is not None:
        stmt = stmt.where(access.visible_projects(actor))
    return list(session.exec(stmt))


def visible_project(session: Session, *, code: str, actor: Actor) -> Project:
    """The project if this person may see it; to anyone else it does not exist."""
    project = None
    if actor.is_admin:
        project = get_project(session, code=code, required=False)
    elif re.fullmatch(CODE_PATTERN, code) is not None:
        params = {"code": code, "viewer_id": actor.person_id}
        project = _SEEN_BY_CODE.load_one(session, params, Project)
    if project is None:
        raise NotFound(f"There is no project with code {code}.")
    return project


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
        id=project.id or 0,
        code=project.code,
        name=project.name,
        objective=project.objective,
        sponsor_email=email(project.sponsor_id) or "",
        manager_email=email(project.manager_id) or "",
        alternate_approver_email=email(project.alternate_approver_id),
        cost_tolerance_pence=project.cost_tolerance_pence,
        open_to_all_officers=project.open_to_all_officers,
        members=[
            MemberPublic(email=p.email, name=p.name, role=role)
            for p, role in members(session, project=project)
        ],
    )


OPEN_STATUSES = ("draft", "impact_analysis", "awaiting_approval")


def overview(session: Session, *, actor: Actor) -> list[tuple[Project, str, str, int]]:
    """The projects this person sees, with PM's and sponsor's names and open RFC count."""
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
        .where(access.visible_projects(actor))
        .order_by(col(Project.name))
    )
    return [(p, m, s, n) for p, m, s, n in rows]
