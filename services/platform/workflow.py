"""The workflow engine: a transition table per domain, one function that makes a move.

A domain declares its moves as data: (from status, action) -> Move(to status, roles allowed,
after-effects). `Workflow.apply` checks the table, makes the move with one conditional UPDATE
on (id, status, version) of the subject's table, writes the audit event, then runs the move's
after-effects (open a step, close steps and links, queue emails), all in the caller's
transaction. Nothing else writes a workflow's status column (tests/test_layers.py checks it):
of two racing moves exactly one matches the row; the other gets a Conflict.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from core import clock
from core.statements import Prepared
from models import ActionToken
from services.platform import action_links, audit, outbox, steps
from services.platform.actors import Actor
from services.platform.errors import Conflict, Forbidden, Refusal


@dataclass(frozen=True)
class Moved:
    """What a move's after-effects are given."""

    workflow: Workflow
    row: Any  # the subject, already in its new status and version
    context: Any  # whatever else the domain passed to apply (an RFC's project)
    from_status: str
    actor: Actor
    link: ActionToken | None  # the emailed link the move was made through, if any

    @property
    def subject(self) -> steps.Subject:
        return steps.Subject(self.workflow.subject_type, self.row.id, self.row.version)


Effect = Callable[[Session, Moved], None]


@dataclass(frozen=True)
class Move:
    to: str
    roles: frozenset[str]
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class Workflow:
    subject_type: str  # what audit rows, steps, links and emails call the subject
    table: type  # a table with id, status, version and updated_at columns
    moves: Mapping[tuple[str, str], Move]
    roles: Callable[[Any, Any, int], set[str]]  # (row, context, person id) -> roles held
    main_role: Callable[[set[str]], str]  # the role a move or refusal is recorded under
    ref: Callable[[Any], str]
    forbidden: Callable[[Any, str, set[str]], str]  # (row, action, roles) -> message
    not_now: Callable[[Any, str], str]  # (row, action) -> "it cannot be ... now" message
    actions: tuple[str, ...]  # in the order pages offer them

    def may_ever(self, action: str) -> frozenset[str]:
        """The roles that may make this action in some status."""
        return frozenset().union(*(m.roles for (_, a), m in self.moves.items() if a == action))

    def allowed_actions(self, row: Any, roles: set[str]) -> list[str]:
        """The moves this person may make now (drives which buttons a page shows)."""
        return [
            a for a in self.actions if (m := self.moves.get((row.status, a))) and roles & m.roles
        ]

    def authorise(
        self, row: Any, context: Any, *, action: str, actor: Actor
    ) -> tuple[Move, str, Refusal]:
        """Check the table for this move: (the move, acting role, refusal) or raise."""
        roles = self.roles(row, context, actor.person_id)
        move = self.moves.get((row.status, action))
        acting_role = self.main_role((roles & move.roles if move else set()) or roles)
        refusal = Refusal(
            self.subject_type,
            row.id or 0,
            row.version,
            action,
            row.status,
            actor.person_id,
            acting_role,
            actor.address,
        )
        # Permission before state: someone who could never make this move is told so, and
        # learns nothing about where the subject is now.
        if not roles & self.may_ever(action):
            raise Forbidden(self.forbidden(row, action, roles), refusal=refusal)
        if move is None:
            raise Conflict(self.not_now(row, action), refusal=refusal)
        if not roles & move.roles:
            raise Forbidden(self.forbidden(row, action, roles), refusal=refusal)
        return move, acting_role, refusal

    def apply(
        self,
        session: Session,
        row: Any,
        context: Any,
        *,
        action: str,
        actor: Actor,
        changes: dict[str, Any] | None = None,
        detail: str = "",
        link: ActionToken | None = None,
    ) -> Any:
        """Make one move: check, update conditionally, audit, then run its after-effects."""
        move, acting_role, refusal = self.authorise(row, context, action=action, actor=actor)
        from_status = row.status
        values = dict(changes or {})
        values.update(status=move.to, version=row.version + 1, updated_at=clock.now())
        result = _conditional_update(self.table, tuple(values)).run(
            session,
            {f"set_{k}": v for k, v in values.items()}
            | {"was_id": row.id, "was_status": row.status, "was_version": row.version},
        )
        if result.rowcount != 1:
            raise Conflict(
                f"{self.ref(row)} was changed by someone else at the same moment. "
                "Reload it and try again.",
                refusal=refusal,
            )
        for key, value in values.items():
            set_committed_value(row, key, value)
        audit.record(
            session,
            actor_id=actor.person_id,
            actor_role=acting_role,
            actor_address=actor.address,
            subject_type=self.subject_type,
            subject_id=row.id or 0,
            subject_version=row.version,
            action=action,
            from_status=from_status,
            to_status=move.to,
            detail=detail,
        )
        moved = Moved(self, row, context, from_status, actor, link)
        for effect in move.effects:
            effect(session, moved)
        return row


