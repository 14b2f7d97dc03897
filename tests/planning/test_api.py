"""The planning JSON API: cycles, their dashboard, service plans, submission and signatories,
as each kind of caller, with good, malformed, oversized, hostile and out-of-order input.

The people are the council's own (data/ccs_people.csv, data/ccs_councillors.csv); the plan is
Community and Customer Services' 2010/11 plan with its five Portfolio Holder pairs. Signing is
not in the API: signatories answer through their emailed links (tests/support/planning.respond),
and the API shows each answer on the version it was given to. Every refusal is a problem+json
4xx and changes no row of any table (db.snapshot()), except that a refused move is recorded
in the audit trail as refused.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select
from support.ids import case_id
from support.performance import at, import_people, registered
from support.planning import (
    AREA,
    OWNER,
    PAIRS,
    edit,
    import_councillors,
    links,
    plan,
    respond,
    signatories,
    submit,
)

from core import clock
from core.db import read_session
from models import AuditEvent

API = "/api/v1"
SIGN_LINK = re.compile(r"/plan-signoff/([A-Za-z0-9_-]+)")
READER = "Steve Hampson"  # staff, on no plan
OFFICER = "Richard May"  # staff, on no plan either

CONTENT: dict[str, Any] = {
    "sections": {
        "about": {"fields": {"description": "Policy, performance, communications, elections."}},
        "finance": {"to_follow": True, "to_follow_by": "Finance"},
        "risks": {
            "rows": [
                {
                    "description": "Turnout falls",
                    "likelihood": "C",
                    "impact": "III",
                    "mitigation": "Publicity",
                    "owner": "Paul Williams",
                }
            ]
        },
    },
    "operational": [
        {
            "aim_approach": "All",
            "indicator": "PP4 - % of service plans in place by April each year",
            "code": "PP4",
            "targets": [{"text": "100%", "kind": "value", "value": 100, "unit": "%"}] * 3,
            "lead_officer": "Richard May",
        },
        {
            "aim_approach": "A4",
            "indicator": "SF731 - % of Contact Centre calls abandoned",
            "code": "SF731",
            "targets": [{"text": "<5", "kind": "value", "comparator": "<", "value": 5}],
            "lead_officer": "CSC",
        },
    ],
    "improvement": [{"number": "1", "action": "Review the consultation strategy"}],
}


def problem(response: Any, status: int, *, field: str | None = None) -> dict[str, Any]:
    """The one error format, naming `field` when given (in `errors`, or leading the detail)."""
    from api.problems import ALL_CODES

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["code"] in ALL_CODES
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not None:
        fields = [e["field"] for e in body.get("errors", [])]
        assert field in fields or body["detail"].startswith(f"{field}: "), body
    return body


def unchanged(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> None:
    """Nothing written but the audit trail's record of a refused attempt."""
    for snap in (before, after):
        snap["audit_event"] = [row for row in snap["audit_event"] if "refused" not in row]
    changed = [t for t in after if after[t] != before[t]]
    assert changed == [], f"changed: {changed}"


@pytest.fixture
def february(ccs: Any) -> Any:
    """The plans are drafted and go to their signatories in February 2010."""
    with clock.frozen(at("2010-02-01", "10:00")):
        yield ccs


@pytest.fixture
def auth(factory: Any, ccs: Any):  # type: ignore[no-untyped-def]
    """Headers with an API token of the person named (or of the performance team's Richard),
    made once per person: asking again inside a before/after comparison adds no row."""
    made: dict[str | None, dict[str, str]] = {}

    def headers(who: str | None = None) -> dict[str, str]:
        if who not in made:
            made[who] = factory.auth(ccs.admin if who is None else registered()[who])
        return made[who]

    return headers


def plan_url(ccs: Any, tail: str = "") -> str:
    return f"{API}/plans/{ccs.plan.id}{tail}"


def _names(people: list[dict[str, str]]) -> list[str]:
    return [p["name"] for p in people]


# --- the journey ----------------------------------------------------------------------------------


@pytest.fixture
def people(env: Any, factory: Any) -> dict[str, Any]:
    """The council's officers and Portfolio Holders, and the performance team's Richard."""
    with clock.frozen(at("2009-06-01")):
        import_people()
        import_councillors()
        factory.person("Richard Performance", admin=True)
    return registered()


