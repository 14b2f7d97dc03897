"""Column types shared by every table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, String, TypeDecorator

# A row's version is a 32-bit INTEGER on PostgreSQL: a client's version above it is refused
# (422) before any statement, never bound (SQLite overflows at 2**63, PostgreSQL at 2**31).
VERSION_MAX = 2**31 - 1


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = _in_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any] | None:
        """On SQLite, `process_bind_param` and SQLite's DATETIME text in one function: the
        text SQLAlchemy stores ("2010-03-01 09:30:15.123456", the UTC time), in a third of
        the time; an RFC's lifecycle binds 24 times (bench/README.md). Any
        other database, or a DATETIME stored another way, gets SQLAlchemy's own."""
        if dialect.name != "sqlite" or (
            getattr(self.impl_instance, "_storage_format", None) != _SQLITE_DATETIME
        ):
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            u = _in_utc(value)
            return _SQLITE_TEXT % (
                u.year,
                u.month,
                u.day,
                u.hour,
                u.minute,
                u.second,
                u.microsecond,
            )

        return process


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTCDateTime column")
    return value.astimezone(UTC)


# SQLite's DATETIME storage format as SQLAlchemy gives it, and the same text positionally.
_SQLITE_DATETIME = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)
_SQLITE_TEXT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


class EnumText(TypeDecorator[Any]):
    """A StrEnum stored as its text (VARCHAR, no database enum type): rows read back as the
    enum, so a status column is typed as its enum and nothing else fits in it."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else self.enum(value)
