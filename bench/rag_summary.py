"""A scorecard's RAG summary: Signoff's service (and its API route) vs one hand-written query.

One scorecard of 10,000 active measures (8 aims; 70 % quarterly, 15 % monthly, 10 % yearly,
5 % half-yearly), each with its targets and, at its latest period by December 2009, a figure
(85 % entered, spread over GREEN, AMBER and RED, 2 % of them with an officer's override; 5 %
data unavailable; 10 % missing), and September's figures too; a second scorecard of the same
size beside it. Loaded with bulk INSERTs through SQLAlchemy Core, untimed; clock frozen on
25 January 2010.

Contenders, each called `--calls` times (after 2 warm-up calls), alternating, each call in its
own read session as a request would be:

- `report`: `services.performance.report.rag_summary` (the scorecard found by code first);
- `api_view`: `services.performance.api_views.rag_summary`, what the route calls (the same,
  validated into the API's `RagSummary` schema);
- `baseline`: one hand-written SQL query (measures, each joined to its target and figure at
  its frequency's latest period) and Python counting with the same colour rule
  (`services.performance.rag.judge`);
- `rows` (information, not in the goal): `services.performance.report.rows`, the row objects
  (measure, figure, colours, lateness) every report page and download is built from.

Then `GET /api/v1/scorecards/{code}/rag-summary?period=2009-12` over HTTP, one uvicorn worker
on loopback, one request at a time (skipped with a note if the route is absent).

Prints one JSON object. Goal (issue 9): the RAG summary in <= 300 ms per call.

    uv run python bench/rag_summary.py [--measures 10000] [--calls 20] [--quick] [--postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from _common import BENCH_SECRET, ROOT, percentile
from chase import database
from decision_http import Server

PERIOD = "2009-12"
AT = datetime(2010, 1, 25, 12, tzinfo=ZoneInfo("Europe/London"))
CODE = "BIG-0910"
AIMS = 8
GOAL_MS = 300.0
COLOURS = ("green", "amber", "red", "grey")
LATEST = {
    "monthly": "2009-12",
    "quarterly": "2009-12",
    "half-yearly": "2009-09",
    "yearly": "2009-03",
}
EMAIL = "analyst@council.example"


def frequency(i: int) -> str:
    k = i % 20
    if k < 14:
        return "quarterly"
    if k < 17:
        return "monthly"
    return "yearly" if k < 19 else "half-yearly"


def load_data(measures: int) -> dict[str, Any]:
    """Two scorecards of `measures` measures each; returns what was loaded."""
    from sqlalchemy import insert

    from core.db import get_engine
    from models import Person
    from models.performance import Figure, Measure, MeasureTarget, Scorecard

    now = datetime(2010, 1, 10, 12, tzinfo=UTC)
    people = [
        {
            "id": 1 + n,
            "name": f"Officer {n}",
            "email": EMAIL if n == 0 else f"officer{n}@council.example",
            "job_title": "",
            "is_admin": False,
            "active": True,
            "manager_id": None,
            "created_at": now,
        }
        for n in range(200)
    ]
    cards = [
        {"id": 1, "code": CODE, "name": "Big service 09/10", "year": 2009, "portfolio": "All"},
        {"id": 2, "code": "OTHER-0910", "name": "Other 09/10", "year": 2009, "portfolio": "All"},
    ]
    for c in cards:
        c["created_at"] = now
    rows, targets, figures = [], [], []
    for g in range(2 * measures):
        card, i = 1 + g // measures, g % measures
        freq = frequency(i)
        higher = i % 3 != 0
        rows.append(
            {
                "id": g + 1,
                "scorecard_id": card,
                "code": f"M{i:05d}",
                "name": f"Measure {i}",
                "aim": f"Aim {i % AIMS + 1}: a better district",
                "approach": f"Approach {i % 3 + 1}",
                "frequency": freq,
                "responsible_name": "",
                "responsible_officer_id": 1 + i % 200,
                "data_source_name": "",
                "data_source_officer_id": 1 + (i * 7) % 200,
                "unit": "percentage",
                "polarity": "higher" if higher else "lower",
                "year_end_target": 80.0,
                "amber_tolerance": 2.5 if i % 11 == 0 else None,
                "active": True,
                "updated_at": now,
            }
        )
        latest = LATEST[freq]
        for period in {latest, "2009-09"} if freq != "yearly" else {latest}:
            targets.append({"measure_id": g + 1, "period": period, "value": 75.0})
        kind = i % 20
        if kind < 2:  # missing: GREY
            continue
        figure = {
            "measure_id": g + 1,
            "period": latest,
            "state": "entered",
            "actual": None,
            "ytd_actual": None,
            "estimate": None,
            "commentary": "",
            "unavailable_reason": "",
            "first_entered_at": now,
            "entered_at": now,
            "entered_by_id": 1,
            "version": 1,
            "override_current": None,
            "override_projected": None,
            "override_reason": "",
        }
        if kind == 2:
            figure.update(state="unavailable", unavailable_reason="system down")
        else:
            miss = (0.0, 5.0, 7.5, 10.0, -3.0)[i % 5]  # on target, AMBER edge, RED, ...
            figure.update(
                actual=75.0 - miss if higher else 75.0 + miss,
                estimate=80.0 - miss / 2 if higher else 80.0 + miss / 2,
            )
            if i % 50 == 7:
                figure.update(override_current="amber", override_reason="one-off")
        figures.append(figure)
        if freq in ("quarterly", "monthly") and latest != "2009-09":
            figures.append({**figure, "period": "2009-09", "state": "entered", "actual": 76.0})
    engine = get_engine()
    with engine.begin() as conn:
        for table, data in (
            (Person, people),
            (Scorecard, cards),
            (Measure, rows),
            (MeasureTarget, targets),
            (Figure, figures),
        ):
            conn.execute(insert(table.__table__), data)  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql":
            for name in ("person", "scorecard", "measure", "measure_target", "figure"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {name}))"
                )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return {
        "scorecards": len(cards),
        "measures_on_the_scorecard": measures,
        "measures": len(rows),
        "targets": len(targets),
        "figures": len(figures),
    }


# --- the contenders -----------------------------------------------------------------------------


def signoff_report() -> dict[str, Any]:
    from sqlmodel import select

    from core.db import read_session
    from models.performance import Scorecard
    from services.performance import report

    with read_session() as s:
        card = s.exec(select(Scorecard).where(Scorecard.code == CODE)).one()
        return report.rag_summary(s, scorecard=card, period=PERIOD)


def signoff_rows() -> dict[str, Any]:
    """Information: `report.rows`, the row objects every report page is built from."""
    from sqlmodel import select

    from core.db import read_session
    from models.performance import Scorecard
    from services.performance import report

    with read_session() as s:
        card = s.exec(select(Scorecard).where(Scorecard.code == CODE)).one()
        return {"rows": len(report.rows(s, scorecard=card, period=PERIOD))}


def signoff_api_view() -> dict[str, Any]:
    from core.db import read_session
    from services.performance import api_views

    with read_session() as s:
        return api_views.rag_summary(s, code=CODE, period=PERIOD).model_dump()


_CASE = (
    "CASE m.frequency WHEN 'monthly' THEN :monthly WHEN 'quarterly' THEN :quarterly "
    "WHEN 'half-yearly' THEN :half WHEN 'yearly' THEN :yearly END"
)
BASELINE_SQL = f"""
SELECT m.aim, m.polarity, m.amber_tolerance, m.year_end_target, t.value,
       f.state, f.actual, f.estimate, f.override_current, f.override_projected
