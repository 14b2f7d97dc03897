"""The JSON API, endpoint by endpoint: good, malformed, oversized, hostile and out-of-order input.

Every refusal must be a clear 4xx (never a 500) and write NOTHING: the rows of rfc,
outbox_message, step and action_token are counted before and after; a refused
transition may add exactly one audit row with outcome 'refused'. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from support.factories import MAJOR, MINOR
from support.ids import case_id

WRITES = ("rfc", "outbox_message", "step", "action_token", "project", "person")


def unchanged(before: dict, after: dict, *, refused: int = 0) -> None:
    """Nothing written, except `refused` audit rows with outcome 'refused'."""
    for table in WRITES:
        assert after[table] == before[table], f"{table} changed: {before[table]} -> {after[table]}"
    assert after["audit_ok"] == before["audit_ok"], "an ok audit row was written"
    assert after["audit_refused"] == before["audit_refused"] + refused


def clear_4xx(response, status: int) -> None:  # type: ignore[no-untyped-def]
    """The one error format: RFC 9457 problem+json with a stable machine-readable code."""
    from api.problems import ALL_CODES

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"], body
    assert body["status"] == status and body["title"], body
    assert body["code"] in ALL_CODES and body["type"] == f"urn:signoff:problem:{body['code']}"


# --- authentication ------------------------------------------------------------------------


ENDPOINTS = [
    ("post", "/api/v1/projects"),
    ("post", "/api/v1/projects/CSE/rfcs"),
    ("get", "/api/v1/rfcs/1"),
    ("patch", "/api/v1/rfcs/1"),
    ("post", "/api/v1/rfcs/1/submit"),
    ("post", "/api/v1/rfcs/1/impact"),
    ("post", "/api/v1/rfcs/1/decision"),
    ("post", "/api/v1/rfcs/1/withdraw"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_valid_token(client, db, method, path):
    before = db.counts()
    for header in (
        None,
        "Bearer sgf_not-a-real-token-0123456789abcdef",
        "Bearer ' OR 1=1 --",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
    ):
        headers = {"Authorization": header} if header else {}
        r = client.request(method, path, json={}, headers=headers)
        clear_4xx(r, 401)
        assert r.headers["www-authenticate"] == "Bearer"
    unchanged(before, db.counts())


def test_revoked_token_is_refused(client, factory, team):
    from sqlalchemy import update

    from core.clock import now
    from core.db import write_session
    from models import ApiToken

    headers = factory.auth(team.officer)
    assert client.get("/api/v1/projects/" + team.code, headers=headers).status_code == 200
    with write_session() as s:
        s.execute(update(ApiToken).values(revoked_at=now()))
    clear_4xx(client.get("/api/v1/projects/" + team.code, headers=headers), 401)


# --- POST /api/v1/projects -----------------------------------------------------------------


def project_body(team, **over):  # type: ignore[no-untyped-def]
    return {
        "code": "NEWPROJ",
        "name": "Website replacement",
        "objective": "A new website",
        "sponsor_email": team.sponsor.email,
        "manager_email": team.manager.email,
        "alternate_approver_email": team.alternate.email,
        "cost_tolerance_pence": 50_000,
    } | over


def test_admin_registers_a_project(client, factory, team, db):
    admin = factory.admin()
    r = client.post("/api/v1/projects", json=project_body(team), headers=factory.auth(admin))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["code"] == "NEWPROJ" and body["cost_tolerance_pence"] == 50_000
    assert body["sponsor_email"] == team.sponsor.email
    assert body["manager_email"] == team.manager.email
    assert body["alternate_approver_email"] == team.alternate.email
    got = client.get("/api/v1/projects/NEWPROJ", headers=factory.auth(team.manager))
    assert got.status_code == 200 and got.json() == body  # its manager sees it
    hidden = client.get("/api/v1/projects/NEWPROJ", headers=factory.auth(team.officer))
    assert hidden.status_code == 404  # not one of its people


def test_default_tolerance_is_zero(client, factory, team):
    body = project_body(team)
    del body["cost_tolerance_pence"], body["alternate_approver_email"]
    r = client.post("/api/v1/projects", json=body, headers=factory.auth(factory.admin()))
    assert r.status_code == 201, r.text
    assert r.json()["cost_tolerance_pence"] == 0
    assert r.json()["alternate_approver_email"] is None


def test_only_admins_register_projects(client, factory, team, db):
    before = db.counts()
    for person in (team.officer, team.sponsor, team.manager):
        r = client.post("/api/v1/projects", json=project_body(team), headers=factory.auth(person))
        clear_4xx(r, 403)
    after = db.counts()
    assert after["project"] == before["project"] and after["audit_event"] == before["audit_event"]


@pytest.mark.parametrize(
    "change",
    [
        {"code": None},
        {"name": None},
        {"sponsor_email": None},
        {"manager_email": None},
        {"code": ""},
        {"code": "X" * 21},
        {"code": "CSE'; DROP TABLE rfc;--"},
        {"code": 12},
        {"name": ""},
        {"name": "N" * 201},
        {"sponsor_email": "not-an-email"},
        {"cost_tolerance_pence": -1},
        {"cost_tolerance_pence": "lots"},
        {"cost_tolerance_pence": 1.5},
        {"cost_tolerance_pence": 10**13},
        {"objective": "o" * 2001},
        {"manager_email": ["a@b.example"]},
    ],
    ids=case_id,
)
def test_malformed_project_is_422(client, factory, team, db, change):
    body = {k: v for k, v in (project_body(team) | change).items() if v is not None}
    headers = factory.auth(factory.admin())
    before = db.counts()
    clear_4xx(client.post("/api/v1/projects", json=body, headers=headers), 422)
    unchanged(before, db.counts())


@pytest.mark.parametrize("code", ["lower", "A B", "A/B", "<x>", "CSE\r\n", "1ABC"])
def test_project_code_must_match_its_pattern(client, factory, team, db, code):
    headers = factory.auth(factory.admin())
    before = db.counts()
    r = client.post("/api/v1/projects", json=project_body(team, code=code), headers=headers)
    unchanged_projects = db.counts()["project"] == before["project"]
    assert r.status_code == 422, r.text
    assert unchanged_projects


@pytest.mark.parametrize(
    "raw", [b"{", b"not json", b"[]", b"null", b'"CSE"', b"", b'{"code": "X", "name": }']
)
def test_bad_json_project_is_422(client, factory, db, raw):
    headers = factory.auth(factory.admin()) | {"Content-Type": "application/json"}
    before = db.counts()
    clear_4xx(client.post("/api/v1/projects", content=raw, headers=headers), 422)
    unchanged(before, db.counts())


def test_project_refusals_in_the_service(client, factory, team, db):
    headers = factory.auth(factory.admin())
    before = db.counts()
    r = client.post("/api/v1/projects", json=project_body(team, code=team.code), headers=headers)
    clear_4xx(r, 409)
    r = client.post(
        "/api/v1/projects",
        json=project_body(team, sponsor_email="nobody@council.example"),
        headers=headers,
    )
    clear_4xx(r, 422)
    assert "nobody@council.example" in r.json()["detail"]
    r = client.post(
        "/api/v1/projects",
        json=project_body(team, alternate_approver_email=team.sponsor.email),
        headers=headers,
    )
    clear_4xx(r, 422)
    unchanged(before, db.counts())


def test_large_tolerance_is_stored_never_a_500(client, factory, team, db):
    """The schema accepts up to 10**12 pence (£10bn); the database must keep it (64-bit column)."""
    headers = factory.auth(factory.admin())
    r = client.post(
        "/api/v1/projects", json=project_body(team, cost_tolerance_pence=10**12), headers=headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["cost_tolerance_pence"] == 10**12


# --- POST /api/v1/projects/{code}/rfcs -----------------------------------------------------

RFC = {
    "title": "Combine tasks 1.2 and 2.1",
    "description": "Merge the two tasks.",
    "expected_benefits": "One deliverable instead of two.",
    "issue_log_no": 3,
}


def test_raise_an_rfc(client, factory, team, db):
    r = client.post(
        f"/api/v1/projects/{team.code}/rfcs", json=RFC, headers=factory.auth(team.officer)
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "draft" and body["version"] == 1
    assert body["ref"] == f"{team.code}-RFC-001" and body["classification"] is None
    row = db.rfc(body["id"])
    assert (row.title, row.description, row.issue_log_no) == (RFC["title"], RFC["description"], 3)
    assert row.requester_id == team.officer.id
    r2 = client.post(
        f"/api/v1/projects/{team.code}/rfcs",
        json=RFC | {"issue_log_no": None},
        headers=factory.auth(team.sponsor),
    )
    assert r2.status_code == 201 and r2.json()["ref"] == f"{team.code}-RFC-002"
    outsider = client.post(
        f"/api/v1/projects/{team.code}/rfcs", json=RFC, headers=factory.auth(team.stranger)
    )
    assert outsider.status_code == 404  # not one of the project's people
    events = db.audit(body["id"])
    assert [(e.action, e.outcome, e.to_status) for e in events] == [("create", "ok", "draft")]
    assert events[0].actor_address == "testclient"


@pytest.mark.parametrize(
    "change",
    [
        {"title": None},
        {"description": None},
        {"title": ""},
        {"title": "   "},
        {"title": 42},
        {"title": ["a"]},
        {"title": "T" * 201},
        {"description": ""},
        {"description": "d" * 10_001},
        {"expected_benefits": "b" * 10_001},
        {"issue_log_no": "three"},
        {"issue_log_no": 0},
        {"issue_log_no": -4},
        {"issue_log_no": 100_001},
        {"issue_log_no": 2.5},
        {"title": "Line one\r\nBcc: victim@evil.example"},
        {"title": "tab\there"},
        {"title": "nul\x00byte"},
        {"description": "bell\x07"},
        {"title": "del\x7f"},
    ],
    ids=case_id,
)
def test_malformed_rfc_is_422(client, factory, team, db, change):
    body = {k: v for k, v in (RFC | change).items() if v is not None}
    before = db.counts()
    r = client.post(
        f"/api/v1/projects/{team.code}/rfcs", json=body, headers=factory.auth(team.officer)
    )
    clear_4xx(r, 422)
    unchanged(before, db.counts())


@pytest.mark.parametrize("raw", [b"{", b"title=x", b"[]", b"null", b"", b'{"title": "x",}'])
def test_bad_json_rfc_is_422(client, factory, team, db, raw):
    headers = factory.auth(team.officer) | {"Content-Type": "application/json"}
    before = db.counts()
    clear_4xx(client.post(f"/api/v1/projects/{team.code}/rfcs", content=raw, headers=headers), 422)
    unchanged(before, db.counts())


def test_one_megabyte_description_is_refused(client, factory, team, db):
    before = db.counts()
    r = client.post(
        f"/api/v1/projects/{team.code}/rfcs",
        json=RFC | {"description": "x" * 1_000_000},
        headers=factory.auth(team.officer),
    )
    assert r.status_code in (413, 422), r.text
    assert r.json()["detail"]
    unchanged(before, db.counts())


def test_streamed_oversized_body_is_413(client, factory, team, db):
    """Without Content-Length (chunked), the middleware must still answer 413."""
    payload = json.dumps(RFC | {"description": "x" * 1_000_000}).encode()

    def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(payload), 64 * 1024):
            yield payload[i : i + 64 * 1024]

    before = db.counts()
    headers = factory.auth(team.officer) | {"Content-Type": "application/json"}
    r = client.post(f"/api/v1/projects/{team.code}/rfcs", content=chunks(), headers=headers)
    unchanged(before, db.counts())
    assert r.status_code == 413, r.text


def test_declared_oversized_body_is_413_before_auth(client, db):
    before = db.counts()
    r = client.post(
        "/api/v1/projects/CSE/rfcs",
        content=b"x" * (256 * 1024 + 1),
        headers={"Content-Type": "application/json"},
    )
    clear_4xx(r, 413)
    unchanged(before, db.counts())


@pytest.mark.parametrize("code", ["NOPE", "cse", "P1-", "ZZ9"])
def test_rfc_on_unknown_project_is_404(client, factory, team, db, code):
    before = db.counts()
    r = client.post(f"/api/v1/projects/{code}/rfcs", json=RFC, headers=factory.auth(team.officer))
    clear_4xx(r, 404)
    unchanged(before, db.counts())


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/CSE'%20OR%20'1'='1/rfcs",
        "/api/v1/projects/CSE%3B%20DROP%20TABLE%20rfc/rfcs",
        "/api/v1/projects/%27%29%3B--/rfcs",
        "/api/v1/projects/" + "A" * 21 + "/rfcs",
    ],
)
def test_sql_looking_project_code_in_path_is_422(client, factory, team, db, path):
    before = db.counts()
    headers = factory.auth(team.officer)
    clear_4xx(client.post(path, json=RFC, headers=headers), 422)
    clear_4xx(client.get(path, headers=headers), 422)
    unchanged(before, db.counts())


@pytest.mark.parametrize(
    "rfc_id",
    ["1%20OR%201=1", "1;DROP%20TABLE%20rfc", "0", "-1", str(2**31), "1e3", "abc", "1%27--"],
)
def test_bad_rfc_id_in_path_is_422(client, factory, team, db, rfc_id):
    factory.in_status(team, "draft")
    before = db.counts()
    headers = factory.auth(team.officer)
    for method, suffix in [
        ("get", ""),
        ("patch", ""),
        ("post", "/submit"),
        ("post", "/impact"),
        ("post", "/decision"),
        ("post", "/withdraw"),
    ]:
        r = client.request(method, f"/api/v1/rfcs/{rfc_id}{suffix}", json={}, headers=headers)
        clear_4xx(r, 422)
    unchanged(before, db.counts())


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"title": "x"}),
        ("post", "/submit", None),
        ("post", "/impact", MAJOR),
        ("post", "/decision", {"decision": "approve"}),
        ("post", "/withdraw", None),
    ],
)
def test_unknown_rfc_is_404(client, factory, team, db, method, suffix, body):
    before = db.counts()
    r = client.request(
        method, f"/api/v1/rfcs/999999{suffix}", json=body, headers=factory.auth(team.manager)
    )
    clear_4xx(r, 404)
    unchanged(before, db.counts())


HOSTILE = [
    "<script>alert('x')</script>",
    "Robert'); DROP TABLE rfc;--",
    "' OR '1'='1",
    "{{ 7*7 }} {% raw %}",
    "ümlaut – “quotes” 😀",
    "<img src=x onerror=alert(1)>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_stored_and_returned_verbatim(client, factory, team, db, text):
    headers = factory.auth(team.officer)
    r = client.post(
        f"/api/v1/projects/{team.code}/rfcs",
        json=RFC | {"title": text, "description": text, "expected_benefits": text},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    got = client.get(f"/api/v1/rfcs/{r.json()['id']}", headers=headers)
    assert got.status_code == 200
    body = got.json()
    assert body["title"] == text.strip() and body["description"] == text
    assert body["expected_benefits"] == text
    assert db.counts()["rfc"] == 1  # the table is still there, with exactly this row


def test_script_is_escaped_in_pages(client, factory, team, db):
    """The same stored text is escaped on the RFC page and the sponsor's approval page."""
    script = "<script>alert('x')</script>"
    rfc = factory.rfc(team, title=script, description=script, expected_benefits=script)
    rfc = factory.submit(rfc, team.officer)
    factory.impact(rfc, team.manager, recommendation=script, products_affected=script)
    client.cookies.set("signoff_session", factory.sign_in(team.officer))
    page = client.get(f"/rfcs/{rfc.id}")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(" in page.text
    assert script not in page.text
    printable = client.get(f"/rfcs/{rfc.id}/print")
    assert printable.status_code == 200 and script not in printable.text
    link = factory.raw_link(db.tokens(rfc.id)[-1])
    client.cookies.clear()
    approval = client.get(f"/approvals/{link}")
    assert approval.status_code == 200
    assert "&lt;script&gt;alert(" in approval.text and script not in approval.text


def test_sql_in_a_page_filter_is_harmless(client, factory, team, db):
    admin = factory.admin()
    factory.in_status(team, "awaiting_approval")
    client.cookies.set("signoff_session", factory.sign_in(admin))
    before = db.counts()
    for status in ("sent' OR '1'='1", "queued; DROP TABLE outbox_message;--", "queued"):
        r = client.get("/admin/outbox", params={"status": status})
        assert r.status_code == 200, r.text
    assert db.counts() == before


# --- submit ----------------------------------------------------------------------------------


def test_submit_opens_impact_analysis_and_tells_the_pm(client, factory, team, db):
    rfc = factory.rfc(team)
    r = client.post(f"/api/v1/rfcs/{rfc.id}/submit", headers=factory.auth(team.officer))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "id": rfc.id,
        "ref": rfc.ref,
        "status": "impact_analysis",
        "version": 2,
        "classification": None,
    }
    tasks = db.tasks(rfc.id)
    assert [(t.kind, t.owner_id, t.closed_at) for t in tasks] == [
        ("impact_analysis", team.manager.id, None)
    ]
    mails = db.outbox(rfc_id=rfc.id)
    assert [(m.template, m.to_person_id) for m in mails] == [("rfc_submitted", team.manager.id)]


