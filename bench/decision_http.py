"""The sponsor's POST decision over HTTP: requests/s and latency at concurrency 10.

N major RFCs (the change extends the timescale, so the project's sponsor decides and gets an
emailed link) are prepared through Signoff's services; every POST /approvals/{token}
(decision=approve, reason=...) uses a different valid link, so every request really decides
one RFC. One uvicorn worker on 127.0.0.1 serves Signoff (api.main:app); in the same run the
same uvicorn settings serve bench/_baseline_app.py, which does the same SQL by hand on a copy
of the same database. httpx.AsyncClient with a semaphore of 10 is the load generator; each
round is bounded in requests and in seconds. Rounds alternate (baseline, Signoff, Signoff,
baseline, ...) so drift on a noisy machine hurts both alike.

Prints one JSON object to stdout. Goals for Signoff on SQLite (issue 10), against the baseline
in the same run: >= 0.6x its requests/s, and a p99 no more than 2x its p99.

    uv run python bench/decision_http.py [--quick] [--n N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from _common import (
    PROJECT,
    ROOT,
    bench_env,
    copy_database,
    free_port,
    percentile,
    release_database,
    seed_project,
    use_database,
)

CONCURRENCY = 10
GOAL_THROUGHPUT_RATIO = 0.6  # Signoff req/s over the baseline's
GOAL_P99_RATIO = 2.0  # Signoff p99 over the baseline's
REASON = "Agreed: the extra four weeks are within the programme's tolerance."
SIGNOFF = "signoff"
BASELINE = "baseline_hand_sql"
APPS = {SIGNOFF: "api.main:app", BASELINE: "_baseline_app:app"}


def prepare(path: Path, count: int) -> list[str]:
    """`count` major RFCs awaiting the sponsor's decision; returns their raw links in order."""
    use_database(path)
    actors = seed_project()
    from sqlmodel import col, select

    from core import tokens
    from core.db import read_session, write_session
    from models import ActionToken
    from models.change_control.rfcs import ImpactInput, RfcCreate
    from services.change_control import rfcs

    major = ImpactInput(
        days_of_work=20,
        products_affected="Stage 2 plan",
        cost_pence=0,
        extends_timescale=True,
        needs_extra_resources=False,
        recommendation="Extend stage 2 by four weeks.",
    )
    for i in range(count):  # set-up, not measured: one transaction per RFC is enough here
        with write_session() as s:
            rfc = rfcs.create_rfc(
                s,
                actor=actors["requester"],
                project_code=PROJECT,
                data=RfcCreate(
                    title=f"Extend stage 2 ({i})", description="The consultation ran late."
                ),
            )
            rfcs.submit_rfc(s, actor=actors["requester"], rfc_id=rfc.id or 0)
            rfcs.record_impact(s, actor=actors["pm"], rfc_id=rfc.id or 0, data=major)
    with read_session() as s:
        rows = s.exec(
            select(ActionToken)
            .where(ActionToken.purpose == "approve_rfc", col(ActionToken.revoked_at).is_(None))
            .order_by(col(ActionToken.id))
        ).all()
        links = [tokens.derive_token(t.salt) for t in rows]
    release_database()
    assert len(links) == count, (len(links), count)
    return links


class Server:
    """One uvicorn worker on loopback, as `uv run uvicorn APP --workers 1 --log-level warning`."""

    def __init__(self, name: str, app: str, env: dict[str, str], folder: Path) -> None:
        self.name, self.port = name, free_port()
        self.log = folder / f"{name}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (our own argv, no shell)
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    app,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    "1",
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/openapi.json", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start in 90 s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def load(port: int, links: list[str], cap_seconds: float) -> dict:
    """POST each link once, at most CONCURRENCY in flight; no new request after the cap."""
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
    ) as client:
        stop_at = time.perf_counter() + cap_seconds

        async def one(raw: str) -> None:
            async with gate:
                if time.perf_counter() > stop_at:
                    return
                t = time.perf_counter()
                try:
                    r = await client.post(
                        f"/approvals/{raw}", data={"decision": "approve", "reason": REASON}
                    )
                    statuses[r.status_code] += 1
                except httpx.HTTPError as exc:
                    statuses[-1] += 1
                    print(f"request failed: {exc!r}", file=sys.stderr)
                latencies.append(time.perf_counter() - t)

        start = time.perf_counter()
        await asyncio.gather(*(one(raw) for raw in links))
        elapsed = time.perf_counter() - start
    return {"latencies": latencies, "statuses": statuses, "elapsed": elapsed}


def summarise(runs: list[dict]) -> dict:
    latencies = [x for run in runs for x in run["latencies"]]
    statuses: Counter[int] = sum((run["statuses"] for run in runs), Counter())
    elapsed = sum(run["elapsed"] for run in runs)
    ms = [x * 1000 for x in latencies]
    return {
        "requests": len(latencies),
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "non_200": len(latencies) - statuses[200],
        "req_per_s": round(len(latencies) / elapsed, 1),
        "mean_ms": round(sum(ms) / len(ms), 1),
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p90_ms": round(percentile(ms, 0.90), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1),
        "req_per_s_by_round": [round(len(r["latencies"]) / r["elapsed"], 1) for r in runs],
        "p99_ms_by_round": [
            round(percentile([x * 1000 for x in r["latencies"]], 0.99), 1) for r in runs
        ],
    }


