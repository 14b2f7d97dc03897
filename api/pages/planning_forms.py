"""Reading the service-planning forms and showing a plan's values: table rows typed as rows of
inputs (blank rows to add, a "remove" box each), pounds to pence, months, targets.

Nothing typed is ever cut short or silently dropped: a value too long, a bad amount or a month
like "2011-13" is named with its row, and the page shows the form again as it was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from api.pages import forms
from models.planning import ServicePlan
from models.planning.content import (
    LINE_MAX,
    ROWS_MAX,
    TEXT_MAX,
    Column,
    OperationalRow,
    SectionSpec,
    Target,
)
from models.text import free_text, single_line
from services.planning import plans, targets
from services.planning.schemas import SignatoryIn

DAMAGED = "The form was damaged. Reload the page and try again."
BLANK_ROWS = 3  # empty rows offered to add to a table (save and add more for others)
parse_int = forms.parse_int
field_errors = forms.field_errors


def text_problem(text: str, limit: int, *, single: bool = False) -> str | None:
    """What is wrong with a typed text (too long, hidden characters), or None."""
    if len(text) > limit:
        return f"must be {limit:,} characters or fewer (it has {len(text):,})"
    try:
        single_line(text) if single else free_text(text)
    except ValueError as exc:
        return str(exc)
    return None


# --- money, months and targets as people read them -------------------------------------------


def parse_pence(text: str) -> int | None:
    """Pounds as typed ("1,250.50", "£40", "-300") to pence; None when not an amount."""
    text = text.strip()
    negative = text.startswith(("-", "−"))
    pence = forms.parse_pounds(text[1:] if negative else text)
    return None if pence is None else (-pence if negative else pence)


def pounds_text(pence: int | None) -> str:
    """Pence as a form shows them back: 125050 as "1,250.50"."""
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


def month_label(value: str | None) -> str:
    """ "2011-03" as "March 2011"."""
    if not value or not MONTH.fullmatch(value):
        return value or ""
    return f"{date(int(value[:4]), int(value[5:]), 1):%B %Y}"


MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
COMPARED = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "=": "exactly"}


def _figure(value: float) -> str:
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def reading(target: Target) -> str:
    """What Signoff read from a target, when it says more than the text ("below 5" for "<5");
    "" when the text says it already."""
    if target.kind == "date" and target.on:
        said = f"by {target.on.day} {target.on:%B %Y}"
    elif target.kind == "value" and target.value is not None:
        figure, unit = _figure(target.value), target.unit or ""
        if unit == "£":
            figure = f"£{figure}"
        elif unit:
            figure += unit if unit == "%" else f" {unit}"
        said = " ".join(filter(None, (COMPARED.get(target.comparator or ""), figure)))
    elif target.kind == "text":
        said = "read as words, not a figure"
    else:
        return ""
    plain = target.text.replace(" ", "").lower()
    return "" if said.replace(" ", "").lower() == plain else said


def cell_text(column: Column, value: Any) -> str:
    """A stored table cell as the plan shows it."""
    if value is None or value == "":
        return ""
    if column.kind == "pence" and isinstance(value, int):
        text = pounds_text(value)
        return f"-£{text[1:]}" if text.startswith("-") else f"£{text}"
    if column.kind == "choice":
        return dict(column.choices).get(str(value), str(value))
    if column.kind == "month":
        return month_label(str(value))
    return str(value)


def asked_message(number: int, names: list[str]) -> str:
    """The banner after submitting: who was asked to sign (it must fit a flash)."""
    unique = list(dict.fromkeys(names))
    listed = ", ".join(unique)
    if len(listed) > 200:
        listed = ", ".join(unique[:4]) + f" and {len(unique) - 4} more"
    return f"Version {number} was sent for sign-off. Asked to sign: {listed}."


# --- tables typed as rows of inputs ---------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One column of a table form: how it is typed and checked."""

    name: str
    label: str
    kind: str = "line"  # line, text, pence, choice, month
    limit: int = LINE_MAX
    choices: tuple[tuple[str, str], ...] = ()


def section_cells(spec: SectionSpec) -> tuple[Cell, ...]:
    return tuple(
        Cell(c.name, c.label, c.kind, TEXT_MAX if c.kind == "text" else LINE_MAX, c.choices)
        for c in spec.columns
    )


