"""Every route of the app, called by an outsider: a signed-in officer (or API token holder) who
is not one of the project's people. They must learn nothing and change nothing.

The table below holds one expectation per (method, route). It is checked against the app's
route table, so a new route cannot be added without saying what an outsider gets from it.
"""

from __future__ import annotations

import pytest
from support.pages import csrf_token_of
from support.performance import small_scorecard

# What an outsider gets, per route. 404: the project or RFC does not exist for them (checked
# before anything about its state). 403: a page for administrators only. "open": a route for
# anyone (signed out too) that exposes no project's data: its own tests cover it. "staff": a
# page for every signed-in person (performance data is shared across the council's staff):
# 200 to the outsider, and the sign-in redirect to someone signed out; an API route of that
# kind answers every token holder, and 401 without a token.
FIGURE = "/api/v1/scorecards/{scorecard_code}/measures/{measure_code:path}/figures/{period}"
OUTSIDER = {
    ("GET", "/api/v1/projects"): "empty",
    ("POST", "/api/v1/projects"): 403,
    ("GET", "/api/v1/projects/{code}"): 404,
    ("POST", "/api/v1/projects/{code}/members"): 404,
    ("DELETE", "/api/v1/projects/{code}/members/{email}"): 404,
    ("GET", "/api/v1/projects/{code}/rfcs"): 404,
    ("POST", "/api/v1/projects/{code}/rfcs"): 404,
    ("GET", "/api/v1/rfcs/{rfc}"): 404,
    ("PATCH", "/api/v1/rfcs/{rfc}"): 404,
    ("POST", "/api/v1/rfcs/{rfc}/submit"): 404,
    ("POST", "/api/v1/rfcs/{rfc}/impact"): 404,
    ("POST", "/api/v1/rfcs/{rfc}/decision"): 404,
    ("POST", "/api/v1/rfcs/{rfc}/withdraw"): 404,
    ("GET", "/projects"): "empty",
    ("GET", "/projects/{code}"): 404,
    ("POST", "/projects/{code}/members"): 404,
    ("POST", "/projects/{code}/members/remove"): 404,
    ("GET", "/projects/{code}/rfcs/new"): 404,
    ("POST", "/projects/{code}/rfcs/new"): 404,
    ("GET", "/rfcs"): "empty",
    ("GET", "/rfcs/{rfc_id}"): 404,
    ("GET", "/rfcs/{rfc_id}/edit"): 404,
    ("POST", "/rfcs/{rfc_id}/edit"): 404,
    ("POST", "/rfcs/{rfc_id}/submit"): 404,
    ("GET", "/rfcs/{rfc_id}/withdraw"): 404,
    ("POST", "/rfcs/{rfc_id}/withdraw"): 404,
    ("GET", "/rfcs/{rfc_id}/impact"): 404,
    ("POST", "/rfcs/{rfc_id}/impact"): 404,
    ("GET", "/rfcs/{rfc_id}/decision"): 404,
    ("POST", "/rfcs/{rfc_id}/decision"): 404,
    ("GET", "/rfcs/{rfc_id}/print"): 404,
    ("GET", "/performance"): "staff",
    ("GET", "/performance/scorecards/{scorecard_code}"): "staff",
    ("GET", "/performance/scorecards/{scorecard_code}/summary"): "staff",
    ("GET", "/performance/scorecards/{scorecard_code}/completeness"): "staff",
    ("GET", "/performance/scorecards/{scorecard_code}/late"): "staff",
    ("GET", "/performance/scorecards/{scorecard_code}/measures/{measure_code:path}"): "staff",
    ("GET", "/api/v1/scorecards"): "staff",
    ("GET", "/api/v1/scorecards/{scorecard_code}/rag-summary"): "staff",
    ("GET", "/api/v1/scorecards/{scorecard_code}/measures"): "staff",
    ("GET", "/api/v1/scorecards/{scorecard_code}/measures/{measure_code:path}"): "staff",
    # Only a measure's officers and administrators write its figures and colours.
    ("PUT", FIGURE): 403,
    ("POST", f"{FIGURE}/override"): 403,
    # The planning JSON API (api/api_v1/planning.py): cycles and plans are shared with all
    # staff; only the performance team sets them up, only a plan's owner and the performance
    # team change or submit it (tests/planning/test_api.py covers each).
    ("GET", "/api/v1/cycles"): "staff",
    ("POST", "/api/v1/cycles"): 403,
    ("GET", "/api/v1/cycles/{year}"): "staff",
    ("PATCH", "/api/v1/cycles/{year}"): 403,
    ("POST", "/api/v1/cycles/{year}/plans"): 403,
    ("GET", "/api/v1/plans/{plan_id}"): "staff",
    ("PATCH", "/api/v1/plans/{plan_id}"): 403,
    ("POST", "/api/v1/plans/{plan_id}/submit"): 403,
    ("PUT", "/api/v1/plans/{plan_id}/signatories"): 403,
    # The service plan pages (api/pages/planning*.py): every signed-in person reads cycles and
    # plans; only a plan's owner and the performance team change it, only the performance team
    # sets cycles up and names signatories. The world's plan is not approved, so its printable
    # page is 409 to everyone (tests/planning/test_plan_pages.py prints an approved one as staff).
    ("GET", "/planning"): "staff",
    ("POST", "/planning/cycles"): 403,
    ("GET", "/planning/{year}"): "staff",
    ("GET", "/planning/{year}/calendar"): 403,
    ("POST", "/planning/{year}/calendar"): 403,
    ("GET", "/planning/{year}/plans/new"): 403,
    ("POST", "/planning/{year}/plans/new"): 403,
    ("GET", "/planning/plans/{plan_id}"): "staff",
    ("POST", "/planning/plans/{plan_id}/submit"): 403,
    ("GET", "/planning/plans/{plan_id}/print"): 409,
    ("GET", "/planning/plans/{plan_id}/signatories"): 403,
    ("POST", "/planning/plans/{plan_id}/signatories"): 403,
    ("GET", "/planning/plans/{plan_id}/sections/{key}"): 403,
    ("POST", "/planning/plans/{plan_id}/sections/{key}"): 403,
    ("GET", "/planning/plans/{plan_id}/operational"): 403,
    ("POST", "/planning/plans/{plan_id}/operational"): 403,
    ("POST", "/planning/plans/{plan_id}/operational/rows"): 403,
    ("POST", "/planning/plans/{plan_id}/operational/remove"): 403,
    ("GET", "/planning/plans/{plan_id}/improvement"): 403,
    ("POST", "/planning/plans/{plan_id}/improvement"): 403,
    ("GET", "/performance/figures"): "staff",  # the outsider's own returns: none
    ("GET", "/performance/returns/{return_id}"): 404,  # someone else's return
    ("POST", "/performance/returns/{return_id}"): 404,
    ("GET", "/performance/figures/{measure_id}/{period}"): "staff",
    ("POST", "/performance/figures/{measure_id}/{period}"): 403,
    ("POST", "/performance/figures/{measure_id}/{period}/override"): 403,
    ("GET", "/performance/import"): 403,
    ("POST", "/performance/import"): 403,
    ("POST", "/performance/aliases"): 403,
    ("GET", "/admin/rfcs"): 403,
    ("GET", "/admin/outbox"): 403,
    ("POST", "/admin/outbox/{message_id}/requeue"): 403,
    # Open to anyone; they show no project's data (action links carry their own authority).
    ("GET", "/openapi.json"): "open",
    ("GET", "/api/docs"): "open",
    ("GET", "/"): "open",
    ("GET", "/sign-in"): "open",
    ("POST", "/sign-in"): "open",
    ("GET", "/sign-in/{raw}"): "open",
    ("POST", "/sign-in/{raw}"): "open",
    ("GET", "/sign-out"): "open",
    ("POST", "/sign-out"): "open",
    ("GET", "/approvals/{raw}"): "open",
    ("POST", "/approvals/{raw}"): "open",
    ("POST", "/approvals/{raw}/resend"): "open",
    ("GET", "/figures/{raw}"): "open",  # the figures link: the token is its authority
    ("POST", "/figures/{raw}"): "open",
    # The service plan sign-off link (api/actions/planning.py): the token is its authority;
    # tests/planning/test_signoff_pages.py covers each state of it.
    ("GET", "/plan-signoff/{raw}"): "open",
    ("POST", "/plan-signoff/{raw}"): "open",
    ("POST", "/plan-signoff/{raw}/resend"): "open",
    ("GET", "/accessibility"): "open",
    ("GET", "/privacy"): "open",
    ("GET", "/cookies"): "open",
    ("GET", "/mailbox"): "open",
    ("GET", "/mailbox/{key}"): "open",
}