def test_submit_twice_is_409_and_writes_only_a_refusal(client, factory, team, db):
    rfc = factory.rfc(team)
    headers = factory.auth(team.officer)
    assert client.post(f"/api/v1/rfcs/{rfc.id}/submit", headers=headers).status_code == 200
    before = db.counts()
    clear_4xx(client.post(f"/api/v1/rfcs/{rfc.id}/submit", headers=headers), 409)
    unchanged(before, db.counts(), refused=1)
    assert db.rfc(rfc.id).version == 2


# --- impact analysis and classification -----------------------------------------------------


@pytest.mark.parametrize(
    ("tolerance", "impact", "classification"),
    [
        (0, {}, "minor"),
        (0, {"cost_pence": 1}, "major"),
        (0, {"extends_timescale": True}, "major"),
        (0, {"needs_extra_resources": True}, "major"),
        (10_000, {"cost_pence": 10_000}, "minor"),
        (10_000, {"cost_pence": 10_001}, "major"),
        (10_000, {"cost_pence": 9_999, "extends_timescale": True}, "major"),
        (
            10_000,
            {"cost_pence": 0, "needs_extra_resources": True, "extends_timescale": True},
            "major",
        ),
    ],
)
def test_classification(client, factory, db, tolerance, impact, classification):
    team = factory.team(tolerance=tolerance)
    rfc = factory.in_status(team, "impact_analysis")
    r = client.post(
        f"/api/v1/rfcs/{rfc.id}/impact", json=MINOR | impact, headers=factory.auth(team.manager)
    )
    assert r.status_code == 200, r.text
    assert r.json()["classification"] == classification
    assert r.json()["status"] == "awaiting_approval"
    row = db.rfc(rfc.id)
    assert row.classification == classification
    expected_approver = team.sponsor if classification == "major" else team.manager
    assert row.approver_id == expected_approver.id
    assert row.impact_by_id == team.manager.id
    templates = [
        (m.template, m.to_person_id)
        for m in db.outbox(rfc_id=rfc.id)
        if m.template != "rfc_submitted"
    ]
    if classification == "major":
        assert templates == [("approval_request", team.sponsor.id)]
        assert [t.person_id for t in db.tokens(rfc.id)] == [team.sponsor.id]
    else:  # the PM decides in the app: no link and no email to themselves
        assert templates == [] and db.tokens(rfc.id) == []
    open_tasks = [(t.kind, t.owner_id) for t in db.tasks(rfc.id) if t.closed_at is None]
    assert open_tasks == [("decision", expected_approver.id)]


