"""The API as an integrator meets it: project list, RFCs by reference, filtered and paginated RFC
lists, Location on 201, one problem+json error format, decisions recorded "via API", OpenAPI.

Every refusal must be problem+json with the expected `code` and must change nothing (the whole
database is snapshotted before and after). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json

import pytest
from support.factories import MINOR
from support.ids import case_id

RFC = {"title": "Combine tasks 1.2 and 2.1", "description": "Merge the two tasks."}


def problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    """Assert the one error format and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status and body["type"] == f"urn:signoff:problem:{code}"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def state(db) -> dict:  # type: ignore[no-untyped-def]
    """Every row of every table except api_token (the test makes tokens as it goes)."""
    rows = db.snapshot()
    del rows["api_token"]
    return rows


def rfcs_of(client, factory, team, who=None, **params):  # type: ignore[no-untyped-def]
    r = client.get(
        f"/api/v1/projects/{team.code}/rfcs",
        params=params,
        headers=factory.auth(who or team.officer),
    )
    assert r.status_code == 200, r.text
    return r.json()


# --- GET /api/v1/projects -----------------------------------------------------------------------


def test_list_projects(client, factory, db):
    teams = [factory.team(code=code) for code in ("ZED", "ALPHA", "MID")]
    r = client.get("/api/v1/projects", headers=factory.auth(factory.admin()))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [p["code"] for p in items] == ["ALPHA", "MID", "ZED"]
    assert items[0]["sponsor_email"] == teams[1].sponsor.email
    # Everyone else sees the projects they are one of the people of, and no other.
    mine = client.get("/api/v1/projects", headers=factory.auth(teams[0].officer)).json()
    assert [p["code"] for p in mine["items"]] == ["ZED"]
    none = client.get("/api/v1/projects", headers=factory.auth(teams[0].stranger)).json()
    assert none["items"] == []
    problem(client.get("/api/v1/projects"), 401, "unauthenticated")


# --- an RFC by id or by reference ---------------------------------------------------------------


def test_rfc_by_reference_and_by_id_are_the_same(client, factory, team):
    rfc = factory.in_status(team, "impact_analysis")
    headers = factory.auth(team.officer)
    by_id = client.get(f"/api/v1/rfcs/{rfc.id}", headers=headers)
    by_ref = client.get(f"/api/v1/rfcs/{rfc.ref}", headers=headers)
    assert by_id.status_code == by_ref.status_code == 200, by_ref.text
    assert by_ref.json() == by_id.json() and by_ref.json()["ref"] == rfc.ref


def test_write_routes_take_a_reference(client, factory, team, db):
    rfc = factory.rfc(team)
    r = client.post(f"/api/v1/rfcs/{rfc.ref}/submit", headers=factory.auth(team.officer))
    assert r.status_code == 200, r.text
    assert db.rfc(rfc.id).status == "impact_analysis"
    r = client.post(
        f"/api/v1/rfcs/{rfc.ref}/impact", json=MINOR, headers=factory.auth(team.manager)
    )
    assert r.status_code == 200 and r.json()["classification"] == "minor"


@pytest.mark.parametrize(
    ("key", "status", "code"),
    [
        ("NOPE-RFC-001", 404, "not_found"),
        ("cse-rfc-001", 422, "validation_failed"),
        ("CSE-RFC-1", 422, "validation_failed"),
        ("CSE-RFC-001'--", 422, "validation_failed"),
        ("2147483648", 422, "invalid"),
        ("9999999999", 422, "invalid"),
        ("0", 422, "validation_failed"),
    ],
)
def test_bad_or_unknown_reference(client, factory, team, db, key, status, code):
    factory.rfc(team)
    before = state(db)
    headers = factory.auth(team.manager)
    for method, suffix, body in [
        ("get", "", None),
        ("post", "/submit", None),
        ("post", "/withdraw", None),
        ("patch", "", {"title": "x"}),
    ]:
        problem(
            client.request(method, f"/api/v1/rfcs/{key}{suffix}", json=body, headers=headers),
            status,
            code,
        )
    assert state(db) == before


