"""Every HTML page, as every kind of person, in every state of its RFC, in real Chromium.

For each cell (page x person x state) the matrix checks:
  (a) the HTTP status the rules below say (a signed-out person is sent to sign in and back);
  (b) no markup of ours escaped into text, and hostile RFC text shown escaped, never live;
  (c) axe-core finds no WCAG 2.2 A/AA violation (once per page and state, and per error page);
  (d) no console error (except Chromium's note about a 4xx document) and no CSP violation,
      with the app's real Content-Security-Policy (no bypass_csp).

Who may see what is written once, in `PAGES` and the rule functions above it: a change to
the rules should only need an edit there. The set of GET page routes the app declares must
equal the keys of `PAGES`, so a new page without a matrix entry fails this test.

Full-page screenshots go to /tmp/matrix_shots (or $MATRIX_SHOTS; empty turns them off).
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from support.browser import AXE, CHROMIUM, CHROMIUM_ARGS, free_port, require

ROOT = Path(__file__).resolve().parents[2]
SHOTS = os.environ.get("MATRIX_SHOTS", "/tmp/matrix_shots")  # noqa: S108 - for people to look at
SECRET = "page-matrix-secret-key-0123456789abcdefghij"  # noqa: S105 - tests only

pytestmark = pytest.mark.browser

# --- hostile text: every marker must come back as text, never as a live element ---------------

MARK = "bold-x9"
HOSTILE_TITLE = f'Merge <b>{MARK}</b> & <script>window.pwned9=1</script> "tasks" 1.2'
HOSTILE_TEXT = (
    f"<i>{MARK}</i> <img src=/x9 onerror=window.pwned9=2> "
    f"<svg onload=window.pwned9=3></svg> <b>{MARK}</b> & done"
)
HOSTILE_Q = f'<b>{MARK}</b>"><script>window.pwned9=4</script>'
ESCAPED_TITLE = f"&lt;b&gt;{MARK}&lt;/b&gt;"
# Our own markup double-escaped (a `|safe` lost, or escaping twice): never in a page.
OWN_MARKUP_ESCAPED = re.compile(
    r"&lt;/?(p|br|a|span|strong|div|ul|ol|li|h[1-6]|table|thead|tbody|tr|td|th|dl|dt|dd"
    r"|label|input|button|form|nav|main|header|footer|section|details|summary)[\s>/]"
    r"|&amp;(lt|gt|amp|quot|#\d+);"
)
LIVE_HOSTILE_JS = """() => {
  const found = [];
  if (window.pwned9 !== undefined) found.push('window.pwned9 = ' + window.pwned9);
  for (const s of document.scripts) if (s.text.includes('pwned9')) found.push('live <script>');
  for (const e of document.querySelectorAll('i, img, svg, b'))
    if (e.textContent === 'MARK' || (e.getAttribute('src') || '') === '/x9'
        || e.hasAttribute('onload') || e.hasAttribute('onerror'))
      found.push('live <' + e.tagName.toLowerCase() + '>');
  return found;
}""".replace("MARK", MARK)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]  # as tests/e2e/test_browser.py

# --- the people and the states of an RFC ------------------------------------------------------

PEOPLE = ("requester", "pm", "sponsor", "alternate", "member", "admin", "stranger", "signed_out")
RFC_CASES = (
    "draft",
    "impact_analysis",
    "awaiting_major",
    "awaiting_minor",
    "approved",
    "rejected",
    "withdrawn",
    "missing",
)
MISSING_RFC_ID = 987654


@dataclass(frozen=True)
class Redirect:
    location: str


Expected = int | Redirect


@dataclass
class World:
    """What the module built: ids, session cookies, raw links; plain data, no DB sessions."""

    base: str
    people: dict[str, Any]  # name -> SimpleNamespace(id, is_admin, member, cookie) or None
    project: Any
    rfcs: dict[str, Any]  # case -> SimpleNamespace(id, status, requester_id, approver_id)
    approval_links: dict[str, str]
    sign_in_links: dict[str, str]
    mail_key: str
    routes: set[str]


# --- the rules (the one place to edit when they change) -----------------------------------------


def to_sign_in(url: str) -> Redirect:
    return Redirect("/sign-in?next=" + quote(url, safe=""))


def may_view_rfc(who: Any, rfc: Any, w: World) -> bool:
    """Requester, PM, sponsor, alternate, approver, project members and admins see an RFC."""
    from services.change_control.roles import roles_on

    return rfc is not None and (
        who.is_admin or who.member or bool(roles_on(rfc, w.project, who.id))
    )


def open_page(who: Any, case: str, w: World, url: str) -> Expected:
    return 200


def signed_in(rule: Callable[[Any, str, World, str], Expected]):  # type: ignore[no-untyped-def]
    """Signed-out people are sent to sign in and brought back to this very URL."""

    def check(who: Any, case: str, w: World, url: str) -> Expected:
        return to_sign_in(url) if who is None else rule(who, case, w, url)

    return check


def anyone(who: Any, case: str, w: World, url: str) -> Expected:
    return 200


def admins(who: Any, case: str, w: World, url: str) -> Expected:
    return 200 if who.is_admin else 403


def project_page(who: Any, case: str, w: World, url: str) -> Expected:
    """A project's people and admins see it; to anyone else it does not exist
    (services.change_control.access).
    The CSE demo project is not open to all officers."""
    return 404 if case == "unknown code" or not (who.is_admin or who.member) else 200


def view_rfc(who: Any, case: str, w: World, url: str) -> Expected:
    return 200 if may_view_rfc(who, w.rfcs.get(case), w) else 404  # a stranger cannot tell


def rfc_form(action: str):  # type: ignore[no-untyped-def]
    """A form page refuses as its POST would, before anyone fills it in.

    404 if they may not see the RFC; 403 if they hold no role that may ever make this move
    (permission before state: they learn nothing about where the RFC is); 409 if the RFC's
    state allows no such move; 403 if the state allows it but not for their role; else 200.
    """
    from services.change_control.rfc_workflow import TRANSITIONS
    from services.change_control.roles import roles_on

    may_ever = frozenset().union(*(m.roles for (_, a), m in TRANSITIONS.items() if a == action))

    def check(who: Any, case: str, w: World, url: str) -> Expected:
        rfc = w.rfcs.get(case)
        if not may_view_rfc(who, rfc, w):
            return 404
        roles = roles_on(rfc, w.project, who.id)
        if not roles & may_ever:
            return 403
        move = TRANSITIONS.get((rfc.status, action))
        if move is None:
            return 409
        return 200 if roles & move.roles else 403

    return check


def scorecard_page(who: Any, case: str, w: World, url: str) -> Expected:
    """Every signed-in person reads every scorecard's reports (performance data is shared
    across the council's staff); a period that is not YYYY-MM is the request's fault."""
    return {"bad period": 400, "unknown code": 404}.get(case, 200)


def by_case(table: dict[str, int]):  # type: ignore[no-untyped-def]
    return lambda who, case, w, url: table[case]


APPROVAL_LINKS = {
    "live": 200,
    "used": 410,
    "decided meanwhile": 410,
    "withdrawn RFC": 410,
    "changed": 409,
    "unknown": 404,
}


def _rfc_urls(suffix: str) -> Callable[[World], dict[str, str]]:
    return lambda w: {
        c: f"/rfcs/{w.rfcs[c].id if c in w.rfcs else MISSING_RFC_ID}{suffix}" for c in RFC_CASES
    }


def _one(url: str) -> Callable[[World], dict[str, str]]:
    return lambda w: {"-": url}


SCORECARD = "PERF-0910"


def _scorecard_urls(suffix: str) -> Callable[[World], dict[str, str]]:
    at = f"/performance/scorecards/{SCORECARD}{suffix}"
    return lambda w: {
        "plain": at + "?period=2009-12",
        "bad period": at + "?period=" + quote("<b>2009-13</b>", safe=""),
        "unknown code": f"/performance/scorecards/NOPE{suffix}",
    }


@dataclass(frozen=True)
class Page:
    urls: Callable[[World], dict[str, str]]  # case -> URL to visit
    rule: Callable[[Any, str, World, str], Expected]  # (person or None, case, world, url)


Q = "?q=" + quote(HOSTILE_Q, safe="")
PAGES: dict[str, Page] = {
    "/": Page(_one("/"), lambda who, c, w, u: Redirect("/rfcs" if who else "/sign-in")),
    "/sign-in": Page(_one("/sign-in"), open_page),
    "/sign-in/{raw}": Page(
        lambda w: {c: f"/sign-in/{r}" for c, r in w.sign_in_links.items()},
        by_case({"live": 200, "used": 404, "unknown": 404}),
    ),
    "/sign-out": Page(_one("/sign-out"), lambda who, c, w, u: 200 if who else Redirect("/sign-in")),
    "/rfcs": Page(_one("/rfcs"), signed_in(anyone)),
    "/projects": Page(_one("/projects"), signed_in(anyone)),
    "/projects/{code}": Page(
        lambda w: {
            "plain": "/projects/CSE",
            "q": "/projects/CSE" + Q,
            "status": "/projects/CSE?status=awaiting_approval",
            "bad cursor": "/projects/CSE?cursor=not-a-cursor%3Cb%3E",
            "unknown code": "/projects/NOPE",
        },
        signed_in(project_page),
    ),
    "/projects/{code}/rfcs/new": Page(
        lambda w: {
            "plain": "/projects/CSE/rfcs/new",
            "unknown code": "/projects/NOPE/rfcs/new",
        },
        signed_in(project_page),
    ),
    "/rfcs/{rfc_id}": Page(_rfc_urls(""), signed_in(view_rfc)),
    "/rfcs/{rfc_id}/print": Page(_rfc_urls("/print"), signed_in(view_rfc)),
    "/rfcs/{rfc_id}/edit": Page(_rfc_urls("/edit"), signed_in(rfc_form("edit"))),
    "/rfcs/{rfc_id}/withdraw": Page(_rfc_urls("/withdraw"), signed_in(rfc_form("withdraw"))),
    "/rfcs/{rfc_id}/impact": Page(_rfc_urls("/impact"), signed_in(rfc_form("record_impact"))),
    "/rfcs/{rfc_id}/decision": Page(_rfc_urls("/decision"), signed_in(rfc_form("approve"))),
    "/admin/rfcs": Page(
        lambda w: {"plain": "/admin/rfcs", "q": "/admin/rfcs" + Q}, signed_in(admins)
    ),
    "/admin/outbox": Page(
        lambda w: {"plain": "/admin/outbox", "sent": "/admin/outbox?status=sent"}, signed_in(admins)
    ),
    "/accessibility": Page(_one("/accessibility"), open_page),
    "/privacy": Page(_one("/privacy"), open_page),
    "/cookies": Page(_one("/cookies"), open_page),
    "/mailbox": Page(_one("/mailbox"), open_page),  # demo and test only
    "/mailbox/{key}": Page(
        lambda w: {"caught": f"/mailbox/{w.mail_key}", "unknown": "/mailbox/no-such-message"},
        by_case({"caught": 200, "unknown": 404}),
    ),
    "/performance": Page(_one("/performance"), signed_in(anyone)),
    # The figure-entry pages' states are covered in tests/performance/test_entry_pages.py,
    # test_figure_page.py and test_import_page.py; here, what every person gets for an
    # unknown one, and the pages anyone signed in (or an administrator) opens.
    "/performance/figures": Page(_one("/performance/figures"), signed_in(anyone)),
    "/performance/import": Page(_one("/performance/import"), signed_in(admins)),
    "/figures/{raw}": Page(
        lambda w: {"unknown": "/figures/" + "0" * 43}, by_case({"unknown": 404})
    ),
    # The service plan sign-off link: its states (live, signed, replaced, closed, not valid)
    # are covered in tests/planning/test_signoff_pages.py and, in Chromium with axe-core, in
    # tests/planning/test_signoff_browser.py; here, what every person gets for an unknown one.
    "/plan-signoff/{raw}": Page(
        lambda w: {"unknown": "/plan-signoff/" + "0" * 43}, by_case({"unknown": 404})
    ),
    # The service plan pages (api/pages/planning*.py): their states, as each person, are in
    # tests/planning/test_plan_pages.py and, in Chromium with axe-core, test_pages_browser.py; here,
    # the list every signed-in person reads and what each person gets for an unknown cycle or
    # plan (the performance team's pages refuse anyone else before looking it up).
    "/planning": Page(_one("/planning"), signed_in(anyone)),
    "/planning/{year}": Page(
        lambda w: {"unknown": "/planning/1999"}, signed_in(lambda who, c, w, u: 404)
    ),
    "/planning/{year}/calendar": Page(
        lambda w: {"unknown": "/planning/1999/calendar"},
        signed_in(lambda who, c, w, u: 404 if who.is_admin else 403),
    ),
    "/planning/{year}/plans/new": Page(
        lambda w: {"unknown": "/planning/1999/plans/new"},
        signed_in(lambda who, c, w, u: 404 if who.is_admin else 403),
    ),
    **{
        f"/planning/plans/{{plan_id}}{suffix}": Page(
            lambda w, s=suffix: {"unknown": f"/planning/plans/999999{s.replace('{key}', 'about')}"},
            signed_in(lambda who, c, w, u: 404),
        )
        for suffix in ("", "/print", "/operational", "/improvement", "/sections/{key}")
    },
    "/planning/plans/{plan_id}/signatories": Page(
        lambda w: {"unknown": "/planning/plans/999999/signatories"},
        signed_in(lambda who, c, w, u: 404 if who.is_admin else 403),
    ),
    "/performance/returns/{return_id}": Page(
        lambda w: {"unknown": "/performance/returns/999999"}, signed_in(lambda who, c, w, u: 404)
    ),
    "/performance/figures/{measure_id}/{period}": Page(
        lambda w: {"unknown": "/performance/figures/999999/2009-12"},
        signed_in(lambda who, c, w, u: 404),
    ),
    "/performance/scorecards/{scorecard_code}": Page(
        _scorecard_urls(""), signed_in(scorecard_page)
    ),
    "/performance/scorecards/{scorecard_code}/summary": Page(
        _scorecard_urls("/summary"), signed_in(scorecard_page)
    ),
    "/performance/scorecards/{scorecard_code}/completeness": Page(
        _scorecard_urls("/completeness"), signed_in(scorecard_page)
    ),
    "/performance/scorecards/{scorecard_code}/late": Page(
        _scorecard_urls("/late"), signed_in(scorecard_page)
    ),
    "/performance/scorecards/{scorecard_code}/measures/{measure_code:path}": Page(
        lambda w: {
            "plain": f"/performance/scorecards/{SCORECARD}/measures/PP18",
            "unknown code": f"/performance/scorecards/{SCORECARD}/measures/NOPE",
        },
        signed_in(scorecard_page),
    ),
    "/approvals/{raw}": Page(
        lambda w: {c: f"/approvals/{r}" for c, r in w.approval_links.items()},
        by_case(APPROVAL_LINKS),
    ),
}
UNROUTED = Page(_one("/no-such-page"), lambda who, c, w, u: 404)  # the 404 page itself

# Cells checked by hand, so the derived rules above cannot drift unnoticed.
HAND_CHECKED: dict[tuple[str, str, str], Expected] = {
    ("/rfcs/{rfc_id}/decision", "awaiting_major", "sponsor"): 200,
    ("/rfcs/{rfc_id}/decision", "awaiting_major", "requester"): 403,
    ("/rfcs/{rfc_id}/decision", "awaiting_major", "pm"): 403,
    ("/rfcs/{rfc_id}/decision", "awaiting_major", "stranger"): 404,
    ("/rfcs/{rfc_id}/decision", "awaiting_minor", "pm"): 200,
    ("/rfcs/{rfc_id}/decision", "awaiting_minor", "sponsor"): 403,
    ("/rfcs/{rfc_id}/decision", "awaiting_major", "admin"): 403,
    ("/rfcs/{rfc_id}/impact", "approved", "pm"): 409,
    ("/rfcs/{rfc_id}/impact", "approved", "requester"): 403,  # could never: state not told
    ("/rfcs/{rfc_id}/decision", "draft", "sponsor"): 403,  # not yet its approver
    ("/rfcs/{rfc_id}/decision", "approved", "sponsor"): 409,  # its approver: already decided
    ("/rfcs/{rfc_id}/decision", "approved", "member"): 403,
    ("/rfcs/{rfc_id}/impact", "awaiting_major", "pm"): 200,
    ("/rfcs/{rfc_id}/impact", "impact_analysis", "admin"): 403,
    ("/rfcs/{rfc_id}/edit", "draft", "requester"): 200,
    ("/rfcs/{rfc_id}/edit", "draft", "pm"): 403,
    ("/rfcs/{rfc_id}/edit", "impact_analysis", "pm"): 200,
    ("/rfcs/{rfc_id}/withdraw", "withdrawn", "requester"): 409,
    ("/rfcs/{rfc_id}/withdraw", "awaiting_major", "member"): 403,
    ("/rfcs/{rfc_id}", "draft", "stranger"): 404,
    ("/rfcs/{rfc_id}", "draft", "admin"): 200,
    ("/rfcs/{rfc_id}", "approved", "member"): 200,
    ("/rfcs/{rfc_id}/print", "rejected", "alternate"): 200,
    ("/admin/outbox", "plain", "member"): 403,
    ("/admin/rfcs", "plain", "admin"): 200,
    ("/projects", "-", "stranger"): 200,
}

# Words a page must (and must not) say, beyond its status.
MUST_SAY = {
    ("/approvals/{raw}", "live"): ("Approve or reject", None),
    ("/approvals/{raw}", "used"): ("already been decided", None),
    ("/approvals/{raw}", "decided meanwhile"): ("already been decided", None),
    ("/approvals/{raw}", "withdrawn RFC"): ("was withdrawn", "already been decided"),
    ("/approvals/{raw}", "changed"): ("has changed since this link was sent", None),
}
ERROR_H1 = {403: "You cannot do that", 404: "Page not found", 409: "This has changed"}


def expected_for(route: str, case: str, person: str, w: World) -> Expected:
    page = PAGES.get(route, UNROUTED)
    url = page.urls(w)[case]
    return page.rule(w.people[person], case, w, url)


# --- building the world ---------------------------------------------------------------------


def _reset_caches() -> None:
    from core import templating
    from core.db import reset_engine
    from core.settings import reset_settings_cache

    reset_settings_cache()
    reset_engine()
    templating.environment.cache_clear()


def _call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    from core.db import write_session

    with write_session() as session:
        return fn(session, **kwargs)


def _build_data(smtp_port: int, maildir: Path) -> dict[str, Any]:
    """The CSE demo, one RFC per state raised by a member with hostile text, sessions, links."""
    from sqlmodel import select

    from core import capture_smtp, tokens
    from core.db import read_session
    from models import ActionToken, Person
    from models.change_control import ProjectMember
    from models.change_control.rfcs import DecisionInput, ImpactInput, RfcCreate, RfcUpdate
    from models.people import PersonCreate
    from services.change_control import approvals, projects, rfcs
    from services.change_control.demo import load_demo
    from services.platform import people
    from services.platform.actors import Actor
    from services.platform.delivery import deliver_due

    project = _call(load_demo)
    code = project.code
    with read_session() as s:
        by_email = {p.email: p for p in s.exec(select(Person))}
    named = {
        "requester": "anita.goddard",
        "pm": "paul.knight",
        "sponsor": "steve.hampson",
        "alternate": "paul.howes",
        "member": "richard.may",
    }
    who = {k: by_email[f"{v}@scambs.example"] for k, v in named.items()}
    # An administrator who is not on the project: only being an admin lets them in.
    who["admin"] = _call(
        people.add_person,
        data=PersonCreate(
            name="Ada Admin", email="ada.admin@council.example", job_title="ICT", is_admin=True
        ),
    )
    who["stranger"] = _call(
        people.add_person,
        data=PersonCreate(
            name=f"Sam <b>{MARK}</b> Stranger",
            email="sam.stranger@council.example",
            job_title=f"<i>{MARK}</i> officer",
        ),
    )

    def actor(name: str) -> Actor:
        return Actor(person_id=who[name].id, address="192.0.2.10", is_admin=who[name].is_admin)

    def impact(rfc_id: int, major: bool) -> None:
        _call(
            rfcs.record_impact,
            actor=actor("pm"),
            rfc_id=rfc_id,
            data=ImpactInput(
                days_of_work=20 if major else 1,
                products_affected=HOSTILE_TEXT,
                cost_pence=0,
                extends_timescale=major,
                needs_extra_resources=False,
                recommendation=HOSTILE_TEXT,
            ),
        )

    def raw_links(rfc_id: int) -> list[str]:
        with read_session() as s:
            rows = s.exec(
                select(ActionToken)
                .where(ActionToken.purpose == "approve_rfc", ActionToken.subject_id == rfc_id)
                .order_by(ActionToken.id)
            ).all()  # type: ignore[arg-type]
        return [tokens.derive_token(r.salt) for r in rows]

    made: dict[str, int] = {}
    for case in RFC_CASES[:-1]:
        rfc = _call(
            rfcs.create_rfc,
            actor=actor("requester"),
            project_code=code,
            data=RfcCreate(
                title=HOSTILE_TITLE, description=HOSTILE_TEXT, expected_benefits=HOSTILE_TEXT
            ),
        )
        made[case] = rfc_id = rfc.id
        if case == "draft":
            continue
        _call(rfcs.submit_rfc, actor=actor("requester"), rfc_id=rfc_id)
        if case != "impact_analysis":
            impact(rfc_id, major=case != "awaiting_minor")
    links: dict[str, str] = {}
    # Edited while awaiting: the first link is for an old version, the second is live.
    _call(
        rfcs.edit_rfc,
        actor=actor("requester"),
        rfc_id=made["awaiting_major"],
        data=RfcUpdate(description=HOSTILE_TEXT + " (edited)"),
    )
    links["changed"], links["live"] = raw_links(made["awaiting_major"])
    links["used"] = raw_links(made["approved"])[0]
    _call(
        approvals.decide_by_link,
        raw=links["used"],
        address="192.0.2.10",
        data=DecisionInput(decision="approve", reason=HOSTILE_TEXT),
    )
    links["decided meanwhile"] = raw_links(made["rejected"])[0]
    _call(
        rfcs.decide,
        actor=actor("sponsor"),
        rfc_id=made["rejected"],
        data=DecisionInput(decision="reject", reason=HOSTILE_TEXT),
    )
    links["withdrawn RFC"] = raw_links(made["withdrawn"])[0]
    _call(
        rfcs.withdraw_rfc, actor=actor("requester"), rfc_id=made["withdrawn"], reason=HOSTILE_TEXT
    )
    links["unknown"] = tokens.new_random_token()

    def sign_in(person: Any, use: bool = True) -> str:
        _call(people.request_sign_in, email=person.email)
        with read_session() as s:
            row = s.exec(
                select(ActionToken)
                .where(ActionToken.purpose == "sign_in", ActionToken.person_id == person.id)
                .order_by(ActionToken.id.desc())
            ).first()  # type: ignore[union-attr]
        raw = tokens.derive_token(row.salt)
        return _call(people.complete_sign_in, raw=raw)[1] if use else raw

    _scorecard(who["stranger"].id)
    cookies = {name: sign_in(p) for name, p in who.items()}
    sign_in_links = {"live": sign_in(who["member"], use=False), "unknown": "0" * 43}
    sign_in_links["used"] = sign_in(who["alternate"], use=False)
    _call(people.complete_sign_in, raw=sign_in_links["used"])

    # Deliver the queued mail to the capture server, so the mailbox pages have something.
    import asyncio

    controller = capture_smtp.start(port=smtp_port, folder=maildir)
    try:
        asyncio.run(deliver_due())
    finally:
        controller.stop()
    caught = capture_smtp.messages(maildir)
    assert caught, "no email reached the capture server"
    mail_key = next((k for k, m in caught if MARK in str(m["Subject"])), caught[0][0])

    with read_session() as s:
        members = {
            m.person_id
            for m in s.exec(select(ProjectMember).where(ProjectMember.project_id == project.id))
        }
        proj = projects.get_project(s, code=code)
        rows = {case: rfcs.get_rfc(s, rfc_id=i)[0] for case, i in made.items()}
        project_ns = SimpleNamespace(
            id=proj.id,
            code=code,
            manager_id=proj.manager_id,
            sponsor_id=proj.sponsor_id,
            alternate_approver_id=proj.alternate_approver_id,
        )
        rfc_ns = {
            case: SimpleNamespace(
                id=r.id,
                status=str(r.status),
                requester_id=r.requester_id,
                approver_id=r.approver_id,
            )
            for case, r in rows.items()
        }
    expect_status = {
        "draft": "draft",
        "impact_analysis": "impact_analysis",
        "awaiting_major": "awaiting_approval",
        "awaiting_minor": "awaiting_approval",
        "approved": "approved",
        "rejected": "rejected",
        "withdrawn": "withdrawn",
    }
    assert {c: r.status for c, r in rfc_ns.items()} == expect_status
    assert rfc_ns["awaiting_major"].approver_id == who["sponsor"].id
    assert rfc_ns["awaiting_minor"].approver_id == who["pm"].id
    people_ns: dict[str, Any] = {
        name: SimpleNamespace(
            id=p.id, is_admin=p.is_admin, member=p.id in members, cookie=cookies[name]
        )
        for name, p in who.items()
    }
    assert not people_ns["stranger"].member and not people_ns["admin"].member
    assert people_ns["requester"].member and people_ns["member"].member
    people_ns["signed_out"] = None
    return {
        "people": people_ns,
        "project": project_ns,
        "rfcs": rfc_ns,
        "approval_links": links,
        "sign_in_links": sign_in_links,
        "mail_key": mail_key,
    }


def _scorecard(officer_id: int) -> None:
    """A scorecard whose measure, aim, commentary and officer names are hostile text, for the
    performance reports (built through the tables: it has no workflow of its own to go
    through)."""
    from datetime import UTC, datetime

    from core.db import write_session
    from models.performance import Figure, Measure, MeasureTarget, Scorecard

    at = datetime(2010, 1, 18, 10, tzinfo=UTC)
    with write_session() as s:
        card = Scorecard(
            code=SCORECARD, name=HOSTILE_TITLE, year=2009, portfolio=HOSTILE_TITLE, created_at=at
        )
        s.add(card)
        s.flush()
        for code, officer in (("PP18", officer_id), ("PP19", None)):
            m = Measure(
                scorecard_id=card.id,
                code=code,
                name=HOSTILE_TITLE,
                aim=HOSTILE_TITLE,
                approach=HOSTILE_TEXT,
                frequency="quarterly",
                polarity="higher",
                data_source_officer_id=officer,
                data_source_name=HOSTILE_TITLE,
                updated_at=at,
            )
            s.add(m)
            s.flush()
            s.add(MeasureTarget(measure_id=m.id, period="2009-12", value=50))
        s.add(
            Figure(
                measure_id=m.id,
                period="2009-12",
                state="entered",
                actual=30,
                estimate=40,
                commentary=HOSTILE_TEXT,
                override_current="amber",
                override_reason=HOSTILE_TEXT,
                first_entered_at=at,
                entered_at=at,
            )
        )


def _page_routes() -> set[str]:
    """GET page routes the app declares (not the JSON API, its docs, or the static files)."""
    from api.app import create_app

    try:  # FastAPI 0.150 keeps included routers lazily: flatten them as the router does
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: the routes are already flat
        iter_route_contexts = list  # noqa: N806
    paths = set()
    for route in iter_route_contexts(create_app().routes):
        methods = getattr(route, "methods", None) or set()
        path = getattr(route, "path", "")
        if "GET" not in methods or path.startswith(("/api/", "/assets")):
            continue
        if path in ("/openapi.json", "/api/docs"):
            continue
        paths.add(path)
    return paths


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    require(CHROMIUM is not None, "Debian's chromium is not installed (make browser)")
    require(AXE.exists(), "axe-core is not installed (npm ci)")
    require(
        (ROOT / "static/assets/govuk-frontend.min.css").exists(), "assets not built (make assets)"
    )
    tmp = tmp_path_factory.mktemp("matrix")
    web_port, smtp_port = free_port(), free_port()
    base = f"http://127.0.0.1:{web_port}"
    env = {
        "SIGNOFF_ENV": "test",
        "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp / 'signoff.db'}",
        "SIGNOFF_SECRET_KEY": SECRET,
        "SIGNOFF_BASE_URL": base,
        "SIGNOFF_SMTP_HOST": "127.0.0.1",
        "SIGNOFF_SMTP_PORT": str(smtp_port),
        "SIGNOFF_SMTP_TIMEOUT_SECONDS": "10",
        # Every person opens every unknown link from this one address: the link-miss limit
        # (tests/platform/test_throttle.py) would otherwise answer 429 part-way through.
        "SIGNOFF_LINK_MISSES_PER_CLIENT": "500",
        "SIGNOFF_MAILBOX_DIR": str(tmp / "mailbox"),
    }
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("SIGNOFF_")]:
            mp.delenv(key)
        for key, value in env.items():
            mp.setenv(key, value)
        _reset_caches()
        from core.migrate import upgrade

        upgrade(env["SIGNOFF_DATABASE_URL"])
        data = _build_data(smtp_port, tmp / "mailbox")
        routes = _page_routes()
        _reset_caches()  # the server owns the database from here on
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:app",
                "--port",
                str(web_port),
                "--log-level",
                "warning",
                "--workers",
                "2",
            ],
            env={**os.environ},
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/sign-in", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                pytest.fail("the web app did not start")
            yield World(base=base, routes=routes, **data)
        finally:
            web.terminate()
            web.wait(timeout=10)
            _reset_caches()


# --- the browser: one context per person, reused across pages ------------------------------------
# The async API lets the eight people browse at once: a cell mostly waits on the server and
# on Chromium, and one person after another took twice the time on two cores.


class Visitor:
    """One person's browser context and page, recording console messages and CSP violations."""

    def __init__(self, person: str) -> None:
        self.person = person
        self.page: Any = None
        self.console: list[tuple[str, str]] = []

    async def open(self, browser: Any, w: World) -> Visitor:
        context = await browser.new_context()  # the app's real CSP applies
        who = w.people[self.person]
        if who is not None:
            await context.add_cookies(
                [{"name": "signoff_session", "value": who.cookie, "url": w.base}]
            )
        self.page = await context.new_page()
        self.page.on(
            "console",
            lambda m: self.console.append((m.type, f"{m.text} [{m.location.get('url', '')}]")),
        )
        self.page.on("pageerror", lambda e: self.console.append(("pageerror", str(e))))
        self.page.on(
            "response",
            lambda r: (
                self.console.append(("resource", f"{r.status} {r.url}"))
                if r.status >= 400 and r.request.resource_type != "document"
                else None
            ),
        )
        await self.page.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', e => "
            "window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        return self


