"""Hostile input to the HTML forms that are not behind a session: never a 500, nothing written."""

from __future__ import annotations

import re

import pytest


def csrf(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/sign-in")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)


@pytest.mark.parametrize(
    "email",
    [
        "a\x00@council.example",
        "a@council.example\x00",
        "' OR 1=1 --@x.example",
        "<script>@x.example",
        "x" * 300 + "@council.example",
    ],
)
def test_sign_in_with_hostile_email(client, factory, db, backend, request, email):
    factory.person(email="real.person@council.example")
    before = db.counts()
    r = client.post("/sign-in", data={"email": email, "csrf_token": csrf(client)})
    assert r.status_code in (200, 422), r.status_code
    assert "<script>@" not in r.text
    assert db.counts() == before  # no such person: no link, no email


def test_sign_in_form_without_csrf_is_refused(client, factory, db):
    person = factory.person()
    before = db.counts()
    r = client.post("/sign-in", data={"email": person.email})
    assert r.status_code == 403
    assert db.counts() == before


def test_sign_in_of_a_registered_person_queues_one_link(client, factory, db):
    person = factory.person()
    before = db.counts()
    r = client.post("/sign-in", data={"email": person.email.upper(), "csrf_token": csrf(client)})
    assert r.status_code == 200
    after = db.counts()
    assert (after["action_token"], after["outbox_message"]) == (
        before["action_token"] + 1,
        before["outbox_message"] + 1,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/projects/A%00B",
        "/projects/A%00B/rfcs/new",
        "/projects/%27%20OR%201%3D1--",
        "/projects/" + "Z" * 300,
        "/rfcs/1%00",
        "/rfcs/1%20OR%201=1",
    ],
)
def test_hostile_paths_in_pages_are_404(client, factory, team, db, backend, request, path):
    client.cookies.set("signoff_session", factory.sign_in(team.officer))
    before = db.counts()
    r = client.get(path)
    assert r.status_code == 404, r.status_code
    assert db.counts() == before
