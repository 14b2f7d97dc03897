"""Making people, projects and RFCs through the same service functions the app uses, and
looking at what was committed."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from support.databases import ORDER, TABLES

# --- the database seen from a test ----------------------------------------------------------


class Db:
    """Read-only looks at the database, each in its own session (what was committed)."""

    def counts(self) -> dict[str, int]:
        from core.db import read_session

        with read_session() as s:
            out = {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}  # noqa: S608
            for outcome in ("ok", "refused"):
                out[f"audit_{outcome}"] = s.execute(
                    text("SELECT count(*) FROM audit_event WHERE outcome = :o"), {"o": outcome}
                ).scalar_one()
        return out

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of every table, ordered: two equal snapshots mean nothing changed.

        Except `throttle`: its counters record requests (a GET of an unknown link counts
        against the client), not anything a request changed; tests/platform/test_throttle.py
        reads it.
        """
        from core.db import read_session

        with read_session() as s:
            return {
                t: [tuple(r) for r in s.execute(text(f"SELECT * FROM {t} ORDER BY {ORDER[t]}"))]  # noqa: S608
                for t in TABLES
                if t != "throttle"
            }

    def rfc(self, rfc_id: int):  # type: ignore[no-untyped-def]
        from core.db import read_session
        from models.change_control import Rfc

        with read_session() as s:
            row = s.get(Rfc, rfc_id)
            assert row is not None
            return row

    def audit(self, rfc_id: int, *, outcome: str | None = None, action: str | None = None) -> list:
        from sqlmodel import select

        from core.db import read_session
        from models import AuditEvent

        with read_session() as s:
            stmt = select(AuditEvent).where(
                AuditEvent.subject_type == "rfc", AuditEvent.subject_id == rfc_id
            )
            if outcome:
                stmt = stmt.where(AuditEvent.outcome == outcome)
            if action:
                stmt = stmt.where(AuditEvent.action == action)
            return list(s.exec(stmt.order_by(AuditEvent.id)))  # type: ignore[arg-type]

    def outbox(self, *, rfc_id: int | None = None, template: str | None = None) -> list:
        from sqlmodel import select

        from core.db import read_session
        from models import OutboxMessage

        with read_session() as s:
            stmt = select(OutboxMessage)
            if rfc_id is not None:
                stmt = stmt.where(
                    OutboxMessage.subject_type == "rfc", OutboxMessage.subject_id == rfc_id
                )
            if template is not None:
                stmt = stmt.where(OutboxMessage.template == template)
            return list(s.exec(stmt.order_by(OutboxMessage.id)))  # type: ignore[arg-type]

    def tokens(self, rfc_id: int) -> list:
        from sqlmodel import select

        from core.db import read_session
        from models import ActionToken

        with read_session() as s:
            stmt = select(ActionToken).where(
                ActionToken.subject_type == "rfc", ActionToken.subject_id == rfc_id
            )
            return list(s.exec(stmt.order_by(ActionToken.id)))  # type: ignore[arg-type]

    def tasks(self, rfc_id: int) -> list:
        from sqlmodel import select

        from core.db import read_session
        from models import Step

        with read_session() as s:
            stmt = select(Step).where(Step.subject_type == "rfc", Step.subject_id == rfc_id)
            return list(s.exec(stmt.order_by(Step.id)))  # type: ignore[arg-type]


@dataclass
class Team:
    """A project and its people: sponsor, PM, optional alternate, an officer, a stranger."""

    project: Any
    sponsor: Any
    manager: Any
    alternate: Any | None
    officer: Any
    stranger: Any

    @property
    def code(self) -> str:
        return self.project.code


MAJOR = {
    "days_of_work": 20,
    "products_affected": "Stage 1 plan",
    "cost_pence": 0,
    "extends_timescale": True,
    "needs_extra_resources": False,
    "recommendation": "Approve the change request.",
}
MINOR = {
    "days_of_work": 1.5,
    "products_affected": "",
    "cost_pence": 0,
    "extends_timescale": False,
    "needs_extra_resources": False,
    "recommendation": "Easy to accommodate.",
}