def test_a_plan_goes_round_the_cycle_through_the_api(client, factory, people, deliver_outbox, smtp):
    admin = factory.auth(people["Richard Performance"])
    owner = factory.auth(people["Paul Howes"])
    with clock.frozen(at("2009-06-01", "10:00")):
        r = client.post(f"{API}/cycles", json={"year": 2010}, headers=admin)
        assert r.status_code == 201, r.text
        assert r.headers["location"] == f"{API}/cycles/2010"
        cycle = r.json()
        assert (cycle["label"], cycle["drafts_due"], cycle["signoff_by"]) == (
            "2010/11",
            "2009-11-30",
            "2010-03-31",
        )
        body = {"service_area": AREA, "owner_email": OWNER, "signatories": signatories()}
        r = client.post(f"{API}/cycles/2010/plans", json=body, headers=admin)
        assert r.status_code == 201, r.text
        added = r.json()
        assert r.headers["location"] == f"{API}/plans/{added['id']}"
        url = f"{API}/plans/{added['id']}"
        assert added["status"] == "not_started" and added["versions"] == []
        assert added["owner"] == {
            "name": "Paul Howes",
            "email": OWNER,
            "title": "Corporate Manager",
        }
        assert [(s["email"], s["portfolio"]) for s in added["signatories"]] == [
            (e, p) for p, e in PAIRS
        ] + [(OWNER, "")]
        board = client.get(f"{API}/cycles/2010", headers=owner).json()
        (row,) = board["plans"]
        assert _names(row["holding_up"]) == ["Paul Howes"]
        assert (row["deadline"], row["deadline_label"], row["days_left"]) == (
            "2009-11-30",
            "drafts due",
            (date(2009, 11, 30) - date(2009, 6, 1)).days,
        )

    with clock.frozen(at("2010-02-01", "10:00")):
        r = client.patch(url, json={"version": added["version"], "content": CONTENT}, headers=owner)
        assert r.status_code == 200, r.text
        edited = r.json()
        assert edited["status"] == "drafting" and edited["version"] == added["version"] + 1
        assert edited["content"]["sections"]["finance"]["to_follow_by"] == "Finance"
        assert edited["content"]["operational"][1]["targets"][0]["comparator"] == "<"
        note = "Budget information is outstanding at section 8."
        r = client.post(
            f"{url}/submit", json={"version": edited["version"], "note": note}, headers=owner
        )
        assert r.status_code == 200, r.text
        submitted = r.json()
        assert submitted["submitted_version"] == submitted["current_version"] == 1
        assert submitted["status"] == "submitted"
        (v1,) = submitted["versions"]
        assert (v1["number"], v1["note"], v1["submitted_by"]["email"]) == (1, note, OWNER)
        assert v1["submitted_at"] == "2010-02-01T10:00:00Z" and v1["responses"] == []
        assert [a["email"] for a in v1["asked"]] == [s["email"] for s in added["signatories"]]
        row = client.get(f"{API}/cycles/2010", headers=owner).json()["plans"][0]
        assert (row["signed"], row["to_sign"], row["version_number"]) == (0, 6, 1)
        assert (row["deadline_label"], row["deadline"]) == ("sign-off", "2010-03-31")
        assert len(row["holding_up"]) == 6

    # The signatories are emailed their links; Cllr Dunn asks for changes to version 1.
    with clock.frozen(at("2010-02-01", "10:05")):
        assert deliver_outbox().sent == 6
    emailed = {m.rcpt_tos[0]: SIGN_LINK.findall(m.text) for m in smtp.messages}
    assert sorted(emailed) == sorted(s["email"] for s in added["signatories"])
    assert all(len(found) == 1 for found in emailed.values())
    with clock.frozen(at("2010-02-02", "09:30")):
        respond(emailed[PAIRS[0][1]][0])
        respond(emailed[PAIRS[2][1]][0], "changes", "Add the elections budget line.")
    shown = client.get(url, headers=owner).json()
    assert shown["status"] == "changes_asked"
    answers = shown["versions"][0]["responses"]
    assert [(a["email"], a["kind"], a["at"]) for a in answers] == [
        (PAIRS[0][1], "signed", "2010-02-02T09:30:00Z"),
        (PAIRS[2][1], "changes_asked", "2010-02-02T09:30:00Z"),
    ]
    assert answers[1]["comment"] == "Add the elections budget line."

    # Version 2, with the budget line: everyone signs it, and the plan is approved.
    with clock.frozen(at("2010-02-03", "11:00")):
        more = CONTENT | {"improvement": [*CONTENT["improvement"], {"action": "Budget line"}]}
        r = client.patch(url, json={"version": shown["version"], "content": more}, headers=owner)
        assert r.status_code == 200, r.text
        r = client.post(f"{url}/submit", json={"version": r.json()["version"]}, headers=owner)
        assert r.status_code == 200 and r.json()["submitted_version"] == 2, r.text
    smtp.reset()
    with clock.frozen(at("2010-02-03", "11:05")):
        assert deliver_outbox().sent == 6
    emailed = {m.rcpt_tos[0]: SIGN_LINK.findall(m.text)[0] for m in smtp.messages}
    order = sorted(emailed)
    for day, email in enumerate(order, start=4):
        with clock.frozen(at(f"2010-02-{day:02d}", "14:00")):
            respond(emailed[email])
    final = client.get(url, headers=factory.auth(people[READER])).json()
    assert final["status"] == "approved"
    assert (final["approved_version"], final["current_version"]) == (2, 2)
    assert final["approved_on"] == "2010-02-09"
    v2, v1 = final["versions"]
    assert v2["number"] == 2 and v1["number"] == 1
    signed = {a["email"]: a["at"] for a in v2["responses"]}
    assert signed == {e: f"2010-02-{day:02d}T14:00:00Z" for day, e in enumerate(order, start=4)}
    assert all(a["kind"] == "signed" for a in v2["responses"])
    assert len(v1["responses"]) == 2  # version 1's answers stay on record against it
    cycles = client.get(f"{API}/cycles", headers=owner).json()["items"]
    assert cycles[0]["counts"] == {
        "not_started": 0,
        "drafting": 0,
        "submitted": 0,
        "changes_asked": 0,
        "approved": 1,
        "total": 1,
    }
    board = client.get(f"{API}/cycles/2010", headers=owner).json()
    assert board["approved_share"] == 1.0 and board["plans"][0]["holding_up"] == []


