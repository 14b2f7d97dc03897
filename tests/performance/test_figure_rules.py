"""What a figure may be and what a return asks for: rules a user relies on that mutation testing
of services/performance/figures.py found unchecked.

- The "figures due" email lists the officer's figures still outstanding for that period only,
  in scorecard, aim and code order, each with its scorecard's name and that period's target;
  never a measure no longer collected, nor one of another year's scorecard.
- A year-to-date actual may pass its unit's range; the actual and the estimate may not.
- An error names the field in words ("the year-to-date actual").
- Revising a figure from unavailable to entered drops the reason, and back drops the
  commentary; an unavailable reason of 500 characters is kept, 501 refused saying so.
- Overrides: a reason of 500 characters is kept; withdrawing one keeps no reason; a refusal
  says why.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import select
from support.factories import deliver
from support.pages import csrf_token_of
from support.performance import at, import_people, registered

from core import clock
from core.db import read_session, write_session

TODAY = at("2010-01-20", "10:00")
OFFICER = "Neil Weston"
CARD = "/api/v1/scorecards/A-0910"

# (scorecard code, name, year), in the order they are made
CARDS = [
    ("B-0910", "Beta card", 2009),
    ("A-0910", "Alpha card", 2009),
    ("A-0809", "Old card", 2008),
]
# (scorecard, code, aim, active, {period: target}), in the order they are made
MEASURES = [
    ("B-0910", "B0", "Alpha", True, {"2009-12": 5}),
    ("A-0910", "A2", "Beta", True, {}),
    ("A-0910", "A1", "Beta", True, {"2009-12": 10}),
    ("A-0910", "C1", "Alpha", True, {"2009-11": 50, "2009-12": 90}),
    ("A-0910", "X9", "Alpha", False, {"2009-12": 1}),
    ("A-0809", "OLD1", "Alpha", True, {"2009-12": 1}),
]


@pytest.fixture
def cards(env: Any, factory: Any) -> dict[str, Any]:
    """Neil Weston is the data source of every measure above (monthly percentages, higher is
    better, year-end target 90); C1's November figure is in (60, on its target of 50)."""
    from models.performance import Measure, MeasureTarget, Scorecard
    from services.performance import figures, one_figure
    from services.platform.actors import Actor

    with clock.frozen(at("2009-12-31", "12:00")):
        import_people()
    neil = registered()[OFFICER]
    with clock.frozen(at("2010-01-04")), write_session() as s:
        made = {}
        for code, name, year in CARDS:
            card = Scorecard(code=code, name=name, year=year, created_at=clock.now())
            s.add(card)
            s.flush()
            made[code] = card.id
        for card_code, code, aim, active, targets in MEASURES:
            measure = Measure(
                scorecard_id=made[card_code],
                code=code,
                name=f"Measure {code}",
                aim=aim,
                frequency="monthly",
                polarity="higher",
                unit="percentage",
                data_source_officer_id=neil.id,
                responsible_officer_id=neil.id,
                year_end_target=90,
                active=active,
                updated_at=clock.now(),
            )
            s.add(measure)
            s.flush()
            for period, value in targets.items():
                s.add(MeasureTarget(measure_id=measure.id or 0, period=period, value=value))
        s.flush()
        c1 = s.exec(select(Measure).where(Measure.code == "C1")).one()
        one_figure.enter_one(
            s,
            measure=c1,
            period="2009-11",
            entry=figures.Entry(actual="60"),
            reason="",
            version=None,
            actor=Actor(person_id=neil.id),
        )
    with read_session() as s:
        ids = {m.code: m.id for m in s.exec(select(Measure))}
    return {"officer": neil, "ids": ids}


def test_the_figures_due_email_lists_that_periods_outstanding_figures_in_order(
    cards: dict[str, Any], smtp: Any
) -> None:
    from services.performance import chasing

    with clock.frozen(at("2010-01-04")):
        with write_session() as s:
            assert chasing.open_period(s, period="2009-12") == 1
        deliver()
    (mail,) = smtp.to(cards["officer"].email)
    assert mail.subject == "Performance figures for December 2009 are due by 15 January 2010"
    listed = [line for line in mail.text.splitlines() if line.startswith("- ")]
    assert listed == [
        "- C1 Measure C1 (Alpha card), target 90",
        "- A1 Measure A1 (Alpha card), target 10",
        "- A2 Measure A2 (Alpha card)",
        "- B0 Measure B0 (Beta card), target 5",
    ]
    assert "You are the data source for 4 figures:" in mail.text


# --- what a figure may be -----------------------------------------------------------------------


