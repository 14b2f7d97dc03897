"""Entering a return's figures by link or signed in: rules a user relies on that mutation
testing of services/performance/entry.py found unchecked.

- "My figures" lists open returns first, newest period first.
- A return's link stops working at the instant it expires; once the return is in, its link
  says so (410), whoever submitted it.
- Submitting again, by link or signed in, is refused saying the figures are in, and a refused
  link is on the audit trail with who, what and from where.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlmodel import select
from support.pages import csrf_token_of
from support.performance import (
    add_measure,
    add_scorecard,
    at,
    import_people,
    registered,
    return_of,
)

from core import clock, tokens
from core.db import read_session, write_session

TODAY = at("2010-01-11", "10:00")  # the links, issued on 4 January, last 14 days
PERIODS = ("2009-10", "2009-11", "2009-12")


@pytest.fixture
def months(env: Any, factory: Any) -> dict[str, Any]:
    """A monthly measure, MM1, of Neil Weston's; his returns for October, November and December
    2009 opened in that order, each with its emailed link."""
    from services.performance import chasing

    with clock.frozen(at("2009-12-31", "12:00")):
        import_people()
    neil = registered()["Neil Weston"]
    with clock.frozen(at("2010-01-04")), write_session() as s:
        card_id = add_scorecard(s, "M-0910", name="Monthly 09/10")
        measure_id = add_measure(s, card_id, "MM1", neil, name="Calls answered")
        for period in PERIODS:
            assert chasing.open_period(s, period=period) == 1
    return {"officer": neil, "measure_id": measure_id}


def _link(ret_id: int) -> tuple[str, Any]:
    """The raw token of the return's emailed link (as the email carries it), and its row."""
    from models import ActionToken

    with read_session() as s:
        row = s.exec(
            select(ActionToken).where(
                ActionToken.subject_type == "figure_return", ActionToken.subject_id == ret_id
            )
        ).one()
        s.expunge(row)
    return tokens.derive_token(row.salt), row


def _form(measure_id: int, csrf: str | None = None) -> dict[str, str]:
    form = {f"f{measure_id}_actual": "95", f"f{measure_id}_estimate": "95"}
    return form | ({"csrf_token": csrf} if csrf else {})


def _notice(page: str) -> str:
    """The words of the page's notification banner."""
    found = re.search(r'class="govuk-notification-banner__heading">(.*?)</', page, re.S)
    assert found, page
    return " ".join(found.group(1).split())


def _submit_signed_in(
    client: Any, factory: Any, months: dict[str, Any], period: str, csrf_from: str = ""
) -> Any:
    """Post the return's form signed in, with the session's CSRF token from its page (or from
    the page of the return for `csrf_from`, when this one is in and shows no form)."""
    client.cookies.set("signoff_session", factory.sign_in(months["officer"]))
    path = f"/performance/returns/{return_of(months['officer'], period).id}"
    with clock.frozen(TODAY):
        other = return_of(months["officer"], csrf_from) if csrf_from else None
        csrf = csrf_token_of(client, f"/performance/returns/{other.id}" if other else path)
        return client.post(path, data=_form(months["measure_id"], csrf))


def test_my_figures_lists_open_returns_first_newest_period_first(
    client: Any, factory: Any, months: dict[str, Any]
) -> None:
    assert _submit_signed_in(client, factory, months, "2009-12").status_code == 200
    with clock.frozen(TODAY):
        page = client.get("/performance/figures")
    assert page.status_code == 200
    shown = re.findall(r'href="/performance/returns/\d+">([^<]+)</a>', page.text)
    assert shown == ["November 2009", "October 2009", "December 2009"]


