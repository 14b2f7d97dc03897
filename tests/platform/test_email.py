"""Email through the transactional outbox, delivered to a real aiosmtpd server on a free port.

The sponsor's email carries a working link; 4xx replies are retried later (and sent once),
5xx replies fail for good; Message-IDs are stored; user text never reaches a header and is
escaped in the HTML part; an email whose reason has gone is dropped, not sent.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from support.factories import deliver

from core.clock import frozen

HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "mime-version",
    "content-type",
}


def later(**delta) -> datetime:  # type: ignore[no-untyped-def]
    return datetime.now(UTC) + timedelta(**delta)


def path_of(url: str) -> str:
    assert url.startswith("http://testserver/approvals/"), url
    return url.removeprefix("http://testserver")


def one_email_rfc(factory, team):  # type: ignore[no-untyped-def]
    """A major RFC raised by the PM: the only email queued is the sponsor's approval request."""
    rfc = factory.in_status(team, "awaiting_approval", requester=team.manager)
    assert [m.template for m in factory_outbox(rfc)] == ["approval_request"]
    return rfc


def factory_outbox(rfc):  # type: ignore[no-untyped-def]
    from support.factories import Db

    return Db().outbox(rfc_id=rfc.id)


def test_sponsor_gets_a_working_link_and_everyone_hears_the_outcome(
    factory, team, db, client, smtp
):
    rfc = factory.rfc(team)
    factory.submit(rfc, team.officer)
    assert deliver().sent == 1
    (pm_mail,) = smtp.to(team.manager.email)
    assert pm_mail.subject == f"{rfc.ref} needs your impact analysis"
    smtp.reset()
    factory.impact(rfc, team.manager)
    report = deliver()
    assert (report.sent, report.retried, report.failed, report.dropped) == (1, 0, 0, 0)
    (mail,) = smtp.to(team.sponsor.email)
    assert mail.rcpt_tos == [team.sponsor.email]
    assert mail.subject == f"Approval needed: {rfc.ref} (major change)"
    assert team.sponsor.email in mail.to and team.sponsor.name in mail.to
    assert mail.mail_from == "signoff@council.example"
    assert rfc.title in mail.text and rfc.ref in mail.html
    link = mail.link()
    assert link in mail.html  # the same link in both parts

    (row,) = db.outbox(rfc_id=rfc.id, template="approval_request")
    assert (row.status, row.attempts, row.last_error) == ("sent", 0, None)
    assert row.message_id == mail.message_id and row.sent_at is not None

    page = client.get(path_of(link))
    assert page.status_code == 200
    assert f"Approve or reject {rfc.ref}" in page.text
    done = client.post(path_of(link), data={"decision": "approve", "reason": "Go ahead."})
    assert done.status_code == 200, done.text
    assert f"{rfc.ref} approved" in done.text
    decided = db.rfc(rfc.id)
    assert (decided.status, decided.decided_by_id, decided.decision_reason) == (
        "approved",
        team.sponsor.id,
        "Go ahead.",
    )
    (approve,) = db.audit(rfc.id, action="approve")
    assert (approve.outcome, approve.actor_id, approve.detail) == (
        "ok",
        team.sponsor.id,
        "via emailed link",
    )
    assert approve.actor_address == "testclient"

    smtp.reset()
    report = deliver()
    assert report.sent == 3
    outcome = smtp.messages
    assert sorted(r for m in outcome for r in m.rcpt_tos) == sorted(
        [team.officer.email, team.manager.email, team.sponsor.email]
    )
    assert {m.subject for m in outcome} == {f"{rfc.ref} has been approved"}
    assert all("Go ahead." in m.text and team.sponsor.name in m.text for m in outcome)

    smtp.reset()
    assert deliver().sent == 0
    with frozen(later(days=3)):
        assert deliver().sent == 0
    assert smtp.messages == []


def test_rejection_email_gives_the_reason(factory, team, db, smtp):
    rfc = factory.in_status(team, "awaiting_approval", major=False)
    factory.decide(rfc, team.manager, "reject", reason="No budget this year.")
    smtp.reset()
    deliver()
    told = {r: m for m in smtp.messages for r in m.rcpt_tos if "rejected" in m.subject}
    assert set(told) == {team.officer.email, team.manager.email, team.sponsor.email}
    assert all("No budget this year." in m.text for m in told.values())