@pytest.fixture
def neil(cards: dict[str, Any], factory: Any) -> dict[str, str]:
    with clock.frozen(TODAY):
        yield factory.auth(cards["officer"])


def _put(client: Any, headers: dict[str, str], body: dict[str, Any], code: str = "C1") -> Any:
    with clock.frozen(TODAY):
        return client.put(f"{CARD}/measures/{code}/figures/2009-12", json=body, headers=headers)


def test_a_year_to_date_actual_may_pass_its_units_range_the_actual_and_estimate_may_not(
    client: Any, neil: dict[str, str]
) -> None:
    for body in ({"actual": 101}, {"actual": 95, "estimate": 101}):
        r = _put(client, neil, body)
        assert r.status_code == 422 and "is outside 0 to 100 for a percentage" in r.text
    r = _put(client, neil, {"actual": 95, "ytd_actual": 250, "estimate": 95})
    assert r.status_code == 201, r.text
    assert (r.json()["actual"], r.json()["ytd_actual"]) == (95, 250)


def _error_of(page: str, field: str) -> str:
    found = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).replace("Error:", "").strip() if found else ""


@pytest.mark.parametrize(
    ("field", "words"),
    [("actual", "actual"), ("ytd_actual", "year-to-date actual"), ("estimate", "estimate")],
)
def test_a_value_that_is_not_a_number_is_named_in_words_on_the_figures_page(
    client: Any, db: Any, factory: Any, cards: dict[str, Any], field: str, words: str
) -> None:
    path = f"/performance/figures/{cards['ids']['C1']}/2009-12"
    client.cookies.set("signoff_session", factory.sign_in(cards["officer"]))
    form = {"actual": "95", "ytd_actual": "95", "estimate": "95"} | {field: "lots"}
    with clock.frozen(TODAY):
        before = db.snapshot()
        r = client.post(path, data=form | {"csrf_token": csrf_token_of(client, path)})
    assert r.status_code == 422
    assert _error_of(r.text, field).startswith(f"The {words} must be a number, like 75 or 3.03")
    assert db.snapshot() == before


def test_revising_between_entered_and_unavailable_drops_what_no_longer_applies(
    client: Any, neil: dict[str, str]
) -> None:
    entered = {"actual": 80, "estimate": 95, "commentary": "Two staff off sick."}
    assert _put(client, neil, entered).status_code == 201
    unavailable = {"unavailable": True, "unavailable_reason": "The system is down."}
    r = _put(client, neil, unavailable | {"version": 1, "reason": "The count was wrong."})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["commentary"], r.json()["unavailable_reason"]) == (
        "unavailable",
        "",
        "The system is down.",
    )
    back = {"actual": 95, "estimate": 95, "version": 2, "reason": "The system is back."}
    r = _put(client, neil, back)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["actual"], r.json()["unavailable_reason"]) == (
        "entered",
        95,
        "",
    )


def test_an_unavailable_reason_of_500_characters_is_kept_and_501_refused_saying_so(
    client: Any, neil: dict[str, str]
) -> None:
    r = _put(client, neil, {"unavailable": True, "unavailable_reason": "r" * 501})
    assert r.status_code == 422
    assert r.json()["detail"] == "unavailable_reason: Keep the reason to 500 characters."
    r = _put(client, neil, {"unavailable": True, "unavailable_reason": "r" * 500})
    assert r.status_code == 201, r.text
    assert r.json()["unavailable_reason"] == "r" * 500


# --- overriding a colour ------------------------------------------------------------------------


def _override(client: Any, headers: dict[str, str], body: dict[str, Any]) -> Any:
    with clock.frozen(TODAY):
        return client.post(
            f"{CARD}/measures/C1/figures/2009-12/override", json=body, headers=headers
        )


def test_an_override_keeps_a_reason_of_500_characters_and_withdrawing_it_keeps_none(
    client: Any, neil: dict[str, str]
) -> None:
    red = {"actual": 80, "estimate": 95, "commentary": "Two staff off sick."}  # 80 against 90
    assert _put(client, neil, red).json()["current"]["computed"] == "red"
    r = _override(client, neil, {"current": "amber", "reason": "w" * 500})
    assert r.status_code == 200, r.text
    assert (r.json()["current"]["reported"], r.json()["override_reason"]) == ("amber", "w" * 500)
    r = _override(client, neil, {"current": None, "reason": "Back to what it says."})
    assert r.status_code == 200, r.text
    assert (r.json()["current"]["reported"], r.json()["override_reason"]) == ("red", "")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            {"current": "green", "reason": "Fine really."},
            "Only an AMBER or RED colour can be overridden, and only to AMBER or RED.",
        ),
        (
            {"current": "amber"},
            "Give the reason for the override: it is shown beside the colours.",
        ),
    ],
    ids=["to_green", "no_reason"],
)
def test_a_refused_override_says_why(
    client: Any, db: Any, neil: dict[str, str], body: dict[str, Any], says: str
) -> None:
    red = {"actual": 80, "estimate": 95, "commentary": "Two staff off sick."}
    assert _put(client, neil, red).status_code == 201
    before = db.snapshot()
    r = _override(client, neil, body)
    assert r.status_code == 422 and r.json()["detail"] == says
    assert db.snapshot() == before