@functools.lru_cache(maxsize=256)
def _conditional_update(table: Any, columns: tuple[str, ...]) -> Prepared:
    """The move's UPDATE on (id, status, version), built once per table and set of columns."""
    t = table.__table__
    return Prepared(
        update(t)
        .where(
            t.c.id == bindparam("was_id"),
            t.c.status == bindparam("was_status"),
            t.c.version == bindparam("was_version"),
        )
        .values({name: bindparam(f"set_{name}") for name in columns})
    )


# --- after-effects a move may declare ---------------------------------------------------------
# Each is a small frozen dataclass: a move's effects read as data in its transition table.

People = Callable[[Moved], Iterable[int | None]]


@dataclass(frozen=True)
class OpenStep:
    """Open a step for one person (closing the subject's open steps first, as superseded)."""

    kind: str
    owner: Callable[[Moved], int]
    due: Callable[[Moved], date]
    supersede: bool = True

    def __call__(self, session: Session, moved: Moved) -> None:
        if self.supersede:
            steps.close_steps(session, subject=moved.subject, outcome="superseded")
        steps.open_steps(
            session,
            subject=moved.subject,
            kind=self.kind,
            owners=[self.owner(moved)],
            due_on=self.due(moved),
        )


@dataclass(frozen=True)
class CloseSteps:
    """Close the subject's open steps (outcome: the new status unless given) and revoke its
    live links of one purpose. A move made through a link uses that link in the same UPDATE;
    if another request used it first, the move fails with a Conflict."""

    outcome: str | None = None
    revoke_links: str | None = None

    def __call__(self, session: Session, moved: Moved) -> None:
        steps.close_steps(session, subject=moved.subject, outcome=self.outcome or moved.row.status)
        if self.revoke_links is None:
            return
        if not action_links.revoke_for_subject(
            session,
            purpose=self.revoke_links,
            subject_type=moved.workflow.subject_type,
            subject_id=moved.row.id,
            using=moved.link,
        ):
            raise Conflict(
                f"{moved.workflow.ref(moved.row)} was decided a moment ago by another request."
            )


@dataclass(frozen=True)
class Notify:
    """Queue one email per person (each once, however often named) about the subject."""

    template: str
    to: People
    expect: str | None = None  # the status the subject must still be in when it is sent
    not_the_actor: bool = False

    def __call__(self, session: Session, moved: Moved) -> None:
        people = [
            p
            for p in dict.fromkeys(self.to(moved))
            if p is not None and not (self.not_the_actor and p == moved.actor.person_id)
        ]
        outbox.queue_many(
            session,
            template=self.template,
            to_person_ids=people,
            key=f"{self.template}:{moved.workflow.subject_type}{moved.row.id}:v{moved.row.version}",
            subject_type=moved.workflow.subject_type,
            subject_id=moved.row.id,
            expect_status=self.expect,
        )