# --- reading --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [READER, OFFICER, "Paul Howes", "Cllr Carol Dunn", None])
def test_every_token_holder_reads_cycles_and_plans(client, february, auth, who):
    headers = auth(who)
    for path in (f"{API}/cycles", f"{API}/cycles/2010", plan_url(february)):
        r = client.get(path, headers=headers)
        assert r.status_code == 200, (path, r.text)
    cycles = client.get(f"{API}/cycles", headers=headers).json()["items"]
    assert [(c["year"], c["label"], c["counts"]["total"]) for c in cycles] == [(2010, "2010/11", 1)]
    assert cycles[0]["counts"]["drafting"] + cycles[0]["counts"]["not_started"] == 1


def test_the_dashboard_counts_days_from_london_today(client, february, auth):
    board = client.get(f"{API}/cycles/2010", headers=auth(READER)).json()
    assert board["today"] == "2010-02-01"
    (row,) = board["plans"]
    # Past the drafts deadline, an unsubmitted plan is held to the sign-off deadline.
    assert (row["deadline"], row["days_left"], row["deadline_label"]) == (
        "2010-03-31",
        58,
        "sign-off",
    )
    assert row["owner"]["email"] == OWNER and row["service_area"] == AREA
    with clock.frozen(at("2010-04-02")):
        late = client.get(f"{API}/cycles/2010", headers=auth(READER)).json()
    assert late["plans"][0]["days_left"] == -2


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"{API}/cycles/2011", 404),
        (f"{API}/cycles/1999", 422),
        (f"{API}/cycles/2101", 422),
        (f"{API}/cycles/twenty", 422),
        (f"{API}/cycles/2010.5", 422),
        (f"{API}/plans/999999", 404),
        (f"{API}/plans/0", 422),
        (f"{API}/plans/-1", 422),
        (f"{API}/plans/99999999999", 422),
        (f"{API}/plans/1%27%20OR%201=1", 422),
        (f"{API}/plans/abc", 422),
    ],
)
def test_unknown_cycles_and_plans(client, db, february, auth, path, status):
    headers = auth()
    before = db.snapshot()
    for method, body in (("get", None), ("patch", {"version": 1, "content": {}})):
        if "/cycles/" in path and method == "patch":
            body = {"version": 1}
        problem(client.request(method, path, json=body, headers=headers), status)
    unchanged(before, db.snapshot())


# --- who may write --------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/cycles", None),
    ("post", "/cycles", {"year": 2011}),
    ("get", "/cycles/2010", None),
    ("patch", "/cycles/2010", {"version": 1, "signoff_by": "2010-03-30"}),
    ("post", "/cycles/2010/plans", {"service_area": "Planning", "owner_email": OWNER}),
    ("get", "/plans/{id}", None),
    ("patch", "/plans/{id}", {"version": 1, "content": CONTENT}),
    ("post", "/plans/{id}/submit", {"version": 1}),
    ("put", "/plans/{id}/signatories", signatories()),
]


def _url(ccs: Any, path: str) -> str:
    return API + path.replace("{id}", str(ccs.plan.id))


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=case_id)
def test_every_endpoint_needs_a_valid_token(client, db, february, method, path, body):
    before = db.snapshot()
    for header in (
        None,
        "Bearer sgf_not-a-real-token-0123456789abcdef",
        "Bearer ' OR 1=1 --",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
    ):
        headers = {"Authorization": header} if header else {}
        r = client.request(method, _url(february, path), json=body, headers=headers)
        problem(r, 401)
        assert r.headers["www-authenticate"] == "Bearer"
    unchanged(before, db.snapshot())


