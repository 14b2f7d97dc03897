"""The performance JSON API: scorecards, the RAG summary, measures and their figures, entering
a figure and overriding its colours, as each kind of caller, with good and hostile input.

The data is the council's own: data/ccs_people.csv and the CCS scorecard for December 2009
(data/scorecard_ccs_2009-10_q3.csv), imported through the services the CLI uses. What a test
expects of the file is read from it with the csv module. Requests run on 20 January 2010.
Every refusal is a problem+json 4xx and changes no row of any table (db.snapshot()).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select
from support.ids import case_id
from support.performance import at, card_rows, file_rows, import_card, import_people, registered

from core import clock
from core.db import read_session

CARD = "/api/v1/scorecards/CCS-0910"
TODAY = at("2010-01-20", "10:00")
READER = "Steve Hampson"  # on no measure of the scorecard
DATA_SOURCE = "Neil Weston"  # the data source of NI016, PA1, NI017 and NI021
RESPONSIBLE = "Gemma Barron"  # their responsible officer
OTHER_OFFICER = "Georgina Hayward"  # both officers of the Communications measures only


def figure_url(measure: str = "NI016", period: str = "2009-12") -> str:
    return f"{CARD}/measures/{measure}/figures/{period}"


def override_url(measure: str = "NI017", period: str = "2009-03") -> str:
    return figure_url(measure, period) + "/override"


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


@pytest.fixture
def today():  # type: ignore[no-untyped-def]
    with clock.frozen(TODAY):
        yield


@pytest.fixture
def sample(env: Any, today: None) -> dict[str, Any]:
    """The people and the whole scorecard file, imported on 31 December 2009."""
    with clock.frozen(at("2009-12-31", "12:00")):
        import_people()
        import_card()
    return registered()


@pytest.fixture
def opened(env: Any, factory: Any, today: None) -> dict[str, Any]:
    """As `sample` but without Neil Weston's December figures (PA1 and NI016), and December's
    returns opened on 4 January 2010: Neil Weston's (PA1, NI016), Gemma Barron's (SX057)."""
    from services.performance import chasing

    with clock.frozen(at("2009-12-31", "12:00")):
        import_people()
        import_card(card_rows(blank=(DATA_SOURCE,)))
    with clock.frozen(at("2010-01-04")):
        assert factory.call(chasing.open_period, period="2009-12") == 2
    return registered()


@pytest.fixture
def auth(factory: Any):  # type: ignore[no-untyped-def]
    """Headers with a fresh API token of the person named (or of an administrator)."""

    def headers(name: str | None = None) -> dict[str, str]:
        return factory.auth(registered()[name] if name else factory.admin())

    return headers


# --- the RAG summary against the file ------------------------------------------------------


def _colour(value: str, target: str, polarity: str) -> str:
    """The council's rule, written out again: on target GREEN, within 10% of it AMBER."""
    if not value.strip() or not target.strip():
        return "grey"
    v, t = Decimal(value), Decimal(target)
    miss = t - v if polarity == "higher" else v - t
    if miss <= 0:
        return "green"
    return "amber" if miss <= abs(t) / 10 else "red"


def _expected_summary() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    aims: dict[str, dict[str, Any]] = {}
    for row in file_rows():
        tally = aims.setdefault(
            row["aim"], {"measures": 0, "current": Counter(), "projected": Counter()}
        )
        tally["measures"] += 1
        tally["current"][_colour(row["actual"], row["target"], row["polarity"])] += 1
        projected = _colour(row["estimate"], row["year_end_target"], row["polarity"])
        tally["projected"][projected] += 1

    def counts(counter: Counter[str]) -> dict[str, int]:
        return {c: counter[c] for c in ("green", "amber", "red", "grey")}

    shown = [
        {"aim": aim, "measures": t["measures"]}
        | {k: counts(t[k]) for k in ("current", "projected")}
        for aim, t in sorted(aims.items())
    ]
    total = {
        "measures": sum(t["measures"] for t in aims.values()),
        "current": counts(sum((t["current"] for t in aims.values()), Counter())),
        "projected": counts(sum((t["projected"] for t in aims.values()), Counter())),
    }
    return shown, total


