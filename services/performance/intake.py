"""What performance takes from other processes (services.platform.monitoring): approved
indicators become measures, and a computed year-end figure becomes its measure's figure.

Indicators go on the scorecard of the area and year they belong to ("Community and Customer
Services", 2010 -> CCS-1011), with the first year's target as the year-end target. One whose
code was measured the year before keeps that measure's frequency, unit, polarity and officers
(linked by code); one without a code ("NEW PI") gets one from its place in the list; an
explicit "<5" makes it lower-is-better. Idempotent by code: handing the same set over again
updates the measures. So the chase covers them from April.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, col, select

from core import clock
from models.performance import (
    Figure,
    FigureState,
    Frequency,
    Measure,
    Polarity,
    Scorecard,
)
from models.performance.figures import COMMENTARY_MAX
from services.performance import figures, officers, periods
from services.performance.imports import set_target
from services.platform import audit, monitoring
from services.platform.monitoring import ComputedFigure, Indicator, IndicatorSet, Taken

_SMALL = ("", "and", "of", "the")
_CODE_PREFIX = re.compile(r"^\s*[A-Za-z]{1,6}\s?\d+[A-Za-z]?\s*[-–—:]\s*")


def scorecard_code(area: str, year: int) -> str:
    """ "Community and Customer Services", 2010 -> "CCS-1011"."""
    words = [w for w in re.split(r"[^A-Za-z]+", area) if w.lower() not in _SMALL]
    initials = "".join(w[0].upper() for w in words)[:10] or "PLAN"
    return f"{initials}-{year % 100:02d}{(year + 1) % 100:02d}"


class PerformanceIntake:
    def take_indicators(self, session: Session, indicators: IndicatorSet) -> Taken:
        card = _scorecard(session, indicators)
        on_card = session.exec(select(Measure).where(Measure.scorecard_id == card.id))
        existing = {m.code: m for m in on_card}
        last_year = _measures_of_year(session, indicators.year - 1)
        people = officers.directory(session)
        year_end = periods.year_end(indicators.year)
        taken = Taken(where=[card.code])
        for number, indicator in enumerate(indicators.indicators, start=1):
            code = (indicator.code or f"NEW PI {number}")[:40]
            values = _values(indicator, code, last_year.get(indicator.code), people)
            _save(session, card, existing, values, indicator.target, year_end, taken)
        audit.record(
            session,
            actor_id=None,
            actor_role="system",
            actor_address="",
            subject_type="scorecard",
            subject_id=card.id or 0,
            subject_version=1,
            action="load_measures",
            detail=f"{indicators.area} {indicators.year}: {taken.created} measures added, "
            f"{taken.updated} updated",
        )
        return taken

    def take_figure(self, session: Session, figure: ComputedFigure) -> Taken:
        period = periods.year_end(figure.year)
        taken = Taken()
        rows = session.exec(
            select(Measure, Scorecard)
            .join(Scorecard, col(Scorecard.id) == col(Measure.scorecard_id))
            .where(col(Measure.code) == figure.code, col(Measure.active))
            .where(col(Scorecard.year) == figure.year)
            .order_by(col(Scorecard.code))
        )
        for measure, card in rows:
            _write(session, measure, period, figure)
            taken.where.append(card.code)
        return taken


def _scorecard(session: Session, indicators: IndicatorSet) -> Scorecard:
    code = scorecard_code(indicators.area, indicators.year)
    card = session.exec(select(Scorecard).where(Scorecard.code == code)).first()
    if card is None:
        year = indicators.year
        card = Scorecard(
            code=code,
            name=f"{indicators.area} {year % 100:02d}/{(year + 1) % 100:02d}",
            year=year,
            created_at=clock.now(),
        )
        session.add(card)
        session.flush()
    return card


def _measures_of_year(session: Session, year: int) -> dict[str, Measure]:
    rows = session.exec(
        select(Measure)
        .join(Scorecard, col(Scorecard.id) == col(Measure.scorecard_id))
        .where(Scorecard.year == year)
        .order_by(col(Measure.id))
    )
    return {m.code: m for m in rows}


def _first_name(text: str) -> str:
    """ "Ian Salter / Paul Knight" -> "Ian Salter": a measure has one responsible officer."""
    return re.split(r"\s*[/&,]\s*|\s+and\s+", text.strip(), maxsplit=1)[0][:120]


def _values(
    indicator: Indicator, code: str, before: Measure | None, people: officers.Directory
) -> dict[str, Any]:
    if indicator.comparator in ("<", "<="):
        polarity = Polarity.lower_better
    elif indicator.comparator in (">", ">="):
        polarity = Polarity.higher_better
    else:
        polarity = before.polarity if before is not None else Polarity.higher_better
    unit = "percentage" if indicator.unit == "%" else None
    if indicator.kind == "milestone":
        unit = "milestone"
    officer = _first_name(indicator.officer)
    found = people.find(officer) if officer else None
    return {
        "code": code,
        "name": (_CODE_PREFIX.sub("", indicator.name) or indicator.name)[:300],
        "aim": (indicator.aim or "Service plan")[:200],
        "approach": indicator.approach[:200],
        "frequency": before.frequency if before is not None else _frequency(indicator),
        "unit": unit or (before.unit if before is not None else "number"),
        "polarity": polarity,
        "responsible_name": officer,
        "data_source_name": officer,
        "responsible_officer_id": found or (before.responsible_officer_id if before else None),
        "data_source_officer_id": found or (before.data_source_officer_id if before else None),
    }


def _frequency(indicator: Indicator) -> Frequency:
    # A milestone is looked at each quarter; a new indicator yearly until someone says more.
    return Frequency.quarterly if indicator.kind == "milestone" else Frequency.yearly


def _save(
    session: Session,
    card: Scorecard,
    existing: dict[str, Measure],
    values: dict[str, Any],
    target: float | None,
    year_end: str,
    taken: Taken,
) -> None:
    measure = existing.get(values["code"])
    values["year_end_target"] = target
    if measure is None:
        measure = Measure(scorecard_id=card.id or 0, updated_at=clock.now(), **values)
        session.add(measure)
        session.flush()
        existing[measure.code] = measure
        taken.created += 1
    else:
        for k, v in values.items():
            setattr(measure, k, v)
        measure.active, measure.updated_at = True, clock.now()
        taken.updated += 1
    if target is not None:
        set_target(session, measure, year_end, target)


def _write(session: Session, measure: Measure, period: str, figure: ComputedFigure) -> None:
    """The figure as a revision like any other (who: nobody; why: the process that computed
    it), so reports and RAG treat it as they treat a figure an officer entered."""
    current = session.exec(
        select(Figure).where(Figure.measure_id == measure.id, Figure.period == period)
    ).first()
    values = {
        "state": FigureState.entered,
        "actual": figure.value,
        "ytd_actual": None,
        # The year is over: its end-of-year estimate is what happened.
        "estimate": figure.value,
        "commentary": figure.commentary[:COMMENTARY_MAX],
        "unavailable_reason": "",
    }
    figures.write(
        session,
        measure=measure,
        period=period,
        figure=current,
        values=values,
        by_id=None,
        reason=figure.reason,
    )


monitoring.register(PerformanceIntake())
