"""Pages as the people who use them see them: status, and officers' text shown as they wrote it.

The in-process app over a real database; the Chromium page matrix (test_page_matrix.py) covers
the same pages in a browser with axe-core.
"""

from __future__ import annotations

import pytest

HOSTILE = "Merge <b>tasks</b> 1.2 & 2.1\nthen extend stage 1.\n\nSecond paragraph."


def _as(client, factory, person) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    client.cookies.set("signoff_session", factory.sign_in(person))


@pytest.mark.parametrize("status", ["impact_analysis", "awaiting_approval"])
def test_my_rfcs_lists_the_work_waiting_for_its_owner(client, factory, team, status):
    rfc = factory.in_status(team, status)
    owner = team.manager if status == "impact_analysis" else team.sponsor
    _as(client, factory, owner)
    page = client.get("/rfcs")
    assert page.status_code == 200, page.text[:500]
    waiting = page.text.split("Waiting for you")[1].split("Raised by you")[0]
    assert waiting.count(f'href="/rfcs/{rfc.id}/') == 1
    assert "Nothing is waiting for you" not in waiting


def test_my_rfcs_lists_each_rfc_once_among_many(client, factory, team):
    rfcs = [factory.in_status(team, "awaiting_approval") for _ in range(3)]
    _as(client, factory, team.sponsor)
    page = client.get("/rfcs")
    assert page.status_code == 200
    for rfc in rfcs:
        assert page.text.split("Raised by you")[0].count(f'href="/rfcs/{rfc.id}/') == 1


def _assert_text_as_written(html: str) -> None:
    assert "&lt;p class" not in html and "&lt;br" not in html  # our own markup, escaped
    assert "Merge &lt;b&gt;tasks&lt;/b&gt; 1.2 &amp; 2.1<br>then extend stage 1.</p>" in html
    assert '<p class="govuk-body">Second paragraph.</p>' in html
    assert "<b>tasks</b>" not in html  # the officer's markup never becomes markup


def test_rfc_text_keeps_its_lines_and_is_escaped_on_every_page(client, factory, team, db):
    rfc = factory.rfc(team, description=HOSTILE, expected_benefits=HOSTILE)
    factory.submit(rfc, team.officer)
    factory.impact(rfc, team.manager)  # major: the sponsor decides, by link
    for person, path in [
        (team.officer, f"/rfcs/{rfc.id}"),
        (team.sponsor, f"/rfcs/{rfc.id}/decision"),
    ]:
        _as(client, factory, person)
        page = client.get(path)
        assert page.status_code == 200, path
        _assert_text_as_written(page.text)
    page = client.get(f"/rfcs/{rfc.id}/print")  # the paper form keeps lines with pre-wrap
    assert 'class="pre">Merge &lt;b&gt;tasks&lt;/b&gt; 1.2 &amp; 2.1\nthen' in page.text
    client.cookies.clear()
    link = factory.raw_link(db.tokens(rfc.id)[-1])
    page = client.get(f"/approvals/{link}")
    assert page.status_code == 200
    _assert_text_as_written(page.text)


# --- confirmations are one-time flashes that no one else can write --------------------------


def _csrf(client, path: str = "/sign-in") -> str:  # type: ignore[no-untyped-def]
    import re

    return re.search(r'name="csrf_token" value="([^"]*)"', client.get(path).text).group(1)


def test_a_notice_in_the_address_is_not_shown(client, factory, team):
    rfc = factory.rfc(team)
    _as(client, factory, team.officer)
    page = client.get(f"/rfcs/{rfc.id}?notice=Your+account+is+locked:+call+0800+000+000")
    assert page.status_code == 200
    assert "0800" not in page.text and "govuk-notification-banner" not in page.text


def test_a_saved_change_is_confirmed_once(client, factory, team):
    rfc = factory.rfc(team)
    _as(client, factory, team.officer)
    form = {
        "title": "A better title",
        "description": "Merge two tasks.",
        "expected_benefits": "Less duplication.",
        "issue_log_no": "",
        "version": "1",
        "csrf_token": _csrf(client, f"/rfcs/{rfc.id}/edit"),
    }
    done = client.post(f"/rfcs/{rfc.id}/edit", data=form, follow_redirects=False)
    assert done.status_code == 303 and "signoff_flash" in done.cookies
    first = client.get(f"/rfcs/{rfc.id}")
    assert "have been saved" in first.text and "govuk-notification-banner--success" in first.text
    second = client.get(f"/rfcs/{rfc.id}")
    assert "have been saved" not in second.text


