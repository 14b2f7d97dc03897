"""The sponsor's emailed link /approvals/{token}: look, decide once, never by accident.

GET and HEAD change nothing (mail scanners fetch links first); a used link shows the decision
with 410; an expired link looks exactly like an unknown one (404) and offers a resend that only
ever goes to the registered address; an edit makes old links 409 and emails a fresh one; two
decisions racing on one link: exactly one wins.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from support.factories import MINOR, deliver

from core.clock import frozen

UNKNOWN = "A" * 43  # the shape of a real token, but no such token


def later(**delta) -> datetime:  # type: ignore[no-untyped-def]
    return datetime.now(UTC) + timedelta(**delta)


def link_of(db, rfc) -> str:  # type: ignore[no-untyped-def]
    """The path of the live approval link (as the sponsor's email carries it)."""
    from support.factories import Factory

    live = [t for t in db.tokens(rfc.id) if t.revoked_at is None and t.used_at is None]
    assert len(live) == 1, live
    return "/approvals/" + Factory.raw_link(live[0])


def emailed_link(smtp, person) -> str:  # type: ignore[no-untyped-def]
    mails = [m for m in smtp.to(person.email) if m.subject.startswith("Approval needed")]
    assert mails, f"no approval email to {person.email}"
    return mails[-1].link().removeprefix("http://testserver")


def normalised(html: str, token: str) -> str:
    html = html.replace(token, "TOKEN")
    html = re.sub(r'nonce="[^"]*"', 'nonce=""', html)
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', html)


def without_audit(snapshot: dict) -> dict:
    return {k: v for k, v in snapshot.items() if k != "audit_event"}


@pytest.fixture
def awaiting(factory, team):  # type: ignore[no-untyped-def]
    return factory.in_status(team, "awaiting_approval")


# --- looking changes nothing -------------------------------------------------------------------


@pytest.mark.parametrize("state", ["live", "used", "changed", "expired", "unknown", "junk"])
def test_get_and_head_change_nothing(client, factory, team, db, awaiting, state):
    path = link_of(db, awaiting)
    expected = {
        "live": 200,
        "used": 410,
        "changed": 409,
        "expired": 404,
        "unknown": 404,
        "junk": 404,
    }[state]
    if state == "used":
        assert client.post(path, data={"decision": "approve"}).status_code == 200
    elif state == "changed":
        factory.edit(awaiting, team.officer, description="Edited after the email.")
    elif state == "unknown":
        path = "/approvals/" + UNKNOWN
    elif state == "junk":
        path = "/approvals/' OR 1=1 --"
    at = later(days=15) if state == "expired" else datetime.now(UTC)
    snapshot = db.snapshot()
    with frozen(at):
        for _ in range(2):
            got = client.get(path)
            assert got.status_code == expected, got.text
            head = client.head(path)
            assert head.status_code == expected
            assert head.content == b""
            assert got.headers["cache-control"] == "no-store"
            assert got.headers["referrer-policy"] == "no-referrer"
    assert db.snapshot() == snapshot


def test_the_live_page_shows_the_rfc_and_a_form_that_posts(client, db, awaiting, team):
    page = client.get(link_of(db, awaiting))
    assert page.status_code == 200
    assert awaiting.ref in page.text and awaiting.title in page.text
    assert team.sponsor.name in page.text
    assert 'method="post"' in page.text.lower()
    assert "Opening this page has changed nothing" in page.text


# --- deciding once -----------------------------------------------------------------------------


def test_replay_after_use_is_410_and_shows_the_decision(client, factory, team, db, awaiting):
    path = link_of(db, awaiting)
    done = client.post(path, data={"decision": "reject", "reason": "Not in this stage."})
    assert done.status_code == 200, done.text
    assert db.rfc(awaiting.id).status == "rejected"
    snapshot, counts = db.snapshot(), db.counts()
    for decision in ("approve", "reject"):
        again = client.post(path, data={"decision": decision, "reason": "Second go."})
        assert again.status_code == 410, again.text
        assert "has already been decided" in again.text
        assert "Rejected" in again.text or "rejected" in again.text
        assert team.sponsor.name in again.text
        assert 'name="decision"' not in again.text  # no form to decide again
    assert without_audit(db.snapshot()) == without_audit(snapshot)
    assert db.counts()["audit_refused"] == counts["audit_refused"] + 2
    refused = db.audit(awaiting.id, outcome="refused")
    assert [e.action for e in refused] == ["approve", "reject"]
    shown = client.get(path)
    assert shown.status_code == 410 and "has already been decided" in shown.text
    row = db.rfc(awaiting.id)
    assert (row.status, row.decision_reason, row.decided_by_id) == (
        "rejected",
        "Not in this stage.",
        team.sponsor.id,
    )


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"decision": "maybe"},
        {"decision": "reject"},
        {"decision": "reject", "reason": "   "},
        {"decision": "approve", "reason": "r" * 10_001},
    ],
)
def test_invalid_decision_form_is_422_and_decides_nothing(client, db, awaiting, form):
    path = link_of(db, awaiting)
    snapshot = db.snapshot()
    r = client.post(path, data=form)
    assert r.status_code == 422, r.text
    assert "There is a problem" in r.text or "govuk-error" in r.text
    assert db.snapshot() == snapshot
    assert client.post(path, data={"decision": "approve"}).status_code == 200


