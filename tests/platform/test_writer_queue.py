"""SQLite writers of one process take turns in arrival order (core.db.WriterQueue).

Left to SQLite's busy handler, a waiting writer sleeps and retries while later arrivals take
the lock, so at ten concurrent decisions some people waited seconds. These tests pin the
queue's rules: first come, first served; a thread never waits on itself; a wait is bounded,
so a thread that holds a write and waits for another thread's write cannot hang for ever.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import text

from core.db import WriterQueue, write_session


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.005)


def test_writers_are_served_in_the_order_they_arrived() -> None:
    queue = WriterQueue(patience=30)
    served: list[str] = []
    assert queue.enter()  # this thread holds the turn while the others line up

    def writer(name: str) -> None:
        assert queue.enter()
        served.append(name)
        queue.leave()

    threads = []
    for n, name in enumerate(["first", "second", "third", "fourth"], start=1):
        t = threading.Thread(target=writer, args=(name,))
        t.start()
        threads.append(t)
        _until(lambda n=n: len(queue._waiting) == n, f"{name} to queue")
    queue.leave()
    for t in threads:
        t.join(10)
    assert served == ["first", "second", "third", "fourth"]


def test_a_thread_that_holds_its_turn_does_not_wait_on_itself() -> None:
    queue = WriterQueue(patience=30)
    assert queue.enter()
    assert queue.enter()  # re-entrant: would wait 30 s otherwise
    other: list[bool] = []
    t = threading.Thread(target=lambda: other.append(queue.enter()))
    t.start()
    _until(lambda: len(queue._waiting) == 1, "the other thread to queue")
    queue.leave()
    time.sleep(0.05)
    assert other == [], "the turn passed on before the outer write finished"
    queue.leave()
    t.join(10)
    assert other == [True]
    queue.leave()


def test_a_wait_past_its_patience_goes_on_without_its_turn_and_leaves_the_queue() -> None:
    queue = WriterQueue(patience=0.1)
    assert queue.enter()
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(queue.enter()))
    t.start()
    t.join(10)
    assert got == [False]  # it goes on to SQLite's own busy handling
    assert not queue._waiting
    queue.leave()
    assert queue.enter()  # the turn is free again, not handed to the writer who gave up
    queue.leave()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_twenty_threads_writing_at_once_all_commit(db) -> None:  # type: ignore[no-untyped-def]
    with write_session() as s:
        s.execute(text("CREATE TABLE tally (n INTEGER NOT NULL)"))
        s.execute(text("INSERT INTO tally VALUES (0)"))
    errors: list[BaseException] = []

    def add_one() -> None:
        try:
            for _ in range(10):
                with write_session() as s:
                    n = s.execute(text("SELECT n FROM tally")).scalar_one()
                    s.execute(text("UPDATE tally SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=add_one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with write_session() as s:
        assert s.execute(text("SELECT n FROM tally")).scalar_one() == 200


def test_a_writer_locked_out_past_the_busy_timeout_gets_sqlalchemys_error_and_can_retry(
    env: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BEGIN IMMEDIATE goes straight to the driver (core.db): "database is locked" must still
    come back as SQLAlchemy's OperationalError, which the flows retry on, and the write that
    failed to begin must hold nothing."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from core import db
    from core.settings import get_settings

    url = get_settings().database_url
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 0.2)
    db.reset_engine()
    holder = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(OperationalError, match="database is locked"), write_session() as s:
            s.execute(text("SELECT 1"))
        # The write that could not begin gave back its connection and its turn: another
        # thread's write would otherwise wait out the queue's patience for nothing.
        assert db.get_engine().pool.checkedout() == 0  # type: ignore[attr-defined]
        queue = db._queue_for(db.get_engine())
        assert queue is not None and queue._owner is None and not queue._waiting
        holder.execute("ROLLBACK")
        with write_session() as s:
            assert s.execute(text("SELECT 1")).scalar() == 1
    finally:
        holder.close()
        db.reset_engine()
