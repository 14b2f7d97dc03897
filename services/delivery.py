"""Deliver the outbox: claim due rows, build each email, send over the SMTP pool, settle."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from core.db import write_session
from core.mail import PermanentFailure, SmtpPool, TemporaryFailure, build_message, new_message_id
from core.settings import Settings, get_settings
from models import OutboxMessage
from services import emails, outbox

log = logging.getLogger("signoff.delivery")


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    sent_to: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed, "dropped": self.dropped}


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
            queue: asyncio.Queue[OutboxMessage] = asyncio.Queue()
            for message in claimed:
                queue.put_nowait(message)
            workers = [_worker(queue, pool, settings, report) for _ in range(pool.size)]
            await asyncio.gather(*workers)
            if report.retried and report.sent == 0 and report.failed == 0:
                break  # the relay is down: leave the rest for the next run
    return report


async def _worker(
    queue: asyncio.Queue[OutboxMessage], pool: SmtpPool, settings: Settings, report: DeliveryReport
) -> None:
    while not queue.empty():
        await _deliver_one(queue.get_nowait(), pool, settings, report)


async def _deliver_one(
    message: OutboxMessage, pool: SmtpPool, settings: Settings, report: DeliveryReport
) -> None:
    mid = message.id or 0
    with write_session() as session:
        if not outbox.still_relevant(session, message):
            outbox.mark_dropped(session, message_id=mid, reason="reason expired before sending")
            report.dropped += 1
            return
        email = emails.render(session, message)
        if email is None:
            outbox.mark_dropped(session, message_id=mid, reason="recipient no longer active")
            report.dropped += 1
            return
    # Keep the Message-ID across retries so a duplicate (crash after accept) is recognisable.
    smtp_id = message.message_id or new_message_id(settings)
    try:
        await pool.send(build_message(email, settings=settings, message_id=smtp_id))
    except PermanentFailure as exc:
        with write_session() as session:
            outbox.mark_failed(session, message_id=mid, error=str(exc))
        report.failed += 1
        log.warning("outbox %s permanently failed: %s", mid, exc)
        return
    except TemporaryFailure as exc:
        with write_session() as session:
            outbox.mark_retry(session, message=message, error=str(exc), smtp_message_id=smtp_id)
        report.retried += 1
        log.info("outbox %s will be retried: %s", mid, exc)
        return
    with write_session() as session:
        outbox.mark_sent(session, message_id=mid, smtp_message_id=smtp_id)
    report.sent += 1
    report.sent_to.append(f"{email.to_address}: {email.subject}")