def test_decision_by_link_on_a_decided_rfc_is_410(client, factory, team, db, awaiting):
    """The sponsor decided in the app (API); the emailed link then shows that decision."""
    path = link_of(db, awaiting)
    factory.decide(awaiting, team.sponsor, "approve")
    r = client.post(path, data={"decision": "reject", "reason": "Too late."})
    assert r.status_code == 410
    assert db.rfc(awaiting.id).status == "approved"


# --- expiry and resend -------------------------------------------------------------------------


def test_expired_link_looks_like_an_unknown_one_and_resend_goes_only_to_the_sponsor(
    client, factory, team, db, smtp, awaiting
):
    deliver()
    path = emailed_link(smtp, team.sponsor)
    assert path == link_of(db, awaiting)
    raw = path.removeprefix("/approvals/")
    smtp.reset()
    with frozen(later(days=15)):
        expired = client.get(path)
        unknown = client.get("/approvals/" + UNKNOWN)
        assert expired.status_code == unknown.status_code == 404
        assert normalised(expired.text, raw) == normalised(unknown.text, UNKNOWN)
        assert "Send me a new link" in expired.text

        snapshot = db.snapshot()
        decided = client.post(path, data={"decision": "approve"})
        assert decided.status_code == 404
        assert db.snapshot() == snapshot

        answers = []
        for email in ("mallory@evil.example", team.officer.email, team.manager.email, ""):
            answers.append(client.post(path + "/resend", data={"email": email}))
            assert answers[-1].status_code == 200
        unknown_answer = client.post(
            f"/approvals/{UNKNOWN}/resend", data={"email": team.sponsor.email}
        )
        assert db.snapshot() == snapshot
        assert deliver().sent == 0
        assert smtp.messages == []

        right = client.post(path + "/resend", data={"email": f"  {team.sponsor.email.upper()} "})
        assert right.status_code == 200
        assert normalised(right.text, raw) == normalised(answers[0].text, raw)
        assert normalised(unknown_answer.text, UNKNOWN) == normalised(answers[0].text, raw)
        assert deliver().sent == 1
        (mail,) = smtp.messages
        assert mail.rcpt_tos == [team.sponsor.email]
        assert "Here is the new link you asked for" in mail.text
        fresh = mail.link().removeprefix("http://testserver")
        assert fresh != path
        assert client.get(fresh).status_code == 200
        assert client.get(path).status_code == 404  # the old one stays dead
        assert client.post(fresh, data={"decision": "approve"}).status_code == 200
    assert db.rfc(awaiting.id).status == "approved"


@pytest.mark.parametrize("then", ["edited", "decided"])
def test_expired_link_stays_unknown_after_the_rfc_moves_on(
    client, factory, team, db, awaiting, then
):
    path = link_of(db, awaiting)
    raw = path.removeprefix("/approvals/")
    with frozen(later(days=15)):
        assert client.get(path).status_code == 404
        if then == "edited":
            factory.edit(awaiting, team.officer, description="Edited after the link expired.")
        else:
            factory.decide(awaiting, team.sponsor, "approve")
        expired = client.get(path)
        unknown = client.get("/approvals/" + UNKNOWN)
    assert awaiting.title not in expired.text
    assert expired.status_code == 404
    assert normalised(expired.text, raw) == normalised(unknown.text, UNKNOWN)


