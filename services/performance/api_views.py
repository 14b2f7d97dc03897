"""What the JSON API reads and writes of performance: scorecards, their RAG summary, measures
with their targets and figures, entering a figure and overriding its colours.

Colours come from the same rule as the reports (`report.colours_of`);
a test holds the API's colours to `report.rows`. A measure list costs four queries whatever
the scorecard's size: measures, targets, figures, officers.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from core import clock
from core.db import in_chunks
from models.performance import (
    Figure,
    FigureReturn,
    Measure,
    MeasureTarget,
    Scorecard,
)
from models.performance.public import (
    ColourPublic,
    FigureEntered,
    FigureInput,
    FigurePublic,
    MeasureList,
    MeasurePublic,
    OfficerPublic,
    OverrideInput,
    RagSummary,
    ScorecardList,
    ScorecardPublic,
    TargetPublic,
)
from services.performance import access, figures, one_figure, report, reports
from services.performance.rag import Colour
from services.platform.actors import Actor
from services.platform.errors import Forbidden, NotFound

CHUNK = 5000  # ids per IN list, under SQLite's variable limit


def scorecard_list(session: Session) -> ScorecardList:
    """Every scorecard, by code."""
    rows = session.exec(select(Scorecard).order_by(col(Scorecard.code)))
    return ScorecardList(
        items=[ScorecardPublic.model_validate(s, from_attributes=True) for s in rows]
    )


def rag_summary(session: Session, *, code: str, period: str | None) -> RagSummary:
    """The scorecard's RAG summary per aim and in total, at `period` or where its report pages
    open."""
    scorecard = _scorecard(session, code)
    period = period or reports.opening_period(session, scorecard, clock.today())
    return RagSummary.model_validate(
        report.rag_summary(session, scorecard=scorecard, period=period)
    )


def measure_list(session: Session, *, code: str) -> MeasureList:
    """Every measure of the scorecard with its officers, targets and figures."""
    scorecard = _scorecard(session, code)
    measures = list(
        session.exec(
            select(Measure)
            .where(col(Measure.scorecard_id) == scorecard.id)
            .order_by(col(Measure.aim), col(Measure.approach), col(Measure.code))
        )
    )
    return MeasureList(scorecard=scorecard.code, items=_public(session, scorecard, measures))


def measure_detail(session: Session, *, code: str, measure_code: str) -> MeasurePublic:
    """One measure of the scorecard with its officers, targets and figures."""
    scorecard, measure = _measure(session, code, measure_code)
    return _public(session, scorecard, [measure])[0]


def enter_figure(
    session: Session,
    *,
    code: str,
    measure_code: str,
    period: str,
    data: FigureInput,
    actor: Actor,
) -> FigureEntered:
    """Enter or revise one figure as the entry page would, and settle the officer's return."""
    _, measure = _measure(session, code, measure_code)
    figure = one_figure.enter_one(
        session,
        measure=measure,
        period=period,
        entry=figures.Entry(
            actual=_typed(data.actual),
            ytd_actual=_typed(data.ytd_actual),
            estimate=_typed(data.estimate),
            commentary=data.commentary,
            unavailable=data.unavailable,
            reason=data.unavailable_reason,
        ),
        reason=data.reason,
        version=data.version,
        actor=actor,
    )
    ret = session.exec(
        select(FigureReturn.status).where(
            FigureReturn.officer_id == measure.data_source_officer_id,
            FigureReturn.period == figure.period,
        )
    ).first()
    shown = _figure_public(session, measure, figure)
    return FigureEntered.model_validate(shown.model_dump() | {"return_status": ret})


