"""The append-only audit trail, chained by hashes so that a changed or missing row shows.

Each row stores `prev_hash` (the `row_hash` of the row before it in id order, or GENESIS) and
`row_hash` = SHA-256 of prev_hash and the row's fields. The database refuses UPDATE, DELETE and
TRUNCATE on the table (migration 0003); the chain is what catches someone who could get round
that (a superuser, the table's owner, a copy of the file), up to the newest row: removing rows
from the end leaves a shorter chain that is still intact, so keep the head hash elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session, col, select

from core import clock
from core.db import dialect_name, write_session
from core.statements import Prepared
from models import AuditEvent
from services.platform.errors import Refusal

GENESIS = "0" * 64
# Any constant will do, as long as nothing else in the database takes the same advisory lock.
CHAIN_LOCK_KEY = 0x51_6E_0F_F0_A0D1
VERIFY_BATCH = 1000


_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]
# Built once (Core: no ORM object, no flush): an append is one SELECT and one INSERT.
_APPEND = Prepared(insert(_TABLE))
_LAST_HASH = Prepared(select(_TABLE.c.row_hash).order_by(_TABLE.c.id.desc()).limit(1))
_CHAIN_LOCK = Prepared(text("SELECT pg_advisory_xact_lock(:key)"))
_HEAD = "signoff_audit_head"  # session.info: (transaction, the hash of the row last appended)
HASHED = (
    "at",
    "actor_id",
    "actor_role",
    "actor_address",
    "subject_type",
    "subject_id",
    "subject_version",
    "action",
    "from_status",
    "to_status",
    "outcome",
    "detail",
)


def row_hash(prev_hash: str, event: AuditEvent) -> str:
    """SHA-256 of the previous row's hash and this row's fields (everything but id and hashes).

    The id is left out so that the chain alone decides the order; the time is ISO 8601 in UTC
    to the microsecond, as both SQLite and PostgreSQL store it.
    """
    return _chained(prev_hash, {name: getattr(event, name) for name in HASHED})


def _chained(prev_hash: str, values: Mapping[str, Any]) -> str:
    fields = [values[name] for name in HASHED]
    fields[0] = values["at"].astimezone(UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _last_hash(session: Session) -> str:
    """The hash to chain to. Read once per transaction (savepoint included): after that this
    transaction's own appends are the newest rows, since it holds the chain until it ends."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    head = session.info.get(_HEAD)
    if head is not None and head[0] is transaction:
        return str(head[1])
    if dialect_name(session) == "postgresql":
        # Two transactions reading the same last hash would fork the chain: appenders queue
        # here until the holder commits. SQLite needs nothing: write transactions start with
        # BEGIN IMMEDIATE (core.db), so only one is ever running.
        _CHAIN_LOCK.run(session, {"key": CHAIN_LOCK_KEY})
    last = _LAST_HASH.run(session).scalar()
    return GENESIS if last is None else str(last)


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
    """Append one audit event, chained to the last one, in the caller's transaction."""
    values: dict[str, Any] = {
        "at": clock.now(),
        "actor_id": actor_id,
        "actor_role": actor_role,
        "actor_address": actor_address[:64],
        "subject_type": subject_type,
        "subject_id": subject_id,
        "subject_version": subject_version,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "outcome": outcome,
        "detail": detail[:2000],
    }
    values["prev_hash"] = _last_hash(session)
    values["row_hash"] = _chained(values["prev_hash"], values)
    _APPEND.run(session, values)
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info[_HEAD] = (transaction, values["row_hash"])


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


@dataclass(frozen=True)
class VerifyResult:
    """What a walk of the chain found: rows walked, and the first broken row if there is one."""

    events: int
    last_hash: str
    broken_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def _problem(event: AuditEvent, expected_prev: str) -> str:
    if event.prev_hash != expected_prev:
        return (
            f"prev_hash {event.prev_hash[:12] or '(empty)'}… is not the row_hash of the row "
            f"before it ({expected_prev[:12]}…): a row before it was removed, added or re-hashed"
        )
    if row_hash(event.prev_hash, event) != event.row_hash:
        return "row_hash does not match the row's contents: the row was changed"
    return ""


def verify_chain(session: Session, *, batch: int = VERIFY_BATCH) -> VerifyResult:
    """Walk the trail in id order and report the first row whose link or hash is wrong."""
    expected_prev, after_id, count = GENESIS, 0, 0
    while True:
        stmt = (
            select(AuditEvent)
            .where(col(AuditEvent.id) > after_id)
            .order_by(col(AuditEvent.id))
            .limit(batch)
        )
        rows = list(session.exec(stmt))
        for event in rows:
            count += 1
            problem = _problem(event, expected_prev)
            if problem:
                return VerifyResult(count, expected_prev, event.id, problem)
            expected_prev = event.row_hash
        if len(rows) < batch:
            return VerifyResult(count, expected_prev)
        after_id = rows[-1].id or 0
        session.expunge_all()  # keeps memory flat on a long trail
