"""The chase of late performance figures, end to end: Signoff vs a minimal hand-written pipeline.

100,000 measures on 50 scorecards of 2009/10, 5,000 data source officers with 20 measures each
(18 due in December: quarterly and monthly; 2 half-yearly or yearly, not due), half the
measures with a responsible officer, 90 % of the officers with a line manager, two
administrators (the performance team). September's figures are in, December's are not. The
data is loaded with bulk INSERTs through SQLAlchemy Core, untimed.

Signoff, as the performance-chase flow runs it, under a frozen clock, each phase timed:

1. `open`: 4 January 2010 09:00, `services.performance.chasing.run_day` opens December's
   returns: a return, a step and an entry link per officer, a `figures_due` email queued each;
2. `deliver_figures_due`: `services.platform.delivery.deliver_due()` sends those 5,000 emails
   (that day's mail: reported, and in `all_phases`, not in the goal's total);
3. `chase`: 18 January 2010 09:00 (first working day after the due date, 15 January),
   `run_day` again: the platform's chasing engine takes each late step (reminder 1), issues a
   fresh link and queues one `chase_digest` per officer; the performance team's summary of
   late officers is queued too;
4. `deliver_digests`: `deliver_due()` renders and sends the digests (and the summaries).

Baseline, in the same run, before and after Signoff (the faster counts): one SQL query for the
late figures ordered by officer, grouped in Python; a Jinja text + HTML digest of the same
content per officer (a random link: no token is stored); an `email.message.EmailMessage` per
digest sent with `send_message` over the same number of pooled aiosmtplib connections.

Both send to an aiosmtpd sink in its own process that counts and discards (bench/outbox.py's).
Prints one JSON object. Goals (issue 9): Signoff's open + chase + deliver_digests <= 30 s, and
its digests/s over those phases >= 70 % of the baseline's.

    uv run python bench/chase.py [--officers 5000] [--quick] [--postgres] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import os
import platform
import pstats
import resource
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from email.message import EmailMessage
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import BENCH_SECRET, ROOT
from outbox import Sink

LONDON = ZoneInfo("Europe/London")
OPEN_AT = datetime(2010, 1, 4, 9, 0, tzinfo=LONDON)  # first working day of January 2010
CHASE_AT = datetime(2010, 1, 18, 9, 0, tzinfo=LONDON)  # first working day after the 15th
PERIOD = "2009-12"
PREVIOUS = "2009-09"
YEAR = 2009
MEASURES_PER_OFFICER = 20
MEASURES_PER_SCORECARD = 2000
ADMINS = 2
GOAL_SECONDS = 30.0
GOAL_RATIO = 0.70
GOAL_PHASES = ("open", "chase", "deliver_digests")
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


# --- the data (untimed) ----------------------------------------------------------------------


def frequency(k: int) -> str:
    """Of an officer's 20 measures: 12 quarterly and 6 monthly (due in December), one
    half-yearly and one yearly (not due)."""
    if k in (9, 19):
        return "half-yearly" if k == 9 else "yearly"
    return "monthly" if k % 3 == 2 else "quarterly"


def load_data(officers: int) -> dict[str, Any]:
    """Bulk-load people, scorecards, measures, targets and September's figures; return what a
    correct chase must produce."""
    from sqlalchemy import insert

    from core.db import get_engine
    from models import Person
    from models.performance import Figure, Measure, MeasureTarget, Scorecard

    now = datetime(2009, 12, 31, 12, tzinfo=UTC)
    managers, responsible = max(1, officers // 20), max(1, officers // 10)
    people: list[dict[str, Any]] = []
    pid = itertools.count(1)
    admin_ids = [next(pid) for _ in range(ADMINS)]
    for n, i in enumerate(admin_ids):
        people.append(_person(i, f"Performance Officer {n + 1}", "perf", now, admin=True))
    manager_ids = [next(pid) for _ in range(managers)]
    for n, i in enumerate(manager_ids):
        people.append(_person(i, f"Line Manager {n + 1:04d}", "manager", now))
    responsible_ids = [next(pid) for _ in range(responsible)]
    for n, i in enumerate(responsible_ids):
        people.append(_person(i, f"Head of Service {n + 1:04d}", "head", now))
    officer_ids = [next(pid) for _ in range(officers)]
    for n, i in enumerate(officer_ids):
        manager = manager_ids[n % managers] if n % 10 else None  # 90 % have a line manager
        people.append(_person(i, f"Data Officer {n + 1:05d}", "officer", now, manager=manager))

    total = officers * MEASURES_PER_OFFICER
    cards = max(1, total // MEASURES_PER_SCORECARD)
    scorecards = [
        {
            "id": c + 1,
            "code": f"SVC{c + 1:02d}-0910",
            "name": f"Service {c + 1:02d} 09/10",
            "year": YEAR,
            "portfolio": f"Portfolio {c % 7 + 1}",
            "created_at": now,
        }
        for c in range(cards)
    ]
    measures, targets, figures = [], [], []
    due_per_officer: dict[int, list[str]] = {}
    for n, officer in enumerate(officer_ids):
        for k in range(MEASURES_PER_OFFICER):
            g = n * MEASURES_PER_OFFICER + k
            freq = frequency(k)
            head = responsible_ids[g % responsible] if k % 2 == 0 else None
            code = f"PI{g + 1:06d}"
            measures.append(
                {
                    "id": g + 1,
                    "scorecard_id": (n // 40 + k // 5) % cards + 1,  # 4 scorecards an officer
                    "code": code,
                    "name": f"Percentage of service requests {g % 97} resolved on first contact",
                    "aim": f"Aim {k % 5 + 1}: better services for residents",
                    "approach": "",
                    "frequency": freq,
                    "responsible_name": "" if head is None else f"Head {head}",
                    "responsible_officer_id": head,
                    "data_source_name": f"Data Officer {n + 1:05d}",
                    "data_source_officer_id": officer,
                    "unit": "percentage",
                    "polarity": "higher" if g % 3 else "lower",
                    "year_end_target": 80.0,
                    "amber_tolerance": None,
                    "active": True,
                    "updated_at": now,
                }
            )
            if freq in ("quarterly", "monthly"):
                due_per_officer.setdefault(officer, []).append(code)
                targets.append({"measure_id": g + 1, "period": PERIOD, "value": 75.0 + g % 10})
                figures.append(
                    {
                        "measure_id": g + 1,
                        "period": PREVIOUS,
                        "state": "entered",
                        "actual": 70.0 + g % 20,
                        "ytd_actual": None,
                        "estimate": 80.0,
                        "commentary": "",
                        "unavailable_reason": "",
                        "first_entered_at": now,
                        "entered_at": now,
                        "entered_by_id": officer,
                        "version": 1,
                        "override_reason": "",
                    }
                )
    engine = get_engine()
    with engine.begin() as conn:
        for table, rows in (
            (Person, people),
            (Scorecard, scorecards),
            (Measure, measures),
            (MeasureTarget, targets),
            (Figure, figures),
        ):
            conn.execute(insert(table.__table__), rows)  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences on
            for name in ("person", "scorecard", "measure", "measure_target", "figure"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {name}))"
                )
    if engine.dialect.name == "postgresql":  # what autovacuum would have done by January
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return {
        "people": len(people),
        "officers": officers,
        "scorecards": cards,
        "measures": len(measures),
        "targets": len(targets),
        "figures_in": len(figures),
        "figures_outstanding": sum(len(v) for v in due_per_officer.values()),
        "officers_owing": len(due_per_officer),
        "admins": ADMINS,
        "due_per_officer": due_per_officer,
    }


def _person(
    pid: int,
    name: str,
    kind: str,
    now: datetime,
    *,
    admin: bool = False,
    manager: int | None = None,
) -> dict[str, Any]:
    return {
        "id": pid,
        "name": name,
        "email": f"{kind}{pid}@council.example",
        "job_title": kind,
        "is_admin": admin,
        "active": True,
        "manager_id": manager,
        "created_at": now,
    }


# --- measuring ---------------------------------------------------------------------------------


def rss_mb(field: str) -> float:
    """VmHWM (peak resident set) or VmRSS of this process, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so each phase reports its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Statements:
    """Counts SQL statements (cursor executes; an executemany counts once) on an engine."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: object) -> None:
        self.count += 1

    @contextmanager
    def on(self, engine: Any) -> Iterator[None]:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self)
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", self)


def phase(
    run: Callable[[], Any], profile: cProfile.Profile | None, engine: Any = None
) -> tuple[dict[str, Any], Any]:
    """Run one phase: wall and CPU seconds, SQL statements, peak RSS; and its result."""
    counter = Statements()
    reset_peak()
    start_rss = rss_mb("VmRSS")
    with counter.on(engine) if engine is not None else _nothing():
        wall, cpu = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        try:
            result = run()
        finally:
            if profile is not None:
                profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stats = {
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "sql_statements": counter.count if engine is not None else None,
        "peak_rss_mb": round(rss_mb("VmHWM"), 1),
        "rss_growth_mb": round(rss_mb("VmHWM") - start_rss, 1),
    }
    return stats, result


@contextmanager
def _nothing() -> Iterator[None]:
    yield


# --- Signoff ----------------------------------------------------------------------------------


def configure(url: str, port: int) -> None:
    """Point this process's Signoff at the database and the sink (no SIGNOFF_ from the shell:
    a SIGNOFF_PREFECT_API_URL would nudge a Prefect server on every commit)."""
    for key in [k for k in os.environ if k.startswith("SIGNOFF_")]:
        del os.environ[key]
    os.environ.update(
        SIGNOFF_ENV="test",
        SIGNOFF_DATABASE_URL=url,
        SIGNOFF_SECRET_KEY=BENCH_SECRET,
        SIGNOFF_SMTP_HOST="127.0.0.1",
        SIGNOFF_SMTP_PORT=str(port),
    )
    from core.db import reset_engine
    from core.settings import reset_settings_cache

    reset_settings_cache()
    reset_engine()


def run_signoff(
    profiles: dict[str, cProfile.Profile] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    from core import clock
    from core.db import get_engine, write_session
    from services.performance import chasing
    from services.platform.delivery import deliver_due

    engine = get_engine()

    def day(today: date) -> Callable[[], Any]:
        def run() -> Any:
            with write_session() as session:
                return chasing.run_day(session, today=today)

        return run

    def deliver() -> Any:
        return asyncio.run(deliver_due())

    def prof(name: str) -> cProfile.Profile | None:
        if profiles is None:
            return None
        return profiles.setdefault(name, cProfile.Profile())

    phases: dict[str, Any] = {}
    results: dict[str, Any] = {}
    with clock.frozen(OPEN_AT):
        phases["open"], opened = phase(day(OPEN_AT.date()), prof("open"), engine)
        phases["deliver_figures_due"], sent_due = phase(
            deliver, prof("deliver_figures_due"), engine
        )
    with clock.frozen(CHASE_AT):
        phases["chase"], chased = phase(day(CHASE_AT.date()), prof("chase"), engine)
        phases["deliver_digests"], sent_digests = phase(deliver, prof("deliver_digests"), engine)
    results = {
        "opened": opened.opened.get(PERIOD, 0),
        "figures_due_sent": sent_due.as_dict(),
        "chase": chased.chase.as_dict() if chased.chase else {},
        "late_officers": len(chased.late),
        "digests_sent": sent_digests.as_dict(),
    }
    return phases, results


def rendered_digest(officer_id: int) -> str:
    """The text of one officer's digest as Signoff builds it (untimed check)."""
    from sqlmodel import select

    from core import clock
    from core.db import CachedReads, read_session
    from models import OutboxMessage
    from services.platform import emails

    with clock.frozen(CHASE_AT), read_session() as s:
        message = s.exec(
            select(OutboxMessage).where(
                OutboxMessage.template == "chase_digest",
                OutboxMessage.to_person_id == officer_id,
            )
        ).one()
        email = emails.render(CachedReads(s), message)
    assert email is not None
    return email.subject + "\n" + email.text