@pytest.mark.parametrize(
    "change",
    [
        {"days_of_work": None},
        {"cost_pence": None},
        {"extends_timescale": None},
        {"needs_extra_resources": None},
        {"recommendation": None},
        {"recommendation": ""},
        {"days_of_work": -1},
        {"days_of_work": 10_001},
        {"days_of_work": "ten"},
        {"cost_pence": -1},
        {"cost_pence": 1.5},
        {"cost_pence": "100x"},
        {"cost_pence": 10**12 + 1},
        {"extends_timescale": "maybe"},
        {"needs_extra_resources": 2},
        {"products_affected": "p" * 10_001},
        {"recommendation": "nul\x00"},
    ],
    ids=case_id,
)
def test_malformed_impact_is_422(client, factory, team, db, change):
    rfc = factory.in_status(team, "impact_analysis")
    body = {k: v for k, v in (MAJOR | change).items() if v is not None}
    before = db.counts()
    clear_4xx(
        client.post(f"/api/v1/rfcs/{rfc.id}/impact", json=body, headers=factory.auth(team.manager)),
        422,
    )
    unchanged(before, db.counts())
    assert db.rfc(rfc.id).status == "impact_analysis"


NON_FINITE = (
    b'{"days_of_work": %s, "cost_pence": 0, "extends_timescale": false, '
    b'"needs_extra_resources": false, "recommendation": "r"}'
)