ADMIN_ONLY = [e for e in ENDPOINTS if e[0] != "get" and "{id}" not in e[1]] + [ENDPOINTS[-1]]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY, ids=case_id)
@pytest.mark.parametrize("who", ["Paul Howes", READER, "Cllr Carol Dunn"])
def test_only_the_performance_team_sets_up_cycles_plans_and_signatories(
    client, db, february, auth, method, path, body, who
):
    headers = auth(who)
    before = db.snapshot()
    r = client.request(method, _url(february, path), json=body, headers=headers)
    assert "performance team" in problem(r, 403)["detail"]
    unchanged(before, db.snapshot())


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS[6:8], ids=case_id)
@pytest.mark.parametrize("who", [READER, OFFICER, "Cllr Carol Dunn"])
@pytest.mark.parametrize("version", [1, 99])
def test_only_the_owner_and_the_performance_team_edit_and_submit(
    client, db, february, auth, method, path, body, who, version
):
    """Permission before state: whatever version they send, others are told they may not."""
    headers = auth(who)
    before = db.snapshot()
    r = client.request(
        method, _url(february, path), json=body | {"version": version}, headers=headers
    )
    assert "owner or the performance team" in problem(r, 403)["detail"]
    unchanged(before, db.snapshot())
    with read_session() as s:
        refused = s.exec(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
    action = "submit" if path.endswith("/submit") else "edit"
    assert [(e.action, e.actor_id) for e in refused] == [(action, registered()[who].id)]


@pytest.mark.parametrize("who", ["Paul Howes", None])
def test_the_owner_and_the_performance_team_edit_and_submit(client, february, auth, who):
    headers = auth(who)
    url = plan_url(february)
    version = client.get(url, headers=headers).json()["version"]
    r = client.patch(url, json={"version": version, "content": CONTENT}, headers=headers)
    assert r.status_code == 200, r.text
    r = client.post(f"{url}/submit", json={"version": r.json()["version"]}, headers=headers)
    assert r.status_code == 200, r.text
    submitter = registered()[who or "Richard Performance"]
    assert r.json()["versions"][0]["submitted_by"]["email"] == submitter.email


# --- cycles: good and bad -------------------------------------------------------------------------


def test_a_cycle_opened_with_its_own_dates(client, february, auth):
    dates = {
        "opens_on": "2010-05-04",
        "objectives_by": "2010-07-30",
        "drafts_due": "2010-11-26",
        "signoff_by": "2011-03-25",
    }
    r = client.post(f"{API}/cycles", json={"year": 2011} | dates, headers=auth())
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in dates} == dates
    assert r.json()["label"] == "2011/12" and r.json()["counts"]["total"] == 0
    years = [c["year"] for c in client.get(f"{API}/cycles", headers=auth()).json()["items"]]
    assert years == [2011, 2010]


BAD_CYCLES = [
    ({"year": 2010}, 409, None),  # already open
    ({"year": 2011, "drafts_due": "2010-06-01"}, 422, "body"),  # before objectives
    ({"year": 2011, "signoff_by": "2010-01-01"}, 422, "body"),
    ({"year": 1999}, 422, "year"),
    ({"year": 2101}, 422, "year"),
    ({"year": "twenty"}, 422, "year"),
    ({"year": 2011.5}, 422, "year"),
    ({"year": [2011]}, 422, "year"),
    ({"year": None}, 422, "year"),
    ({}, 422, "year"),
    ({"year": 2011, "opens_on": "1 June 2010"}, 422, "opens_on"),
    ({"year": 2011, "opens_on": "2010-02-30"}, 422, "opens_on"),
    ({"year": 2011, "opens_on": "2010-06-01\u202e"}, 422, "opens_on"),
    ({"year": 2011, "kicked_off_at": "2010-06-01T00:00:00Z"}, 422, "kicked_off_at"),
    ({"year": 2011, "version": 5}, 422, "version"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_CYCLES, ids=case_id)
def test_a_bad_cycle_is_refused_and_changes_nothing(
    client, db, february, auth, body, status, field
):
    headers = auth()
    before = db.snapshot()
    problem(client.post(f"{API}/cycles", json=body, headers=headers), status, field=field)
    unchanged(before, db.snapshot())


def test_the_calendar_moves_at_the_version_read(client, db, february, auth):
    url = f"{API}/cycles/2010"
    r = client.patch(url, json={"version": 1, "signoff_by": "2010-03-26"}, headers=auth())
    assert r.status_code == 200, r.text
    assert (r.json()["signoff_by"], r.json()["version"]) == ("2010-03-26", 2)
    assert r.json()["drafts_due"] == "2009-11-30"  # the others as they were
    headers = auth()
    before = db.snapshot()
    stale = client.patch(url, json={"version": 1, "signoff_by": "2010-03-24"}, headers=headers)
    assert "changed by someone else" in problem(stale, 409)["detail"]
    # the largest version a client may send is only ever stale, never an overflow
    largest = client.patch(url, json={"version": 2**31 - 1}, headers=headers)
    assert "changed by someone else" in problem(largest, 409)["detail"]
    unchanged(before, db.snapshot())
    board = client.get(url, headers=auth(READER)).json()
    assert board["signoff_by"] == "2010-03-26" and board["plans"][0]["deadline"] == "2010-03-26"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"signoff_by": "2010-03-26"}, "version"),
        ({"version": 0}, "version"),
        ({"version": 2**31}, "version"),  # more than the column holds
        ({"version": 2**63 - 1}, "version"),  # found by the fuzzer: once a 500
        ({"version": "one"}, "version"),
        ({"version": 1, "signoff_by": "2009-10-01"}, "body"),  # before drafts due
        ({"version": 1, "opens_on": "2009-12-01"}, "body"),  # after objectives by
        ({"version": 1, "signoff_by": "31/03/2010"}, "signoff_by"),
        ({"version": 1, "year": 2011}, "year"),
    ],
    ids=case_id,
)
def test_a_bad_calendar_is_422_and_changes_nothing(client, db, february, auth, body, field):
    headers = auth()
    before = db.snapshot()
    problem(client.patch(f"{API}/cycles/2010", json=body, headers=headers), 422, field=field)
    unchanged(before, db.snapshot())