FROM scorecard s
JOIN measure m ON m.scorecard_id = s.id
LEFT JOIN measure_target t ON t.measure_id = m.id AND t.period = {_CASE}
LEFT JOIN figure f ON f.measure_id = m.id AND f.period = {_CASE}
WHERE s.code = :code AND m.active
ORDER BY m.aim, m.approach, m.code
"""  # noqa: S608 (no user input: the CASE is a constant)


def make_baseline(url: str) -> Callable[[], dict[str, Any]]:
    """One query, counted in Python (a connection from the pool per call, as a request's)."""
    from sqlalchemy import create_engine, text

    from services.performance.rag import judge

    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    query = text(BASELINE_SQL)
    params = {
        "code": CODE,
        "monthly": LATEST["monthly"],
        "quarterly": LATEST["quarterly"],
        "half": LATEST["half-yearly"],
        "yearly": LATEST["yearly"],
    }

    def run() -> dict[str, Any]:
        with engine.connect() as conn:
            rows = conn.execute(query, params).all()
        aims: dict[str, list[Counter[str]]] = {}
        total: list[Counter[str]] = [Counter(), Counter(), Counter()]
        for aim, polarity, own, year_end, target, state, actual, estimate, o_cur, o_proj in rows:
            if state == "entered":
                current = o_cur or judge(actual, target, polarity=polarity, own=own).value
                projected = o_proj or judge(estimate, year_end, polarity=polarity, own=own).value
            else:
                current = projected = "grey"
            for tally in (aims.setdefault(aim, [Counter(), Counter(), Counter()]), total):
                tally[0]["n"] += 1
                tally[1][current] += 1
                tally[2][projected] += 1

        def shown(t: list[Counter[str]]) -> dict[str, Any]:
            return {
                "measures": t[0]["n"],
                "current": {c: t[1][c] for c in COLOURS},
                "projected": {c: t[2][c] for c in COLOURS},
            }

        return {
            "scorecard": CODE,
            "period": PERIOD,
            "aims": [{"aim": aim, **shown(t)} for aim, t in aims.items()],
            "total": shown(total),
        }

    run.engine = engine  # type: ignore[attr-defined]
    return run


def timed_calls(
    contenders: dict[str, Callable[[], dict[str, Any]]], calls: int
) -> tuple[dict[str, list[float]], dict[str, dict[str, Any]]]:
    """Each contender `calls` times after 2 warm-ups, in rotating order; ms per call."""
    ms: dict[str, list[float]] = {name: [] for name in contenders}
    answers = {name: run() for name, run in contenders.items()}
    for run in contenders.values():
        run()
    names = list(contenders)
    for i in range(calls):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            contenders[name]()
            ms[name].append((time.perf_counter() - start) * 1000)
    return ms, answers


def stats(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values), 1),
        "p95_ms": round(percentile(values, 0.95), 1),
        "min_ms": round(min(values), 1),
        "max_ms": round(max(values), 1),
    }


