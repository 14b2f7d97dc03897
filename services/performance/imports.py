"""Import a scorecard from a CSV or XLSX file with the council's columns.

All or nothing: every row is checked first and a file with any bad row changes nothing, so a
person fixes the file and imports it again. Re-importing updates measures, targets and figures
in place (a changed figure keeps a revision saying it came from a file); it never duplicates.
Officers are matched by name (services/performance/officers.py); unknown and look-alike names
are reported, and the measures keep the file's spelling until someone confirms who it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from core import clock
from models.performance import Frequency, Measure, MeasureTarget, Polarity, Scorecard
from models.text import single_line
from services.performance import figures, numbers, officers, periods
from services.platform import audit
from services.platform.errors import Invalid

COLUMNS = [
    "scorecard", "aim", "approach", "code", "name", "frequency", "responsible_officer",
    "data_source_officer", "unit", "polarity", "target", "actual", "ytd_actual",
    "year_end_target", "estimate",
]  # fmt: skip
_FREQUENCIES = {f.value: f for f in Frequency} | {
    "half yearly": Frequency.half_yearly,
    "annual": Frequency.yearly,
    "annually": Frequency.yearly,
    "month": Frequency.monthly,
    "quarter": Frequency.quarterly,
}
_POLARITIES = {
    "higher": Polarity.higher_better,
    "high": Polarity.higher_better,
    "lower": Polarity.lower_better,
    "low": Polarity.lower_better,
}


@dataclass
class Line:
    """One checked row of the file."""

    number: int
    fields: dict[str, Any]


@dataclass
class ImportReport:
    scorecard: str
    period: str
    created: int = 0
    updated: int = 0
    figures: int = 0
    unknown: list[str] = field(default_factory=list)  # names like nobody registered
    # a file's name -> the registered people (or other names in the file) it resembles
    resembling: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def import_scorecard(
    session: Session,
    *,
    rows: list[dict[str, str]],
    code: str,
    period: str,
    actor_id: int | None,
    filename: str = "the file",
    portfolio: str | None = None,
) -> ImportReport:
    """Create or update the scorecard `code` and its measures from the rows; the file's
    actuals and estimates are the figures of `period` (each measure's latest period by then)."""
    period = _period(period)
    code = _code(code)
    from services.platform import tabular

    tabular.require_columns(rows, COLUMNS, filename)
    lines, errors = [], []
    for n, row in tabular.numbered(rows):
        try:
            lines.append(Line(n, _check(row)))
        except ValueError as exc:
            errors.append(f"row {n}: {exc}")
    if errors:
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        raise Invalid(f"{filename} was not imported: " + "; ".join(errors[:20]) + more)
    _one_each(lines)
    names = {line.fields["scorecard"] for line in lines}
    if len(names) != 1:
        raise Invalid(f"{filename} holds rows of {len(names)} scorecards; import one at a time.")
    card = _scorecard(session, code, names.pop(), periods.financial_year(period), portfolio)
    report = ImportReport(scorecard=card.code, period=period)
    people = officers.directory(session)
    existing = {
        m.code: m for m in session.exec(select(Measure).where(col(Measure.scorecard_id) == card.id))
    }
    for line in lines:
        _measure(session, card, existing, line.fields, period, people, report, actor_id)
    _report_names(lines, people, report)
    audit.record(
        session,
        actor_id=actor_id,
        actor_role="performance",
        actor_address="",
        subject_type="scorecard",
        subject_id=card.id or 0,
        subject_version=1,
        action="import",
        detail=(
            f"{filename}: {report.created} created, {report.updated} updated, "
            f"{report.figures} figures for {period}"
        ),
    )
    return report


def _period(text: str) -> str:
    try:
        return periods.parse(text)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def _code(text: str) -> str:
    code = (text or "").strip()
    if not code or len(code) > 40 or not all(c.isalnum() or c in "-_/" for c in code):
        raise Invalid("A scorecard code is 1 to 40 letters, digits, - _ or / (e.g. CCS-0910).")
    return code.upper()


def _text(row: dict[str, str], column: str, limit: int, *, required: bool = True) -> str:
    value = single_line(row.get(column, ""))
    if required and not value:
        raise ValueError(f"{column} is empty")
    if len(value) > limit:
        raise ValueError(f"{column} is longer than {limit} characters")
    return value


def _number(row: dict[str, str], column: str) -> float | None:
    return numbers.parse(row.get(column, ""), what=column)


def _check(row: dict[str, str]) -> dict[str, Any]:
    frequency = _FREQUENCIES.get(row.get("frequency", "").strip().lower())
    if frequency is None:
        raise ValueError(
            f"frequency {row.get('frequency', '')[:30]!r} is not monthly, quarterly, "
            "half-yearly or yearly"
        )
    polarity = _POLARITIES.get(row.get("polarity", "").strip().lower())
    if polarity is None:
        raise ValueError(f"polarity {row.get('polarity', '')[:30]!r} is not higher or lower")
    fields: dict[str, Any] = {
        "scorecard": _text(row, "scorecard", 200),
        "aim": _text(row, "aim", 200),
        "approach": _text(row, "approach", 200, required=False),
        "code": _text(row, "code", 40),
        "name": _text(row, "name", 300),
        "frequency": frequency,
        "polarity": polarity,
        "responsible_name": _text(row, "responsible_officer", 120, required=False),
        "data_source_name": _text(row, "data_source_officer", 120, required=False),
        "unit": _text(row, "unit", 40, required=False) or "number",
    }
    for column in ("target", "actual", "ytd_actual", "year_end_target", "estimate"):
        fields[column] = _number(row, column)
    for column in ("actual", "estimate"):
        if fields[column] is not None:
            numbers.in_range(fields[column], fields["unit"], what=column)
    if "amber_tolerance" in row:
        fields["amber_tolerance"] = _number(row, "amber_tolerance")
    return fields


def _one_each(lines: list[Line]) -> None:
    seen: dict[str, int] = {}
    for line in lines:
        code = line.fields["code"]
        if code in seen:
            raise Invalid(
                f"Measure {code} appears twice (rows {seen[code]} and {line.number}); "
                "nothing was imported."
            )
        seen[code] = line.number


def _scorecard(
    session: Session, code: str, name: str, year: int, portfolio: str | None
) -> Scorecard:
    card = session.exec(select(Scorecard).where(Scorecard.code == code)).first()
    if card is None:
        card = Scorecard(
            code=code, name=name, year=year, portfolio=portfolio or "", created_at=clock.now()
        )
        session.add(card)
        session.flush()
        return card
    card.name = name
    if portfolio is not None:
        card.portfolio = portfolio
    return card


def _measure(
    session: Session,
    card: Scorecard,
    existing: dict[str, Measure],
    f: dict[str, Any],
    period: str,
    people: officers.Directory,
    report: ImportReport,
    actor_id: int | None,
) -> None:
    values = {
        k: f[k]
        for k in ("aim", "approach", "name", "frequency", "polarity", "unit", "year_end_target",
                  "responsible_name", "data_source_name")
    }  # fmt: skip
    if "amber_tolerance" in f:
        values["amber_tolerance"] = f["amber_tolerance"]
    values["responsible_officer_id"] = people.find(f["responsible_name"])
    values["data_source_officer_id"] = people.find(f["data_source_name"])
    measure = existing.get(f["code"])
    if measure is None:
        measure = Measure(
            scorecard_id=card.id or 0, code=f["code"], updated_at=clock.now(), **values
        )
        session.add(measure)
        session.flush()
        report.created += 1
    else:
        for k, v in values.items():
            setattr(measure, k, v)
        measure.active, measure.updated_at = True, clock.now()
        report.updated += 1
    shown = periods.latest(measure.frequency, period)
    if f["target"] is not None:
        set_target(session, measure, shown, f["target"])
    if f["actual"] is not None:
        report.figures += figures.record_from_file(
            session,
            measure=measure,
            period=shown,
            values={k: f[k] for k in ("actual", "ytd_actual", "estimate")},
            by_id=actor_id,
        )


def set_target(session: Session, measure: Measure, period: str, value: float) -> None:
    """The measure's target for a period, added or replaced."""
    row = session.exec(
        select(MeasureTarget).where(
            MeasureTarget.measure_id == measure.id, MeasureTarget.period == period
        )
    ).first()
    if row is None:
        session.add(MeasureTarget(measure_id=measure.id or 0, period=period, value=value))
    else:
        row.value = value


def _report_names(lines: list[Line], people: officers.Directory, report: ImportReport) -> None:
    names = sorted(
        {line.fields[k] for line in lines for k in ("responsible_name", "data_source_name")} - {""}
    )
    unmatched = [n for n in names if people.find(n) is None]
    for name in unmatched:
        like = [p.name for p in people.resembling(name)]
        like += [other for other in unmatched if other != name and officers.alike(name, other)]
        if like:
            report.resembling[name] = like
        else:
            report.unknown.append(name)


def assign_officers(session: Session) -> int:
    """Match measures still holding only a file's spelling to people now known by it (after
    an alias is confirmed or a person registered); the number of measures changed."""
    people = officers.directory(session)
    changed = 0
    for m in session.exec(
        select(Measure).where(
            col(Measure.responsible_officer_id).is_(None)
            | col(Measure.data_source_officer_id).is_(None)
        )
    ):
        r, d = people.find(m.responsible_name), people.find(m.data_source_name)
        if m.responsible_officer_id is None and r is not None:
            m.responsible_officer_id, changed = r, changed + 1
        if m.data_source_officer_id is None and d is not None:
            m.data_source_officer_id, changed = d, changed + 1
    return changed
