"""The RFC transition table: every allowed and every forbidden (status, action, role) move.

Allowed moves go through the use cases (services.change_control.rfcs) and must land in the
table's target status with one 'ok' audit row. Forbidden moves must raise in the service,
change nothing, and through the API answer 403/409 with exactly one 'refused' audit row and
nothing else written.
"""

from __future__ import annotations

import itertools

import pytest
from support.factories import MAJOR

from services.platform.errors import Conflict, Forbidden, NotFound, ServiceError

STATUSES = ("draft", "impact_analysis", "awaiting_approval", "approved", "rejected", "withdrawn")
ACTIONS = ("edit", "submit", "withdraw", "record_impact", "approve", "reject")
ROLES = ("requester", "manager", "sponsor", "stranger")

# The table as the issue describes it (from status, action) -> (to status, who may).
SPEC = {
    ("draft", "edit"): ("draft", {"requester"}),
    ("draft", "submit"): ("impact_analysis", {"requester"}),
    ("draft", "withdraw"): ("withdrawn", {"requester"}),
    ("impact_analysis", "edit"): ("impact_analysis", {"requester", "manager"}),
    ("impact_analysis", "record_impact"): ("awaiting_approval", {"manager"}),
    ("impact_analysis", "withdraw"): ("withdrawn", {"requester", "manager"}),
    ("awaiting_approval", "edit"): ("awaiting_approval", {"requester", "manager"}),
    ("awaiting_approval", "record_impact"): ("awaiting_approval", {"manager"}),
    ("awaiting_approval", "approve"): ("approved", {"approver"}),
    ("awaiting_approval", "reject"): ("rejected", {"approver"}),
    ("awaiting_approval", "withdraw"): ("withdrawn", {"requester", "manager"}),
}


def table_role(role: str, status: str) -> str:
    """On a major change awaiting approval, the sponsor is the named approver."""
    return "approver" if role == "sponsor" and status == "awaiting_approval" else role


def expected(status: str, action: str, role: str) -> str | None:
    """The target status if the move is allowed, else None."""
    move = SPEC.get((status, action))
    if move is None or table_role(role, status) not in move[1]:
        return None
    return move[0]


CASES = list(itertools.product(STATUSES, ACTIONS, ROLES))
MAY_EVER = {
    a: set().union(*(who for (_, act), (_, who) in SPEC.items() if act == a)) for a in ACTIONS
}


def refused_for_state(status: str, action: str, role: str) -> bool:
    """Conflict (409) only for someone who could make this move in another state; anyone else
    is refused for who they are (403) and learns nothing about the RFC's state."""
    holds = (
        "approver"
        if role == "sponsor" and status in ("awaiting_approval", "approved", "rejected")
        else role
    )
    return (status, action) not in SPEC and holds in MAY_EVER[action]


def test_the_table_is_the_specified_one():
    from services.change_control.rfc_workflow import TRANSITIONS

    actual = {(str(s), a): (str(m.to), set(m.roles)) for (s, a), m in TRANSITIONS.items()}
    assert actual == SPEC


def test_every_case_is_covered():
    allowed = [c for c in CASES if expected(*c)]
    # Each allowed table entry is exercised by at least one role, and some moves are refused.
    assert {(s, a) for s, a, _ in allowed} == set(SPEC)
    assert len(CASES) == 144 and len(allowed) == 15


def _person(team, role):  # type: ignore[no-untyped-def]
    return {
        "requester": team.officer,
        "manager": team.manager,
        "sponsor": team.sponsor,
        "stranger": team.stranger,
    }[role]


def _service_call(factory, rfc, action, person):  # type: ignore[no-untyped-def]
    if action == "edit":
        return factory.edit(rfc, person, title=f"New title {factory.n()}")
    if action == "submit":
        return factory.submit(rfc, person)
    if action == "withdraw":
        return factory.withdraw(rfc, person)
    if action == "record_impact":
        return factory.impact(rfc, person, **MAJOR)
    return factory.decide(rfc, person, action, reason="Because the stage review says so.")


def _api_call(client, factory, rfc, action, headers):  # type: ignore[no-untyped-def]
    base = f"/api/v1/rfcs/{rfc.id}"
    if action == "edit":
        return client.patch(base, json={"title": f"New title {factory.n()}"}, headers=headers)
    if action in ("submit", "withdraw"):
        return client.post(f"{base}/{action}", headers=headers)
    if action == "record_impact":
        return client.post(f"{base}/impact", json=MAJOR, headers=headers)
    return client.post(
        f"{base}/decision", json={"decision": action, "reason": "Because."}, headers=headers
    )


