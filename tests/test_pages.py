"""Pages as the people who use them see them: status, and officers' text shown as they wrote it.

The in-process app over a real database; the Chromium page matrix (test_page_matrix.py) covers
the same pages in a browser with axe-core.
"""

from __future__ import annotations

import pytest

HOSTILE = "Merge <b>tasks</b> 1.2 & 2.1\nthen extend stage 1.\n\nSecond paragraph."


def _as(client, factory, person) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    client.cookies.set("signoff_session", factory.sign_in(person))


@pytest.mark.parametrize("status", ["impact_analysis", "awaiting_approval"])
def test_my_rfcs_lists_the_work_waiting_for_its_owner(client, factory, team, status):
    rfc = factory.in_status(team, status)
    owner = team.manager if status == "impact_analysis" else team.sponsor
    _as(client, factory, owner)
    page = client.get("/rfcs")
    assert page.status_code == 200, page.text[:500]
    waiting = page.text.split("Waiting for you")[1].split("Raised by you")[0]
    assert waiting.count(f"href=\"/rfcs/{rfc.id}/") == 1
    assert "Nothing is waiting for you" not in waiting


def test_my_rfcs_lists_each_rfc_once_among_many(client, factory, team):
    rfcs = [factory.in_status(team, "awaiting_approval") for _ in range(3)]
    _as(client, factory, team.sponsor)
    page = client.get("/rfcs")
    assert page.status_code == 200
    for rfc in rfcs:
        assert page.text.split("Raised by you")[0].count(f"href=\"/rfcs/{rfc.id}/") == 1


def _assert_text_as_written(html: str) -> None:
    assert "&lt;p class" not in html and "&lt;br" not in html  # our own markup, escaped
    assert "Merge &lt;b&gt;tasks&lt;/b&gt; 1.2 &amp; 2.1<br>then extend stage 1.</p>" in html
    assert '<p class="govuk-body">Second paragraph.</p>' in html
    assert "<b>tasks</b>" not in html  # the officer's markup never becomes markup


def test_rfc_text_keeps_its_lines_and_is_escaped_on_every_page(client, factory, team, db):
    rfc = factory.rfc(team, description=HOSTILE, expected_benefits=HOSTILE)
    factory.submit(rfc, team.officer)
    factory.impact(rfc, team.manager)  # major: the sponsor decides, by link
    for person, path in [(team.officer, f"/rfcs/{rfc.id}"),
                         (team.sponsor, f"/rfcs/{rfc.id}/decision")]:
        _as(client, factory, person)
        page = client.get(path)
        assert page.status_code == 200, path
        _assert_text_as_written(page.text)
    page = client.get(f"/rfcs/{rfc.id}/print")  # the paper form keeps lines with pre-wrap
    assert 'class="pre">Merge &lt;b&gt;tasks&lt;/b&gt; 1.2 &amp; 2.1\nthen' in page.text
    client.cookies.clear()
    link = factory.raw_link(db.tokens(rfc.id)[-1])
    page = client.get(f"/approvals/{link}")
    assert page.status_code == 200
    _assert_text_as_written(page.text)
