"""The performance team's import page: upload the council's file, see what was created, confirm
a name spelt two ways; everyone else is refused, and a bad file changes nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from support.pages import csrf_token_of
from support.performance import CARD_FILE, at

from core import clock

NOW = at("2010-01-04")


def _post(client: Any, data: bytes, name: str = "scorecard.csv", **fields: str) -> Any:
    form = {"code": "CCS-0910", "period": "2009-12", "portfolio": "Policy and Performance"}
    form |= fields
    form["csrf_token"] = fields.get("csrf_token", csrf_token_of(client, "/performance/import"))
    return client.post("/performance/import", data=form, files={"file": (name, data)})


@pytest.fixture
def team(client: Any, factory: Any, people: dict[str, Any]) -> Any:
    admin = factory.admin()
    client.cookies.set("signoff_session", factory.sign_in(admin))
    return admin


def test_the_team_imports_the_file_and_confirms_a_name_spelt_two_ways(client, team, people):
    from support.performance import measures

    with clock.frozen(NOW):
        r = _post(client, CARD_FILE.read_bytes())
    assert r.status_code == 200
    assert "77 measures created, 0 updated" in r.text
    assert "Phil Aldis" in r.text and "It is Philip Aldis" in r.text
    unmatched = [m for m in measures().values() if m.data_source_name == "Phil Aldis"]
    assert unmatched and all(m.data_source_officer_id is None for m in unmatched)
    philip = people["Philip Aldis"]
    with clock.frozen(NOW):
        done = client.post(
            "/performance/aliases",
            data={
                "name": "Phil Aldis",
                "person_id": str(philip.id),
                "csrf_token": csrf_token_of(client, "/performance/import"),
            },
            follow_redirects=False,
        )
    assert done.status_code == 303
    assert all(
        m.data_source_officer_id == philip.id
        for m in measures().values()
        if m.data_source_name == "Phil Aldis"
    )
    with clock.frozen(NOW):
        again = _post(client, CARD_FILE.read_bytes())
    assert "0 measures created, 77 updated" in again.text and "Names to check" not in again.text


def test_an_xlsx_file_imports_the_same(client, team):
    import csv

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    with CARD_FILE.open(newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    with clock.frozen(NOW):
        r = _post(client, out.getvalue(), "scorecard.xlsx")
    assert r.status_code == 200 and "77 measures created" in r.text


@pytest.mark.parametrize(
    "case,data,message",
    [
        ("text in a figure", "actual_text", "must be a number"),
        ("not a spreadsheet", b"\x89PNG\r\n\x1a\n\x00\x00", "neither a UTF-8 CSV"),
        ("empty", b"", "is empty"),
        ("missing columns", b"code,name\nX1,Thing\n", "has no column"),
    ],
)
def test_a_bad_file_is_explained_and_changes_nothing(client, db, team, case, data, message):
    if data == "actual_text":
        text = CARD_FILE.read_text(encoding="utf-8").replace(
            ",75,75,,100,100", ",75,seventy,,100,100", 1
        )
        data = text.encode()
    before = db.snapshot()
    with clock.frozen(NOW):
        r = _post(client, data)
    assert r.status_code == 422
    assert message in r.text
    assert db.snapshot() == before


def test_a_bad_period_or_code_is_refused(client, db, team):
    before = db.snapshot()
    with clock.frozen(NOW):
        period = _post(client, CARD_FILE.read_bytes(), period="2009-13")
        code = _post(client, CARD_FILE.read_bytes(), code="<script>")
    assert period.status_code == 422 and "is not a period" in period.text
    assert code.status_code == 422 and "scorecard code" in code.text
    assert "<script>" not in code.text.split("</head>")[1]
    assert db.snapshot() == before


def test_a_file_over_five_megabytes_is_refused(client, team):
    with clock.frozen(NOW):
        r = _post(client, b"x" * (5 * 1024 * 1024 + 10))
    assert r.status_code == 413


def test_only_the_performance_team_may_import(client, db, factory, people):
    client.cookies.set("signoff_session", factory.sign_in(people["Paul Knight"]))
    token = csrf_token_of(client, "/sign-out")
    before = db.snapshot()
    assert client.get("/performance/import").status_code == 403
    r = client.post(
        "/performance/import",
        data={"code": "CCS-0910", "period": "2009-12", "csrf_token": token},
        files={"file": ("x.csv", CARD_FILE.read_bytes())},
    )
    assert r.status_code == 403
    alias = client.post(
        "/performance/aliases",
        data={
            "name": "Phil Aldis",
            "person_id": str(people["Paul Knight"].id),
            "csrf_token": token,
        },
    )
    assert alias.status_code == 403
    assert db.snapshot() == before


def test_an_import_without_its_csrf_token_is_refused(client, db, team):
    before = db.snapshot()
    r = client.post(
        "/performance/import",
        data={"code": "CCS-0910", "period": "2009-12"},
        files={"file": ("x.csv", CARD_FILE.read_bytes())},
    )
    assert r.status_code == 403
    assert db.snapshot() == before
