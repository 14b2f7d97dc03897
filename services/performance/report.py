"""A scorecard as at a period: each measure on its latest figure, coloured; and its summaries.

Everything a report page, a download, the API's RAG summary and the chase's view of lateness
shows comes from `rows` (one query for a scorecard of any size: each measure with its target
and figure), so they cannot disagree; the RAG summary counts the same query's columns with the
same colour rule (`_colours`), without making a row object per measure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case
from sqlalchemy import select as columns  # sqlmodel's select types at most 4 columns
from sqlmodel import Session, col, select

from core import clock
from models import Person
from models.performance import (
    Figure,
    FigureState,
    Frequency,
    Measure,
    MeasureTarget,
    Rag,
    Scorecard,
)
from services.performance import periods
from services.performance.rag import Colour, judge

COLOURS = (Rag.green, Rag.amber, Rag.red, Rag.grey)


@dataclass(frozen=True)
class Row:
    measure: Measure
    period: str  # the period of the figure shown (a yearly measure's may be last year's)
    carried: bool  # the figure is from an earlier period than the report's
    figure: Figure | None
    target: float | None
    due_on: date
    cutoff_on: date
    current: Colour
    projected: Colour
    state: str  # entered | unavailable | awaiting (before the cut-off) | missing (GREY)
    days_late: int  # calendar days after the due date it came in, or is still out

    @property
    def aim(self) -> str:
        return self.measure.aim


def rows(
    session: Session, *, scorecard: Scorecard, period: str, today: date | None = None
) -> list[Row]:
    """Every active measure of the scorecard as at `period`, in aim, approach, code order.

    One query: each measure with its target and figure at the latest period of its frequency
    (a measure has at most one of each per period), so nothing is read that is not shown."""
    today = today or clock.today()
    shown = _shown_periods(period)
    found = session.exec(
        select(Measure, MeasureTarget.value, Figure)
        .outerjoin(
            MeasureTarget,
            (col(MeasureTarget.measure_id) == col(Measure.id))
            & (col(MeasureTarget.period) == _period_case(shown)),
        )
        .outerjoin(
            Figure,
            (col(Figure.measure_id) == col(Measure.id))
            & (col(Figure.period) == _period_case(shown)),
        )
        .where(col(Measure.scorecard_id) == scorecard.id, col(Measure.active))
        .order_by(col(Measure.aim), col(Measure.approach), col(Measure.code))
    ).all()
    out = []
    for m, target, figure in found:
        p = shown[Frequency(m.frequency)]
        out.append(_row(m, p, p != period, figure, target, today))
    return out


def _shown_periods(period: str) -> dict[Frequency, str]:
    """Frequency -> the period a measure of it is shown at in a report as at `period`."""
    return {f: periods.latest(f, period) for f in Frequency}


def _period_case(shown: dict[Frequency, str]) -> Any:
    """SQL for the period shown of each measure row, by its frequency."""
    return case({f.value: p for f, p in shown.items()}, value=col(Measure.frequency))


def _row(
    m: Measure, p: str, carried: bool, figure: Figure | None, target: float | None, today: date
) -> Row:
    due, cutoff = periods.due_on(p), periods.cutoff_on(p)
    if figure is None:
        state = "awaiting" if today <= cutoff else "missing"
        late = max(0, (today - due).days)
        grey = Colour(Rag.grey)
        return Row(m, p, carried, None, target, due, cutoff, grey, grey, state, late)
    arrived = figure.first_entered_at.astimezone(clock.local_tz()).date()
    late = 0 if figure.imported else max(0, (arrived - due).days)
    current, projected = colours_of(m, figure, target)
    state = "unavailable" if figure.state == FigureState.unavailable else "entered"
    return Row(m, p, carried, figure, target, due, cutoff, current, projected, state, late)


def colours_of(
    measure: Measure, figure: Figure | None, target: float | None
) -> tuple[Colour, Colour]:
    """A figure's current and projected colours: the one rule pages, reports and the API use."""
    if figure is None:
        grey = Colour(Rag.grey)
        return grey, grey
    return _colours(
        measure.polarity,
        measure.amber_tolerance,
        measure.year_end_target,
        target,
        figure.state,
        figure.actual,
        figure.estimate,
        figure.override_current,
        figure.override_projected,
    )


def _colours(
    polarity: str,
    own: float | None,
    year_end_target: float | None,
    target: float | None,
    state: str | None,
    actual: float | None,
    estimate: float | None,
    override_current: Rag | None,
    override_projected: Rag | None,
) -> tuple[Colour, Colour]:
    """A measure's colours, current and projected, from its figure's state (None: no figure)
    and values: GREY without a figure or when the data is unavailable."""
    if state is None or state == FigureState.unavailable:
        grey = Colour(Rag.grey)
        return grey, grey
    current = Colour(judge(actual, target, polarity=polarity, own=own), override_current)
    projected = Colour(
        judge(estimate, year_end_target, polarity=polarity, own=own), override_projected
    )
    return current, projected


