"""The sign-off rules a user relies on that the journeys do not show on their own: what one
signature closes and records, whose link approves, removing the last signatory still to sign,
who may never sign, links replaced by newer ones, and how often a link is resent (found by
mutation testing)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from support.performance import at
from support.planning import PAIRS, actor, edit, links, plan, respond, signatories, submit

from core import clock, tokens
from core.db import read_session, write_session
from models import ActionToken, AuditEvent, Step
from models.performance import Measure
from models.planning import PlanResponse, PlanStatus
from services.planning import signoff
from services.planning.schemas import SignatoryIn
from services.platform.errors import Conflict, Invalid, NotFound

CONTENT = {
    "operational": [
        {"indicator": "PP4 - % of service plans in place by April each year", "code": "PP4"}
    ]
}


@pytest.fixture(autouse=True)
def february(ccs: Any) -> Any:
    with clock.frozen(at("2010-02-01")):
        edit(ccs.plan.id, ccs.owner, CONTENT)
        submit(ccs.plan.id, ccs.owner)
        yield


def _link_row(raw: str) -> ActionToken:
    with read_session() as s:
        row = s.exec(
            select(ActionToken).where(ActionToken.token_hash == tokens.hash_token(raw))
        ).one()
        s.expunge(row)
        return row


def _set(ccs: Any, pairs: list[tuple[str, str]]) -> None:
    named = [SignatoryIn(**s) for s in signatories(pairs)]
    with write_session() as session:
        signoff.set_signatories(session, plan_id=ccs.plan.id, named=named, actor=actor(ccs.admin))


def test_one_signature_closes_only_that_signatorys_step_and_is_on_record(ccs: Any) -> None:
    hartley = ccs.by_email(PAIRS[0][1])
    raw = links(ccs.plan.id)[hartley.id]
    respond(raw)
    with read_session() as s:
        steps = {st.owner_id: st for st in s.exec(select(Step))}
        (signed,) = s.exec(select(AuditEvent).where(AuditEvent.action == "sign")).all()
    assert steps[hartley.id].closed_at is not None and steps[hartley.id].outcome == "signed"
    assert all(st.closed_at is None for pid, st in steps.items() if pid != hartley.id)
    assert (signed.actor_id, signed.actor_role, signed.subject_type, signed.subject_id) == (
        hartley.id,
        "signatory",
        "service_plan",
        ccs.plan.id,
    )
    assert (signed.from_status, signed.to_status, signed.detail) == (
        "submitted",
        "submitted",
        "version 1",
    )
    assert _link_row(raw).used_at is not None


def test_the_last_signatorys_link_is_used_not_revoked(ccs: Any) -> None:
    raw = links(ccs.plan.id)
    *others, last = [ccs.by_email(e) for _, e in PAIRS] + [ccs.owner]
    for person in others:
        respond(raw[person.id])
    respond(raw[last.id])
    row = _link_row(raw[last.id])
    assert row.used_at is not None and row.revoked_at is None
    assert plan(ccs.plan.id).status == PlanStatus.approved


def test_removing_the_only_signatory_still_to_sign_approves_the_plan(ccs: Any) -> None:
    raw = links(ccs.plan.id)
    fisher = ccs.by_email(PAIRS[4][1])
    for person_id, token in raw.items():
        if person_id != fisher.id:
            respond(token)
    _set(ccs, PAIRS[:4])  # Elections is no longer one of the plan's portfolios
    approved = plan(ccs.plan.id)
    assert approved.status == PlanStatus.approved
    with read_session() as s:
        (approval,) = s.exec(select(AuditEvent).where(AuditEvent.action == "approve")).all()
        (change,) = s.exec(
            select(AuditEvent).where(AuditEvent.action == "change_signatories")
        ).all()
        measures = s.exec(select(Measure)).all()
    assert (approval.actor_id, approval.actor_role) == (ccs.admin.id, "performance_team")
    assert "every remaining signatory had signed" in approval.detail
    assert (change.actor_id, change.actor_role) == (ccs.admin.id, "performance_team")
    assert "Cllr Eve Fisher" in change.detail.split("now:")[0]
    assert [m.code for m in measures] == ["PP4"]  # the approved plan is measured
    with pytest.raises(NotFound):  # and the removed signatory's link signs nothing
        respond(raw[fisher.id])


def test_a_removed_signatory_cannot_sign_with_their_link(ccs: Any) -> None:
    dunn = ccs.by_email(PAIRS[2][1])
    raw = links(ccs.plan.id)[dunn.id]
    gale = "cllr.gale@scambs.example"
    _set(ccs, [(p, gale if e == dunn.email else e) for p, e in PAIRS])
    with pytest.raises(NotFound) as refused:
        respond(raw)
    assert refused.value.message == signoff.NOT_VALID
    with read_session() as s:
        assert s.exec(select(PlanResponse)).all() == []


def test_a_plan_needs_a_portfolio_holder_and_an_approved_plan_keeps_its_signatories(
    ccs: Any,
) -> None:
    manager_alone = [SignatoryIn(email=ccs.owner.email, role="corporate_manager")]
    with write_session() as session, pytest.raises(Invalid, match="at least one Portfolio"):
        signoff.set_signatories(
            session, plan_id=ccs.plan.id, named=manager_alone, actor=actor(ccs.admin)
        )
    for token in links(ccs.plan.id).values():
        respond(token)
    with pytest.raises(Conflict, match="approved"):
        _set(ccs, PAIRS)


def test_a_link_replaced_by_a_newer_one_to_the_same_version_says_so(ccs: Any) -> None:
    dunn = ccs.by_email(PAIRS[2][1])
    old = links(ccs.plan.id)[dunn.id]
    with clock.frozen(at("2010-02-03")):  # two days on, she asks for the link again
        with write_session() as session:  # someone else's address: nothing is sent
            signoff.resend(session, raw=old, email="someone.else@example.com")
        assert links(ccs.plan.id)[dunn.id] == old
        with write_session() as session:
            signoff.resend(session, raw=old, email=dunn.email)
        new = links(ccs.plan.id)[dunn.id]
        assert new != old
        with read_session() as session:
            assert signoff.view(session, raw=old).state == "replaced"
            assert signoff.view(session, raw=new).state == "live"
        with pytest.raises(Conflict, match="A newer link to version 1"):
            respond(old)
        respond(new)
    with read_session() as s:
        assert [(r.person_id, r.kind) for r in s.exec(select(PlanResponse))] == [
            (dunn.id, "signed")
        ]


def _emails_to(person: Any) -> int:
    from models import OutboxMessage

    with read_session() as s:
        return len(
            s.exec(select(OutboxMessage).where(OutboxMessage.to_person_id == person.id)).all()
        )


def test_a_resend_within_minutes_of_the_last_link_sends_nothing_and_one_after_sends_a_new_link(
    ccs: Any,
) -> None:
    """The links went at 09:00 on 1 February; `link_reuse_minutes` is 5."""
    dunn = ccs.by_email(PAIRS[2][1])
    first = links(ccs.plan.id)[dunn.id]
    sent = _emails_to(dunn)
    with clock.frozen(at("2010-02-01", "09:04:59")), write_session() as session:
        signoff.resend(session, raw=first, email=dunn.email)
    assert links(ccs.plan.id)[dunn.id] == first and _emails_to(dunn) == sent
    with clock.frozen(at("2010-02-01", "09:05")):  # five minutes on: a new link, the old one gone
        with write_session() as session:
            signoff.resend(session, raw=first, email=dunn.email)
        second = links(ccs.plan.id)[dunn.id]
        assert second != first and _emails_to(dunn) == sent + 1
        with read_session() as session:
            assert signoff.view(session, raw=first).state == "replaced"
        with write_session() as session:  # and asking again at once sends nothing more
            signoff.resend(session, raw=second, email=dunn.email)
    assert links(ccs.plan.id)[dunn.id] == second and _emails_to(dunn) == sent + 1


def test_resends_stop_at_the_hourly_limit_and_start_again_the_next_hour(ccs: Any) -> None:
    """`link_emails_per_hour` is 5: five resends five minutes apart each send a link, the
    sixth within the hour sends nothing, and one after the hour sends a link again."""
    dunn = ccs.by_email(PAIRS[2][1])
    sent = _emails_to(dunn)
    seen = [links(ccs.plan.id)[dunn.id]]
    for minutes in (5, 10, 15, 20, 25):
        with clock.frozen(at("2010-02-01", f"09:{minutes:02d}")), write_session() as session:
            signoff.resend(session, raw=seen[-1], email=dunn.email)
        seen.append(links(ccs.plan.id)[dunn.id])
    assert len(set(seen)) == 6 and _emails_to(dunn) == sent + 5
    with clock.frozen(at("2010-02-01", "09:30")), write_session() as session:
        signoff.resend(session, raw=seen[-1], email=dunn.email)
    assert links(ccs.plan.id)[dunn.id] == seen[-1] and _emails_to(dunn) == sent + 5
    with clock.frozen(at("2010-02-01", "10:05")), write_session() as session:
        signoff.resend(session, raw=seen[-1], email=dunn.email)
    assert links(ccs.plan.id)[dunn.id] not in seen and _emails_to(dunn) == sent + 6