def test_resend_of_a_live_link_sends_nothing(client, team, db, smtp, awaiting):
    path = link_of(db, awaiting)
    counts = db.counts()
    r = client.post(path + "/resend", data={"email": team.sponsor.email})
    assert r.status_code == 200
    assert db.counts() == counts


def test_resend_of_a_used_link_sends_nothing(client, team, db, awaiting):
    path = link_of(db, awaiting)
    assert client.post(path, data={"decision": "approve"}).status_code == 200
    counts = db.counts()
    with frozen(later(days=20)):
        assert client.post(path + "/resend", data={"email": team.sponsor.email}).status_code == 200
    assert db.counts() == counts


def test_expiry_is_at_fourteen_days(client, db, awaiting):
    path = link_of(db, awaiting)
    token = db.tokens(awaiting.id)[-1]
    assert token.expires_at - token.created_at == timedelta(days=14)
    with frozen(token.expires_at - timedelta(seconds=1)):
        assert client.get(path).status_code == 200
    with frozen(token.expires_at):
        assert client.get(path).status_code == 404
        assert client.post(path, data={"decision": "approve"}).status_code == 404
    assert db.rfc(awaiting.id).status == "awaiting_approval"


# --- wrong version, wrong person ---------------------------------------------------------------


def test_old_version_link_is_409_and_a_fresh_link_is_emailed(
    client, factory, team, db, smtp, awaiting
):
    deliver()
    old = emailed_link(smtp, team.sponsor)
    smtp.reset()
    factory.edit(awaiting, team.officer, description="Now also covers task 2.2.")
    page = client.get(old)
    assert page.status_code == 409
    assert "has changed since this link was sent" in page.text
    counts = db.counts()
    r = client.post(old, data={"decision": "approve"})
    assert r.status_code == 409
    assert "A new link has been emailed to you" in r.text
    after = db.counts()
    assert after == counts | {
        "audit_event": counts["audit_event"] + 1,
        "audit_refused": counts["audit_refused"] + 1,
    }
    assert db.rfc(awaiting.id).status == "awaiting_approval"
    deliver()
    fresh = emailed_link(smtp, team.sponsor)
    assert fresh != old
    (mail,) = smtp.to(team.sponsor.email)
    assert "Now also covers task 2.2." in mail.text
    assert client.get(fresh).status_code == 200
    assert client.post(fresh, data={"decision": "approve"}).status_code == 200
    row = db.rfc(awaiting.id)
    assert row.status == "approved" and row.version == awaiting.version + 2


def test_link_of_a_sponsor_no_longer_asked_decides_nothing(client, factory, team, db, awaiting):
    """The PM re-assessed the change as minor: the sponsor's link no longer decides it."""
    path = link_of(db, awaiting)
    factory.impact(awaiting, team.manager, **MINOR)
    assert db.rfc(awaiting.id).approver_id == team.manager.id
    assert all(t.revoked_at is not None for t in db.tokens(awaiting.id))
    for method in ("get", "post"):
        r = client.request(method, path, data={"decision": "approve"} if method == "post" else None)
        assert r.status_code in (404, 409)
        assert 'name="decision"' not in r.text
    row = db.rfc(awaiting.id)
    assert (row.status, row.decided_by_id) == ("awaiting_approval", None)


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


def test_link_of_a_sponsor_no_longer_asked_does_not_promise_a_new_link(
    client, factory, team, db, smtp, awaiting
):
    path = link_of(db, awaiting)
    factory.impact(awaiting, team.manager, **MINOR)
    deliver()  # the original request is dropped (its link was revoked) and no new one exists
    assert [m for m in smtp.to(team.sponsor.email) if m.subject.startswith("Approval")] == []
    page = client.get(path)
    posted = client.post(path, data={"decision": "approve"})
    assert db.rfc(awaiting.id).status == "awaiting_approval"
    unknown = client.get("/approvals/" + "x" * 43)
    for r in (page, posted):
        assert "has been emailed" not in r.text.lower()  # nothing was sent, so nothing promised
        assert r.status_code == 404
        assert _title(r.text) == _title(unknown.text)  # it looks like any link that is not valid


def test_a_sign_in_token_is_not_an_approval_link(client, factory, team, db, awaiting):
    from sqlmodel import select

    from core.db import read_session
    from models import ActionToken
    from services.platform import people

    factory.call(people.request_sign_in, email=team.sponsor.email)
    with read_session() as s:
        sign_in = s.exec(select(ActionToken).where(ActionToken.purpose == "sign_in")).one()
    path = "/approvals/" + factory.raw_link(sign_in)
    snapshot = db.snapshot()
    assert client.get(path).status_code == 404
    assert client.post(path, data={"decision": "approve"}).status_code == 404
    assert db.snapshot() == snapshot


