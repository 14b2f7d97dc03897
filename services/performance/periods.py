"""Periods, and when their figures are due.

A period is named by its last month, "YYYY-MM". The financial year runs April to March, so
quarters end in June, September, December and March (figures due in July, October, January
and April), half-years in September and March, and years in March.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from core import clock
from core.settings import get_settings
from models.performance import Frequency

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_LAST_MONTHS = {
    Frequency.monthly: frozenset(range(1, 13)),
    Frequency.quarterly: frozenset({3, 6, 9, 12}),
    Frequency.half_yearly: frozenset({3, 9}),
    Frequency.yearly: frozenset({3}),
}
_MONTHS = (
    "January February March April May June July August September October November December"
).split()


def parse(text: str) -> str:
    """A period as "YYYY-MM", or ValueError saying what is wrong."""
    text = (text or "").strip()
    match = _PERIOD.match(text)
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise ValueError(f"{text!r} is not a period: give its last month as YYYY-MM, e.g. 2009-12")
    return text


def year_month(period: str) -> tuple[int, int]:
    year, month = period.split("-")
    return int(year), int(month)


def of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def shift(period: str, months: int) -> str:
    year, month = year_month(period)
    index = year * 12 + (month - 1) + months
    return of(index // 12, index % 12 + 1)


def label(period: str) -> str:
    """ "December 2009"."""
    year, month = year_month(period)
    return f"{_MONTHS[month - 1]} {year}"


def financial_year(period: str) -> int:
    """The year the period's financial year starts in (2009 for January 2010)."""
    year, month = year_month(period)
    return year if month >= 4 else year - 1


def year_start(year: int) -> str:
    """The first period of the financial year starting in `year` (its April)."""
    return of(year, 4)


def year_end(year: int) -> str:
    """The last period of the financial year starting in `year` (March of the next)."""
    return of(year + 1, 3)


def is_due(frequency: Frequency | str, period: str) -> bool:
    """Whether a measure of this frequency has a figure for the period ending this month."""
    return year_month(period)[1] in _LAST_MONTHS[Frequency(frequency)]


def latest(frequency: Frequency | str, period: str) -> str:
    """The last period of this frequency ending on or before `period` (a yearly measure's at
    December 2009 is March 2009's)."""
    while not is_due(frequency, period):
        period = shift(period, -1)
    return period


def next_due(frequency: Frequency | str, period: str) -> str:
    """The first period of this frequency ending after `period`."""
    period = shift(period, 1)
    while not is_due(frequency, period):
        period = shift(period, 1)
    return period


def _in_month_after(period: str, day: int) -> date:
    year, month = year_month(shift(period, 1))
    on = date(year, month, day)
    while not clock.is_working_day(on):
        on += timedelta(days=1)
    return on


def due_on(period: str) -> date:
    """The due date of a period's figures: the 15th (a setting) of the month after it, or the
    next working day when that is a weekend or a bank holiday."""
    return _in_month_after(period, get_settings().figures_due_day)


def cutoff_on(period: str) -> date:
    """The report cut-off: after it a missing figure is GREY (the 21st by default, moved on
    to a working day as the due date is)."""
    return _in_month_after(period, get_settings().report_cutoff_day)


def ended_by(today: date) -> str:
    """The last period that has ended by `today` (in January 2010: "2009-12")."""
    return shift(of(today.year, today.month), -1)