def test_rag_summary_counts_the_files_colours(client, sample, auth):
    r = client.get(f"{CARD}/rag-summary", headers=auth(READER))
    assert r.status_code == 200, r.text
    body = r.json()
    aims, total = _expected_summary()
    assert body["period"] == "2009-12"  # the last period ended by 20 January 2010
    assert body["aims"] == aims
    assert body["total"] == total
    # Spelled out for one aim, so a wrong oracle cannot hide a wrong answer.
    communications = {"measures": 6, "current": {"green": 3, "amber": 0, "red": 3, "grey": 0}}
    communications["projected"] = {"green": 4, "amber": 0, "red": 2, "grey": 0}
    assert body["aims"][0] == {"aim": "Communications"} | communications
    assert set(body) == {"scorecard", "period", "aims", "total"}
    assert total["current"]["amber"] > 0 and total["current"]["grey"] > 0  # every colour met
    asked = client.get(f"{CARD}/rag-summary?period=2009-12", headers=auth(READER))
    assert asked.json() == body


def test_rag_summary_period_defaults_to_where_the_report_pages_open(client, sample, auth):
    """The last period ended (March 2010 on 30 April, the year's last), or, while no figure is
    in for it, the last period with figures in (December 2009): the newest picture there is."""
    headers = auth(READER)
    with clock.frozen(at("2010-04-30")):
        r = client.get(f"{CARD}/rag-summary", headers=headers)
        page = client.get(f"{CARD}/rag-summary?period=2010-03", headers=headers)
    assert r.status_code == 200 and r.json()["period"] == "2009-12"
    # No figures for March yet: asked for it, every quarterly measure is GREY there.
    quarterly = sum(1 for row in file_rows() if row["frequency"] == "quarterly")
    assert page.json()["period"] == "2010-03"
    assert page.json()["total"]["current"]["grey"] >= quarterly


@pytest.mark.parametrize(
    "query",
    [
        "period=2009-13",
        "period=2009-1",
        "period=December",
        "period=",
        "period=1999-12",
        "period=2009-12%27%20OR%201=1",
        "period=" + "9" * 50,
        "period=2009-12&colour=red",
    ],
)
def test_a_malformed_period_is_422_saying_what_a_period_is(client, sample, auth, query):
    body = problem(client.get(f"{CARD}/rag-summary?{query}", headers=auth(READER)), 422)
    field = body["errors"][0]["field"]
    assert field in ("period", "colour")
    if field == "period" and "at most" not in body["detail"]:
        assert "YYYY-MM" in body["detail"]


def test_api_colours_are_the_reports_colours(client, sample, auth):
    """Each measure's figure at December 2009 has the colours report.rows gives it."""
    from models.performance import Scorecard
    from services.performance import report

    measures = client.get(f"{CARD}/measures", headers=auth(READER)).json()["items"]
    with read_session() as s:
        card = s.exec(select(Scorecard)).one()
        rows = {r.measure.code: r for r in report.rows(s, scorecard=card, period="2009-12")}
    assert len(measures) == len(rows) == len(file_rows())
    for m in measures:
        row = rows[m["code"]]
        shown = [f for f in m["figures"] if f["period"] == row.period]
        if row.figure is None:
            assert shown == [], m["code"]
            continue
        (figure,) = shown
        assert figure["current"]["reported"] == row.current.reported, m["code"]
        assert figure["projected"]["reported"] == row.projected.reported, m["code"]


# --- reading measures ------------------------------------------------------------------------


