"""Sign-off of the Community and Customer Services plan by its five pairs of signatories."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select
from support.performance import at
from support.planning import PAIRS, edit, links, plan, respond, submit

from core import clock
from core.db import read_session, write_session
from models import AuditEvent, OutboxMessage, Step
from models.planning import PlanResponse, PlanStatus
from services.platform.errors import Conflict, Gone, Invalid, NotFound

CONTENT = {"sections": {"about": {"fields": {"description": "Policy, performance, comms."}}}}


@pytest.fixture(autouse=True)
def february(ccs: Any) -> Any:
    """The plans go to their signatories in February 2010, as the council's did."""
    with clock.frozen(at("2010-02-01")):
        yield


def _signers(ccs: Any) -> list[Any]:
    return [ccs.by_email(email) for _, email in PAIRS] + [ccs.owner]


def _submitted(ccs: Any, note: str = "") -> Any:
    edit(ccs.plan.id, ccs.owner, CONTENT)
    return submit(ccs.plan.id, ccs.owner, note)


def test_every_signatory_signs_the_same_version_and_the_plan_is_approved(ccs: Any) -> None:
    version = _submitted(ccs, "Budget information is outstanding at section 8.")
    signers = _signers(ccs)
    raw = links(ccs.plan.id)
    assert set(raw) == {p.id for p in signers}  # the Corporate Manager once, for five pairs
    with clock.frozen(at("2010-02-02")):
        for person in signers[:-1]:
            respond(raw[person.id])
            assert plan(ccs.plan.id).status == PlanStatus.submitted
        respond(raw[signers[-1].id])
    approved = plan(ccs.plan.id)
    assert approved.status == PlanStatus.approved
    assert approved.approved_version_id == version.id
    with read_session() as s:
        signed = s.exec(select(PlanResponse).where(PlanResponse.version_id == version.id)).all()
        open_steps = s.exec(select(Step).where(Step.closed_at.is_(None))).all()  # type: ignore[union-attr]
        mails = {m.template for m in s.exec(select(OutboxMessage))}
    assert len(signed) == 6 and all(r.kind == "signed" for r in signed)
    assert open_steps == []
    assert {"plan_signature_request", "plan_approved"} <= mails


def test_a_link_works_once(ccs: Any) -> None:
    _submitted(ccs)
    raw = links(ccs.plan.id)[ccs.by_email(PAIRS[0][1]).id]
    respond(raw)
    with pytest.raises(Gone):
        respond(raw)


def test_asking_for_changes_returns_the_plan_and_keeps_signatures(ccs: Any) -> None:
    first = _submitted(ccs)
    signers = _signers(ccs)
    raw = links(ccs.plan.id)
    respond(raw[signers[0].id])
    with pytest.raises(Invalid):
        respond(raw[signers[1].id], "changes", "   ")
    respond(raw[signers[1].id], "changes", "Add the elections budget line.")
    assert plan(ccs.plan.id).status == PlanStatus.changes_asked
    with pytest.raises(Conflict):  # the others' links to version 1 no longer sign anything
        respond(raw[signers[2].id])
    assert links(ccs.plan.id) == {}
    with clock.frozen(at("2010-02-03")):
        edit(ccs.plan.id, ccs.owner, CONTENT | {"improvement": [{"action": "Budget line"}]})
        second = submit(ccs.plan.id, ccs.owner)
    assert second.number == first.number + 1
    raw = links(ccs.plan.id)
    assert set(raw) == {p.id for p in signers}  # everyone signs the new version, again
    with read_session() as s:
        kept = s.exec(select(PlanResponse).where(PlanResponse.version_id == first.id)).all()
    assert {(r.person_id, r.kind) for r in kept} == {
        (signers[0].id, "signed"),
        (signers[1].id, "changes_asked"),
    }


def test_signing_an_outdated_version_is_refused_with_the_current_one_offered(ccs: Any) -> None:
    _submitted(ccs)
    signer = ccs.by_email(PAIRS[2][1])
    old = links(ccs.plan.id)[signer.id]
    with clock.frozen(at("2010-02-05")):
        edit(ccs.plan.id, ccs.owner, CONTENT | {"improvement": [{"action": "Finance added"}]})
        submit(ccs.plan.id, ccs.owner)
    with pytest.raises(Conflict, match="replaced by version 2"):
        respond(old)
    assert plan(ccs.plan.id).status == PlanStatus.submitted
    respond(links(ccs.plan.id)[signer.id])  # the current version's link works


def test_an_expired_link_is_not_valid_and_signs_nothing(ccs: Any) -> None:
    _submitted(ccs)
    signer = ccs.by_email(PAIRS[0][1])
    raw = links(ccs.plan.id)[signer.id]
    with clock.frozen(clock.now() + timedelta(days=15)), pytest.raises(NotFound):
        respond(raw)
    with read_session() as s:
        assert s.exec(select(PlanResponse)).all() == []


def test_a_signatory_changed_between_versions(ccs: Any) -> None:
    from support.planning import actor, signatories

    from services.planning import signoff
    from services.planning.schemas import SignatoryIn

    _submitted(ccs)
    old, new = ccs.by_email(PAIRS[2][1]), ccs.by_email("cllr.gale@scambs.example")
    pairs = [(p, new.email if p == "Policy and Performance" else e) for p, e in PAIRS]
    with write_session() as session:
        signoff.set_signatories(
            session,
            plan_id=ccs.plan.id,
            named=[SignatoryIn(**s) for s in signatories(pairs)],
            actor=actor(ccs.admin),
        )
    raw = links(ccs.plan.id)
    assert new.id in raw and old.id not in raw
    with read_session() as s:
        changed = s.exec(select(AuditEvent).where(AuditEvent.action == "change_signatories")).one()
    assert old.name in changed.detail and new.name in changed.detail
    for token in raw.values():
        respond(token)
    assert plan(ccs.plan.id).status == PlanStatus.approved


def test_only_the_performance_team_changes_signatories(ccs: Any) -> None:
    from support.planning import actor

    from services.planning import signoff
    from services.platform.errors import Forbidden

    with write_session() as session, pytest.raises(Forbidden):
        signoff.set_signatories(session, plan_id=ccs.plan.id, named=[], actor=actor(ccs.owner))


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_racing_last_signatures_approve_the_plan_once(ccs: Any) -> None:
    """The last two signatories sign at once: the second waits for the first's transaction
    (the plan's row lock) and then sees its signature, so the plan is approved, once. Without
    the lock each would see the other still to sign, and the plan would never be approved."""
    from services.planning import signoff
    from services.planning.schemas import Response

    _submitted(ccs)
    signers = _signers(ccs)
    raw = links(ccs.plan.id)
    for person in signers[:-2]:
        respond(raw[person.id])
    errors: list[BaseException] = []
    second_done = threading.Event()

    def second() -> None:
        try:
            respond(raw[signers[-1].id])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        second_done.set()

    with write_session() as first:
        signoff.respond_by_link(
            first, raw=raw[signers[-2].id], data=Response(answer="sign"), address="192.0.2.1"
        )
        racer = threading.Thread(target=second)
        racer.start()
        # The second signature must wait for this transaction, not run beside it.
        assert not second_done.wait(timeout=1.0)
    racer.join(timeout=30)
    assert errors == []
    assert plan(ccs.plan.id).status == PlanStatus.approved
    with read_session() as s:
        approvals = s.exec(select(AuditEvent).where(AuditEvent.action == "approve")).all()
    assert len(approvals) == 1