# --- adding plans ---------------------------------------------------------------------------------

NEW_PLAN = {
    "service_area": "Planning and New Communities",
    "owner_email": "steve.hampson@scambs.example",
    "owner_title": "Executive Director",
    "signatories": signatories()[:1],
}


def test_a_plan_added_without_last_years_starts_empty(client, february, auth):
    r = client.post(f"{API}/cycles/2010/plans", json=NEW_PLAN, headers=auth())
    assert r.status_code == 201, r.text
    added = r.json()
    assert (added["status"], added["rolled_forward"], added["owner"]["title"]) == (
        "not_started",
        False,
        "Executive Director",
    )
    assert added["content"] == {"sections": {}, "operational": [], "improvement": []}
    assert added["cycle_year"] == 2010 and added["cycle_label"] == "2010/11"
    counts = client.get(f"{API}/cycles", headers=auth()).json()["items"][0]["counts"]
    assert counts["total"] == 2


def test_last_years_plan_rolls_forward(client, february, auth):
    """2010/11's plan is approved; 2011/12's starts from it, with its signatories."""
    edit(february.plan.id, february.owner, CONTENT)
    submit(february.plan.id, february.owner)
    for raw in links(february.plan.id).values():
        respond(raw)
    assert client.post(f"{API}/cycles", json={"year": 2011}, headers=auth()).status_code == 201
    body = {"service_area": AREA, "owner_email": OWNER}
    r = client.post(f"{API}/cycles/2011/plans", json=body, headers=auth())
    assert r.status_code == 201, r.text
    rolled = r.json()
    assert rolled["rolled_forward"] and rolled["status"] == "drafting"
    assert [s["email"] for s in rolled["signatories"]] == [e for _, e in PAIRS] + [OWNER]
    # Next year's target is this year's; the new third year is left to fill in.
    targets = rolled["content"]["operational"][0]["targets"]
    assert [t["text"] for t in targets] == ["100%", "100%", ""]


BAD_PLANS = [
    ({"year": 2011}, NEW_PLAN, 404, None),
    ({}, NEW_PLAN | {"service_area": AREA}, 409, None),
    ({}, NEW_PLAN | {"service_area": f"  {AREA} "}, 409, None),  # trimmed, then taken
    ({}, NEW_PLAN | {"owner_email": "nobody@scambs.example"}, 422, None),
    ({}, NEW_PLAN | {"signatories": signatories([("Elections", "x@scambs.example")])}, 422, None),
    ({}, NEW_PLAN | {"owner_email": "not an email"}, 422, "owner_email"),
    ({}, NEW_PLAN | {"service_area": ""}, 422, "service_area"),
    ({}, NEW_PLAN | {"service_area": "   "}, 422, "service_area"),
    ({}, NEW_PLAN | {"service_area": "x" * 121}, 422, "service_area"),
    ({}, NEW_PLAN | {"service_area": "Planning\x07"}, 422, "service_area"),
    ({}, NEW_PLAN | {"service_area": "Planning\nServices"}, 422, "service_area"),
    ({}, NEW_PLAN | {"service_area": "\u202eseciv\u202cres"}, 422, "service_area"),
    ({}, NEW_PLAN | {"service_area": "Plan\u200bning"}, 422, "service_area"),
    ({}, NEW_PLAN | {"service_area": 5}, 422, "service_area"),
    ({}, NEW_PLAN | {"owner_title": "t" * 61}, 422, "owner_title"),
    ({}, NEW_PLAN | {"signatories": signatories() * 7}, 422, "signatories"),
    ({}, NEW_PLAN | {"signatories": [{"email": OWNER, "role": "mayor"}]}, 422, None),
    (
        {},
        NEW_PLAN
        | {"signatories": [{"email": OWNER, "role": "corporate_manager", "portfolio": "p" * 121}]},
        422,
        None,
    ),
    (
        {},
        NEW_PLAN
        | {
            "signatories": [
                {"email": OWNER, "role": "corporate_manager", "portfolio": "Elec\u2066tions"}
            ]
        },
        422,
        None,
    ),
    ({}, NEW_PLAN | {"signatories": "everyone"}, 422, "signatories"),
    ({}, NEW_PLAN | {"roll_forward": "perhaps"}, 422, "roll_forward"),
    ({}, NEW_PLAN | {"status": "approved"}, 422, "status"),
    ({}, NEW_PLAN | {"owner_id": 1}, 422, "owner_id"),
]


@pytest.mark.parametrize(("where", "body", "status", "field"), BAD_PLANS, ids=case_id)
def test_a_bad_plan_is_refused_and_changes_nothing(
    client, db, february, auth, where, body, status, field
):
    headers = auth()
    before = db.snapshot()
    year = where.get("year", 2010)
    r = client.post(f"{API}/cycles/{year}/plans", json=body, headers=headers)
    problem(r, status, field=field)
    unchanged(before, db.snapshot())


# --- editing content ------------------------------------------------------------------------------