@pytest.mark.parametrize(
    ("status", "action", "role"), [c for c in CASES if expected(*c)], ids=lambda v: str(v)
)
def test_allowed_move(factory, team, db, status, action, role):
    rfc = factory.in_status(team, status)
    assert rfc.status == status
    before = db.counts()
    person = _person(team, role)

    result = _service_call(factory, rfc, action, person)

    target = expected(status, action, role)
    assert result.status == target
    row = db.rfc(rfc.id)
    assert (row.status, row.version) == (target, rfc.version + 1)
    after = db.counts()
    assert after["audit_ok"] == before["audit_ok"] + 1
    assert after["audit_refused"] == before["audit_refused"]
    event = db.audit(rfc.id, outcome="ok")[-1]
    assert (event.action, event.from_status, event.to_status) == (action, status, target)
    assert event.actor_id == person.id
    assert event.subject_version == rfc.version + 1
    assert event.actor_role == table_role(role, status)
    assert event.actor_address == "192.0.2.10"


@pytest.mark.parametrize(
    ("status", "action", "role"), [c for c in CASES if not expected(*c)], ids=lambda v: str(v)
)
def test_forbidden_move(factory, team, db, client, status, action, role):
    rfc = factory.in_status(team, status)
    person = _person(team, role)
    headers = factory.auth(person)
    snapshot = db.snapshot()

    wrong_state = refused_for_state(status, action, role)
    outsider = role == "stranger"  # not one of the project's people: the RFC does not exist
    refusal = NotFound if outsider else Conflict if wrong_state else Forbidden
    with pytest.raises(ServiceError) as raised:
        _service_call(factory, rfc, action, person)
    assert type(raised.value) is refusal
    assert db.snapshot() == snapshot, "a refused move changed the database"

    before = db.counts()
    response = _api_call(client, factory, rfc, action, headers)
    assert response.status_code == (404 if outsider else 409 if wrong_state else 403), response.text
    assert response.json()["detail"]
    after = db.counts()
    assert after == before | {
        "audit_event": before["audit_event"] + 1,
        "audit_refused": before["audit_refused"] + 1,
    }
    row = db.rfc(rfc.id)
    assert (row.status, row.version) == (status, rfc.version)
    refused = db.audit(rfc.id, outcome="refused")
    assert len(refused) == 1
    assert (refused[0].action, refused[0].from_status, refused[0].actor_id) == (
        action,
        status,
        person.id,
    )
    assert refused[0].to_status == ""
    assert refused[0].actor_address == "testclient"
    assert refused[0].detail == response.json()["detail"]


def test_sponsor_is_not_the_approver_of_a_minor_change(factory, team, db, client):
    """A minor change is the PM's to decide: the sponsor and the alternate are refused."""
    rfc = factory.in_status(team, "awaiting_approval", major=False)
    assert rfc.classification == "minor" and rfc.approver_id == team.manager.id
    for person in (team.sponsor, team.alternate, team.officer):
        before = db.counts()
        r = client.post(
            f"/api/v1/rfcs/{rfc.id}/decision",
            json={"decision": "approve"},
            headers=factory.auth(person),
        )
        assert r.status_code == 403, r.text
        assert db.counts()["rfc"] == before["rfc"]
        assert db.rfc(rfc.id).status == "awaiting_approval"
    decided = factory.decide(rfc, team.manager, "approve")
    assert decided.status == "approved" and decided.decided_by_id == team.manager.id


def test_apply_moves_and_audits_through_the_table(factory, team, db):
    """rfc_workflow.apply itself: each table entry, by a person holding an allowed role."""
    from core.db import write_session
    from services.change_control import rfc_workflow
    from services.change_control.rfcs import get_rfc

    for (status, action), (target, who) in SPEC.items():
        rfc = factory.in_status(team, status)
        role = sorted(who)[0]
        person = team.sponsor if role == "approver" else _person(team, role)
        with write_session() as session:
            row, project = get_rfc(session, rfc_id=rfc.id)
            # The move's after-effects ask the approver named by the impact analysis.
            changes = {"approver_id": team.sponsor.id} if action == "record_impact" else {}
            moved = rfc_workflow.apply(
                session,
                rfc=row,
                project=project,
                action=action,
                actor=factory.actor(person),
                changes=changes,
            )
            assert moved.status == target
        assert db.rfc(rfc.id).status == target, (status, action)
        last = db.audit(rfc.id)[-1]
        assert (last.action, last.outcome, last.to_status) == (action, "ok", target)


