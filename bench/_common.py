"""Shared set-up for the benchmarks: a fresh migrated SQLite database with a project."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_SECRET = "bench-secret-key-0123456789abcdefghijklmn"


def use_database(path: Path) -> str:
    """Point Signoff at a new SQLite file and migrate it."""
    url = f"sqlite:///{path}"
    os.environ.update(SIGNOFF_ENV="test", SIGNOFF_DATABASE_URL=url,
                      SIGNOFF_SECRET_KEY=BENCH_SECRET)
    from core.db import reset_engine
    from core.migrate import upgrade
    from core.settings import reset_settings_cache

    reset_settings_cache()
    reset_engine()
    upgrade(url)
    return url


def seed_project():  # type: ignore[no-untyped-def]
    """Admin, requester, PM and sponsor, and project BENCH; returns their Actors."""
    from core.db import write_session
    from models.people import PersonCreate
    from models.projects import ProjectCreate
    from services import people, projects
    from services.actors import Actor

    with write_session() as s:
        ids = {}
        for role in ("admin", "requester", "pm", "sponsor"):
            person = people.add_person(s, data=PersonCreate(
                name=role.title(), email=f"{role}@bench.example", is_admin=role == "admin"))
            ids[role] = person.id
        projects.create_project(s, actor=Actor(person_id=ids["admin"], is_admin=True),
                                data=ProjectCreate(code="BENCH", name="Benchmark",
                                                   sponsor_email="sponsor@bench.example",
                                                   manager_email="pm@bench.example"))
    return {role: Actor(person_id=pid) for role, pid in ids.items()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


