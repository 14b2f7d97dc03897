"""The sponsor's emailed link: look (GET, changes nothing), decide (POST), ask for a new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from core import clock
from core.settings import get_settings
from models import ActionToken, Person
from models.change_control import Project, Rfc, RfcStatus
from models.change_control.rfcs import DecisionInput
from services.change_control import rfc_workflow, rfcs
from services.platform import action_links
from services.platform.actors import Actor
from services.platform.errors import Conflict, Gone, NotFound, Refusal
from services.platform.people import lock_person_links, normalise_email, over_hourly_email_limit

NOT_VALID = (
    "This link is not valid. It may have expired or been mistyped. "
    "If it was sent to you, you can ask for a new one."
)


@dataclass
class LinkView:
    """What a link holder may see; `state` is live, used, changed or closed."""

    state: str
    token: ActionToken
    rfc: Rfc
    project: Project
    approver: Person


def view(session: Session, *, raw: str) -> LinkView:
    """Read-only: what the link is for and whether it can still be used."""
    state, token, rfc, project = _read(session, raw)
    approver = session.get(Person, token.person_id)
    assert approver is not None
    return LinkView(state, token, rfc, project, approver)


def _read(session: Session, raw: str) -> tuple[str, ActionToken, Rfc, Project]:
    token = action_links.find(session, raw, "approve_rfc")
    # An expired link stays "not valid" whatever happened to the RFC since: outsiders
    # cannot tell unknown from expired. A used one shows the decision it made.
    if token is None or (token.used_at is None and token.expires_at <= clock.now()):
        raise NotFound(NOT_VALID)
    rfc, project = rfcs.get_rfc(session, rfc_id=token.subject_id)
    if token.used_at is not None:
        state = "used"
    elif rfc.status != RfcStatus.awaiting_approval:
        state = "closed"
    elif rfc.approver_id != token.person_id:
        state = "reassigned"  # e.g. re-classified as minor: the sponsor is no longer asked
    elif token.revoked_at is not None or token.subject_version != rfc.version:
        state = "changed"
    else:
        state = "live"
    return state, token, rfc, project


def decide_by_link(session: Session, *, raw: str, data: DecisionInput, address: str) -> Rfc:
    """Record the approver's decision: single use, bound to version and person."""
    state, token, rfc, project = _read(session, raw)
    refusal = Refusal(
        "rfc",
        rfc.id or 0,
        token.subject_version,
        data.decision,
        rfc.status,
        token.person_id,
        "approver",
        address,
    )
    if state in ("used", "closed"):
        if rfc.status == RfcStatus.withdrawn:
            raise Gone(f"{rfc.ref} was withdrawn: no decision is needed.", refusal=refusal)
        raise Gone(f"{rfc.ref} has already been decided: it is {rfc.status}.", refusal=refusal)
    if state == "changed":
        raise Conflict(
            f"{rfc.ref} has changed since this link was sent. "
            "A new link has been emailed to you for the current version.",
            refusal=refusal,
        )
    if state == "reassigned":
        raise NotFound(NOT_VALID, refusal=refusal)
    actor = Actor(person_id=token.person_id, address=address)
    return rfcs.record_decision(
        session, rfc=rfc, project=project, actor=actor, data=data, link=token
    )


def resend(session: Session, *, raw: str, email: str) -> bool:
    """Send a fresh link, only to the address registered for it; silent otherwise.

    Never floods an inbox, like sign-in: while the approver's newest live link for this RFC
    is younger than SIGNOFF_LINK_REUSE_MINUTES nothing is sent; otherwise their live links
    are revoked and one new link is sent (never several live links for one RFC and person),
    at most SIGNOFF_LINK_EMAILS_PER_HOUR an hour. Returns False when `raw` is unknown or
    expired (what a guess looks like), for the caller to count; the answer shown is the same.
    """
    token = action_links.find(session, raw, "approve_rfc")
    known = token is not None and (token.used_at is not None or token.expires_at > clock.now())
    if token is None or token.used_at is not None:
        return known
    person = session.get(Person, token.person_id)
    rfc = session.get(Rfc, token.subject_id)
    if person is None or rfc is None or normalise_email(email) != person.email:
        return known
    if rfc.status != RfcStatus.awaiting_approval or rfc.approver_id != person.id:
        return known
    if action_links.is_live(token) and token.subject_version == rfc.version:
        return known  # the link still works: nothing to re-issue
    lock_person_links(session, person)
    about: dict[str, Any] = {
        "purpose": "approve_rfc",
        "subject_type": "rfc",
        "subject_id": rfc.id or 0,
        "person_id": person.id or 0,
    }
    newest = action_links.newest_live(session, **about)
    recent = clock.now() - timedelta(minutes=get_settings().link_reuse_minutes)
    if newest is not None and newest.subject_version == rfc.version and newest.created_at > recent:
        return known  # a new link went out minutes ago: the approver already has it
    if over_hourly_email_limit(session, bucket="resend_email", email=person.email):
        return known
    action_links.revoke_for_person(session, **about)
    rfc_workflow.send_approval_link(session, rfc=rfc, reason="resend")
    return known
