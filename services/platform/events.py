"""Workflow moves as events for the world outside: read from the audit trail, oldest first.

flows/events.py posts them to Prefect's event feed (the web app never imports Prefect). Each
is named `signoff.<subject type>.<event>`, e.g. `signoff.rfc.approved`; the subject's domain
names its events and the resources they relate to (services.platform.subjects).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from core.db import CachedReads
from models import AuditEvent
from services.platform import subjects


def transitions_since(session: Session, *, after_id: int, limit: int = 500) -> list[dict[str, Any]]:
    """Successful moves recorded after audit event `after_id`, of every registered subject."""
    types = subjects.names()
    rows = session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.id) > after_id,
            col(AuditEvent.subject_type).in_(types),
            AuditEvent.outcome == "ok",
        )
        .order_by(col(AuditEvent.id))
        .limit(limit)
    )
    reads = CachedReads(session)
    out = []
    for e in rows:
        kind = subjects.get(e.subject_type)
        subject = kind.load(reads, e.subject_id)
        if subject is None:
            continue
        out.append(
            {
                "audit_id": e.id,
                "at": e.at,
                "subject_type": e.subject_type,
                "event": kind.event_names.get(e.action, e.action),
                "ref": kind.ref(subject),
                "subject_id": e.subject_id,
                "version": e.subject_version,
                "related": kind.related(reads, subject),
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor_role": e.actor_role,
            }
        )
    return out
