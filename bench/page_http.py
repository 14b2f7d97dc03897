"""Two pages a signed-in viewer reads, over HTTP: requests/s and latency at concurrency 10.

A project with 2,000 RFCs, every one raised through Signoff's services (so the rows are the
services' own: RFCs, audit events, steps, links, outbox rows), a quarter each left as a draft,
at impact analysis, awaiting the sponsor (a major change) and approved by the PM (a minor
one). The viewer is one of the project's people and nothing more, signed in through
people.request_sign_in and complete_sign_in (the emailed link's service); every request
carries their session cookie. Pages:

- register: GET /projects/BENCH, the project and the first page of its RFC register (the 25
  newest, with a link to the next page);
- rfc: GET /rfcs/{id}, one approved RFC from the middle of the register (Part 1, Part 2, the
  decision, its four history lines).

One uvicorn worker on 127.0.0.1 serves Signoff (api.main:app); in the same run the same
uvicorn settings serve the baseline, `baseline_app` below (uvicorn --factory
page_http:baseline_app): a minimal FastAPI app that checks the same session cookie, reads the
same rows with plain SQL and renders a comparable HTML page (nav, the project's details and
people, the same register table; the RFC's parts and history) with a plain Jinja template,
no GOV.UK macros. httpx.AsyncClient with a semaphore of 10 is the load generator; each round
is bounded in requests and in seconds; rounds alternate (baseline, Signoff, Signoff,
baseline, ...) per page. Both read the same database (nothing here writes).

Prints one JSON object to stdout. Goal (issue 10): p99 reported against a minimal hand-written
page in the same run (no threshold). Exits non-zero when a page is not what it should be.

    uv run python bench/page_http.py [--quick] [--n N] [--rounds R] [--rfcs N] [--db postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from _common import (
    PROJECT,
    ROOT,
    bench_env,
    collector_paused,
    connect_like_signoff,
    release_database,
    seed_project,
    session_cookie,
)
from decision_http import (
    CONCURRENCY,
    PgLikeSqlite,
    Server,
    pg_environment,
    scratch_postgres,
    summarise,
    use_url,
)
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import DictLoader, Environment

SIGNOFF = "signoff"
BASELINE = "baseline_hand_sql"
APPS = {SIGNOFF: "api.main:app", BASELINE: "page_http:baseline_app"}
PAGES = ("register", "rfc")
VIEWER = "viewer@bench.example"
SESSION_COOKIE = "signoff_session"  # api.deps.SESSION_COOKIE
PAGE_SIZE = 25  # the register's page (api.pages.change_control.PAGE_SIZE; checked in prepare)
HISTORY_ROW = b'data-label="What happened"'  # one per history line, in both apps' pages
RFC_LINK = re.compile(rb'href="/rfcs/(\d+)"')


# --- the data ---------------------------------------------------------------------------------


def prepare(url: str, count: int) -> dict[str, Any]:
    """`count` RFCs on project BENCH through the services, a viewer and their session cookie;
    returns what the pages must show."""
    use_url(url)
    actors = seed_project()
    from sqlmodel import col, select

    from api.pages.change_control import PAGE_SIZE as SIGNOFF_PAGE_SIZE
    from core.db import read_session, write_session
    from models import AuditEvent
    from models.change_control import Rfc
    from models.change_control.rfcs import Decision, DecisionInput, ImpactInput, RfcCreate
    from models.people import PersonCreate
    from services.change_control import projects, rfcs
    from services.platform import people
    from services.platform.actors import Actor

    assert SIGNOFF_PAGE_SIZE == PAGE_SIZE, SIGNOFF_PAGE_SIZE
    minor = ImpactInput(
        days_of_work=1.5,
        products_affected="Stage 2 plan",
        cost_pence=0,
        extends_timescale=False,
        needs_extra_resources=False,
        recommendation="Accommodate within the current stage.",
    )
    major = ImpactInput(
        days_of_work=20,
        products_affected="Stage 2 plan",
        cost_pence=0,
        extends_timescale=True,
        needs_extra_resources=False,
        recommendation="Extend stage 2 by four weeks.",
    )
    requester, pm = actors["requester"], actors["pm"]
    for start in range(0, count, 100):  # set-up, not measured: 100 RFCs a transaction
        with write_session() as s:
            for i in range(start, min(count, start + 100)):
                rfc = rfcs.create_rfc(
                    s,
                    actor=requester,
                    project_code=PROJECT,
                    data=RfcCreate(
                        title=f"Merge the consultation stages ({i})",
                        description="Run the statutory and informal consultations together.\n\n"
                        "The informal one would otherwise start after the statutory one closes.",
                        expected_benefits="Four weeks saved on stage 2.",
                    ),
                )
                rfc_id, kind = rfc.id or 0, i % 4  # draft, impact analysis, awaiting, approved
                if kind >= 1:
                    rfcs.submit_rfc(s, actor=requester, rfc_id=rfc_id)
                if kind == 2:
                    rfcs.record_impact(s, actor=pm, rfc_id=rfc_id, data=major)
                if kind == 3:
                    rfcs.record_impact(s, actor=pm, rfc_id=rfc_id, data=minor)
                    rfcs.decide(
                        s,
                        actor=pm,
                        rfc_id=rfc_id,
                        data=DecisionInput(decision=Decision.approve, reason="Within tolerance."),
                    )
    with write_session() as s:
        people.add_person(s, data=PersonCreate(name="Vera Viewer", email=VIEWER))
    with write_session() as s:
        projects.add_project_member(
            s,
            actor=Actor(person_id=actors["admin"].person_id, is_admin=True),
            code=PROJECT,
            email=VIEWER,
            role="Observer",
        )
    cookie = session_cookie(VIEWER)
    with read_session() as s:
        newest = s.exec(select(Rfc.id, Rfc.ref).order_by(col(Rfc.id).desc()).limit(PAGE_SIZE))
        register = [(newest_id or 0, ref) for newest_id, ref in newest]
        approved = list(s.exec(select(Rfc.id, Rfc.ref).where(Rfc.status == "approved")))
        shown_id, shown_ref = sorted(approved)[len(approved) // 2]  # from the middle
        history = len(
            s.exec(
                select(AuditEvent.id).where(
                    AuditEvent.subject_type == "rfc", AuditEvent.subject_id == shown_id
                )
            ).all()
        )
        rfcs_in_project = len(s.exec(select(Rfc.id)).all())
    release_database()
    assert rfcs_in_project == count, (rfcs_in_project, count)
    return {
        "cookie": cookie,
        "paths": {"register": f"/projects/{PROJECT}", "rfc": f"/rfcs/{shown_id}"},
        "register": register,
        "rfc": {"id": shown_id, "ref": shown_ref, "history": history},
        "more_pages": count > PAGE_SIZE,
    }


# --- the baseline: a minimal hand-written app -------------------------------------------------

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} - Signoff</title>
<link rel="stylesheet" href="/assets/govuk-frontend.min.css"></head>
<body><header><a href="/">Signoff</a><nav aria-label="Menu"><ul>
<li><a href="/rfcs">My RFCs</a></li><li><a href="/projects" aria-current="true">Projects</a></li>
<li><a href="/performance/figures">My figures</a></li>
<li><a href="/performance">Performance</a></li>
{% if person.is_admin %}<li><a href="/admin/rfcs">All RFCs</a></li>{% endif %}
<li><a href="/sign-out">Sign out ({{ person.name }})</a></li></ul></nav></header>
<main>{% block main %}{% endblock %}</main></body></html>
"""