@pytest.mark.parametrize(
    ("stage", "code"), [("rcpt", 451), ("data", 451), ("data", 421), ("rcpt", 450), ("data", 452)]
)
def test_4xx_is_retried_on_a_later_run_and_sent_once(factory, team, db, smtp, stage, code):
    rfc = one_email_rfc(factory, team)
    smtp.fail_next(1, code, stage=stage)
    report = deliver()
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    assert smtp.messages == [] and [c for c, _ in smtp.refused] == [code]
    (row,) = db.outbox(rfc_id=rfc.id)
    assert (row.status, row.attempts) == ("queued", 1)
    assert str(code) in row.last_error
    assert row.next_attempt_at > datetime.now(UTC)
    first_message_id = row.message_id
    assert first_message_id and first_message_id.startswith("<")

    assert deliver().sent == 0  # not due yet
    assert smtp.messages == []

    with frozen(row.next_attempt_at + timedelta(seconds=1)):
        report = deliver()
    assert report.sent == 1
    (mail,) = smtp.messages
    assert mail.rcpt_tos == [team.sponsor.email]
    assert mail.message_id == first_message_id  # the same Message-ID across retries
    (row,) = db.outbox(rfc_id=rfc.id)
    assert (row.status, row.attempts, row.message_id, row.last_error) == (
        "sent",
        1,
        first_message_id,
        None,
    )

    with frozen(later(days=1)):
        assert deliver().sent == 0
    assert len(smtp.messages) == 1


def test_repeated_4xx_gives_up_after_the_limit(factory, team, db, smtp, monkeypatch):
    from core.settings import reset_settings_cache

    monkeypatch.setenv("SIGNOFF_OUTBOX_MAX_ATTEMPTS", "3")
    reset_settings_cache()
    rfc = one_email_rfc(factory, team)
    smtp.fail_next(10, 451)
    at = datetime.now(UTC)
    for attempt in (1, 2, 3):
        with frozen(at):
            report = deliver()
        assert report.retried + report.failed == 1
        (row,) = db.outbox(rfc_id=rfc.id)
        assert row.attempts == attempt
        at = row.next_attempt_at + timedelta(seconds=1)
    assert row.status == "failed" and row.last_error.startswith("gave up after 3 attempts")
    with frozen(later(days=30)):
        assert deliver().sent == 0
    assert smtp.messages == [] and len(smtp.refused) == 3


@pytest.mark.parametrize(("stage", "code"), [("rcpt", 550), ("data", 550), ("data", 554)])
def test_5xx_fails_for_good_and_is_not_retried(factory, team, db, smtp, stage, code):
    rfc = one_email_rfc(factory, team)
    smtp.fail_next(1, code, stage=stage)
    report = deliver()
    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    (row,) = db.outbox(rfc_id=rfc.id)
    assert row.status == "failed" and row.last_error.startswith(str(code))
    assert row.sent_at is None
    with frozen(later(days=2)):
        assert deliver().sent == 0
    assert smtp.messages == [] and len(smtp.refused) == 1
    (again,) = db.outbox(rfc_id=rfc.id)
    assert (again.status, again.attempts, again.last_error) == (
        "failed",
        row.attempts,
        row.last_error,
    )


def test_two_deliverers_at_once_send_each_message_once(factory, team, db, smtp):
    rfcs = [factory.in_status(team, "awaiting_approval") for _ in range(4)]
    queued = db.outbox()
    assert len(queued) == 8
    barrier = threading.Barrier(2)
    reports = []

    def run() -> None:
        barrier.wait()
        reports.append(deliver())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # Each RFC queued "needs your impact analysis" (stale by now: dropped) and an approval request.
    assert (sum(r.sent for r in reports), sum(r.dropped for r in reports)) == (4, 4)
    ids = [m.message_id for m in smtp.messages]
    assert len(ids) == 4 and len(set(ids)) == 4
    sent = [m for m in db.outbox() if m.status == "sent"]
    assert {m.message_id for m in sent} == set(ids)
    assert {m.subject_id for m in sent} == {r.id for r in rfcs}
    assert sorted(m.status for m in db.outbox()) == ["dropped"] * 4 + ["sent"] * 4


def test_header_injection_in_a_name_never_adds_a_header(factory, db, smtp):
    """Names with line breaks are refused at the door; should one be stored anyway (old data,
    a manual fix in the database), the email still gets no extra header."""
    from sqlalchemy import update

    from core.db import write_session
    from models import Person

    evil = factory.person("Eve Sponsor")
    with write_session() as s:
        s.execute(
            update(Person)
            .where(Person.id == evil.id)
            .values(name="Eve Sponsor\r\nBcc: victim@evil.example\r\nX-Injected: yes")
        )
    team = factory.team(sponsor=evil)
    rfc = one_email_rfc(factory, team)
    assert deliver().sent == 1
    (mail,) = smtp.messages
    assert mail.rcpt_tos == [evil.email]
    names = {k.lower() for k in mail.message.keys()}
    assert names == HEADERS, names
    assert b"\nbcc:" not in mail.header_block.lower()
    assert b"\nx-injected:" not in mail.header_block.lower()
    assert len(mail.message.get_all("To")) == 1
    assert mail.message["To"].addresses[0].addr_spec == evil.email
    assert rfc.ref in mail.subject


