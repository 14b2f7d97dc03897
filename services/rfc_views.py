"""Read models of an RFC for the API and pages."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models import Person, Project, Rfc
from models.rfcs import HistoryEntry, RfcPublic, RfcSummary
from services import audit


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.exec(select(Person.id, Person.name).where(col(Person.id).in_(wanted)))
    return {pid: name for pid, name in rows if pid is not None}


def history(session: Session, *, rfc: Rfc) -> list[HistoryEntry]:
    events = audit.history(session, subject_type="rfc", subject_id=rfc.id or 0)
    names = _names(session, {e.actor_id for e in events})
    return [
        HistoryEntry(
            at=e.at, actor=names.get(e.actor_id or 0), role=e.actor_role, action=e.action,
            from_status=e.from_status, to_status=e.to_status, version=e.subject_version,
            outcome=e.outcome, address=e.actor_address, detail=e.detail,
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
    return RfcSummary(id=rfc.id or 0, ref=rfc.ref, status=rfc.status, version=rfc.version,
                      classification=rfc.classification)