def test_an_override_and_its_withdrawal_are_on_the_audit_trail_as_the_officers(
    client: Any, cards: dict[str, Any], neil: dict[str, str]
) -> None:
    from models import AuditEvent

    red = {"actual": 80, "estimate": 95, "commentary": "Two staff off sick."}  # 80 against 90
    assert _put(client, neil, red).status_code == 201
    assert _override(client, neil, {"current": "amber", "reason": "Cover is booked."}).is_success
    assert _override(client, neil, {"current": None}).is_success
    with read_session() as s:
        events = s.exec(
            select(AuditEvent).where(AuditEvent.action == "override").order_by(AuditEvent.id)
        ).all()
    assert [(e.actor_id, e.actor_role, e.subject_type, e.detail) for e in events] == [
        (
            cards["officer"].id,
            "officer",
            "figure",
            "current red->amber, projected green->-: Cover is booked.",
        ),
        (cards["officer"].id, "officer", "figure", "current red->-, projected green->-: "),
    ]


def test_a_commentary_of_2000_characters_after_trimming_is_kept(
    client: Any, neil: dict[str, str]
) -> None:
    text = "w" * 1999 + "."
    r = _put(client, neil, {"actual": 80, "estimate": 95, "commentary": f" {text}\n"})
    assert r.status_code == 201, r.text
    assert r.json()["commentary"] == text


# --- figures from an import file -----------------------------------------------------------------


def _import(rows: list[dict[str, str]], actor_id: int | None) -> None:
    from support.performance import CARD_FILE

    from services.performance import imports

    with clock.frozen(at("2010-01-20", "12:00")), write_session() as session:
        imports.import_scorecard(
            session,
            rows=rows,
            code="CCS-0910",
            period="2009-12",
            actor_id=actor_id,
            filename=CARD_FILE.name,
            portfolio="Policy and Performance",
        )


def test_an_import_writes_only_its_own_periods_figure_and_clears_a_stale_reason(
    client: Any, env: Any, factory: Any
) -> None:
    """C2 (Georgina Hayward's) has September's figure in first and December's marked
    unavailable; the December file then gives December's value."""
    from support.performance import card_rows

    from models.performance import Figure, FigureRevision

    with clock.frozen(at("2009-12-31", "12:00")):
        import_people()
    people = registered()
    georgina = people["Georgina Hayward"]
    _import(card_rows(blank=("Georgina Hayward",)), None)
    headers = factory.auth(georgina)
    url = "/api/v1/scorecards/CCS-0910/measures/C2/figures"
    with clock.frozen(TODAY):
        september = {"actual": 90, "estimate": 100, "commentary": "Catching up."}
        assert client.put(f"{url}/2009-09", json=september, headers=headers).status_code == 201
        none = {"unavailable": True, "unavailable_reason": "The printer has not reported."}
        assert client.put(f"{url}/2009-12", json=none, headers=headers).status_code == 201
    admin = factory.admin()
    _import(card_rows(), admin.id)
    with read_session() as s:
        rows = s.exec(
            select(Figure)
            .join(FigureRevision, FigureRevision.figure_id == Figure.id)
            .where(FigureRevision.version == 2)
        ).all()
        by_period = {
            f.period: f
            for f in s.exec(select(Figure)).all()
            if f.period in ("2009-09", "2009-12") and f.measure_id == rows[0].measure_id
        }
        revision = s.exec(
            select(FigureRevision).where(
                FigureRevision.figure_id == by_period["2009-12"].id, FigureRevision.version == 2
            )
        ).one()
    assert [f.period for f in rows] == ["2009-12"]  # only December's figure was revised
    sept, dec = by_period["2009-09"], by_period["2009-12"]
    assert (sept.version, sept.actual) == (1, 90)
    assert (dec.state, dec.actual, dec.unavailable_reason) == ("entered", 80, "")
    assert (revision.by_id, revision.reason) == (admin.id, "imported from a file")
