"""What an email says that mutation testing of services/platform/emails.py found unchecked: the
addresses of Signoff's pages in it are built from the configured base URL (with or without its
trailing slash), in single emails and in each item of a chase digest, and a link's email says
the day and time the link expires.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from support.factories import deliver

from core import clock
from services.platform.chasing import run as chase

BASE = "https://signoff.example.gov.uk"


def _at(day: str, hhmm: str = "09:00") -> datetime:
    local = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=clock.local_tz())
    return local.astimezone(UTC)


@pytest.fixture(params=[BASE, BASE + "/"], ids=["bare", "trailing_slash"])
def base_url(request, env, monkeypatch):  # type: ignore[no-untyped-def]
    from core.settings import get_settings

    monkeypatch.setenv("SIGNOFF_BASE_URL", request.param)
    get_settings.cache_clear()
    yield request.param
    get_settings.cache_clear()


def _footer(text: str) -> str:
    """The line naming Signoff's address at the foot of every email."""
    (line,) = [x for x in text.splitlines() if x.startswith("Signoff, ")]
    return line


def test_an_email_gives_the_rfcs_page_and_signoffs_address_from_the_base_url(
    base_url, factory, team, smtp
):
    with clock.frozen(_at("2010-03-01", "10:00")):
        rfc = factory.submit(factory.rfc(team), team.officer)
        deliver()
    (mail,) = smtp.to(team.manager.email)
    assert f"Record the impact analysis: {BASE}/rfcs/{rfc.id}/impact" in mail.text.splitlines()
    assert f'href="{BASE}/rfcs/{rfc.id}/impact"' in mail.html
    assert _footer(mail.text) == f"Signoff, {BASE}"
    assert "None" not in mail.text and f"{BASE}//" not in mail.text + mail.html


def test_a_link_email_says_when_its_link_expires(base_url, factory, team, smtp):
    """Issued at 10:00 on 1 March 2010, a link lasts 14 days (action_link_days)."""
    with clock.frozen(_at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "awaiting_approval")
    smtp.reset()
    with clock.frozen(_at("2010-03-01", "10:00")):
        deliver()
    (mail,) = [m for m in smtp.to(team.sponsor.email) if m.subject.startswith("Approval needed")]
    assert rfc.ref in mail.subject
    assert "works once, and expires on 15 March 2010 at 10:00." in mail.text
    assert mail.link().startswith(f"{BASE}/")


def test_each_item_of_a_chase_digest_gives_its_rfcs_page_from_the_base_url(
    base_url, factory, team, smtp
):
    """The PM's impact analysis, due 8 March 2010, is chased on the 9th: the reminder gives the
    RFC's impact page, and (its link-less item having no link) nothing else."""
    with clock.frozen(_at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "impact_analysis")
        deliver()
    smtp.reset()
    with clock.frozen(_at("2010-03-09")):
        from core.db import write_session

        with write_session() as session:
            chase(session)
        deliver()
    (mail,) = smtp.to(team.manager.email)
    assert f"Record the impact analysis: {BASE}/rfcs/{rfc.id}/impact" in mail.text.splitlines()
    assert _footer(mail.text) == f"Signoff, {BASE}"
    assert "None" not in mail.text and f"{BASE}//" not in mail.text + mail.html
