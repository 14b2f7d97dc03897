"""Who sees a project, from the other side of tests/api/test_outsiders.py: everyone who should
sees it, in the list and on its page, and membership of one project opens no other.
(Found by mutation testing: the outsider tests alone let `visible_projects` see nobody.)
"""

from __future__ import annotations

import pytest


def sees(client, factory, person, project) -> tuple[bool, int]:  # type: ignore[no-untyped-def]
    client.cookies.set("signoff_session", factory.sign_in(person))
    listed = project.name in client.get("/projects").text
    return listed, client.get(f"/projects/{project.code}").status_code


@pytest.mark.parametrize("who", ["sponsor", "manager", "alternate", "officer", "admin"])
def test_each_of_a_projects_people_sees_it_in_the_list_and_on_its_page(client, factory, team, who):
    person = factory.admin() if who == "admin" else getattr(team, who)
    assert sees(client, factory, person, team.project) == (True, 200)


def test_a_member_of_another_project_does_not_see_this_one(client, factory, team):
    other = factory.team()
    assert sees(client, factory, other.officer, team.project) == (False, 404)
    assert sees(client, factory, team.stranger, team.project) == (False, 404)


def test_a_project_open_to_all_officers_is_seen_by_everyone(client, factory, team):
    from core.db import write_session
    from models.change_control import Project

    with write_session() as s:
        s.get(Project, team.project.id).open_to_all_officers = True
    assert sees(client, factory, team.stranger, team.project) == (True, 200)


def test_only_the_pm_or_an_administrator_manages_members(client, factory, team, db):
    body = {"email": team.stranger.email, "role": "Member"}
    path = f"/api/v1/projects/{team.code}/members"
    assert client.post(path, json=body, headers=factory.auth(team.officer)).status_code == 403
    assert client.post(path, json=body, headers=factory.auth(team.sponsor)).status_code == 403
    assert client.post(path, json=body, headers=factory.auth(team.manager)).status_code in (
        200,
        201,
    )


@pytest.mark.parametrize("who", ["sponsor", "manager", "alternate"])
def test_a_named_person_cannot_be_taken_off_the_project_and_still_sees_it(
    client, factory, team, db, who
):
    """The sponsor, PM and alternate approver stay among the project's people while named, so
    they never lose sight of it (which is why the project list's sponsor and PM clauses are a
    second guard: each is also a member row)."""
    person = getattr(team, who)
    headers = factory.auth(factory.admin())
    before = db.snapshot()
    r = client.delete(f"/api/v1/projects/{team.code}/members/{person.email}", headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        f"{person.name} is the project's named sponsor, manager or alternate approver, and "
        "stays one of its people while named."
    )
    assert db.snapshot() == before
    assert sees(client, factory, person, team.project) == (True, 200)


def test_a_member_taken_off_the_project_no_longer_sees_it(client, factory, team):
    headers = factory.auth(team.manager)
    r = client.delete(f"/api/v1/projects/{team.code}/members/{team.officer.email}", headers=headers)
    assert r.status_code == 204, r.text
    assert sees(client, factory, team.officer, team.project) == (False, 404)
    r = client.delete(f"/api/v1/projects/{team.code}/members/{team.officer.email}", headers=headers)
    assert r.status_code == 404
    assert r.json()["detail"] == f"{team.officer.email} is not one of the project's people."


def test_an_officer_on_no_project_is_told_how_to_join_one_not_about_the_api(client, factory, team):
    """The list is empty for them because they are on no project, not because there is none."""
    client.cookies.set("signoff_session", factory.sign_in(team.stranger))
    page = client.get("/projects").text
    assert "You are not one of the people of any project yet" in page
    assert "ask its Project Manager to add you" in page
    assert "No projects yet" not in page and "/api/v1/projects" not in page


def test_an_administrator_with_no_projects_is_told_how_to_register_one(client, factory):
    client.cookies.set("signoff_session", factory.sign_in(factory.admin()))
    page = client.get("/projects").text
    assert "No projects yet. An administrator registers them through the API" in page
