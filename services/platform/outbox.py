"""Queue emails with the change that causes them; claim, render and settle them for delivery."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from core import clock
from core.db import CachedReads, after_commit, dialect_name
from core.nudge import nudge_delivery
from core.settings import get_settings
from core.statements import Prepared
from models import ActionToken, OutboxMessage, OutboxStatus
from services.platform import action_links, subjects

LEASE = timedelta(minutes=5)


def queue(
    session: Session,
    *,
    template: str,
    to_person_id: int,
    key: str,
    context: dict[str, Any] | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    expect_status: str | None = None,
    action_token_id: int | None = None,
) -> None:
    """Add an email to the outbox in the caller's transaction; `key` makes it idempotent.

    One INSERT ... ON CONFLICT DO NOTHING: a key already queued (a retried request, a repeated
    reminder run) adds nothing. `expect_status`: the email is dropped at sending time unless
    its subject is still in that status.
    """
    queue_each(
        session,
        [
            Mail(
                template,
                to_person_id,
                key,
                context,
                subject_type,
                subject_id,
                expect_status,
                action_token_id,
            )
        ],
    )


@dataclass(frozen=True)
class Mail:
    """One email for `queue_each`: what `queue` takes."""

    template: str
    to_person_id: int
    key: str
    context: dict[str, Any] | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    expect_status: str | None = None
    action_token_id: int | None = None


def queue_each(session: Session, mails: Iterable[Mail]) -> None:
    """`queue` for many emails in one INSERT (each still idempotent by its own key)."""
    _insert(
        session,
        [
            _new_row(
                m.key,
                m.template,
                m.to_person_id,
                m.context,
                m.subject_type,
                m.subject_id,
                m.expect_status,
                m.action_token_id,
            )
            for m in mails
        ],
    )


def queue_many(
    session: Session,
    *,
    template: str,
    to_person_ids: list[int],
    key: str,
    subject_type: str | None = None,
    subject_id: int | None = None,
    expect_status: str | None = None,
) -> None:
    """The same email to several people in one INSERT; each row's key is `key` + `:p<id>`."""
    _insert(
        session,
        [
            _new_row(
                f"{key}:p{person_id}",
                template,
                person_id,
                None,
                subject_type,
                subject_id,
                expect_status,
                None,
            )
            for person_id in to_person_ids
        ],
    )