@dataclass
class Chromium:
    loop: asyncio.AbstractEventLoop
    visitors: dict[str, Visitor]
    axe_seen: set = field(default_factory=set)  # what axe has checked: (page, case), (status, h1)
    shots: set = field(default_factory=set)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)


@pytest.fixture(scope="module")
def chromium(world):
    from playwright.async_api import async_playwright

    loop = asyncio.new_event_loop()

    async def start() -> tuple[Any, Any, dict[str, Visitor]]:
        driver = await async_playwright().start()
        browser = await driver.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        people = await asyncio.gather(*(Visitor(p).open(browser, world) for p in PEOPLE))
        return driver, browser, dict(zip(PEOPLE, people, strict=True))

    driver, browser, visitors = loop.run_until_complete(start())
    try:
        yield Chromium(loop, visitors)
    finally:
        loop.run_until_complete(browser.close())
        loop.run_until_complete(driver.stop())
        loop.close()


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()


async def _axe(page: Any) -> list[str]:
    await page.evaluate(_axe_source())  # evaluated by the driver: no inline script for the CSP
    result = await page.evaluate(
        "async (tags) => await axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        f"{v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


async def _shot(page: Any, route: str, case: str, person: str, suffix: str = "") -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9]+", "_", f"{route}_{case}_{person}{suffix}").strip("_")
    await page.screenshot(path=str(Path(SHOTS) / f"{name or 'home'}.png"), full_page=True)


async def visit(
    v: Visitor, w: World, c: Chromium, route: str, case: str, url: str, want: Expected
) -> list[str]:
    """Open one cell; every problem found, as short sentences (empty: the cell is right)."""
    page, problems = v.page, []
    v.console.clear()
    response = await page.goto(w.base + url, wait_until="load")
    assert response is not None
    first = response.request
    while first.redirected_from is not None:
        first = first.redirected_from
    first_response = await first.response()
    status = first_response.status if first_response else response.status
    location = first_response.headers.get("location") if first_response else None
    final_status = response.status

    # (a) the status, and where a redirect goes
    if isinstance(want, Redirect):
        if status != 303 or location != want.location:
            problems.append(
                f"expected 303 to {want.location}, got {status}"
                + (f" to {location}" if location else "")
            )
    elif status != want:
        problems.append(f"expected {want}, got {status}")

    # (b) markup: ours never escaped, the hostile text never live
    html = await response.text()
    for m in sorted({m.group(0) for m in OWN_MARKUP_ESCAPED.finditer(html)}):
        problems.append(f"escaped markup {m!r} in the page source")
    seen = await page.evaluate(PAGE_STATE_JS)
    if await page.locator(f"b:text-is('{MARK}')").count():
        seen["live"].append("live <b>")
    problems += [f"hostile text became {x}" for x in sorted(set(seen["live"]))]
    if (
        route.startswith("/rfcs/{")
        and not isinstance(want, Redirect)
        and final_status == 200
        and ESCAPED_TITLE not in html
    ):
        problems.append("the RFC title is not shown (escaped) on the page")
    says, never = MUST_SAY.get((route, case), (None, None))
    if says and says not in seen["text"]:
        problems.append(f"does not say {says!r}")
    if never and never in seen["text"]:
        problems.append(f"says {never!r}")
    if (
        route.startswith("/rfcs/{")
        and not isinstance(want, Redirect)
        and final_status in ERROR_H1
        and ERROR_H1[final_status] not in seen["h1"]
    ):
        problems.append(
            f"a {final_status} page headed {seen['h1']!r}, not {ERROR_H1[final_status]!r}"
        )

    # (d) console errors and CSP violations (a failed resource is named once, by its URL)
    resource_failed = any(kind == "resource" for kind, _ in v.console)
    for kind, message in v.console:
        expected_4xx = (
            kind == "error"
            and final_status >= 400  # Chromium's note on the page
            and message.startswith(
                f"Failed to load resource: the server responded with a status of {final_status}"
            )
            and message.endswith(f"[{response.url}]")
        )
        if "Content Security Policy" in message:
            problems.append(f"CSP violation: {message[:160]}")
        elif kind == "resource":
            problems.append(f"a resource failed: {message.replace(w.base, '')}")
        elif kind in ("error", "pageerror") and not expected_4xx and not resource_failed:
            problems.append(f"console {kind}: {message[:200].replace(w.base, '')}")
    problems += [f"CSP violation: {x}" for x in seen["csp"]]

    # (c) axe-core, once per page and state; an error page once per status and heading (the
    # error pages of many routes are one template)
    if not isinstance(want, Redirect) and status == final_status:
        key = (route, case) if final_status == 200 else (str(final_status), seen["h1"])
        if key not in c.axe_seen:
            c.axe_seen.add(key)
            problems += [f"axe: {x}" for x in await _axe(page)]
            await _shot(page, route, case if final_status == 200 else str(final_status), v.person)
            c.shots.add((route, v.person))
    # a second person's view of each page, to look at
    if (
        final_status == 200
        and not isinstance(want, Redirect)
        and (route, v.person) not in c.shots
        and len({p for r, p in c.shots if r == route}) < 2
    ):
        c.shots.add((route, v.person))
        await _shot(page, route, case, v.person)
    return problems


PAGE_STATE_JS = LIVE_HOSTILE_JS.replace(
    "  return found;\n}",
    """  return {
    live: found, csp: window.__csp || [], text: document.body.innerText,
    h1: (document.querySelector('h1') || {}).innerText || ''};
}""",
)


def _table(rows: list[tuple[str, str, str, str]]) -> str:
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        f"{r[0]:<{width[0]}}  {r[1]:<{width[1]}}  {r[2]:<{width[2]}}  {r[3]}" for r in rows
    )


