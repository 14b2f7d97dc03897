"""The append-only audit trail."""

from __future__ import annotations

from sqlmodel import Session, select

from core import clock
from core.db import write_session
from models import AuditEvent
from services.errors import Refusal


def record(
    session: Session,
    *,
    actor_id: int | None,
    actor_role: str,
    actor_address: str,
    subject_type: str,
    subject_id: int,
    subject_version: int,
    action: str,
    from_status: str = "",
    to_status: str = "",
    outcome: str = "ok",
    detail: str = "",
) -> None:
    """Append one audit event in the caller's transaction."""
    session.add(
        AuditEvent(
            at=clock.now(),
            actor_id=actor_id,
            actor_role=actor_role,
            actor_address=actor_address[:64],
            subject_type=subject_type,
            subject_id=subject_id,
            subject_version=subject_version,
            action=action,
            from_status=from_status,
            to_status=to_status,
            outcome=outcome,
            detail=detail[:2000],
        )
    )


def record_refusal(refusal: Refusal, reason: str) -> None:
    """Record a refused attempt in its own transaction (the attempt itself rolled back)."""
    with write_session() as session:
        record(
            session,
            actor_id=refusal.actor_id,
            actor_role=refusal.actor_role,
            actor_address=refusal.actor_address,
            subject_type=refusal.subject_type,
            subject_id=refusal.subject_id,
            subject_version=refusal.subject_version,
            action=refusal.action,
            from_status=refusal.from_status,
            outcome="refused",
            detail=reason,
        )


def history(session: Session, *, subject_type: str, subject_id: int) -> list[AuditEvent]:
    """Every event about one subject, oldest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.id)  # type: ignore[arg-type]
    )
    return list(session.exec(stmt))