def _patch(client: Any, ccs: Any, headers: dict[str, str], content: Any, **over: Any) -> Any:
    version = over.pop("version", plan(ccs.plan.id).version)
    body = {"version": version, "content": content} | over
    return client.patch(plan_url(ccs), json=body, headers=headers)


def test_script_is_stored_as_text(client, february, auth):
    text = '<script>alert("x")</script> & <b>bold</b>'
    content = {"sections": {"about": {"fields": {"description": text}}}}
    r = _patch(client, february, auth("Paul Howes"), content)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    shown = client.get(plan_url(february), headers=auth(READER)).json()
    assert shown["content"]["sections"]["about"]["fields"]["description"] == text


def test_line_breaks_and_tabs_are_kept_in_free_text(client, february, auth):
    text = "First paragraph.\n\nSecond:\tindented.\r\n"
    content = {"sections": {"about": {"fields": {"description": text}}}}
    assert _patch(client, february, auth("Paul Howes"), content).status_code == 200
    shown = client.get(plan_url(february), headers=auth(READER)).json()
    assert shown["content"]["sections"]["about"]["fields"]["description"] == text


ROW = CONTENT["operational"][0]
HOSTILE_CONTENT = [
    (
        {"sections": {"about": {"fields": {"description": "\u202eevil"}}}},
        "content.sections.about.fields",
    ),
    (
        {"sections": {"about": {"fields": {"description": "bell\x07"}}}},
        "content.sections.about.fields",
    ),
    (
        {"sections": {"about": {"fields": {"description": "x" * 20_001}}}},
        "content.sections.about.fields",
    ),
    ({"sections": {"budget": {}}}, "content.sections"),
    ({"sections": {"about": {"colour": "red"}}}, "content.sections.about.colour"),
    (
        {"sections": {"about": {"fields": {"description": 5}}}},
        "content.sections.about.fields.description",
    ),
    (
        {"sections": {"finance": {"to_follow_by": "Fin\x00ance"}}},
        "content.sections.finance.to_follow_by",
    ),
    (
        {"sections": {"risks": {"rows": [{"description": "\u2067hidden"}]}}},
        "content.sections.risks.rows.0.description",
    ),
    (
        {"sections": {"risks": {"rows": [{"owner\u200b": "Paul"}]}}},
        "content.sections.risks.rows.0.owner\u200b.[key]",
    ),
    (
        {"sections": {"risks": {"rows": [{"owner": "x\x1b[31m"}]}}},
        "content.sections.risks.rows.0.owner",
    ),
    (
        {"sections": {"risks": {"rows": [{"impact": ["I"]}]}}},
        "content.sections.risks.rows.0.impact",
    ),
    ({"sections": {"risks": {"rows": [{}] * 201}}}, "content.sections.risks.rows"),
    ({"operational": [{"code": "PP4"}]}, "content.operational.0.indicator"),
    ({"operational": [ROW | {"indicator": ""}]}, "content.operational.0.indicator"),
    ({"operational": [ROW | {"indicator": "\u202eIP"}]}, "content.operational.0.indicator"),
    ({"operational": [ROW | {"code": "c" * 41}]}, "content.operational.0.code"),
    (
        {"operational": [ROW | {"lead_officer": "Richard\nMay"}]},
        "content.operational.0.lead_officer",
    ),
    ({"operational": [ROW | {"targets": [{}] * 4}]}, "content.operational.0.targets"),
    (
        {"operational": [ROW | {"targets": [{"kind": "guess"}]}]},
        "content.operational.0.targets.0.kind",
    ),
    (
        {"operational": [ROW | {"targets": [{"value": "lots"}]}]},
        "content.operational.0.targets.0.value",
    ),
    (
        {"operational": [ROW | {"targets": [{"text": "100%\u202e"}]}]},
        "content.operational.0.targets.0.text",
    ),
    (
        {"operational": [ROW | {"targets": [{"note": "\x08"}]}]},
        "content.operational.0.targets.0.note",
    ),
    ({"operational": [{"indicator": "x"}] * 1001}, "content.operational"),
    (
        {"improvement": [{"action": "Do", "completion": "2011-13"}]},
        "content.improvement.0.completion",
    ),
    (
        {"improvement": [{"action": "Do", "responsible": "\u200dJo"}]},
        "content.improvement.0.responsible",
    ),
    ({"improvement": [{"action": "\u061cDo"}]}, "content.improvement.0.action"),
    ({"improvement": [{"action": "Do"}] * 201}, "content.improvement"),
    ({"improvement": {"action": "Do"}}, "content.improvement"),
    ("everything", "content"),
    (None, "content"),
]


@pytest.mark.parametrize(("content", "field"), HOSTILE_CONTENT, ids=case_id)
def test_bad_content_is_422_naming_the_field_and_changes_nothing(
    client, db, february, auth, content, field
):
    headers = auth("Paul Howes")
    before = db.snapshot()
    r = _patch(client, february, headers, content)
    problem(r, 422, field=field)
    unchanged(before, db.snapshot())


