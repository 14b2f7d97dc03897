"""Entering one figure: the rules a user relies on that the journeys do not show on their own
(found by mutation testing of services/performance/one_figure.py).

- The last figure of a period settles that period's return, never an earlier one the officer
  still has open.
- A reason for a revision that is refused for its characters is shown against the reason
  field of the figure's page.
- A reason of 500 characters (after trimming) is kept; 501 is refused.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import select
from support.pages import csrf_token_of
from support.performance import (
    add_measure,
    add_scorecard,
    at,
    import_card,
    import_people,
    registered,
    return_of,
)

from core import clock
from core.db import read_session, write_session

TODAY = at("2010-01-20", "10:00")
CARD = "/api/v1/scorecards/CCS-0910"
C2 = f"{CARD}/measures/C2/figures/2009-12"  # 80 against 100; Georgina Hayward's, version 1
REVISED = {"actual": 90, "estimate": 100, "commentary": "Catching up."}
OFFICER = "Georgina Hayward"  # C2's data source and responsible officer


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


# --- the last figure settles its own period's return ---------------------------------------------


@pytest.fixture
def two_months(env: Any, factory: Any, today: None) -> dict[str, Any]:
    """A monthly measure whose data source officer (Neil Weston, on no other scorecard here)
    has two returns open: November 2009's, opened first, and December 2009's."""
    from services.performance import chasing

    with clock.frozen(at("2009-12-31", "12:00")):
        import_people()
    neil = registered()["Neil Weston"]
    with clock.frozen(at("2010-01-04")), write_session() as s:
        card_id = add_scorecard(s, "MONTHLY-0910", name="Monthly 09/10")
        add_measure(
            s, card_id, "MM1", neil, name="Calls answered", targets={"2009-11": 90, "2009-12": 90}
        )
        assert chasing.open_period(s, period="2009-11") == 1
        assert chasing.open_period(s, period="2009-12") == 1
    return {"officer": neil, "headers": factory.auth(neil)}


def test_the_last_figure_of_a_period_submits_that_periods_return_not_an_earlier_open_one(
    client: Any, two_months: dict[str, Any], today: None
) -> None:
    url = "/api/v1/scorecards/MONTHLY-0910/measures/MM1/figures/2009-12"
    body = {"actual": 95, "estimate": 95}
    r = client.put(url, json=body, headers=two_months["headers"])
    assert r.status_code == 201, r.text
    assert r.json()["return_status"] == "submitted"
    officer = two_months["officer"]
    december, november = return_of(officer, "2009-12"), return_of(officer, "2009-11")
    assert (december.status, december.submitted_at) == ("submitted", TODAY)
    assert (november.status, november.submitted_at) == ("open", None)  # its figure is still owed


# --- the reason for a revision on the figure's page ----------------------------------------------


def _c2_page(client: Any, factory: Any) -> str:
    from models.performance import Measure

    with read_session() as s:
        measure = s.exec(select(Measure).where(Measure.code == "C2")).one()
    client.cookies.set("signoff_session", factory.sign_in(registered()[OFFICER]))
    return f"/performance/figures/{measure.id}/2009-12"


def _error_of(page: str, field: str) -> str:
    """The error message shown against one field of the figure's form ("" if none)."""
    found = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).replace("Error:", "").strip() if found else ""


@pytest.mark.parametrize(
    ("reason", "says"),
    [
        ("Recounted\x07", "Must not contain control characters."),
        ("Recounted \u202egnp.exe", "Must not contain invisible or text-direction characters."),
    ],
    ids=["control", "bidi"],
)
def test_a_reason_refused_for_its_characters_is_shown_against_the_reason_field(
    client: Any, db: Any, factory: Any, sample: dict[str, Any], reason: str, says: str
) -> None:
    path = _c2_page(client, factory)
    form = {k: str(v) for k, v in REVISED.items()} | {"version": "1", "reason": reason}
    before = db.snapshot()
    r = client.post(path, data=form | {"csrf_token": csrf_token_of(client, path)})
    assert r.status_code == 422, r.text
    assert _error_of(r.text, "reason") == says
    assert 'aria-describedby="reason-error"' in r.text
    for other in ("actual", "ytd_actual", "estimate", "commentary", "unavailable_reason"):
        assert _error_of(r.text, other) == ""
    assert db.snapshot() == before


# --- the reason's length ------------------------------------------------------------------------


def test_a_reason_of_500_characters_after_trimming_is_kept(
    client: Any, factory: Any, sample: dict[str, Any]
) -> None:
    from models.performance import FigureRevision

    reason = "r" * 499 + "."
    body = REVISED | {"version": 1, "reason": f"  {reason}\n"}
    r = client.put(C2, json=body, headers=factory.auth(registered()[OFFICER]))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    with read_session() as s:
        kept = s.exec(select(FigureRevision.reason).where(FigureRevision.version == 2)).all()
    assert kept == [reason]


def test_a_reason_of_501_characters_is_refused_on_the_figures_page(
    client: Any, db: Any, factory: Any, sample: dict[str, Any]
) -> None:
    path = _c2_page(client, factory)
    form = {k: str(v) for k, v in REVISED.items()} | {"version": "1", "reason": "r" * 501}
    before = db.snapshot()
    r = client.post(path, data=form | {"csrf_token": csrf_token_of(client, path)})
    assert r.status_code == 422
    assert _error_of(r.text, "reason") == "Keep the reason to 500 characters."
    assert db.snapshot() == before
    # and 500 goes through, from the page too
    done = client.post(
        path,
        data=form | {"reason": "r" * 500, "csrf_token": csrf_token_of(client, path)},
        follow_redirects=False,
    )
    assert done.status_code == 303


# --- the target a figure is judged against is its own period's --------------------------------


def test_a_figure_is_judged_against_its_own_periods_target_not_another_months(
    client: Any, env: Any, factory: Any, today: None
) -> None:
    """November's target was 50, December's is 100: 80 in December is below target, so it
    needs a commentary; judged against November's it would have been taken without one
    (found by mutation testing: the target was looked up without its period)."""
    with clock.frozen(at("2009-12-31", "12:00")):
        import_people()
    neil = registered()["Neil Weston"]
    with clock.frozen(at("2010-01-04")), write_session() as s:
        card_id = add_scorecard(s, "TARGETS-0910", name="Targets 09/10")
        add_measure(s, card_id, "T1", neil, targets={"2009-11": 50, "2009-12": 100})
    url = "/api/v1/scorecards/TARGETS-0910/measures/T1/figures/2009-12"
    r = client.put(url, json={"actual": 80, "estimate": 100}, headers=factory.auth(neil))
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("commentary: "), r.json()
    # A year-to-date figure may pass 100 % (it is not range-checked): the commentary is
    # still the field at fault.
    r = client.put(
        url, json={"actual": 80, "estimate": 100, "ytd_actual": 150}, headers=factory.auth(neil)
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("commentary: "), r.json()
    body = {"actual": 80, "estimate": 100, "commentary": "Two staff off sick."}
    assert client.put(url, json=body, headers=factory.auth(neil)).status_code == 201
