"""The sponsor's POST decision over HTTP: requests/s and latency at concurrency 10.

One uvicorn worker on loopback serves Signoff (`/approvals/{token}`); in the same run the
same uvicorn serves bench/_baseline_app.py, which does the same SQL by hand on a copy of the
same database. Each request decides a different RFC with its own valid link.

    uv run python bench/decision_http.py [--quick] [--n N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import BENCH_SECRET, ROOT, free_port, percentile, seed_project, use_database

CONCURRENCY = 10
CAP_SECONDS = 120
WARM_UP = 30


def prepare(folder: Path, n: int) -> tuple[Path, list[str]]:
    """A database with n major RFCs awaiting the sponsor; returns it and their raw links."""
    path = folder / "decisions.db"
    use_database(path)
    actors = seed_project()
    from sqlmodel import select

    from core import tokens
    from core.db import read_session, write_session
    from models import ActionToken
    from models.rfcs import ImpactInput, RfcCreate
    from services import rfcs

    major = ImpactInput(days_of_work=5, products_affected="stage 1", cost_pence=0,
                        extends_timescale=True, needs_extra_resources=False,
                        recommendation="Extend stage 1.")
    for i in range(n):
        with write_session() as s:
            rfc = rfcs.create_rfc(s, actor=actors["requester"], project_code="BENCH",
                                  data=RfcCreate(title=f"Extend {i}", description="More time"))
            rfcs.submit_rfc(s, actor=actors["requester"], rfc_id=rfc.id or 0)
            rfcs.record_impact(s, actor=actors["pm"], rfc_id=rfc.id or 0, data=major)
    with read_session() as s:
        rows = s.exec(select(ActionToken).where(ActionToken.purpose == "approve_rfc")).all()
        links = [tokens.derive_token(t.salt) for t in rows]
    return path, links


def copy_database(src: Path, dst: Path) -> None:
    """A consistent copy: the prepared rows may still sit in src's -wal file, which a plain
    file copy would leave behind (the baseline then answered 404 for the newest RFCs)."""
    from core.db import reset_engine

    reset_engine()  # close Signoff's pooled connections so nothing holds the WAL open
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        a.backup(b)
        b.execute("PRAGMA journal_mode=WAL")
    a.close()
    b.close()


def serve(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{app} did not start")


async def load(port: int, links: list[str]) -> dict:
    """POST every link once, CONCURRENCY at a time, on loopback; bounded in count and time."""
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    failures = 0
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                 timeout=30) as client:
        async def one(raw: str) -> None:
            nonlocal failures
            async with gate:
                t = time.perf_counter()
                r = await client.post(f"/approvals/{raw}",
                                      data={"decision": "approve", "reason": "Agreed"})
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    failures += 1
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        start = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(one(raw) for raw in links)), CAP_SECONDS)
        elapsed = time.perf_counter() - start
    return {"requests": len(latencies), "non_200": failures, "non_200_statuses": statuses,
            "req_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1)}


def measure(app: str, env: dict[str, str], links: list[str]) -> dict:
    port = free_port()
    proc = serve(app, port, env)
    try:
        asyncio.run(load(port, links[:WARM_UP]))  # first requests import and compile lazily
        return asyncio.run(load(port, links[WARM_UP:]))
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    parser.add_argument("--n", type=int, default=None, help="decisions per contender")
    args = parser.parse_args()
    n = args.n or (200 if args.quick else 2000)
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        folder = Path(tmp)
        path, links = prepare(folder, n + WARM_UP)
        baseline_db = folder / "baseline.db"
        copy_database(path, baseline_db)
        env = {**os.environ, "SIGNOFF_ENV": "test", "SIGNOFF_SECRET_KEY": BENCH_SECRET,
               "SIGNOFF_DATABASE_URL": f"sqlite:///{path}", "BASELINE_DB": str(baseline_db),
               "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}"}
        baseline = measure("_baseline_app:app", env, links)
        signoff = measure("api.main:app", env, links)
    print(json.dumps({
        "benchmark": "decision_http", "concurrency": CONCURRENCY, "uvicorn_workers": 1,
        "signoff": signoff, "baseline_hand_sql": baseline,
        "signoff_vs_baseline_req_per_s": round(signoff["req_per_s"] / baseline["req_per_s"], 2),
        "goals": {"req_per_s": 250, "p99_ms": 60},
        "goals_met": signoff["req_per_s"] >= 250 and signoff["p99_ms"] <= 60,
    }, indent=2))


if __name__ == "__main__":
    main()