@pytest.mark.parametrize(
    "raw", [NON_FINITE % b"NaN", NON_FINITE % b"Infinity", NON_FINITE % b"-Infinity"]
)
def test_non_finite_days_are_refused(client, factory, team, db, raw):
    rfc = factory.in_status(team, "impact_analysis")
    before = db.counts()
    headers = factory.auth(team.manager) | {"Content-Type": "application/json"}
    clear_4xx(client.post(f"/api/v1/rfcs/{rfc.id}/impact", content=raw, headers=headers), 422)
    unchanged(before, db.counts())


def test_large_cost_is_stored_never_a_500(client, factory, team, db):
    """ImpactInput accepts up to 10**12 pence; the rfc.cost_pence column must hold it (64-bit)."""
    rfc = factory.in_status(team, "impact_analysis")
    r = client.post(
        f"/api/v1/rfcs/{rfc.id}/impact",
        json=MAJOR | {"cost_pence": 5_000_000_000},
        headers=factory.auth(team.manager),
    )
    assert r.status_code == 200, r.text
    assert db.rfc(rfc.id).cost_pence == 5_000_000_000


@pytest.mark.parametrize("who", ["officer", "sponsor", "alternate", "stranger"])
def test_impact_by_non_pm_is_403(client, factory, team, db, who):
    rfc = factory.in_status(team, "impact_analysis")
    before = db.counts()
    r = client.post(
        f"/api/v1/rfcs/{rfc.id}/impact", json=MAJOR, headers=factory.auth(getattr(team, who))
    )
    if who == "stranger":  # not one of the project's people: the RFC does not exist for them
        clear_4xx(r, 404)
    else:
        clear_4xx(r, 403)
        assert "Project Manager" in r.json()["detail"]
    unchanged(before, db.counts(), refused=1)


