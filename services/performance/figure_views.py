"""One figure's page: what it is, its colours, its revisions, and who may change what."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from models import Person
from models.performance import Figure, FigureRevision, Measure, MeasureTarget, Scorecard
from services.performance import access, figures, periods, report
from services.performance.rag import Colour
from services.platform.actors import Actor
from services.platform.errors import NotFound
from services.platform.people import by_ids


@dataclass
class FigureView:
    measure: Measure
    scorecard: Scorecard
    period: str
    figure: Figure | None
    target: float | None
    current: Colour
    projected: Colour
    revisions: list[FigureRevision]
    people: dict[int, Person]
    may_enter: bool
    may_override: bool

    @property
    def overridable(self) -> bool:
        """An override is possible: a figure whose computed colour is AMBER or RED."""
        return self.figure is not None and (
            self.current.computed in figures.OVERRIDABLE
            or self.projected.computed in figures.OVERRIDABLE
        )


def view(session: Session, *, measure_id: int, period: str, actor: Actor) -> FigureView:
    """The figure of a measure for a period (NotFound for an unknown measure or bad period)."""
    measure = session.get(Measure, measure_id)
    try:
        period = periods.parse(period)
    except ValueError:
        raise NotFound("No such figure.") from None
    if measure is None or not periods.is_due(measure.frequency, period):
        raise NotFound("No such figure.")
    scorecard = session.get(Scorecard, measure.scorecard_id)
    assert scorecard is not None
    figure = session.exec(
        select(Figure).where(Figure.measure_id == measure.id, Figure.period == period)
    ).first()
    target = session.exec(
        select(MeasureTarget.value).where(
            MeasureTarget.measure_id == measure.id, MeasureTarget.period == period
        )
    ).first()
    current, projected = report.colours_of(measure, figure, target)
    revisions: list[FigureRevision] = []
    if figure is not None:
        revisions = figures.revisions(session, figure_id=figure.id or 0)
    ids = [r.by_id for r in revisions] + [figure.override_by_id if figure else None]
    ids += [measure.responsible_officer_id, measure.data_source_officer_id]
    return FigureView(
        measure,
        scorecard,
        period,
        figure,
        target,
        current,
        projected,
        revisions,
        by_ids(session, ids),
        access.may_enter(measure, actor),
        access.may_override(measure, actor),
    )