def override_colours(
    session: Session,
    *,
    code: str,
    measure_code: str,
    period: str,
    data: OverrideInput,
    actor: Actor,
) -> FigurePublic:
    """Record the responsible officer's judgement over a figure's AMBER or RED colours."""
    _, measure = _measure(session, code, measure_code)
    if not access.may_override(measure, actor):
        raise Forbidden(access.MAY_NOT_OVERRIDE)
    figure = session.exec(
        select(Figure).where(Figure.measure_id == measure.id, Figure.period == period)
    ).first()
    if figure is None:
        raise NotFound(f"Measure {measure.code} has no figure for {period}.")
    shown = _figure_public(session, measure, figure)
    figures.override(
        session,
        figure=figure,
        computed_current=shown.current.computed,
        computed_projected=shown.projected.computed,
        current=data.current,
        projected=data.projected,
        reason=data.reason,
        actor=actor,
    )
    return _figure_public(session, measure, figure)


# --- reading ----------------------------------------------------------------------------------


def _scorecard(session: Session, code: str) -> Scorecard:
    found = session.exec(select(Scorecard).where(Scorecard.code == code)).first()
    if found is None:
        raise NotFound(f"There is no scorecard {code}.")
    return found


def _measure(session: Session, code: str, measure_code: str) -> tuple[Scorecard, Measure]:
    scorecard = _scorecard(session, code)
    found = session.exec(
        select(Measure).where(Measure.scorecard_id == scorecard.id, Measure.code == measure_code)
    ).first()
    if found is None:
        raise NotFound(f"Scorecard {scorecard.code} has no measure {measure_code}.")
    return scorecard, found


def _typed(value: float | None) -> str:
    """A JSON number as typed into the entry page: plain digits (1e-07 is 0.0000001, which
    the page's check refuses for its seven decimals rather than this rounding it)."""
    return "" if value is None else format(Decimal(repr(value)), "f")


def _rows(session: Session, table: Any, ids: list[int]) -> dict[int, list[Any]]:
    """A table's rows (targets or figures) of these measures, by measure, oldest period first."""
    found: dict[int, list[Any]] = defaultdict(list)
    for chunk in in_chunks(ids, CHUNK):
        query = select(table).where(col(table.measure_id).in_(chunk)).order_by(col(table.period))
        for row in session.exec(query):
            found[row.measure_id].append(row)
    return found


def _public(session: Session, scorecard: Scorecard, measures: list[Measure]) -> list[MeasurePublic]:
    ids = [m.id for m in measures if m.id is not None]
    targets = _rows(session, MeasureTarget, ids)
    entered = _rows(session, Figure, ids)
    people = report.officers(session, measures)
    out = []
    for m in measures:
        at = {t.period: t.value for t in targets[m.id or 0]}
        out.append(
            MeasurePublic.model_validate(
                m.model_dump()
                | {
                    "scorecard": scorecard.code,
                    "responsible_officer": _officer(
                        m.responsible_name, m.responsible_officer_id, people
                    ),
                    "data_source_officer": _officer(
                        m.data_source_name, m.data_source_officer_id, people
                    ),
                    "targets": [TargetPublic(period=p, value=v) for p, v in at.items()],
                    "figures": [_shown(m, f, at.get(f.period)) for f in entered[m.id or 0]],
                }
            )
        )
    return out


def _officer(name: str, person_id: int | None, people: dict[int, Any]) -> OfficerPublic | None:
    person = people.get(person_id) if person_id is not None else None
    if person is not None:
        return OfficerPublic(name=person.name, email=person.email)
    return OfficerPublic(name=name, email=None) if name else None


def _figure_public(session: Session, measure: Measure, figure: Figure) -> FigurePublic:
    target = session.exec(
        select(MeasureTarget.value).where(
            MeasureTarget.measure_id == measure.id, MeasureTarget.period == figure.period
        )
    ).first()
    return _shown(measure, figure, target)


def _shown(measure: Measure, figure: Figure, target: float | None) -> FigurePublic:
    """A figure with its colours, judged as `report.rows` judges them."""
    current, projected = report.colours_of(measure, figure, target)
    return FigurePublic.model_validate(
        figure.model_dump()
        | {"target": target, "current": _colour(current), "projected": _colour(projected)}
    )


def _colour(colour: Colour) -> ColourPublic:
    return ColourPublic(
        computed=colour.computed, override=colour.override, reported=colour.reported
    )