@pytest.mark.parametrize("status", ["draft", "approved", "rejected", "withdrawn"])
def test_impact_out_of_order_is_409(client, factory, team, db, status):
    rfc = factory.in_status(team, status)
    before = db.counts()
    clear_4xx(
        client.post(
            f"/api/v1/rfcs/{rfc.id}/impact", json=MAJOR, headers=factory.auth(team.manager)
        ),
        409,
    )
    unchanged(before, db.counts(), refused=1)


def test_impact_recorded_again_reissues_the_link(client, factory, team, db):
    rfc = factory.in_status(team, "awaiting_approval")
    first = db.tokens(rfc.id)
    r = client.post(
        f"/api/v1/rfcs/{rfc.id}/impact",
        json=MAJOR | {"days_of_work": 30},
        headers=factory.auth(team.manager),
    )
    assert r.status_code == 200 and r.json()["version"] == rfc.version + 1
    tokens = db.tokens(rfc.id)
    assert len(tokens) == 2 and tokens[0].revoked_at is not None and tokens[1].revoked_at is None
    assert tokens[1].subject_version == rfc.version + 1 and first[0].id == tokens[0].id
    requests = db.outbox(rfc_id=rfc.id, template="approval_request")
    assert [m.action_token_id for m in requests] == [t.id for t in tokens]


# --- self-approval ---------------------------------------------------------------------------


def test_sponsor_raised_major_change_goes_to_the_alternate(client, factory, team, db):
    rfc = factory.in_status(team, "impact_analysis", requester=team.sponsor)
    r = client.post(f"/api/v1/rfcs/{rfc.id}/impact", json=MAJOR, headers=factory.auth(team.manager))
    assert r.status_code == 200, r.text
    row = db.rfc(rfc.id)
    assert row.classification == "major" and row.approver_id == team.alternate.id
    assert [
        (m.template, m.to_person_id) for m in db.outbox(rfc_id=rfc.id, template="approval_request")
    ] == [("approval_request", team.alternate.id)]
    before = db.counts()
    r = client.post(
        f"/api/v1/rfcs/{rfc.id}/decision",
        json={"decision": "approve"},
        headers=factory.auth(team.sponsor),
    )
    clear_4xx(r, 403)
    unchanged(before, db.counts(), refused=1)
    r = client.post(
        f"/api/v1/rfcs/{rfc.id}/decision",
        json={"decision": "approve"},
        headers=factory.auth(team.alternate),
    )
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert db.rfc(rfc.id).decided_by_id == team.alternate.id


def test_sponsor_raised_major_change_without_alternate_is_refused(client, factory, db):
    team = factory.team(alternate=False)
    rfc = factory.in_status(team, "impact_analysis", requester=team.sponsor)
    before = db.counts()
    r = client.post(f"/api/v1/rfcs/{rfc.id}/impact", json=MAJOR, headers=factory.auth(team.manager))
    clear_4xx(r, 422)
    assert "alternate approver" in r.json()["detail"]
    assert "sponsor" in r.json()["detail"]
    unchanged(before, db.counts(), refused=1)
    row = db.rfc(rfc.id)
    assert (row.status, row.approver_id, row.classification) == ("impact_analysis", None, None)
    # A minor change on the same RFC is the PM's own decision: no self-approval involved.
    r = client.post(f"/api/v1/rfcs/{rfc.id}/impact", json=MINOR, headers=factory.auth(team.manager))
    assert r.status_code == 200 and db.rfc(rfc.id).approver_id == team.manager.id