def _new_row(
    key: str,
    template: str,
    to_person_id: int,
    context: dict[str, Any] | None,
    subject_type: str | None,
    subject_id: int | None,
    expect_status: str | None,
    action_token_id: int | None,
) -> dict[str, Any]:
    now = clock.now()
    return {
        "idempotency_key": key[:200],
        "template": template,
        "to_person_id": to_person_id,
        "context": context or {},
        "subject_type": subject_type,
        "subject_id": subject_id,
        "expect_status": expect_status,
        "action_token_id": action_token_id,
        "status": OutboxStatus.queued,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
# Built once per dialect; the rows go as parameters.
_QUEUE = {
    "postgresql": Prepared(
        postgresql.insert(_OUTBOX).on_conflict_do_nothing(index_elements=["idempotency_key"])
    ),
    "sqlite": Prepared(
        sqlite.insert(_OUTBOX).on_conflict_do_nothing(index_elements=["idempotency_key"])
    ),
}


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    added = _QUEUE[dialect_name(session)].run_many(session, rows)
    if added:
        after_commit(session, nudge_delivery)  # deliver now rather than at the next minute


def discard_queued(
    session: Session,
    *,
    created_before: datetime,
    subject_type: str | None = None,
    subject_id: int | None = None,
) -> None:
    """Delete mail still queued from before `created_before` (about one subject, if given):
    the demos replay 2010 with the clock frozen, and mail queued then, with links long
    expired, is not mail to send now."""
    stmt = delete(OutboxMessage).where(
        col(OutboxMessage.status) == OutboxStatus.queued,
        col(OutboxMessage.created_at) < created_before,
    )
    if subject_type is not None:
        stmt = stmt.where(col(OutboxMessage.subject_type) == subject_type)
    if subject_id is not None:
        stmt = stmt.where(col(OutboxMessage.subject_id) == subject_id)
    session.execute(stmt)


def claim_due(session: Session, *, limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for this deliverer; others never get the same rows.

    One UPDATE ... RETURNING. On PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so
    deliverers running at once take different rows without waiting for each other; SQLite's
    write lock (BEGIN IMMEDIATE) serialises them.
    """
    now = clock.now()
    claimable = or_(
        and_(
            col(OutboxMessage.status) == OutboxStatus.queued,
            col(OutboxMessage.next_attempt_at) <= now,
        ),
        and_(
            col(OutboxMessage.status) == OutboxStatus.sending,
            col(OutboxMessage.claimed_until) < now,
        ),
    )
    # A MATERIALIZED CTE: as a plain IN (subquery) PostgreSQL may run the locking subquery
    # again while updating, skip the rows this statement just claimed, and claim past `limit`.
    due = (
        select(OutboxMessage.id)
        .where(claimable)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    claimed = session.scalars(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(select(due.c.id)), claimable)
        .values(status=OutboxStatus.sending, claim_id=uuid.uuid4().hex, claimed_until=now + LEASE)
        .returning(OutboxMessage),
        execution_options={"synchronize_session": False},
    )
    return sorted(claimed, key=lambda message: message.id or 0)


def still_relevant(reads: CachedReads, message: OutboxMessage) -> bool:
    """False when the email's reason has gone (its subject moved on, the link was superseded).

    A digest (context "items") stays relevant while any of its items does, not counting the
    items it only lists alongside ("also": the reader's other open steps).
    """
    items = message.context.get("items")
    if items is not None:
        return any(item_is_relevant(reads, i) for i in items if not i.get("also"))
    return _holds(
        reads,
        message.subject_type,
        message.subject_id,
        message.expect_status,
        message.action_token_id,
    )


def item_is_relevant(reads: CachedReads, item: dict[str, Any]) -> bool:
    return _holds(
        reads,
        item.get("subject_type"),
        item.get("subject_id"),
        item.get("expect_status"),
        item.get("action_token_id"),
    )


def _holds(
    reads: CachedReads,
    subject_type: str | None,
    subject_id: int | None,
    expect_status: str | None,
    action_token_id: int | None,
) -> bool:
    if expect_status is not None and subject_type is not None:
        kind = subjects.get(subject_type)
        subject = kind.load(reads, subject_id or 0)
        if subject is None or kind.status(subject) != expect_status:
            return False
    if action_token_id is not None:
        token = reads.get(ActionToken, action_token_id)
        if token is None or not action_links.is_live(token):
            return False
    return True


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed message; `settle` writes a batch of them at once."""

    message: OutboxMessage
    status: str
    smtp_message_id: str | None = None
    error: str | None = None


def sent(message: OutboxMessage, smtp_message_id: str) -> Outcome:
    return Outcome(message, OutboxStatus.sent, smtp_message_id=smtp_message_id)


def dropped(message: OutboxMessage, reason: str) -> Outcome:
    return Outcome(message, OutboxStatus.dropped, error=reason)


def failed(message: OutboxMessage, error: str) -> Outcome:
    """Permanent failure (SMTP 5xx, an email that cannot be built): shown on the Outbox page."""
    return Outcome(message, OutboxStatus.failed, error=error)


def retry(message: OutboxMessage, error: str, smtp_message_id: str) -> Outcome:
    """Temporary failure: tried again later, unless this was the last attempt."""
    return Outcome(message, OutboxStatus.queued, smtp_message_id=smtp_message_id, error=error)


def _row_values(outcome: Outcome, now: datetime) -> dict[str, Any]:
    message = outcome.message
    values: dict[str, Any] = {
        "b_id": message.id,
        "b_claim": message.claim_id,
        "status": outcome.status,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at,
        "message_id": outcome.smtp_message_id or message.message_id,
        "sent_at": None,
        "last_error": outcome.error[:1000] if outcome.error else None,
    }
    if outcome.status == OutboxStatus.sent:
        values["sent_at"] = now
    elif outcome.status == OutboxStatus.queued:
        attempts = values["attempts"] = message.attempts + 1
        if attempts >= get_settings().outbox_max_attempts:
            values.update(
                status=OutboxStatus.failed,
                last_error=f"gave up after {attempts} attempts: {outcome.error}"[:1000],
            )
        else:  # exponential backoff with jitter, so a recovering relay is not stampeded
            delay = min(3600.0, 30.0 * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)
            values["next_attempt_at"] = now + timedelta(seconds=delay)
    return values


def settle(session: Session, outcomes: list[Outcome]) -> None:
    """Record a batch of results in one statement; a row re-claimed by another deliverer after
    this one's lease ran out is left to that deliverer."""
    if not outcomes:
        return
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    now = clock.now()
    session.connection().execute(
        table.update()
        .where(
            table.c.id == bindparam("b_id"),
            table.c.claim_id == bindparam("b_claim"),
            table.c.status == OutboxStatus.sending,
        )
        .values(
            status=bindparam("status"),
            attempts=bindparam("attempts"),
            next_attempt_at=bindparam("next_attempt_at"),
            message_id=bindparam("message_id"),
            sent_at=bindparam("sent_at"),
            last_error=bindparam("last_error"),
            claim_id=None,
            claimed_until=None,
        ),
        [_row_values(o, now) for o in outcomes],
    )


def list_messages(
    session: Session,
    *,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 200,
) -> list[OutboxMessage]:
    """Newest first; `before_id` pages on by id (keyset), so a busy outbox never shifts pages."""
    stmt = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    if before_id is not None:
        stmt = stmt.where(col(OutboxMessage.id) < before_id)
    return list(session.exec(stmt))


def requeue(session: Session, *, message_id: int) -> bool:
    """An admin sends a failed message again (after fixing the address or the relay)."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.failed)  # type: ignore[arg-type]
        .values(status=OutboxStatus.queued, attempts=0, next_attempt_at=clock.now())
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
