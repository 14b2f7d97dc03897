"""Importing a scorecard (services/performance/imports.py) from the council's real file:
data/scorecard_ccs_2009-10_q3.csv, 77 measures as at December 2009, with one officer spelt
two ways, two empty actuals and the lower-is-better NI014 family.

What the file holds is read from it with the csv module (support.performance.file_rows), and
compared with what the database holds after the import through the service.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from support.performance import (
    CARD_FILE,
    CODE,
    PERIOD,
    at,
    card_rows,
    file_rows,
    import_card,
    measures,
    registered,
    sqlite_only,
)

from core import clock
from core.db import read_session, write_session
from models.performance import (
    Figure,
    FigureRevision,
    Measure,
    MeasureTarget,
    Polarity,
    Scorecard,
)
from services.performance import imports, officers, periods
from services.platform import tabular
from services.platform.errors import Invalid

COLUMNS = list(file_rows()[0])


def latest(row: dict[str, str]) -> str:
    """The period a row's figures and target are for: a yearly measure's is last March."""
    return "2009-03" if row["frequency"] == "yearly" else "2009-12"


def number(text: str) -> float | None:
    return float(text) if text.strip() else None


def targets() -> dict[tuple[str, str], float]:
    with read_session() as s:
        rows = s.exec(
            select(Measure.code, MeasureTarget.period, MeasureTarget.value).join(
                MeasureTarget,
                MeasureTarget.measure_id == Measure.id,  # type: ignore[arg-type]
            )
        )
        return {(code, period): value for code, period, value in rows}


def figures() -> dict[tuple[str, str], Figure]:
    with read_session() as s:
        rows = s.exec(select(Measure.code, Figure).join(Figure, Figure.measure_id == Measure.id))  # type: ignore[arg-type]
        return {(code, f.period): f for code, f in rows}


def contents(code: str) -> list[tuple[Any, ...]]:
    """Everything a scorecard holds, by value (no ids or times): two equal lists mean two
    imports did the same."""
    with read_session() as s:
        card = s.exec(select(Scorecard).where(Scorecard.code == code)).one()
        out = []
        for m in s.exec(select(Measure).where(Measure.scorecard_id == card.id)):
            ts = s.exec(select(MeasureTarget).where(MeasureTarget.measure_id == m.id))
            fs = s.exec(select(Figure).where(Figure.measure_id == m.id))
            out.append(
                (
                    m.code, m.name, m.aim, m.approach, m.frequency, m.polarity, m.unit,
                    m.year_end_target, m.responsible_name, m.responsible_officer_id,
                    m.data_source_name, m.data_source_officer_id,
                    sorted((t.period, t.value) for t in ts),
                    sorted((f.period, f.actual, f.ytd_actual, f.estimate, f.state) for f in fs),
                )
            )  # fmt: skip
        return sorted(out)


def counts(db: Any) -> dict[str, int]:
    c = db.counts()
    return {t: c[t] for t in ("scorecard", "measure", "measure_target", "figure", "person")} | {
        "figure_revision": c["figure_revision"]
    }


# --- the real file ------------------------------------------------------------------------


def test_all_77_measures_are_imported_with_their_aims_and_approaches(card):
    rows = file_rows()
    assert len(rows) == 77
    assert (card.scorecard, card.period, card.created, card.updated) == (CODE, PERIOD, 77, 0)
    held = measures()
    assert sorted(held) == sorted(r["code"] for r in rows)
    for r in rows:
        m = held[r["code"]]
        assert (m.name, m.aim, m.approach, m.frequency, m.unit, m.polarity) == (
            r["name"], r["aim"], r["approach"], r["frequency"], r["unit"], r["polarity"]
        ), r["code"]  # fmt: skip
        assert m.year_end_target == number(r["year_end_target"]), r["code"]
    with read_session() as s:
        (scorecard,) = s.exec(select(Scorecard))
    assert (scorecard.code, scorecard.name, scorecard.year, scorecard.portfolio) == (
        "CCS-0910",
        "Community and Customer Services 09/10",
        2009,
        "Policy and Performance",
    )


@sqlite_only
def test_every_actual_in_the_file_is_a_figure_and_an_empty_one_is_none(card):
    rows = file_rows()
    with_actual = [r for r in rows if r["actual"].strip()]
    assert len(with_actual) == 75 and card.figures == 75
    held = figures()
    assert sorted(held) == sorted((r["code"], latest(r)) for r in with_actual)
    for r in with_actual:
        f = held[(r["code"], latest(r))]
        assert (f.actual, f.ytd_actual, f.estimate) == (
            number(r["actual"]),
            number(r["ytd_actual"]),
            number(r["estimate"]),
        ), r["code"]
        assert f.state == "entered" and f.version == 1
    # SX057 and NI016 had no actual in December 2009: nothing pretends they did.
    assert not [k for k in held if k[0] in ("SX057", "NI016")]


@sqlite_only
def test_yearly_figures_land_on_last_march_and_quarterly_on_december(card):
    held = figures()
    yearly = {r["code"] for r in file_rows() if r["frequency"] == "yearly"}
    assert len(yearly) == 15
    assert {p for (code, p) in held if code in yearly} == {"2009-03"}
    assert {p for (code, p) in held if code not in yearly} == {"2009-12"}
    assert ("NI027", "2009-03") in held and ("C4", "2009-12") in held


@sqlite_only
def test_an_imported_figure_is_never_counted_late(card):
    """The file does not say when a figure was entered: a yearly measure's March 2009 figure
    imported in December is history, not 264 days late."""
    from models.performance import Scorecard
    from services.performance import report

    with read_session() as s:
        scorecard = s.exec(select(Scorecard)).one()
        rows = {r.measure.code: r for r in report.rows(s, scorecard=scorecard, period=PERIOD)}
    assert rows["SX056"].period == "2009-03" and rows["SX056"].figure is not None
    assert rows["SX056"].figure.imported and rows["SX056"].days_late == 0
    assert rows["C4"].days_late == 0


def test_targets_are_stored_for_the_period_they_are_for(card):
    rows = file_rows()
    assert targets() == {
        (r["code"], latest(r)): float(r["target"]) for r in rows if r["target"].strip()
    }
    assert targets()[("SX056", "2009-03")] == 75
    assert targets()[("NI016", "2009-12")] == 3.03  # a target without an actual is kept


@sqlite_only
def test_the_ni014_family_is_lower_is_better(card):
    held = measures()
    lower = sorted(code for code, m in held.items() if m.polarity is Polarity.lower_better)
    assert [c for c in lower if c.startswith("NI014")] == [
        "NI014", "NI014a", "NI014b", "NI014c", "NI014d", "NI014e"
    ]  # fmt: skip
    assert lower == sorted(r["code"] for r in file_rows() if r["polarity"] == "lower")
    assert held["C4"].polarity is Polarity.higher_better


# --- officers -----------------------------------------------------------------------------


@sqlite_only
def test_officers_are_matched_to_the_registered_people(card, people):
    by_id = {p.id: p.name for p in people.values()}
    held = measures()
    for r in file_rows():
        m = held[r["code"]]
        assert by_id.get(m.responsible_officer_id) == r["responsible_officer"], r["code"]
        if r["data_source_officer"] == "Phil Aldis":
            continue
        assert by_id.get(m.data_source_officer_id) == r["data_source_officer"], r["code"]
    assert card.unknown == []


@sqlite_only
def test_phil_aldis_resembles_philip_aldis_and_stays_unassigned_until_confirmed(card, people):
    assert card.resembling == {"Phil Aldis": ["Philip Aldis"]}
    ni027 = measures()["NI027"]
    assert (ni027.data_source_name, ni027.data_source_officer_id) == ("Phil Aldis", None)
    # Imported again, it is still only flagged: a look-alike is never guessed.
    with clock.frozen(at("2010-01-04")):
        again = import_card()
    assert again.resembling == {"Phil Aldis": ["Philip Aldis"]}
    assert measures()["NI027"].data_source_officer_id is None

    philip = people["Philip Aldis"]
    with clock.frozen(at("2010-01-04")), write_session() as s:
        officers.confirm_alias(s, name="Phil Aldis", person_id=philip.id, by_id=None)
        assert imports.assign_officers(s) == 1
    assert measures()["NI027"].data_source_officer_id == philip.id
    assert measures()["NI027"].data_source_name == "Phil Aldis"  # the file's spelling is kept
    with clock.frozen(at("2010-01-05")):
        third = import_card()
    assert third.resembling == {} and third.unknown == []
    assert measures()["NI027"].data_source_officer_id == philip.id
    with write_session() as s:
        assert imports.assign_officers(s) == 0  # nothing left to match


@sqlite_only
def test_an_unknown_officer_is_listed_and_not_created(people, db):
    rows = card_rows()
    for r in rows:
        if r["code"] == "C4":
            r["data_source_officer"] = "Zebedee Quirk"
        if r["code"] == "C1":
            r["responsible_officer"] = "Xanthe Obi"
    before = counts(db)["person"]
    with clock.frozen(at("2009-12-31")):
        report = import_card(rows)
    assert report.unknown == ["Xanthe Obi", "Zebedee Quirk"]
    assert counts(db)["person"] == before
    held = measures()
    assert (held["C4"].data_source_name, held["C4"].data_source_officer_id) == (
        "Zebedee Quirk",
        None,
    )
    assert held["C1"].responsible_officer_id is None
    assert set(registered()) == {p["name"] for p in csv.DictReader(io.StringIO(
        (CARD_FILE.parent / "ccs_people.csv").read_text()
    ))}  # fmt: skip


# --- importing again ----------------------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing_and_duplicates_nothing(card, db):
    before = counts(db)
    before_contents = contents(CODE)
    with clock.frozen(at("2010-01-04")):
        again = import_card()
    assert (again.created, again.updated, again.figures) == (0, 77, 0)
    assert counts(db) == before
    assert contents(CODE) == before_contents


def test_a_changed_name_target_and_actual_update_in_place_with_a_revision(card, db):
    before = counts(db)
    rows = card_rows()
    (c4,) = [r for r in rows if r["code"] == "C4"]
    c4.update(name="Monthly Corporate Brief (revised)", target="80", actual="70")
    with clock.frozen(at("2010-01-04")):
        report = import_card(rows)
    assert (report.created, report.updated, report.figures) == (0, 77, 1)
    # One more revision, and nothing else more.
    assert counts(db) == before | {"figure_revision": before["figure_revision"] + 1}
    m = measures()["C4"]
    assert m.name == "Monthly Corporate Brief (revised)"
    assert targets()[("C4", "2009-12")] == 80
    f = figures()[("C4", "2009-12")]
    assert (f.actual, f.version) == (70, 2)
    with read_session() as s:
        revs = list(
            s.exec(
                select(FigureRevision)
                .where(FigureRevision.figure_id == f.id)
                .order_by(
                    FigureRevision.id  # type: ignore[arg-type]
                )
            )
        )
    assert [(r.version, r.actual, r.reason) for r in revs] == [
        (1, 75, ""),
        (2, 70, "imported from a file"),
    ]
    assert revs[1].at == at("2010-01-04")


@sqlite_only
def test_a_later_file_can_fill_in_an_empty_actual(card, db):
    rows = card_rows()
    (sx057,) = [r for r in rows if r["code"] == "SX057"]
    sx057["actual"] = "85"
    with clock.frozen(at("2010-01-04")):
        assert import_card(rows).figures == 1
    f = figures()[("SX057", "2009-12")]
    assert (f.actual, f.version) == (85, 1)


# --- XLSX ---------------------------------------------------------------------------------


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> None:
    """The file as a person saving it from Excel would: numbers as numbers."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(COLUMNS)
    for r in rows:
        sheet.append([_cell(r[c]) for c in COLUMNS])
    book.save(path)


