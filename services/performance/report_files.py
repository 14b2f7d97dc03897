"""The reports as downloads: one sheet of cells per report, written as CSV or XLSX.

Officers type the commentary and the import files name the measures, so any text could be
read by a spreadsheet as a formula (`=HYPERLINK(...)`, `@SUM(...)`, or a DDE payload). A CSV
text cell starting with = + - @ tab or CR gets a leading apostrophe; an XLSX text cell is
always stored as text, with Excel's quote prefix on those same cells, so nothing in a
download is ever evaluated. Numbers are written as numbers, so -5 stays a number.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from services.performance.rag import Colour
from services.performance.report_lines import Line
from services.performance.reports import (
    COLOURS,
    Completeness,
    Counted,
    Detail,
    History,
    Late,
    Summary,
)

Cell = str | int | float | date | None
RISKY = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Characters XML 1.0 cannot hold: openpyxl refuses a cell containing one.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Sheet:
    title: str  # the XLSX sheet's name: at most 31 characters, none of []:*?/\
    name: str  # the file's name without its extension
    headers: list[str]
    rows: list[list[Cell]]


def neutralise(text: str) -> str:
    """Text that a spreadsheet would run as a formula, with a leading apostrophe."""
    return "'" + text if text.startswith(RISKY) else text


def filename(*parts: str) -> str:
    """A file name safe in a Content-Disposition header on any system: letters, digits,
    dots, dashes and underscores only (a measure code "ACTION 22" becomes "ACTION_22")."""
    joined = "-".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", joined).strip("._-")[:120] or "report"


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def csv_bytes(sheet: Sheet) -> bytes:
    """UTF-8 with a byte-order mark, so Excel reads names like "Zoë" correctly."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([neutralise(h) for h in sheet.headers])
    writer.writerows([_csv_cell(c) for c in row] for row in sheet.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(sheet: Sheet) -> bytes:
    from openpyxl import Workbook  # only a download pays for importing it
    from openpyxl.styles import Font

    book = Workbook()
    ws = book.active
    assert ws is not None  # a new workbook has one sheet
    ws.title = re.sub(r"[\[\]:*?/\\]", " ", sheet.title)[:31]
    table: list[list[Cell]] = [list(sheet.headers), *sheet.rows]
    for row, cells in enumerate(table, start=1):
        for column, value in enumerate(cells, start=1):
            cell = ws.cell(row=row, column=column)
            if isinstance(value, str):
                cell.value = _ILLEGAL.sub("", value)
                cell.data_type = "s"  # never a formula, whatever it starts with
                cell.quotePrefix = value.startswith(RISKY)
            elif isinstance(value, date):
                cell.value = value
                cell.number_format = "d mmmm yyyy"
            else:
                cell.value = value
            if row == 1:
                cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- each report's sheet -----------------------------------------------------------------------


def _rag(colour: Colour) -> list[Cell]:
    return [colour.reported.value.upper(), colour.computed.value.upper()]


def _figures(ln: Line) -> list[Cell]:
    return [
        ln.period,
        ln.target,
        ln.actual,
        ln.ytd_actual,
        ln.year_end_target,
        ln.estimate,
        *_rag(ln.current),
        *_rag(ln.projected),
        ln.override_reason,
        ln.commentary,
        ln.state_text,
    ]


FIGURE_HEADERS = [
    "Figure period",
    "Target",
    "Actual",
    "YTD actual",
    "Year-end target",
    "Estimate",
    "Current RAG",
    "Current RAG computed",
    "Projected RAG",
    "Projected RAG computed",
    "Override reason",
    "Commentary",
    "State",
]


def _measure(ln: Line) -> list[Cell]:
    cells: list[Cell] = [ln.aim, ln.approach, ln.code, ln.name, ln.frequency, ln.responsible]
    cells.append(ln.data_source)
    return cells + [ln.unit, ln.polarity]


def detail_sheet(report: Detail) -> Sheet:
    card = report.card
    headers = ["Aim", "Approach", "Code", "Measure", "Frequency", "Responsible officer"]
    headers += ["Data source officer", "Unit", "Polarity", *FIGURE_HEADERS]
    rows = [_measure(ln) + _figures(ln) for ln in report.lines]
    return Sheet("Detail", filename(card.code, card.period, "detail"), headers, rows)


def _counted(c: Counted) -> list[Cell]:
    cells: list[Cell] = [c.label, c.measures]
    for counts, percent in ((c.current, c.current_percent), (c.projected, c.projected_percent)):
        for colour in COLOURS:
            cells += [counts[colour], percent[colour]]
    return cells


def summary_sheet(report: Summary) -> Sheet:
    headers = ["Aim", "Measures"]
    for which in ("Current", "Projected"):
        for colour in COLOURS:
            headers += [f"{which} {colour.upper()}", f"{which} {colour.upper()} %"]
    rows = [_counted(c) for c in [*report.aims, report.total]]
    card = report.card
    return Sheet("RAG summary", filename(card.code, card.period, "rag-summary"), headers, rows)


def completeness_sheet(report: Completeness) -> Sheet:
    """Per aim, then per portfolio across the year's scorecards, each with its total."""
    headers = [
        "Group",
        "Name",
        "Measures",
        "Figures in",
        "Awaiting",
        "Missing (GREY)",
        "Complete %",
    ]
    groups = [("Aim", c) for c in [*report.aims, report.total]]
    groups += [("Portfolio", c) for c in [*report.portfolios, report.portfolio_total]]
    rows: list[list[Cell]] = [
        [group, c.label, c.measures, c.entered, c.awaiting, c.missing, c.percent]
        for group, c in groups
    ]
    card = report.card
    return Sheet("Completeness", filename(card.code, card.period, "completeness"), headers, rows)


def _late(officer: str, matched: bool, ln: Line) -> list[Cell]:
    registered = "Yes" if matched else "No"
    return [
        officer,
        registered,
        ln.code,
        ln.name,
        ln.period,
        ln.due_on,
        ln.days_late,
        ln.state_text,
    ]


def late_sheet(report: Late) -> Sheet:
    headers = ["Data source officer", "Registered", "Code", "Measure", "Figure period"]
    headers += ["Due", "Days late", "State"]
    rows = [_late(o.name, o.matched, ln) for o in report.officers for ln in o.lines]
    card = report.card
    return Sheet("Late figures", filename(card.code, card.period, "late"), headers, rows)


def history_sheet(report: History) -> Sheet:
    rows = [_figures(ln) for ln in report.lines]
    name = filename(report.card.code, report.measure.code, "history")
    return Sheet("History", name, FIGURE_HEADERS, rows)