@dataclass
class Tally:
    """Counts of each reported colour, current and projected, over some measures."""

    measures: int = 0
    current: Counter[str] = field(default_factory=Counter)
    projected: Counter[str] = field(default_factory=Counter)
    entered: int = 0  # figures in (entered or marked unavailable): completeness

    def add(self, row: Row) -> None:
        self.count(row.current, row.projected, row.state in ("entered", "unavailable"))

    def count(self, current: Colour, projected: Colour, entered: bool) -> None:
        self.measures += 1
        self.current[current.reported.value] += 1
        self.projected[projected.reported.value] += 1
        self.entered += entered

    def counts(self, which: str) -> dict[str, int]:
        counter = self.current if which == "current" else self.projected
        return {c.value: counter[c.value] for c in COLOURS}

    def percent(self, which: str) -> dict[str, int]:
        """Whole percentages that add up to 100 (largest remainders get the rounding)."""
        return whole_percentages(self.counts(which))

    @property
    def complete_percent(self) -> int:
        return round(100 * self.entered / self.measures) if self.measures else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "measures": self.measures,
            "current": self.counts("current"),
            "projected": self.counts("projected"),
        }


def whole_percentages(counts: dict[str, int]) -> dict[str, int]:
    total = sum(counts.values())
    if not total:
        return {k: 0 for k in counts}
    exact = {k: 100 * v / total for k, v in counts.items()}
    floors = {k: int(v) for k, v in exact.items()}
    spare = 100 - sum(floors.values())
    for k in sorted(exact, key=lambda k: exact[k] - floors[k], reverse=True)[:spare]:
        floors[k] += 1
    return floors


def by(rows_: Iterable[Row], key: Any) -> tuple[dict[str, Tally], Tally]:
    """A tally per group (in first-seen order) and one over all."""
    groups: dict[str, Tally] = {}
    total = Tally()
    for row in rows_:
        groups.setdefault(key(row), Tally()).add(row)
        total.add(row)
    return groups, total


def rag_summary(session: Session, *, scorecard: Scorecard, period: str) -> dict[str, Any]:
    """The RAG summary as the API answers it: per aim and in total.

    Counted as `by(rows(...), aim)` counts, from the columns the colours need rather than
    from `rows`' objects (a 10,000-measure scorecard: ~0.1 s instead of ~0.7 s): the same
    query, the same period per measure and the same `_colours`."""
    shown = _shown_periods(period)
    found = session.execute(
        columns(
            col(Measure.aim),
            col(Measure.polarity),
            col(Measure.amber_tolerance),
            col(Measure.year_end_target),
            col(MeasureTarget.value),
            col(Figure.state),
            col(Figure.actual),
            col(Figure.estimate),
            col(Figure.override_current),
            col(Figure.override_projected),
        )
        .outerjoin(
            MeasureTarget,
            (col(MeasureTarget.measure_id) == col(Measure.id))
            & (col(MeasureTarget.period) == _period_case(shown)),
        )
        .outerjoin(
            Figure,
            (col(Figure.measure_id) == col(Measure.id))
            & (col(Figure.period) == _period_case(shown)),
        )
        .where(col(Measure.scorecard_id) == scorecard.id, col(Measure.active))
        .order_by(col(Measure.aim), col(Measure.approach), col(Measure.code))
    )
    aims: dict[str, Tally] = {}
    total = Tally()
    for aim, *values in found:
        current, projected = _colours(*values)
        entered = values[4] is not None  # the figure's state: entered or unavailable
        aims.setdefault(aim, Tally()).count(current, projected, entered)
        total.count(current, projected, entered)
    return {
        "scorecard": scorecard.code,
        "period": period,
        "aims": [{"aim": aim, **t.as_dict()} for aim, t in aims.items()],
        "total": total.as_dict(),
    }


def officers(session: Session, measures: Iterable[Measure]) -> dict[int, Person]:
    ids = {
        i
        for m in measures
        for i in (m.responsible_officer_id, m.data_source_officer_id)
        if i is not None
    }
    if not ids:
        return {}
    return {p.id: p for p in session.exec(select(Person).where(col(Person.id).in_(ids))) if p.id}


def history(
    session: Session, *, measure: Measure, year: int, today: date | None = None
) -> list[Row]:
    """One measure at each of its periods, oldest first: every period of its frequency in the
    financial year starting in `year`, and any other period it has a target or a figure for
    (a yearly measure's figure for last March). Two queries: targets, figures."""
    today = today or clock.today()
    targets = {
        t.period: t.value
        for t in session.exec(
            select(MeasureTarget).where(col(MeasureTarget.measure_id) == measure.id)
        )
    }
    figures = {
        f.period: f
        for f in session.exec(select(Figure).where(col(Figure.measure_id) == measure.id))
    }
    first = periods.of(year, 4)
    due = {
        p
        for p in (periods.shift(first, n) for n in range(12))
        if periods.is_due(measure.frequency, p)
    }
    shown = sorted(due | targets.keys() | figures.keys())
    return [_row(measure, p, False, figures.get(p), targets.get(p), today) for p in shown]