REGISTER = """{% extends "layout.html" %}{% block main %}
<p><a href="/projects">Projects</a></p>
<span>{{ project.code }}</span><h1>{{ project.name }}</h1>
{% if project.objective %}<p>{{ project.objective }}</p>{% endif %}
<a href="/projects/{{ project.code }}/rfcs/new">Raise a Request for Change</a>
<dl><dt>Project Sponsor</dt><dd>{{ sponsor }}</dd><dt>Project Manager</dt><dd>{{ manager }}</dd>
<dt>Alternate approver</dt><dd>{{ alternate or "None" }}</dd>
<dt>Cost tolerance</dt><dd>{{ tolerance }} (changes costing more are major)</dd></dl>
<h2 id="register">RFC register</h2>
<form method="get" role="search"><input type="search" name="q" aria-label="Search">
<select name="status" aria-label="Status"><option value="">Any status</option>
{% for s in statuses %}<option value="{{ s }}">{{ s | replace("_", " ") | capitalize }}</option>
{% endfor %}</select><select name="classification" aria-label="Class">
<option value="">Major or minor</option><option value="minor">Minor</option>
<option value="major">Major</option></select><button>Search</button></form>
<table><caption>Requests for Change on this project</caption>
<thead><tr><th>Reference</th><th>Title</th><th>Raised</th><th>Class</th><th>Status</th></tr></thead>
<tbody>{% for r in rows %}
<tr><td data-label="Reference"><a href="/rfcs/{{ r.id }}">{{ r.ref }}</a></td>
<td data-label="Title">{{ r.title }}</td><td data-label="Raised">{{ r.raised_on | long_date }}</td>
<td data-label="Class">{{ (r.classification or "-") | capitalize }}</td>
<td data-label="Status"><strong class="tag-{{ r.status }}">
{{- r.status | replace("_", " ") | capitalize }}</strong></td></tr>
{% else %}<tr><td colspan="5">None yet.</td></tr>{% endfor %}
</tbody></table>
{% if next_before %}<a href="?before={{ next_before }}" rel="next">Next page</a>{% endif %}
{% if stages %}<table><caption>Stages</caption><tbody>{% for s in stages %}
<tr><td>{{ s.number }}. {{ s.name }}</td><td>{{ s.baseline_finish | long_date }}</td>
<td>{{ s.scheduled_finish | long_date }}</td><td>{{ s.review_on | long_date }}</td></tr>
{% endfor %}</tbody></table>{% endif %}
<h2 id="people">People</h2>
<table><thead><tr><th>Name</th><th>Role</th></tr></thead><tbody>
{% for name, role in members %}<tr><td>{{ name }}</td><td>{{ role }}</td></tr>{% endfor %}
</tbody></table>
{% endblock %}"""