def test_self_raised_sponsor_change_link_goes_to_the_alternate(client, factory, team, db, smtp):
    rfc = factory.in_status(team, "awaiting_approval", requester=team.sponsor)
    deliver()
    assert not [m for m in smtp.to(team.sponsor.email) if m.subject.startswith("Approval")]
    path = emailed_link(smtp, team.alternate)
    page = client.get(path)
    assert page.status_code == 200 and team.alternate.name in page.text
    assert client.post(path, data={"decision": "approve"}).status_code == 200
    row = db.rfc(rfc.id)
    assert (row.status, row.decided_by_id) == ("approved", team.alternate.id)
    assert row.decided_by_id != row.requester_id


def test_link_of_one_rfc_cannot_touch_another(client, factory, team, db, awaiting):
    other = factory.in_status(team, "awaiting_approval")
    path = link_of(db, awaiting)
    assert client.post(path, data={"decision": "approve"}).status_code == 200
    assert db.rfc(other.id).status == "awaiting_approval"
    assert db.rfc(awaiting.id).status == "approved"


# --- racing decisions --------------------------------------------------------------------------


def race(**calls: Any) -> dict[str, int]:
    """Start the calls at the same moment, each in its own thread; their status codes by name."""
    barrier = threading.Barrier(len(calls))
    codes: dict[str, int] = {}

    def run(name: str, call: Any) -> None:
        barrier.wait()
        codes[name] = call().status_code

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert set(codes) == set(calls), "a racing request did not finish"
    return codes


@pytest.mark.parametrize("decisions", [("approve", "approve"), ("approve", "reject")])
def test_racing_double_post_exactly_one_wins(client, factory, team, db, decisions):
    for _ in range(3):
        rfc = factory.in_status(team, "awaiting_approval")
        path = link_of(db, rfc)
        results = race(
            **{
                f"{d}{i}": partial(client.post, path, data={"decision": d, "reason": f"{d} reason"})
                for i, d in enumerate(decisions)
            }
        )
        codes = sorted(results.values())
        assert codes[0] == 200 and codes[1] in (409, 410), results
        decided = db.audit(rfc.id, outcome="ok")
        decisions_made = [e for e in decided if e.action in ("approve", "reject")]
        assert len(decisions_made) == 1
        row = db.rfc(rfc.id)
        assert row.status == {"approve": "approved", "reject": "rejected"}[decisions_made[0].action]
        assert row.version == rfc.version + 1
        told = [m.to_person_id for m in db.outbox(rfc_id=rfc.id, template="rfc_decided")]
        assert sorted(told) == sorted({team.officer.id, team.manager.id, team.sponsor.id})
        assert len([t for t in db.tokens(rfc.id) if t.used_at is not None]) == 1


def test_racing_link_and_api_decisions_exactly_one_wins(client, factory, team, db):
    """The sponsor clicks the link while deciding in the app: one decision, one 4xx."""
    for _ in range(3):
        rfc = factory.in_status(team, "awaiting_approval")
        codes = race(
            link=partial(client.post, link_of(db, rfc), data={"decision": "approve"}),
            api=partial(
                client.post,
                f"/api/v1/rfcs/{rfc.id}/decision",
                json={"decision": "reject", "reason": "No."},
                headers=factory.auth(team.sponsor),
            ),
        )
        assert sorted(codes.values())[0] == 200, codes
        assert sorted(codes.values())[1] in (409, 410), codes
        made = [e for e in db.audit(rfc.id, outcome="ok") if e.action in ("approve", "reject")]
        assert len(made) == 1


def _lock_waiters(dbname: str) -> int:
    import psycopg
    from support.databases import PG_HOST, PG_PORT, PG_USER

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, autocommit=True
    ) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (dbname,),
        ).fetchone()[0]


