"""A form's errors when a field breaks one of the text rules (forms.field_errors' own wording,
for errors it has no friendlier words for): found unchecked by mutation testing of
api/pages/forms.py."""

from __future__ import annotations

import re

import pytest
from support.pages import csrf_token_of


def _error_of(page: str, field: str) -> str:
    found = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).replace("Error:", "").strip() if found else ""


@pytest.mark.parametrize(
    ("title", "says"),
    [
        (
            "Move the \u202egnp.exe",
            "A title: must not contain invisible or text-direction characters",
        ),
        ("Move the\tdesk", "A title: must be a single line without control characters"),
    ],
    ids=["bidi", "tab"],
)
def test_a_title_breaking_a_text_rule_is_named_with_the_rule(
    client, factory, team, db, title, says
):
    client.cookies.set("signoff_session", factory.sign_in(team.officer))
    page = f"/projects/{team.code}/rfcs/new"
    before = db.snapshot()
    r = client.post(
        page,
        data={
            "title": title,
            "description": "Move it.",
            "expected_benefits": "Better.",
            "csrf_token": csrf_token_of(client, page),
        },
    )
    assert r.status_code == 422
    assert _error_of(r.text, "title") == says, r.text[-3000:]
    assert db.snapshot() == before


def test_a_form_posted_without_its_token_says_the_form_has_expired(client, factory, team, db):
    client.cookies.set("signoff_session", factory.sign_in(team.officer))
    before = db.snapshot()
    r = client.post(f"/projects/{team.code}/rfcs/new", data={"title": "Move the desk"})
    assert r.status_code == 403
    said = re.search(r">\s*(The form has expired[^<]*?)\s*<", r.text)
    assert said and said.group(1) == "The form has expired. Go back, reload the page and try again."
    assert db.snapshot() == before
