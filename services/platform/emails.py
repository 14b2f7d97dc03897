"""Build an email from its outbox row when it is sent, from the data as it is then.

The platform knows the recipient and the action link; what an email says about its subject
comes from the subject's domain (services.platform.subjects), and its templates from that
domain's folder, templates/emails/<domain>/.
"""

from __future__ import annotations

from typing import Any

from core.db import CachedReads
from core.mail import Email
from core.settings import get_settings
from core.templating import environment
from models import ActionToken, OutboxMessage, Person
from services.platform import action_links, outbox, subjects


def _context(reads: CachedReads, message: OutboxMessage, person: Person) -> dict[str, Any]:
    base = get_settings().base_url.rstrip("/")
    ctx: dict[str, Any] = dict(message.context)
    ctx.update(recipient=person, base_url=base)
    ctx.update(
        _about(reads, base, message.subject_type, message.subject_id, message.action_token_id)
    )
    if "items" in ctx:  # a digest: each item still owed, with what its domain says about it
        ctx["items"] = [
            item
            | _about(
                reads,
                base,
                item.get("subject_type"),
                item.get("subject_id"),
                item.get("action_token_id"),
            )
            for item in ctx["items"]
            if outbox.item_is_relevant(reads, item)
        ]
    return ctx


def _about(
    reads: CachedReads,
    base: str,
    subject_type: str | None,
    subject_id: int | None,
    action_token_id: int | None,
) -> dict[str, Any]:
    """The subject's email context from its domain, its template folder, and the link."""
    ctx: dict[str, Any] = {"link": None}
    if subject_type is not None:
        kind = subjects.get(subject_type)
        ctx["folder"] = f"emails/{kind.templates}/"
        subject = kind.load(reads, subject_id or 0)
        if subject is not None:
            ctx.update(kind.email_context(reads, subject, base))
    if action_token_id is not None:
        token = reads.get(ActionToken, action_token_id)
        if token is not None:
            ctx.update(link=action_links.url_for(token), link_expires_at=token.expires_at)
    return ctx


def render(reads: CachedReads, message: OutboxMessage) -> Email | None:
    """The email for an outbox row, or None if its recipient has gone."""
    person = reads.get(Person, message.to_person_id)
    if person is None or not person.active:
        return None
    env = environment()
    ctx = _context(reads, message, person)
    folder = ctx.get("folder", "emails/")
    text_t = env.get_template(f"{folder}{message.template}.txt")
    html_t = env.get_template(f"{folder}{message.template}.html")
    subject = "".join(text_t.blocks["subject"](text_t.new_context(ctx))).strip()
    return Email(
        to_name=person.name,
        to_address=person.email,
        subject=subject,
        text=text_t.render(ctx),
        html=html_t.render(ctx),
    )