def test_apply_refuses_a_stale_copy(factory, team, db):
    """Two writers with the same version: the conditional UPDATE lets only the first through."""
    from core.db import write_session
    from services.change_control import rfc_workflow
    from services.change_control.rfcs import get_rfc

    rfc = factory.in_status(team, "impact_analysis")
    with write_session() as session:
        stale, project = get_rfc(session, rfc_id=rfc.id)
        session.expunge(stale)
    factory.edit(rfc, team.officer, title="Changed meanwhile")
    snapshot = db.snapshot()
    with pytest.raises(Conflict, match="changed by someone else") as raised:
        with write_session() as session:
            rfc_workflow.apply(
                session,
                rfc=stale,
                project=project,
                action="withdraw",
                actor=factory.actor(team.officer),
            )
    assert db.snapshot() == snapshot
    # The lost attempt is still recorded, as the API records it, with its role and status.
    from services.platform import audit

    assert raised.value.refusal is not None
    audit.record_refusal(raised.value.refusal, raised.value.message)
    (row,) = db.audit(rfc.id, outcome="refused")
    assert (row.action, row.actor_role, row.from_status) == (
        "withdraw",
        "requester",
        "impact_analysis",
    )


def test_unknown_action_is_a_conflict_not_a_crash(factory, team, db):
    from core.db import write_session
    from services.change_control import rfc_workflow
    from services.change_control.rfcs import get_rfc

    rfc = factory.in_status(team, "draft")
    snapshot = db.snapshot()
    with pytest.raises(Conflict):
        with write_session() as session:
            row, project = get_rfc(session, rfc_id=rfc.id)
            rfc_workflow.apply(
                session,
                rfc=row,
                project=project,
                action="record_impact",
                actor=factory.actor(team.manager),
            )
    assert db.snapshot() == snapshot


def test_audit_trail_is_append_only(factory, team, db, client):
    """Rows once written are never changed or removed by later moves, ok or refused."""
    seen: list = []

    def check() -> None:
        rows = db.snapshot()["audit_event"]
        assert rows[: len(seen)] == seen
        seen[:] = rows

    rfc = factory.rfc(team)
    check()
    factory.submit(rfc, team.officer)
    check()
    client.post(f"/api/v1/rfcs/{rfc.id}/impact", json=MAJOR, headers=factory.auth(team.stranger))
    check()
    factory.impact(rfc, team.manager)
    check()
    factory.edit(rfc, team.officer)
    check()
    factory.decide(rfc, team.sponsor, "reject", reason="No.")
    check()
    assert len(seen) == 8  # project created, officer added, then six moves


# --- what a refusal says, and what a move records (found by mutation testing) --------------


@pytest.mark.parametrize(
    ("status", "action", "who", "code", "message"),
    [
        (
            "awaiting_approval",
            "approve",
            "officer",
            403,
            "Only the approver named for {ref} may decide it.",
        ),
        (
            "impact_analysis",
            "record_impact",
            "officer",
            403,
            "Only the project's Project Manager records the impact analysis.",
        ),
        ("draft", "submit", "manager", 403, "You cannot make this change to {ref}."),
        (
            "awaiting_approval",
            "submit",
            "officer",
            409,
            "{ref} is awaiting approval: it cannot be submitted now.",
        ),
        ("approved", "withdraw", "officer", 409, "{ref} is approved: it cannot be withdrawn now."),
        ("withdrawn", "edit", "officer", 409, "{ref} is withdrawn: it cannot be edited now."),
        (
            "awaiting_approval",
            "reject",
            "officer",
            403,
            "Only the approver named for {ref} may decide it.",
        ),
        ("approved", "reject", "sponsor", 409, "{ref} is approved: it cannot be rejected now."),
        ("rejected", "approve", "sponsor", 409, "{ref} is rejected: it cannot be approved now."),
        (
            "draft",
            "record_impact",
            "manager",
            409,
            "{ref} is draft: it cannot be given an impact analysis now.",
        ),
    ],
)
def test_a_refusal_says_why_in_the_councils_words(
    client, factory, team, status, action, who, code, message
):
    rfc = factory.in_status(team, status)
    person = getattr(team, who)
    path, body = {
        "approve": (f"/api/v1/rfcs/{rfc.ref}/decision", {"decision": "approve", "reason": ""}),
        "reject": (f"/api/v1/rfcs/{rfc.ref}/decision", {"decision": "reject", "reason": "No."}),
        "record_impact": (f"/api/v1/rfcs/{rfc.ref}/impact", MAJOR),
        "submit": (f"/api/v1/rfcs/{rfc.ref}/submit", None),
        "withdraw": (f"/api/v1/rfcs/{rfc.ref}/withdraw", {"reason": "No."}),
        "edit": (f"/api/v1/rfcs/{rfc.ref}", {"title": "Changed"}),
    }[action]
    method = client.patch if action == "edit" else client.post
    r = method(path, json=body, headers=factory.auth(person))
    assert (r.status_code, r.json()["detail"]) == (code, message.format(ref=rfc.ref))