IMPROVEMENT_CELLS = (
    Cell("number", "Number", limit=20),
    Cell("action", "Action", "text", 2000),
    Cell("resources", "Additional resources", "text", 2000),
    Cell("outputs", "Outputs", "text", 2000),
    Cell("outcomes", "Outcomes", "text", 2000),
    Cell("risks", "Risks", "text", 2000),
    Cell("other_services", "Other services affected"),
    Cell("completion", "Completion month", "month"),
    Cell("responsible", "Responsible officers"),
)


@dataclass
class TypedRow:
    index: int  # its place in the form, from 0: "row 3" to the person is index 2
    values: dict[str, str]
    remove: bool = False

    @property
    def blank(self) -> bool:
        return not any(v.strip() for v in self.values.values())


def typed_rows(form: dict[str, str], prefix: str, cells: tuple[Cell, ...]) -> list[TypedRow]:
    """The rows as typed, in the form's order (fields named `{prefix}-{index}-{column}`)."""
    key = re.compile(rf"{re.escape(prefix)}-(\d{{1,4}})-([a-z0-9_]+)")
    found: dict[int, TypedRow] = {}
    names = {c.name for c in cells} | {"remove"}
    for name, value in form.items():
        m = key.fullmatch(name)
        if m and m[2] in names:
            row = found.setdefault(int(m[1]), TypedRow(int(m[1]), {}))
            if m[2] == "remove":
                row.remove = value == "yes"
            else:
                row.values[m[2]] = value.replace("\r\n", "\n")
    return [found[i] for i in sorted(found)]


def stored_rows(rows: list[dict[str, Any]], cells: tuple[Cell, ...]) -> list[TypedRow]:
    """Saved rows as the form shows them, with blank rows after them to add."""
    shown = [
        TypedRow(i, {c.name: _as_typed(c, row.get(c.name)) for c in cells})
        for i, row in enumerate(rows)
    ]
    return shown + [TypedRow(len(rows) + n, {}) for n in range(BLANK_ROWS)]


def _as_typed(cell: Cell, value: Any) -> str:
    if cell.kind == "pence":
        return pounds_text(value) if isinstance(value, int) else ""
    return "" if value is None else str(value)


def _value(cell: Cell, text: str) -> tuple[str | int | None, str | None]:
    """A cell's stored value, or the problem with what was typed."""
    if cell.kind == "pence":
        if not text.strip():
            return None, None
        pence = parse_pence(text)
        if pence is None:
            return None, "enter an amount in pounds, like 1,250.50"
        return pence, None
    if cell.kind == "choice":
        if text and text not in dict(cell.choices):
            return None, "choose one of the values listed"
        return text, None
    if cell.kind == "month":
        if text.strip() and not MONTH.fullmatch(text.strip()):
            return None, "enter a month as YYYY-MM, like 2011-03"
        return text.strip(), None
    problem = text_problem(text, cell.limit, single=cell.kind == "line")
    return text.strip(), problem


