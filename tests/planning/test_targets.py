"""Reading operational plan targets (services/planning/targets.py) and importing the plan
(services/planning/operational_import.py) from the council's real file:
data/operational_plan_pp_2010-13.csv, the Policy and Performance team's 34 indicators with three
years' targets each ("100%", "<5", "2 out of 4 (09-10 assessment)", "N/a" for a survey year).

What the file holds is read from it with the csv module: the tests' oracle. No database.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from support.ids import case_id

from models.planning.content import LINE_MAX, Target
from models.text import BIDI_CONTROLS, INVISIBLE
from services.planning.operational_import import read_operational_plan
from services.planning.targets import code_of, parse
from services.platform import tabular
from services.platform.errors import Invalid

PLAN_FILE = Path(__file__).resolve().parents[2] / "data" / "operational_plan_pp_2010-13.csv"
YEAR_COLUMNS = ["target_2010_11", "target_2011_12", "target_2012_13"]


def file_rows() -> list[dict[str, str]]:
    with PLAN_FILE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def file_table() -> list[list[str]]:
    with PLAN_FILE.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def csv_bytes(table: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(table)
    return out.getvalue().encode("utf-8")


def value(text: str, v: float, unit: str | None = None, cmp: Any = None, note: str = "") -> Target:
    return Target(text=text, kind="value", value=v, unit=unit, comparator=cmp, note=note)


def on(text: str, day: date, note: str = "") -> Target:
    return Target(text=text, kind="date", on=day, note=note)


def na(text: str) -> Target:
    return Target(text=text, kind="not_applicable")


def words(text: str) -> Target:
    return Target(text=text, kind="text")


# --- every target in the council's file -------------------------------------------------------

# Each form the file writes besides a plain whole number, and what it must read as.
FILE_FORMS = {
    "100%": value("100%", 100, "%"),
    "2 out of 4 (09-10 assessment)": value(
        "2 out of 4 (09-10 assessment)", 2, "out of 4", note="09-10 assessment"
    ),
    "3 out of 4 (10-11 assessment)": value(
        "3 out of 4 (10-11 assessment)", 3, "out of 4", note="10-11 assessment"
    ),
    "3 out of 4 (11-12 assessment)": value(
        "3 out of 4 (11-12 assessment)", 3, "out of 4", note="11-12 assessment"
    ),
    "N/a": na("N/a"),
    "<5": value("<5", 5, cmp="<"),
    "<30": value("<30", 30, cmp="<"),
}


def expected(cell: str) -> Target:
    if cell.isdigit():  # "65", "36": a number of whatever the indicator counts
        return value(cell, int(cell))
    return FILE_FORMS[cell]


FILE_CELLS = [
    pytest.param(row[column], id=case_id(f"row{n}-{column[-5:]}-{row[column]}"))
    for n, row in enumerate(file_rows(), start=2)
    for column in YEAR_COLUMNS
]


def test_the_file_writes_no_form_without_an_expected_reading():
    forms = {row[c] for row in file_rows() for c in YEAR_COLUMNS}
    assert {f for f in forms if not f.isdigit()} == set(FILE_FORMS)
    assert len(FILE_CELLS) == 34 * 3


@pytest.mark.parametrize("cell", FILE_CELLS)
def test_every_target_in_the_file_reads_as_expected_and_keeps_its_text(cell):
    target = parse(cell)
    assert target.text == cell.strip() and target.text
    assert target == expected(cell)


# --- every form a plan may write ---------------------------------------------------------------

FORMS = [
    ("", Target(text="", kind="none")),
    ("   \t ", Target(text="", kind="none")),
    ("  100%  ", value("100%", 100, "%")),
    ("65", value("65", 65)),
    ("0", value("0", 0)),
    ("2.5", value("2.5", 2.5)),
    ("-5", value("-5", -5)),
    ("<5", value("<5", 5, cmp="<")),
    ("< 5", value("< 5", 5, cmp="<")),
    (">10", value(">10", 10, cmp=">")),
    ("<= 5", value("<= 5", 5, cmp="<=")),
    ("=<5", value("=<5", 5, cmp="<=")),
    (">=90%", value(">=90%", 90, "%", ">=")),
    ("≤ 3", value("≤ 3", 3, cmp="<=")),
    ("≥90 %", value("≥90 %", 90, "%", ">=")),
    ("=100%", value("=100%", 100, "%", "=")),
    ("at least 90%", value("at least 90%", 90, "%", ">=")),
    ("Less than 5", value("Less than 5", 5, cmp="<")),
    ("no more than 28 days", value("no more than 28 days", 28, "days", "<=")),
    ("£1,200", value("£1,200", 1200, "£")),
    ("£ 1,250,000.50", value("£ 1,250,000.50", 1_250_000.5, "£")),
    ("1,000", value("1,000", 1000)),
    ("1,000,000", value("1,000,000", 1_000_000)),
    ("1000000000000", value("1000000000000", 1e12)),
    ("N/a", na("N/a")),
    ("n/a", na("n/a")),
    ("NA", na("NA")),
    ("N/A", na("N/A")),
    ("n / a", na("n / a")),
    ("n.a.", na("n.a.")),
    ("Not applicable", na("Not applicable")),
    ("-", na("-")),
    ("–", na("–")),
    ("--", na("--")),
    (
        "2 out of 4 (09-10 assessment)",
        value("2 out of 4 (09-10 assessment)", 2, "out of 4", note="09-10 assessment"),
    ),
    ("3 out of 4", value("3 out of 4", 3, "out of 4")),
    (
        "34% - investigate proxy indicators",
        value("34% - investigate proxy indicators", 34, "%", note="investigate proxy indicators"),
    ),
    ("80 – stretch target", value("80 – stretch target", 80, note="stretch target")),
    ("May 2010", on("May 2010", date(2010, 5, 31))),
    ("March 2011", on("March 2011", date(2011, 3, 31))),
    ("Mar 2011", on("Mar 2011", date(2011, 3, 31))),
    ("Sept 2010", on("Sept 2010", date(2010, 9, 30))),
    ("Feb 2012", on("Feb 2012", date(2012, 2, 29))),  # a leap year's February
    ("Feb 2011", on("Feb 2011", date(2011, 2, 28))),
    ("31 March 2011", on("31 March 2011", date(2011, 3, 31))),
    ("1st April 2010", on("1st April 2010", date(2010, 4, 1))),
    ("31/03/2011", on("31/03/2011", date(2011, 3, 31))),
    ("03/04/2011", on("03/04/2011", date(2011, 4, 3))),  # day first, as the UK writes it
    ("2011-03-31", on("2011-03-31", date(2011, 3, 31))),
    ("By March 2011", on("By March 2011", date(2011, 3, 31))),
    ("End of May 2010", on("End of May 2010", date(2010, 5, 31))),
    ("May 2010 - first draft", on("May 2010 - first draft", date(2010, 5, 31), note="first draft")),
    (
        "June 2010 (draft to Cabinet)",
        on("June 2010 (draft to Cabinet)", date(2010, 6, 30), note="draft to Cabinet"),
    ),
    ("30 seconds", value("30 seconds", 30, "seconds")),
    ("2 minutes", value("2 minutes", 2, "minutes")),
    ("28 days", value("28 days", 28, "days")),
    ("3 working days", value("3 working days", 3, "working days")),
    ("1 Week", value("1 Week", 1, "week")),
    ("<20 seconds", value("<20 seconds", 20, "seconds", "<")),
    ("Improve on last year", words("Improve on last year")),
    ("Top quartile", words("Top quartile")),
    ("Maintain", words("Maintain")),
    ("TBC", words("TBC")),
    ("5 - 6", words("5 - 6")),  # a range: not 5 with a note "6"
    ("80% - 85%", words("80% - 85%")),
    ("100% by March 2011", words("100% by March 2011")),
    ("£5%", words("£5%")),
    ("10 homes", words("10 homes")),  # a unit that is not a time, percentage or "out of"
    ("(draft)", words("(draft)")),
]


@pytest.mark.parametrize(("text", "want"), [pytest.param(t, w, id=case_id(t)) for t, w in FORMS])
def test_each_form_reads_as_written(text, want):
    assert parse(text) == want


# --- what must not become a number ------------------------------------------------------------

NOT_NUMBERS = [
    "1e309", "1e3", "1E5", "nan", "NaN", "inf", "-inf", "Infinity", "0x10", "1_000",
    "9" * 16, "1000000000001", "1,000,000,000,000,000", "1,2345", "99999999999999999999%",
    "<1e309", "£inf", "1.2.3", "31 February 2011", "32/01/2011", "13/13/2011", "May 0000",
    "Mayday 2010", "١٠٠", "１００%",
]  # fmt: skip


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_what_is_no_finite_number_of_sensible_size_is_kept_as_text(text):
    assert parse(text) == words(text)


def test_the_longest_target_a_plan_holds_is_kept_whole_and_a_longer_one_is_refused():
    longest = "Improve " + "x" * (LINE_MAX - 8)
    assert parse(longest) == words(longest)
    with pytest.raises(ValidationError):
        parse(longest + "x")  # never cut short to fit


# Any visible text (control, format and surrogate characters are refused: models.text).
VISIBLE = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cf", "Cs"),
        blacklist_characters="".join(INVISIBLE | BIDI_CONTROLS),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(VISIBLE)
def test_any_text_is_kept_and_what_is_read_agrees_with_its_kind(text):
    t = parse(text)
    assert t.text == text.strip()
    assert (t.kind == "none") == (t.text == "")
    assert (t.value is not None) == (t.kind == "value")
    assert (t.on is not None) == (t.kind == "date")
    if t.kind in ("text", "not_applicable", "none"):
        assert (t.comparator, t.unit, t.note) == (None, None, "")
    if t.value is not None:
        assert abs(t.value) <= 1e12


@pytest.mark.parametrize("text", ["90\u202e%", "1\u200b00", "<5\x07"])
def test_a_target_with_hidden_or_control_characters_is_refused(text):
    with pytest.raises(ValidationError):
        parse(text)


# --- measure codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "indicator", [pytest.param(r["indicator"], id=case_id(r["indicator"])) for r in file_rows()]
)
def test_the_code_of_every_indicator_in_the_file(indicator):
    # The file's indicators start with their code and a dash, or "NEW PI" (no code yet).
    want = "" if indicator.startswith("NEW PI") else indicator.split()[0]
    assert code_of(indicator) == want


@pytest.mark.parametrize(
    ("indicator", "code"),
    [
        ("PP4 - % of service plans in place by April each year", "PP4"),
        ("SX028a - % of Council PIs that are improving (NIs & local)", "SX028a"),
        ("NI014 – The % of customer contact which is of low or no value", "NI014"),
        ("NI014b – % Poor signposting, or poor call transfer category", "NI014b"),
        ("SF731 - % of Contact Centre calls abandoned", "SF731"),
        ("NEW PI - Score for performance management element of CAA", ""),
        ("NEW PI – Average time waiting to be seen by a receptionist (minutes)", ""),
        ("NI 195 - Improved street cleanliness", "NI195"),
        ("BV12: Working days lost to sickness", "BV12"),
        ("CO2 emissions from council buildings", ""),  # no dash: a word, not a code
        ("% of calls answered", ""),
        ("", ""),
    ],
    ids=case_id,
)
def test_code_of(indicator, code):
    assert code_of(indicator) == code


# --- importing the file --------------------------------------------------------------------------


def test_the_whole_file_imports_with_every_field_and_target_kept():
    rows = read_operational_plan(PLAN_FILE.read_bytes(), PLAN_FILE.name)
    assert len(rows) == 34
    for got, row in zip(rows, file_rows(), strict=True):
        assert (got.team, got.aim_approach, got.service_objective) == (
            row["team"],
            row["council_aim_approach"],
            row["service_objective"],
        )
        assert (got.supporting_objective, got.indicator, got.lead_officer) == (
            row["supporting_objective"],
            row["indicator"],
            row["lead_officer"],
        )
        assert got.code == code_of(row["indicator"])
        assert [t.text for t in got.targets] == [row[c] for c in YEAR_COLUMNS]
        assert got.targets == [expected(row[c]) for c in YEAR_COLUMNS]


def test_the_file_s_survey_indicator_has_no_target_in_its_off_year():
    rows = {r.code: r for r in read_operational_plan(PLAN_FILE.read_bytes(), PLAN_FILE.name)}
    assert rows["NI001"].targets == [value("80", 80), na("N/a"), value("85", 85)]
    assert rows["SF731"].targets[0] == value("<5", 5, cmp="<")
    assert rows["PP4"].targets[2] == value("100%", 100, "%")


def test_the_new_pi_for_the_caa_score_reads_its_assessments():
    rows = read_operational_plan(PLAN_FILE.read_bytes(), PLAN_FILE.name)
    caa = next(r for r in rows if "element of CAA" in r.indicator)
    assert caa.code == ""
    assert caa.targets[0] == value(
        "2 out of 4 (09-10 assessment)", 2, "out of 4", note="09-10 assessment"
    )


def test_an_xlsx_of_the_file_with_other_header_cases_imports_the_same():
    from openpyxl import Workbook

    table = file_table()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    # "TEAM", "Council_Aim_Approach", "SERVICE OBJECTIVE", ...: read as the CSV's headers
    sheet.append(
        [h.upper().replace("_", " ") if i % 2 else h.title() for i, h in enumerate(table[0])]
    )
    for row in table[1:]:
        sheet.append([int(c) if c.isdigit() else c for c in row])  # numbers as Excel holds them
    out = io.BytesIO()
    book.save(out)
    from_xlsx = read_operational_plan(out.getvalue(), "plan.xlsx")
    assert from_xlsx == read_operational_plan(PLAN_FILE.read_bytes(), PLAN_FILE.name)


def test_fewer_target_columns_give_fewer_years_and_an_unreadable_target_is_kept_as_text():
    data = csv_bytes(
        [["Indicator", "Target 2010/11", "Target 2011/12"], ["PP9 - x", "Improve", ""]]
    )
    (row,) = read_operational_plan(data, "plan.csv")
    assert row.code == "PP9"
    assert row.targets == [words("Improve"), Target(kind="none")]


# --- files refused, with every bad row by number --------------------------------------------


def refused(data: bytes, filename: str = "plan.csv") -> str:
    with pytest.raises(Invalid) as caught:
        read_operational_plan(data, filename)
    return caught.value.message


def edited(changes: dict[tuple[int, str], str]) -> bytes:
    """The council's file with cells changed: (file row number, column) -> text."""
    table = file_table()
    for (n, column), text in changes.items():
        table[n - 1][table[0].index(column)] = text
    return csv_bytes(table)


