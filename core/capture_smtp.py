"""The demo's capture SMTP server: accepts every message and keeps it in a Maildir.

Demo and tests only; the web app's mailbox page reads the same folder.
"""

from __future__ import annotations

import mailbox
from pathlib import Path

from aiosmtpd.controller import Controller

from core.settings import get_settings


class _Keep:
    def __init__(self, folder: Path) -> None:
        self.box = mailbox.Maildir(folder, create=True)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.box.add(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def start(host: str = "127.0.0.1", port: int = 8025, folder: Path | None = None) -> Controller:
    folder = folder or get_settings().mailbox_dir
    controller = Controller(_Keep(folder), hostname=host, port=port)
    controller.start()
    return controller


def messages(
    folder: Path | None = None, limit: int = 200
) -> list[tuple[str, mailbox.MaildirMessage]]:
    """Newest first: (key, message)."""
    folder = folder or get_settings().mailbox_dir
    if not folder.exists():
        return []
    box = mailbox.Maildir(folder, create=False)
    items = sorted(box.items(), key=lambda kv: kv[1].get_date(), reverse=True)
    return items[:limit]
