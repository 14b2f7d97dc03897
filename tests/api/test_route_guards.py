"""Structural guards: a state-changing page route cannot be added without its CSRF test.

Every POST/PUT/PATCH/DELETE outside /api/ must appear in CSRF_REFUSED (each entry is then
exercised below) or in CSRF_FREE with the reason it needs no token. /api/ routes are outside
this guard: they authenticate only with an `Authorization: Bearer` header, which a browser
never adds to a cross-site request on its own, so there is no ambient credential to forge with.

What an outsider gets from every route is the other guard: tests/api/test_outsiders.py (OUTSIDER,
checked against the same route table). This file reuses its route walk, not its table.

Each CSRF case is posted by the person who may make that move (or, before sign-in, by anyone),
with a form that would succeed: once without a csrf_token and once with a well-formed token
bound to someone else's session. Both must answer 403 and change nothing (every row of every
table compared). Then the same form with the right token must go through and change something,
so a 403 for any other reason (wrong person, wrong state) cannot pass for a CSRF refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from support.performance import CARD_FILE, PERIOD, small_scorecard
from test_outsiders import app_routes

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Case:
    who: str | None  # a key of the world fixture, or None for a pre-sign-in form (anyone)
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] | None = None  # a multipart upload


def _dates(year: int) -> dict[str, str]:
    """A planning cycle's usual dates as the pages' day, month and year fields."""
    from services.planning.schemas import default_calendar

    return {
        f"{name}-{part}": str(getattr(day, part))
        for name, day in default_calendar(year).items()
        for part in ("day", "month", "year")
    }


# Posted by someone who may make the move, with a form that succeeds given the right token.
CSRF_REFUSED = {
    ("POST", "/sign-in"): Case(None, {"email": "{officer_email}"}),
    ("POST", "/sign-in/{raw}"): Case(None),
    ("POST", "/sign-out"): Case("officer"),
    ("POST", "/projects/{code}/members"): Case(
        "manager", {"email": "{stranger_email}", "role": "Work Stream Leader"}
    ),
    ("POST", "/projects/{code}/members/remove"): Case("manager", {"email": "{member_email}"}),
    ("POST", "/projects/{code}/rfcs/new"): Case(
        "officer",
        {
            "title": "Merge the two survey tasks",
            "description": "One survey, not two.",
            "expected_benefits": "Less duplication.",
        },
    ),
    ("POST", "/rfcs/{rfc_id}/edit"): Case(
        "officer",
        {
            "title": "Edited title",
            "description": "Edited.",
            "expected_benefits": "Fewer steps.",
            "version": "{version}",
        },
    ),
    ("POST", "/rfcs/{rfc_id}/submit"): Case("officer"),
    ("POST", "/rfcs/{rfc_id}/withdraw"): Case("officer", {"reason": "No longer needed."}),
    ("POST", "/rfcs/{rfc_id}/impact"): Case(
        "manager",
        {
            "days_of_work": "1",
            "cost": "0",
            "extends_timescale": "no",
            "needs_extra_resources": "no",
            "recommendation": "Easy to accommodate.",
        },
    ),
    ("POST", "/rfcs/{rfc_id}/decision"): Case("manager", {"decision": "approve", "reason": ""}),
    ("POST", "/admin/outbox/{message_id}/requeue"): Case("admin"),
    ("POST", "/performance/returns/{return_id}"): Case(
        "officer", {"f{measure_id}_actual": "100", "f{measure_id}_estimate": "100"}
    ),
    ("POST", "/performance/figures/{measure_id}/{period}"): Case(
        "officer", {"actual": "100", "estimate": "100"}
    ),
    ("POST", "/performance/figures/{measure_id}/{period}/override"): Case(
        "officer", {"current": "amber", "override_reason": "The next issue makes it up."}
    ),
    ("POST", "/performance/import"): Case(
        "admin",
        {"code": "CCS-0910", "period": "2009-12"},
        files={"file": ("card.csv", CARD_FILE.read_bytes())},
    ),
    ("POST", "/performance/aliases"): Case(
        "admin", {"name": "O. Fficer", "person_id": "{officer_id}"}
    ),
    # The service plan pages (api/pages/planning*.py), on the world's 2010/11 plan.
    ("POST", "/planning/cycles"): Case("admin", {"year": "2012", "then": "open"} | _dates(2012)),
    ("POST", "/planning/{year}/calendar"): Case(
        "admin",
        {"version": "1"} | _dates(2010) | {"drafts_due-day": "15", "drafts_due-month": "12"},
    ),
    ("POST", "/planning/{year}/plans/new"): Case(
        "admin",
        {
            "service_area": "Elections",
            "owner_email": "{officer_email}",
            "owner_title": "Corporate Manager",
            "roll_forward": "no",
        },
    ),
    ("POST", "/planning/plans/{plan_id}/sections/{key}"): Case(
        "officer", {"version": "{plan_version}", "field-description": "Changed."}
    ),
    ("POST", "/planning/plans/{plan_id}/submit"): Case("officer", {"version": "{plan_version}"}),
    ("POST", "/planning/plans/{plan_id}/operational"): Case(
        "officer",
        {"version": "{plan_version}"},
        files={"file": ("plan.csv", b"indicator,target_2010_11\nPP4 - plans in place,100%\n")},
    ),
    ("POST", "/planning/plans/{plan_id}/operational/rows"): Case(
        "officer", {"version": "{plan_version}", "indicator": "PP6 - participations"}
    ),
    ("POST", "/planning/plans/{plan_id}/operational/remove"): Case(
        "officer", {"version": "{plan_version}", "remove-0": "yes"}
    ),
    ("POST", "/planning/plans/{plan_id}/improvement"): Case(
        "officer", {"version": "{plan_version}", "imp-0-action": "Tell Us Once."}
    ),
    ("POST", "/planning/plans/{plan_id}/signatories"): Case(
        "admin",
        {
            "sig-0-email": "{stranger_email}",
            "sig-0-role": "portfolio_holder",
            "sig-0-portfolio": "Elections",
        },
    ),
}

# Deliberately without a CSRF token, and why that is safe.
CSRF_FREE = {
    (
        "POST",
        "/approvals/{raw}",
    ): "The emailed action link: its authority is the 256-bit token in the URL, bound to one "
    "approver and one RFC version, not a cookie. A forged cross-site POST has no ambient "
    "credential to borrow; whoever knows the token can already decide (that is the design: "
    "sponsors need no account). The approver may open it in any browser, so there is no "
    "session to bind a CSRF token to.",
    (
        "POST",
        "/approvals/{raw}/resend",
    ): "Asks for a fresh link to be sent to the registered address only; it changes no decision "
    "and an attacker learns nothing, as the link goes to that person's mailbox. It needs the "
    "old token in the URL, like the link itself.",
    (
        "POST",
        "/figures/{raw}",
    ): "The emailed figures link: its authority is the 256-bit token in the URL, bound to one "
    "officer's return for one period, single use, not a cookie. A forged cross-site POST has "
    "no ambient credential to borrow, and the officer may open the link in any browser.",
    # The service plan sign-off link (api/actions/planning.py).
    (
        "POST",
        "/plan-signoff/{raw}",
    ): "The emailed sign-off link: its authority is the 256-bit token in the URL, bound to one "
    "signatory and one version of one service plan, single use, not a cookie. A forged "
    "cross-site POST has no ambient credential to borrow; Portfolio Holders are councillors "
    "with no staff account and may open the link in any browser, so there is no session to "
    "bind a CSRF token to.",
    (
        "POST",
        "/plan-signoff/{raw}/resend",
    ): "Asks for a fresh sign-off link to be sent to the registered address only; it signs "
    "nothing and an attacker learns nothing, as the link goes to that person's mailbox. It "
    "needs the old token in the URL, like the link itself.",
}

# Which RFC each route acts on (the status it must be in for the move to be allowed).
RFC_FOR = {
    "/rfcs/{rfc_id}/edit": "draft",
    "/rfcs/{rfc_id}/submit": "draft",
    "/rfcs/{rfc_id}/withdraw": "draft",
    "/rfcs/{rfc_id}/impact": "impact_analysis",
    "/rfcs/{rfc_id}/decision": "awaiting_minor",
}
# Which measure each performance route acts on: the override needs the RED figure.
MEASURE_FOR = {"/performance/figures/{measure_id}/{period}/override": "red_measure_id"}


def page_routes_that_change_state() -> set[tuple[str, str]]:
    return {(m, p) for m, p in app_routes() if m in STATE_CHANGING and not p.startswith("/api/")}


def test_every_state_changing_page_route_has_a_csrf_expectation(env):
    routes = page_routes_that_change_state()
    listed = CSRF_REFUSED.keys() | CSRF_FREE.keys()
    assert CSRF_REFUSED.keys() & CSRF_FREE.keys() == set()
    assert routes - listed == set(), "state-changing page routes with no CSRF test"
    assert listed - routes == set(), "CSRF expectations for routes that no longer exist"
    assert all(len(why) > 40 for why in CSRF_FREE.values()), "say why a route needs no token"


def test_every_route_also_says_what_an_outsider_gets(env):
    """The two guards cover the same route table: a new route needs an entry in both."""
    from test_outsiders import OUTSIDER

    assert page_routes_that_change_state() <= OUTSIDER.keys()


@pytest.fixture
def world(factory, db):  # type: ignore[no-untyped-def]
    """A project with RFCs in the states each move needs, a member, a failed email, a live
    sign-in link."""
    from sqlalchemy import update
    from sqlmodel import select

    from core.db import read_session, write_session
    from models import ActionToken, OutboxMessage
    from services.change_control import projects
    from services.platform import people

    team = factory.team()
    member = factory.person("A Member")
    factory.call(
        projects.add_project_member,
        actor=factory.actor(factory.admin()),
        code=team.code,
        email=member.email,
        role="Work Stream Leader",
    )
    rfcs = {
        "draft": factory.in_status(team, "draft"),
        "impact_analysis": factory.in_status(team, "impact_analysis"),
        "awaiting_minor": factory.in_status(team, "awaiting_approval", major=False),
    }
    with write_session() as s:
        s.execute(update(OutboxMessage).values(status="failed"))
    factory.call(people.request_sign_in, email=member.email)
    with read_session() as s:
        link = s.exec(select(ActionToken).where(ActionToken.purpose == "sign_in")).one()
    card = small_scorecard(officer_id=team.officer.id)
    plan = _service_plan(factory.admin(), team)
    return {
        "plan": plan,
        "team": team,
        "member": member,
        "card": card,
        "rfcs": rfcs,
        "message_id": db.outbox()[0].id,
        "sign_in_raw": factory.raw_link(link),
        "people": {"officer": team.officer, "manager": team.manager, "admin": factory.admin()},
    }


def _path(route: str, world: dict) -> str:
    rfc = world["rfcs"].get(RFC_FOR.get(route, ""))
    return (
        route.replace("{code}", world["team"].code)
        .replace("{rfc_id}", str(rfc.id if rfc else ""))
        .replace("{message_id}", str(world["message_id"]))
        .replace("{raw}", world["sign_in_raw"])
        .replace("{return_id}", str(world["card"]["return_id"]))
        .replace("{measure_id}", str(world["card"][MEASURE_FOR.get(route, "measure_id")]))
        .replace("{period}", PERIOD)
        .replace("{year}", "2010")  # the service plan pages: the world's plan and a section
        .replace("{plan_id}", str(world["plan"].id))
        .replace("{key}", "about")
    )


def _service_plan(admin, team):  # type: ignore[no-untyped-def]
    """The 2010/11 cycle with one plan, owned by the team's officer and drafted (one row of
    operational plan), with the manager to sign it as a Portfolio Holder."""
    from support.planning import add_plan, edit, open_cycle

    open_cycle(admin, 2010)
    named = [{"email": team.manager.email, "role": "portfolio_holder", "portfolio": "Planning"}]
    plan = add_plan(admin, 2010, owner_email=team.officer.email, signatories=named)
    return edit(plan.id, admin, {"operational": [{"indicator": "PP4 - plans in place"}]})


def _form(case: Case, route: str, world: dict) -> dict[str, str]:
    team, rfc = world["team"], world["rfcs"].get(RFC_FOR.get(route, ""))
    values = {
        "{officer_email}": team.officer.email,
        "{stranger_email}": team.stranger.email,
        "{member_email}": world["member"].email,
        "{version}": str(rfc.version if rfc else ""),
        "{officer_id}": str(team.officer.id),
        "{plan_version}": str(world["plan"].version),  # the service plan pages
    }
    measure = str(world["card"]["measure_id"])
    return {k.replace("{measure_id}", measure): values.get(v, v) for k, v in case.form.items()}


def _token(client, signed_in: bool) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/sign-out" if signed_in else "/sign-in")
    found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert found, page.text
    return found.group(1)


def _someone_elses_token() -> str:
    """A real token, rightly made, but bound to another browser's session."""
    from core import tokens

    return tokens.csrf_token(tokens.hash_token(tokens.new_random_token()))


