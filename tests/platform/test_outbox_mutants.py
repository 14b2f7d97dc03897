"""Outbox rules found unguarded by mutation testing of services/platform/outbox.py.

A chase digest carries fresh links. If it could not be sent before its link expired (the relay
was down for a fortnight, say), it is not sent at all: a reminder whose only link is dead would
send the reader to "This link is not valid". Until the link's last second it is sent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support.factories import deliver

from core import clock
from core.db import read_session, write_session
from models import ActionToken, OutboxMessage
from services.platform.chasing import DIGEST
from services.platform.chasing import run as chase


def _at(day: str, hhmm: str = "09:00") -> datetime:
    local = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=clock.local_tz())
    return local.astimezone(UTC)


@pytest.mark.parametrize("late", [False, True], ids=["last_second", "expired"])
def test_a_reminder_whose_link_expired_before_it_could_be_sent_is_not_sent(
    factory, team, smtp, late
):
    with clock.frozen(_at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "awaiting_approval")
        deliver()  # the approval request
    smtp.reset()
    with clock.frozen(_at("2010-03-09")), write_session() as session:
        chase(session)  # the sponsor's first reminder, with a fresh link, is queued
    with read_session() as s:
        (digest,) = s.query(OutboxMessage).filter_by(template=DIGEST).all()
        (item,) = digest.context["items"]
        link = s.get(ActionToken, item["action_token_id"])
    assert link is not None and link.person_id == team.sponsor.id
    expires = link.expires_at.replace(tzinfo=UTC)
    with clock.frozen(expires if late else expires - timedelta(seconds=1)):
        deliver()  # the relay is back only now; the RFC still awaits the sponsor's decision
    reminders = [m for m in smtp.to(team.sponsor.email) if rfc.ref in m.subject]
    assert len(reminders) == (0 if late else 1), [m.subject for m in smtp.messages]
    with read_session() as s:
        status = s.get(OutboxMessage, digest.id).status
    assert status == ("dropped" if late else "sent")
