"""Read an operational plan from a CSV or XLSX file with the council's columns.

team, council_aim_approach, service_objective, supporting_objective, indicator, one to three
target_* columns (the plan's years, in order: target_2010_11, target_2011_12, ...) and
lead_officer; headers in any case. Only indicator is required.

All or nothing, as a scorecard import: every row is checked and a file with any bad row is
refused with every problem by row number, so a person fixes the file and uploads it again.
A target that reads as no known form is not a problem: its text is kept (kind "text").
"""

from __future__ import annotations

from pydantic import ValidationError

from models.planning.content import YEARS, OperationalRow
from models.text import free_text
from services.planning import targets
from services.platform import tabular
from services.platform.errors import Invalid

# The model's field -> the file's column (as tabular gives it: lower case, "_" for spaces).
COLUMNS = {
    "team": "team",
    "aim_approach": "council_aim_approach",
    "service_objective": "service_objective",
    "supporting_objective": "supporting_objective",
    "indicator": "indicator",
    "lead_officer": "lead_officer",
}
SHOWN = 20  # problems spelt out in the message; the rest are counted


def read_operational_plan(data: bytes, filename: str) -> list[OperationalRow]:
    """The rows of the file; Invalid (nothing returned) when the file or any row is bad."""
    rows = tabular.parse(data, filename)
    if not rows:
        raise Invalid(f"{filename} has a header but no rows.")
    tabular.require_columns(rows, ["indicator"], filename)
    years = [c for c in rows[0] if c.startswith("target_")]
    if len(years) > YEARS:
        # Refused rather than cut: a plan covers three years, and a fourth would be lost.
        raise Invalid(
            f"{filename} has {len(years)} target columns ({', '.join(years)}); "
            f"a plan has at most {YEARS}."
        )
    out, errors = [], []
    for n, row in tabular.numbered(rows):
        try:
            out.append(_row(row, years))
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            errors.append(f"row {n}: {exc}")
    if errors:
        more = f" (and {len(errors) - SHOWN} more)" if len(errors) > SHOWN else ""
        raise Invalid(f"{filename} was not imported: " + "; ".join(errors[:SHOWN]) + more)
    return out


def _row(row: dict[str, str], years: list[str]) -> OperationalRow:
    problems, parsed = [], []
    for column in years:
        text = row.get(column, "")
        try:
            free_text(text)  # Target keeps any text, so hostile characters are stopped here
            parsed.append(targets.parse(text))
        except ValidationError as exc:
            problems += _plain(exc, {"text": column})
        except ValueError as exc:
            problems.append(f"{column} {exc}")
    values = {field: row.get(column, "") for field, column in COLUMNS.items()}
    try:
        made = OperationalRow(**values, code=targets.code_of(values["indicator"]), targets=parsed)
    except ValidationError as exc:
        problems += _plain(exc, COLUMNS)
    else:
        if not problems:
            return made
    raise ValueError(", ".join(problems))


def _plain(exc: ValidationError, columns: dict[str, str]) -> list[str]:
    """Pydantic's errors as a person reads them, naming the file's columns: "indicator is
    empty", "team is longer than 300 characters", "lead_officer must be a single line ..."."""
    out = []
    for e in exc.errors():
        field = str(e["loc"][0]) if e["loc"] else ""
        column = columns.get(field, field)
        ctx = e.get("ctx", {})
        if e["type"] in ("string_too_short", "missing"):
            out.append(f"{column} is empty")
        elif e["type"] == "string_too_long":
            out.append(f"{column} is longer than {ctx.get('max_length', 0):,} characters")
        elif e["type"] == "value_error":
            out.append(f"{column} {ctx.get('error', e['msg'])}")
        else:
            out.append(f"{column}: {e['msg']}")
    return out