def outbox_counts() -> dict[str, int]:
    from sqlalchemy import func
    from sqlmodel import select

    from core.db import read_session
    from models import OutboxMessage

    with read_session() as s:
        rows = s.exec(
            select(OutboxMessage.template, OutboxMessage.status, func.count()).group_by(
                OutboxMessage.template, OutboxMessage.status
            )
        ).all()
    return {f"{t}:{st}": n for t, st, n in rows}


# --- the hand-written baseline ------------------------------------------------------------------

LATE_SQL = """
SELECT p.id, p.name, p.email, s.name, m.code, m.name, t.value
FROM measure m
JOIN scorecard s ON s.id = m.scorecard_id
JOIN person p ON p.id = m.data_source_officer_id
LEFT JOIN measure_target t ON t.measure_id = m.id AND t.period = :period
LEFT JOIN figure f ON f.measure_id = m.id AND f.period = :period
WHERE m.active AND p.active AND s.year = :year AND f.id IS NULL AND m.frequency IN :due
ORDER BY p.id, s.code, m.aim, m.code
"""

DIGEST_TXT = """Dear {{ name }},

Your performance figures for {{ period }} were due by {{ due }}. \
These {{ items | length }} are late:
{% for i in items %}
- {{ i.code }} {{ i.name }} ({{ i.card }})\
{% if i.target is not none %}, target {{ i.target }}{% endif %}

{% endfor %}

Enter them (no sign-in needed): {{ link }}
This is a new link: it is for you only, works once and expires on {{ expires }}.

This is chase 1. Reports for {{ period }} show GREY for figures still missing at the cut-off. \
From chase 2 the responsible officer is copied, and from chase 3 your line manager.

--
Signoff, {{ base }}
You are receiving this because of your part in a council process (a project, a plan or \
performance figures). Please do not reply to this email.
"""

