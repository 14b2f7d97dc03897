"""What every page route shares (api/pages/common.py): where a signed-out person is sent and
brought back to, which paths may be returned to, the administrators' 403, and who and where a
page action is recorded as. (Found by mutation testing: each of these could break unnoticed.)
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from support.pages import csrf_token_of

from api.pages.common import safe_return_path
from api.rendering import menu


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/rfcs/mine", "/sign-in?next=%2Frfcs%2Fmine"),
        (
            "/projects/CSE?q=car%20park&status=draft",
            "/sign-in?next=%2Fprojects%2FCSE%3Fq%3Dcar%2520park%26status%3Ddraft",
        ),
        ("/projects", "/sign-in?next=%2Fprojects"),
    ],
)
def test_a_signed_out_person_is_sent_to_sign_in_and_told_where_to_come_back(client, path, location):
    r = client.get(path, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, location)


def test_a_signed_out_post_is_sent_to_sign_in_without_a_page_to_come_back_to(client, team):
    r = client.post(
        f"/projects/{team.code}/members", data={"email": "x@example.org"}, follow_redirects=False
    )
    assert (r.status_code, r.headers["location"]) == (303, "/sign-in")


def test_the_page_to_come_back_to_is_only_a_plain_path_of_at_most_500_characters():
    assert safe_return_path("/" + "a" * 499) == "/" + "a" * 499
    assert safe_return_path("/" + "a" * 500) is None
    assert safe_return_path("/rfcs?q=car park") == "/rfcs?q=car park"  # a space is harmless
    for control in ("\x00", "\x1f", "\x7f", "\r\n"):
        assert safe_return_path(f"/rfcs{control}x") is None, repr(control)
    for page in ("/sign-in", "/sign-in/abc", "/sign-out", "/sign-out?x=1"):
        assert safe_return_path(page) is None, page
    assert safe_return_path("/signing-guide") == "/signing-guide"


def test_a_non_administrator_is_told_the_page_is_for_administrators(client, factory, team):
    client.cookies.set("signoff_session", factory.sign_in(team.manager))
    r = client.get("/admin/outbox")
    assert r.status_code == 403
    assert '<p class="govuk-body">Only administrators can see this page.</p>' in r.text


def test_an_administrator_manages_the_people_of_a_project_they_are_not_one_of(
    client, factory, team, db
):
    admin = factory.admin()
    client.cookies.set("signoff_session", factory.sign_in(admin))
    page = f"/projects/{team.code}"
    r = client.post(
        f"{page}/members",
        follow_redirects=False,
        data={
            "email": team.stranger.email,
            "role": "Work Stream Leader",
            "csrf_token": csrf_token_of(client, page),
        },
    )
    assert r.status_code == 303, r.text
    client.cookies.set("signoff_session", factory.sign_in(team.stranger))
    assert client.get(page).status_code == 200


def test_a_page_action_is_audited_with_the_persons_address(client, factory, team, db):
    rfc = factory.rfc(team, requester=team.officer)
    client.cookies.set("signoff_session", factory.sign_in(team.officer))
    page = f"/rfcs/{rfc.id}/withdraw"
    r = client.post(
        page,
        data={"reason": "No longer needed.", "csrf_token": csrf_token_of(client, page)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    (row,) = db.audit(rfc.id, action="withdraw", outcome="ok")
    assert (row.actor_id, row.actor_address) == (team.officer.id, "testclient")


def _signed_in_as(client, factory, person) -> None:  # type: ignore[no-untyped-def]
    client.cookies.set("signoff_session", factory.sign_in(person))


def test_a_live_session_opens_the_page_as_its_person(client, factory, team):
    _signed_in_as(client, factory, team.officer)
    r = client.get("/rfcs", follow_redirects=False)
    assert r.status_code == 200 and f"Signed in as {team.officer.name}" in r.text


def test_a_session_past_its_expiry_is_signed_out(client, factory, team):
    from sqlalchemy import update

    from core import clock
    from core.db import write_session
    from models import WebSession

    _signed_in_as(client, factory, team.officer)
    with write_session() as s:
        s.execute(update(WebSession).values(expires_at=clock.now()))
    r = client.get("/rfcs", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/sign-in?next=%2Frfcs")


def test_a_deactivated_persons_session_no_longer_signs_them_in(client, factory, team):
    from sqlalchemy import update

    from core.db import write_session
    from models import Person

    _signed_in_as(client, factory, team.officer)
    with write_session() as s:
        s.execute(update(Person).where(Person.id == team.officer.id).values(active=False))  # type: ignore[arg-type]
    r = client.get("/rfcs", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/sign-in?next=%2Frfcs")


@pytest.mark.parametrize("cookie", ["junk", "x" * 43, "a" * 5000])
def test_an_unknown_or_malformed_session_cookie_is_signed_out(client, cookie):
    client.cookies.set("signoff_session", cookie)
    r = client.get("/rfcs", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/sign-in?next=%2Frfcs")


def test_the_host_names_answered_are_those_of_the_settings_in_force(client, monkeypatch):
    """The host names answered are those of the settings in force: SIGNOFF_ALLOWED_HOSTS
    changed (as on a restart) is obeyed from the next request, and a name no longer allowed
    gets 400 again."""
    from core.settings import reset_settings_cache

    intranet = {"Host": "intranet.council.example"}
    assert client.get("/sign-in", headers=intranet).status_code == 400
    monkeypatch.setenv("SIGNOFF_ALLOWED_HOSTS", "intranet.council.example")
    reset_settings_cache()
    assert client.get("/sign-in", headers=intranet).status_code == 200
    monkeypatch.setenv("SIGNOFF_ALLOWED_HOSTS", "")
    reset_settings_cache()
    assert client.get("/sign-in", headers=intranet).status_code == 400
    assert client.get("/sign-in").status_code == 200  # BASE_URL's own host all along


def test_every_page_has_the_layout_its_scripts_and_readers_rely_on(client):
    """The layout (templates/pages/base.html): English, a skip link to the main content, and
    both scripts carrying the nonce the Content-Security-Policy allows, so the js-enabled class
    is set (GOV.UK's components start only then) and signoff.js runs."""
    r = client.get("/sign-in")
    nonce = re.search(r"'nonce-([^']+)'", r.headers["content-security-policy"]).group(1)
    html = r.text
    assert '<html lang="en" class="govuk-template">' in html
    assert '<a href="#main-content" class="govuk-skip-link"' in html
    assert '<main class="govuk-main-wrapper" id="main-content">' in html
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts == [
        f' nonce="{nonce}"',
        f' type="module" src="/assets/signoff.js" nonce="{nonce}"',
    ]
    assert "document.body.className += ' js-enabled'" in html


def test_the_menu_marks_the_page_you_are_on_and_the_section_you_are_in(env):
    officer = SimpleNamespace(name="Ian Salter", is_admin=False)
    admin = SimpleNamespace(name="Emma George", is_admin=True)

    def marked(path, person, section=None):
        items = menu(path, person, section)
        return (
            [i["text"] for i in items],
            [i["text"] for i in items if i["current"]],
            [i["text"] for i in items if i["active"]],
        )

    everyone = ["My RFCs", "Projects", "My figures", "Performance", "Service plans"]
    assert marked("/rfcs", officer) == ([*everyone, "Demo mailbox", "Sign out"], ["My RFCs"], [])
    assert marked("/projects/CSE", officer, "/projects")[1:] == ([], ["Projects"])
    assert marked("/admin/outbox", admin)[0:2] == (
        [*everyone, "All RFCs", "Outbox", "Demo mailbox", "Sign out"],
        ["Outbox"],
    )
    assert marked("/sign-in", None) == (["Demo mailbox", "Sign in"], ["Sign in"], [])
