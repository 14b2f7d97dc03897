"""A scorecard as at a period: each measure on its latest figure, coloured; and its summaries.

Everything a report page, a download, the API's RAG summary and the chase's view of lateness
shows comes from `rows` (three queries for a scorecard of any size: measures, targets,
figures), so they cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from core import clock
from models import Person
from models.performance import Figure, FigureState, Measure, MeasureTarget, Rag, Scorecard
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
    """Every active measure of the scorecard as at `period`, in aim, approach, code order."""
    today = today or clock.today()
    measures = list(
        session.exec(
            select(Measure)
            .where(col(Measure.scorecard_id) == scorecard.id, col(Measure.active))
            .order_by(col(Measure.aim), col(Measure.approach), col(Measure.code))
        )
    )
    shown = {m.id: periods.latest(m.frequency, period) for m in measures}
    wanted = sorted(set(shown.values()))
    ids = [m.id for m in measures]
    targets = _by_measure_period(session, MeasureTarget, ids, wanted)
    figures = _by_measure_period(session, Figure, ids, wanted)
    out = []
    for m in measures:
        p, key = shown[m.id], (m.id or 0, shown[m.id])
        target = targets.get(key)
        out.append(
            _row(m, p, p != period, figures.get(key), target.value if target else None, today)
        )
    return out


def _by_measure_period(
    session: Session, table: Any, ids: list[Any], wanted: list[str]
) -> dict[tuple[int, str], Any]:
    if not ids:
        return {}
    found: dict[tuple[int, str], Any] = {}
    # Chunks keep the IN list under SQLite's variable limit on a 10,000-measure scorecard.
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for r in session.exec(
            select(table).where(col(table.measure_id).in_(chunk), col(table.period).in_(wanted))
        ):
            found[(r.measure_id, r.period)] = r
    return found


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
    if figure.state is FigureState.unavailable:
        grey = Colour(Rag.grey)
        return Row(m, p, carried, figure, target, due, cutoff, grey, grey, "unavailable", late)
    current = Colour(
        judge(figure.actual, target, polarity=m.polarity, own=m.amber_tolerance),
        figure.override_current,
    )
    projected = Colour(
        judge(figure.estimate, m.year_end_target, polarity=m.polarity, own=m.amber_tolerance),
        figure.override_projected,
    )
    return Row(m, p, carried, figure, target, due, cutoff, current, projected, "entered", late)


@dataclass
class Tally:
    """Counts of each reported colour, current and projected, over some measures."""

    measures: int = 0
    current: Counter[str] = field(default_factory=Counter)
    projected: Counter[str] = field(default_factory=Counter)
    entered: int = 0  # figures in (entered or marked unavailable): completeness

    def add(self, row: Row) -> None:
        self.measures += 1
        self.current[row.current.reported.value] += 1
        self.projected[row.projected.reported.value] += 1
        self.entered += row.state in ("entered", "unavailable")

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
    """The RAG summary as the API answers it: per aim and in total."""
    aims, total = by(rows(session, scorecard=scorecard, period=period), lambda r: r.aim)
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