def test_reference_of_an_rfc_you_may_not_see_is_404(client, factory, team, db):
    rfc = factory.rfc(team)
    other = factory.team()
    body = problem(
        client.get(f"/api/v1/rfcs/{rfc.ref}", headers=factory.auth(other.manager)), 404, "not_found"
    )
    assert rfc.ref in body["detail"] and rfc.title not in json.dumps(body)
    unknown = problem(
        client.get(f"/api/v1/rfcs/{team.code}-RFC-999", headers=factory.auth(other.manager)),
        404,
        "not_found",
    )
    assert unknown["title"] == body["title"]


# --- RFC lists: fields, filters, text search ----------------------------------------------------


def test_list_items_carry_what_a_register_shows(client, factory, team):
    rfc = factory.in_status(team, "awaiting_approval")
    (item,) = rfcs_of(client, factory, team)["items"]
    assert item["id"] == rfc.id and item["ref"] == rfc.ref and item["project_code"] == team.code
    assert item["title"] == rfc.title and item["status"] == "awaiting_approval"
    assert item["classification"] == "major" and item["version"] == rfc.version
    assert item["raised_on"] == rfc.raised_on.isoformat()
    for field in ("created_at", "updated_at"):
        assert item[field].startswith(str(rfc.raised_on.year))
    assert item["decided_at"] is None


def test_filters_by_status_and_classification(client, factory, team):
    draft = factory.in_status(team, "draft")
    minor = factory.in_status(team, "awaiting_approval", major=False)
    major = factory.in_status(team, "approved")
    ids = lambda **p: [x["id"] for x in rfcs_of(client, factory, team, **p)["items"]]  # noqa: E731
    assert ids() == [major.id, minor.id, draft.id]
    assert ids(status="draft") == [draft.id]
    assert ids(status="awaiting_approval") == [minor.id]
    assert ids(classification="major") == [major.id]
    assert ids(classification="minor", status="approved") == []
    other = factory.team()
    factory.in_status(other, "draft")
    assert ids(status="draft") == [draft.id]  # never another project's


def test_q_searches_reference_title_and_description_ignoring_case(client, factory, team):
    a = factory.rfc(team, title="Replace the Website", description="Old CMS.")
    b = factory.rfc(team, title="Training", description="Staff need WEBSITE training.")
    c = factory.rfc(team, title="Printer", description="A new printer.")
    ids = lambda q: [x["id"] for x in rfcs_of(client, factory, team, q=q)["items"]]  # noqa: E731
    assert ids("website") == [b.id, a.id]
    assert ids("  printer ") == [c.id]
    assert ids(c.ref.lower()) == [c.id]
    assert ids("") == [c.id, b.id, a.id]
    assert ids("nothing like this") == []


@pytest.mark.parametrize(
    ("q", "matches"),
    [
        ("%", ["100% done"]),
        ("_", ["snake_case"]),
        ("0%", ["100% done"]),
        ("e_c", ["snake_case"]),
        ("\\", ["back\\slash"]),
        ("O'Brien", ["Ask O'Brien"]),
        ('"quoted"', ['a "quoted" word']),
        ("' OR '1'='1", []),
        ("%' OR 1=1 --", []),
    ],
)
def test_like_wildcards_and_quotes_in_q_are_literal(client, factory, team, db, q, matches):
    for title in (
        "100% done",
        "snake_case",
        "snakeXcase",
        "back\\slash",
        "Ask O'Brien",
        'a "quoted" word',
        "plain",
    ):
        factory.rfc(team, title=title, description="d")
    before = state(db)
    got = [x["title"] for x in rfcs_of(client, factory, team, q=q)["items"]]
    assert got == matches
    assert state(db) == before


# --- pagination -----------------------------------------------------------------------------


def test_keyset_pages_do_not_shift_when_rfcs_are_added(client, factory, team):
    made = [factory.rfc(team) for _ in range(5)]
    first = rfcs_of(client, factory, team, limit=2)
    assert [x["id"] for x in first["items"]] == [made[4].id, made[3].id]
    assert isinstance(first["next_cursor"], str)
    factory.rfc(team)  # a newer RFC must not push rows onto the next page
    second = rfcs_of(client, factory, team, limit=2, cursor=first["next_cursor"])
    assert [x["id"] for x in second["items"]] == [made[2].id, made[1].id]
    last = rfcs_of(client, factory, team, limit=2, cursor=second["next_cursor"])
    assert [x["id"] for x in last["items"]] == [made[0].id]
    assert last["next_cursor"] is None