def test_measures_show_officers_targets_and_figures(client, sample, auth):
    r = client.get(f"{CARD}/measures", headers=auth(READER))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scorecard"] == "CCS-0910"
    by_code = {m["code"]: m for m in body["items"]}
    file = {row["code"]: row for row in file_rows()}
    assert by_code.keys() == file.keys()
    assert [m["aim"] for m in body["items"]] == sorted(m["aim"] for m in body["items"])
    # NI027's data source is spelled "Phil Aldis": not matched, so no address.
    ni027 = by_code["NI027"]
    assert ni027["data_source_officer"] == {"name": "Phil Aldis", "email": None}
    assert ni027["responsible_officer"] == {
        "name": RESPONSIBLE,
        "email": "gemma.barron@scambs.example",
    }
    # A yearly measure's figure at December 2009 is March 2009's.
    sx056 = by_code["SX056"]
    assert sx056["targets"] == [{"period": "2009-03", "value": 75.0}]
    (figure,) = sx056["figures"]
    assert (figure["period"], figure["actual"], figure["estimate"]) == ("2009-03", 63.0, 63.0)
    assert figure["state"] == "entered" and figure["version"] == 1
    assert figure["current"] == {"computed": "red", "override": None, "reported": "red"}
    assert figure["first_entered_at"] == figure["entered_at"] == "2009-12-31T12:00:00Z"
    assert set(figure) >= {"ytd_actual", "commentary", "unavailable_reason", "override_reason"}
    assert by_code["NI016"]["figures"] == []  # no actual in the file
    one = client.get(f"{CARD}/measures/ACTION%2003", headers=auth(READER))
    assert one.status_code == 200 and one.json() == by_code["ACTION 03"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/scorecards/NOPE/rag-summary",
        "/api/v1/scorecards/ccs-0910/measures",
        "/api/v1/scorecards/NOPE/measures/NI016",
        f"{CARD}/measures/NOPE",
        f"{CARD}/measures/ni016",
        f"{CARD}/measures/NI016%27%20OR%201=1",
    ],
)
def test_unknown_scorecard_or_measure_is_404(client, sample, auth, path):
    problem(client.get(path, headers=auth(READER)), 404)


# --- who may do what ---------------------------------------------------------------------------

GOOD = {"actual": 2.5, "estimate": 10, "commentary": "Below the target: good."}
OVERRIDE = {"current": "amber", "reason": "The survey's margin of error covers the gap."}
ENDPOINTS = [
    ("get", "/api/v1/scorecards", None),
    ("get", f"{CARD}/rag-summary", None),
    ("get", f"{CARD}/measures", None),
    ("get", f"{CARD}/measures/NI016", None),
    ("put", figure_url(), GOOD),
    ("post", override_url(), OVERRIDE),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_needs_a_valid_token(client, db, sample, method, path, body):
    before = db.snapshot()
    for header in (
        None,
        "Bearer sgf_not-a-real-token-0123456789abcdef",
        "Bearer ' OR 1=1 --",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
    ):
        headers = {"Authorization": header} if header else {}
        r = client.request(method, path, json=body, headers=headers)
        problem(r, 401)
        assert r.headers["www-authenticate"] == "Bearer"
    assert db.snapshot() == before


def test_a_person_no_longer_active_is_refused(client, db, sample, auth):
    from sqlalchemy import update

    from core.db import write_session
    from models import Person

    headers = auth(READER)
    assert client.get("/api/v1/scorecards", headers=headers).status_code == 200
    with write_session() as s:
        s.execute(update(Person).where(Person.name == READER).values(active=False))
    problem(client.get("/api/v1/scorecards", headers=headers), 401)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS[:4])
@pytest.mark.parametrize("who", [READER, DATA_SOURCE, OTHER_OFFICER, None])
def test_every_token_holder_reads_everything(client, sample, auth, method, path, body, who):
    r = client.request(method, path, headers=auth(who))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("who", [READER, OTHER_OFFICER])
def test_someone_not_an_officer_of_the_measure_may_not_write(client, db, sample, auth, who):
    headers = auth(who)
    before = db.snapshot()
    body = problem(client.put(figure_url(), json=GOOD, headers=headers), 403)
    assert "data source officer" in body["detail"]
    body = problem(client.post(override_url(), json=OVERRIDE, headers=headers), 403)
    assert "responsible officer" in body["detail"]
    assert db.snapshot() == before


def test_the_data_source_officer_enters_but_may_not_override(client, db, sample, auth):
    headers = auth(DATA_SOURCE)
    r = client.put(figure_url(), json=GOOD, headers=headers)
    assert r.status_code == 201, r.text
    assert (r.json()["actual"], r.json()["version"], r.json()["state"]) == (2.5, 1, "entered")
    before = db.snapshot()
    problem(client.post(override_url(), json=OVERRIDE, headers=headers), 403)
    assert db.snapshot() == before


