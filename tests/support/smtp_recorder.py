"""A real aiosmtpd SMTP server for tests: records what it accepts, and can refuse on demand.

`fail_next(n, code)` makes the server answer the next `n` messages with an SMTP error (e.g.
451 "try again later", 550 "mailbox unavailable") at the RCPT or DATA stage, like a council
relay that is busy or that refuses an address. Refused messages are not recorded.
"""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://[^\s\"'<>]+/approvals/[A-Za-z0-9_-]+")

_REPLIES = {
    421: "421 4.3.0 Service not available, closing channel",
    450: "450 4.2.1 Mailbox busy, try again later",
    451: "451 4.3.0 Local error in processing, try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 Mailbox unavailable",
    552: "552 5.3.4 Message too big",
    554: "554 5.7.1 Transaction failed",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    """One message the server accepted, as it arrived on the wire."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.message = BytesParser(policy=policy.default).parsebytes(self.raw)  # type: ignore[assignment]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    @property
    def header_block(self) -> bytes:
        """The raw header lines, before the first blank line."""
        return self.raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]

    def links(self) -> list[str]:
        return LINK.findall(self.text)

    def link(self) -> str:
        found = self.links()
        assert len(found) == 1, f"expected one approval link in {self.subject!r}, found {found}"
        return found[0]


class RecordingHandler:
    """aiosmtpd handler: accepts and records, or answers a planned error code."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[Received] = []
        self.refused: list[tuple[int, list[str]]] = []
        self._plan: list[tuple[int, str]] = []  # (code, stage) for the next messages

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.refused.clear()
            self._plan.clear()

    def fail_next(self, count: int, code: int = 451, *, stage: str = "data") -> None:
        """Answer the next `count` messages with `code` at stage "rcpt" or "data"."""
        assert stage in ("rcpt", "data")
        with self._lock:
            self._plan.extend([(code, stage)] * count)

    def _planned(self, stage: str) -> int | None:
        with self._lock:
            if self._plan and self._plan[0][1] == stage:
                return self._plan.pop(0)[0]
        return None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        code = self._planned("rcpt")
        if code is not None:
            with self._lock:
                self.refused.append((code, [address]))
            return _REPLIES.get(code, f"{code} refused by the test server")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        code = self._planned("data")
        if code is not None:
            with self._lock:
                self.refused.append((code, list(envelope.rcpt_tos)))
            return _REPLIES.get(code, f"{code} refused by the test server")
        raw = envelope.original_content or envelope.content
        with self._lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(raw)))
        return "250 Message accepted for delivery"


class SmtpRecorder:
    """The server and its handler; `messages` is what was accepted, oldest first."""

    def __init__(self, host: str = "127.0.0.1", *, smtputf8: bool = True) -> None:
        """`smtputf8`: offer SMTPUTF8 (RFC 6531), as council relays today do, for addresses
        that are not ASCII."""
        self.handler = RecordingHandler()
        self.host = host
        self.port = free_port()
        self.controller = Controller(
            self.handler, hostname=host, port=self.port, enable_SMTPUTF8=smtputf8
        )

    def start(self) -> SmtpRecorder:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Received]:
        with self.handler._lock:
            return list(self.handler.messages)

    @property
    def refused(self) -> list[tuple[int, list[str]]]:
        with self.handler._lock:
            return list(self.handler.refused)

    def reset(self) -> None:
        self.handler.reset()

    def fail_next(self, count: int, code: int = 451, *, stage: str = "data") -> None:
        self.handler.fail_next(count, code, stage=stage)

    def to(self, address: str) -> list[Received]:
        """Messages whose envelope includes `address`."""
        return [m for m in self.messages if address in m.rcpt_tos]