def test_header_injection_through_a_stored_ref_never_adds_a_header(factory, team, db, smtp):
    """Codes with control characters are refused at the door (API tests); should one reach an
    RFC's ref anyway (old data, a manual fix in the database), the subject stays one header."""
    from sqlalchemy import update

    from core.db import write_session
    from models.change_control import Rfc

    rfc = one_email_rfc(factory, team)
    with write_session() as session:
        session.execute(update(Rfc).where(Rfc.id == rfc.id).values(ref="X\r\nBcc: v@e.example"))
    assert deliver().sent == 1
    (mail,) = smtp.messages
    assert mail.rcpt_tos == [team.sponsor.email]
    assert {k.lower() for k in mail.message.keys()} == HEADERS
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert "Bcc" in mail.subject  # kept as harmless text on the one subject line


def test_html_part_escapes_user_text(factory, team, db, smtp):
    script = "<script>alert('x')</script>"
    rfc = factory.rfc(
        team,
        requester=team.manager,
        title="Title <b>bold</b> & co",
        description=script,
        expected_benefits=script,
    )
    factory.submit(rfc, team.manager)
    factory.impact(rfc, team.manager, recommendation=script, products_affected=script)
    assert deliver().sent == 1
    (mail,) = smtp.messages
    assert "<script>" not in mail.html and "&lt;script&gt;alert(" in mail.html
    assert "<b>bold</b>" not in mail.html and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in mail.html
    assert script in mail.text  # plain text carries it as typed


def test_withdrawn_before_delivery_drops_the_approval_request(factory, team, db, smtp):
    rfc = one_email_rfc(factory, team)
    factory.withdraw(rfc, team.manager)
    report = deliver()
    assert report.dropped == 1
    (request,) = db.outbox(rfc_id=rfc.id, template="approval_request")
    assert request.status == "dropped" and request.sent_at is None
    assert "expired" in request.last_error
    subjects = [m.subject for m in smtp.to(team.sponsor.email)]
    assert subjects == [f"{rfc.ref} has been withdrawn"]


def test_decided_before_delivery_drops_the_approval_request(factory, team, db, smtp):
    rfc = one_email_rfc(factory, team)
    factory.decide(rfc, team.sponsor, "approve")
    deliver()
    (request,) = db.outbox(rfc_id=rfc.id, template="approval_request")
    assert request.status == "dropped"
    assert not [m for m in smtp.messages if m.subject.startswith("Approval needed")]
    assert {m.subject for m in smtp.messages} == {f"{rfc.ref} has been approved"}


def test_edited_before_delivery_sends_only_the_current_link(factory, team, db, smtp, client):
    rfc = one_email_rfc(factory, team)
    factory.edit(rfc, team.manager, description="Clarified before the email went out.")
    report = deliver()
    assert (report.sent, report.dropped) == (1, 1)
    (mail,) = smtp.messages
    assert "Clarified before the email went out." in mail.text
    assert client.get(path_of(mail.link())).status_code == 200
    old, new = db.outbox(rfc_id=rfc.id, template="approval_request")
    assert (old.status, new.status) == ("dropped", "sent")


def test_relay_down_is_retried_and_sent_when_it_is_back(factory, team, db, smtp, monkeypatch):
    from support.smtp_recorder import free_port

    from core.settings import reset_settings_cache

    rfc = one_email_rfc(factory, team)
    monkeypatch.setenv("SIGNOFF_SMTP_PORT", str(free_port()))  # nothing listens there
    reset_settings_cache()
    report = deliver()
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    (row,) = db.outbox(rfc_id=rfc.id)
    assert (row.status, row.attempts) == ("queued", 1) and row.last_error
    monkeypatch.setenv("SIGNOFF_SMTP_PORT", str(smtp.port))
    reset_settings_cache()
    with frozen(row.next_attempt_at + timedelta(seconds=1)):
        assert deliver().sent == 1
    (mail,) = smtp.messages
    assert mail.message_id == row.message_id