# --- over HTTP ---------------------------------------------------------------------------------


def http_requests(url: str, calls: int, folder: Path, expected: dict[str, Any]) -> dict[str, Any]:
    """GET the route `calls` times (after 2 warm-ups) from one uvicorn worker."""
    from core.db import write_session
    from services.platform import people

    if not (ROOT / "api" / "api_v1" / "performance.py").exists():
        return {"skipped": "api/api_v1/performance.py does not exist"}
    with write_session() as s:
        token = people.create_api_token(s, email=EMAIL, label="bench")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
    env.update(SIGNOFF_ENV="test", SIGNOFF_DATABASE_URL=url, SIGNOFF_SECRET_KEY=BENCH_SECRET)
    server = Server("signoff", "api.main:app", env, folder)
    try:
        server.wait_ready()
        path = f"/api/v1/scorecards/{CODE}/rag-summary"
        ms: list[float] = []
        with httpx.Client(
            base_url=f"http://127.0.0.1:{server.port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ) as client:
            if client.get(path, params={"period": PERIOD}).status_code == 404:
                return {"skipped": f"GET {path} answered 404: no such route yet"}
            for i in range(calls + 2):
                start = time.perf_counter()
                r = client.get(path, params={"period": PERIOD})
                took = (time.perf_counter() - start) * 1000
                if r.status_code != 200:
                    raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:500]}")
                if i >= 2:
                    ms.append(took)
            body = r.json()
    finally:
        server.stop()
    return {
        "request": f"GET {path}?period={PERIOD}",
        **stats(ms),
        "bytes": len(r.content),
        "same_totals_as_the_service": body.get("total") == expected["total"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--measures", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="2,000 measures, 5 calls")
    parser.add_argument("--postgres", action="store_true", help="127.0.0.1:5432, user postgres")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP requests")
    args = parser.parse_args()
    measures, calls = (2000, 5) if args.quick else (args.measures, args.calls)
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="signoff-rag-") as tmp,
        database(args.postgres, Path(tmp)) as url,
    ):
        for key in [k for k in os.environ if k.startswith("SIGNOFF_")]:
            del os.environ[key]
        os.environ.update(
            SIGNOFF_ENV="test", SIGNOFF_DATABASE_URL=url, SIGNOFF_SECRET_KEY=BENCH_SECRET
        )
        from core import clock
        from core.db import reset_engine
        from core.migrate import upgrade
        from core.settings import reset_settings_cache

        reset_settings_cache()
        reset_engine()
        upgrade(url)
        t = time.perf_counter()
        data = load_data(measures)
        load_seconds = time.perf_counter() - t
        baseline = make_baseline(url)
        with clock.frozen(AT):
            ms, answers = timed_calls(
                {
                    "report": signoff_report,
                    "api_view": signoff_api_view,
                    "baseline": baseline,
                    "rows": signoff_rows,
                },
                calls,
            )
        baseline.engine.dispose()  # type: ignore[attr-defined]
        http = (
            {"skipped": "--no-http"}
            if args.no_http
            else http_requests(url, calls, Path(tmp), answers["report"])
        )
        reset_engine()
    report_stats = stats(ms["report"])
    checks = {
        "baseline_counts_as_signoff": answers["baseline"] == answers["report"],
        "api_view_counts_as_report": answers["api_view"]["total"] == answers["report"]["total"],
        "every_measure_counted": answers["report"]["total"]["measures"] == measures,
        "a_row_per_measure": answers["rows"]["rows"] == measures,
    }
    if "same_totals_as_the_service" in http:
        checks["http_counts_as_the_service"] = http["same_totals_as_the_service"]
    result = {
        "benchmark": "rag_summary",
        "database": "postgresql" if args.postgres else "sqlite",
        "data": data,
        "load_seconds_untimed": round(load_seconds, 1),
        "calls": calls,
        "server_ms": {name: stats(values) for name, values in ms.items()},
        "ratio_median_report_vs_baseline": round(
            statistics.median(ms["report"]) / statistics.median(ms["baseline"]), 2
        ),
        "http": http,
        "total": answers["report"]["total"],
        "goal": {
            "ms": GOAL_MS,
            "median_met": report_stats["median_ms"] <= GOAL_MS,
            "p95_met": report_stats["p95_ms"] <= GOAL_MS,
        },
        "checks": checks,
        "environment": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": version("sqlalchemy"),
            "sqlmodel": version("sqlmodel"),
            "cpus": os.cpu_count(),
            "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result, indent=2))
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