@pytest.mark.parametrize("who", [RESPONSIBLE, None])
def test_the_responsible_officer_and_the_performance_team_enter_and_override(
    client, db, sample, auth, who
):
    headers = auth(who)
    r = client.put(figure_url(), json=GOOD, headers=headers)
    assert r.status_code == 201, r.text
    revised = GOOD | {"actual": 2.4, "version": 1, "reason": "The police revised their count."}
    r = client.put(figure_url(), json=revised, headers=headers)
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["actual"] == 2.4
    r = client.post(override_url(), json=OVERRIDE, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["current"] == {"computed": "red", "override": "amber", "reported": "amber"}
    assert r.json()["override_reason"] == OVERRIDE["reason"]
    # The summary counts the override in place of the colour (NI017 is a Partnerships measure).
    summary = client.get(f"{CARD}/rag-summary", headers=headers).json()
    partnerships = next(a for a in summary["aims"] if a["aim"] == "Partnerships")
    before = next(a for a in _expected_summary()[0] if a["aim"] == "Partnerships")
    assert partnerships["current"]["amber"] == before["current"]["amber"] + 1
    assert partnerships["current"]["red"] == before["current"]["red"] - 1


def test_a_figure_is_stored_with_its_revisions(client, sample, auth):
    from models.performance import Figure, FigureRevision

    headers = auth(DATA_SOURCE)
    client.put(figure_url(), json=GOOD, headers=headers)
    revised = GOOD | {"actual": 2.4, "version": 1, "reason": "Recounted."}
    assert client.put(figure_url(), json=revised, headers=headers).status_code == 200
    with read_session() as s:
        figure = s.exec(
            select(Figure).where(Figure.period == "2009-12", Figure.actual == 2.4)
        ).one()
        revisions = s.exec(
            select(FigureRevision)
            .where(FigureRevision.figure_id == figure.id)
            .order_by(FigureRevision.id)
        ).all()
    neil = registered()[DATA_SOURCE].id
    assert [(r.version, r.actual, r.reason, r.by_id) for r in revisions] == [
        (1, 2.5, "", neil),
        (2, 2.4, "Recounted.", neil),
    ]
    assert figure.commentary == GOOD["commentary"] and figure.estimate == 10.0


# --- returns: the last figure in submits the officer's return ----------------------------------


def _return(name: str) -> Any:
    from models.performance import FigureReturn

    with read_session() as s:
        officer = registered()[name]
        return s.exec(select(FigureReturn).where(FigureReturn.officer_id == officer.id)).one()


def _chase_of(ret: Any) -> tuple[list[Any], list[Any], list[Any]]:
    from models import ActionToken, AuditEvent, Step

    def about(table: Any) -> Any:
        return select(table).where(
            table.subject_type == "figure_return", table.subject_id == ret.id
        )

    with read_session() as s:
        return (
            list(s.exec(about(Step))),
            list(s.exec(about(ActionToken))),
            list(s.exec(about(AuditEvent))),
        )


def test_the_last_figure_in_submits_the_return_as_the_page_does(client, db, opened, auth):
    headers = auth(DATA_SOURCE)
    first = client.put(figure_url("PA1"), json={"actual": 100, "estimate": 100}, headers=headers)
    assert first.status_code == 201 and first.json()["return_status"] == "open"
    assert _return(DATA_SOURCE).status == "open"
    last = client.put(figure_url(), json=GOOD, headers=headers)
    assert last.status_code == 201 and last.json()["return_status"] == "submitted"
    ret = _return(DATA_SOURCE)
    assert ret.status == "submitted" and ret.submitted_at == TODAY and ret.version == 2
    steps, links, events = _chase_of(ret)
    assert [(s.closed_at, s.outcome) for s in steps] == [(TODAY, "submitted")]  # chase stops
    assert links and all(t.revoked_at == TODAY for t in links)
    (event,) = events
    assert (event.action, event.from_status, event.to_status, event.outcome) == (
        "submit",
        "open",
        "submitted",
        "ok",
    )
    assert event.actor_id == registered()[DATA_SOURCE].id and "NI016" in event.detail
    # A revision afterwards leaves the submitted return alone.
    revised = GOOD | {"actual": 2.0, "version": 1, "reason": "Recounted."}
    again = client.put(figure_url(), json=revised, headers=headers)
    assert again.status_code == 200 and again.json()["return_status"] == "submitted"
    assert len(_chase_of(ret)[2]) == 1 and _return(DATA_SOURCE).version == 2
    assert _return(RESPONSIBLE).status == "open"  # another officer's return is untouched


@pytest.mark.parametrize("who", [RESPONSIBLE, None])
def test_the_return_is_submitted_whoever_enters_its_last_figure(client, opened, auth, who):
    headers = auth(who)
    for measure in ("PA1", "NI016"):
        body = {"actual": 100, "estimate": 100} if measure == "PA1" else GOOD
        assert client.put(figure_url(measure), json=body, headers=headers).status_code == 201
    ret = _return(DATA_SOURCE)
    assert ret.status == "submitted"
    (event,) = _chase_of(ret)[2]
    actor = registered()[who].id if who else None
    assert actor is None or event.actor_id == actor


def test_data_unavailable_counts_as_in(client, opened, auth):
    headers = auth(RESPONSIBLE)
    r = client.put(
        figure_url("SX057"),
        json={"unavailable": True, "unavailable_reason": "The partners have not reported."},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["state"], body["actual"], body["return_status"]) == (
        "unavailable",
        None,
        "submitted",
    )
    assert body["current"]["computed"] == body["projected"]["computed"] == "grey"


def test_a_refused_last_figure_leaves_the_return_open(client, db, opened, auth):
    headers, reader = auth(DATA_SOURCE), auth(READER)
    client.put(figure_url("PA1"), json={"actual": 100, "estimate": 100}, headers=headers)
    before = db.snapshot()
    problem(client.put(figure_url(), json={"actual": 5}, headers=headers), 422, field="commentary")
    problem(client.put(figure_url(), json=GOOD, headers=reader), 403)
    assert db.snapshot() == before and _return(DATA_SOURCE).status == "open"


# --- hostile and malformed figures --------------------------------------------------------------

HOSTILE = [
    ({"actual": "2.5"}, "actual"),
    ({"actual": "lots"}, "actual"),
    ({"actual": "NaN"}, "actual"),
    ({"actual": "Infinity"}, "actual"),
    (b'{"actual": NaN}', "actual"),
    (b'{"actual": Infinity}', "actual"),
    (b'{"actual": -Infinity}', "actual"),
    (b'{"actual": 1e309}', "actual"),
    (b'{"actual": 2, "estimate": 1e309}', "estimate"),
    (b'{"actual": 2, "ytd_actual": -1e309}', "ytd_actual"),
    ({"actual": 1e13}, "actual"),
    ({"actual": True}, "actual"),
    ({"actual": [2.5]}, "actual"),
    ({"actual": {"value": 2.5}}, "actual"),
    ({"actual": 101}, "actual"),
    ({"actual": -1}, "actual"),
    ({"actual": 2.1234567}, "actual"),
    ({"actual": 2, "estimate": 150}, "estimate"),
    ({}, "actual"),
    ({"ytd_actual": 5, "estimate": 10}, "actual"),
    ({"actual": 5}, "commentary"),
    ({"actual": 2, "estimate": 20}, "commentary"),
    ({"actual": 5, "commentary": "x" * 2001}, "commentary"),
    ({"actual": 2, "commentary": "bell\x07"}, "commentary"),
    ({"actual": 2, "commentary": "\u202egnp.exe"}, "commentary"),
    ({"actual": 2, "commentary": 5}, "commentary"),
    ({"actual": 2, "commentary": None}, "commentary"),
    ({"unavailable": True}, "unavailable_reason"),
    ({"unavailable": True, "unavailable_reason": "   "}, "unavailable_reason"),
    ({"unavailable": True, "unavailable_reason": "r" * 501}, "unavailable_reason"),
    ({"unavailable": "yes", "unavailable_reason": "None came."}, "unavailable"),
    ({"unavailable": 1, "unavailable_reason": "None came."}, "unavailable"),
    ({"actual": 2, "colour": "green"}, "colour"),
    ({"actual": 2, "entered_by_id": 1}, "entered_by_id"),
    ({"actual": 2, "version": 0}, "version"),
    ({"actual": 2, "version": 2**63}, "version"),
    ({"actual": 2, "version": "1"}, "version"),
    ({"actual": 2, "version": 1.5}, "version"),
    ({"actual": 2, "reason": "x\x00"}, "reason"),
]


@pytest.mark.parametrize(("body", "field"), HOSTILE, ids=case_id)
def test_a_hostile_figure_is_422_naming_the_field_and_changes_nothing(
    client, db, sample, auth, body, field
):
    headers = auth(DATA_SOURCE)
    before = db.snapshot()
    if isinstance(body, bytes):
        r = client.put(
            figure_url(), content=body, headers=headers | {"Content-Type": "application/json"}
        )
    else:
        r = client.put(figure_url(), json=body, headers=headers)
    problem(r, 422, field=field)
    assert db.snapshot() == before


@pytest.mark.parametrize("raw", [b"", b"{", b"not json", b"[]", b"null", b'"2.5"', b"2.5"])
def test_a_body_that_is_not_a_json_object_is_422(client, db, sample, auth, raw):
    headers = auth(DATA_SOURCE) | {"Content-Type": "application/json"}
    before = db.snapshot()
    problem(client.put(figure_url(), content=raw, headers=headers), 422)
    assert db.snapshot() == before


def test_a_huge_commentary_is_413_and_changes_nothing(client, db, sample, auth):
    headers = auth(DATA_SOURCE)
    before = db.snapshot()
    r = client.put(figure_url(), json={"actual": 5, "commentary": "x" * 300_000}, headers=headers)
    problem(r, 413)
    assert db.snapshot() == before


def test_a_commentary_of_2000_characters_is_kept(client, sample, auth):
    text = "Why. " * 400
    r = client.put(figure_url(), json={"actual": 5, "commentary": text}, headers=auth(DATA_SOURCE))
    assert r.status_code == 201 and r.json()["commentary"] == text.strip()


@pytest.mark.parametrize(
    ("period", "code", "says"),
    [
        ("2009-11", "invalid", "NI016 is collected quarterly: it has no figure for November 2009"),
        ("2010-03", "invalid", "March 2010 has not ended yet"),  # not ended by 20 January 2010
        ("1999-12", "invalid", ""),
        ("2009-13", "validation_failed", ""),
        ("2009-1", "validation_failed", ""),
        ("2009-12%27--", "validation_failed", ""),
    ],
)
def test_a_figure_for_a_period_it_cannot_have_is_422(client, db, sample, auth, period, code, says):
    headers = auth(DATA_SOURCE)
    before = db.snapshot()
    r = client.put(figure_url(period=period), json=GOOD, headers=headers)
    body = problem(r, 422, field="period")
    assert body["code"] == code and says in r.text
    assert db.snapshot() == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/scorecards/NOPE/measures/NI016/figures/2009-12",
        f"{CARD}/measures/NOPE/figures/2009-12",
        "/api/v1/scorecards/NOPE/measures/NI017/figures/2009-03/override",
        f"{CARD}/measures/NOPE/figures/2009-03/override",
    ],
)
def test_writing_to_an_unknown_scorecard_measure_or_figure_is_404(client, db, sample, auth, path):
    callers = [auth(), auth(READER)]  # unknown before forbidden
    before = db.snapshot()
    body = OVERRIDE if path.endswith("/override") else GOOD
    for headers in callers:
        method = "post" if path.endswith("/override") else "put"
        problem(client.request(method, path, json=body, headers=headers), 404)
    assert db.snapshot() == before


