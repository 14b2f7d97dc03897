"""The performance reports as the council reads them: the Scorecard Performance Detail Report,
the RAG summary, completeness, late figures by officer, and one measure's history.

Every report is built from `report.rows` (or `report.history` for one measure), so a page, its
CSV and its XLSX show the same numbers as the API and the chase. Each report is plain data
(no rows still bound to a session), read by the page template and by `report_files`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from itertools import groupby

from sqlmodel import Session, col, func, select

from core import clock
from models.performance import Figure, FigureState, Measure, Scorecard
from services.performance import periods, report
from services.performance.report import Row, Tally
from services.performance.report_lines import Card, Line, default_period, line, period_asked
from services.platform.errors import NotFound

COLOURS = tuple(c.value for c in report.COLOURS)


def find_scorecard(session: Session, code: str) -> Scorecard:
    """The scorecard with this code, or NotFound (404)."""
    found = session.exec(select(Scorecard).where(col(Scorecard.code) == code[:40])).first()
    if found is None:
        raise NotFound(f"There is no scorecard with the code {code[:40]}.")
    return found


def opening_period(session: Session, scorecard: Scorecard, today: date) -> str:
    """The period a scorecard's reports open at when none is asked for (report_lines)."""
    latest = session.exec(
        select(func.max(Figure.period))
        .join(Measure, col(Measure.id) == col(Figure.measure_id))
        .where(col(Measure.scorecard_id) == scorecard.id, col(Figure.state) == FigureState.entered)
    ).one()
    return default_period(scorecard, today, latest)


def _card(scorecard: Scorecard, period: str) -> Card:
    return Card(scorecard.code, scorecard.name, scorecard.year, scorecard.portfolio, period)


def _at(
    session: Session, code: str, period_text: str | None, today: date
) -> tuple[Scorecard, Card]:
    scorecard = find_scorecard(session, code)
    period = period_asked(period_text, default=opening_period(session, scorecard, today))
    return scorecard, _card(scorecard, period)


def _lines(session: Session, rows: list[Row]) -> list[Line]:
    named = report.officers(session, [r.measure for r in rows])
    return [line(r, named) for r in rows]


# --- 1. the list of scorecards ---------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    period: str  # what the period picker shows
    chosen: bool  # a period was asked for: every scorecard's links use it
    cards: list[tuple[Card, int]]  # each scorecard at its period, and its active measures


def listing(session: Session, *, period_text: str | None, today: date | None = None) -> Listing:
    """Every scorecard, newest year first, each at the period asked for (or its default)."""
    today = today or clock.today()
    period = period_asked(period_text, default=periods.ended_by(today))
    chosen = bool(period_text and period_text.strip())
    counts = dict(
        session.exec(  # type: ignore[call-overload]
            select(Measure.scorecard_id, func.count())
            .where(col(Measure.active))
            .group_by(col(Measure.scorecard_id))
        ).all()
    )
    cards = session.exec(
        select(Scorecard).order_by(
            col(Scorecard.year).desc(), col(Scorecard.portfolio), col(Scorecard.name)
        )
    )
    return Listing(
        period,
        chosen,
        [
            (
                _card(s, period if chosen else opening_period(session, s, today)),
                counts.get(s.id or 0, 0),
            )
            for s in cards
        ],
    )


# --- 2. the Scorecard Performance Detail Report -------------------------------------------------


@dataclass(frozen=True)
class Approach:
    approach: str
    lines: list[Line]


@dataclass(frozen=True)
class Aim:
    aim: str
    approaches: list[Approach]


@dataclass(frozen=True)
class Detail:
    card: Card
    aims: list[Aim]

    @property
    def lines(self) -> list[Line]:
        return [ln for a in self.aims for ap in a.approaches for ln in ap.lines]


def grouped(lines: Iterable[Line]) -> list[Aim]:
    """Lines by aim, then approach (the rows come in that order)."""
    return [
        Aim(aim, [Approach(ap, list(ls)) for ap, ls in groupby(items, key=lambda x: x.approach)])
        for aim, items in groupby(lines, key=lambda x: x.aim)
    ]


def detail(
    session: Session, *, code: str, period_text: str | None, today: date | None = None
) -> Detail:
    """The detail report: every active measure, grouped by aim and approach."""
    today = today or clock.today()
    scorecard, card = _at(session, code, period_text, today)
    rows = report.rows(session, scorecard=scorecard, period=card.period, today=today)
    return Detail(card, grouped(_lines(session, rows)))


# --- 3. the RAG summary ------------------------------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """A group's measures, and how many of them are each colour, as counts and whole %."""

    label: str
    measures: int
    current: dict[str, int]
    current_percent: dict[str, int]
    projected: dict[str, int]
    projected_percent: dict[str, int]


def counted(label: str, tally: Tally) -> Counted:
    return Counted(
        label,
        tally.measures,
        tally.counts("current"),
        tally.percent("current"),
        tally.counts("projected"),
        tally.percent("projected"),
    )


@dataclass(frozen=True)
class Summary:
    card: Card
    aims: list[Counted]
    total: Counted


