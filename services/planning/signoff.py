"""Signing a plan: a signatory's emailed link shows the version (GET changes nothing); they sign
it or ask for changes (POST). The plan is approved when every signatory has signed the same
version. Also: a fresh link on request, and the performance team changing who signs.

Two signatories answering at once take the plan's row lock in turn (PostgreSQL; SQLite's
writers already queue), so the second sees the first's signature and exactly one of them
approves the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from core import clock
from core.settings import get_settings
from core.templating import long_date
from models import ActionToken, Person
from models.planning import (
    PlanResponse,
    PlanStatus,
    PlanVersion,
    ResponseKind,
    ServicePlan,
    SignatoryRole,
)
from services.planning import monitoring, plans, signers
from services.planning.plan_workflow import SIGN_LINK, STEP, SUBJECT, WORKFLOW, Holders
from services.planning.schemas import Response, SignatoryIn
from services.platform import action_links, audit, steps
from services.platform.actors import Actor
from services.platform.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from services.platform.people import lock_person_links, normalise_email, over_hourly_email_limit

NOT_VALID = (
    "This link is not valid. It may have expired or been mistyped. "
    "If it was sent to you, you can ask for a new one."
)


@dataclass
class LinkView:
    """What a link holder may see. `state`: live (they can answer), answered (this link was
    used), replaced (a newer version was submitted or this one withdrawn), closed (the plan is
    approved or back with its owner), removed (they no longer sign it)."""

    state: str
    token: ActionToken
    plan: ServicePlan
    version: PlanVersion  # the version the link is for
    current: PlanVersion | None  # the plan's newest submitted version
    signer: Person
    response: PlanResponse | None  # their answer to the link's version


def _version(session: Session, plan_id: int, number: int) -> PlanVersion | None:
    return session.exec(
        select(PlanVersion).where(PlanVersion.plan_id == plan_id, PlanVersion.number == number)
    ).first()


def view(session: Session, *, raw: str, lock: bool = False) -> LinkView:
    """Read-only: what the link is for and whether it can still be used."""
    token = action_links.find(session, raw, SIGN_LINK)
    # An expired, unused link is "not valid", like an unknown one: outsiders cannot tell them
    # apart. Its holder can ask for a new one at the registered address.
    if token is None or (token.used_at is None and token.expires_at <= clock.now()):
        raise NotFound(NOT_VALID)
    query = select(ServicePlan).where(ServicePlan.id == token.subject_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    plan = session.exec(query).first()
    version = _version(session, token.subject_id, token.subject_version)
    signer = session.get(Person, token.person_id)
    if plan is None or version is None or signer is None:
        raise NotFound(NOT_VALID)
    current = session.get(PlanVersion, plan.current_version_id) if plan.current_version_id else None
    response = session.exec(
        select(PlanResponse).where(
            PlanResponse.version_id == version.id, PlanResponse.person_id == signer.id
        )
    ).first()
    if response is not None or token.used_at is not None:
        state = "answered"
    elif signer.id not in signers.ids(session, plan_id=plan.id or 0):
        state = "removed"
    elif plan.status == PlanStatus.approved:
        state = "closed"
    elif current is None or current.id != version.id or plan.status != PlanStatus.submitted:
        state = "replaced"  # a newer version, or this one is back with its owner
    elif token.revoked_at is not None:
        state = "replaced"  # a newer link for the same version was sent
    else:
        state = "live"
    return LinkView(state, token, plan, version, current, signer, response)


def respond_by_link(session: Session, *, raw: str, data: Response, address: str) -> ServicePlan:
    """Record a signatory's answer to the version their link is for."""
    link = view(session, raw=raw, lock=True)
    plan, version = link.plan, link.version
    n = version.number
    if link.state == "answered":
        raise Gone(f"You have already answered version {n} of this plan.")
    if link.state == "removed":
        raise NotFound(NOT_VALID)
    if link.state == "replaced":
        raise Conflict(replaced_message(link))
    if link.state == "closed":
        raise Gone(f"{plans_ref(plan)} is no longer waiting for signatures: it is {plan.status}.")
    actor = Actor(person_id=link.signer.id or 0, address=address)
    holders = Holders(frozenset(signers.ids(session, plan_id=plan.id or 0)))
    kind = ResponseKind.signed if data.answer == "sign" else ResponseKind.changes_asked
    if kind == ResponseKind.changes_asked and not data.comment.strip():
        raise Invalid("Say what should change before asking for changes.")
    session.add(
        PlanResponse(
            plan_id=plan.id or 0,
            version_id=version.id or 0,
            person_id=actor.person_id,
            kind=kind,
            comment=data.comment.strip(),
            at=clock.now(),
        )
    )
    session.flush()
    if kind == ResponseKind.changes_asked:
        WORKFLOW.apply(
            session,
            plan,
            holders,
            action="ask_changes",
            actor=actor,
            link=link.token,
            detail=f"version {n}: {data.comment.strip()[:500]}",
        )
        return plan
    steps.complete(
        session,
        subject=steps.Subject(SUBJECT, plan.id or 0, n),
        kind=STEP,
        owner_id=actor.person_id,
        outcome="signed",
    )
    if signers.still_to_sign(session, plan=plan):
        if not action_links.consume(session, link.token):
            raise Conflict("This link was used a moment ago by another request.")
        audit.record(
            session,
            actor_id=actor.person_id,
            actor_role="signatory",
            actor_address=address,
            subject_type=SUBJECT,
            subject_id=plan.id or 0,
            subject_version=plan.version,
            action="sign",
            from_status=plan.status,
            to_status=plan.status,
            detail=f"version {n}",
        )
        return plan
    return _approve(session, plan, holders, actor, link.token, f"version {n}: all have signed")