@pytest.mark.parametrize(
    ("who", "status", "code"), [("stranger", "impact_analysis", 404), ("manager", "draft", 409)]
)
def test_no_alternate_refusal_comes_after_permission_and_state(
    client, factory, db, who, status, code
):
    team = factory.team(alternate=False)
    rfc = factory.in_status(team, status, requester=team.sponsor)
    before = db.counts()
    r = client.post(
        f"/api/v1/rfcs/{rfc.id}/impact", json=MAJOR, headers=factory.auth(getattr(team, who))
    )
    unchanged(before, db.counts(), refused=1)
    assert r.status_code == code, r.text


def test_pm_raised_minor_change_goes_to_the_sponsor(client, factory, team, db):
    rfc = factory.in_status(team, "impact_analysis", requester=team.manager)
    r = client.post(f"/api/v1/rfcs/{rfc.id}/impact", json=MINOR, headers=factory.auth(team.manager))
    assert r.status_code == 200 and r.json()["classification"] == "minor"
    assert db.rfc(rfc.id).approver_id == team.sponsor.id
    before = db.counts()
    clear_4xx(
        client.post(
            f"/api/v1/rfcs/{rfc.id}/decision",
            json={"decision": "approve"},
            headers=factory.auth(team.manager),
        ),
        403,
    )
    unchanged(before, db.counts(), refused=1)


def test_requester_cannot_decide_own_rfc(client, factory, team, db):
    rfc = factory.in_status(team, "awaiting_approval")
    before = db.counts()
    for decision in ("approve", "reject"):
        clear_4xx(
            client.post(
                f"/api/v1/rfcs/{rfc.id}/decision",
                json={"decision": decision, "reason": "mine"},
                headers=factory.auth(team.officer),
            ),
            403,
        )
    unchanged(before, db.counts(), refused=2)
    assert db.rfc(rfc.id).decided_by_id is None


# --- decision --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "reason", "status"),
    [
        ("approve", "", "approved"),
        ("approve", "Fine.", "approved"),
        ("reject", "Too costly.", "rejected"),
    ],
)
def test_pm_decides_a_minor_change(client, factory, team, db, decision, reason, status):
    rfc = factory.in_status(team, "awaiting_approval", major=False)
    r = client.post(
        f"/api/v1/rfcs/{rfc.id}/decision",
        json={"decision": decision, "reason": reason},
        headers=factory.auth(team.manager),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == status
    row = db.rfc(rfc.id)
    assert (row.decided_by_id, row.decision_reason) == (team.manager.id, reason)
    told = {m.to_person_id for m in db.outbox(rfc_id=rfc.id, template="rfc_decided")}
    assert told == {team.officer.id, team.manager.id, team.sponsor.id}
    assert all(t.closed_at is not None for t in db.tasks(rfc.id))
    assert db.tasks(rfc.id)[-1].outcome == status


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"decision": "maybe"},
        {"decision": None},
        {"decision": "APPROVE"},
        {"decision": ["approve"]},
        {"decision": "reject"},
        {"decision": "reject", "reason": "   "},
        {"decision": "approve", "reason": "r" * 10_001},
        {"decision": "approve", "reason": 5},
    ],
)
def test_malformed_decision_is_422(client, factory, team, db, body):
    rfc = factory.in_status(team, "awaiting_approval", major=False)
    before = db.counts()
    clear_4xx(
        client.post(
            f"/api/v1/rfcs/{rfc.id}/decision", json=body, headers=factory.auth(team.manager)
        ),
        422,
    )
    unchanged(before, db.counts())
    assert db.rfc(rfc.id).status == "awaiting_approval"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("draft", 403),
        ("impact_analysis", 403),
        ("approved", 409),
        ("rejected", 409),
        ("withdrawn", 403),
    ],
)
def test_decide_out_of_order_is_refused(client, factory, team, db, status, code):
    """The PM decided this minor change (409 now it is decided); before the impact analysis
    named them approver they are not the approver at all (403, permission before state)."""
    rfc = factory.in_status(team, status, major=False)
    before = db.counts()
    clear_4xx(
        client.post(
            f"/api/v1/rfcs/{rfc.id}/decision",
            json={"decision": "approve"},
            headers=factory.auth(team.manager),
        ),
        code,
    )
    unchanged(before, db.counts(), refused=1)


def test_decide_twice_is_409(client, factory, team, db):
    rfc = factory.in_status(team, "awaiting_approval", major=False)
    headers = factory.auth(team.manager)
    assert (
        client.post(
            f"/api/v1/rfcs/{rfc.id}/decision", json={"decision": "approve"}, headers=headers
        ).status_code
        == 200
    )
    before = db.counts()
    clear_4xx(
        client.post(
            f"/api/v1/rfcs/{rfc.id}/decision",
            json={"decision": "reject", "reason": "changed my mind"},
            headers=headers,
        ),
        409,
    )
    unchanged(before, db.counts(), refused=1)
    assert db.rfc(rfc.id).status == "approved"


# --- withdraw --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "who", "told"),
    [
        ("draft", "officer", set()),
        ("impact_analysis", "officer", {"manager"}),
        ("awaiting_approval", "officer", {"manager", "sponsor"}),
        ("awaiting_approval", "manager", {"officer", "sponsor"}),
    ],
)
def test_withdraw(client, factory, team, db, status, who, told):
    rfc = factory.in_status(team, status)
    r = client.post(f"/api/v1/rfcs/{rfc.id}/withdraw", headers=factory.auth(getattr(team, who)))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    notified = {m.to_person_id for m in db.outbox(rfc_id=rfc.id, template="rfc_withdrawn")}
    assert notified == {getattr(team, p).id for p in told}
    assert all(t.revoked_at is not None for t in db.tokens(rfc.id))
    assert all(t.closed_at is not None for t in db.tasks(rfc.id))


