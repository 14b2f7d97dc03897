"""What officers type into the forms, read as the council means it (api/pages/forms.py).

Amounts, days and numbers are parsed by hand (no float("1e309"), no "²"), so each rule is
pinned here case by case. (Found by mutation testing: none of these cases was checked.)
"""

from __future__ import annotations

import pytest
from support.pages import csrf_token_of

from api.pages import forms


@pytest.mark.parametrize(
    ("typed", "pence"),
    [
        ("0", 0),
        ("12", 1200),
        ("1250.50", 125050),
        ("1,250.5", 125050),
        ("£1,250.05", 125005),
        ("  7.1 ", 710),
        ("9999999999", 999999999900),
        ("3.", 300),
        ("", None),
        ("   ", None),
        ("-5", None),
        ("+5", None),
        ("1e3", None),
        ("1.234", None),
        ("12.3.4", None),
        ("²", None),
        ("1.²", None),
        ("twelve", None),
        ("10000000000", None),
        ("nan", None),
        ("inf", None),
        ("£", None),
        (".5", None),
        ("1 000", None),
        (None, None),
    ],
)
def test_an_amount_in_pounds_becomes_whole_pence_or_is_refused(typed, pence):
    assert forms.parse_pounds(typed) == pence


@pytest.mark.parametrize(
    ("typed", "days"),
    [
        ("2", 2.0),
        ("0.5", 0.5),
        (".5", 0.5),
        ("20", 20.0),
        ("1.125", 1.125),
        ("999999", 999999.0),
        (" 3 ", 3.0),
        ("3.", 3.0),
        ("", None),
        (".", None),
        ("1000000", None),
        ("1.1234", None),
        ("-1", None),
        ("1e3", None),
        ("nan", None),
        ("inf", None),
        ("1,5", None),
        ("²", None),
        ("1.²", None),
        ("1.2.3", None),
        (None, None),
    ],
)
def test_days_of_work_are_a_plain_decimal_or_refused(typed, days):
    assert forms.parse_decimal(typed) == days


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("3", 3),
        (" 42 ", 42),
        ("123456789", 123456789),
        ("", None),
        ("  ", None),
        (None, None),
        ("1234567890", "1234567890"),
        ("-3", "-3"),
        ("²", "²"),
        ("3.5", "3.5"),
        ("x", "x"),
    ],
)
def test_a_whole_number_is_read_or_handed_back_as_typed_for_the_error(typed, value):
    assert forms.parse_int(typed) == value


def test_a_form_keeps_at_most_20000_characters_of_a_field(client, factory, team, db):
    """Anything longer is cut before it is validated or shown back on the form."""
    client.cookies.set("signoff_session", factory.sign_in(team.officer))
    page = f"/projects/{team.code}/rfcs/new"
    before = db.snapshot()
    r = client.post(
        page,
        data={
            "title": "Long",
            "description": "w" * 25_000 + "TAIL",
            "expected_benefits": "Better.",
            "csrf_token": csrf_token_of(client, page),
        },
    )
    assert r.status_code == 422
    assert "w" * 20_000 in r.text and "w" * 20_001 not in r.text and "TAIL" not in r.text
    assert db.snapshot() == before


def test_a_form_with_more_than_50_fields_is_refused_and_changes_nothing(client, factory, team, db):
    rfc = factory.rfc(team, requester=team.officer)
    client.cookies.set("signoff_session", factory.sign_in(team.officer))
    page = f"/rfcs/{rfc.id}/withdraw"
    data = {"reason": "Too many fields.", "csrf_token": csrf_token_of(client, page)}
    data |= {f"extra{i}": "x" for i in range(60)}
    before = db.snapshot()
    r = client.post(page, data=data, follow_redirects=False)
    assert r.status_code == 400, r.status_code
    assert db.snapshot() == before


def test_a_form_with_a_file_is_refused_and_changes_nothing(client, factory, team, db):
    rfc = factory.rfc(team, requester=team.officer)
    client.cookies.set("signoff_session", factory.sign_in(team.officer))
    page = f"/rfcs/{rfc.id}/withdraw"
    before = db.snapshot()
    r = client.post(
        page,
        data={"reason": "With a file.", "csrf_token": csrf_token_of(client, page)},
        files={"upload": ("a.txt", b"hello", "text/plain")},
        follow_redirects=False,
    )
    assert r.status_code == 400, r.status_code
    assert db.snapshot() == before


def test_field_errors_say_what_is_wrong_in_the_councils_words(client, factory, team):
    """The GOV.UK error summary names each field as the form does (forms.field_errors)."""
    client.cookies.set("signoff_session", factory.sign_in(team.officer))
    page = f"/projects/{team.code}/rfcs/new"
    r = client.post(
        page,
        data={
            "title": "",
            "description": "d" * 10_001,
            "expected_benefits": "Better.",
            "csrf_token": csrf_token_of(client, page),
        },
    )
    assert r.status_code == 422
    assert "Enter a title" in r.text
    assert "A description of the change must be 10,000 characters or fewer" in r.text