def test_a_forged_flash_cookie_is_ignored(client, factory, team):
    from core import tokens

    rfc = factory.rfc(team)
    _as(client, factory, team.officer)
    client.cookies.set("signoff_flash", tokens.sign("next", "Approved by the Chief Executive"))
    assert "Chief Executive" not in client.get(f"/rfcs/{rfc.id}").text
    client.cookies.set("signoff_flash", "QXBwcm92ZWQ.forged")
    assert "govuk-notification-banner" not in client.get(f"/rfcs/{rfc.id}").text


# --- signing in brings people back to the page they asked for -----------------------------


def _sign_in_by_form(client, factory, person, next_path: str | None):  # type: ignore[no-untyped-def]
    """Ask for a link from /sign-in?next=..., then use the link: where does it land?"""
    from urllib.parse import quote

    from sqlmodel import select

    from core import tokens
    from core.db import read_session
    from models import ActionToken

    client.cookies.clear()
    page = "/sign-in" + (f"?next={quote(next_path, safe='')}" if next_path is not None else "")
    asked = client.post(
        "/sign-in",
        data={"email": person.email, "next": next_path or "", "csrf_token": _csrf(client, page)},
    )
    assert asked.status_code == 200
    with read_session() as s:
        row = s.exec(
            select(ActionToken)
            .where(ActionToken.person_id == person.id, ActionToken.purpose == "sign_in")
            .order_by(ActionToken.id.desc())
        ).first()  # type: ignore[union-attr]
    raw = tokens.derive_token(row.salt)
    done = client.post(
        f"/sign-in/{raw}",
        data={"csrf_token": _csrf(client, f"/sign-in/{raw}")},
        follow_redirects=False,
    )
    assert done.status_code == 303
    return done.headers["location"]


def test_a_link_followed_while_signed_out_returns_there_after_sign_in(client, factory, team):
    rfc = factory.rfc(team)
    client.cookies.clear()
    asked = client.get(f"/rfcs/{rfc.id}?tab=history", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/sign-in?next=%2Frfcs%2F{rfc.id}%3Ftab%3Dhistory"
    page = client.get(asked.headers["location"])
    assert f'name="next" value="/rfcs/{rfc.id}?tab=history"' in page.text
    assert (
        _sign_in_by_form(client, factory, team.officer, f"/rfcs/{rfc.id}?tab=history")
        == f"/rfcs/{rfc.id}?tab=history"
    )


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "/%5Cevil.example",
        "javascript:alert(1)",
        "/sign-in/abc",
        "/rfcs\r\nSet-Cookie: x=1",
        "",
        "rfcs",
        "/" + "a" * 600,
    ],
)
def test_sign_in_never_redirects_off_the_site(client, factory, team, target):
    landed = _sign_in_by_form(client, factory, team.officer, target)
    if target == "/%5Cevil.example":  # a percent-encoded backslash is a path on this site
        assert landed == target
    else:
        assert landed == "/rfcs", landed


def test_a_tampered_return_cookie_is_ignored(client, factory, team):
    from core import tokens

    client.cookies.set("signoff_next", tokens.sign("flash", "https://evil.example/"))
    assert _sign_in_by_form(client, factory, team.officer, None) == "/rfcs"


# --- withdrawing asks first, and keeps the reason -------------------------------------------


def test_withdraw_asks_for_a_reason_and_records_it(client, factory, team, db, deliver_outbox, smtp):
    rfc = factory.in_status(team, "awaiting_approval")
    _as(client, factory, team.officer)
    page = client.get(f"/rfcs/{rfc.id}")
    assert f'href="/rfcs/{rfc.id}/withdraw"' in page.text  # a link to a question, not a button
    before = db.snapshot()
    token = _csrf(client, f"/rfcs/{rfc.id}/withdraw")
    for reason in ("", "   \n "):
        refused = client.post(
            f"/rfcs/{rfc.id}/withdraw", data={"reason": reason, "csrf_token": token}
        )
        assert refused.status_code == 422 and "Enter why you are withdrawing" in refused.text
    too_long = client.post(
        f"/rfcs/{rfc.id}/withdraw", data={"reason": "x" * 10_001, "csrf_token": token}
    )
    assert too_long.status_code == 422
    assert db.snapshot() == before
    done = client.post(
        f"/rfcs/{rfc.id}/withdraw",
        data={"reason": "The room is no longer available.", "csrf_token": token},
    )
    assert done.status_code == 200 and "has been withdrawn" in done.text
    assert db.rfc(rfc.id).status == "withdrawn"
    assert "Withdrawn by Requester" in done.text and "The room is no longer available." in done.text
    assert db.audit(rfc.id, action="withdraw")[-1].detail == "The room is no longer available."