class Factory:
    """People, projects and RFCs made through the same service functions the app uses."""

    _seq = itertools.count(1)

    def __init__(self) -> None:
        self.run = uuid.uuid4().hex[:6]
        self._admin: Any = None

    def n(self) -> int:
        return next(self._seq)

    def call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """Run one service function in its own write transaction (as a request would)."""
        from core.db import write_session

        with write_session() as session:
            return fn(session, **kwargs)

    def person(self, name: str | None = None, *, admin: bool = False, email: str | None = None):  # type: ignore[no-untyped-def]
        from models.people import PersonCreate
        from services.platform import people

        i = self.n()
        data = PersonCreate(
            name=name or f"Officer {i}",
            email=email or f"officer{i}.{self.run}@council.example",
            job_title="Officer",
            is_admin=admin,
        )
        return self.call(people.add_person, data=data)

    def admin(self):  # type: ignore[no-untyped-def]
        """The administrator who registers projects (made once per test)."""
        if self._admin is None:
            self._admin = self.person(f"Admin {self.n()}", admin=True)
        return self._admin

    def team(
        self,
        *,
        alternate: bool = True,
        tolerance: int = 0,
        code: str | None = None,
        sponsor: Any = None,
    ) -> Team:
        from models.change_control.projects import ProjectCreate
        from services.change_control import projects

        sponsor = sponsor or self.person(f"Sponsor {self.n()}")
        manager = self.person(f"Manager {self.n()}")
        alt = self.person(f"Alternate {self.n()}") if alternate else None
        officer = self.person(f"Requester {self.n()}")
        stranger = self.person(f"Stranger {self.n()}")
        data = ProjectCreate(
            code=code or f"P{self.n()}",
            name=f"Project {self.n()}",
            sponsor_email=sponsor.email,
            manager_email=manager.email,
            alternate_approver_email=alt.email if alt else None,
            cost_tolerance_pence=tolerance,
        )
        project = self.call(projects.create_project, actor=self.actor(self.admin()), data=data)
        # The officer who raises RFCs is one of the project's people; the stranger is not.
        self.call(
            projects.add_project_member,
            actor=self.actor(self.admin()),
            code=project.code,
            email=officer.email,
            role="Work Stream Leader",
        )
        return Team(project, sponsor, manager, alt, officer, stranger)

    def rfc(self, team: Team, *, requester: Any = None, **fields: Any):  # type: ignore[no-untyped-def]
        from models.change_control.rfcs import RfcCreate
        from services.change_control import rfcs

        requester = requester or team.officer
        data = RfcCreate(
            **(
                {
                    "title": f"Change {self.n()}",
                    "description": "Merge two tasks.",
                    "expected_benefits": "Less duplication.",
                }
                | fields
            )
        )
        return self.call(
            rfcs.create_rfc, actor=self.actor(requester), project_code=team.code, data=data
        )

    @staticmethod
    def actor(person: Any, address: str = "192.0.2.10"):  # type: ignore[no-untyped-def]
        from services.platform.actors import Actor

        return Actor(person_id=person.id, address=address, is_admin=person.is_admin)

    def submit(self, rfc: Any, by: Any):  # type: ignore[no-untyped-def]
        from services.change_control import rfcs

        return self.call(rfcs.submit_rfc, actor=self.actor(by), rfc_id=rfc.id)

    def impact(self, rfc: Any, by: Any, **impact: Any):  # type: ignore[no-untyped-def]
        from models.change_control.rfcs import ImpactInput
        from services.change_control import rfcs

        return self.call(
            rfcs.record_impact,
            actor=self.actor(by),
            rfc_id=rfc.id,
            data=ImpactInput(**(MAJOR | impact)),
        )

    def decide(self, rfc: Any, by: Any, decision: str = "approve", reason: str = "Agreed."):  # type: ignore[no-untyped-def]
        from models.change_control.rfcs import DecisionInput
        from services.change_control import rfcs

        return self.call(
            rfcs.decide,
            actor=self.actor(by),
            rfc_id=rfc.id,
            data=DecisionInput(decision=decision, reason=reason),
        )

    def withdraw(self, rfc: Any, by: Any):  # type: ignore[no-untyped-def]
        from services.change_control import rfcs

        return self.call(rfcs.withdraw_rfc, actor=self.actor(by), rfc_id=rfc.id)

    def edit(self, rfc: Any, by: Any, **fields: Any):  # type: ignore[no-untyped-def]
        from models.change_control.rfcs import RfcUpdate
        from services.change_control import rfcs

        return self.call(
            rfcs.edit_rfc,
            actor=self.actor(by),
            rfc_id=rfc.id,
            data=RfcUpdate(**(fields or {"title": f"Edited change {self.n()}"})),
        )

    def in_status(self, team: Team, status: str, *, requester: Any = None, major: bool = True):  # type: ignore[no-untyped-def]
        """An RFC brought to `status` by the people allowed to do each step."""
        requester = requester or team.officer
        rfc = self.rfc(team, requester=requester)
        if status == "draft":
            return rfc
        if status == "withdrawn":
            return self.withdraw(rfc, requester)
        rfc = self.submit(rfc, requester)
        if status == "impact_analysis":
            return rfc
        rfc = self.impact(rfc, team.manager, **(MAJOR if major else MINOR))
        if status == "awaiting_approval":
            return rfc
        approver = team.sponsor if major else team.manager
        decision = {"approved": "approve", "rejected": "reject"}[status]
        reason = "Not now." if decision == "reject" else ""
        return self.decide(rfc, approver, decision, reason=reason)

    def api_token(self, person: Any) -> str:
        from services.platform import people

        return self.call(people.create_api_token, email=person.email, label="tests")

    def auth(self, person: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_token(person)}"}

    def sign_in(self, person: Any) -> str:
        """A web session cookie value, through the emailed one-time link's service."""
        from sqlmodel import select

        from core import tokens
        from core.db import read_session
        from models import ActionToken
        from services.platform import people

        self.call(people.request_sign_in, email=person.email)
        with read_session() as s:
            row = s.exec(
                select(ActionToken)
                .where(ActionToken.purpose == "sign_in", ActionToken.person_id == person.id)
                .order_by(ActionToken.id.desc())
            ).first()  # type: ignore[union-attr]
        _, raw_session = self.call(people.complete_sign_in, raw=tokens.derive_token(row.salt))
        return raw_session

    @staticmethod
    def raw_link(token_row: Any) -> str:
        """The raw token of an action link (as the email would carry it)."""
        from core import tokens

        return tokens.derive_token(token_row.salt)


def deliver() -> Any:
    """One run of the outbox deliverer (what `signoff outbox deliver --once` does)."""
    from services.platform.delivery import deliver_due

    return asyncio.run(deliver_due())
