"""UTCDateTime's own SQLite bind processor (models/base.py) must store exactly the text
SQLAlchemy's would: the ORM, prepared statements and every row already stored compare times
as that text."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite

from models.base import UTCDateTime

LONDON = ZoneInfo("Europe/London")


def _ours_and_sqlalchemys(dialect):  # type: ignore[no-untyped-def]
    """The processor SQLAlchemy uses for the column, and TypeDecorator's own composition of
    `process_bind_param` with the dialect's DATETIME, for the same column type."""
    ours = UTCDateTime()._cached_bind_processor(dialect)
    adapted = UTCDateTime().dialect_impl(dialect)
    return ours, TypeDecorator.bind_processor(adapted, dialect)


def _instants() -> list[datetime]:
    rng = random.Random(2010)
    start = datetime(1970, 1, 1, tzinfo=UTC)
    zones = [UTC, LONDON, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    found = [
        datetime(2010, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
        datetime(2010, 3, 1, 9, 30, tzinfo=UTC),  # no microseconds: still six digits
        datetime(2010, 10, 31, 1, 30, tzinfo=LONDON),  # the hour that happens twice
        datetime(2010, 10, 31, 1, 30, fold=1, tzinfo=LONDON),
        datetime(2010, 3, 28, 0, 59, 59, 999999, tzinfo=LONDON),
    ]
    for _ in range(500):
        moment = start + timedelta(seconds=rng.randrange(0, 130 * 365 * 86400))
        moment += timedelta(microseconds=rng.choice([0, rng.randrange(1_000_000)]))
        found.append(moment.astimezone(rng.choice(zones)))
    return found


def test_a_time_is_stored_on_sqlite_as_sqlalchemys_text_of_its_utc_instant() -> None:
    ours, sqlalchemys = _ours_and_sqlalchemys(sqlite.dialect())
    assert ours is not None and sqlalchemys is not None
    for moment in _instants():
        assert ours(moment) == sqlalchemys(moment), moment
    assert ours(datetime(2010, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))) == (
        "2010-03-01 09:30:00.000000"
    )
    assert ours(None) is None


def test_a_naive_time_is_refused_on_sqlite_as_before() -> None:
    ours, sqlalchemys = _ours_and_sqlalchemys(sqlite.dialect())
    assert ours is not None and sqlalchemys is not None
    for processor in (ours, sqlalchemys):
        with pytest.raises(ValueError, match="naive"):
            processor(datetime(2010, 3, 1, 9, 30))


def test_postgresql_keeps_sqlalchemys_processing() -> None:
    ours, sqlalchemys = _ours_and_sqlalchemys(postgresql.dialect())
    moment = datetime(2010, 3, 1, 10, 30, tzinfo=LONDON)
    assert ours is not None and sqlalchemys is not None
    assert ours(moment) == sqlalchemys(moment) == datetime(2010, 3, 1, 10, 30, tzinfo=UTC)