def _wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("other", ["decision", "withdraw"])
def test_link_and_app_in_lock_step_do_not_deadlock(client, factory, team, db, db_url, other):
    """Deterministic interleaving on PostgreSQL: both requests are in flight at once.

    The test holds the RFC's open step row, so the app's request stops after updating
    the RFC (before it revokes the links); the link request then comes in and waits; then the
    test lets go. Once this deadlocked (token-then-rfc against rfc-then-token) with a 500.
    """
    import psycopg
    from support.databases import PG_HOST, PG_PORT, PG_USER

    dbname = db_url.rsplit("/", 1)[1]
    rfc = factory.in_status(team, "awaiting_approval")
    path = link_of(db, rfc)
    headers = factory.auth(team.sponsor if other == "decision" else team.officer)
    codes: dict[str, int] = {}

    def by_app() -> None:
        if other == "decision":
            r = client.post(
                f"/api/v1/rfcs/{rfc.id}/decision",
                json={"decision": "reject", "reason": "No."},
                headers=headers,
            )
        else:
            r = client.post(f"/api/v1/rfcs/{rfc.id}/withdraw", headers=headers)
        codes["app"] = r.status_code

    def by_link() -> None:
        codes["link"] = client.post(path, data={"decision": "approve"}).status_code

    holder = psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname)
    try:
        holder.execute(
            "SELECT id FROM step WHERE subject_type = 'rfc' AND subject_id = %s "
            "AND closed_at IS NULL "
            "FOR UPDATE",
            (rfc.id,),
        )
        app_thread = threading.Thread(target=by_app)
        app_thread.start()
        _wait_for(lambda: _lock_waiters(dbname) >= 1, "the app request to wait")
        link_thread = threading.Thread(target=by_link)
        link_thread.start()
        _wait_for(
            lambda: _lock_waiters(dbname) >= 2 or not link_thread.is_alive(),
            "the link request to wait",
        )
    finally:
        holder.rollback()
        holder.close()
    app_thread.join(60)
    link_thread.join(60)
    assert sorted(codes.values())[0] == 200, codes
    assert sorted(codes.values())[1] in (409, 410), codes
    made = [
        e for e in db.audit(rfc.id, outcome="ok") if e.action in ("approve", "reject", "withdraw")
    ]
    assert len(made) == 1


def test_oversized_form_post_is_413_and_decides_nothing(client, db, awaiting):
    path = link_of(db, awaiting)
    snapshot = db.snapshot()
    r = client.post(path, data={"decision": "approve", "reason": "x" * 1_000_000})
    assert r.status_code == 413
    assert db.snapshot() == snapshot


def test_edit_racing_the_link_decision_never_500s(client, factory, team, db):
    for _ in range(3):
        rfc = factory.in_status(team, "awaiting_approval")
        codes = race(
            link=partial(client.post, link_of(db, rfc), data={"decision": "approve"}),
            edit=partial(
                client.patch,
                f"/api/v1/rfcs/{rfc.id}",
                json={"title": "Raced edit"},
                headers=factory.auth(team.officer),
            ),
        )
        row = db.rfc(rfc.id)
        if row.status == "approved":  # the decision won: the edit came too late
            assert codes == {"link": 200, "edit": 409}, codes
            assert row.title != "Raced edit"
        else:  # the edit won: the old link no longer decides
            assert codes == {"link": 409, "edit": 200}, codes
            assert row.status == "awaiting_approval" and row.title == "Raced edit"


def test_resent_link_is_built_from_base_url_not_the_host_header(client, team, db, smtp, awaiting):
    path = link_of(db, awaiting)
    with frozen(later(days=15)):
        foreign = client.post(
            path + "/resend", data={"email": team.sponsor.email}, headers={"Host": "evil.example"}
        )
        assert foreign.status_code == 400  # a foreign Host gets no page and sends nothing
        assert deliver().sent == 0
        r = client.post(
            path + "/resend",
            data={"email": team.sponsor.email},
            headers={"X-Forwarded-Host": "evil.example"},
        )
        assert r.status_code == 200
        assert deliver().sent >= 1
    mail = [m for m in smtp.to(team.sponsor.email) if "new link you asked for" in m.text][-1]
    assert mail.link().startswith("http://testserver/approvals/")
    assert "evil.example" not in mail.text and "evil.example" not in mail.html


# --- sign-in links expire too -----------------------------------------------------------------


def _sign_in_link(factory, person, at: datetime):  # type: ignore[no-untyped-def]
    """A sign-in link asked for at `at`: its row and its raw token."""
    from sqlmodel import select

    from core.db import read_session
    from models import ActionToken
    from services.platform import people

    with frozen(at):
        factory.call(people.request_sign_in, email=person.email)
    with read_session() as s:
        row = s.exec(
            select(ActionToken).where(
                ActionToken.purpose == "sign_in", ActionToken.person_id == person.id
            )
        ).one()
    return row, factory.raw_link(row)