RFC = """{% extends "layout.html" %}{% block main %}
<p><a href="/projects">Projects</a> &gt;
<a href="/projects/{{ rfc.code }}">{{ rfc.project }}</a></p>
<span>{{ rfc.project }}</span><h1>{{ rfc.ref }}: {{ rfc.title }}</h1>
<p><strong class="tag-{{ rfc.status }}">{{ rfc.status | replace("_", " ") | capitalize }}</strong>
Version {{ rfc.version }}</p>
<a href="/rfcs/{{ rfc.id }}/print">Printable RFC</a>
<h2>Part 1: Description of change</h2>
<dl><dt>Project</dt><dd>{{ rfc.project }} ({{ rfc.code }})</dd>
<dt>Person requesting change</dt><dd>{{ names.get(rfc.requester_id, "") }}</dd>
<dt>Date RFC raised</dt><dd>{{ rfc.raised_on | long_date }}</dd>
<dt>Issue log number</dt><dd>{{ rfc.issue_log_no or "None" }}</dd>
<dt>Title</dt><dd>{{ rfc.title }}</dd>
<dt>Description of change</dt><dd>{{ rfc.description | paragraphs }}</dd>
<dt>Expected benefits</dt><dd>{{ rfc.expected_benefits | paragraphs }}</dd></dl>
<h2>Part 2: Impact analysis</h2>
{% if rfc.recommendation is none %}
<p>The Project Manager has not recorded the impact analysis yet.</p>
{% else %}<dl><dt>Days of work</dt><dd>{{ rfc.days_of_work }}</dd>
<dt>Other products affected</dt><dd>{{ rfc.products_affected or "None" }}</dd>
<dt>Cost of change</dt><dd>{{ rfc.cost_pence | money }}</dd>
<dt>Extends the timescale</dt><dd>{{ "Yes" if rfc.extends_timescale else "No" }}</dd>
<dt>Needs extra resources</dt><dd>{{ "Yes" if rfc.needs_extra_resources else "No" }}</dd>
<dt>Classification</dt><dd>{{ (rfc.classification or "") | capitalize }} change</dd>
<dt>Action required or reason for rejection</dt><dd>{{ rfc.recommendation }}</dd>
<dt>Approver</dt><dd>{{ names.get(rfc.approver_id) or "Not yet assigned" }}</dd></dl>{% endif %}
{% if rfc.decided_at %}<h2>Decision</h2><dl><dt>Outcome</dt><dd>{{ rfc.status | capitalize }}</dd>
<dt>Decided by</dt><dd>{{ names.get(rfc.decided_by_id, "") }}</dd>
<dt>Date</dt><dd>{{ rfc.decided_at | long_date }}</dd>
<dt>Reason</dt><dd>{{ rfc.decision_reason or "None given" }}</dd></dl>{% endif %}
<h2 id="history">History</h2>
<table><thead><tr><th>When</th><th>What happened</th><th>Version</th></tr></thead><tbody>
{% for e in history %}<tr><td data-label="When">{{ e.at | long_date }}</td>
<td data-label="What happened">{{ e.summary }}</td>
<td data-label="Version">{{ e.version }}</td></tr>
{% endfor %}</tbody></table>
{% endblock %}"""