@pytest.mark.parametrize("route", sorted(p for _, p in CSRF_REFUSED))
def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
    client, factory, db, world, route
):
    case = CSRF_REFUSED[("POST", route)]
    if case.who is not None:
        client.cookies.set("signoff_session", factory.sign_in(world["people"][case.who]))
    right = _token(client, signed_in=case.who is not None)  # also sets the anonymous cookie
    path, form = _path(route, world), _form(case, route, world)
    for token in (None, "", _someone_elses_token()):
        before = db.snapshot()
        data = form if token is None else form | {"csrf_token": token}
        r = client.post(path, data=data, files=case.files, follow_redirects=False)
        assert r.status_code == 403, (token, r.status_code, r.text[:300])
        assert "The form has expired" in r.text
        assert db.snapshot() == before, f"POST {path} without a valid token changed the database"
    # The same post with the right token goes through: the 403s above were the CSRF check.
    before = db.snapshot()
    r = client.post(
        path, data=form | {"csrf_token": right}, files=case.files, follow_redirects=False
    )
    assert r.status_code in (200, 303), (r.status_code, r.text[:300])
    assert db.snapshot() != before, f"POST {path} with its token changed nothing: a dead case"


def test_a_csrf_token_is_bound_to_this_browser_and_after_sign_in_to_its_session(
    client, factory, team, db
):
    from api.deps import ANON_COOKIE

    page = client.get("/sign-in")  # no cookies yet: the page gives this browser its own
    assert ANON_COOKIE in page.cookies
    before_sign_in = _token(client, signed_in=False)
    anon = client.cookies.get(ANON_COOKIE)

    client.cookies.clear()  # another browser, with no cookies, replaying the token
    before = db.snapshot()
    r = client.post("/sign-in", data={"email": team.officer.email, "csrf_token": before_sign_in})
    assert r.status_code == 403 and db.snapshot() == before

    client.cookies.set(ANON_COOKIE, anon)  # the same browser signs in: its old token is spent
    client.cookies.set("signoff_session", factory.sign_in(team.officer))
    before = db.snapshot()
    r = client.post("/sign-out", data={"csrf_token": before_sign_in}, follow_redirects=False)
    assert r.status_code == 403 and db.snapshot() == before
    r = client.post(
        "/sign-out", data={"csrf_token": _token(client, signed_in=True)}, follow_redirects=False
    )
    assert r.status_code == 303