# --- the tests ----------------------------------------------------------------------------------


def test_every_page_route_has_a_row_in_the_matrix(world):
    missing = sorted(world.routes - PAGES.keys())
    stale = sorted(PAGES.keys() - world.routes)
    assert not missing and not stale, (
        f"page routes with no matrix entry: {missing}; matrix entries with no route: {stale}"
    )


def test_the_rules_agree_with_the_cells_checked_by_hand(world):
    wrong = [
        (r, c, p, f"by hand {want}, by the rules {got}")
        for (r, c, p), want in HAND_CHECKED.items()
        if (got := expected_for(r, c, p, world)) != want
    ]
    assert not wrong, "\n" + _table([("page", "case", "person", "disagreement"), *wrong])


@pytest.mark.parametrize("route", [*PAGES, "(no such page)"])
def test_page_as_everyone_in_every_state(route, world, chromium):
    page_def = PAGES.get(route, UNROUTED)
    urls = page_def.urls(world)

    async def as_person(person: str) -> list[tuple[str, str, str, str]]:
        found = []
        for case, url in urls.items():
            want = page_def.rule(world.people[person], case, world, url)
            problems = await visit(
                chromium.visitors[person], world, chromium, route, case, url, want
            )
            found += [(case, person, url, p) for p in problems]
        return found

    async def everyone() -> list[list[tuple[str, str, str, str]]]:
        return await asyncio.gather(*map(as_person, PEOPLE))

    failures = [f for found in chromium.run(everyone()) for f in found]
    order = {c: i for i, c in enumerate(urls)}
    failures.sort(key=lambda f: (order[f[0]], PEOPLE.index(f[1])))
    assert not failures, f"{len(failures)} problem(s) on {route}:\n" + _table(
        [("case", "person", "url", "problem"), *failures]
    )


