"""Queue emails with the change that causes them; claim, render and settle them for delivery."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from core import clock
from core.db import QUEUED_MAIL
from core.settings import get_settings
from models import ActionToken, OutboxMessage, OutboxStatus, Person, Rfc
from services import action_links

LEASE = timedelta(minutes=5)


def queue(
    session: Session,
    *,
    template: str,
    to_person_id: int,
    key: str,
    context: dict[str, Any] | None = None,
    rfc_id: int | None = None,
    expect_rfc_status: str | None = None,
    action_token_id: int | None = None,
) -> None:
    """Add an email to the outbox in the caller's transaction; `key` makes it idempotent."""
    exists = session.exec(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)
    ).first()
    if exists is not None:
        return
    now = clock.now()
    session.info[QUEUED_MAIL] = True
    session.add(
        OutboxMessage(
            idempotency_key=key[:200],
            template=template,
            to_person_id=to_person_id,
            context=context or {},
            rfc_id=rfc_id,
            expect_rfc_status=expect_rfc_status,
            action_token_id=action_token_id,
            next_attempt_at=now,
            created_at=now,
        )
    )


def claim_due(session: Session, *, limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for this deliverer; others never get the same rows."""
    now = clock.now()
    claimable = or_(
        and_(col(OutboxMessage.status) == OutboxStatus.queued,
             col(OutboxMessage.next_attempt_at) <= now),
        and_(col(OutboxMessage.status) == OutboxStatus.sending,
             col(OutboxMessage.claimed_until) < now),
    )
    ids = list(
        session.exec(
            select(OutboxMessage.id).where(claimable).order_by(col(OutboxMessage.id)).limit(limit)
        )
    )
    if not ids:
        return []
    claim = uuid.uuid4().hex
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), claimable)
        .values(status=OutboxStatus.sending, claim_id=claim, claimed_until=now + LEASE)
    )
    session.flush()
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.claim_id == claim)
            .order_by(col(OutboxMessage.id))
            .execution_options(populate_existing=True)
        )
    )


def still_relevant(session: Session, message: OutboxMessage) -> bool:
    """False when the email's reason has gone (the RFC moved on, the link was superseded)."""
    if message.expect_rfc_status is not None:
        rfc = session.get(Rfc, message.rfc_id)
        if rfc is None or rfc.status != message.expect_rfc_status:
            return False
    if message.action_token_id is not None:
        token = session.get(ActionToken, message.action_token_id)
        if token is None or not action_links.is_live(token):
            return False
    return True


def _settle(session: Session, row_id: int, **values: Any) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.sending)  # type: ignore[arg-type]
        .values(claim_id=None, claimed_until=None, **values)
    )


def mark_sent(session: Session, *, message_id: int, smtp_message_id: str) -> None:
    _settle(
        session, message_id, status=OutboxStatus.sent, sent_at=clock.now(),
        message_id=smtp_message_id, last_error=None,
    )


def mark_dropped(session: Session, *, message_id: int, reason: str) -> None:
    _settle(session, message_id, status=OutboxStatus.dropped, last_error=reason[:1000])


def mark_failed(session: Session, *, message_id: int, error: str) -> None:
    """Permanent failure (SMTP 5xx, or retries exhausted): shown to admins."""
    _settle(session, message_id, status=OutboxStatus.failed, last_error=error[:1000])


def mark_retry(
    session: Session, *, message: OutboxMessage, error: str, smtp_message_id: str | None = None
) -> None:
    """Temporary failure: back off exponentially with jitter, or give up after the limit."""
    attempts = message.attempts + 1
    if attempts >= get_settings().outbox_max_attempts:
        _settle(session, message.id or 0, status=OutboxStatus.failed, attempts=attempts,
                last_error=f"gave up after {attempts} attempts: {error}"[:1000])
        return
    delay = min(3600.0, 30.0 * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)
    _settle(
        session, message.id or 0, status=OutboxStatus.queued, attempts=attempts,
        next_attempt_at=clock.now() + timedelta(seconds=delay), last_error=error[:1000],
        message_id=smtp_message_id,
    )


def recipient(session: Session, message: OutboxMessage) -> Person | None:
    return session.get(Person, message.to_person_id)


def list_messages(session: Session, *, status: str | None = None, limit: int = 200) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    return list(session.exec(stmt))


def requeue(session: Session, *, message_id: int) -> bool:
    """An admin sends a failed message again (after fixing the address or the relay)."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.failed)  # type: ignore[arg-type]
        .values(status=OutboxStatus.queued, attempts=0, next_attempt_at=clock.now())
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
