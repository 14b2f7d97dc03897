"""Steps: open them for people, complete one, close a subject's steps in one statement.

A subject is what the steps are about, as (type, id, version). A step that needs several
people (all the signatories of a plan version) is several rows with the same subject and
kind: `open_steps` opens them together and `outcomes` tells whether all have been done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from core import clock
from core.statements import Prepared
from models import Step


@dataclass(frozen=True)
class Subject:
    type: str
    id: int
    version: int


# Core statements built once (no ORM objects, no statement construction per call).
_STEP = Step.__table__  # type: ignore[attr-defined]
_OPEN = Prepared(insert(_STEP))
_CLOSE_ANY = (
    update(_STEP)
    .where(
        _STEP.c.subject_type == bindparam("b_subject_type"),
        _STEP.c.subject_id == bindparam("b_subject_id"),
        _STEP.c.closed_at.is_(None),
    )
    .values(closed_at=bindparam("b_now"), outcome=bindparam("b_outcome"))
)
_CLOSE = Prepared(_CLOSE_ANY)
_CLOSE_KINDS = _CLOSE_ANY.where(_STEP.c.kind.in_(bindparam("b_kinds", expanding=True)))
_COMPLETE = Prepared(
    update(_STEP)
    .where(
        _STEP.c.subject_type == bindparam("b_subject_type"),
        _STEP.c.subject_id == bindparam("b_subject_id"),
        _STEP.c.subject_version == bindparam("b_subject_version"),
        _STEP.c.kind == bindparam("b_kind"),
        _STEP.c.owner_id == bindparam("b_owner_id"),
        _STEP.c.closed_at.is_(None),
    )
    .values(closed_at=bindparam("b_now"), outcome=bindparam("b_outcome"))
)


def open_steps(
    session: Session, *, subject: Subject, kind: str, owners: Iterable[int], due_on: date
) -> None:
    """One open step per owner, due on `due_on` (a working day the domain chose), first chased
    the working day after it."""
    open_each(
        session,
        owed=[(subject, owner) for owner in dict.fromkeys(owners)],
        kind=kind,
        due_on=due_on,
    )


def open_each(
    session: Session,
    *,
    owed: Iterable[tuple[Subject, int]],
    kind: str,
    due_on: date,
    first_chase_on: date | None = None,
) -> None:
    """`open_steps` for many subjects at once, one (subject, owner) pair per step, in one
    statement: a month's returns open a step each for thousands of officers. The chase first
    looks at them the day after `first_chase_on` (default the due date: a step is first chased
    once late; a domain that reminds before the due date gives an earlier day)."""
    now = clock.now()
    rows = [
        {
            "subject_type": subject.type,
            "subject_id": subject.id,
            "subject_version": subject.version,
            "kind": kind,
            "owner_id": owner,
            "opened_at": now,
            "due_on": due_on,
            "next_chase_on": first_chase_on or due_on,
            "reminder_count": 0,
        }
        for subject, owner in owed
    ]
    # The driver's executemany, as the outbox queues mail: for 5,000 steps it measured as fast
    # as SQLAlchemy's own many-row INSERT, or faster (bench/README.md, issue 10).
    _OPEN.run_many(session, rows)


def close_steps(
    session: Session,
    *,
    subject: Subject,
    outcome: str,
    kinds: Iterable[str] | None = None,
) -> None:
    """Close the subject's open steps (of `kinds`, if given): one UPDATE matching only open
    rows; nothing is read first. Its links are the workflow's `CloseSteps` to revoke."""
    values = {
        "b_subject_type": subject.type,
        "b_subject_id": subject.id,
        "b_now": clock.now(),
        "b_outcome": outcome,
    }
    if kinds is None:
        _CLOSE.run(session, values)
    else:
        session.execute(_CLOSE_KINDS, values | {"b_kinds": list(kinds)})


def complete(session: Session, *, subject: Subject, kind: str, owner_id: int, outcome: str) -> bool:
    """Close one person's open step of this kind on this version (a signatory signing); False
    when they owe none (already done, or never asked)."""
    done = _COMPLETE.run(
        session,
        {
            "b_subject_type": subject.type,
            "b_subject_id": subject.id,
            "b_subject_version": subject.version,
            "b_kind": kind,
            "b_owner_id": owner_id,
            "b_now": clock.now(),
            "b_outcome": outcome,
        },
    )
    return bool(done.rowcount)


def open_subject_ids(session: Session, *, subject_type: str, owner_id: int):  # type: ignore[no-untyped-def]
    """A subquery: the ids of subjects of this type on which this person owes an open step."""
    return select(Step.subject_id).where(
        col(Step.subject_type) == subject_type,
        col(Step.owner_id) == owner_id,
        col(Step.closed_at).is_(None),
    )


def outcomes(session: Session, *, subject: Subject, kind: str) -> list[str | None]:
    """The outcome of each step of this kind on this version, in the order they were opened
    (None while still open)."""
    return list(
        session.exec(
            select(Step.outcome)
            .where(
                col(Step.subject_type) == subject.type,
                col(Step.subject_id) == subject.id,
                col(Step.subject_version) == subject.version,
                col(Step.kind) == kind,
            )
            .order_by(col(Step.id))
        )
    )