@pytest.mark.parametrize(
    "raw",
    [
        b'{"version": 1, "content": {"operational": [{"indicator": "x", "targets": '
        b'[{"value": NaN}]}]}}',
        b'{"version": 1, "content": {"operational": [{"indicator": "x", "targets": '
        b'[{"value": Infinity}]}]}}',
        b'{"version": 1, "content": {"operational": [{"indicator": "x", "targets": '
        b'[{"value": 1e309}]}]}}',
    ],
    ids=["nan", "infinity", "overflow"],
)
def test_a_target_that_is_not_a_finite_number_is_422(client, db, february, auth, raw):
    headers = auth("Paul Howes") | {"Content-Type": "application/json"}
    before = db.snapshot()
    r = client.patch(plan_url(february), content=raw, headers=headers)
    problem(r, 422, field="content.operational.0.targets.0.value")
    unchanged(before, db.snapshot())
    assert client.get(plan_url(february), headers=headers).status_code == 200


WRITES = {
    "open_cycle": ("post", "/cycles"),
    "calendar": ("patch", "/cycles/2010"),
    "add_plan": ("post", "/cycles/2010/plans"),
    "edit": ("patch", "/plans/{id}"),
    "submit": ("post", "/plans/{id}/submit"),
    "signatories": ("put", "/plans/{id}/signatories"),
}


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"not json", b"null", b'"text"', b"2.5", b"{}", b"[{}]", b"\xff\xfe"],
    ids=case_id,
)
def test_a_body_that_is_not_the_right_json_is_refused(client, db, february, auth, write, raw):
    method, path = WRITES[write]
    headers = auth() | {"Content-Type": "application/json"}
    before = db.snapshot()
    r = client.request(method, _url(february, path), content=raw, headers=headers)
    problem(r, 422)
    unchanged(before, db.snapshot())


@pytest.mark.parametrize("write", WRITES)
def test_a_huge_body_is_413_and_changes_nothing(client, db, february, auth, write):
    method, path = WRITES[write]
    text = "n" * 2_200_000  # past the 2 MB a whole plan may take (256 KB elsewhere)
    huge: Any = {"version": 1, "note": text, "content": {}, "year": 2011, "service_area": text}
    if write == "signatories":
        huge = [{"email": OWNER, "role": "corporate_manager", "portfolio": text}]
    headers = auth()
    before = db.snapshot()
    problem(client.request(method, _url(february, path), json=huge, headers=headers), 413)
    unchanged(before, db.snapshot())


def test_a_stale_version_is_409_and_changes_nothing(client, db, february, auth):
    owner, admin = auth("Paul Howes"), auth()
    version = plan(february.plan.id).version
    assert _patch(client, february, admin, CONTENT, version=version).status_code == 200
    before = db.snapshot()
    body = problem(_patch(client, february, owner, {"sections": {}}, version=version), 409)
    assert "changed by someone else" in body["detail"]
    r = client.post(plan_url(february, "/submit"), json={"version": version}, headers=owner)
    problem(r, 409)
    unchanged(before, db.snapshot())


def test_editing_a_submitted_plan_withdraws_its_version(client, february, auth):
    owner = auth("Paul Howes")
    edit(february.plan.id, february.owner, CONTENT)
    submit(february.plan.id, february.owner)
    raw = links(february.plan.id)
    respond(next(iter(raw.values())))
    r = _patch(client, february, owner, CONTENT | {"improvement": []})
    assert r.status_code == 200 and r.json()["status"] == "drafting"
    assert links(february.plan.id) == {}  # their links to version 1 stop working
    assert len(r.json()["versions"][0]["responses"]) == 1  # the signature stays on record


def test_an_approved_plan_cannot_change(client, db, february, auth):
    edit(february.plan.id, february.owner, CONTENT)
    submit(february.plan.id, february.owner)
    for raw in links(february.plan.id).values():
        respond(raw)
    owner, admin = auth("Paul Howes"), auth()
    before = db.snapshot()
    for headers in (owner, admin):
        body = problem(_patch(client, february, headers, {"sections": {}}), 409)
        assert "approved" in body["detail"]
        r = client.post(
            plan_url(february, "/submit"),
            json={"version": plan(february.plan.id).version},
            headers=headers,
        )
        problem(r, 409)
    r = client.put(plan_url(february, "/signatories"), json=signatories(), headers=admin)
    assert "approved" in problem(r, 409)["detail"]
    unchanged(before, db.snapshot())


# --- submitting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "version"),
        ({"version": 0}, "version"),
        ({"version": 2**63}, "version"),
        ({"version": None}, "version"),
        ({"version": "latest"}, "version"),
        ({"version": 1, "note": "n" * 2001}, "note"),
        ({"version": 1, "note": "Section 8 \u202eto follow"}, "note"),
        ({"version": 1, "note": "Section 8\x00"}, "note"),
        ({"version": 1, "note": ["a"]}, "note"),
        ({"version": 1, "signatories": []}, "signatories"),
    ],
    ids=case_id,
)
def test_a_bad_submission_is_422_and_changes_nothing(client, db, february, auth, body, field):
    headers = auth("Paul Howes")
    before = db.snapshot()
    r = client.post(plan_url(february, "/submit"), json=body, headers=headers)
    problem(r, 422, field=field)
    unchanged(before, db.snapshot())


