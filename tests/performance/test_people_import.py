"""`signoff users import` (services/platform/people_import.py): the council's officers and
their line managers (data/ccs_people.csv), all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from support.performance import at, import_people, people_rows, registered, sqlite_only

from core import clock
from services.platform.errors import Invalid


def managers() -> dict[str, str | None]:
    """Each person's line manager's name."""
    everyone = registered()
    by_id = {p.id: p.name for p in everyone.values()}
    return {name: by_id.get(p.manager_id) for name, p in everyone.items()}


def expected_managers() -> dict[str, str | None]:
    rows = people_rows()
    by_email = {r["email"]: r["name"] for r in rows}
    return {r["name"]: by_email.get(r["manager_email"]) for r in rows}


def test_the_council_file_registers_everyone_with_their_line_manager(env):
    report = import_people()
    rows = people_rows()
    assert report.added == [r["email"] for r in rows] and report.updated == []
    assert report.managers_set == 14  # everyone but the Executive Director
    assert managers() == expected_managers()
    assert managers()["Paul Knight"] == "Richard May"
    assert managers()["Steve Hampson"] is None
    everyone = registered()
    assert {(p.email, p.job_title, p.is_admin, p.active) for p in everyone.values()} == {
        (r["email"], r["job_title"], False, True) for r in rows
    }


@sqlite_only
def test_a_manager_listed_below_the_people_they_manage_is_set(env):
    report = import_people(list(reversed(people_rows())))
    assert report.managers_set == 14
    assert managers() == expected_managers()


@sqlite_only
def test_importing_the_file_again_changes_nobody(env, db):
    import_people()
    before = db.snapshot()
    report = import_people()
    assert (report.added, report.updated, report.managers_set) == ([], [], 0)
    assert db.snapshot() == before


def test_an_existing_person_is_updated_not_duplicated(env, factory, db):
    with clock.frozen(at("2009-06-01")):
        knight = factory.person("P. Knight", email="Paul.Knight@scambs.example")
    rows = people_rows()
    report = import_people(rows)
    assert report.updated == ["paul.knight@scambs.example"]
    assert "paul.knight@scambs.example" not in report.added and len(report.added) == 14
    now = registered()
    assert "P. Knight" not in now
    assert now["Paul Knight"].id == knight.id
    assert now["Paul Knight"].job_title == "Performance Improvement Officer"
    assert db.counts()["person"] == 15
    # A new line manager replaces the old one.
    for r in rows:
        if r["name"] == "Paul Knight":
            r["manager_email"] = "gemma.barron@scambs.example"
    assert import_people(rows).managers_set == 1
    assert managers()["Paul Knight"] == "Gemma Barron"


def refused(db: Any, rows: list[dict[str, str]], message: str) -> None:
    before = db.snapshot()
    with pytest.raises(Invalid, match=message):
        import_people(rows)
    assert db.snapshot() == before


def test_an_unknown_manager_is_refused_and_nothing_changes(env, db):
    rows = people_rows()
    rows[-1]["manager_email"] = "nobody@scambs.example"
    refused(db, rows, r"row 16: no person has the manager's address nobody@scambs.example")
    # Not even on top of people already registered.
    import_people()
    rows = people_rows()
    rows[3]["job_title"] = "Head of Partnerships"
    rows[-1]["manager_email"] = "nobody@scambs.example"
    refused(db, rows, "nobody@scambs.example")
    assert registered()["Gemma Barron"].job_title == "Partnerships Manager"


@sqlite_only
def test_duplicate_emails_are_refused_and_nothing_changes(env, db):
    rows = people_rows()
    rows.append(rows[8] | {"name": "Ian Salter (2)", "email": "IAN.SALTER@scambs.example"})
    refused(db, rows, r"ian.salter@scambs.example appears more than once")
    assert registered() == {}


HOSTILE = [
    "Paul\x07Knight",  # a bell
    "Paul Knight\x1b[31m",  # a terminal escape
    "Paul\nKnight",  # a second line
    "Paul\u202eKnight",  # right-to-left override
    "Paul\u200bKnight",  # zero-width space
    "   ",
]


@sqlite_only
def test_a_hostile_name_is_refused_and_nothing_changes(env, db):
    for name in HOSTILE:
        rows = people_rows()
        rows[7]["name"] = name
        refused(db, rows, r"row 9: name: ")


@sqlite_only
def test_a_person_cannot_be_their_own_manager_and_a_bad_email_is_refused(env, db):
    rows = people_rows()
    rows[2]["manager_email"] = rows[2]["email"]
    refused(db, rows, "row 4: a person cannot be their own manager")
    rows = people_rows()
    rows[2]["email"] = "richard.may at scambs"
    refused(db, rows, "row 4: email: ")


@sqlite_only
def test_a_file_without_the_manager_column_is_refused(env, db):
    rows = [{k: v for k, v in r.items() if k != "manager_email"} for r in people_rows()]
    refused(db, rows, "has no column manager_email")
