"""Read models of an RFC for the API and pages."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models import Person
from models.change_control import Project, Rfc
from models.change_control.rfcs import HistoryEntry, RfcPublic, RfcSummary
from services.platform import audit


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.exec(select(Person.id, Person.name).where(col(Person.id).in_(wanted)))
    return {pid: name for pid, name in rows if pid is not None}


ROLE_NAMES = {
    "requester": "requester",
    "manager": "Project Manager",
    "sponsor": "sponsor",
    "alternate": "alternate approver",
    "approver": "approver",
    "admin": "administrator",
}
DONE = {
    "create": "Raised",
    "submit": "Sent for impact analysis",
    "edit": "Part 1 changed",
    "record_impact": "Impact recorded",
    "approve": "Approved",
    "reject": "Rejected",
    "withdraw": "Withdrawn",
}
TRIED = {
    "create": "raise it",
    "submit": "send it for impact analysis",
    "edit": "change Part 1",
    "record_impact": "record the impact",
    "approve": "approve it",
    "reject": "reject it",
    "withdraw": "withdraw it",
}


def describe(*, action: str, actor: str | None, outcome: str, detail: str) -> str:
    """One history line as people say it: "Raised by Emma George", "Impact recorded: major..."."""
    who = actor or "someone no longer registered"
    if outcome == "refused":
        because = f": {detail}" if detail else ""
        tried = TRIED.get(action, action.replace("_", " "))
        return f"{who} tried to {tried} and was refused{because}"
    line = f"{DONE.get(action, action.replace('_', ' ').capitalize())} by {who}"
    if action == "record_impact" and detail.startswith("classified "):
        # detail: "classified major; decision by sponsor" (older rows: "classified major")
        classification, _, decider = detail.removeprefix("classified ").partition("; decision by ")
        goes = f", goes to the {decider}" if decider else ""
        return f"{line}: {classification} change{goes}"
    if action == "edit" and detail.startswith("changed "):
        fields = detail.removeprefix("changed ").replace("_", " ").split(", ")
        return f"{line}: {' and '.join(fields)} changed" if fields else line
    if detail:
        return f"{line} ({detail})" if detail.startswith("via ") else f"{line}: {detail}"
    return line


def history(session: Session, *, rfc: Rfc) -> list[HistoryEntry]:
    events = audit.history(session, subject_type="rfc", subject_id=rfc.id or 0)
    names = _names(session, {e.actor_id for e in events})
    return [
        HistoryEntry(
            at=e.at,
            actor=names.get(e.actor_id or 0),
            role=e.actor_role,
            action=e.action,
            from_status=e.from_status,
            to_status=e.to_status,
            version=e.subject_version,
            outcome=e.outcome,
            address=e.actor_address,
            detail=e.detail,
            summary=describe(
                action=e.action,
                actor=names.get(e.actor_id or 0),
                outcome=e.outcome,
                detail=e.detail,
            ),
        )
        for e in events
    ]


def to_public(
    session: Session, *, rfc: Rfc, project: Project, with_history: bool = True
) -> RfcPublic:
    names = _names(session, {rfc.requester_id, rfc.approver_id, rfc.decided_by_id})
    return RfcPublic(
        **rfc.model_dump(exclude={"history"}),
        project_code=project.code,
        requester=names.get(rfc.requester_id, ""),
        approver=names.get(rfc.approver_id or 0),
        decided_by=names.get(rfc.decided_by_id or 0),
        history=history(session, rfc=rfc) if with_history else [],
    )


def summary(rfc: Rfc) -> RfcSummary:
    return RfcSummary(
        id=rfc.id or 0,
        ref=rfc.ref,
        status=rfc.status,
        version=rfc.version,
        classification=rfc.classification,
    )