def test_an_empty_file_is_refused():
    assert refused(b"") == "plan.csv is empty."
    assert refused(b"\n \n") == "plan.csv is empty."


def test_a_header_without_rows_is_refused():
    assert refused(b"team,indicator,target_2010_11\n") == "plan.csv has a header but no rows."


def test_a_file_without_an_indicator_column_is_refused():
    table = file_table()
    for row in table:
        del row[4]
    assert "has no column indicator" in refused(csv_bytes(table))


def test_a_row_with_an_empty_indicator_is_refused_by_its_row_number():
    message = refused(edited({(5, "indicator"): "   "}))
    assert message == "plan.csv was not imported: row 5: indicator is empty"


def test_every_bad_row_is_listed_with_why():
    message = refused(
        edited(
            {
                (3, "indicator"): "",
                (7, "team"): "x" * 301,
                (7, "lead_officer"): "Paul\x07Howes",
                (12, "indicator"): "PP4 - " + "x" * 2000,
                (20, "target_2011_12"): "N/a " + "x" * LINE_MAX,
                (35, "lead_officer"): "Paul Howes",  # a good change among the bad
            }
        )
    )
    assert message == (
        "plan.csv was not imported: row 3: indicator is empty; "
        "row 7: team is longer than 300 characters, lead_officer must be a single line "
        "without control characters; "
        "row 12: indicator is longer than 2,000 characters; "
        "row 20: target_2011_12 is longer than 300 characters"
    )