def test_overriding_a_figure_not_entered_is_404_to_those_who_may_override(client, db, sample, auth):
    admin, reader = auth(), auth(READER)
    before = db.snapshot()
    problem(client.post(override_url("NI016", "2009-12"), json=OVERRIDE, headers=admin), 404)
    # Permission before state: someone who may never override is told that instead.
    problem(client.post(override_url("NI016", "2009-12"), json=OVERRIDE, headers=reader), 403)
    assert db.snapshot() == before


# --- revising: reason and version ----------------------------------------------------------------

C2 = figure_url("C2")  # 80 against 100 (RED); Georgina Hayward's; version 1 from the file
REVISED = {"actual": 90, "estimate": 100, "commentary": "Catching up.", "reason": "Recounted."}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({k: v for k, v in REVISED.items() if k != "reason"} | {"version": 1}, 422, "reason"),
        (REVISED | {"version": 1, "reason": "   "}, 422, "reason"),
        (REVISED | {"version": 1, "reason": "r" * 501}, 422, "reason"),
        (REVISED, 422, "version"),
        (REVISED | {"version": None}, 422, "version"),
        (REVISED | {"version": 2}, 409, None),
        (REVISED | {"version": 1, "actual": 120}, 422, "actual"),
    ],
    ids=["no_reason", "blank_reason", "long_reason", "no_version", "null_version", "stale", "bad"],
)
def test_a_revision_needs_a_reason_and_the_version_read(
    client, db, sample, auth, body, status, field
):
    headers = auth(OTHER_OFFICER)
    before = db.snapshot()
    problem(client.put(C2, json=body, headers=headers), status, field=field)
    assert db.snapshot() == before