BODIES = {
    "/api/v1/projects": {
        "code": "NEW",
        "name": "New",
        "sponsor_email": "x@council.example",
        "manager_email": "y@council.example",
    },
    "/api/v1/projects/{code}/members": {"email": "z@council.example", "role": "Member"},
    "/api/v1/projects/{code}/rfcs": {"title": "Mine", "description": "Let me in."},
    "/api/v1/rfcs/{rfc}": {"title": "Changed by an outsider"},
    "/api/v1/rfcs/{rfc}/impact": {
        "days_of_work": 1,
        "cost_pence": 0,
        "extends_timescale": False,
        "needs_extra_resources": False,
        "recommendation": "Go",
    },
    "/api/v1/rfcs/{rfc}/decision": {"decision": "approve", "reason": ""},
    FIGURE: {"actual": 50, "commentary": "Let me in."},
    f"{FIGURE}/override": {"current": "amber", "reason": "Let me in."},
    # The planning JSON API: well-formed, so only who is asking can refuse them.
    "/api/v1/cycles": {"year": 2011},
    "/api/v1/cycles/{year}": {"version": 1, "signoff_by": "2010-03-30"},
    "/api/v1/cycles/{year}/plans": {"service_area": "Mine", "owner_email": "x@council.example"},
    "/api/v1/plans/{plan_id}": {"version": 1, "content": {}},
    "/api/v1/plans/{plan_id}/submit": {"version": 1},
    "/api/v1/plans/{plan_id}/signatories": [
        {"email": "x@council.example", "role": "portfolio_holder", "portfolio": "Mine"}
    ],
}
FORMS = {
    "/projects/{code}/members": {"email": "z@council.example", "role": "Member"},
    "/projects/{code}/members/remove": {"email": "{member}"},
    "/projects/{code}/rfcs/new": {"title": "Mine", "description": "Let me in.", "then": "submit"},
    "/rfcs/{rfc_id}/edit": {"title": "Changed", "description": "x", "version": "3"},
    "/rfcs/{rfc_id}/withdraw": {"reason": "Not mine to keep."},
    "/rfcs/{rfc_id}/impact": {
        "days_of_work": "1",
        "cost": "0",
        "extends_timescale": "no",
        "needs_extra_resources": "no",
        "recommendation": "Go",
    },
    "/rfcs/{rfc_id}/decision": {"decision": "approve", "reason": ""},
    # The service plan pages: forms that would be saved, if the outsider could.
    "/planning/plans/{plan_id}/sections/{key}": {"version": "1", "field-description": "Mine."},
    "/planning/plans/{plan_id}/submit": {"version": "1", "note": "Sign this."},
    "/planning/plans/{plan_id}/operational/rows": {"version": "1", "indicator": "PP4 - x"},
    "/planning/plans/{plan_id}/operational/remove": {"version": "1", "remove-0": "yes"},
    "/planning/plans/{plan_id}/improvement": {"version": "1", "imp-0-action": "Let me in."},
    "/planning/plans/{plan_id}/signatories": {
        "sig-0-email": "{member}",
        "sig-0-role": "portfolio_holder",
        "sig-0-portfolio": "Mine",
    },
}


