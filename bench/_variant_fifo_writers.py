"""Signoff's web app with its write transactions queued first come, first served, in-process.

core.db.write_session is wrapped, before the app imports it, so a thread takes a FIFO
(ticket) lock before its BEGIN IMMEDIATE: writers of this process wait in arrival order on
the lock instead of in SQLite's busy handler, which sleeps and retries and lets late
arrivals overtake. Diagnosis only; the app itself is untouched:

    uv run python bench/decision_http.py --signoff-app _variant_fifo_writers:app
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import core.db


class FifoRLock:
    """Re-entrant like threading.RLock, but waiters get the lock in arrival order."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._next_ticket = self._serving = self._depth = 0
        self._owner: int | None = None

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return
            ticket, self._next_ticket = self._next_ticket, self._next_ticket + 1
            while self._serving != ticket:
                self._cond.wait()
            self._owner, self._depth = me, 1

    def __exit__(self, *_exc: object) -> bool:
        with self._cond:
            self._depth -= 1
            if self._depth == 0:
                self._owner, self._serving = None, self._serving + 1
                self._cond.notify_all()
        return False


_writers = FifoRLock()
_write_session = core.db.write_session


@contextlib.contextmanager
def _queued_write_session() -> Iterator[Any]:
    with _writers, _write_session() as session:
        yield session


core.db.write_session = _queued_write_session  # type: ignore[assignment]

from api.main import app as app  # noqa: E402  (must import after the patch)