def _cell(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text or None


@sqlite_only
def test_an_xlsx_of_the_file_imports_the_same(card, tmp_path):
    path = tmp_path / "scorecard.xlsx"
    write_xlsx(path, file_rows())
    with clock.frozen(at("2009-12-31")):
        with write_session() as s:
            report = imports.import_scorecard(
                s, rows=tabular.read(path), code="CCS-0910-X", period=PERIOD, actor_id=None
            )
    assert (report.created, report.figures) == (card.created, card.figures)
    assert report.resembling == card.resembling
    assert contents("CCS-0910-X") == contents(CODE)


# --- a bad file changes nothing -----------------------------------------------------------


def csv_bytes(rows: list[dict[str, str]], columns: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def with_row(code: str, **changes: str) -> bytes:
    rows = file_rows()
    for r in rows:
        if r["code"] == code:
            r.update(changes)
    return csv_bytes(rows)


def duplicated() -> bytes:
    rows = file_rows()
    return csv_bytes([*rows, rows[0] | {"name": "A second C4"}])


def two_scorecards() -> bytes:
    rows = file_rows()
    rows[-1]["scorecard"] = "Planning and New Communities 09/10"
    return csv_bytes(rows)


def without(column: str) -> bytes:
    return csv_bytes(file_rows(), [c for c in COLUMNS if c != column])


def latin1() -> bytes:
    rows = file_rows()
    rows[0]["name"] = "Café £ Monthly Corporate Brief"
    return csv_bytes(rows).decode().encode("cp1252")


BAD = {
    "text in an actual": (lambda: with_row("C2", actual="eighty"), r"row 5: the actual must be"),
    "1e309": (lambda: with_row("C1", actual="1e309"), r"row 4: the actual must be a number"),
    "a percentage of 150": (
        lambda: with_row("C4", actual="150"),
        r"row 2: the actual 150 is outside 0 to 100 for a percentage",
    ),
    "a negative percentage estimate": (
        lambda: with_row("C4", estimate="-5"),
        r"row 2: the estimate -5 is outside 0 to 100",
    ),
    "a duplicate code": (duplicated, r"Measure C4 appears twice \(rows 2 and 79\)"),
    "a missing column": (lambda: without("polarity"), r"has no column polarity"),
    "a file that is not UTF-8": (latin1, r"is neither a UTF-8 CSV file nor an XLSX workbook"),
    "an empty file": (lambda: b"", r"is empty"),
    "a 10,001-character cell": (
        lambda: with_row("C4", name="x" * 10_001),
        r"has a cell longer than 10,000 characters",
    ),
    "two scorecards": (two_scorecards, r"holds rows of 2 scorecards"),
    "a bad frequency": (lambda: with_row("C4", frequency="fortnightly"), r"row 2: frequency"),
    "a control character": (lambda: with_row("C4", aim="Comms\x1b[2J"), r"row 2: "),
}


def test_a_bad_file_is_refused_saying_why_and_changes_nothing(card, db, tmp_path):
    """Each case on its own, against the imported scorecard (one snapshot, many refusals)."""
    before = db.snapshot()
    for case, (make, message) in BAD.items():
        path = tmp_path / "scorecard.csv"
        path.write_bytes(make())
        with clock.frozen(at("2010-01-04")), pytest.raises(Invalid, match=message):
            with write_session() as s:
                imports.import_scorecard(
                    s, rows=tabular.read(path), code=CODE, period=PERIOD, actor_id=None
                )
        assert db.snapshot() == before, case


def test_a_bad_period_or_scorecard_code_is_refused_and_changes_nothing(card, db):
    before = db.snapshot()
    for period in ["2009-13", "09-12", "", "2009-1", "<script>"]:
        with pytest.raises(Invalid, match="is not a period"):
            import_card(period=period)
        assert db.snapshot() == before, period
    for code in ["", "CCS 0910", "x" * 41, "<b>CCS</b>"]:
        with pytest.raises(Invalid, match="A scorecard code is 1 to 40"):
            import_card(code=code)
        assert db.snapshot() == before, code


@sqlite_only
def test_every_bad_row_is_listed_not_only_the_first(people, db):
    rows = file_rows()
    rows[0]["actual"] = "n/a"
    rows[40]["polarity"] = "sideways"
    before = db.snapshot()
    with pytest.raises(Invalid) as refused:
        import_card([{k: v for k, v in r.items()} for r in rows])
    assert "row 2: the actual must be a number" in refused.value.message
    assert "row 42: polarity 'sideways' is not higher or lower" in refused.value.message
    assert db.snapshot() == before


@sqlite_only
def test_the_due_period_of_each_figure_follows_the_import_period(people):
    """Imported for March 2010, the year end, a yearly measure's figure is March 2010's."""
    with clock.frozen(at("2010-04-01")):
        import_card(period="2010-03")
    assert {p for (code, p) in figures() if code == "NI027"} == {"2010-03"}
    assert periods.latest("yearly", "2010-03") == "2010-03"
