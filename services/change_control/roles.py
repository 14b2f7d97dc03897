"""The roles a person holds on an RFC: what the transition table and the audit trail name."""

from __future__ import annotations

from models.change_control import Project, Rfc


def roles_on(rfc: Rfc, project: Project, person_id: int) -> set[str]:
    """The roles a person holds on one RFC; `approver` is never the requester."""
    roles: set[str] = set()
    if person_id == rfc.requester_id:
        roles.add("requester")
    if person_id == project.manager_id:
        roles.add("manager")
    if person_id == project.sponsor_id:
        roles.add("sponsor")
    if person_id == project.alternate_approver_id:
        roles.add("alternate")
    if person_id == rfc.approver_id and person_id != rfc.requester_id:
        roles.add("approver")
    return roles


def main_role(roles: set[str]) -> str:
    for role in ("approver", "manager", "sponsor", "requester", "alternate"):
        if role in roles:
            return role
    return "other"