DONE = {
    "create": "Raised",
    "submit": "Sent for impact analysis",
    "record_impact": "Impact recorded",
    "approve": "Approved",
    "reject": "Rejected",
}
STAGE_KEYS = ("number", "name", "baseline_finish", "scheduled_finish", "review_on")
STATUSES = ("draft", "impact_analysis", "awaiting_approval", "approved", "rejected", "withdrawn")
LONDON = ZoneInfo("Europe/London")


def _long_date(value: date | str | None) -> str:
    """SQLite hands back text, PostgreSQL dates and aware datetimes."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(LONDON)
        return f"{local.day} {local:%B %Y} at {local:%H:%M}"
    return f"{value.day} {value:%B %Y}"


def _paragraphs(text: str | None) -> Any:
    """Blank lines start paragraphs; the text is escaped (Markup.format escapes its arguments)."""
    from markupsafe import Markup

    blocks = [b.strip("\n") for b in (text or "").split("\n\n") if b.strip()]
    return Markup("").join(Markup("<p>{}</p>").format(b) for b in blocks)


def _money(pence: int | None) -> str:
    return "" if pence is None else f"£{pence // 100:,}.{pence % 100:02d}"


def baseline_app() -> FastAPI:
    """The baseline (uvicorn --factory page_http:baseline_app); BASELINE_DB is the database URL.

    Per request, on one connection of this thread, in one read transaction: the session cookie
    by its SHA-256 (live, person active), the project or RFC, who may see it (an administrator,
    a project open to all, its named people, its members, the RFC's requester and approver),
    then the page's rows; rendered with one plain Jinja template.
    """
    import hashlib

    url = os.environ["BASELINE_DB"]
    postgres = not url.startswith("sqlite:///")
    local = threading.local()
    templates = Environment(
        loader=DictLoader({"layout.html": LAYOUT, "register.html": REGISTER, "rfc.html": RFC}),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters.update(long_date=_long_date, paragraphs=_paragraphs, money=_money)
    app = FastAPI(openapi_url="/openapi.json", docs_url=None, redoc_url=None)

    def conn() -> Any:
        db = getattr(local, "db", None)
        if db is None:
            if postgres:
                import psycopg

                db = PgLikeSqlite(psycopg.connect(url, autocommit=True))
            else:
                db = connect_like_signoff(Path(url.removeprefix("sqlite:///")))
            local.db = db
        return db

    def now() -> Any:  # how each backend compares with its stored times
        moment = datetime.now(UTC)
        return moment if postgres else moment.replace(tzinfo=None).isoformat(" ")

    def signed_in(db: Any, raw: str | None) -> dict[str, Any] | None:
        if not raw or not 20 <= len(raw) <= 100 or not all(c.isalnum() or c in "-_" for c in raw):
            return None
        row = db.execute(
            "SELECT p.id, p.name, p.is_admin FROM web_session s JOIN person p "
            "ON p.id = s.person_id WHERE s.token_hash = ? AND s.expires_at > ? AND p.active",
            (hashlib.sha256(raw.encode()).hexdigest(), now()),
        ).fetchone()
        return None if row is None else {"id": row[0], "name": row[1], "is_admin": row[2]}

    def sees(
        db: Any, person: dict[str, Any], project_id: int, open_to_all: Any, *named: Any
    ) -> bool:
        return bool(
            person["is_admin"]
            or open_to_all
            or person["id"] in named
            or db.execute(
                "SELECT 1 FROM project_member WHERE project_id = ? AND person_id = ?",
                (project_id, person["id"]),
            ).fetchone()
        )

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(context), status_code=status)

    def not_found(text: str) -> HTMLResponse:
        return HTMLResponse(f"<!doctype html><title>Not found</title><h1>{text}</h1>", 404)

    def read(request: Request, build: Callable[[Any, dict[str, Any]], Response]) -> Response:
        db = conn()
        db.execute("BEGIN")
        try:
            person = signed_in(db, request.cookies.get(SESSION_COOKIE))
            if person is None:
                return RedirectResponse("/sign-in", status_code=303)
            return build(db, person)
        finally:
            db.execute("COMMIT")

    @app.get("/projects/{code}", response_class=HTMLResponse)
    def project_page(request: Request, code: str) -> Response:
        def build(db: Any, person: dict[str, Any]) -> Response:
            project = db.execute(
                "SELECT id, code, name, objective, cost_tolerance_pence, sponsor_id, "
                "manager_id, alternate_approver_id, open_to_all_officers FROM project "
                "WHERE code = ?",
                (code[:20],),
            ).fetchone()
            if project is None or not sees(db, person, project[0], project[8], *project[5:8]):
                return not_found(f"There is no project with code {code[:20]}.")
            pid, _, _, _, tolerance, sponsor, manager, alternate, _ = project
            names = dict(
                db.execute(
                    "SELECT id, name FROM person WHERE id IN (?, ?, ?)",
                    (sponsor, manager, alternate),
                ).fetchall()
            )
            rows = db.execute(
                "SELECT id, ref, title, raised_on, classification, status FROM rfc "
                "WHERE project_id = ? ORDER BY id DESC LIMIT ?",
                (pid, PAGE_SIZE + 1),
            ).fetchall()
            keys = ("id", "ref", "title", "raised_on", "classification", "status")
            stages = db.execute(
                "SELECT number, name, baseline_finish, scheduled_finish, review_on FROM stage "
                "WHERE project_id = ? ORDER BY number",
                (pid,),
            ).fetchall()
            members = db.execute(
                "SELECT p.name, m.role FROM project_member m JOIN person p ON p.id = m.person_id "
                "WHERE m.project_id = ? ORDER BY m.id",
                (pid,),
            ).fetchall()
            return page(
                "register.html",
                title=project[2],
                person=person,
                project=dict(zip(("id", "code", "name", "objective"), project[:4], strict=True)),
                sponsor=names.get(sponsor, ""),
                manager=names.get(manager, ""),
                alternate=names.get(alternate),
                tolerance=_money(tolerance),
                statuses=STATUSES,
                rows=[dict(zip(keys, r, strict=True)) for r in rows[:PAGE_SIZE]],
                next_before=rows[PAGE_SIZE - 1][0] if len(rows) > PAGE_SIZE else None,
                stages=[dict(zip(STAGE_KEYS, s, strict=True)) for s in stages],
                members=members,
            )

        return read(request, build)

    rfc_columns = (
        "id project_id ref title description expected_benefits issue_log_no requester_id "
        "raised_on days_of_work products_affected cost_pence extends_timescale "
        "needs_extra_resources recommendation classification approver_id decided_by_id "
        "decided_at decision_reason status version"
    ).split()
    picked = ", ".join(f"r.{c}" for c in rfc_columns)
    rfc_sql = (
        f"SELECT {picked}, p.code, p.name, p.sponsor_id, p.manager_id, "  # noqa: S608 (constants)
        "p.alternate_approver_id, p.open_to_all_officers FROM rfc r JOIN project p "
        "ON p.id = r.project_id WHERE r.id = ?"
    )

    @app.get("/rfcs/{rfc_id}", response_class=HTMLResponse)
    def rfc_page(request: Request, rfc_id: int) -> Response:
        def build(db: Any, person: dict[str, Any]) -> Response:
            row = db.execute(rfc_sql, (rfc_id,)).fetchone() if 1 <= rfc_id < 2**31 else None
            rfc = dict(zip(rfc_columns, row or (), strict=False))
            if row is not None:
                code, project, sponsor, manager, alternate, open_to_all = row[len(rfc_columns) :]
                rfc.update(code=code, project=project)
                named = (rfc["requester_id"], rfc["approver_id"], sponsor, manager, alternate)
            if row is None or not sees(db, person, rfc["project_id"], open_to_all, *named):
                return not_found(f"There is no Request for Change with id {rfc_id}.")
            names = dict(
                db.execute(
                    "SELECT id, name FROM person WHERE id IN (?, ?, ?)",
                    (rfc["requester_id"], rfc["approver_id"], rfc["decided_by_id"]),
                ).fetchall()
            )
            history = [
                {
                    "at": at,
                    "version": version,
                    "summary": f"{DONE.get(action, action)} by {who or 'someone'}"
                    + (f": {detail}" if detail else ""),
                }
                for at, action, detail, version, who in db.execute(
                    "SELECT e.at, e.action, e.detail, e.subject_version, p.name "
                    "FROM audit_event e LEFT JOIN person p ON p.id = e.actor_id "
                    "WHERE e.subject_type = 'rfc' AND e.subject_id = ? ORDER BY e.id",
                    (rfc_id,),
                ).fetchall()
            ]
            return page(
                "rfc.html",
                title=f"{rfc['ref']}: {rfc['title']}",
                person=person,
                rfc=rfc,
                names=names,
                history=history,
            )

        return read(request, build)

    return app


# --- the load ---------------------------------------------------------------------------------


async def load(
    port: int, path: str, count: int, cap_seconds: float, cookie: str, marks: list[bytes]
) -> dict:
    """GET `path` `count` times, at most CONCURRENCY in flight; no new request after the cap.
    A 200 counts as right when its body holds every one of `marks`."""
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    right, sizes = 0, Counter[int]()
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        limits=limits,
        timeout=30,
        cookies={SESSION_COOKIE: cookie},
        follow_redirects=False,
    ) as client:
        stop_at = time.perf_counter() + cap_seconds

        async def one() -> None:
            nonlocal right
            async with gate:
                if time.perf_counter() > stop_at:
                    return
                t = time.perf_counter()
                try:
                    r = await client.get(path)
                    statuses[r.status_code] += 1
                except httpx.HTTPError as exc:
                    statuses[-1] += 1
                    print(f"request failed: {exc!r}", file=sys.stderr)
                    latencies.append(time.perf_counter() - t)
                    return
                latencies.append(time.perf_counter() - t)
                sizes[len(r.content)] += 1
                right += r.status_code == 200 and all(m in r.content for m in marks)

        with collector_paused():
            start = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(count)))
            elapsed = time.perf_counter() - start
    return {
        "latencies": latencies,
        "statuses": statuses,
        "elapsed": elapsed,
        "right": right,
        "sizes": sizes,
    }


def page_checks(name: str, page: str, body: bytes, status: int, expect: dict[str, Any]) -> dict:
    """The page shows what the database holds: the 25 newest RFCs (and a next page), or the
    RFC's reference and every one of its history lines."""
    prefix = f"{name}_{page}"
    if page == "register":
        linked = list(dict.fromkeys(int(x) for x in RFC_LINK.findall(body)))
        return {
            f"{prefix}_200": status == 200,
            f"{prefix}_lists_the_{PAGE_SIZE}_newest_rfcs": linked
            == [rfc_id for rfc_id, _ in expect["register"]],
            f"{prefix}_links_the_next_page": (b'rel="next"' in body) == expect["more_pages"],
        }
    ref = expect["rfc"]["ref"].encode()
    return {
        f"{prefix}_200": status == 200,
        f"{prefix}_shows_the_rfc_ref": ref in body,
        f"{prefix}_shows_every_history_line": body.count(HISTORY_ROW) == expect["rfc"]["history"],
    }


def marks_for(page: str, expect: dict[str, Any]) -> list[bytes]:
    """Cheap per-response evidence the page is the right one (the full checks run once)."""
    if page == "register":
        return [expect["register"][0][1].encode(), expect["register"][-1][1].encode()]
    return [expect["rfc"]["ref"].encode(), HISTORY_ROW]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, for smoke tests")
    parser.add_argument(
        "--n", type=int, default=None, help="measured requests per page and contender"
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds per page and contender")
    parser.add_argument("--rfcs", type=int, default=2000, help="RFCs on the project (%(default)s)")
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="sqlite (a temporary file) or postgres (a scratch database on 127.0.0.1:5432)",
    )
    parser.add_argument(
        "--postgres", dest="db", action="store_const", const="postgres", help="--db postgres"
    )
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 2)
    n = args.n or (100 if args.quick else 1000)
    per_round = max(1, n // rounds)
    n = per_round * rounds
    warm_up = 10 if args.quick else 50
    cap_seconds = 10.0 if args.quick else 20.0
    started = time.perf_counter()
    python_path = [str(ROOT), str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")]

    with (
        tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp,
        scratch_postgres() if args.db == "postgres" else nullcontext(None) as create,
    ):
        folder = Path(tmp)
        url = create("pages") if create else f"sqlite:///{folder / 'pages.db'}"
        expect = prepare(url, args.rfcs)
        environment = pg_environment(url) if create else {"sqlite": sqlite3.sqlite_version}
        env = bench_env(url)
        env.update(BASELINE_DB=url, PYTHONPATH=os.pathsep.join(p for p in python_path if p))
        prepared_s = time.perf_counter() - started
        cookie, paths = expect["cookie"], expect["paths"]
        servers: dict[str, Server] = {}
        runs: dict[str, dict[str, list[dict]]] = {
            name: {page: [] for page in PAGES} for name in (SIGNOFF, BASELINE)
        }
        checks: dict[str, bool] = {}
        sizes: dict[str, dict[str, int]] = {SIGNOFF: {}, BASELINE: {}}
        try:
            for name in (BASELINE, SIGNOFF):  # both start at once; each waits its turn below
                servers[name] = Server(name, APPS[name], env, folder, factory=name == BASELINE)
            for name, server in servers.items():
                server.wait_ready()
                for page in PAGES:  # the first requests import and compile lazily
                    asyncio.run(load(server.port, paths[page], warm_up, cap_seconds, cookie, []))
                    r = httpx.get(
                        f"http://127.0.0.1:{server.port}{paths[page]}",
                        cookies={SESSION_COOKIE: cookie},
                        timeout=30,
                    )
                    checks.update(page_checks(name, page, r.content, r.status_code, expect))
                    sizes[name][page] = len(r.content)
            for round_ in range(rounds):
                order = (BASELINE, SIGNOFF) if round_ % 2 == 0 else (SIGNOFF, BASELINE)
                for page in PAGES:
                    for name in order:
                        runs[name][page].append(
                            asyncio.run(
                                load(
                                    servers[name].port,
                                    paths[page],
                                    per_round,
                                    cap_seconds,
                                    cookie,
                                    marks_for(page, expect),
                                )
                            )
                        )
        finally:
            for server in servers.values():
                server.stop()
        server_errors = {
            name: s.log.read_text()[-2000:]
            for name, s in servers.items()
            if s.log.read_text().strip()
        }

    results: dict[str, dict[str, Any]] = {}
    for name, by_page in runs.items():
        results[name] = {}
        for page, measured in by_page.items():
            results[name][page] = summarise(measured)
            answered = sum(run["statuses"][200] for run in measured)
            right = sum(run["right"] for run in measured)
            checks[f"{name}_{page}_every_200_the_right_page"] = right == answered
            checks[f"{name}_{page}_every_request_200"] = answered == results[name][page]["requests"]
    ratios = {
        page: {
            "signoff_vs_baseline_req_per_s": round(
                results[SIGNOFF][page]["req_per_s"] / results[BASELINE][page]["req_per_s"], 3
            ),
            "signoff_vs_baseline_p50": round(
                results[SIGNOFF][page]["p50_ms"] / results[BASELINE][page]["p50_ms"], 2
            ),
            "signoff_vs_baseline_p99": round(
                results[SIGNOFF][page]["p99_ms"] / results[BASELINE][page]["p99_ms"], 2
            ),
        }
        for page in PAGES
    }
    out = {
        "benchmark": "page_http",
        "database": "postgresql" if args.db == "postgres" else "sqlite",
        "pages": {page: f"GET {paths[page]}" for page in PAGES},
        "rfcs_in_project": args.rfcs,
        "register_page_size": PAGE_SIZE,
        "rfc_history_lines": expect["rfc"]["history"],
        "concurrency": CONCURRENCY,
        "uvicorn_workers": 1,
        "rounds": rounds,
        "requests_per_page_per_contender": n,
        "warm_up_requests": warm_up,
        "cap_seconds_per_round": cap_seconds,
        SIGNOFF: results[SIGNOFF],
        BASELINE: results[BASELINE],
        "ratios": ratios,
        "goal": "p99 reported against a minimal hand-written page in the same run (issue 10)",
        "page_bytes": sizes,
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
    print(json.dumps(out, indent=2))
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
