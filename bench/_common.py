"""Shared set-up for the benchmarks: fresh migrated SQLite files, the people and project, stats.

Nothing here is timed; the benchmarks time only their own loops.
"""

from __future__ import annotations

import contextlib
import gc
import os
import socket
import sqlite3
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_SECRET = "bench-secret-key-0123456789abcdefghijklmn"  # noqa: S105 (throwaway bench key)
PROJECT = "BENCH"
ROLES = ("admin", "requester", "pm", "sponsor")


def bench_env(url: str) -> dict[str, str]:
    """The environment Signoff runs under in a benchmark (also handed to uvicorn)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
    env.update(SIGNOFF_ENV="test", SIGNOFF_DATABASE_URL=url, SIGNOFF_SECRET_KEY=BENCH_SECRET)
    return env


def use_database(path: Path, *, migrate: bool = True) -> str:
    """Point this process's Signoff at an SQLite file (migrated unless told otherwise).

    Any SIGNOFF_ variable of the caller's shell is dropped: a SIGNOFF_PREFECT_API_URL would
    make every commit that queues mail nudge a Prefect server, which is not what we measure.
    """
    url = f"sqlite:///{path}"
    for key in [k for k in os.environ if k.startswith("SIGNOFF_")]:
        del os.environ[key]
    os.environ.update(bench_env(url))
    from core.db import reset_engine
    from core.settings import reset_settings_cache

    reset_settings_cache()
    reset_engine()
    if migrate:
        from core.migrate import upgrade

        upgrade(url)
    return url


def seed_project() -> dict[str, Any]:
    """Admin, requester, PM and sponsor, and project BENCH; returns their Actors by role."""
    from core.db import write_session
    from models.change_control.projects import ProjectCreate
    from models.people import PersonCreate
    from services.change_control import projects
    from services.platform import people
    from services.platform.actors import Actor

    ids: dict[str, int] = {}
    with write_session() as s:
        for role in ROLES:
            person = people.add_person(
                s,
                data=PersonCreate(
                    name=role.title(), email=f"{role}@bench.example", is_admin=role == "admin"
                ),
            )
            ids[role] = person.id or 0
    with write_session() as s:
        projects.create_project(
            s,
            actor=Actor(person_id=ids["admin"], is_admin=True),
            data=ProjectCreate(
                code=PROJECT,
                name="Benchmark",
                sponsor_email="sponsor@bench.example",
                manager_email="pm@bench.example",
            ),
        )
        # Projects are private to their people: the requester is one of them.
        projects.add_project_member(
            s,
            actor=Actor(person_id=ids["admin"], is_admin=True),
            code=PROJECT,
            email="requester@bench.example",
            role="Work Stream Leader",
        )
    return {role: Actor(person_id=pid) for role, pid in ids.items()}


def session_cookie(email: str) -> str:
    """A web session cookie for a registered person, signed in as the emailed link does it
    (people.request_sign_in, then complete_sign_in with the link's token)."""
    from sqlmodel import col, select

    from core import tokens
    from core.db import read_session, write_session
    from models import ActionToken
    from services.platform import people

    with write_session() as s:
        people.request_sign_in(s, email=email)
    with read_session() as s:
        link = s.exec(
            select(ActionToken)
            .where(ActionToken.purpose == "sign_in")
            .order_by(col(ActionToken.id).desc())
        ).first()
        assert link is not None
    with write_session() as s:
        _, cookie = people.complete_sign_in(s, raw=tokens.derive_token(link.salt))
    return cookie


def release_database() -> None:
    """Close Signoff's pooled connections (so a copy or a checkpoint sees every row)."""
    from core.db import reset_engine

    reset_engine()


def copy_database(src: Path, dst: Path) -> None:
    """A consistent copy with the SQLite backup API: rows still in src's -wal file come too
    (a plain file copy would leave them behind)."""
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
        b.execute("PRAGMA journal_mode=WAL")
    finally:
        a.close()
        b.close()


def connect_like_signoff(path: Path) -> sqlite3.Connection:
    """A raw sqlite3 connection with the pragmas core.db gives Signoff's connections."""
    db = sqlite3.connect(path, isolation_level=None, timeout=15, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=15000")
    return db


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the load generator's own garbage collector out of the latencies it measures.

    The benchmark process holds what it prepared (Signoff's modules, thousands of rows read
    through them); a full collection there took ~95-100 ms, and every request in flight was
    timed as that much slower: the ~100 ms "tail" of decision_http (bench/README.md). A round
    is a few seconds, so the collector is simply off during it, after one collection."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