HIDDEN = "must not contain invisible or text-direction characters"
LINE = "must be a single line without control characters"
CONTROL = "must not contain control characters"
HOSTILE = [
    ("indicator", "PP4 - % of plans \u202egnp.exe", HIDDEN),  # reads "exe.png"
    ("team", "Policy\u200b and Performance", HIDDEN),  # a zero-width space
    ("lead_officer", "Paul\nHowes", LINE),
    ("council_aim_approach", "A1\x07", LINE),
    ("supporting_objective", "Effective\x00 arrangements", CONTROL),
    ("target_2012_13", "100%\u2066", HIDDEN),
    ("target_2010_11", "\x1b[31m100%", CONTROL),
]


@pytest.mark.parametrize(("column", "text", "why"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_text_is_refused_with_a_clear_reason(column, text, why):
    message = refused(edited({(9, column): text}))
    assert message == f"plan.csv was not imported: row 9: {column} {why}"


def test_a_line_break_inside_a_target_is_kept():
    data = csv_bytes([["indicator", "target_1"], ["x", "80\n(stretch)"]])
    (row,) = read_operational_plan(data, "plan.csv")
    assert row.targets == [value("80\n(stretch)", 80, note="stretch")]


def test_a_cell_larger_than_any_file_may_hold_is_refused():
    message = refused(edited({(4, "supporting_objective"): "x" * (tabular.MAX_CELL + 1)}))
    assert message == f"plan.csv: row 4 has a cell longer than {tabular.MAX_CELL:,} characters."


def test_a_bad_row_after_a_blank_line_is_named_by_its_row_in_the_file():
    table = file_table()
    table[3][table[0].index("indicator")] = ""
    table.insert(2, [""] * len(table[0]))  # a blank line: the bad row is now line 5
    message = refused(csv_bytes(table))
    assert "row 5: indicator is empty" in message and "row 4" not in message


def test_more_than_three_years_of_targets_is_refused_not_cut():
    table = [row + [row[5]] for row in file_table()]
    table[0][-1] = "target_2013_14"
    assert "has 4 target columns" in refused(csv_bytes(table))


def test_a_file_neither_csv_nor_xlsx_is_refused():
    assert "neither a UTF-8 CSV file nor an XLSX workbook" in refused(b"\xff\xfe\x00i\x00n")


def test_many_bad_rows_are_counted_past_the_first_twenty():
    message = refused(edited({(n, "indicator"): "" for n in range(2, 36)}))
    assert message.count("indicator is empty") == 20
    assert message.endswith("row 21: indicator is empty (and 14 more)")
