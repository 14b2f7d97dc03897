"""`signoff users import`, `signoff scorecards import|alias` and `signoff performance chase`,
run in-process (cli.main.main) on the test's database: exit codes, what they print, and that a
refused command changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.performance import (
    CARD_FILE,
    PEOPLE_FILE,
    at,
    file_rows,
    measures,
    people_rows,
    registered,
    sqlite_only,
)

from cli.main import main
from core import clock


def signoff(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def import_args(path: Any = CARD_FILE, period: str = "2009-12") -> list[str]:
    return [
        "scorecards",
        "import",
        str(path),
        "--code",
        "ccs-0910",
        "--period",
        period,
        "--portfolio",
        "Policy and Performance",
    ]


def test_users_import_then_scorecards_import_then_alias(env, capsys):
    code, out, err = signoff(capsys, "users", "import", str(PEOPLE_FILE))
    assert (code, err) == (0, "")
    assert out == "15 added, 0 updated, 14 line managers set, 0 measure officer(s) matched\n"

    code, out, err = signoff(capsys, *import_args())
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "CCS-0910: 77 measures created, 0 updated, 75 figures as at 2009-12",
        "check: Phil Aldis looks like Philip Aldis; if it is the same person, run signoff "
        'scorecards alias "Phil Aldis" --email <their address>',
    ]
    assert measures()["NI027"].data_source_officer_id is None

    code, out, err = signoff(
        capsys, "scorecards", "alias", "Phil Aldis", "--email", "Philip.Aldis@scambs.example"
    )
    assert (code, err) == (0, "")
    philip = "Philip Aldis <philip.aldis@scambs.example>"
    assert out == f"Phil Aldis is {philip}: 1 measure officer(s) matched\n"
    assert measures()["NI027"].data_source_officer_id == registered()["Philip Aldis"].id

    code, out, _ = signoff(capsys, *import_args())
    assert (code, out) == (0, "CCS-0910: 0 measures created, 77 updated, 0 figures as at 2009-12\n")


@sqlite_only
def test_a_scorecard_imported_before_its_people_is_matched_when_they_register(env, capsys):
    code, out, _ = signoff(capsys, *import_args())
    assert code == 0
    names = {r["name"] for r in people_rows()}
    aldis = {"Phil Aldis", "Philip Aldis"}  # two spellings in the file: flagged, not unknown
    unknown = sorted(
        {r[k] for r in file_rows() for k in ("responsible_officer", "data_source_officer")} - aldis
    )
    assert [f"unknown officer: {n} (register them, then import again)" for n in unknown] == [
        line for line in out.splitlines() if line.startswith("unknown officer")
    ]
    checks = [line.split(";")[0] for line in out.splitlines() if line.startswith("check:")]
    assert checks == [
        "check: Phil Aldis looks like Philip Aldis",
        "check: Philip Aldis looks like Phil Aldis",
    ]
    # Matched as the people are registered: every officer the file names but "Phil Aldis".
    matched = sum(
        (r["responsible_officer"] in names) + (r["data_source_officer"] in names)
        for r in file_rows()
    )
    assert matched == 2 * 77 - 1
    code, out, _ = signoff(capsys, "users", "import", str(PEOPLE_FILE))
    assert code == 0
    assert (
        out == f"15 added, 0 updated, 14 line managers set, {matched} measure officer(s) matched\n"
    )


def test_a_refused_command_says_why_exits_1_and_changes_nothing(env, db, capsys, tmp_path):
    signoff(capsys, "users", "import", str(PEOPLE_FILE))
    signoff(capsys, *import_args())
    before = db.snapshot()
    bad = tmp_path / "bad.csv"
    bad.write_text(CARD_FILE.read_text().replace(",C4,", ",C1,", 1))  # C1 twice
    people = tmp_path / "people.csv"
    people.write_text(
        PEOPLE_FILE.read_text() + "Nemo,nemo@scambs.example,Officer,x@scambs.example\n"
    )
    refusals = [
        (import_args(period="2009-13"), "error: '2009-13' is not a period: give its last month"),
        (import_args(period="<script>"), "error: '<script>' is not a period"),
        (import_args(path=tmp_path / "missing.csv"), "missing.csv is not a file."),
        (import_args(path=bad), "Measure C1 appears twice (rows 2 and 4); nothing was imported."),
        (["users", "import", str(people)], "row 17: no person has the manager's address"),
        (
            ["scorecards", "alias", "Phil Aldis", "--email", "nobody@scambs.example"],
            "error: no person is registered with nobody@scambs.example",
        ),
    ]
    for args, message in refusals:
        code, out, err = signoff(capsys, *args)
        assert (code, out) == (1, ""), args
        assert message in err, (args, err)
        assert db.snapshot() == before, args


@sqlite_only
def test_performance_chase_does_one_days_work(env, capsys):
    signoff(capsys, "users", "import", str(PEOPLE_FILE))
    signoff(capsys, *import_args())
    with clock.frozen(at("2010-01-04")):
        code, out, err = signoff(capsys, "performance", "chase", "--today", "2010-01-04")
    assert (code, err) == (0, "")
    report = json.loads(out.splitlines()[0])
    assert (report["today"], report["opened"], report["late_officers"]) == (
        "2010-01-04",
        {"2009-12": 2},  # Gemma Barron (SX057) and Neil Weston (NI016)
        0,
    )
    with clock.frozen(at("2010-01-18")):
        code, out, _ = signoff(capsys, "performance", "chase", "--today", "2010-01-18")
        again = signoff(capsys, "performance", "chase", "--today", "2010-01-18")[1]
    assert code == 0
    assert sorted(out.splitlines()[1:]) == [
        "Reminded Gemma Barron: late figures of Gemma Barron, December 2009",
        "Reminded Neil Weston: late figures of Neil Weston, December 2009",
    ]
    assert json.loads(out.splitlines()[0])["chase"]["reminded"] == 2
    assert again.splitlines()[1:] == [] and json.loads(again)["chase"]["reminded"] == 0


def test_performance_chase_refuses_a_day_that_is_not_a_date(capsys):
    for today in ["18/01/2010", "2010-13-01", "tomorrow"]:
        with pytest.raises(SystemExit) as exited:
            main(["performance", "chase", "--today", today])
        assert exited.value.code == 2
        assert f"{today!r} is not a date (YYYY-MM-DD)" in capsys.readouterr().err