def test_withdraw_twice_and_by_a_stranger(client, factory, team, db):
    rfc = factory.in_status(team, "impact_analysis")
    before = db.counts()
    clear_4xx(
        client.post(f"/api/v1/rfcs/{rfc.id}/withdraw", headers=factory.auth(team.stranger)), 404
    )
    clear_4xx(
        client.post(f"/api/v1/rfcs/{rfc.id}/withdraw", headers=factory.auth(team.sponsor)), 403
    )
    unchanged(before, db.counts(), refused=2)
    headers = factory.auth(team.officer)
    assert client.post(f"/api/v1/rfcs/{rfc.id}/withdraw", headers=headers).status_code == 200
    before = db.counts()
    clear_4xx(client.post(f"/api/v1/rfcs/{rfc.id}/withdraw", headers=headers), 409)
    unchanged(before, db.counts(), refused=1)


# --- PATCH -----------------------------------------------------------------------------------


def test_edit_bumps_the_version(client, factory, team, db):
    rfc = factory.rfc(team)
    headers = factory.auth(team.officer)
    r = client.patch(
        f"/api/v1/rfcs/{rfc.id}", json={"title": "A better title", "version": 1}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["status"] == "draft"
    r = client.patch(f"/api/v1/rfcs/{rfc.id}", json={"issue_log_no": None}, headers=headers)
    assert r.status_code == 422  # issue_log_no is already empty: nothing to change
    r = client.patch(
        f"/api/v1/rfcs/{rfc.id}", json={"issue_log_no": 7, "description": "New."}, headers=headers
    )
    assert r.status_code == 200 and r.json()["version"] == 3
    row = db.rfc(rfc.id)
    assert (row.title, row.description, row.issue_log_no) == ("A better title", "New.", 7)
    edits = db.audit(rfc.id, action="edit")
    assert [e.detail for e in edits] == ["changed title", "changed description, issue_log_no"]


def test_edit_while_awaiting_approval_reissues_the_link(client, factory, team, db):
    rfc = factory.in_status(team, "awaiting_approval")
    r = client.patch(
        f"/api/v1/rfcs/{rfc.id}",
        json={"description": "Clarified."},
        headers=factory.auth(team.officer),
    )
    assert r.status_code == 200 and r.json()["status"] == "awaiting_approval"
    tokens = db.tokens(rfc.id)
    assert [t.revoked_at is None for t in tokens] == [False, True]
    assert tokens[-1].subject_version == r.json()["version"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"version": 1},
        {"title": ""},
        {"title": 3},
        {"title": "a\r\nBcc: x@evil.example"},
        {"title": "T" * 201},
        {"description": "d" * 10_001},
        {"version": 0},
        {"version": 2**63},
        {"version": "one"},
        {"issue_log_no": "x"},
    ],
)
def test_malformed_edit_is_422(client, factory, team, db, body):
    rfc = factory.rfc(team)
    before = db.counts()
    clear_4xx(
        client.patch(f"/api/v1/rfcs/{rfc.id}", json=body, headers=factory.auth(team.officer)), 422
    )
    unchanged(before, db.counts())


def test_edit_oversized_is_refused(client, factory, team, db):
    rfc = factory.rfc(team)
    before = db.counts()
    r = client.patch(
        f"/api/v1/rfcs/{rfc.id}",
        json={"description": "x" * 1_000_000},
        headers=factory.auth(team.officer),
    )
    assert r.status_code in (413, 422)
    unchanged(before, db.counts())


def test_stale_edit_is_409_with_a_refusal(client, factory, team, db):
    rfc = factory.rfc(team)
    factory.edit(rfc, team.officer, title="Someone else's edit")
    before = db.counts()
    r = client.patch(
        f"/api/v1/rfcs/{rfc.id}",
        json={"title": "Mine", "version": 1},
        headers=factory.auth(team.officer),
    )
    clear_4xx(r, 409)
    unchanged(before, db.counts(), refused=1)
    assert db.rfc(rfc.id).title == "Someone else's edit"


@pytest.mark.parametrize(
    ("status", "who", "code"),
    [
        ("draft", "manager", 403),
        ("draft", "stranger", 404),
        ("impact_analysis", "sponsor", 403),
        ("approved", "officer", 409),
        ("rejected", "manager", 409),
        ("withdrawn", "officer", 409),
    ],
)
def test_edit_refused(client, factory, team, db, status, who, code):
    rfc = factory.in_status(team, status)
    before = db.counts()
    clear_4xx(
        client.patch(
            f"/api/v1/rfcs/{rfc.id}",
            json={"title": "Sneaky change"},
            headers=factory.auth(getattr(team, who)),
        ),
        code,
    )
    unchanged(before, db.counts(), refused=1)
    assert db.rfc(rfc.id).title != "Sneaky change"


# --- GET -------------------------------------------------------------------------------------