def test_exactly_a_full_last_page_has_no_next_cursor(client, factory, team):
    for _ in range(3):
        factory.rfc(team)
    page = rfcs_of(client, factory, team, limit=3)
    assert len(page["items"]) == 3 and page["next_cursor"] is None
    assert len(rfcs_of(client, factory, team)["items"]) == 3  # default limit is 50


def test_pages_with_filters(client, factory, team):
    drafts = [factory.in_status(team, "draft") for _ in range(3)]
    factory.in_status(team, "withdrawn")
    first = rfcs_of(client, factory, team, status="draft", limit=2)
    second = rfcs_of(client, factory, team, status="draft", limit=2, cursor=first["next_cursor"])
    got = [x["id"] for x in first["items"] + second["items"]]
    assert got == [r.id for r in reversed(drafts)] and second["next_cursor"] is None


def _cursor(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


BAD_PARAMS = [
    ({"limit": 0}, "validation_failed", "limit"),
    ({"limit": 201}, "validation_failed", "limit"),
    ({"limit": "abc"}, "validation_failed", "limit"),
    ({"limit": -1}, "validation_failed", "limit"),
    ({"status": "bogus"}, "validation_failed", "status"),
    ({"status": "DRAFT"}, "validation_failed", "status"),
    ({"classification": "huge"}, "validation_failed", "classification"),
    ({"q": "nul\x00byte"}, "validation_failed", "q"),
    ({"q": "x" * 10_000}, "validation_failed", "q"),
    ({"q": "line\r\nbreak"}, "validation_failed", "q"),
    ({"cursor": "not a cursor!"}, "validation_failed", "cursor"),
    ({"cursor": "x" * 201}, "validation_failed", "cursor"),
    ({"cursor": "abc"}, "invalid", None),
    ({"cursor": _cursor({"before": "1 OR 1=1"})}, "invalid", None),
    ({"cursor": _cursor({"before": -5})}, "invalid", None),
    ({"cursor": _cursor([1, 2])}, "invalid", None),
    ({"cursor": _cursor({"before": 2, "filters": "forged"})}, "invalid", None),
    ({"stauts": "draft"}, "validation_failed", "stauts"),
]


@pytest.mark.parametrize(
    ("params", "code", "field"),
    BAD_PARAMS,
    ids=case_id,
)
def test_malformed_list_parameters_are_refused(client, factory, team, db, params, code, field):
    factory.rfc(team)
    before = state(db)
    r = client.get(
        f"/api/v1/projects/{team.code}/rfcs", params=params, headers=factory.auth(team.officer)
    )
    body = problem(r, 422, code)
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
        assert all(e["message"] and e["loc"][0] == "query" for e in body["errors"])
    else:
        assert "errors" not in body and "cursor" in body["detail"]
    assert state(db) == before


def test_a_cursor_is_refused_with_other_filters(client, factory, team):
    for _ in range(3):
        factory.in_status(team, "draft")
    page = rfcs_of(client, factory, team, status="draft", limit=1)
    r = client.get(
        f"/api/v1/projects/{team.code}/rfcs",
        params={"status": "withdrawn", "limit": 1, "cursor": page["next_cursor"]},
        headers=factory.auth(team.officer),
    )
    assert "other filters" in problem(r, 422, "invalid")["detail"]


def test_list_of_an_unknown_project_is_404(client, factory, team):
    r = client.get("/api/v1/projects/NOPE/rfcs", headers=factory.auth(team.officer))
    problem(r, 404, "not_found")


# --- the search service itself (the pages call it too) ------------------------------------------


def test_search_service_across_projects_and_its_refusals(factory, team):
    from core.db import read_session
    from models.change_control.rfcs import RfcStatus
    from services.change_control.rfc_search import RfcQuery, search
    from services.platform.errors import Invalid

    other = factory.team()
    mine, theirs = factory.rfc(team), factory.rfc(other)
    with read_session() as s:
        page = search(s, query=RfcQuery())
        assert [r.id for r in page.rows] == [theirs.id, mine.id] and page.next_cursor is None
        assert [r.id for r in search(s, query=RfcQuery(project_id=team.project.id)).rows] == [
            mine.id
        ]
        assert search(s, query=RfcQuery(status=RfcStatus.approved)).rows == []
        for bad in (
            RfcQuery(limit=0),
            RfcQuery(limit=201),
            RfcQuery(q="a\x00"),
            RfcQuery(q="x" * 201),
            RfcQuery(cursor="!!"),
            RfcQuery(cursor="e30"),
        ):
            with pytest.raises(Invalid):
                search(s, query=bad)


# --- Location on 201 ------------------------------------------------------------------------


def test_created_resources_carry_their_location(client, factory, team):
    admin = factory.auth(factory.admin())
    body = {
        "code": "LOC",
        "name": "Located",
        "sponsor_email": team.sponsor.email,
        "manager_email": team.manager.email,
    }
    r = client.post("/api/v1/projects", json=body, headers=admin)
    assert r.status_code == 201 and r.headers["location"] == "/api/v1/projects/LOC"
    assert client.get(r.headers["location"], headers=admin).json() == r.json()
    r = client.post(
        f"/api/v1/projects/{team.code}/rfcs", json=RFC, headers=factory.auth(team.officer)
    )
    assert r.status_code == 201 and r.headers["location"] == f"/api/v1/rfcs/{r.json()['id']}"
    got = client.get(r.headers["location"], headers=factory.auth(team.officer))
    assert got.status_code == 200 and got.json()["ref"] == r.json()["ref"]


# --- one error format for every 4xx under /api/ ---------------------------------------------


def test_unknown_api_path_and_wrong_method(client, factory, team, db):
    before = state(db)
    headers = factory.auth(team.officer)
    problem(client.get("/api/v1/nothing-here", headers=headers), 404, "not_found")
    problem(client.get("/api/v2/projects"), 404, "not_found")
    r = client.delete(f"/api/v1/projects/{team.code}", headers=headers)
    problem(r, 405, "method_not_allowed")
    assert "GET" in r.headers["allow"]
    assert state(db) == before


def test_unauthenticated_is_a_problem_with_www_authenticate(client):
    for headers in ({}, {"Authorization": "Bearer sgf_nope"}, {"Authorization": "Basic eDp5"}):
        r = client.get("/api/v1/projects", headers=headers)
        problem(r, 401, "unauthenticated")
        assert r.headers["www-authenticate"] == "Bearer"


def test_oversized_api_body_is_a_problem_but_pages_keep_theirs(client, factory, team, db):
    before = state(db)
    big = b"x" * (256 * 1024 + 1)
    r = client.post(
        f"/api/v1/projects/{team.code}/rfcs",
        content=big,
        headers=factory.auth(team.officer) | {"Content-Type": "application/json"},
    )
    assert problem(r, 413, "payload_too_large")["instance"] == f"/api/v1/projects/{team.code}/rfcs"
    page = client.post(
        "/sign-in", content=big, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert page.status_code == 413
    assert page.headers["content-type"].startswith("text/html")
    assert "larger than 256 KB" in page.text  # a person is told what to do, on a page
    assert state(db) == before


def test_validation_errors_list_each_field(client, factory, team, db):
    before = state(db)
    r = client.post(
        f"/api/v1/projects/{team.code}/rfcs",
        json={"title": "", "issue_log_no": 0},
        headers=factory.auth(team.officer),
    )
    body = problem(r, 422, "validation_failed")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"title", "description", "issue_log_no"}
    assert all(e["loc"][0] == "body" and e["message"] and e["type"] for e in body["errors"])
    assert "title" in body["detail"]
    assert state(db) == before


def test_service_refusals_use_their_own_codes(client, factory, team, db):
    rfc = factory.rfc(team)
    problem(
        client.post(f"/api/v1/rfcs/{rfc.id}/submit", headers=factory.auth(team.sponsor)),
        403,
        "forbidden",
    )  # one of the project's people, but not the requester
    problem(
        client.post(f"/api/v1/rfcs/{rfc.id}/submit", headers=factory.auth(team.stranger)),
        404,
        "not_found",
    )  # not one of the project's people: it does not exist for them
    decided = factory.in_status(team, "approved", major=False)  # the PM decided it already
    problem(
        client.post(
            f"/api/v1/rfcs/{decided.id}/decision",
            json={"decision": "approve"},
            headers=factory.auth(team.manager),
        ),
        409,
        "conflict",
    )
    problem(
        client.post(
            "/api/v1/projects",
            headers=factory.auth(team.officer),
            json={
                "code": "X",
                "name": "x",
                "sponsor_email": team.sponsor.email,
                "manager_email": team.manager.email,
            },
        ),
        403,
        "forbidden",
    )
    r = client.patch(
        f"/api/v1/rfcs/{rfc.id}", json={"title": rfc.title}, headers=factory.auth(team.officer)
    )
    problem(r, 422, "invalid")


# --- decisions through the API say so in the history ------------------------------------------


def test_a_decision_by_api_is_recorded_via_api(client, factory, team, db):
    by_api = factory.in_status(team, "awaiting_approval", major=False)
    r = client.post(
        f"/api/v1/rfcs/{by_api.ref}/decision",
        json={"decision": "approve"},
        headers=factory.auth(team.manager),
    )
    assert r.status_code == 200, r.text
    (decision,) = db.audit(by_api.id, action="approve")
    assert decision.detail == "via API"
    history = client.get(f"/api/v1/rfcs/{by_api.id}", headers=factory.auth(team.manager)).json()
    assert history["history"][-1]["detail"] == "via API"
    in_app = factory.in_status(team, "rejected", major=False)  # the service's default: the app
    assert [e.detail for e in db.audit(in_app.id, action="reject")] == ["via app"]


def test_an_unknown_decision_channel_is_a_programming_error(factory, team, db):
    from models.change_control.rfcs import DecisionInput
    from services.change_control import rfcs

    rfc = factory.in_status(team, "awaiting_approval", major=False)
    before = state(db)
    with pytest.raises(ValueError, match="channel"):
        factory.call(
            rfcs.decide,
            actor=factory.actor(team.manager),
            rfc_id=rfc.id,
            data=DecisionInput(decision="approve"),
            channel="fax",
        )
    assert state(db) == before


# --- OpenAPI --------------------------------------------------------------------------------


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_openapi_describes_every_operation_and_its_errors(client):
    spec = client.get("/openapi.json").json()
    operations = [(p, m, op) for p, ops in spec["paths"].items() for m, op in ops.items()]
    assert len(operations) >= 11
    for path, method, op in operations:
        where = f"{method} {path}"
        assert op.get("summary") and op.get("description"), where
        errors = {s: r for s, r in op["responses"].items() if s.startswith("4")}
        assert {"401", "422"} <= set(errors) or (path, method) in {
            ("/api/v1/projects", "get"),
            ("/api/v1/scorecards", "get"),
            ("/api/v1/cycles", "get"),  # no parameters: nothing to be unprocessable
        }
        for status, response in errors.items():
            assert list(response["content"]) == ["application/problem+json"], (where, status)
            schema = response["content"]["application/problem+json"]["schema"]
            assert {"type", "title", "status", "detail", "code"} <= set(schema["required"])
            assert schema["properties"]["status"]["enum"] == [int(status)]
    schemas = spec["components"]["schemas"]
    assert set(schemas["RfcStatus"]["enum"]) == {
        "draft",
        "impact_analysis",
        "awaiting_approval",
        "approved",
        "rejected",
        "withdrawn",
    }
    assert set(schemas["Classification"]["enum"]) == {"minor", "major"}
    for model in ("RfcSummary", "RfcPublic", "RfcListItem"):
        assert schemas[model]["properties"]["status"] == {"$ref": "#/components/schemas/RfcStatus"}
        assert {"$ref": "#/components/schemas/Classification"} in (
            schemas[model]["properties"]["classification"]["anyOf"]
        )
    assert "HTTPValidationError" not in schemas
    for path in ("/api/v1/projects", "/api/v1/projects/{code}/rfcs"):
        assert "Location" in spec["paths"][path]["post"]["responses"]["201"]["headers"]
    params = {
        p["name"]: p for p in spec["paths"]["/api/v1/projects/{code}/rfcs"]["get"]["parameters"]
    }
    assert {"status", "classification", "q", "limit", "cursor"} <= set(params)
    assert (params["limit"]["schema"]["minimum"], params["limit"]["schema"]["maximum"]) == (1, 200)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_web_app_never_imports_prefect(env):
    """`import prefect` costs seconds and tens of MB; the web app and API must not pay it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys\nfrom api.main import app\nfrom fastapi.testclient import TestClient\n"
        "TestClient(app).get('/openapi.json')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ),  # noqa: S603
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
