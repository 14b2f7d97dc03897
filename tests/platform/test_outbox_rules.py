"""The outbox's own rules, found untested by mutation testing: which rows a deliverer claims and
for how long, how long a temporary failure waits, what an administrator's re-send touches.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from core.clock import frozen
from core.db import read_session, write_session
from models import OutboxMessage
from services.platform import outbox

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def three(factory, team, db):  # type: ignore[no-untyped-def]
    """Three queued emails, due since T0, oldest first."""
    with frozen(T0 - timedelta(minutes=1)):
        for _ in range(3):
            factory.submit(factory.rfc(team), team.officer)
    rows = db.outbox()
    assert len(rows) == 3 and all(r.status == "queued" for r in rows)
    return [r.id for r in rows]


def claim(limit: int = 10, at: datetime = T0) -> list[int]:
    with frozen(at), write_session() as s:
        return [m.id for m in outbox.claim_due(s, limit=limit)]


def row(message_id: int) -> OutboxMessage:
    with read_session() as s:
        found = s.get(OutboxMessage, message_id)
        assert found is not None
        return found


def test_a_deliverer_claims_the_oldest_due_messages_up_to_its_limit(three, backend, request):
    # On PostgreSQL an UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)
    # re-ran its subquery, skipped the rows it had just claimed and took later ones:
    # claim_due(limit=2) claimed all three, so one deliverer could take the whole backlog and
    # outlive its lease. The locking select is now a MATERIALIZED CTE, run once.
    assert claim(limit=2) == three[:2]
    assert claim(limit=2) == three[2:]  # the first two are taken
    assert claim(limit=2) == []


def test_a_claim_lapses_only_after_its_lease_so_a_dead_deliverer_delays_mail_not_loses_it(three):
    assert claim() == three
    assert row(three[0]).claimed_until.replace(tzinfo=UTC) == T0 + outbox.LEASE
    assert claim(at=T0 + outbox.LEASE) == []  # still the first deliverer's
    assert claim(at=T0 + outbox.LEASE + timedelta(seconds=1)) == three


@pytest.mark.parametrize(("attempts", "base"), [(0, 30.0), (3, 240.0), (12, 3600.0)])
def test_a_temporary_failure_waits_longer_each_time_up_to_an_hour(
    three, monkeypatch, attempts, base
):
    from core.settings import get_settings

    monkeypatch.setenv("SIGNOFF_OUTBOX_MAX_ATTEMPTS", "20")
    get_settings.cache_clear()
    with write_session() as s:
        s.execute(update(OutboxMessage).values(attempts=attempts))
    with frozen(T0), write_session() as s:
        message = outbox.claim_due(s, limit=1)[0]
        random.seed(7)
        jitter = random.uniform(0.8, 1.2)
        random.seed(7)
        outbox.settle(s, [outbox.retry(message, "451 try later", "<id@x>")])
    after = row(message.id)
    assert (after.status, after.attempts) == ("queued", attempts + 1)
    waited = after.next_attempt_at.replace(tzinfo=UTC) - T0
    assert waited == timedelta(seconds=base * jitter)


def test_errors_are_kept_to_a_thousand_characters(three):
    with frozen(T0), write_session() as s:
        first, second, _ = outbox.claim_due(s, limit=3)
        outbox.settle(s, [outbox.failed(first, "5" * 3000)])
        second.attempts = 7  # the last attempt (OUTBOX_MAX_ATTEMPTS is 8)
        outbox.settle(s, [outbox.retry(second, "4" * 3000, "")])
    assert row(first.id).last_error == "5" * 1000
    gave_up = row(second.id)
    assert gave_up.status == "failed" and len(gave_up.last_error) == 1000
    assert gave_up.last_error.startswith("gave up after 8 attempts: 444")


def test_re_sending_touches_only_the_failed_message_asked_for(client, factory, db, three):
    with write_session() as s:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(three[:2]))  # type: ignore[union-attr]
            .values(status="failed", attempts=8, last_error="550 no such user")
        )
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == three[2])
            .values(status="sent", attempts=1)
        )
    client.cookies.set("signoff_session", factory.sign_in(factory.admin()))
    token = re.search(r'name="csrf_token" value="([^"]*)"', client.get("/sign-out").text).group(1)

    r = client.post(
        f"/admin/outbox/{three[0]}/requeue", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    assert (row(three[0]).status, row(three[0]).attempts) == ("queued", 0)
    assert (row(three[1]).status, row(three[1]).attempts) == ("failed", 8)
    assert row(three[2]).status == "sent"

    before = db.snapshot()
    client.post(f"/admin/outbox/{three[2]}/requeue", data={"csrf_token": token})
    assert db.snapshot() == before  # a sent email is never sent again
    with write_session() as s:
        assert outbox.requeue(s, message_id=three[1]) is True
        assert outbox.requeue(s, message_id=three[2]) is False


def test_the_outbox_page_lists_newest_first_by_status_and_pages_on(client, factory, db, three):
    with write_session() as s:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == three[1])
            .values(status="failed", last_error="550 no such user")
        )
    with read_session() as s:
        assert [m.id for m in outbox.list_messages(s)] == three[::-1]
        assert [m.id for m in outbox.list_messages(s, status="failed")] == [three[1]]
        assert [m.id for m in outbox.list_messages(s, status="queued")] == [three[2], three[0]]
        assert [m.id for m in outbox.list_messages(s, before_id=three[2])] == three[1::-1]
        assert [m.id for m in outbox.list_messages(s, limit=1)] == [three[2]]
    client.cookies.set("signoff_session", factory.sign_in(factory.admin()))
    page = client.get("/admin/outbox?status=failed")
    assert page.status_code == 200 and "550 no such user" in page.text
    # Each email by name, in words (not "Rfc submitted"), the same on its send-again button.
    assert ">RFC submitted</td>" in page.text
    assert 'aria-label="Send the RFC submitted email to ' in page.text


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("rfc_decided", "RFC decided"),
        ("sign_in", "Sign in"),
        ("chase_digest", "Chase digest"),
        ("performance/figures_late_summary", "Figures late summary"),
        ("planning/planning_late_copy", "Planning late copy"),
        ("plan_signature_request", "Plan signature request"),
    ],
)
def test_the_outbox_names_each_email_in_words(template, shown):
    from core.templating import email_name

    assert email_name(template) == shown


def test_a_deliverer_whose_lease_ran_out_does_not_overwrite_the_next_ones_claim(three):
    with frozen(T0), write_session() as s:
        stalled = outbox.claim_due(s, limit=1)[0]
    later = T0 + outbox.LEASE + timedelta(seconds=1)
    with frozen(later), write_session() as s:
        again = outbox.claim_due(s, limit=1)[0]
    assert again.id == stalled.id and again.claim_id != stalled.claim_id
    with frozen(later), write_session() as s:  # the first deliverer wakes up and reports
        outbox.settle(s, [outbox.failed(stalled, "550 from the stalled deliverer")])
    after = row(stalled.id)
    assert (after.status, after.claim_id, after.last_error) == ("sending", again.claim_id, None)
    with frozen(later), write_session() as s:
        outbox.settle(s, [outbox.sent(again, "<sent-by-the-second@x>")])
    assert (row(stalled.id).status, row(stalled.id).message_id) == (
        "sent",
        "<sent-by-the-second@x>",
    )


def test_the_outbox_page_says_when_an_email_was_sent_and_when_a_retried_one_is_tried_next(
    client, factory, three
):
    """An administrator reading the Outbox sees when the relay took each sent email, and for
    one the relay turned away for now ("451 try later") how many tries failed and when the
    next is; an email not yet tried shows neither."""
    with frozen(T0), write_session() as s:
        claimed = {m.id: m for m in outbox.claim_due(s, limit=2)}
        outbox.settle(
            s,
            [
                outbox.sent(claimed[three[0]], "<a@signoff>"),
                outbox.retry(claimed[three[1]], "451 try later", "<b@signoff>"),
            ],
        )
    client.cookies.set("signoff_session", factory.sign_in(factory.admin()))
    page = client.get("/admin/outbox").text

    def cells(label: str) -> list[str]:
        found = re.findall(rf'data-label="{label}">(.*?)</td>', page, flags=re.S)
        return [re.sub(r"\s+", " ", c).strip() for c in found]

    # The three, oldest last: never tried, retried, sent (09:00 UTC on 2 March is 09:00 in
    # London); anything newer (the administrator's own sign-in) is listed above them.
    assert cells("Sent")[-3:] == ["", "Next try 2 March 2026 at 09:00", "2 March 2026 at 09:00"]
    assert cells("Failed tries")[-3:] == ["0", "1", "0"]
    assert cells("Reason")[-2] == "451 try later"