def test_a_stale_version_is_409_after_someone_else_revised(client, db, sample, auth):
    mine, theirs = auth(OTHER_OFFICER), auth()
    assert client.put(C2, json=REVISED | {"version": 1}, headers=theirs).status_code == 200
    before = db.snapshot()
    body = problem(client.put(C2, json=REVISED | {"version": 1}, headers=mine), 409)
    assert "version 2" in body["detail"]
    assert db.snapshot() == before


def test_a_version_for_a_figure_not_yet_entered_is_409(client, db, sample, auth):
    headers = auth(DATA_SOURCE)
    before = db.snapshot()
    problem(client.put(figure_url(), json=GOOD | {"version": 1}, headers=headers), 409)
    assert db.snapshot() == before


def _race(
    client: Any, requests: list[tuple[str, dict[str, Any], dict[str, str]]]
) -> list[tuple[int, str]]:
    """Each answer's status and detail, in order of status."""
    barrier = threading.Barrier(len(requests))
    answers: list[Any] = []

    def one(url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        barrier.wait()
        answers.append(client.put(url, json=body, headers=headers))

    threads = [threading.Thread(target=one, args=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted((r.status_code, r.json().get("detail", "")) for r in answers)


def test_two_revisions_of_one_version_racing_one_wins(client, db, sample, auth):
    a, b = auth(OTHER_OFFICER), auth()
    statuses = _race(
        client,
        [(C2, REVISED | {"version": 1}, a), (C2, REVISED | {"version": 1, "actual": 95}, b)],
    )
    assert statuses[0][0] == 200
    # The loser read version 1 after the winner wrote (SQLite serialises them) or before.
    assert statuses[1] in (
        (409, "Someone revised this figure a moment ago. Read it again first."),
        (
            409,
            "The figure has changed since you read it (it is now version 2). Read it again "
            "before revising it.",
        ),
    ), statuses
    problem_free = client.get(f"{CARD}/measures/C2", headers=a).json()
    assert [f["version"] for f in problem_free["figures"]] == [2]


def test_two_first_entries_racing_one_wins(client, db, sample, auth):
    a, b = auth(DATA_SOURCE), auth(RESPONSIBLE)
    statuses = _race(client, [(figure_url(), GOOD, a), (figure_url(), GOOD | {"actual": 2}, b)])
    # The loser finds the figure in (422: send its version) or loses the INSERT (409).
    assert statuses[0][0] == 201, statuses
    assert statuses[1] in (
        (409, "Someone entered this figure a moment ago. Read it, then revise it if need be."),
        (
            422,
            "version: This figure has already been entered: send the version you read, and a "
            "reason, to revise it.",
        ),
    ), statuses
    one = client.get(f"{CARD}/measures/NI016", headers=a).json()
    assert [f["version"] for f in one["figures"]] == [1]


# --- overriding colours ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (override_url(), {"current": "green", "reason": "Fine really."}, None),
        (override_url(), {"current": "amber"}, None),
        (override_url(), {"current": "amber", "reason": "   "}, None),
        (override_url(), {"current": "amber", "reason": "r" * 501}, None),
        (override_url(), {"current": "purple", "reason": "x"}, "current"),
        (override_url(), {"current": "AMBER", "reason": "x"}, "current"),
        (override_url(), {"current": 1, "reason": "x"}, "current"),
        (override_url(), {"current": "amber", "reason": "bell\x07"}, "reason"),
        (override_url(), {"current": "amber", "reason": "x", "by": "admin"}, "by"),
        (figure_url("C1") + "/override", {"current": "red", "reason": "Feels worse."}, None),
        (override_url(period="2009-3"), OVERRIDE, "period"),
    ],
    ids=case_id,
)
def test_a_bad_override_is_422_and_changes_nothing(client, db, sample, auth, url, body, field):
    headers = auth()
    before = db.snapshot()
    problem(client.post(url, json=body, headers=headers), 422, field=field)
    assert db.snapshot() == before


def test_an_override_is_withdrawn_with_nulls_and_audited(client, sample, auth):
    from models import AuditEvent

    headers = auth(RESPONSIBLE)
    both = OVERRIDE | {"projected": "amber"}
    assert client.post(override_url(), json=both, headers=headers).status_code == 200
    r = client.post(override_url(), json={"current": None, "projected": None}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["current"] == {"computed": "red", "override": None, "reported": "red"}
    assert r.json()["override_reason"] == ""
    with read_session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "override")).all()
    assert len(events) == 2 and all(e.actor_id == registered()[RESPONSIBLE].id for e in events)
    assert json.dumps([e.detail for e in events]).count("red->amber") == 2


