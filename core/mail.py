"""Email messages and SMTP transport (aiosmtplib over a small pool of persistent connections).

Messages are written straight to MIME bytes: multipart/alternative with a quoted-printable text
part and HTML part, RFC 2047 encoded headers. That is about 15x cheaper than building and
flattening an `email.message.EmailMessage`, and the outbox sends thousands in a run.
"""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache

import aiosmtplib

from core.settings import Settings, secret_key

# C0 and C1 controls (NEL, U+0085, breaks lines for some parsers) and the Unicode separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_LINE = 78  # RFC 5322's recommended limit for a header line


def header_safe(value: str, limit: int = 200) -> str:
    """Collapse CR, LF and every other control or line-separating character into a space:
    they never reach a header."""
    if not value.isprintable():  # the common case skips the regex: nothing to collapse
        value = _CONTROL.sub(" ", value)
    return " ".join(value.split())[:limit].rstrip()  # runs of spaces read as one in a header


@dataclass(frozen=True)
class Email:
    to_name: str
    to_address: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Outgoing:
    """One message as it goes on the wire: the SMTP envelope and the MIME bytes."""

    sender: str
    recipient: str
    data: bytes
    smtputf8: bool = False


@lru_cache(maxsize=8)
def _parsed_from(mail_from: str) -> tuple[str, str]:
    return parseaddr(mail_from)


@lru_cache(maxsize=8)
def _from_header(mail_from: str) -> str:
    return _mailbox("From", *_parsed_from(mail_from))


def sender_domain(settings: Settings) -> str:
    return _parsed_from(settings.mail_from)[1].rpartition("@")[2] or "signoff.local"


def stable_message_id(key: str, settings: Settings) -> str:
    """A Message-ID that is the same every time the one email is sent (retries, re-claims).

    Derived from the email's idempotency key with the secret key, so a message sent again after
    a crash carries the same Message-ID and receivers can recognise the duplicate.
    """
    digest = hmac.new(secret_key(), b"message-id:" + key.encode(), hashlib.sha256).hexdigest()
    return f"<{digest[:32]}@{sender_domain(settings)}>"


def _encoded(name: str, value: str) -> str:
    """`Name: value`, RFC 2047 encoded when not ASCII, folded when long."""
    if value.isascii() and len(name) + 2 + len(value) <= _LINE:
        return f"{name}: {value}"
    charset = "us-ascii" if value.isascii() else "utf-8"
    folded = Header(value, charset, header_name=name, maxlinelen=_LINE).encode(linesep="\r\n")
    return f"{name}: {folded}"


def _mailbox(field: str, name: str, address: str) -> str:
    """`To: Name <address>`, the name as one encoded word when it is not ASCII."""
    name = header_safe(name)
    if address.isascii():
        return f"{field}: {formataddr((name, address), charset='utf-8')}"
    # An address that is not ASCII is sent with SMTPUTF8, whose headers carry UTF-8 (RFC 6532).
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'{field}: "{quoted}" <{address}>'


def _quoted_printable(body: str) -> bytes:
    lines = body.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(lines, istext=True).replace(b"\n", b"\r\n")


def _part(subtype: str, body: str) -> bytes:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode() + _quoted_printable(body)


def build_message(email: Email, *, settings: Settings, message_id: str) -> Outgoing:
    """The email as MIME bytes: a plain-text part and an HTML part of the same content."""
    from_address = _parsed_from(settings.mail_from)[1]
    to_address = header_safe(email.to_address, limit=254)
    # "=_" can never occur in quoted-printable text, so the boundary cannot clash with a body.
    boundary = f"=_{secrets.token_hex(12)}"
    headers = "\r\n".join(
        (
            _from_header(settings.mail_from),
            _mailbox("To", email.to_name, to_address),
            _encoded("Subject", header_safe(email.subject)),
            f"Date: {formatdate(localtime=False)}",
            f"Message-ID: {header_safe(message_id)}",
            "Auto-Submitted: auto-generated",
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
        )
    )
    delimiter = f"\r\n--{boundary}\r\n".encode()
    data = b"".join(
        (
            headers.encode("utf-8"),
            b"\r\n",
            delimiter,
            _part("plain", email.text),
            delimiter,
            _part("html", email.html),
            f"\r\n--{boundary}--\r\n".encode(),
        )
    )
    smtputf8 = not to_address.isascii()
    return Outgoing(sender=from_address, recipient=to_address, data=data, smtputf8=smtputf8)


class TemporaryFailure(Exception):
    """4xx reply, timeout or connection trouble: try again later."""


class PermanentFailure(Exception):
    """5xx reply: retrying will not help."""


def classify(exc: Exception) -> Exception:
    code = getattr(exc, "code", None)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        code = exc.recipients[0].code
    if isinstance(exc, aiosmtplib.SMTPNotSupported):  # e.g. SMTPUTF8: the relay cannot, ever
        return PermanentFailure(f"the relay cannot send this: {getattr(exc, 'message', exc)}")
    if isinstance(code, int) and 500 <= code < 600:
        return PermanentFailure(f"{code} {getattr(exc, 'message', exc)}")
    return TemporaryFailure(f"{code or type(exc).__name__} {getattr(exc, 'message', exc)}".strip())


class SmtpPool:
    """A fixed number of persistent connections, each used by one sender at a time."""

    def __init__(self, settings: Settings, size: int | None = None) -> None:
        self.settings = settings
        self.size = size or settings.smtp_pool_size
        self._idle: asyncio.Queue[aiosmtplib.SMTP | None] = asyncio.Queue()

    async def __aenter__(self) -> SmtpPool:
        for _ in range(self.size):
            self._idle.put_nowait(None)  # connect lazily
        return self

    async def __aexit__(self, *exc: object) -> None:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            if client is not None and client.is_connected:
                try:
                    await client.quit()
                except Exception:  # noqa: S110 - closing anyway
                    client.close()

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            timeout=s.smtp_timeout_seconds,
            start_tls=s.smtp_starttls,
            use_tls=False,
        )
        await client.connect()
        if s.smtp_username:
            await client.login(s.smtp_username, s.smtp_password or "")
        return client

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[aiosmtplib.SMTP]:
        client = await self._idle.get()
        try:
            if client is None or not client.is_connected:
                client = await self._connect()
            yield client
        except BaseException:
            if client is not None:
                client.close()
            client = None
            raise
        finally:
            self._idle.put_nowait(client)

    async def send(self, message: Outgoing) -> None:
        """Send one message; raises TemporaryFailure or PermanentFailure."""
        options = ["SMTPUTF8"] if message.smtputf8 else None
        try:
            async with self.connection() as client:
                errors, _ = await client.sendmail(
                    message.sender, [message.recipient], message.data, mail_options=options
                )
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            raise classify(exc) from exc
        if errors:
            code, text = next(iter(errors.values()))
            if 500 <= code < 600:
                raise PermanentFailure(f"{code} {text}")
            raise TemporaryFailure(f"{code} {text}")
