"""Does one person's heavy request hold up everyone else's? Latency of a light page, alone and
while an administrator imports scorecards, over HTTP against one uvicorn worker.

The light page is GET /sign-in (what anyone opening Signoff sees first; a sync route with its
sign-in dependency, so each request passes between the event loop and worker threads, as
every page does). The heavy request is POST /performance/import of the CCS scorecard in
data/ (~90 ms of work: the file parsed, 40 measures and their figures written, the report
page rendered), signed in as the administrator through the emailed link's services.

Each round: the light page is read back to back by one client for `--seconds` with nothing
else running ("alone"), then again while a second client imports the scorecard
`--imports` times back to back, each under a new code ("during imports"). Rounds repeat
(`--rounds`). Everything runs on this machine: the load generator, the server and SQLite
share its cores.

Prints one JSON object: per phase the light page's requests and p50/p90/p99/max latency,
the imports' own times, `p99_during_vs_alone` and `max_during_ms`. No goal is fixed; the
ninth pass of issue 10 measured it before and after the form routes moved off the event
loop (bench/README.md). Checks: every light request 200, every import 200 and reported
imported. Exits non-zero when a check fails.

    uv run python bench/loop_stall.py [--quick] [--rounds R] [--imports N] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import ROOT, bench_env, percentile, release_database, seed_project, session_cookie
from decision_http import Server, use_url

LIGHT = "/sign-in"
CARD = ROOT / "data" / "scorecard_ccs_2009-10_q3.csv"
SESSION_COOKIE = "signoff_session"  # api.deps.SESSION_COOKIE


def prepare(url: str) -> str:
    """The people and project of every benchmark; returns the administrator's session cookie,
    signed in through people.request_sign_in and complete_sign_in (the emailed link's way)."""
    use_url(url)
    seed_project()
    cookie = session_cookie("admin@bench.example")
    release_database()
    return cookie


def _ms(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    if not ordered:
        return {"requests": 0}
    return {
        "requests": len(ordered),
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
        "p90_ms": round(percentile(ordered, 0.90) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def round_trip(port: int, cookie: str, *, seconds: float, imports: int, tag: str) -> dict:
    base = f"http://127.0.0.1:{port}"
    statuses: dict[str, int] = {}
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as light,
        httpx.AsyncClient(base_url=base, timeout=60, cookies={SESSION_COOKIE: cookie}) as admin,
    ):
        page = await admin.get("/performance/import")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert page.status_code == 200 and found, (page.status_code, page.text[:500])
        token, card = found.group(1), CARD.read_bytes()

        async def read_light(until: asyncio.Event | float) -> list[float]:
            """The light page, back to back, until the event is set or the clock passes."""

            def over() -> bool:
                if isinstance(until, asyncio.Event):
                    return until.is_set()
                return time.perf_counter() > until

            taken: list[float] = []
            while not over():
                started = time.perf_counter()
                response = await light.get(LIGHT)
                taken.append(time.perf_counter() - started)
                key = f"light_{response.status_code}"
                statuses[key] = statuses.get(key, 0) + 1
            return taken

        alone = await read_light(time.perf_counter() + seconds)
        done = asyncio.Event()
        poller = asyncio.create_task(read_light(done))
        await asyncio.sleep(0.05)  # the poller is under way before the first import
        took: list[float] = []
        for i in range(imports):
            started = time.perf_counter()
            response = await admin.post(
                "/performance/import",
                data={"csrf_token": token, "code": f"BENCH-{tag}-{i}", "period": "2009-12"},
                files={"file": ("scorecard_ccs_2009-10_q3.csv", card, "text/csv")},
            )
            took.append(time.perf_counter() - started)
            ok = response.status_code == 200 and "imported" in response.text
            key = "import_ok" if ok else f"import_failed_{response.status_code}"
            statuses[key] = statuses.get(key, 0) + 1
        done.set()
        during = await poller
    return {"alone": alone, "during": during, "imports": took, "statuses": statuses}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--imports", type=int, default=None, help="imports per round")
    parser.add_argument("--seconds", type=float, default=None, help="light page alone, per round")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    imports = args.imports or (2 if args.quick else 10)
    seconds = args.seconds or (0.5 if args.quick else 2.0)

    with tempfile.TemporaryDirectory(prefix="signoff-stall-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'stall.db'}"
        cookie = prepare(url)
        server = Server("signoff", "api.main:app", bench_env(url), folder)
        try:
            server.wait_ready()
            asyncio.run(round_trip(server.port, cookie, seconds=0.3, imports=1, tag="warm"))
            runs = [
                asyncio.run(
                    round_trip(server.port, cookie, seconds=seconds, imports=imports, tag=str(r))
                )
                for r in range(rounds)
            ]
        finally:
            server.stop()
        stderr = server.log.read_text().strip()

    alone = [t for run in runs for t in run["alone"]]
    during = [t for run in runs for t in run["during"]]
    took = [t for run in runs for t in run["imports"]]
    statuses: dict[str, int] = {}
    for run in runs:
        for key, count in run["statuses"].items():
            statuses[key] = statuses.get(key, 0) + count
    summary_alone, summary_during = _ms(alone), _ms(during)
    checks = {
        "light_all_200": set(statuses) - {"import_ok"} == {"light_200"},
        "imports_all_imported": statuses.get("import_ok", 0) == rounds * imports,
    }
    result = {
        "benchmark": "loop_stall",
        "light_page": LIGHT,
        "alone": summary_alone,
        "during_imports": summary_during,
        "imports": {
            "count": len(took),
            "p50_ms": round(percentile(sorted(took), 0.5) * 1000, 1),
            "max_ms": round(max(took) * 1000, 1),
        },
        "p99_during_vs_alone": round(summary_during["p99_ms"] / summary_alone["p99_ms"], 2)
        if during
        else None,
        "max_during_ms": summary_during.get("max_ms"),
        "statuses": statuses,
        "checks": checks,
        "environment": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    if stderr:
        result["server_stderr"] = stderr[-2000:]
    print(json.dumps(result, indent=2))
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
