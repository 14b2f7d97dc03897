"""Deliver the outbox: claim due rows, build each email, send over the SMTP pool, settle.

Each batch is claimed in one transaction and read (relevance checks, rendering) in one session;
one coroutine per pooled connection sends it, and results are written SETTLE_EVERY at a time
in one statement. If the process or the database dies mid-batch, the messages sent since the
last settle are sent again once their lease runs out, with the same Message-ID, so receivers
can recognise the duplicates; nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from jinja2 import TemplateError
from sqlmodel import col, select

from core.db import CachedReads, in_chunks, read_session, write_session
from core.mail import (
    PermanentFailure,
    SmtpPool,
    TemporaryFailure,
    build_message,
    stable_message_id,
)
from core.settings import Settings, get_settings
from models import ActionToken, OutboxMessage, OutboxStatus, Person
from services.platform import emails, outbox, subjects

log = logging.getLogger("signoff.delivery")

SETTLE_EVERY = 20  # results recorded per write: fewer writes, against fewer resends on a crash


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    sent_to: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "retried": self.retried,
            "failed": self.failed,
            "dropped": self.dropped,
        }

    def count(self, outcome: outbox.Outcome) -> None:
        if outcome.status == OutboxStatus.sent:
            self.sent += 1
        elif outcome.status == OutboxStatus.queued and not _gives_up(outcome):
            self.retried += 1
        elif outcome.status == OutboxStatus.queued:  # its last attempt: settled as failed
            self.failed += 1
        elif outcome.status == OutboxStatus.failed:
            self.failed += 1
        else:
            self.dropped += 1


def _gives_up(outcome: outbox.Outcome) -> bool:
    """A temporary failure on the message's last attempt, which outbox.settle records as a
    permanent one ("gave up after N attempts")."""
    return outcome.message.attempts + 1 >= get_settings().outbox_max_attempts


async def deliver_due(
    *, settings: Settings | None = None, batch_size: int = 200, max_batches: int | None = None
) -> DeliveryReport:
    """Send everything due now, batch by batch, until nothing is left to claim."""
    settings = settings or get_settings()
    report = DeliveryReport()
    async with SmtpPool(settings) as pool:
        batches = 0
        while max_batches is None or batches < max_batches:
            with write_session() as session:
                claimed = outbox.claim_due(session, limit=batch_size)
            if not claimed:
                break
            batches += 1
            batch = _Batch(report)
            await batch.deliver(claimed, pool, settings)
            if batch.retried == len(claimed):
                break  # the relay is down: leave the rest for the next run
    return report


class _Batch:
    """One claimed batch: its shared reads, and its results waiting to be written."""

    def __init__(self, report: DeliveryReport) -> None:
        self.report = report
        self.unsettled: list[outbox.Outcome] = []
        self.retried = 0
        self.error: BaseException | None = None

    async def deliver(
        self, claimed: list[OutboxMessage], pool: SmtpPool, settings: Settings
    ) -> None:
        pending = iter(claimed)
        with read_session() as session:
            reads = CachedReads(session)  # holds the batch's rows until it is sent
            _prime(reads, claimed)

            async def sender() -> None:  # one per pooled connection
                for message in pending:
                    if self.error is not None:
                        return  # the rest keep their claim and are sent after the lease
                    try:
                        self.record(await _deliver_one(reads, message, pool, settings, self.report))
                    except Exception as exc:  # noqa: BLE001 - e.g. the database went away
                        self.error = self.error or exc

            await asyncio.gather(*(sender() for _ in range(pool.size)))
        try:
            self.settle()  # what was sent is recorded, even when a later message failed
        finally:
            if self.error is not None:
                raise self.error

    def record(self, outcome: outbox.Outcome) -> None:
        self.unsettled.append(outcome)
        self.retried += outcome.status == OutboxStatus.queued
        if len(self.unsettled) >= SETTLE_EVERY:
            self.settle()

    def settle(self) -> None:
        if not self.unsettled:
            return
        outcomes, self.unsettled = self.unsettled, []
        with write_session() as session:
            outbox.settle(session, outcomes)
        for outcome in outcomes:
            self.report.count(outcome)


def _prime(reads: CachedReads, claimed: list[OutboxMessage]) -> None:
    """Read the batch's recipients and links in one query each (500 ids at a time), and let
    each subject type read its subjects at once, so rendering finds them in `reads` instead
    of asking one message at a time."""
    people = sorted({m.to_person_id for m in claimed})
    wanted = [m.action_token_id for m in claimed] + [
        item.get("action_token_id") for m in claimed for item in m.context.get("items", ())
    ]
    links = sorted({int(i) for i in wanted if i is not None})
    for chunk in in_chunks(people):
        reads.hold(Person, reads.session.exec(select(Person).where(col(Person.id).in_(chunk))))
    for chunk in in_chunks(links):
        reads.hold(
            ActionToken,
            reads.session.exec(select(ActionToken).where(col(ActionToken.id).in_(chunk))),
        )
    about: dict[str, set[int]] = defaultdict(set)
    for m in claimed:
        if m.subject_type and m.subject_id is not None:
            about[m.subject_type].add(m.subject_id)
        for item in m.context.get("items", ()):
            if item.get("subject_type") and item.get("subject_id") is not None:
                about[item["subject_type"]].add(int(item["subject_id"]))
    for name, ids in about.items():
        kind = subjects.get(name)
        if kind.prefetch is not None:
            for chunk in in_chunks(sorted(ids)):
                kind.prefetch(reads, chunk)


async def _deliver_one(
    reads: CachedReads,
    message: OutboxMessage,
    pool: SmtpPool,
    settings: Settings,
    report: DeliveryReport,
) -> outbox.Outcome:
    if not outbox.still_relevant(reads, message):
        return outbox.dropped(message, "reason expired before sending")
    try:
        email = emails.render(reads, message)
    except TemplateError as exc:  # a broken or missing template: no retry will mend it
        log.error("outbox %s cannot be rendered: %s", message.id, exc)
        return outbox.failed(message, f"the email could not be built: {exc!r}")
    if email is None:
        return outbox.dropped(message, "recipient no longer active")
    # The same Message-ID on every attempt, so a duplicate (crash after accept) is recognisable.
    smtp_id = message.message_id or stable_message_id(message.idempotency_key, settings)
    try:
        await pool.send(build_message(email, settings=settings, message_id=smtp_id))
    except PermanentFailure as exc:
        log.warning("outbox %s permanently failed: %s", message.id, exc)
        return outbox.failed(message, str(exc))
    except TemporaryFailure as exc:
        log.info("outbox %s will be retried: %s", message.id, exc)
        return outbox.retry(message, str(exc), smtp_id)
    report.sent_to.append(f"{email.to_address}: {email.subject}")
    return outbox.sent(message, smtp_id)