def test_an_expired_sign_in_link_is_gone_and_signs_nobody_in(client, factory, team, db):
    """consume() is the only expiry check a sign-in link meets: at its expiry instant it fails."""
    start = datetime.now(UTC).replace(microsecond=0)
    late, late_raw = _sign_in_link(factory, team.officer, start)
    just, just_raw = _sign_in_link(factory, team.manager, start)
    assert late.expires_at == start + timedelta(minutes=20)
    token = re.search(r'name="csrf_token" value="([^"]*)"', client.get("/sign-in").text).group(1)

    with frozen(late.expires_at):
        before = db.snapshot()
        r = client.post(f"/sign-in/{late_raw}", data={"csrf_token": token}, follow_redirects=False)
        after = db.snapshot()
    assert r.status_code == 410, r.text
    assert "signoff_session" not in r.headers.get("set-cookie", "")
    assert after["web_session"] == before["web_session"] == []
    assert after["action_token"] == before["action_token"]  # not marked used either

    with frozen(just.expires_at - timedelta(seconds=1)):  # the last second it still works
        ok = client.post(f"/sign-in/{just_raw}", data={"csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303 and "signoff_session=" in ok.headers["set-cookie"]
    assert len(db.snapshot()["web_session"]) == 1


def test_a_used_or_replaced_sign_in_link_signs_nobody_in(client, factory, team, db):
    """consume() also refuses a link used once already, or replaced by a newer one."""
    start = datetime.now(UTC).replace(microsecond=0)
    first, first_raw = _sign_in_link(factory, team.officer, start)
    token = re.search(r'name="csrf_token" value="([^"]*)"', client.get("/sign-in").text).group(1)
    with frozen(start + timedelta(minutes=1)):
        ok = client.post(
            f"/sign-in/{first_raw}", data={"csrf_token": token}, follow_redirects=False
        )
        assert ok.status_code == 303
        client.cookies.delete("signoff_session")  # the same browser, signed out again
        again = client.post(
            f"/sign-in/{first_raw}", data={"csrf_token": token}, follow_redirects=False
        )
    assert again.status_code == 410 and "signoff_session" not in again.headers.get("set-cookie", "")
    assert len(db.snapshot()["web_session"]) == 1

    old, old_raw = _sign_in_link(factory, team.manager, start)
    from services.platform import people

    with frozen(start + timedelta(minutes=10)):  # past the reuse window: a new link replaces it
        factory.call(people.request_sign_in, email=team.manager.email)
        replaced = client.post(
            f"/sign-in/{old_raw}", data={"csrf_token": token}, follow_redirects=False
        )
    assert replaced.status_code == 410
    assert len(db.snapshot()["web_session"]) == 1


def test_an_approval_email_is_not_sent_once_its_link_has_expired(factory, team, db, smtp):
    """The outbox drops a link email at the instant its link expires, not a second later."""
    for late in (False, True):
        rfc = factory.in_status(team, "awaiting_approval")
        (token,) = [t for t in db.tokens(rfc.id) if t.revoked_at is None]
        smtp.reset()
        with frozen(token.expires_at - timedelta(seconds=1) if not late else token.expires_at):
            deliver()
        sent = [m for m in smtp.to(team.sponsor.email) if rfc.ref in m.subject]
        assert len(sent) == (0 if late else 1), (late, [m.subject for m in smtp.messages])


def test_links_are_built_from_the_base_url_with_or_without_its_trailing_slash(
    env, monkeypatch, factory, team
):
    from core.db import read_session
    from core.settings import get_settings
    from models import ActionToken
    from services.platform import action_links

    rfc = factory.in_status(team, "awaiting_approval")
    for base in ("https://signoff.example.gov.uk", "https://signoff.example.gov.uk/"):
        monkeypatch.setenv("SIGNOFF_BASE_URL", base)
        get_settings.cache_clear()
        with read_session() as s:
            token = s.query(ActionToken).filter_by(subject_id=rfc.id).one()
            url = action_links.url_for(token)
        assert re.fullmatch(
            r"https://signoff\.example\.gov\.uk/approvals/[A-Za-z0-9_-]{43}", url
        ), url
    get_settings.cache_clear()