DIGEST_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Signoff</title></head>
<body style="font-family: arial, sans-serif; font-size: 16px; line-height: 1.3; color: #0b0c0c">
<p>Dear {{ name }},</p>
<p>Your performance figures for <strong>{{ period }}</strong> were due by {{ due }}. \
These {{ items | length }} are late:</p>
<ul>
{% for i in items %}
<li><strong>{{ i.code }}</strong> {{ i.name }} <span style="color: #505a5f">({{ i.card }}\
{% if i.target is not none %}, target {{ i.target }}{% endif %})</span></li>
{% endfor %}
</ul>
<p><a href="{{ link }}" style="font-weight: bold">Enter your figures for {{ period }}</a> \
(no sign-in needed)</p>
<p style="font-size: 14px">This is a new link: it is for you only, works once and expires on \
{{ expires }}.</p>
<p>This is chase 1. Reports for {{ period }} show GREY for figures still missing at the \
cut-off. From chase 2 the responsible officer is copied, and from chase 3 your line manager.</p>
<hr><p style="font-size: 14px; color: #505a5f">Signoff, {{ base }}<br>You are receiving this \
because of your part in a council process (a project, a plan or performance figures). Please \
do not reply to this email.</p>
</body></html>
"""


def run_baseline(url: str, port: int, pool: int) -> tuple[dict[str, Any], int, int]:
    """One query, Jinja, EmailMessage, pooled aiosmtplib: (phases, digests sent, items)."""
    import aiosmtplib
    from jinja2 import Environment
    from sqlalchemy import bindparam, create_engine, text

    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    query = text(LATE_SQL).bindparams(bindparam("due", expanding=True))
    env = Environment(autoescape=False, trim_blocks=True, lstrip_blocks=True)  # noqa: S701 (text)
    txt_t = env.from_string(DIGEST_TXT)
    html_env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    html_t = html_env.from_string(DIGEST_HTML)
    digests: list[tuple[tuple[int, str, str], list[dict[str, Any]]]] = []

    def find() -> None:
        with engine.connect() as conn:
            rows = conn.execute(
                query, {"period": PERIOD, "year": YEAR, "due": ["monthly", "quarterly"]}
            ).all()
        for officer, lines in itertools.groupby(rows, key=lambda r: (r[0], r[1], r[2])):
            digests.append(
                (
                    officer,
                    [{"card": r[3], "code": r[4], "name": r[5], "target": r[6]} for r in lines],
                )
            )

    def message(officer: tuple[int, str, str], items: list[dict[str, Any]]) -> EmailMessage:
        context = {
            "name": officer[1],
            "period": "December 2009",
            "due": "15 January 2010",
            "items": items,
            "link": "http://127.0.0.1:8000/figures/" + secrets.token_urlsafe(32),
            "expires": "1 February 2010 at 09:00",
            "base": "http://127.0.0.1:8000",
        }
        msg = EmailMessage()
        msg["From"] = "Signoff <signoff@council.example>"
        msg["To"] = f"{officer[1]} <{officer[2]}>"
        msg["Subject"] = "Late: your performance figures for December 2009"
        msg.set_content(txt_t.render(context))
        msg.add_alternative(html_t.render(context), subtype="html")
        return msg

    async def send_all() -> None:
        clients = [
            aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30) for _ in range(pool)
        ]
        for client in clients:
            await client.connect()
        todo = iter(digests)

        async def sender(client: aiosmtplib.SMTP) -> None:
            for officer, items in todo:
                await client.send_message(message(officer, items))

        await asyncio.gather(*(sender(c) for c in clients))
        for client in clients:
            await client.quit()

    phases: dict[str, Any] = {}
    phases["find"], _ = phase(find, None)
    phases["render_send"], _ = phase(lambda: asyncio.run(send_all()), None)
    engine.dispose()
    return phases, len(digests), sum(len(items) for _, items in digests)


# --- databases ---------------------------------------------------------------------------------


@contextmanager
def database(postgres: bool, folder: Path) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{folder / 'chase.db'}"
        return
    import psycopg

    name = f"signoff_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        from core.db import reset_engine

        reset_engine()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(url: str) -> dict[str, str]:
    out = {
        "python": platform.python_version(),
        "sqlalchemy": version("sqlalchemy"),
        "sqlmodel": version("sqlmodel"),
        "jinja2": version("jinja2"),
        "aiosmtplib": version("aiosmtplib"),
        "cpus": str(os.cpu_count()),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    if url.startswith("sqlite"):
        out["sqlite"] = sqlite3.sqlite_version
    else:
        from sqlalchemy import text

        from core.db import get_engine

        with get_engine().connect() as conn:
            out["postgresql"] = str(conn.execute(text("SHOW server_version")).scalar())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--officers", type=int, default=5000, help="20 measures each")
    parser.add_argument("--quick", action="store_true", help="500 officers, 10,000 measures")
    parser.add_argument("--postgres", action="store_true", help="127.0.0.1:5432, user postgres")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile Signoff's phases (times inflate)"
    )
    args = parser.parse_args()
    officers = 500 if args.quick else args.officers
    started = time.perf_counter()
    profiles: dict[str, cProfile.Profile] | None = {} if args.profile else None
    sink = Sink()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="signoff-chase-") as tmp,
            database(args.postgres, Path(tmp)) as url,
        ):
            configure(url, sink.port)
            from core.migrate import upgrade
            from core.settings import get_settings

            upgrade(url)
            pool = get_settings().smtp_pool_size
            t = time.perf_counter()
            data = load_data(officers)
            load_seconds = time.perf_counter() - t
            print(f"loaded {data['measures']:,} measures in {load_seconds:.1f} s", file=sys.stderr)
            baseline_runs = []
            baseline_runs.append(run_baseline(url, sink.port, pool))
            print("baseline 1 done", file=sys.stderr)
            signoff_phases, results = run_signoff(profiles)
            print("signoff done", file=sys.stderr)
            baseline_runs.append(run_baseline(url, sink.port, pool))
            print("baseline 2 done", file=sys.stderr)
            sample_officer = next(iter(data["due_per_officer"]))
            sample_text = rendered_digest(sample_officer)
            counts = outbox_counts()
            env = environment(url)
            from core.db import reset_engine

            reset_engine()
    finally:
        received = sink.stop() if sink.proc.poll() is None else -1

    for name, profile in (profiles or {}).items():
        stats = pstats.Stats(profile, stream=sys.stderr)
        print(f"\n=== cProfile of Signoff's phase {name}, by own time ===", file=sys.stderr)
        stats.sort_stats("tottime").print_stats(20)
        print(f"=== {name}, by cumulative time, Signoff's code ===", file=sys.stderr)
        stats.sort_stats("cumulative").print_stats(f"{ROOT}/(services|core|models)/", 30)

    owing = data["officers_owing"]
    goal_s = sum(signoff_phases[p]["seconds"] for p in GOAL_PHASES)
    all_s = sum(p["seconds"] for p in signoff_phases.values())
    base_totals = [sum(p["seconds"] for p in b[0].values()) for b in baseline_runs]
    best = min(range(len(baseline_runs)), key=lambda i: base_totals[i])
    base_rate = baseline_runs[best][1] / base_totals[best]
    signoff_rate = owing / goal_s
    sent_total = (
        results["figures_due_sent"]["sent"]
        + results["digests_sent"]["sent"]
        + sum(b[1] for b in baseline_runs)
    )
    checks = {
        "returns_opened_for_every_officer_owing": results["opened"] == owing,
        "every_figures_due_email_sent": results["figures_due_sent"]["sent"] == owing,
        "one_late_reminder_per_officer": results["chase"]["reminded"] == owing,
        "one_digest_per_officer": results["chase"]["digests"] == owing,
        "digests_and_summaries_sent": results["digests_sent"]["sent"] == owing + ADMINS,
        "late_officers_listed": results["late_officers"] == owing,
        "baseline_digest_per_officer": all(b[1] == owing for b in baseline_runs),
        "baseline_lists_every_outstanding_figure": all(
            b[2] == data["figures_outstanding"] for b in baseline_runs
        ),
        "sample_digest_lists_its_outstanding_figures": all(
            code in sample_text for code in data["due_per_officer"][sample_officer]
        )
        and "Late: your performance figures for December 2009" in sample_text,
        "sink_received_everything_sent": received == sent_total,
    }
    data.pop("due_per_officer")
    result = {
        "benchmark": "chase",
        "database": "postgresql" if args.postgres else "sqlite",
        "data": data,
        "load_seconds_untimed": round(load_seconds, 1),
        "smtp_pool_size": pool,
        "profiled": profiles is not None,
        "signoff": {
            "phases": signoff_phases,
            "goal_seconds": round(goal_s, 2),  # open + chase + deliver_digests
            "all_phases_seconds": round(all_s, 2),
            "digests_per_s": round(signoff_rate, 1),
            "emails_per_s_all_phases": round(
                (results["figures_due_sent"]["sent"] + results["digests_sent"]["sent"]) / all_s,
                1,
            ),
            "sql_statements": sum(p["sql_statements"] for p in signoff_phases.values()),
            "results": results,
            "outbox": counts,
        },
        "baseline": {
            "runs": [
                {
                    "phases": b[0],
                    "seconds": round(base_totals[i], 2),
                    "digests_per_s": round(b[1] / base_totals[i], 1),
                }
                for i, b in enumerate(baseline_runs)
            ],
            "digests_per_s_best": round(base_rate, 1),
        },
        "ratio": round(signoff_rate / base_rate, 3),
        "goal": {
            "seconds": GOAL_SECONDS,
            "seconds_met": goal_s <= GOAL_SECONDS,
            "ratio": GOAL_RATIO,
            "ratio_met": signoff_rate / base_rate >= GOAL_RATIO,
        },
        "memory": "peak RSS per phase: /proc/self/status VmHWM, reset before each phase by "
        "writing 5 to /proc/self/clear_refs; rss_growth_mb is that peak minus RSS at the start",
        "checks": checks,
        "sink_received": received,
        "environment": env,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result, indent=2))
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