def test_a_returns_link_stops_working_at_the_instant_it_expires(
    client: Any, months: dict[str, Any]
) -> None:
    raw, row = _link(return_of(months["officer"], "2009-11").id)
    expires = row.expires_at.replace(tzinfo=UTC)
    with clock.frozen(expires - timedelta(seconds=1)):
        assert client.get(f"/figures/{raw}").status_code == 200
    with clock.frozen(expires):
        gone = client.get(f"/figures/{raw}")
    assert gone.status_code == 404 and "This link is not valid" in gone.text


def test_once_the_return_is_in_its_link_says_so_whoever_submitted_it(
    client: Any, factory: Any, months: dict[str, Any]
) -> None:
    raw, _ = _link(return_of(months["officer"], "2009-12").id)
    assert _submit_signed_in(client, factory, months, "2009-12").status_code == 200
    client.cookies.clear()
    with clock.frozen(TODAY):
        page = client.get(f"/figures/{raw}")
    assert page.status_code == 410
    assert "Your figures for December 2009 are in" in page.text


def test_submitting_again_by_link_is_refused_saying_so_and_audited(
    client: Any, months: dict[str, Any]
) -> None:
    from models import AuditEvent

    ret = return_of(months["officer"], "2009-11")
    raw, _ = _link(ret.id)
    with clock.frozen(TODAY):
        done = client.post(f"/figures/{raw}", data=_form(months["measure_id"]))
        assert done.status_code == 200 and "Figures submitted" in done.text
        again = client.post(f"/figures/{raw}", data=_form(months["measure_id"]))
    assert again.status_code == 410
    assert _notice(again.text) == (
        "These figures have already been submitted: this link cannot be used again."
    )
    with read_session() as s:
        events = s.exec(
            select(AuditEvent)
            .where(AuditEvent.subject_type == "figure_return", AuditEvent.subject_id == ret.id)
            .order_by(AuditEvent.id)
        ).all()
    submitted, refused = events
    neil = months["officer"].id
    assert (submitted.action, submitted.outcome, submitted.actor_id) == ("submit", "ok", neil)
    assert submitted.actor_address == "testclient"  # the address the link was used from
    assert (
        refused.action,
        refused.outcome,
        refused.actor_id,
        refused.actor_role,
        refused.from_status,
        refused.subject_version,
        refused.actor_address,
    ) == ("submit", "refused", neil, "officer", "submitted", 2, "testclient")


def test_submitting_again_signed_in_is_refused_saying_so(
    client: Any, factory: Any, months: dict[str, Any]
) -> None:
    assert _submit_signed_in(client, factory, months, "2009-10").status_code == 200
    again = _submit_signed_in(client, factory, months, "2009-10", csrf_from="2009-11")
    assert again.status_code == 410
    assert _notice(again.text) == "These figures have already been submitted."


def test_a_return_whose_measures_are_no_longer_collected_still_opens(
    client: Any, factory: Any, months: dict[str, Any]
) -> None:
    """MM1 is retired after the returns opened: the return's page lists nothing to enter."""
    from models.performance import Measure

    with write_session() as s:
        measure = s.get(Measure, months["measure_id"])
        assert measure is not None
        measure.active = False
    client.cookies.set("signoff_session", factory.sign_in(months["officer"]))
    with clock.frozen(TODAY):
        page = client.get(f"/performance/returns/{return_of(months['officer'], '2009-12').id}")
    assert page.status_code == 200 and "Calls answered" not in page.text


def test_a_submission_is_on_the_audit_trail_with_how_many_figures(
    client: Any, factory: Any, months: dict[str, Any]
) -> None:
    from models import AuditEvent

    assert _submit_signed_in(client, factory, months, "2009-12").status_code == 200
    ret = return_of(months["officer"], "2009-12")
    with read_session() as s:
        (event,) = s.exec(
            select(AuditEvent).where(
                AuditEvent.subject_type == "figure_return", AuditEvent.subject_id == ret.id
            )
        ).all()
    assert (event.action, event.from_status, event.to_status, event.detail) == (
        "submit",
        "open",
        "submitted",
        "1 figures",
    )