def read_rows(
    typed: list[TypedRow],
    cells: tuple[Cell, ...],
    *,
    prefix: str,
    what: str,
    required: tuple[str, ...] = (),
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The rows to keep (blank and removed ones dropped), and each problem keyed by its input
    (`{prefix}-{index}-{column}`), named by the row's number as the form shows it."""
    rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for row in typed:
        if row.remove or row.blank:
            continue
        kept: dict[str, Any] = {}
        for cell in cells:
            kept[cell.name], problem = _value(cell, row.values.get(cell.name, ""))
            if problem is None and cell.name in required and not kept[cell.name]:
                problem = "enter it, or leave the whole row blank"
            if problem:
                field = f"{prefix}-{row.index}-{cell.name}"
                errors[field] = f"{what.capitalize()} {row.index + 1}, {cell.label}: {problem}"
        rows.append(kept)
    if len(rows) > ROWS_MAX:
        errors[f"{prefix}-0-{cells[0].name}"] = (
            f"There are {len(rows)} {what}s: a plan holds at most {ROWS_MAX}. "
            f"Remove {len(rows) - ROWS_MAX}, or leave them blank."
        )
    return rows, errors


def read_improvement(typed: list[TypedRow]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    return read_rows(typed, IMPROVEMENT_CELLS, prefix="imp", what="action", required=("action",))


# --- signatories -----------------------------------------------------------------------------

SIGNATORY_CELLS = (
    Cell("email", "Email address", limit=254),
    Cell("role", "Signs as", "choice", 40),
    Cell("portfolio", "Portfolio", limit=120),
)


def read_signatories(typed: list[TypedRow]) -> tuple[list[SignatoryIn], dict[str, str]]:
    """Each signatory row as the service takes it; a Portfolio Holder needs a portfolio, as
    each pair in the "Approved by" block is named by it."""
    named: list[SignatoryIn] = []
    errors: dict[str, str] = {}
    for row in typed:
        if row.remove or row.blank:
            continue
        values = {c.name: row.values.get(c.name, "").strip() for c in SIGNATORY_CELLS}
        where, key = f"Signatory {row.index + 1}", f"sig-{row.index}-"
        if not values["email"]:
            errors[key + "email"] = f"{where}: enter their email address"
        if values["role"] not in ROLES:
            errors[key + "role"] = f"{where}: choose Portfolio Holder or Corporate Manager"
        elif values["role"] == "portfolio_holder" and not values["portfolio"]:
            errors[key + "portfolio"] = f"{where}: enter the Portfolio Holder's portfolio"
        if any(k.startswith(key) for k in errors):
            continue
        try:
            named.append(SignatoryIn(**values))  # type: ignore[arg-type]
        except ValidationError as exc:
            for field, message in field_errors(exc, SIGNATORY_LABELS).items():
                if field == "email":
                    message = email_problem(values["email"], "their").lower()
                errors.setdefault(key + field, f"{where}: {message}")
    return named, errors


def email_problem(typed: str, whose: str) -> str:
    if not typed.strip():
        return f"Enter {whose} email address"
    return f"Enter {whose} email address in the right form, like name@council.gov.uk"


ROLES = {"portfolio_holder": "Portfolio Holder", "corporate_manager": "Corporate Manager"}
SIGNATORY_LABELS = {"email": "email address", "role": "who they sign as", "portfolio": "portfolio"}


# --- the operational plan ---------------------------------------------------------------------

OPERATIONAL_LABELS = {
    "team": "the team",
    "aim_approach": "the council aim or approach",
    "service_objective": "the service objective",
    "supporting_objective": "the supporting objective",
    "indicator": "the performance indicator or milestone",
    "code": "the indicator's code",
    "lead_officer": "the lead officer",
}


def problems(message: str) -> list[str]:
    """A refused file's message, one bad row a line: "x.csv was not imported: row 2: ...;
    row 5: ..." as the headline, then "Row 2: ...", "Row 5: ..."."""
    head, _, rest = message.partition(" was not imported: ")
    if not rest:
        return [message]
    rows = [r.strip() for r in rest.split("; row ")]
    rows = [rows[0]] + [f"row {r}" for r in rows[1:]]
    return [f"{head} was not imported: {len(rows)} rows have problems"] + [
        r[:1].upper() + r[1:] for r in rows
    ]


def operational_row(form: dict[str, str]) -> tuple[OperationalRow | None, dict[str, str]]:
    errors: dict[str, str] = {}
    parsed = []
    for n in range(3):
        text = form.get(f"target-{n}", "").strip()
        problem = text_problem(text, LINE_MAX, single=True)
        if problem:
            errors[f"target-{n}"] = f"Year {n + 1}'s target {problem}"
        else:
            parsed.append(targets.parse(text))
    values = {f: form.get(f, "").replace("\r\n", "\n") for f in OPERATIONAL_LABELS}
    if not values["indicator"].strip():  # the model counts " " as one character, then strips it
        errors["indicator"] = "Enter the performance indicator or milestone"
    values["code"] = values["code"].strip() or targets.code_of(values["indicator"])
    try:
        row = OperationalRow(**values, targets=parsed)
    except ValidationError as exc:
        return None, field_errors(exc, OPERATIONAL_LABELS) | errors
    return (None, errors) if errors else (row, {})


# --- where a plan sits ------------------------------------------------------------------------


def cycle_year(session: Session, plan: ServicePlan) -> int:
    return next(c.year for c in plans.list_cycles(session) if c.id == plan.cycle_id)


def crumbs(year: int | None = None, plan: ServicePlan | None = None) -> list[dict[str, str]]:
    """Service plans > 2010/11 > the plan."""
    trail = [{"text": "Service plans", "href": "/planning"}]
    if year is not None:
        trail.append({"text": plans.cycle_label(year), "href": f"/planning/{year}"})
    if plan is not None:
        trail.append({"text": plan.service_area, "href": f"/planning/plans/{plan.id}"})
    return trail