def test_non_ascii_names_are_encoded_not_mangled(factory, db, smtp):
    sponsor = factory.person("Siân Ó'Brien-Łukasz")
    team = factory.team(sponsor=sponsor)
    one_email_rfc(factory, team)
    assert deliver().sent == 1
    (mail,) = smtp.messages
    assert mail.message["To"].addresses[0].display_name == "Siân Ó'Brien-Łukasz"
    assert "Dear Siân Ó'Brien-Łukasz" in mail.text
    assert all(b < 128 for b in mail.header_block)  # headers on the wire stay 7-bit


def test_inactive_recipient_is_dropped(factory, team, db, smtp):
    from sqlalchemy import update

    from core.db import write_session
    from models import Person

    rfc = one_email_rfc(factory, team)
    with write_session() as s:
        s.execute(update(Person).where(Person.id == team.sponsor.id).values(active=False))
    report = deliver()
    assert (report.sent, report.dropped) == (0, 1)
    (row,) = db.outbox(rfc_id=rfc.id)
    assert row.status == "dropped" and "no longer active" in row.last_error
    assert smtp.messages == []


def test_pm_is_asked_to_decide_a_minor_change_edited_by_the_requester(factory, team, db, smtp):
    rfc = factory.in_status(team, "awaiting_approval", major=False)
    assert deliver().sent == 0  # the PM recorded the minor impact: no email to themselves
    factory.edit(rfc, team.officer, description="Smaller than first thought.")
    assert deliver().sent == 1
    (mail,) = smtp.messages
    assert mail.rcpt_tos == [team.manager.email]
    assert mail.subject == f"{rfc.ref} is a minor change for you to decide"
    assert mail.links() == []  # the PM decides in the app, not by an emailed link


def test_a_message_sent_again_after_a_crash_keeps_its_message_id(factory, team, db, smtp):
    """A crash after the relay accepted a message but before the result was written leaves the
    row claimed; once the lease runs out it is sent again, as the same message."""
    from sqlalchemy import update

    from core.db import write_session
    from models import OutboxMessage

    rfc = one_email_rfc(factory, team)
    assert deliver().sent == 1
    (row,) = db.outbox(rfc_id=rfc.id)
    with write_session() as s:  # the row as the crashed deliverer left it
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(
                status="sending",
                claim_id="crashed",
                claimed_until=later(minutes=5),
                message_id=None,
                sent_at=None,
            )
        )
    assert deliver().sent == 0  # its lease has not run out yet
    with frozen(later(minutes=6)):
        assert deliver().sent == 1
    first, second = smtp.messages
    assert first.message_id == second.message_id == row.message_id
    (again,) = db.outbox(rfc_id=rfc.id)
    assert (again.status, again.message_id) == ("sent", row.message_id)


def test_an_address_that_is_not_ascii_is_delivered_with_smtputf8(factory, db, smtp):
    sponsor = factory.person("Józef Nowak", email="józef.nowak@council.example")
    rfc = one_email_rfc(factory, factory.team(sponsor=sponsor))
    assert deliver().sent == 1
    (mail,) = smtp.messages
    assert mail.rcpt_tos == ["józef.nowak@council.example"]
    assert "józef.nowak@council.example".encode() in mail.header_block
    assert rfc.ref in mail.subject and "Dear Józef Nowak" in mail.text


def test_a_relay_without_smtputf8_fails_such_an_address_for_good_with_its_reason(
    factory, db, smtp, monkeypatch
):
    from support.smtp_recorder import SmtpRecorder

    from core.settings import reset_settings_cache

    sponsor = factory.person("Józef Nowak", email="józef.nowak@council.example")
    rfc = one_email_rfc(factory, factory.team(sponsor=sponsor))
    old_relay = SmtpRecorder(smtputf8=False).start()
    try:
        monkeypatch.setenv("SIGNOFF_SMTP_PORT", str(old_relay.port))
        reset_settings_cache()
        report = deliver()
        assert (report.sent, report.retried, report.failed) == (0, 0, 1)
        assert old_relay.messages == []
    finally:
        old_relay.stop()
    (row,) = db.outbox(rfc_id=rfc.id)
    assert row.status == "failed"
    assert row.last_error == "the relay cannot send this: SMTPUTF8 is not supported by this server"


