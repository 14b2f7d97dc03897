"""The one source of time: "today" is London's today; deadlines skip weekends and bank holidays."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from core.settings import get_settings

_frozen: datetime | None = None


def now() -> datetime:
    """The current instant, timezone-aware UTC (frozen in tests)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def local_tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def today() -> date:
    """The council's calendar date now (Europe/London by default)."""
    return now().astimezone(local_tz()).date()


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Freeze the clock at an aware instant: the only thing tests may mock."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("freeze the clock with an aware datetime")
    previous, _frozen = _frozen, at.astimezone(UTC)
    try:
        yield
    finally:
        _frozen = previous


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    # The holidays package computes England-and-Wales bank holidays offline. Imported here:
    # it is slow to import and most commands never ask about a working day.
    import holidays

    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(day: date, count: int) -> date:
    """The date `count` working days after `day`."""
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            days += 1
    return days
