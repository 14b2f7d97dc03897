"""Build an email from its outbox row when it is sent, from the data as it is then."""

from __future__ import annotations

from typing import Any

from core.db import CachedReads
from core.mail import Email
from core.settings import get_settings
from core.templating import environment
from models import ActionToken, OutboxMessage, Person, Project, Rfc
from services import action_links


def _context(reads: CachedReads, message: OutboxMessage, person: Person) -> dict[str, Any]:
    base = get_settings().base_url.rstrip("/")
    ctx: dict[str, Any] = dict(message.context)
    ctx.update(recipient=person, base_url=base, link=None, rfc=None, project=None, people={})
    if message.rfc_id is not None:
        rfc = reads.get(Rfc, message.rfc_id)
        if rfc is not None:
            project = reads.get(Project, rfc.project_id)
            ids = {rfc.requester_id, rfc.approver_id, rfc.decided_by_id, rfc.impact_by_id}
            if project is not None:
                ids |= {project.manager_id, project.sponsor_id}
            ctx.update(
                rfc=rfc,
                project=project,
                rfc_url=f"{base}/rfcs/{rfc.id}",
                people={i: reads.get(Person, i) for i in ids if i is not None},
            )
    if message.action_token_id is not None:
        token = reads.get(ActionToken, message.action_token_id)
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
    text_t = env.get_template(f"emails/{message.template}.txt")
    html_t = env.get_template(f"emails/{message.template}.html")
    subject = "".join(text_t.blocks["subject"](text_t.new_context(ctx))).strip()
    return Email(
        to_name=person.name,
        to_address=person.email,
        subject=subject,
        text=text_t.render(ctx),
        html=html_t.render(ctx),
    )
