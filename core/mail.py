"""Email messages and SMTP transport (aiosmtplib over a small pool of persistent connections)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from core.settings import Settings

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def header_safe(value: str, limit: int = 200) -> str:
    """Collapse CR, LF and every other control character: they never reach a header."""
    return _CONTROL.sub(" ", value).strip()[:limit]


@dataclass(frozen=True)
class Email:
    to_name: str
    to_address: str
    subject: str
    text: str
    html: str


def new_message_id(settings: Settings) -> str:
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "signoff.local"
    return make_msgid(domain=domain)


def build_message(email: Email, *, settings: Settings, message_id: str) -> EmailMessage:
    msg = EmailMessage()
    from_name, from_addr = parseaddr(settings.mail_from)
    msg["From"] = str(Address(header_safe(from_name), addr_spec=from_addr))
    msg["To"] = str(Address(header_safe(email.to_name), addr_spec=header_safe(email.to_address)))
    msg["Subject"] = header_safe(email.subject)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(email.text)
    msg.add_alternative(email.html, subtype="html")
    return msg


class TemporaryFailure(Exception):
    """4xx reply, timeout or connection trouble: try again later."""


class PermanentFailure(Exception):
    """5xx reply: retrying will not help."""


def classify(exc: Exception) -> Exception:
    code = getattr(exc, "code", None)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        code = exc.recipients[0].code
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
            hostname=s.smtp_host, port=s.smtp_port, timeout=s.smtp_timeout_seconds,
            start_tls=s.smtp_starttls, use_tls=False,
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

    async def send(self, message: EmailMessage) -> None:
        """Send one message; raises TemporaryFailure or PermanentFailure."""
        try:
            async with self.connection() as client:
                errors, _ = await client.send_message(message)
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            raise classify(exc) from exc
        if errors:
            code, text = next(iter(errors.values()))
            if 500 <= code < 600:
                raise PermanentFailure(f"{code} {text}")
            raise TemporaryFailure(f"{code} {text}")
