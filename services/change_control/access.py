"""Who may see and do what on a project: one set of rules for pages and the API alike.

- Administrators see every project and every RFC.
- A project's people (its sponsor, Project Manager, alternate approver and members) see it,
  its register and its RFCs, and may raise RFCs on it.
- A project open to all officers is seen by, and takes RFCs from, every signed-in officer.
- Anyone else is told it does not exist (404): an outsider cannot learn a project's or an
  RFC's name, people or state, and is refused before any state is checked.
- An RFC's requester and named approver keep seeing it even if they leave the project.
- Membership is managed by administrators and the project's Project Manager.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, bindparam, or_
from sqlmodel import Session, col, select

from models.change_control import Project, ProjectMember
from services.platform.actors import Actor


def is_named(project: Project, person_id: int | None) -> bool:
    """The project's sponsor, Project Manager or alternate approver."""
    return person_id in (project.sponsor_id, project.manager_id, project.alternate_approver_id)


_MEMBER = select(col(ProjectMember.id)).where(  # built once
    col(ProjectMember.project_id) == bindparam("project_id"),
    col(ProjectMember.person_id) == bindparam("person_id"),
)


def is_member(session: Session, *, project: Project, person_id: int) -> bool:
    found = session.execute(_MEMBER, {"project_id": project.id, "person_id": person_id})
    return found.first() is not None


def sees_project(session: Session, *, project: Project, actor: Actor) -> bool:
    """May this person see the project, its register and its RFCs, and raise RFCs on it?"""
    return (
        actor.is_admin
        or project.open_to_all_officers
        or is_named(project, actor.person_id)
        or is_member(session, project=project, person_id=actor.person_id)
    )


def manages_members(*, project: Project, actor: Actor) -> bool:
    return actor.is_admin or actor.person_id == project.manager_id


def visible_projects(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause for the projects this person sees (the same rule as sees_project)."""
    if actor.is_admin:
        return col(Project.id).is_not(None)
    return _seen_by(actor.person_id)


def _seen_by(person_id: Any) -> ColumnElement[bool]:
    members = select(ProjectMember.project_id).where(ProjectMember.person_id == person_id)
    return or_(
        col(Project.open_to_all_officers).is_(True),
        col(Project.sponsor_id) == person_id,
        col(Project.manager_id) == person_id,
        col(Project.alternate_approver_id) == person_id,
        col(Project.id).in_(members),
    )


# `visible_projects` for someone who is not an administrator, built once, for a statement
# that looks up one project: the viewer's id is its parameter `viewer_id`.
SEEN_BY_VIEWER = _seen_by(bindparam("viewer_id"))