def decided(path: Path) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        return {
            "rfcs_approved": db.execute(
                "SELECT count(*) FROM rfc WHERE status = 'approved'"
            ).fetchone()[0],
            "audit_approvals": db.execute(
                "SELECT count(*) FROM audit_event WHERE action = 'approve'"
            ).fetchone()[0],
            "decision_emails": db.execute(
                "SELECT count(*) FROM outbox_message WHERE template = 'rfc_decided'"
            ).fetchone()[0],
            "links_used": db.execute(
                "SELECT count(*) FROM action_token WHERE used_at IS NOT NULL"
            ).fetchone()[0],
        }
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    parser.add_argument("--n", type=int, default=None, help="measured requests per contender")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per contender")
    parser.add_argument(
        "--signoff-app",
        default=APPS[SIGNOFF],
        help="ASGI app measured as Signoff, to try a variant (%(default)s)",
    )
    args = parser.parse_args()
    apps = {**APPS, SIGNOFF: args.signoff_app}
    rounds = args.rounds or (1 if args.quick else 2)
    n = args.n or (60 if args.quick else 1200)
    per_round = max(1, n // rounds)
    n = per_round * rounds
    warm_up = 10 if args.quick else 50
    cap_seconds = 10.0 if args.quick else 20.0
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        folder = Path(tmp)
        paths = {SIGNOFF: folder / "signoff.db", BASELINE: folder / "baseline.db"}
        links = prepare(paths[SIGNOFF], warm_up + n)
        copy_database(paths[SIGNOFF], paths[BASELINE])
        before = decided(paths[SIGNOFF])
        env = bench_env(f"sqlite:///{paths[SIGNOFF]}")
        python_path = [str(ROOT), str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")]
        env.update(
            BASELINE_DB=str(paths[BASELINE]),
            PYTHONPATH=os.pathsep.join(p for p in python_path if p),
        )
        prepared_s = time.perf_counter() - started
        servers: dict[str, Server] = {}
        runs: dict[str, list[dict]] = {SIGNOFF: [], BASELINE: []}
        try:
            for name in (BASELINE, SIGNOFF):  # both start at once; each waits its turn below
                servers[name] = Server(name, apps[name], env, folder)
            for server in servers.values():
                server.wait_ready()
                # the first requests import and compile lazily: not what we measure
                asyncio.run(load(server.port, links[:warm_up], cap_seconds))
            for r in range(rounds):
                order = (BASELINE, SIGNOFF) if r % 2 == 0 else (SIGNOFF, BASELINE)
                batch = links[warm_up + r * per_round : warm_up + (r + 1) * per_round]
                for name in order:
                    runs[name].append(asyncio.run(load(servers[name].port, batch, cap_seconds)))
        finally:
            for server in servers.values():
                server.stop()
        after = {name: decided(path) for name, path in paths.items()}
        server_errors = {
            name: s.log.read_text()[-2000:]
            for name, s in servers.items()
            if s.log.read_text().strip()
        }

    results = {name: summarise(r) for name, r in runs.items()}
    checks = {}
    for name in (SIGNOFF, BASELINE):
        ok = sum(r["statuses"][200] for r in runs[name]) + warm_up
        made = {k: after[name][k] - before[k] for k in before}
        checks[f"{name}_every_200_decided_one_rfc"] = (
            made["rfcs_approved"] == made["audit_approvals"] == made["links_used"] == ok
            and made["decision_emails"] == 3 * ok
        )
    signoff, baseline = results[SIGNOFF], results[BASELINE]
    out = {
        "benchmark": "decision_http",
        "endpoint": "POST /approvals/{token} (decision=approve, reason=...)",
        "signoff_app": apps[SIGNOFF],
        "concurrency": CONCURRENCY,
        "uvicorn_workers": 1,
        "rounds": rounds,
        "requests_per_contender": n,
        "warm_up_requests": warm_up,
        "cap_seconds_per_round": cap_seconds,
        SIGNOFF: signoff,
        BASELINE: baseline,
        "ratios": {
            "signoff_vs_baseline_req_per_s": round(signoff["req_per_s"] / baseline["req_per_s"], 3),
            "signoff_vs_baseline_p99": round(signoff["p99_ms"] / baseline["p99_ms"], 2),
        },
        "goals": {
            "throughput_ratio": GOAL_THROUGHPUT_RATIO,
            "p99_ratio": GOAL_P99_RATIO,
            "throughput_met": signoff["req_per_s"] >= GOAL_THROUGHPUT_RATIO * baseline["req_per_s"],
            "p99_met": signoff["p99_ms"] <= GOAL_P99_RATIO * baseline["p99_ms"],
        },
        "checks": checks,
        "server_stderr": server_errors,
        "environment": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "httpx": httpx.__version__,
            "cpus": os.cpu_count(),
        },
        "prepare_seconds": round(prepared_s, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(out, indent=2))
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