def test_withdraw_page_refuses_those_who_may_not_withdraw(client, factory, team):
    rfc = factory.in_status(team, "awaiting_approval")
    _as(client, factory, team.sponsor)
    assert client.get(f"/rfcs/{rfc.id}/withdraw").status_code == 403
    done = factory.in_status(team, "approved")
    _as(client, factory, team.officer)
    assert client.get(f"/rfcs/{done.id}/withdraw").status_code == 409
    _as(client, factory, team.stranger)
    assert client.get(f"/rfcs/{rfc.id}/withdraw").status_code == 404


# --- history in plain English ---------------------------------------------------------------


def test_history_reads_as_people_say_it(client, factory, team):
    rfc = factory.in_status(team, "approved")
    _as(client, factory, team.officer)
    text = client.get(f"/rfcs/{rfc.id}").text
    who = team.officer.name
    for line in (
        f"Raised by {who}",
        f"Sent for impact analysis by {who}",
        f"Impact recorded by {team.manager.name}: major change, goes to the sponsor",
        f"Approved by {team.sponsor.name} (via app)",
    ):
        assert line in text, line


def test_part_2_names_the_approver_until_someone_decides(client, factory, team):
    rfc = factory.in_status(team, "awaiting_approval")
    _as(client, factory, team.officer)
    text = client.get(f"/rfcs/{rfc.id}").text
    assert ">Approver<" in text.replace("\n", "").replace("  ", "") or "Approver\n" in text
    assert "Decided by" not in text
    assert "20.0" not in text and ">20<" in text.replace("\n", "").replace(" ", "")  # days
    factory.decide(rfc, team.sponsor)
    assert "Decided by" in client.get(f"/rfcs/{rfc.id}").text


# --- errors in the layout --------------------------------------------------------------------


def test_unknown_page_is_a_styled_404_with_the_navigation(client, factory, team):
    _as(client, factory, team.officer)
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "Page not found" in page.text and "govuk-service-navigation" in page.text
    assert "Sign out" in page.text  # the signed-in navigation, not a stranger's


def test_a_server_error_is_a_styled_500_without_details(client, factory, team, backend):
    from sqlalchemy import text

    from core.db import write_session

    _as(client, factory, team.officer)
    with write_session() as s:  # break the database under the app
        s.execute(text("ALTER TABLE rfc RENAME TO rfc_gone"))
    try:
        page = client.get("/rfcs")
        assert page.status_code == 500
        assert "Sorry, there is a problem with the service" in page.text
        assert "Traceback" not in page.text and "rfc_gone" not in page.text
    finally:
        with write_session() as s:
            s.execute(text("ALTER TABLE rfc_gone RENAME TO rfc"))


def test_sign_out_is_a_link_to_a_question(client, factory, team):
    _as(client, factory, team.officer)
    nav = client.get("/rfcs").text
    assert 'href="/sign-out"' in nav and 'aria-current="page"' in nav
    assert client.get("/sign-out").status_code == 200
    assert client.get("/rfcs").status_code == 200  # looking at the question signs no one out
    done = client.post(
        "/sign-out", data={"csrf_token": _csrf(client, "/sign-out")}, follow_redirects=False
    )
    assert done.status_code == 303
    assert client.get("/rfcs", follow_redirects=False).status_code == 303


# --- the demo tells one story ---------------------------------------------------------------


def test_demo_shows_the_plan_before_rfc_3_and_its_history_carries_2010(client, env, db):
    from sqlmodel import select

    from core.db import read_session, write_session
    from models import ActionToken
    from models.change_control import Rfc, Stage
    from services.change_control.demo import load_demo
    from services.platform import action_links

    with write_session() as session:
        load_demo(session)
    with read_session() as s:
        rfc_id = s.exec(select(Rfc.id).where(Rfc.ref == "CSE-RFC-003")).one()
        stage1 = s.exec(select(Stage).where(Stage.number == 1)).one()
        links = list(s.exec(select(ActionToken).where(ActionToken.purpose == "approve_rfc")))
    history = db.audit(rfc_id)
    assert [e.action for e in history] == ["create", "submit", "record_impact"]
    assert {e.at.date().isoformat() for e in history} == {"2010-02-26"}
    assert stage1.scheduled_finish.isoformat() == "2010-02-28"
    assert [action_links.is_live(t) for t in links].count(True) == 1  # the sponsor's, today
    assert db.outbox(rfc_id=rfc_id)[0].created_at.year > 2010  # no unsent 2010 email