def test_a_backlog_goes_out_in_batches_each_message_once(factory, team, db, smtp):
    import asyncio

    from core.db import write_session
    from services.platform import outbox
    from services.platform.delivery import SETTLE_EVERY, deliver_due

    rfc = factory.in_status(team, "approved")
    deliver()
    smtp.reset()
    backlog = 3 * SETTLE_EVERY + 7  # several settles per batch, and a part-filled last one
    with write_session() as s:
        for i in range(backlog):
            outbox.queue(
                s,
                template="rfc_decided",
                to_person_id=team.officer.id or 0,
                key=f"backlog:{i}",
                subject_type="rfc",
                subject_id=rfc.id,
            )
    report = asyncio.run(deliver_due(batch_size=SETTLE_EVERY * 2 + 1))
    assert (report.sent, report.retried, report.failed, report.dropped) == (backlog, 0, 0, 0)
    rows = [r for r in db.outbox(rfc_id=rfc.id) if r.idempotency_key.startswith("backlog:")]
    assert {r.status for r in rows} == {"sent"} and len(rows) == backlog
    assert sorted(m.message_id for m in smtp.messages) == sorted(r.message_id for r in rows)
    assert len({r.message_id for r in rows}) == backlog
    assert deliver().sent == 0


@pytest.mark.parametrize("key", ["rfc_decided:1:officer", "k" * 500])
def test_queuing_the_same_key_again_adds_nothing(factory, team, db, key):
    from core.db import write_session
    from services.platform import outbox

    before = len(db.outbox())
    for _ in range(2):
        with write_session() as s:
            outbox.queue(s, template="sign_in", to_person_id=team.officer.id or 0, key=key)
            outbox.queue(s, template="sign_in", to_person_id=team.officer.id or 0, key=key)
    rows = db.outbox()
    assert len(rows) == before + 1
    assert rows[-1].idempotency_key == key[:200]


def test_an_email_that_cannot_be_built_fails_with_its_reason_and_the_rest_go(
    factory, team, db, smtp
):
    """A template missing or broken in a release: that email is failed for an administrator to
    see (and re-send once fixed); the others in the batch are sent and recorded."""
    from core.db import write_session
    from services.platform import outbox

    rfc = one_email_rfc(factory, team)
    with write_session() as s:
        outbox.queue(
            s,
            template="no_such_template",
            to_person_id=team.officer.id or 0,
            key="broken",
            subject_type="rfc",
            subject_id=rfc.id,
        )
    report = deliver()
    assert (report.sent, report.failed) == (1, 1)
    (broken,) = [r for r in db.outbox() if r.idempotency_key == "broken"]
    assert broken.status == "failed"
    assert "no_such_template" in broken.last_error
    assert [m.rcpt_tos for m in smtp.messages] == [[team.sponsor.email]]
    assert deliver().sent == 0


def test_a_hostile_rejection_reason_is_escaped_in_the_decision_email(factory, team, db, smtp):
    reason = "<script>alert('x')</script><a href=\"https://evil.example\">Re-submit here</a>"
    rfc = factory.in_status(team, "awaiting_approval", major=False)
    factory.decide(rfc, team.manager, "reject", reason=reason)
    smtp.reset()
    deliver()
    told = [m for m in smtp.messages if "rejected" in m.subject]
    assert {r for m in told for r in m.rcpt_tos} == {
        team.officer.email,
        team.manager.email,
        team.sponsor.email,
    }
    for mail in told:
        assert "<script>" not in mail.html and 'evil.example">' not in mail.html
        assert "Reason: &lt;script&gt;alert(" in mail.html
        assert "&lt;a href=&#34;https://evil.example&#34;&gt;" in mail.html
        assert reason in mail.text  # plain text carries it as typed


@pytest.mark.parametrize("major", [True, False])
def test_a_request_for_a_decision_withdrawn_before_it_is_sent_is_not_sent(
    factory, team, db, smtp, major
):
    """Major: the sponsor's "Approval needed" with its link. Minor, after the requester's edit
    sends it back for decision: the PM's "decision needed". Either is dropped at sending time
    once the RFC has been withdrawn, and the person is told of the withdrawal instead."""
    rfc = factory.in_status(team, "awaiting_approval", major=major)
    deliver()
    smtp.reset()
    rfc = factory.edit(rfc, team.officer)  # a new version: a new request for a decision
    asked = team.sponsor if major else team.manager
    waiting = [m for m in db.outbox() if m.status == "queued" and m.to_person_id == asked.id]
    assert [m.template for m in waiting] == ["approval_request" if major else "decision_needed"]
    factory.withdraw(rfc, team.officer)
    deliver()
    subjects = [m.subject for m in smtp.to(asked.email)]
    assert subjects and all("withdrawn" in s.lower() for s in subjects), subjects
    (dropped,) = [m for m in db.outbox() if m.id == waiting[0].id]
    assert dropped.status == "dropped"