def _approve(
    session: Session,
    plan: ServicePlan,
    holders: Holders,
    actor: Actor,
    link: ActionToken | None,
    detail: str,
) -> ServicePlan:
    WORKFLOW.apply(
        session,
        plan,
        holders,
        action="approve",
        actor=actor,
        link=link,
        detail=detail,
        changes={"approved_version_id": plan.current_version_id, "approved_on": clock.today()},
    )
    monitoring.load_approved(session, plan=plan)
    return plan


def plans_ref(plan: ServicePlan) -> str:
    return WORKFLOW.ref(plan)


def replaced_message(link: LinkView) -> str:
    current = link.current
    if link.plan.status == PlanStatus.submitted and current is not None:
        if current.id == link.version.id:  # the same version: a newer link was sent since
            return (
                f"A newer link to version {current.number} of this plan was sent to you after "
                "this one, and only the newest works: use it, or ask for a new one below."
            )
        # London's date, said as every other date is ("5 February 2010"): not UTC's, which
        # is the day before for a version submitted between midnight and 1am in summer.
        submitted = current.submitted_at.astimezone(clock.local_tz()).date()
        return (
            f"Version {link.version.number} of this plan has been replaced by version "
            f"{current.number}, submitted on {long_date(submitted)}. Only the current "
            "version can be signed: use the link to it sent to you, or ask for a new one below."
        )
    why = (
        "changes were asked"
        if link.plan.status == PlanStatus.changes_asked
        else "its owner is changing it"
    )
    return (
        f"Version {link.version.number} of this plan is no longer waiting for signatures: "
        f"{why}. You will be sent a link to the next version when it is submitted."
    )


def resend(session: Session, *, raw: str, email: str) -> bool:
    """Email a link to the current version, only to the address registered for the link's
    holder and only while they still have it to sign; silent otherwise (the page's answer is
    the same). Never floods an inbox: nothing is sent while their newest live link to the
    current version is only minutes old, nor past the hourly limit. Returns False when `raw`
    is unknown or expired (what a guess looks like), for the caller to count."""
    token = action_links.find(session, raw, SIGN_LINK)
    known = token is not None and (token.used_at is not None or token.expires_at > clock.now())
    person = session.get(Person, token.person_id) if token is not None else None
    plan = session.get(ServicePlan, token.subject_id) if token is not None else None
    if person is None or plan is None or normalise_email(email) != person.email:
        return known
    if plan.status != PlanStatus.submitted or plan.current_version_id is None:
        return known
    if person not in signers.still_to_sign(session, plan=plan):
        return known
    current = session.get(PlanVersion, plan.current_version_id)
    assert current is not None
    lock_person_links(session, person)
    about = {
        "purpose": SIGN_LINK,
        "subject_type": SUBJECT,
        "subject_id": plan.id or 0,
        "person_id": person.id or 0,
    }
    newest = action_links.newest_live(session, **about)  # type: ignore[arg-type]
    recent = clock.now() - timedelta(minutes=get_settings().link_reuse_minutes)
    if newest is not None and newest.subject_version == current.number:
        if newest.created_at > recent:
            return known
    if over_hourly_email_limit(session, bucket="resend_email", email=person.email):
        return known
    action_links.revoke_for_person(session, **about)  # type: ignore[arg-type]
    signers.ask_to_sign(
        session, plan=plan, version=current, people=[person], reason="resend", step=False
    )
    return known


def set_signatories(
    session: Session, *, plan_id: int, named: list[SignatoryIn], actor: Actor
) -> ServicePlan:
    """The performance team changes who signs a plan (audited). While the plan is with its
    signatories, those added are asked to sign the current version and those removed are no
    longer asked; if everyone left has signed it, the plan is approved."""
    if not actor.is_admin:
        raise Forbidden("Only the performance team can change a plan's signatories.")
    query = select(ServicePlan).where(ServicePlan.id == plan_id).with_for_update()
    plan = session.exec(query.execution_options(populate_existing=True)).first()
    if plan is None:
        raise NotFound("There is no such service plan.")
    if plan.status == PlanStatus.approved:
        raise Conflict("The plan has been approved: its signatories cannot be changed.")
    resolved = plans.resolve(session, named)
    if not any(n.role == SignatoryRole.portfolio_holder for n in resolved):
        raise Invalid("A plan needs at least one Portfolio Holder to sign it.")
    before = signers.current(session, plan_id=plan_id)
    signers.replace(session, plan=plan, named=resolved)
    after = signers.current(session, plan_id=plan_id)
    audit.record(
        session,
        actor_id=actor.person_id,
        actor_role="performance_team",
        actor_address=actor.address,
        subject_type=SUBJECT,
        subject_id=plan_id,
        subject_version=plan.version,
        action="change_signatories",
        detail=f"was: {_names(before)}; now: {_names(after)}",
    )
    if plan.status == PlanStatus.submitted and plan.current_version_id is not None:
        current = session.get(PlanVersion, plan.current_version_id)
        assert current is not None
        was = {p.id or 0 for _, p in before}
        signers.changed_while_submitted(session, plan=plan, before=was, version=current)
        if not signers.still_to_sign(session, plan=plan):
            holders = Holders(frozenset(signers.ids(session, plan_id=plan_id)), True)
            _approve(session, plan, holders, actor, None, "every remaining signatory had signed")
    return plan


def _names(named: Sequence[tuple[object, Person]]) -> str:
    return ", ".join(dict.fromkeys(p.name for _, p in named)) or "nobody"
