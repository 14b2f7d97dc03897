"""The RFC transition table and the one function that moves an RFC between states.

Nothing else assigns `Rfc.status`. A move is a conditional UPDATE on (status, version):
of two racing decisions exactly one matches a row; the other gets a Conflict.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from core import clock
from models import Project, Rfc, RfcStatus
from services import audit
from services.actors import Actor, main_role, roles_on
from services.errors import Conflict, Forbidden, Refusal

S = RfcStatus

# (from status, action) -> (to status, roles allowed to make the move)
TRANSITIONS: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    (S.draft, "edit"): (S.draft, frozenset({"requester"})),
    (S.draft, "submit"): (S.impact_analysis, frozenset({"requester"})),
    (S.draft, "withdraw"): (S.withdrawn, frozenset({"requester"})),
    (S.impact_analysis, "edit"): (S.impact_analysis, frozenset({"requester", "manager"})),
    (S.impact_analysis, "record_impact"): (S.awaiting_approval, frozenset({"manager"})),
    (S.impact_analysis, "withdraw"): (S.withdrawn, frozenset({"requester", "manager"})),
    (S.awaiting_approval, "edit"): (S.awaiting_approval, frozenset({"requester", "manager"})),
    (S.awaiting_approval, "record_impact"): (S.awaiting_approval, frozenset({"manager"})),
    (S.awaiting_approval, "approve"): (S.approved, frozenset({"approver"})),
    (S.awaiting_approval, "reject"): (S.rejected, frozenset({"approver"})),
    (S.awaiting_approval, "withdraw"): (S.withdrawn, frozenset({"requester", "manager"})),
}

# The roles that may make each action in some state.
_MAY_EVER: dict[str, frozenset[str]] = {}
for (_status, _action), (_to, _roles) in TRANSITIONS.items():
    _MAY_EVER[_action] = _MAY_EVER.get(_action, frozenset()) | _roles

ACTIONS = ("edit", "submit", "withdraw", "record_impact", "approve", "reject")
STATUS_LABELS = {
    S.draft: "Draft",
    S.impact_analysis: "Impact analysis",
    S.awaiting_approval: "Awaiting approval",
    S.approved: "Approved",
    S.rejected: "Rejected",
    S.withdrawn: "Withdrawn",
}
ACTION_LABELS = {
    "create": "raised",
    "edit": "edited",
    "submit": "submitted",
    "withdraw": "withdrawn",
    "record_impact": "given an impact analysis",
    "approve": "approved",
    "reject": "rejected",
}


def allowed_actions(rfc: Rfc, roles: set[str]) -> list[str]:
    """The moves this person may make now (drives which buttons a page shows)."""
    return [a for a in ACTIONS if (m := TRANSITIONS.get((rfc.status, a))) and roles & m[1]]


def authorise(rfc: Rfc, project: Project, *, action: str, actor: Actor,
              role: str | None = None) -> tuple[str, str, Refusal]:
    """Check the table for this move: (to status, acting role, refusal) or raise."""
    roles = roles_on(rfc, project, actor.person_id)
    move = TRANSITIONS.get((rfc.status, action))
    acting_role = role or main_role((roles & move[1] if move else set()) or roles)
    refusal = Refusal("rfc", rfc.id or 0, rfc.version, action, rfc.status, actor.person_id,
                      acting_role, actor.address)
    # Permission before state: someone who could never make this move is told so, and learns
    # nothing about where the RFC is now.
    if not roles & _MAY_EVER.get(action, frozenset()):
        raise Forbidden(_forbidden_message(rfc, action, roles), refusal=refusal)
    if move is None:
        raise Conflict(
            f"{rfc.ref} is {STATUS_LABELS[S(rfc.status)].lower()}: it cannot be "
            f"{ACTION_LABELS.get(action, action)} now.",
            refusal=refusal,
        )
    if not roles & move[1]:
        raise Forbidden(_forbidden_message(rfc, action, roles), refusal=refusal)
    return move[0], acting_role, refusal


def apply(
    session: Session,
    *,
    rfc: Rfc,
    project: Project,
    action: str,
    actor: Actor,
    changes: dict[str, Any] | None = None,
    role: str | None = None,
    detail: str = "",
) -> Rfc:
    """Make one move: check the table, update conditionally, write the audit event."""
    to_status, acting_role, refusal = authorise(rfc, project, action=action, actor=actor, role=role)
    from_status = rfc.status
    values = dict(changes or {})
    values.update(status=to_status, version=rfc.version + 1, updated_at=clock.now())
    result = session.execute(
        update(Rfc)
        .where(Rfc.id == rfc.id, Rfc.status == rfc.status, Rfc.version == rfc.version)  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            f"{rfc.ref} was changed by someone else at the same moment. Reload it and try again.",
            refusal=refusal,
        )
    for key, value in values.items():
        set_committed_value(rfc, key, value)
    audit.record(
        session,
        actor_id=actor.person_id,
        actor_role=acting_role,
        actor_address=actor.address,
        subject_type="rfc",
        subject_id=rfc.id or 0,
        subject_version=rfc.version,
        action=action,
        from_status=from_status,
        to_status=to_status,
        detail=detail,
    )
    return rfc


def _forbidden_message(rfc: Rfc, action: str, roles: set[str]) -> str:
    if action in ("approve", "reject"):
        if "requester" in roles and "approver" not in roles and rfc.approver_id == rfc.requester_id:
            return "Nobody may approve their own Request for Change."
        return f"Only the approver named for {rfc.ref} may decide it."
    if action == "record_impact":
        return "Only the project's Project Manager records the impact analysis."
    return f"You cannot make this change to {rfc.ref}."


# Past-tense names for the audit actions, as events outside Signoff call them.
EVENT_NAMES = {
    "create": "raised",
    "edit": "edited",
    "submit": "submitted",
    "withdraw": "withdrawn",
    "record_impact": "impact_recorded",
    "approve": "approved",
    "reject": "rejected",
}


def transitions_since(session: Session, *, after_id: int, limit: int = 500) -> list[dict[str, Any]]:
    """RFC moves recorded after audit event `after_id`, oldest first (for publishing events)."""
    from sqlmodel import col, select

    from models import AuditEvent, Project

    rows = session.exec(
        select(AuditEvent, Rfc.ref, Project.code)
        .join(Rfc, col(Rfc.id) == col(AuditEvent.subject_id))
        .join(Project, col(Project.id) == col(Rfc.project_id))
        .where(col(AuditEvent.id) > after_id, AuditEvent.subject_type == "rfc",
               AuditEvent.outcome == "ok")
        .order_by(col(AuditEvent.id))
        .limit(limit)
    )
    return [
        {"audit_id": e.id, "at": e.at, "event": EVENT_NAMES.get(e.action, e.action), "ref": ref,
         "project": code, "rfc_id": e.subject_id, "version": e.subject_version,
         "from_status": e.from_status, "to_status": e.to_status, "actor_role": e.actor_role}
        for e, ref, code in rows
    ]