def test_a_plan_with_no_portfolio_holder_cannot_be_submitted(client, db, february, auth):
    only_cm = [s for s in signatories() if s["role"] == "corporate_manager"]
    body = NEW_PLAN | {"signatories": only_cm}
    added = client.post(f"{API}/cycles/2010/plans", json=body, headers=auth()).json()
    headers = auth()
    before = db.snapshot()
    r = client.post(
        f"{API}/plans/{added['id']}/submit", json={"version": added["version"]}, headers=headers
    )
    assert "Portfolio Holder" in problem(r, 422)["detail"]
    unchanged(before, db.snapshot())


def test_a_submitted_plan_cannot_be_submitted_again(client, db, february, auth):
    owner = auth("Paul Howes")
    version = plan(february.plan.id).version
    first = client.post(plan_url(february, "/submit"), json={"version": version}, headers=owner)
    assert first.status_code == 200, first.text
    before = db.snapshot()
    again = client.post(
        plan_url(february, "/submit"), json={"version": first.json()["version"]}, headers=owner
    )
    assert "already with its signatories" in problem(again, 409)["detail"]
    unchanged(before, db.snapshot())


# --- signatories ----------------------------------------------------------------------------------


def test_a_signatory_added_while_submitted_is_asked_to_sign(client, february, auth):
    edit(february.plan.id, february.owner, CONTENT)
    submit(february.plan.id, february.owner)
    old, new = february.by_email(PAIRS[2][1]), february.by_email("cllr.gale@scambs.example")
    pairs = [(p, new.email if e == old.email else e) for p, e in PAIRS]
    r = client.put(plan_url(february, "/signatories"), json=signatories(pairs), headers=auth())
    assert r.status_code == 200, r.text
    shown = r.json()
    assert "cllr.gale@scambs.example" in [s["email"] for s in shown["signatories"]]
    assert old.email not in [s["email"] for s in shown["signatories"]]
    # Version 1 still shows whom it was first sent to.
    assert old.email in [a["email"] for a in shown["versions"][0]["asked"]]
    raw = links(february.plan.id)
    assert new.id in raw and old.id not in raw
    for token in raw.values():
        respond(token)
    final = client.get(plan_url(february), headers=auth(READER)).json()
    assert final["status"] == "approved" and len(final["versions"][0]["responses"]) == 6


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ([], 422, None),
        ([s for s in signatories() if s["role"] == "corporate_manager"], 422, None),
        (signatories([("Elections", "nobody@scambs.example")]), 422, None),
        (signatories() * 7, 422, None),
        ([{"email": OWNER, "role": "mayor"}], 422, "0.role"),
        ([{"email": "me", "role": "portfolio_holder"}], 422, "0.email"),
        ([{"email": OWNER, "role": "portfolio_holder", "portfolio": "x" * 121}], 422, None),
        ([{"email": OWNER, "role": "portfolio_holder", "portfolio": "\u202eP"}], 422, None),
        ([{"email": OWNER, "role": "portfolio_holder", "extra": 1}], 422, "0.extra"),
        ({"signatories": signatories()}, 422, None),
        (["cllr.dunn@scambs.example"], 422, None),
    ],
    ids=case_id,
)
def test_bad_signatories_are_refused_and_change_nothing(
    client, db, february, auth, body, status, field
):
    headers = auth()
    before = db.snapshot()
    r = client.put(plan_url(february, "/signatories"), json=body, headers=headers)
    problem(r, status, field=field)
    unchanged(before, db.snapshot())


def test_signing_is_not_in_the_api(client, february, auth):
    from api.app import create_app

    paths = create_app().openapi()["paths"]
    planning = {p: ops for p, ops in paths.items() if "/cycles" in p or "/plans" in p}
    assert set(planning) == {
        "/api/v1/cycles",
        "/api/v1/cycles/{year}",
        "/api/v1/cycles/{year}/plans",
        "/api/v1/plans/{plan_id}",
        "/api/v1/plans/{plan_id}/submit",
        "/api/v1/plans/{plan_id}/signatories",
    }
    described = paths["/api/v1/plans/{plan_id}"]["get"]["description"]
    assert "only through the link emailed to them" in " ".join(described.split())
    for ops in planning.values():
        for op in ops.values():
            assert op["summary"] and op["description"]
            assert "401" in op["responses"]
    signer = auth("Cllr Carol Dunn")
    for tail in ("/sign", "/signatures", "/respond"):
        r = client.post(plan_url(february, tail), json={"answer": "sign"}, headers=signer)
        assert r.status_code in (404, 405)
    assert plan(february.plan.id).status != "approved"


def test_a_plan_still_with_its_signatories_after_the_deadline(client, february, auth):
    """The day after sign-off by, the dashboard shows it a day late and still unsigned."""
    edit(february.plan.id, february.owner, CONTENT)
    submit(february.plan.id, february.owner)
    with clock.frozen(at("2010-04-01") + timedelta(hours=1)):
        row = client.get(f"{API}/cycles/2010", headers=auth(READER)).json()["plans"][0]
    assert (row["status"], row["days_left"], row["signed"], row["to_sign"]) == (
        "submitted",
        -1,
        0,
        6,
    )
