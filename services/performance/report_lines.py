"""What every performance report is made of: a period asked for in the address, the scorecard
at that period (`Card`), and one measure at one period with its officers named (`Line`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models import Person
from models.performance import Scorecard
from services.performance import periods
from services.performance.rag import Colour
from services.performance.report import Row
from services.platform.errors import ServiceError


class BadPeriod(ServiceError):
    """A period in the address that is not "YYYY-MM": the request is wrong, not the server."""

    status_code = 400


def period_asked(text: str | None, *, default: str) -> str:
    """The period a page was asked for, or `default` when none was given."""
    if text is None or not text.strip():
        return default
    try:
        return periods.parse(text)
    except ValueError:
        shown = text[:20] + ("…" if len(text) > 20 else "")
        raise BadPeriod(
            f"“{shown}” is not a period. Give its last month as YYYY-MM, for example 2009-12."
        ) from None


def year_label(year: int) -> str:
    """2009 as "2009/10", as the council names its financial years."""
    return f"{year}/{(year + 1) % 100:02d}"


def _day(on: date) -> str:
    return f"{on.day} {on:%B %Y}"


# --- one measure as a report shows it --------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One measure at one period, with its officers' names: a row of any report."""

    code: str
    name: str
    aim: str
    approach: str
    frequency: str
    responsible: str
    data_source: str
    data_source_matched: bool  # False: the file's name for someone not (yet) registered
    unit: str
    polarity: str
    period: str  # the period of the figure shown
    carried: bool  # from an earlier period than the report's (a yearly measure)
    target: float | None
    actual: float | None
    ytd_actual: float | None
    year_end_target: float | None
    estimate: float | None
    current: Colour
    projected: Colour
    override_reason: str
    commentary: str
    state: str  # entered | unavailable | awaiting | missing
    unavailable_reason: str
    due_on: date
    days_late: int

    @property
    def period_label(self) -> str:
        return periods.label(self.period)

    @property
    def state_text(self) -> str:
        """The state in words, as the detail report and the downloads say it."""
        late = f", {self.days_late} day{'s' if self.days_late != 1 else ''} late"
        text = {
            "entered": "Entered" + (late if self.days_late else ""),
            "unavailable": "Data unavailable"
            + (f": {self.unavailable_reason}" if self.unavailable_reason else ""),
            "awaiting": f"Awaiting: due {_day(self.due_on)}" + (late if self.days_late else ""),
            "missing": f"Missing (GREY): was due {_day(self.due_on)}{late}",
        }[self.state]
        return text + (f" (figure for {self.period_label})" if self.carried else "")


def officer_name(person_id: int | None, file_name: str, named: dict[int, Person]) -> str:
    """A registered person's name, or the name as the import file spelt it."""
    person = named.get(person_id) if person_id is not None else None
    return person.name if person is not None else (file_name or "Not named")


def line(row: Row, named: dict[int, Person]) -> Line:
    m, f = row.measure, row.figure
    return Line(
        code=m.code,
        name=m.name,
        aim=m.aim,
        approach=m.approach,
        frequency=str(m.frequency.value),
        responsible=officer_name(m.responsible_officer_id, m.responsible_name, named),
        data_source=officer_name(m.data_source_officer_id, m.data_source_name, named),
        data_source_matched=m.data_source_officer_id in named,
        unit=m.unit,
        polarity=str(m.polarity.value),
        period=row.period,
        carried=row.carried,
        target=row.target,
        actual=f.actual if f else None,
        ytd_actual=f.ytd_actual if f else None,
        year_end_target=m.year_end_target,
        estimate=f.estimate if f else None,
        current=row.current,
        projected=row.projected,
        override_reason=f.override_reason if f else "",
        commentary=f.commentary if f else "",
        state=row.state,
        unavailable_reason=f.unavailable_reason if f else "",
        due_on=row.due_on,
        days_late=row.days_late,
    )


# --- the scorecard a report is about, at a period --------------------------------------------


@dataclass(frozen=True)
class Card:
    code: str
    name: str
    year: int
    portfolio: str
    period: str  # the period this report is at

    @property
    def year_label(self) -> str:
        return year_label(self.year)

    @property
    def period_label(self) -> str:
        return periods.label(self.period)

    @property
    def in_year(self) -> bool:
        return periods.financial_year(self.period) == self.year

    @property
    def previous(self) -> str:
        return periods.shift(self.period, -1)

    @property
    def next(self) -> str:
        return periods.shift(self.period, 1)


def default_period(scorecard: Scorecard, today: date, latest_figure: str | None = None) -> str:
    """The period a scorecard opens at: the last period ended (or its year's last, when its
    year is over), unless no figure at all is in for it yet; then the last period with a
    figure in, so a report opens on the newest picture there is (December's in January,
    until the first of the next quarter's figures arrive)."""
    last = min(periods.ended_by(today), periods.year_end(scorecard.year))
    if latest_figure is not None and periods.year_start(scorecard.year) <= latest_figure < last:
        return latest_figure
    return last