def test_a_first_figure_for_one_period_is_not_taken_for_a_revision_of_another(client, sample, auth):
    """C2 has December's figure from the file; September's is entered as new, without a
    version or a reason, and December's stays as it was."""
    headers = auth(OTHER_OFFICER)
    december = client.get(f"{CARD}/measures/C2", headers=headers).json()
    body = {"actual": 90, "estimate": 100, "commentary": "Catching up."}
    r = client.put(figure_url("C2", "2009-09"), json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert (r.json()["period"], r.json()["version"], r.json()["actual"]) == ("2009-09", 1, 90)
    after = client.get(f"{CARD}/measures/C2", headers=headers).json()
    by_period = {f["period"]: f for f in after["figures"]}
    assert by_period["2009-12"] == {f["period"]: f for f in december["figures"]}["2009-12"]


# --- what each refusal of one figure says ----------------------------------------------------

# The words a caller reads, exactly: which field, what is wrong and what to do (found by
# mutation testing of services/performance/one_figure.py, where about 25 mutants changed only
# these words and no test noticed).
REFUSALS = [
    # (who, url, body, status, detail)
    (
        READER,
        figure_url(),
        GOOD,
        403,
        "Only the measure's data source officer, its responsible officer or the performance "
        "team can enter or revise its figures.",
    ),
    (
        DATA_SOURCE,
        figure_url(period="2009-11"),
        GOOD,
        422,
        "period: NI016 is collected quarterly: it has no figure for November 2009.",
    ),
    (DATA_SOURCE, figure_url(period="2010-03"), GOOD, 422, "period: March 2010 has not ended yet."),
    (
        DATA_SOURCE,
        figure_url(period="1999-12"),
        GOOD,
        422,
        "period: '1999-12' is not a period: give its last month as YYYY-MM, e.g. 2009-12.",
    ),
    (
        DATA_SOURCE,
        figure_url(),
        GOOD | {"version": 1},
        409,
        "This figure has not been entered yet: send no version to enter it.",
    ),
    (
        OTHER_OFFICER,
        C2,
        REVISED,
        422,
        "version: This figure has already been entered: send the version you read, and a "
        "reason, to revise it.",
    ),
    (
        OTHER_OFFICER,
        C2,
        REVISED | {"version": 2},
        409,
        "The figure has changed since you read it (it is now version 1). Read it again before "
        "revising it.",
    ),
    (
        OTHER_OFFICER,
        C2,
        REVISED | {"version": 1, "reason": "   "},
        422,
        "reason: Say why the figure is being revised.",
    ),
    (
        OTHER_OFFICER,
        C2,
        REVISED | {"version": 1, "reason": "r" * 501},
        422,
        "reason: Keep the reason to 500 characters.",
    ),
]


@pytest.mark.parametrize(
    ("who", "url", "body", "status", "detail"),
    REFUSALS,
    ids=[
        "not_an_officer",
        "not_collected_that_month",
        "not_ended",
        "not_a_period",
        "version_for_a_first_entry",
        "no_version",
        "stale_version",
        "blank_reason",
        "long_reason",
    ],
)
def test_each_refusal_of_one_figure_says_what_is_wrong_and_what_to_do(
    client, db, sample, auth, who, url, body, status, detail
):
    headers = auth(who)
    before = db.snapshot()
    assert problem(client.put(url, json=body, headers=headers), status)["detail"] == detail
    assert db.snapshot() == before


def test_a_measure_no_longer_collected_says_so_and_takes_no_figure(client, db, sample, auth):
    from core.db import write_session
    from models.performance import Measure

    with write_session() as s:
        s.exec(select(Measure).where(Measure.code == "NI016")).one().active = False
    headers = auth(DATA_SOURCE)
    before = db.snapshot()
    r = client.put(figure_url(), json=GOOD, headers=headers)
    assert problem(r, 409)["detail"] == "Measure NI016 is no longer collected."
    assert db.snapshot() == before
