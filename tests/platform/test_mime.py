"""The MIME bytes Signoff writes for each email (core.mail.build_message).

Every message is parsed back with the standard library's strict parser: the headers are
exactly the expected ones, names and subjects decode to what was given (control characters
collapsed), bodies round-trip exactly whatever they hold, and no line breaks the limits of
RFC 5322. The same messages also cross a real SMTP server in test_email.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.mail import Email, Outgoing, build_message, header_safe, stable_message_id

HEADERS = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "MIME-Version",
    "Content-Type",
]


@pytest.fixture(scope="module")
def mail_settings() -> Iterator[Any]:
    from support.databases import SECRET, reset_caches

    saved = {k: v for k, v in os.environ.items() if k.startswith("SIGNOFF_")}
    for key in saved:
        del os.environ[key]
    os.environ.update(
        SIGNOFF_ENV="test",
        SIGNOFF_SECRET_KEY=SECRET,
        SIGNOFF_MAIL_FROM="Signoff – Planning <signoff@council.example>",
    )
    reset_caches()
    from core.settings import get_settings

    yield get_settings()
    for key in [k for k in os.environ if k.startswith("SIGNOFF_")]:
        del os.environ[key]
    os.environ.update(saved)
    reset_caches()


def build(
    settings: Any,
    *,
    name: str = "Jo Bloggs",
    address: str = "jo@council.example",
    subject: str = "CSE-RFC-003 has been approved",
    text: str = "Dear Jo,\n",
    html: str = "<p>Dear Jo,</p>\n",
) -> tuple[Outgoing, EmailMessage]:
    out = build_message(
        Email(name, address, subject, text, html),
        settings=settings,
        message_id=stable_message_id("rfc_decided:3:jo", settings),
    )
    return out, BytesParser(policy=policy.default).parsebytes(out.data)  # type: ignore[return-value]


def bodies(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def normalised(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def assert_well_formed(out: Outgoing, message: EmailMessage) -> None:
    assert list(message.keys()) == HEADERS
    assert message.defects == [] and all(p.defects == [] for p in message.walk())
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    lines = out.data.split(b"\r\n")
    assert b"\n" not in out.data.replace(b"\r\n", b"") and b"\r" not in out.data.replace(
        b"\r\n", b""
    )  # every line ends CRLF, and nothing else breaks one
    assert max(len(line) for line in lines) <= 998
    header_block = out.data.split(b"\r\n\r\n", 1)[0]
    if not out.smtputf8:
        assert header_block.isascii()


def test_an_ordinary_email(mail_settings):
    out, message = build(mail_settings)
    assert_well_formed(out, message)
    assert (out.sender, out.recipient, out.smtputf8) == (
        "signoff@council.example",
        "jo@council.example",
        False,
    )
    assert message["To"].addresses[0].display_name == "Jo Bloggs"
    assert message["From"].addresses[0].display_name == "Signoff – Planning"
    assert str(message["Subject"]) == "CSE-RFC-003 has been approved"
    assert message["Auto-Submitted"] == "auto-generated"
    assert tuple(map(normalised, bodies(message))) == ("Dear Jo,\n", "<p>Dear Jo,</p>\n")


def test_the_message_id_is_the_same_for_the_same_email_and_differs_between_emails(mail_settings):
    first, again = (build(mail_settings)[1]["Message-ID"] for _ in range(2))
    assert first == again and str(first).endswith("@council.example>")
    other = stable_message_id("rfc_decided:3:sam", mail_settings)
    assert other != str(first) and other.startswith("<")


@pytest.mark.parametrize(
    "name",
    [
        "Siân Ó'Brien-Łukasz",
        'Smith, John "Jack" <Head of Planning>',
        "李小龍 🏛️",
        "A" * 250,
        "Eve\r\nBcc: victim@evil.example",
        "Tab\tand\x00NUL\x7f",
    ],
)
def test_names_decode_to_what_was_given_and_never_add_a_header(mail_settings, name):
    out, message = build(mail_settings, name=name)
    assert_well_formed(out, message)
    to = message["To"].addresses
    assert len(to) == 1 and to[0].addr_spec == "jo@council.example"
    assert to[0].display_name == header_safe(name)


@pytest.mark.parametrize(
    "subject",
    [
        "Approval needed: CSE-RFC-003 (major change)",
        "Approval needed: " + "a long subject line that goes on " * 8,
        "Réf. CSE-RFC-003 – £1,200 approuvé ✓",
        "é" * 300,
        "X\r\nBcc: v@e.example",
        "",
    ],
)
def test_subjects_fold_and_decode_to_what_was_given(mail_settings, subject):
    out, message = build(mail_settings, subject=subject)
    assert_well_formed(out, message)
    assert str(message["Subject"]) == header_safe(subject)
    header_block = out.data.split(b"\r\n\r\n", 1)[0]
    assert all(
        len(line) <= 78
        for line in header_block.split(b"\r\n")
        if line.startswith((b"Subject", b" "))
    )


@pytest.mark.parametrize(
    "text",
    [
        ".\n.. a line that starts with dots\n.",
        "From the officer: a line that starts with From\n",
        "trailing spaces   \nand tabs\t\n",
        "= signs == and =3D and =\n",
        "one very long line " * 400,
        "Windows\r\nline\rendings\r\n",
        "NUL\x00 and BEL\x07 and DEL\x7f",
        "£1,200 – “quoted” – 🏛️ – 李",
        "--=_0123456789abcdef01234567\n--=_0123456789abcdef01234567--",
        "",
    ],
)
def test_bodies_round_trip_exactly(mail_settings, text):
    out, message = build(mail_settings, text=text, html=f"<pre>{text}</pre>")
    assert_well_formed(out, message)
    plain, html = bodies(message)
    assert normalised(plain) == normalised(text)
    assert normalised(html) == normalised(f"<pre>{text}</pre>")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.text(max_size=120), subject=st.text(max_size=250), text=st.text(max_size=3000))
def test_any_input_gives_a_well_formed_message_that_decodes_back(
    mail_settings, name, subject, text
):
    out, message = build(mail_settings, name=name, subject=subject, text=text, html=text)
    assert_well_formed(out, message)
    assert str(message["Subject"]) == header_safe(subject)
    assert message["To"].addresses[0].display_name == header_safe(name)
    assert normalised(bodies(message)[0]) == normalised(text)


def test_an_address_that_is_not_ascii_is_sent_with_smtputf8(mail_settings):
    out, _ = build(mail_settings, name="Józef Nowak", address="józef@council.example")
    assert out.smtputf8 and out.recipient == "józef@council.example"
    assert '"Józef Nowak" <józef@council.example>'.encode() in out.data


def test_each_message_has_its_own_boundary(mail_settings):
    boundaries = {build(mail_settings)[1].get_boundary() for _ in range(50)}
    assert len(boundaries) == 50
