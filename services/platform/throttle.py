"""Fixed-window counters in the database, so a limit holds across every web worker and machine.

A counter is a row of `throttle` keyed by (bucket, SHA-256 of what is counted): a client
address or an email address is never stored in the clear. A hit is ONE statement,
INSERT ... ON CONFLICT DO UPDATE ... RETURNING, which starts a new window when the old one
has passed, so two workers counting at once can neither lose a hit nor both start a window.

`hit` runs in its own short transaction: a request that is refused, or whose own transaction
rolls back, still counts. `count` runs in the caller's transaction, for a limit that must
commit or roll back with what it guards (on PostgreSQL the row lock it takes also queues
concurrent requests for the same key until the first one commits).

Old rows are cleared as the table is used: each hit also deletes a few rows of its bucket
whose window has passed (a passed window counts nothing, so deleting it changes no answer).
Nothing else has to run for the table to stay small.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, literal, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from core import clock
from core.db import dialect_name, get_engine, write_session
from core.statements import Prepared
from models.throttle import Throttle

_TABLE: Any = Throttle.__table__  # type: ignore[attr-defined]
CLEANUP_ROWS = 20  # expired rows of the same bucket deleted per hit: cheap, and enough to keep up


@dataclass(frozen=True)
class Count:
    """Hits so far in the current window, and when that window ends."""

    hits: int
    window_ends: datetime

    def retry_after(self) -> int:
        """Whole seconds until the window ends (at least 1): the Retry-After header."""
        return max(1, math.ceil((self.window_ends - clock.now()).total_seconds()))


def key_for(value: str) -> str:
    """The stored key: a SHA-256, so no address is kept in the clear."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def count(session: Session, *, bucket: str, value: str, window: timedelta) -> Count:
    """Add one hit to (bucket, value) in the caller's transaction; the hits in this window."""
    now = clock.now()
    table = _TABLE
    dialect = postgresql if dialect_name(session) == "postgresql" else sqlite
    passed = table.c.window_start <= now - window
    stmt = dialect.insert(table).values(bucket=bucket, key=key_for(value), window_start=now, hits=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.bucket, table.c.key],
        set_={
            "hits": case((passed, 1), else_=table.c.hits + 1),
            "window_start": case(
                (passed, literal(now, table.c.window_start.type)), else_=table.c.window_start
            ),
        },
    ).returning(table.c.hits, table.c.window_start)
    hits, start = session.execute(stmt).one()
    _clear_expired(session, table, bucket=bucket, before=now - window)
    return Count(hits=hits, window_ends=_aware(start) + window)


def hit(*, bucket: str, value: str, window: timedelta) -> Count:
    """Add one hit in a transaction of its own (committed whatever the request does next)."""
    with write_session() as session:
        return count(session, bucket=bucket, value=value, window=window)


_COUNTER = Prepared(  # every link page asks
    select(_TABLE.c.hits, _TABLE.c.window_start).where(
        _TABLE.c.bucket == bindparam("b_bucket"), _TABLE.c.key == bindparam("b_key")
    )
)


def current(*, bucket: str, value: str, window: timedelta) -> Count:
    """The hits in the current window, without adding one (0 when the window has passed)."""
    now = clock.now()
    rows = _COUNTER.read_alone(get_engine(), {"b_bucket": bucket, "b_key": key_for(value)}).rows
    if not rows or _aware(rows[0][1]) <= now - window:
        return Count(hits=0, window_ends=now + window)
    hits, start = rows[0]
    return Count(hits=hits, window_ends=_aware(start) + window)


def _clear_expired(session: Session, table: Any, *, bucket: str, before: datetime) -> None:
    expired = (
        select(table.c.bucket, table.c.key)
        .where(and_(table.c.bucket == bucket, table.c.window_start <= before))
        .limit(CLEANUP_ROWS)
        # Rows another worker is counting right now are left to a later hit: no waits,
        # no deadlock between two cleanups (PostgreSQL; SQLite writes one at a time).
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(table).where(tuple_(table.c.bucket, table.c.key).in_(expired)))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