def app_routes() -> set[tuple[str, str]]:
    from fastapi.routing import iter_route_contexts

    from api.app import create_app

    found = set()
    for route in iter_route_contexts(create_app().routes):
        for method in (getattr(route, "methods", None) or set()) - {"HEAD"}:
            found.add((method, route.path))
    return found


def test_every_route_says_what_an_outsider_gets(env):
    routes = app_routes()
    assert routes - OUTSIDER.keys() == set(), "routes with no outsider expectation"
    assert OUTSIDER.keys() - routes == set(), "expectations for routes that no longer exist"


@pytest.fixture
def world(factory, db):  # type: ignore[no-untyped-def]
    """A project with an RFC in every open state and a failed email, and an outsider."""
    from sqlalchemy import update

    from core.db import write_session
    from models import OutboxMessage

    team = factory.team()
    states = {
        s: factory.in_status(team, s)
        for s in ("draft", "impact_analysis", "awaiting_approval", "approved")
    }
    member = factory.person("A Member")
    from services.change_control import projects

    factory.call(
        projects.add_project_member,
        actor=factory.actor(factory.admin()),
        code=team.code,
        email=member.email,
        role="Work Stream Leader",
    )
    with write_session() as s:
        s.execute(update(OutboxMessage).values(status="failed"))
    message_id = db.outbox()[0].id
    _scorecard()
    card = small_scorecard(officer_id=member.id)  # the member's return and measures
    plan_id = _service_plan(factory)
    return {
        "team": team,
        "states": states,
        "member": member,
        "message_id": message_id,
        "card": card,
        "plan_id": plan_id,
    }


SCORECARD, MEASURE = "PERF-0910", "PP18"
PLAN_YEAR = 2010