def summary(
    session: Session, *, code: str, period_text: str | None, today: date | None = None
) -> Summary:
    """Per aim and in total: how many measures are each colour, current and projected."""
    today = today or clock.today()
    scorecard, card = _at(session, code, period_text, today)
    rows = report.rows(session, scorecard=scorecard, period=card.period, today=today)
    aims, total = report.by(rows, lambda r: r.aim)
    return Summary(card, [counted(a, t) for a, t in aims.items()], counted("Total", total))


# --- 4. completeness -------------------------------------------------------------------------


@dataclass(frozen=True)
class Complete:
    """How much of a group's figures are in: entered or marked data unavailable."""

    label: str
    measures: int
    entered: int
    awaiting: int  # not in, before the cut-off
    missing: int  # not in after the cut-off: GREY
    percent: int


def complete(label: str, rows: list[Row]) -> Complete:
    tally = Tally()
    for row in rows:
        tally.add(row)
    states = Counter(r.state for r in rows)
    return Complete(
        label,
        tally.measures,
        tally.entered,
        states["awaiting"],
        states["missing"],
        tally.complete_percent,
    )


def _by(rows: Iterable[Row], key: Callable[[Row], str]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups


@dataclass(frozen=True)
class Completeness:
    card: Card
    aims: list[Complete]
    total: Complete
    portfolios: list[Complete]  # every scorecard of the same year, by portfolio
    portfolio_total: Complete


def completeness(
    session: Session, *, code: str, period_text: str | None, today: date | None = None
) -> Completeness:
    """How much is in per aim, and per portfolio across the year's scorecards."""
    today = today or clock.today()
    scorecard, card = _at(session, code, period_text, today)
    rows = report.rows(session, scorecard=scorecard, period=card.period, today=today)
    aims = [complete(aim, rs) for aim, rs in _by(rows, lambda r: r.aim).items()]
    everyone: dict[str, list[Row]] = {}
    for other in session.exec(
        select(Scorecard)
        .where(col(Scorecard.year) == scorecard.year)
        .order_by(col(Scorecard.portfolio), col(Scorecard.name))
    ):
        theirs = (
            rows
            if other.id == scorecard.id
            else report.rows(session, scorecard=other, period=card.period, today=today)
        )
        everyone.setdefault(other.portfolio or "No portfolio", []).extend(theirs)
    return Completeness(
        card,
        aims,
        complete("Total", rows),
        [complete(p, rs) for p, rs in everyone.items()],
        complete("All portfolios", [r for rs in everyone.values() for r in rs]),
    )


# --- 5. late figures by officer ----------------------------------------------------------------


@dataclass(frozen=True)
class LateOfficer:
    """A data source officer's late figures, most late first."""

    name: str
    matched: bool  # False: named only in the import file, not matched to a registered person
    lines: list[Line]

    @property
    def most_late(self) -> int:
        return self.lines[0].days_late

    @property
    def still_out(self) -> int:
        return sum(ln.state in ("awaiting", "missing") for ln in self.lines)


@dataclass(frozen=True)
class Late:
    card: Card
    officers: list[LateOfficer]

    @property
    def figures(self) -> int:
        return sum(len(o.lines) for o in self.officers)


def late(
    session: Session, *, code: str, period_text: str | None, today: date | None = None
) -> Late:
    """Figures that came in after their due date or are still out, by data source officer,
    the officer with the latest figure first. Data unavailable is not lateness: left out."""
    today = today or clock.today()
    scorecard, card = _at(session, code, period_text, today)
    rows = report.rows(session, scorecard=scorecard, period=card.period, today=today)
    found = [ln for ln in _lines(session, rows) if ln.days_late > 0 and ln.state != "unavailable"]
    groups: dict[tuple[str, bool], list[Line]] = {}
    for ln in sorted(found, key=lambda x: (-x.days_late, x.code)):
        groups.setdefault((ln.data_source, ln.data_source_matched), []).append(ln)
    officers = [LateOfficer(name, matched, lines) for (name, matched), lines in groups.items()]
    officers.sort(key=lambda o: (-o.most_late, -len(o.lines), o.name.lower()))
    return Late(card, officers)


# --- 6. one measure's history ------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    card: Card
    lines: list[Line]  # one per period, oldest first

    @property
    def measure(self) -> Line:
        return self.lines[-1]


def history(
    session: Session, *, code: str, measure_code: str, today: date | None = None
) -> History:
    """A measure's targets, figures and colours at each period of its scorecard's year."""
    today = today or clock.today()
    scorecard = find_scorecard(session, code)
    measure = session.exec(
        select(Measure).where(
            col(Measure.scorecard_id) == scorecard.id, col(Measure.code) == measure_code[:40]
        )
    ).first()
    if measure is None:
        raise NotFound(f"{scorecard.name} has no measure with the code {measure_code[:40]}.")
    rows = report.history(session, measure=measure, year=scorecard.year, today=today)
    return History(
        _card(scorecard, opening_period(session, scorecard, today)), _lines(session, rows)
    )
