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


def test_a_form_of_50_fields_is_read_and_one_of_51_is_refused_changing_nothing(
    client, factory, team, db
):
    """The page forms read at most 50 fields (the CSRF token is one): a 51st is Starlette's
    400, said on the error page, and the request does nothing."""
    rfc = factory.rfc(team, requester=team.officer)
    client.cookies.set("signoff_session", factory.sign_in(team.officer))
    page = f"/rfcs/{rfc.id}/withdraw"
    fifty = {"reason": "No longer needed.", "csrf_token": csrf_token_of(client, page)}
    fifty |= {f"extra{i}": "x" for i in range(48)}
    before = db.snapshot()
    r = client.post(page, data=fifty | {"extra48": "x"}, follow_redirects=False)
    assert r.status_code == 400
    title = re.search(r'<h1 class="govuk-heading-l">([^<]*)</h1>', r.text)
    assert title and title.group(1) == "Sorry, there is a problem"
    assert '<p class="govuk-body">Too many fields. Maximum number of fields is 50.</p>' in r.text
    assert db.snapshot() == before
    r = client.post(page, data=fifty, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/rfcs/{rfc.id}"
    assert db.rfc(rfc.id).status == "withdrawn"