def test_get_shows_status_classification_version_and_history(client, factory, team):
    rfc = factory.in_status(team, "approved")
    r = client.get(f"/api/v1/rfcs/{rfc.id}", headers=factory.auth(team.officer))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["classification"], body["version"]) == ("approved", "major", 4)
    assert body["requester"] == team.officer.name and body["decided_by"] == team.sponsor.name
    assert body["approver"] == team.sponsor.name and body["project_code"] == team.code
    history = [
        (h["action"], h["from_status"], h["to_status"], h["version"], h["outcome"], h["actor"])
        for h in body["history"]
    ]
    assert history == [
        ("create", "", "draft", 1, "ok", team.officer.name),
        ("submit", "draft", "impact_analysis", 2, "ok", team.officer.name),
        ("record_impact", "impact_analysis", "awaiting_approval", 3, "ok", team.manager.name),
        ("approve", "awaiting_approval", "approved", 4, "ok", team.sponsor.name),
    ]


@pytest.mark.parametrize("who", ["officer", "manager", "sponsor", "alternate"])
def test_people_involved_can_read_the_rfc(client, factory, team, who):
    rfc = factory.in_status(team, "awaiting_approval")
    r = client.get(f"/api/v1/rfcs/{rfc.id}", headers=factory.auth(getattr(team, who)))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == rfc.id


def test_outsider_cannot_read_an_rfc(client, factory, team):
    rfc = factory.in_status(team, "draft")
    r = client.get(f"/api/v1/rfcs/{rfc.id}", headers=factory.auth(team.stranger))
    clear_4xx(r, 404)
    other = factory.team()
    r = client.get(f"/api/v1/rfcs/{rfc.id}", headers=factory.auth(other.manager))
    clear_4xx(r, 404)
    admin = client.get(f"/api/v1/rfcs/{rfc.id}", headers=factory.auth(factory.admin()))
    assert admin.status_code == 200


def test_list_rfcs_of_a_project(client, factory, team):
    first = factory.rfc(team)
    second = factory.in_status(team, "impact_analysis")
    r = client.get(f"/api/v1/projects/{team.code}/rfcs", headers=factory.auth(team.officer))
    assert r.status_code == 200
    assert [(x["id"], x["status"]) for x in r.json()["items"]] == [
        (second.id, "impact_analysis"),
        (first.id, "draft"),
    ]
    assert r.json()["next_cursor"] is None


def test_history_includes_refused_attempts(client, factory, team):
    rfc = factory.rfc(team)
    clear_4xx(
        client.post(f"/api/v1/rfcs/{rfc.id}/submit", headers=factory.auth(team.stranger)), 404
    )  # an outsider's attempt is refused as "no such RFC", and still recorded
    body = client.get(f"/api/v1/rfcs/{rfc.id}", headers=factory.auth(team.officer)).json()
    refused = [h for h in body["history"] if h["outcome"] == "refused"]
    assert len(refused) == 1
    assert (refused[0]["action"], refused[0]["actor"], refused[0]["from_status"]) == (
        "submit",
        team.stranger.name,
        "draft",
    )
    assert refused[0]["address"] == "testclient" and refused[0]["detail"]


# --- time: London dates, working days -----------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "london_date"),
    [
        ("2026-06-30T23:30:00+00:00", "2026-07-01"),  # BST: already tomorrow in London
        ("2026-12-31T23:30:00+00:00", "2026-12-31"),  # GMT: still today
    ],
)
def test_raised_on_is_the_date_in_london(client, factory, team, db, instant, london_date):
    from datetime import datetime

    from core.clock import frozen

    headers = factory.auth(team.officer)
    with frozen(datetime.fromisoformat(instant)):
        r = client.post(f"/api/v1/projects/{team.code}/rfcs", json=RFC, headers=headers)
    assert r.status_code == 201
    assert client.get(f"/api/v1/rfcs/{r.json()['id']}", headers=headers).json()["raised_on"] == (
        london_date
    )


def test_impact_task_is_due_five_working_days_later_skipping_christmas(factory, team, db):
    from datetime import date, datetime

    from core.clock import frozen

    rfc = factory.rfc(team)
    with frozen(datetime.fromisoformat("2026-12-24T10:00:00+00:00")):
        factory.submit(rfc, team.officer)
    (task,) = db.tasks(rfc.id)
    # 25 Dec and 28 Dec (Boxing Day substitute) and 1 Jan are bank holidays; weekends skipped.
    assert task.due_on == date(2027, 1, 5)


def test_concurrent_raises_get_distinct_numbers(client, factory, team, db):
    import threading

    headers = factory.auth(team.officer)
    barrier = threading.Barrier(6)
    answers: list = []

    def raise_one(i: int) -> None:
        barrier.wait()
        answers.append(
            client.post(
                f"/api/v1/projects/{team.code}/rfcs",
                json=RFC | {"title": f"Parallel {i}"},
                headers=headers,
            )
        )

    threads = [threading.Thread(target=raise_one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r.status_code for r in answers] == [201] * 6
    refs = sorted(r.json()["ref"] for r in answers)
    assert refs == [f"{team.code}-RFC-{n:03d}" for n in range(1, 7)]
    assert db.counts()["rfc"] == 6


@pytest.mark.parametrize("field", ["name", "objective"])
def test_nul_in_project_text_is_refused_or_kept_never_a_500(
    client, factory, team, db, backend, request, field
):
    before = db.counts()
    r = client.post(
        "/api/v1/projects",
        json=project_body(team, **{field: "Web\x00site"}),
        headers=factory.auth(factory.admin()),
    )
    assert r.status_code in (201, 422), r.text
    if r.status_code == 201:
        assert r.json()[field] == "Web\x00site"
    else:
        unchanged(before, db.counts())