PHONE_PAGES = (
    ("/rfcs/{rfc_id}", "awaiting_major", "pm"),
    ("/projects", "-", "member"),
    ("/admin/outbox", "plain", "admin"),
    ("/projects/{code}", "plain", "requester"),
    ("/rfcs/{rfc_id}/print", "approved", "sponsor"),
    ("/admin/rfcs", "plain", "admin"),
    ("/mailbox", "-", "signed_out"),
)


def test_pages_fit_a_375px_phone(world, chromium):
    """No sideways scrolling of the page itself on a phone (a wide table scrolls in its box)."""

    async def check(route: str, case: str, person: str) -> list[tuple[str, str, str, str]]:
        page = chromium.visitors[person].page
        await page.set_viewport_size({"width": 375, "height": 800})
        try:
            url = PAGES[route].urls(world)[case]
            response = await page.goto(world.base + url)
            assert response is not None and response.status == 200, url
            width = await page.evaluate("document.documentElement.scrollWidth")
            await _shot(page, route, case, person, "_375px")
            return (
                [(case, person, url, f"the page is {width}px wide in a 375px window")]
                if width > 375
                else []
            )
        finally:
            await page.set_viewport_size({"width": 1280, "height": 720})

    async def all_pages() -> list[tuple[str, str, str, str]]:
        found = []
        for cell in PHONE_PAGES:  # one at a time: two pages of one person share a page
            found += await check(*cell)
        return found

    failures = chromium.run(all_pages())
    assert not failures, "\n" + _table([("case", "person", "url", "problem"), *failures])
