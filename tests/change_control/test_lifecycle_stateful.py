"""A Hypothesis state machine over the RFC lifecycle, driven through the services.

Random people create, edit, submit, record impact (random flags and costs), decide (in the app
or by the emailed link) and withdraw RFCs. A small model predicts, from the issue's rules alone,
whether each move must succeed; the database must agree after every step, and:
at most one decision per RFC version, the decider is never the requester, ok audit rows equal
the successful transitions, the status is always one of the six, every decision queued its
outcome emails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func
from sqlmodel import select
from test_transitions import SPEC

from services.platform.errors import NotFound, ServiceError

STATUSES = {"draft", "impact_analysis", "awaiting_approval", "approved", "rejected", "withdrawn"}
# "usual" is whoever normally makes that move (requester, PM or approver), so that runs get far
# into the lifecycle; the others try their luck.
WHO = st.sampled_from(["usual"] * 4 + ["officer", "manager", "sponsor", "alternate", "stranger"])
WHO_RARE = st.sampled_from(["usual", "officer", "manager", "sponsor", "alternate", "stranger"])
CTX: dict[str, Any] = {}


@dataclass
class Expect:
    requester: int
    status: str = "draft"
    version: int = 1
    approver: int | None = None
    moves: int = 0  # successful transitions (the 'create' event is not a transition)


class RfcLifecycle(RuleBasedStateMachine):
    rfcs = Bundle("rfcs")

    def __init__(self) -> None:
        super().__init__()
        self.factory = CTX["factory"]
        self.db = CTX["db"]
        self.team: Any = None
        self.model: dict[int, Expect] = {}
        self.tolerance = 0

    # --- helpers ---------------------------------------------------------------------------

    def person(self, who: str, rfc_id: int | None = None, usual: str = "requester") -> Any:
        if who == "usual":
            assert rfc_id is not None
            e = self.model[rfc_id]
            person_id = {
                "requester": e.requester,
                "manager": self.team.project.manager_id,
                "approver": e.approver,
            }[usual]
            who = next(
                (
                    w
                    for w in ("officer", "manager", "sponsor", "alternate", "stranger")
                    if getattr(self.team, w) is not None and getattr(self.team, w).id == person_id
                ),
                "stranger",
            )
        found = getattr(self.team, who)
        return found if found is not None else self.team.stranger

    def roles(self, rfc_id: int, person_id: int) -> set[str]:
        e, p = self.model[rfc_id], self.team.project
        roles = set()
        if person_id == e.requester:
            roles.add("requester")
        if person_id == p.manager_id:
            roles.add("manager")
        if person_id == e.approver and person_id != e.requester:
            roles.add("approver")
        return roles

    def allowed(self, rfc_id: int, action: str, person_id: int) -> str | None:
        move = SPEC.get((self.model[rfc_id].status, action))
        if move is None or not (self.roles(rfc_id, person_id) & move[1]):
            return None
        return move[0]

    def attempt(self, rfc_id: int, target: str | None, call: Any, **update: Any) -> None:
        """Run a move; it must succeed exactly when the model says so, and change nothing if not."""
        before = self.db.counts()
        try:
            result = call()
        except ServiceError:
            assert target is None, f"refused a move the rules allow (expected {target})"
            assert self.db.counts() == before, "a refused move wrote something"
            return
        assert target is not None, f"allowed a move the rules forbid (now {result.status})"
        assert result.status == target
        e = self.model[rfc_id]
        e.status, e.version, e.moves = target, e.version + 1, e.moves + 1
        for key, value in update.items():
            setattr(e, key, value)

    # --- rules -----------------------------------------------------------------------------

    @initialize(alternate=st.booleans(), tolerance=st.sampled_from([0, 5_000]))
    def make_project(self, alternate: bool, tolerance: int) -> None:
        self.team = self.factory.team(alternate=alternate, tolerance=tolerance)
        self.tolerance = tolerance

    @precondition(lambda self: len(self.model) < 3)  # a few RFCs, each taken far along
    @rule(target=rfcs, who=WHO)
    def create(self, who: str):  # type: ignore[no-untyped-def]
        person = self.person("officer" if who == "usual" else who)
        if person.id == self.team.stranger.id:  # not one of the project's people
            before = self.db.counts()
            with pytest.raises(NotFound):
                self.factory.rfc(self.team, requester=person)
            assert self.db.counts() == before
            return multiple()
        rfc = self.factory.rfc(self.team, requester=person)
        self.model[rfc.id] = Expect(requester=person.id)
        return rfc.id

    @rule(rfc_id=rfcs, who=WHO)
    def edit(self, rfc_id: int, who: str) -> None:
        person = self.person(who, rfc_id)
        target = self.allowed(rfc_id, "edit", person.id)
        rfc = self.db.rfc(rfc_id)
        self.attempt(rfc_id, target, lambda: self.factory.edit(rfc, person))

    @rule(rfc_id=rfcs, who=WHO)
    def submit(self, rfc_id: int, who: str) -> None:
        person = self.person(who, rfc_id)
        rfc = self.db.rfc(rfc_id)
        self.attempt(
            rfc_id,
            self.allowed(rfc_id, "submit", person.id),
            lambda: self.factory.submit(rfc, person),
        )

    @rule(
        rfc_id=rfcs,
        who=WHO,
        days=st.floats(0, 100, allow_nan=False),
        cost=st.sampled_from([0, 1, 4_999, 5_000, 5_001, 2_000_000]),
        extends=st.booleans(),
        resources=st.booleans(),
    )
    def record_impact(
        self, rfc_id: int, who: str, days: float, cost: int, extends: bool, resources: bool
    ) -> None:
        person = self.person(who, rfc_id, "manager")
        e, p = self.model[rfc_id], self.team.project
        major = extends or resources or cost > self.tolerance
        line = [p.sponsor_id, p.alternate_approver_id]
        if not major:
            line.insert(0, p.manager_id)
        approver = next((x for x in line if x is not None and x != e.requester), None)
        target = self.allowed(rfc_id, "record_impact", person.id) if approver else None
        rfc = self.db.rfc(rfc_id)
        self.attempt(
            rfc_id,
            target,
            lambda: self.factory.impact(
                rfc,
                person,
                days_of_work=days,
                cost_pence=cost,
                extends_timescale=extends,
                needs_extra_resources=resources,
            ),
            approver=approver,
        )
        if target is not None:
            got = self.db.rfc(rfc_id)
            assert got.classification == ("major" if major else "minor")
            assert got.approver_id == approver

    @rule(
        rfc_id=rfcs,
        who=WHO,
        decision=st.sampled_from(["approve", "reject"]),
        reason=st.sampled_from(["", "Why."]),
    )
    def decide(self, rfc_id: int, who: str, decision: str, reason: str) -> None:
        person = self.person(who, rfc_id, "approver")
        target = self.allowed(rfc_id, decision, person.id)
        if decision == "reject" and not reason:
            target = None
        rfc = self.db.rfc(rfc_id)
        self.attempt(rfc_id, target, lambda: self.factory.decide(rfc, person, decision, reason))

    @rule(rfc_id=rfcs, decision=st.sampled_from(["approve", "reject"]))
    def decide_by_link(self, rfc_id: int, decision: str) -> None:
        from models.change_control.rfcs import DecisionInput
        from services.change_control import approvals

        tokens = self.db.tokens(rfc_id)
        if not tokens:
            return
        token = tokens[-1]
        e = self.model[rfc_id]
        live = token.used_at is None and token.revoked_at is None
        target = None
        if live and e.status == "awaiting_approval" and token.subject_version == e.version:
            target = self.allowed(rfc_id, decision, token.person_id)
        raw = self.factory.raw_link(token)
        self.attempt(
            rfc_id,
            target,
            lambda: self.factory.call(
                approvals.decide_by_link,
                raw=raw,
                address="198.51.100.7",
                data=DecisionInput(decision=decision, reason="By link."),
            ),
        )

    @rule(
        rfc_id=rfcs,
        by_link=st.booleans(),
        decision=st.sampled_from(["approve", "reject"]),
        extends=st.booleans(),
        cost=st.sampled_from([0, 5_000, 5_001]),
    )
    def advance(self, rfc_id: int, by_link: bool, decision: str, extends: bool, cost: int) -> None:
        """The next step by whoever normally takes it, so runs reach the decisions."""
        status = self.model[rfc_id].status
        if status == "draft":
            self.submit(rfc_id, "usual")
        elif status == "impact_analysis":
            self.record_impact(rfc_id, "usual", 2.0, cost, extends, False)
        elif status == "awaiting_approval" and by_link:
            self.decide_by_link(rfc_id, decision)
        elif status == "awaiting_approval":
            self.decide(rfc_id, "usual", decision, "Reason.")

    @rule(rfc_id=rfcs, who=WHO_RARE)
    def withdraw(self, rfc_id: int, who: str) -> None:
        person = self.person(who, rfc_id)
        rfc = self.db.rfc(rfc_id)
        self.attempt(
            rfc_id,
            self.allowed(rfc_id, "withdraw", person.id),
            lambda: self.factory.withdraw(rfc, person),
        )

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def database_agrees_with_the_rules(self) -> None:
        if not self.model:
            return
        from core.db import read_session
        from models import AuditEvent, OutboxMessage
        from models.change_control import Rfc

        ids = list(self.model)
        with read_session() as s:
            rows = {r.id: r for r in s.exec(select(Rfc).where(Rfc.id.in_(ids)))}  # type: ignore[union-attr]
            ok = dict(
                s.exec(
                    select(AuditEvent.subject_id, func.count())
                    .where(
                        AuditEvent.subject_type == "rfc",
                        AuditEvent.subject_id.in_(ids),  # type: ignore[attr-defined]
                        AuditEvent.outcome == "ok",
                        AuditEvent.action != "create",
                    )
                    .group_by(AuditEvent.subject_id)
                ).all()
            )
            decisions = list(
                s.exec(
                    select(
                        AuditEvent.subject_id, AuditEvent.subject_version, AuditEvent.actor_id
                    ).where(
                        AuditEvent.subject_type == "rfc",
                        AuditEvent.subject_id.in_(ids),  # type: ignore[attr-defined]
                        AuditEvent.outcome == "ok",
                        AuditEvent.action.in_(["approve", "reject"]),
                    )
                )
            )  # type: ignore[attr-defined]
            told = set(
                s.exec(
                    select(OutboxMessage.subject_id, OutboxMessage.to_person_id).where(
                        OutboxMessage.template == "rfc_decided",
                        OutboxMessage.subject_type == "rfc",
                        OutboxMessage.subject_id.in_(ids),
                    )
                ).all()
            )  # type: ignore[union-attr]
        per_rfc: dict[int, list[tuple[int, int]]] = {}
        for rfc_id, version, actor in decisions:
            per_rfc.setdefault(rfc_id, []).append((version, actor))
        p = self.team.project
        for rfc_id, e in self.model.items():
            row = rows[rfc_id]
            assert row.status in STATUSES
            assert (row.status, row.version) == (e.status, e.version)
            assert ok.get(rfc_id, 0) == e.moves, "ok audit rows != successful transitions"
            made = per_rfc.get(rfc_id, [])
            assert len(made) <= 1, f"more than one decision on RFC {rfc_id}: {made}"
            assert len({v for v, _ in made}) == len(made)
            if row.status in ("approved", "rejected"):
                assert len(made) == 1
                assert row.decided_by_id is not None and row.decided_by_id != row.requester_id
                assert row.decided_by_id == row.approver_id == made[0][1]
                for person_id in (row.requester_id, p.manager_id, p.sponsor_id):
                    assert (rfc_id, person_id) in told, "a decision did not queue its email"
            else:
                assert made == [] and row.decided_by_id is None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_rfc_lifecycle_state_machine(factory, db):
    CTX.update(factory=factory, db=db)
    try:
        run_state_machine_as_test(
            RfcLifecycle,
            settings=settings(
                max_examples=30,
                stateful_step_count=40,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        CTX.clear()