def test_nobody_may_approve_their_own_request(client, factory, team, db):
    """Named as its approver in the database (no service would do it), the requester is told
    why they cannot decide, and the refusal is audited."""
    from core.db import write_session
    from models.change_control import Rfc

    rfc = factory.in_status(team, "awaiting_approval")
    with write_session() as s:
        s.get(Rfc, rfc.id).approver_id = team.officer.id
    r = client.post(
        f"/api/v1/rfcs/{rfc.ref}/decision",
        headers=factory.auth(team.officer),
        json={"decision": "approve", "reason": ""},
    )
    assert (r.status_code, r.json()["detail"]) == (
        403,
        "Nobody may approve their own Request for Change.",
    )


def test_a_move_is_recorded_when_it_happened_and_under_the_role_that_allows_it(factory, team, db):
    """The sponsor raising their own RFC submits it as its requester, not as sponsor."""
    from datetime import UTC, datetime

    from core import clock

    rfc = factory.rfc(team, requester=team.sponsor)
    moment = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
    with clock.frozen(moment):
        factory.submit(rfc, team.sponsor)
    assert db.rfc(rfc.id).updated_at == moment
    (row,) = db.audit(rfc.id, action="submit")
    assert (row.actor_role, row.at, row.detail) == ("requester", moment, "")


def test_each_move_is_recorded_with_what_the_history_says_about_it(factory, team, db):
    """The RFC's History shows each audit row's detail: how it was classified and who decides,
    through which channel a decision came, and a withdrawal's reason."""
    from services.change_control import rfcs

    major = factory.in_status(team, "awaiting_approval")
    factory.decide(major, team.sponsor)
    minor = factory.in_status(team, "awaiting_approval", major=False)
    factory.call(
        rfcs.withdraw_rfc,
        actor=factory.actor(team.officer),
        rfc_id=minor.id,
        reason="  No longer needed.  ",
    )
    details = {row.action: row.detail for row in db.audit(major.id, outcome="ok")}
    assert details == {
        "create": "",
        "submit": "",
        "record_impact": "classified major; decision by sponsor",
        "approve": "via app",
    }
    assert [(r.action, r.detail) for r in db.audit(minor.id, outcome="ok")][-2:] == [
        ("record_impact", "classified minor; decision by Project Manager"),
        ("withdraw", "No longer needed."),
    ]


def test_the_pages_offer_each_person_the_moves_the_table_allows_them_now(factory, team):
    from services.change_control.rfc_workflow import allowed_actions
    from services.change_control.roles import roles_on

    draft = factory.rfc(team, requester=team.officer)
    waiting = factory.in_status(team, "awaiting_approval")
    project = team.project
    assert allowed_actions(draft, roles_on(draft, project, team.officer.id)) == [
        "edit",
        "submit",
        "withdraw",
    ]
    assert allowed_actions(draft, roles_on(draft, project, team.manager.id)) == []
    assert allowed_actions(waiting, roles_on(waiting, project, team.sponsor.id)) == [
        "approve",
        "reject",
    ]
    assert allowed_actions(waiting, roles_on(waiting, project, team.manager.id)) == [
        "edit",
        "withdraw",
        "record_impact",
    ]


@pytest.mark.parametrize(("who", "told"), [("officer", {"manager"}), ("manager", set())])
def test_submitting_tells_the_pm_unless_the_pm_submits(factory, team, db, who, told):
    rfc = factory.rfc(team, requester=getattr(team, who))
    factory.submit(rfc, getattr(team, who))
    emailed = {m.to_person_id for m in db.outbox(rfc_id=rfc.id, template="rfc_submitted")}
    assert emailed == {getattr(team, w).id for w in told}


def test_withdrawing_tells_everyone_waiting_on_it_but_the_person_withdrawing(factory, team, db):
    rfc = factory.in_status(team, "awaiting_approval")
    factory.withdraw(rfc, team.officer)
    emailed = {m.to_person_id for m in db.outbox(rfc_id=rfc.id, template="rfc_withdrawn")}
    assert emailed == {team.manager.id, team.sponsor.id}


def test_each_step_is_closed_with_what_became_of_it(factory, team, db):
    """A step records why it closed: superseded by the next, or the decision made."""
    rfc = factory.in_status(team, "awaiting_approval")
    factory.edit(rfc, team.officer, title="Asked again after an edit")
    factory.decide(rfc, team.sponsor, decision="reject", reason="Not this year.")
    outcomes = [(t.kind, t.outcome) for t in db.tasks(rfc.id)]
    assert outcomes == [
        ("impact_analysis", "superseded"),
        ("decision", "superseded"),
        ("decision", "rejected"),
    ]
    other = factory.in_status(team, "impact_analysis")
    factory.withdraw(other, team.officer)
    assert [(t.kind, t.outcome) for t in db.tasks(other.id)] == [("impact_analysis", "withdrawn")]