def _service_plan(factory) -> int:  # type: ignore[no-untyped-def]
    """The 2010/11 cycle with one service plan, for the planning routes: owned and signed by
    people who are not the outsider (nor the project's, so nothing of the project leaks)."""
    from support.planning import add_plan, open_cycle

    admin = factory.admin()
    owner, councillor = factory.person("Plan Owner"), factory.person("Cllr Plan Signer")
    named = [{"email": councillor.email, "role": "portfolio_holder", "portfolio": "Planning"}]
    open_cycle(admin, PLAN_YEAR)
    return add_plan(admin, PLAN_YEAR, owner_email=owner.email, signatories=named).id


def _scorecard() -> None:
    """A scorecard with one measure, for the performance reports' routes."""
    from core import clock
    from core.db import write_session
    from models.performance import Measure, Scorecard

    with write_session() as s:
        card = Scorecard(
            code=SCORECARD, name="Performance 09/10", year=2009, created_at=clock.now()
        )
        s.add(card)
        s.flush()
        s.add(
            Measure(
                scorecard_id=card.id,
                code=MEASURE,
                name="A measure",
                aim="An aim",
                frequency="quarterly",
                polarity="higher",
                updated_at=clock.now(),
            )
        )


def _fill(
    path: str,
    *,
    code: str,
    rfc: object,
    member: str,
    message_id: int,
    card: dict[str, int],
    plan_id: int = 1,
) -> str:
    return (
        path.replace("{code}", code)
        .replace("{year}", str(PLAN_YEAR))
        .replace("{plan_id}", str(plan_id))
        .replace("{key}", "about")  # a service plan's section (api/pages/planning_edit.py)
        .replace("{rfc}", getattr(rfc, "ref", ""))
        .replace("{rfc_id}", str(getattr(rfc, "id", "")))
        .replace("{email}", member)
        .replace("{message_id}", str(message_id))
        .replace("{scorecard_code}", SCORECARD)
        .replace("{measure_code:path}", MEASURE)
        .replace("{period}", "2009-12")
        .replace("{return_id}", str(card["return_id"]))
        .replace("{measure_id}", str(card["measure_id"]))
    )


@pytest.mark.parametrize("state", ["draft", "impact_analysis", "awaiting_approval", "approved"])
def test_an_outsider_learns_nothing_and_changes_nothing(client, factory, db, world, state):
    team, rfc = world["team"], world["states"][state]
    outsider = team.stranger
    client.cookies.set("signoff_session", factory.sign_in(outsider))
    api = factory.auth(outsider)
    token = csrf_token_of(client, "/sign-out")
    values = {
        "code": team.code,
        "rfc": rfc,
        "member": world["member"].email,
        "message_id": world["message_id"],
        "card": world["card"],
        "plan_id": world["plan_id"],
    }
    secrets = [rfc.title, rfc.ref, team.project.name, team.sponsor.email, team.manager.name]
    failures = []
    for (method, route), expected in sorted(OUTSIDER.items()):
        if expected == "open":
            continue
        before = db.snapshot()
        path = _fill(route, **values)
        if route.startswith("/api/"):
            body = BODIES.get(route)
            r = client.request(method, path, headers=api, json=body)
        elif method == "GET":
            r = client.get(path, follow_redirects=False)
        else:
            form = {
                k: v.replace("{member}", values["member"]) for k, v in FORMS.get(route, {}).items()
            }
            r = client.post(path, data=form | {"csrf_token": token}, follow_redirects=False)
        after = db.snapshot()
        # A refused attempt may be recorded in the audit trail; nothing else may change.
        after["audit_event"] = [row for row in after["audit_event"] if "refused" not in row]
        before["audit_event"] = [row for row in before["audit_event"] if "refused" not in row]
        after.pop("web_session"), before.pop("web_session")
        want = 200 if expected in ("empty", "staff") else expected
        leaked = [s for s in secrets if s in r.text and s not in path]  # echoes are no leak
        if r.status_code != want or after != before or leaked:
            changed = [t for t in after if after[t] != before[t]]
            failures.append(
                f"{method} {path}: {r.status_code} (want {want}); "
                f"changed {changed}; leaked {leaked}"
            )
    assert not failures, "\n".join(failures)


def test_staff_pages_send_someone_signed_out_to_sign_in(client, world):
    values = {
        "code": world["team"].code,
        "rfc": None,
        "member": "",
        "message_id": 0,
        "card": world["card"],
    }
    staff = [route for (method, route), expected in OUTSIDER.items() if expected == "staff"]
    assert staff
    for route in staff:
        path = _fill(route, **values)
        r = client.get(path, follow_redirects=False)
        if route.startswith("/api/"):
            assert r.status_code == 401, path
            continue
        assert r.status_code == 303, path
        assert r.headers["location"] == "/sign-in?next=" + path.replace("/", "%2F"), path
