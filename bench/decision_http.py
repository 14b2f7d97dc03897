"""The sponsor's POST decision over HTTP: requests/s and latency at concurrency 10.

N major RFCs (the change extends the timescale, so the project's sponsor decides and gets an
emailed link) are prepared through Signoff's services; every POST /approvals/{token}
(decision=approve, reason=...) uses a different valid link, so every request really decides
one RFC. One uvicorn worker on 127.0.0.1 serves Signoff (api.main:app); in the same run the
same uvicorn settings serve bench/_baseline_app.py, which does the same SQL by hand on a copy
of the same database. httpx.AsyncClient with a semaphore of 10 is the load generator; each
round is bounded in requests and in seconds. Rounds alternate (baseline, Signoff, Signoff,
baseline, ...) so drift on a noisy machine hurts both alike.

With --db postgres the same requests run against PostgreSQL on 127.0.0.1:5432 (trust auth,
user postgres): the RFCs are prepared in a scratch database, which is copied (CREATE DATABASE
... TEMPLATE) once per contender and every copy dropped at the end. Four contenders, each on
its own copy: Signoff under 1 and 2 uvicorn workers (signoff-pg-1worker,
signoff-pg-2workers) and the baseline's same SQL on psycopg under 1 and 2 workers
(baseline-pg-1worker, baseline-pg-2workers), in rotating order each round. Every request
opens its own connection there (for all four alike): with keep-alive, the worker that wakes
first accepts all ten connections and the other idles. Reported besides the latencies: how
throughput grows from 1 to 2 workers, the servers' CPU per request and each worker's share.

Prints one JSON object to stdout. Goals for Signoff on SQLite (issue 10), against the baseline
in the same run: >= 0.6x its requests/s, and a p99 no more than 2x its p99. On PostgreSQL the
same ratios are reported for each worker count (the issue sets no goal there).

    uv run python bench/decision_http.py [--quick] [--n N] [--rounds R] [--db postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from _common import (
    PROJECT,
    ROOT,
    bench_env,
    collector_paused,
    copy_database,
    free_port,
    percentile,
    release_database,
    seed_project,
)
from fastapi import FastAPI, Form
from fastapi.responses import HTMLResponse

CONCURRENCY = 10
GOAL_THROUGHPUT_RATIO = 0.6  # Signoff req/s over the baseline's
GOAL_P99_RATIO = 2.0  # Signoff p99 over the baseline's
REASON = "Agreed: the extra four weeks are within the programme's tolerance."
SIGNOFF = "signoff"
BASELINE = "baseline_hand_sql"
APPS = {SIGNOFF: "api.main:app", BASELINE: "_baseline_app:app"}
ENDPOINT = "POST /approvals/{token} (decision=approve, reason=...)"
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_BASELINE_APP = "decision_http:baseline_pg_app"  # a factory (uvicorn --factory)
# PostgreSQL contenders: name -> (Signoff or the baseline, uvicorn workers)
PG_CONTENDERS = {
    "baseline-pg-1worker": (BASELINE, 1),
    "signoff-pg-1worker": (SIGNOFF, 1),
    "signoff-pg-2workers": (SIGNOFF, 2),
    "baseline-pg-2workers": (BASELINE, 2),
}


def use_url(url: str) -> None:
    """Point this process's Signoff at a database URL, SQLite or PostgreSQL, and migrate it
    (as _common.use_database does for an SQLite file; no SIGNOFF_ variable of the shell kept)."""
    for key in [k for k in os.environ if k.startswith("SIGNOFF_")]:
        del os.environ[key]
    os.environ.update(bench_env(url))
    from core.db import reset_engine
    from core.migrate import upgrade
    from core.settings import reset_settings_cache

    reset_settings_cache()
    reset_engine()
    upgrade(url)


def prepare(url: str, count: int) -> list[str]:
    """`count` major RFCs awaiting the sponsor's decision; returns their raw links in order."""
    use_url(url)
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
    """uvicorn on loopback, as `uv run uvicorn APP --workers 1 --log-level warning` (or more
    workers; `factory`: APP names a function that makes the app, uvicorn's --factory)."""

    def __init__(
        self,
        name: str,
        app: str,
        env: dict[str, str],
        folder: Path,
        *,
        workers: int = 1,
        factory: bool = False,
    ) -> None:
        self.name, self.port, self.workers = name, free_port(), workers
        self.log = folder / f"{name}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (our own argv, no shell)
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    app,
                    *(["--factory"] if factory else []),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(workers),
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

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: uvicorn itself with one worker, else the
        worker processes its supervisor spawned (its children on Linux's /proc)."""
        if self.workers == 1:
            return [self.proc.pid]
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            pids = [int(p) for p in children.read_text().split()]
        except OSError:
            return []
        # multiprocessing may start a resource tracker beside the workers: not a worker
        return [p for p in pids if "resource_tracker" not in _cmdline(p)]

    def cpu_seconds(self) -> list[float]:
        """CPU seconds (user + system) used so far by each worker (Linux only, else [])."""
        return [_cpu_seconds(pid) for pid in self.worker_pids()]

    def wait_workers_idle(self, timeout: float = 90) -> None:
        """With several workers, wait until each has started and stopped using CPU (done
        importing): answering one request proves only one worker is up."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.cpu_seconds()
            if len(now) == self.workers == len(before) and all(
                b - a < 0.02 for a, b in zip(before, now, strict=True)
            ):
                return
            before = now
        print(f"{self.name}: workers still busy after {timeout:.0f} s", file=sys.stderr)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def load(port: int, links: list[str], cap_seconds: float, keep_alive: bool = True) -> dict:
    """POST each link once, at most CONCURRENCY in flight; no new request after the cap.

    Without `keep_alive` every request opens its own connection: with several uvicorn workers
    on one socket, the worker that wakes first accepts every connection waiting, so ten
    connections opened at once all go to one worker; a connection per request lets each
    accept go to whichever worker is free.
    """
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(
        max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY if keep_alive else 0
    )
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

        with collector_paused():
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
        "p95_ms": round(percentile(ms, 0.95), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1),
        "req_per_s_by_round": [round(len(r["latencies"]) / r["elapsed"], 1) for r in runs],
        "p99_ms_by_round": [
            round(percentile([x * 1000 for x in r["latencies"]], 0.99), 1) for r in runs
        ],
    }


def connect(url: str) -> Any:
    """A plain DB-API connection to an SQLite or PostgreSQL URL, for the untimed checks."""
    if url.startswith("sqlite:///"):
        return sqlite3.connect(url.removeprefix("sqlite:///"))
    import psycopg

    return psycopg.connect(url)


def decided(url: str) -> dict[str, int]:
    db = connect(url)
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


# --- PostgreSQL -------------------------------------------------------------------------------


@contextmanager
def scratch_postgres() -> Iterator[Callable[..., str]]:
    """Throwaway databases on 127.0.0.1:5432: `create(suffix)` makes one (with `template=`, a
    copy of an earlier one) and returns its URL; every one is dropped at the end."""
    import psycopg

    prefix = f"signoff_bench_{os.getpid()}_{secrets.token_hex(3)}"
    made: list[str] = []
    admin = psycopg.connect(PG_ADMIN, autocommit=True)

    def create(suffix: str, template: str | None = None) -> str:
        name = f"{prefix}_{suffix}".replace("-", "_")
        copy = f' TEMPLATE "{prefix}_{template}"'.replace("-", "_") if template else ""
        admin.execute(f'CREATE DATABASE "{name}"{copy}')
        made.append(name)
        return f"postgresql://postgres@127.0.0.1:5432/{name}"

    try:
        yield create
    finally:
        release_database()
        for name in reversed(made):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class PgLikeSqlite:
    """sqlite3's `execute(sql, params)`, `?` placeholders included, on a psycopg connection:
    _baseline_app's statements run unchanged on PostgreSQL."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: tuple = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), params or None)


def baseline_pg_app() -> FastAPI:
    """The baseline on PostgreSQL (uvicorn --factory decision_http:baseline_pg_app).

    _baseline_app's checks and statements, unchanged, through psycopg: a connection per
    thread in autocommit mode with an explicit BEGIN ... COMMIT per decision (PostgreSQL's row
    locks queue concurrent writers: there is no BEGIN IMMEDIATE). BASELINE_DB is the URL.
    """
    import hashlib

    import _baseline_app as sql  # its SQLite route is not used: only its SQL and pages
    import psycopg

    url = os.environ["BASELINE_DB"]
    app = FastAPI(openapi_url="/openapi.json", docs_url=None, redoc_url=None)
    local = threading.local()

    def conn() -> PgLikeSqlite:
        db = getattr(local, "db", None)
        if db is None:
            db = local.db = PgLikeSqlite(psycopg.connect(url, autocommit=True))
        return db

    @app.post("/approvals/{raw}", response_class=HTMLResponse)
    def decide(raw: str, decision: str = Form(""), reason: str = Form("")) -> HTMLResponse:
        reason = reason.strip()
        if decision not in ("approve", "reject") or len(reason) > 10_000:
            return sql._page(422, "Select whether you approve or reject the change")
        if decision == "reject" and not reason:
            return sql._page(422, "Enter the reason for rejecting the change")
        if not sql._looks_like_token(raw):
            return sql._page(404, "This link is not valid")
        digest = hashlib.sha256(raw.encode()).hexdigest()
        db = conn()
        db.execute("BEGIN")
        try:
            # an aware datetime, not SQLite's text: the columns are timestamptz here
            page = sql._decide(db, digest, decision, reason, datetime.now(UTC))  # type: ignore[arg-type]
            db.execute("COMMIT" if page.status_code == 200 else "ROLLBACK")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return page

    return app


def pg_environment(url: str) -> dict[str, Any]:
    from importlib.metadata import version

    db = connect(url)
    try:
        server = db.execute("SHOW server_version").fetchone()[0]
    finally:
        db.close()
    return {"postgresql": server, "psycopg": version("psycopg")}


# --- the runs ---------------------------------------------------------------------------------


def run_sqlite(apps: dict[str, str], plan: dict[str, Any]) -> dict:
    """Signoff and the baseline, one uvicorn worker each, on copies of one SQLite file."""
    rounds, n, per_round = plan["rounds"], plan["n"], plan["per_round"]
    warm_up, cap_seconds, started = plan["warm_up"], plan["cap_seconds"], plan["started"]
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        folder = Path(tmp)
        paths = {SIGNOFF: folder / "signoff.db", BASELINE: folder / "baseline.db"}
        urls = {name: f"sqlite:///{path}" for name, path in paths.items()}
        links = prepare(urls[SIGNOFF], warm_up + n)
        copy_database(paths[SIGNOFF], paths[BASELINE])
        before = decided(urls[SIGNOFF])
        env = bench_env(urls[SIGNOFF])
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
                    cpu = sum(servers[name].cpu_seconds())
                    run = asyncio.run(load(servers[name].port, batch, cap_seconds))
                    run["cpu_s"] = sum(servers[name].cpu_seconds()) - cpu
                    runs[name].append(run)
        finally:
            for server in servers.values():
                server.stop()
        after = {name: decided(url) for name, url in urls.items()}
        server_errors = {
            name: s.log.read_text()[-2000:]
            for name, s in servers.items()
            if s.log.read_text().strip()
        }

    results = {name: summarise(r) for name, r in runs.items()}
    for name, measured in runs.items():  # the worker's user + system CPU over the measured load
        requests = results[name]["requests"]
        cpu_s = sum(run["cpu_s"] for run in measured)
        results[name]["server_cpu_ms_per_request"] = (
            round(cpu_s / requests * 1000, 2) if requests else None
        )
    checks = {}
    for name in (SIGNOFF, BASELINE):
        ok = sum(r["statuses"][200] for r in runs[name]) + warm_up
        checks[f"{name}_every_200_decided_one_rfc"] = one_decision_each(before, after[name], ok)
    signoff, baseline = results[SIGNOFF], results[BASELINE]
    return {
        "benchmark": "decision_http",
        "database": "sqlite",
        "endpoint": ENDPOINT,
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


def run_postgres(apps: dict[str, str], plan: dict[str, Any]) -> dict:
    """Signoff and the baseline under 1 and 2 uvicorn workers, each on its own copy of one
    prepared PostgreSQL database, in rotating order each round."""
    rounds, n, per_round = plan["rounds"], plan["n"], plan["per_round"]
    warm_up, cap_seconds, started = plan["warm_up"], plan["cap_seconds"], plan["started"]
    most_workers = max(workers for _, workers in PG_CONTENDERS.values())
    first = warm_up * most_workers  # links before `first` are for warming up
    python_path = [str(ROOT), str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")]
    with (
        tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp,
        scratch_postgres() as create,
    ):
        folder = Path(tmp)
        prepared = create("prepared")
        links = prepare(prepared, first + n)
        release_database()  # a template must have no connections
        before = decided(prepared)
        environment = pg_environment(prepared)
        urls = {name: create(name, template="prepared") for name in PG_CONTENDERS}
        prepared_s = time.perf_counter() - started
        servers: dict[str, Server] = {}
        runs: dict[str, list[dict]] = {name: [] for name in PG_CONTENDERS}
        warmed: dict[str, int] = {}
        try:
            for name, (app, workers) in PG_CONTENDERS.items():
                env = bench_env(urls[name])
                env.update(
                    BASELINE_DB=urls[name],
                    PYTHONPATH=os.pathsep.join(p for p in python_path if p),
                )
                servers[name] = Server(
                    name,
                    apps[SIGNOFF] if app == SIGNOFF else PG_BASELINE_APP,
                    env,
                    folder,
                    workers=workers,
                    factory=app == BASELINE,
                )
            for name, server in servers.items():
                server.wait_ready()
                if server.workers > 1:
                    server.wait_workers_idle()
                # the first requests import and compile lazily, in every worker: a burst each
                warmed[name] = 0
                for k in range(server.workers):
                    warm = links[k * warm_up : (k + 1) * warm_up]
                    done = asyncio.run(load(server.port, warm, cap_seconds, keep_alive=False))
                    warmed[name] += done["statuses"][200]
                    time.sleep(0.2)
            names = list(PG_CONTENDERS)
            for r in range(rounds):
                batch = links[first + r * per_round : first + (r + 1) * per_round]
                shift = r % len(names)
                for name in names[shift:] + names[:shift]:
                    server = servers[name]
                    cpu = server.cpu_seconds()
                    run = asyncio.run(load(server.port, batch, cap_seconds, keep_alive=False))
                    run["cpu"] = [b - a for a, b in zip(cpu, server.cpu_seconds(), strict=False)]
                    runs[name].append(run)
        finally:
            for server in servers.values():
                server.stop()
        after = {name: decided(url) for name, url in urls.items()}
        server_errors = {
            name: s.log.read_text()[-2000:]
            for name, s in servers.items()
            if s.log.read_text().strip()
        }

    results = {}
    for name, measured in runs.items():
        results[name] = summarise(measured)
        per_worker = [sum(c) for c in zip(*(run["cpu"] for run in measured), strict=False)]
        requests = results[name]["requests"]
        results[name]["server_cpu_ms_per_request"] = (
            round(sum(per_worker) / requests * 1000, 2) if requests and per_worker else None
        )
        if len(per_worker) > 1 and sum(per_worker):
            results[name]["worker_cpu_share"] = [round(c / sum(per_worker), 2) for c in per_worker]
    checks = {}
    for name in PG_CONTENDERS:
        ok = sum(r["statuses"][200] for r in runs[name]) + warmed[name]
        checks[f"{name}_every_200_decided_one_rfc"] = one_decision_each(before, after[name], ok)
        checks[f"{name}_warm_up_all_200"] = warmed[name] == warm_up * servers[name].workers
        if "worker_cpu_share" in results[name]:  # else 2 workers were 1 worker measured twice
            checks[f"{name}_every_worker_served"] = min(results[name]["worker_cpu_share"]) >= 0.1

    def pair(workers: str) -> tuple[dict, dict]:
        return results[f"signoff-pg-{workers}"], results[f"baseline-pg-{workers}"]

    by_workers = ("1worker", "2workers")
    return {
        "benchmark": "decision_http",
        "database": "postgresql",
        "endpoint": ENDPOINT,
        "signoff_app": apps[SIGNOFF],
        "baseline_app": PG_BASELINE_APP,
        "concurrency": CONCURRENCY,
        "uvicorn_workers": {name: workers for name, (_, workers) in PG_CONTENDERS.items()},
        "rounds": rounds,
        "requests_per_contender": n,
        "warm_up_requests_per_worker": warm_up,
        "cap_seconds_per_round": cap_seconds,
        **results,
        "ratios": {
            "signoff_vs_baseline_req_per_s": {
                w: round(pair(w)[0]["req_per_s"] / pair(w)[1]["req_per_s"], 3) for w in by_workers
            },
            "signoff_vs_baseline_p99": {
                w: round(pair(w)[0]["p99_ms"] / pair(w)[1]["p99_ms"], 2) for w in by_workers
            },
            "req_per_s_2workers_vs_1worker": {
                who: round(
                    results[f"{who}-pg-2workers"]["req_per_s"]
                    / results[f"{who}-pg-1worker"]["req_per_s"],
                    2,
                )
                for who in ("signoff", "baseline")
            },
        },
        "goals": {
            "note": "issue 10's goals are for SQLite; the same ratios, per worker count",
            "throughput_ratio": GOAL_THROUGHPUT_RATIO,
            "p99_ratio": GOAL_P99_RATIO,
            "throughput_met": {
                w: pair(w)[0]["req_per_s"] >= GOAL_THROUGHPUT_RATIO * pair(w)[1]["req_per_s"]
                for w in by_workers
            },
            "p99_met": {
                w: pair(w)[0]["p99_ms"] <= GOAL_P99_RATIO * pair(w)[1]["p99_ms"] for w in by_workers
            },
        },
        "checks": checks,
        "server_stderr": server_errors,
        "environment": {
            "python": platform.python_version(),
            **environment,
            "httpx": httpx.__version__,
            "cpus": os.cpu_count(),
            "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        },
        "prepare_seconds": round(prepared_s, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def one_decision_each(before: dict[str, int], after: dict[str, int], ok: int) -> bool:
    """Every 200 decided exactly one RFC: as many approved RFCs, approval audit events and used
    links as 200s, and three decision emails (requester, PM, sponsor) for each."""
    made = {k: after[k] - before[k] for k in before}
    return (
        made["rfcs_approved"] == made["audit_approvals"] == made["links_used"] == ok
        and made["decision_emails"] == 3 * ok
    )


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
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="sqlite (a temporary file) or postgres (scratch databases on 127.0.0.1:5432, "
        "user postgres; Signoff and the baseline under 1 and 2 workers)",
    )
    parser.add_argument(
        "--postgres", dest="db", action="store_const", const="postgres", help="--db postgres"
    )
    args = parser.parse_args()
    apps = {**APPS, SIGNOFF: args.signoff_app}
    rounds = args.rounds or (1 if args.quick else 2)
    n = args.n or (60 if args.quick else 1200)
    per_round = max(1, n // rounds)
    plan = {
        "rounds": rounds,
        "n": per_round * rounds,
        "per_round": per_round,
        "warm_up": 10 if args.quick else 50,
        "cap_seconds": 10.0 if args.quick else 20.0,
        "started": time.perf_counter(),
    }
    out = (run_postgres if args.db == "postgres" else run_sqlite)(apps, plan)
    print(json.dumps(out, indent=2))
    if not all(out["checks"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
