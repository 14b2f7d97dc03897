"""Chase late steps for every domain: remind, escalate, keep links alive, one digest a day.

A batch reconciler. Each run (one a working day) asks in one query which open steps are due:
`closed_at IS NULL AND escalated_at IS NULL AND next_chase_on < today`. For each, it takes
the next step once with a conditional UPDATE on the step (a run repeated the same day, two
runs at once, or a run catching up after downtime each take a step once): a reminder to the
owner while they have had fewer than the limit, then one escalation up the domain's ladder.
Steps whose owner acts by emailed link get a fresh link when theirs would lapse within two
working days. Everything a person is told in a run goes in ONE email, their digest, listing
each item; at sending time the items whose reason has gone are left out (and the email is
dropped if none is left).

Each domain registers a `Policy` for its subject type: when a step is stale, the interval
between reminders in working days, who hears of an escalation, and links.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from core import clock
from core.settings import get_settings
from core.templating import long_date
from models import ActionToken, Person, Step
from services.platform import action_links, outbox

# A link is re-issued when it would expire before the start of the second working day from
# today, so a weekend or a bank holiday (no runs send on those) never lets one lapse.
REISSUE_WORKING_DAYS = 2
DIGEST = "chase_digest"


@dataclass(frozen=True)
class Policy:
    """How one domain's steps are chased."""

    subject_type: str
    # kind -> the subject status in which that step is still owed (else it is stale)
    waiting: Mapping[str, str]
    # kind -> what the owner owes ("record the impact analysis"), and its name for the run's
    # report ("impact analysis")
    duty: Mapping[str, str]
    noun: Mapping[str, str]
    # (session, subject ids) -> {id: the domain's view of the subject}, one query per run
    load: Callable[[Session, list[int]], dict[int, Any]]
    status: Callable[[Any], str]
    ref: Callable[[Any], str]
    interval: Callable[[Any], int]  # working days between reminders for this subject
    escalate_to: Callable[[Session, Step, Any], Person | None]
    # A step owed through an emailed link: its purpose, the kinds of step that may need one
    # (narrowed in SQL), and which of those do (e.g. not the PM's decisions, made in the app).
    link_purpose: str | None = None
    link_kinds: frozenset[str] = frozenset()
    needs_link: Callable[[Step, Any], bool] = lambda step, subject: False
    # False: a late step is never escalated; it is reminded every interval until done, and
    # `copies` names who is told alongside the owner as the reminders mount.
    escalates: bool = True
    # The deployment that chases these steps ("chase" is every domain's daily run; a domain
    # chased at its own hour names its own flow).
    schedule: str = "chase"
    # (session, step, subject, number of the late reminder) -> people copied on it
    copies: Callable[[Session, Step, Any, int], list[Person]] = lambda *args: []


_POLICIES: dict[str, Policy] = {}


def register(policy: Policy) -> None:
    _POLICIES[policy.subject_type] = policy


def scheduled_with(schedule: str) -> list[str]:
    """The subject types the deployment `schedule` chases."""
    return [t for t, p in policies().items() if p.schedule == schedule]


def policies() -> dict[str, Policy]:
    from services.platform import subjects

    subjects.names()  # loads every domain, which registers its policy
    return dict(_POLICIES)


@dataclass(frozen=True)
class Done:
    """One thing a run did, for the run's summary."""

    action: str  # reminded | escalated | link_reissued | copied | not_escalated
    ref: str
    to: str  # "Name <email>" of the recipient ("" when nobody could be told)
    duty: str  # "decide"
    noun: str  # "decision"
    detail: str

    def line(self) -> str:
        """ "Reminded Paul Knight: impact analysis of CSE-RFC-004"."""
        name = self.to.split(" <", 1)[0] or "nobody"
        what = f"{self.noun} of {self.ref}"
        verb = {
            "reminded": "Reminded",
            "escalated": "Escalated to",
            "link_reissued": "New link for",
            "copied": "Copied to",
        }.get(self.action)
        if verb is None:  # not_escalated
            return f"Could not escalate {what}: {self.detail}"
        return f"{verb} {name}: {what}"


@dataclass
class ChaseReport:
    today: date
    working_day: bool = True
    steps: list[Done] = field(default_factory=list)
    digests: int = 0

    def count(self, action: str) -> int:
        return sum(1 for s in self.steps if s.action == action)

    def lines(self) -> list[str]:
        return [step.line() for step in self.steps]

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "working_day": self.working_day,
            "reminded": self.count("reminded"),
            "escalated": self.count("escalated"),
            "link_reissued": self.count("link_reissued"),
            "copied": self.count("copied"),
            "not_escalated": self.count("not_escalated"),
            "digests": self.digests,
        }


@dataclass
class _Run:
    session: Session
    today: date
    report: ChaseReport
    # recipient id -> the items of their digest
    items: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # link purpose -> (whom and what for, the digest item that carries it), issued together
    links: dict[str, list[tuple[action_links.For, dict[str, Any]]]] = field(default_factory=dict)

    def tell(self, person_id: int, item: dict[str, Any]) -> None:
        self.items.setdefault(person_id, []).append(item)

    def tell_with_link(self, policy: Policy, step: Step, item: dict[str, Any]) -> None:
        """Tell the step's owner, with a fresh link in the item (issued by `issue_links`)."""
        assert policy.link_purpose is not None
        bound = action_links.For(
            step.owner_id, step.subject_type, step.subject_id, step.subject_version
        )
        self.links.setdefault(policy.link_purpose, []).append((bound, item))
        self.tell(step.owner_id, item)

    def issue_links(self) -> None:
        """Every link this run gives, one INSERT per purpose, into the items that carry them."""
        for purpose, wanted in self.links.items():
            ids = action_links.issue_each(
                self.session, purpose=purpose, links=[bound for bound, _ in wanted]
            )
            for (_, item), link_id in zip(wanted, ids, strict=True):
                item["action_token_id"] = link_id
        self.links = {}


def due_steps(today: date) -> Any:
    """The due test, as one SQL statement over every domain's open steps."""
    return (
        select(Step)
        .where(
            col(Step.closed_at).is_(None),
            col(Step.escalated_at).is_(None),
            col(Step.next_chase_on) < today,
        )
        .order_by(col(Step.id))
    )


def run(
    session: Session,
    *,
    today: date | None = None,
    max_reminders: int | None = None,
    subject_types: Iterable[str] | None = None,
) -> ChaseReport:
    """Remind owners of overdue steps, escalate after `max_reminders`, re-issue expiring
    links, and queue one digest per person told anything (only about `subject_types`' steps
    when given: each domain's flow chases its own at its own hour)."""
    today = today or clock.today()
    limit = get_settings().reminders_before_escalation if max_reminders is None else max_reminders
    report = ChaseReport(today=today, working_day=clock.is_working_day(today))
    if not report.working_day:
        return report  # nobody is chased on a weekend or a bank holiday
    chase = _Run(session, today, report)
    known = policies()
    if subject_types is not None:
        known = {t: p for t, p in known.items() if t in set(subject_types)}
    due = [s for s in session.exec(due_steps(today)) if s.subject_type in known]
    reminded: set[int] = set()
    for subject_type, policy in known.items():
        mine = [s for s in due if s.subject_type == subject_type]
        linked = (
            _steps_without_a_lasting_link(session, policy, today) if policy.link_purpose else []
        )
        subjects = policy.load(session, sorted({s.subject_id for s in mine + linked}))
        for step in mine:
            subject = subjects.get(step.subject_id)
            if subject is None or policy.status(subject) != policy.waiting.get(step.kind):
                continue  # stale: the service that moved the subject on closes it
            if step.reminder_count < limit or not policy.escalates:
                if _remind(chase, policy, step, subject):
                    reminded.add(step.id or 0)
            else:
                _escalate(chase, policy, step, subject)
        for step in linked:
            subject = subjects.get(step.subject_id)
            if (
                step.id in reminded
                or subject is None
                or not policy.needs_link(step, subject)
                or policy.status(subject) != policy.waiting.get(step.kind)
            ):
                continue
            _reissue_link(chase, policy, step, subject)
    _add_the_rest_they_owe(chase, known)
    chase.issue_links()
    outbox.queue_each(
        session, [_digest(person_id, items, today) for person_id, items in chase.items.items()]
    )
    report.digests += len(chase.items)
    return report


def _add_the_rest_they_owe(chase: _Run, known: dict[str, Policy]) -> None:
    """A digest lists everything its reader owes: the steps chased today first, then their
    other open steps ("also waiting for you"), in one query for every reader. Nobody gets a
    digest only for steps that are not late."""
    readers = list(chase.items)
    if not readers:
        return
    listed = {i["step_id"] for items in chase.items.values() for i in items}
    rest = [
        s
        for s in chase.session.exec(
            select(Step)
            .where(
                col(Step.closed_at).is_(None),
                col(Step.owner_id).in_(readers),
                col(Step.subject_type).in_(list(known)),
            )
            .order_by(col(Step.due_on), col(Step.id))
        )
        if s.id not in listed
    ]
    for subject_type, policy in known.items():
        mine = [s for s in rest if s.subject_type == subject_type]
        subjects = policy.load(chase.session, sorted({s.subject_id for s in mine}))
        for step in mine:
            subject = subjects.get(step.subject_id)
            if subject is not None and policy.status(subject) == policy.waiting.get(step.kind):
                chase.tell(
                    step.owner_id,
                    _item(policy, step, "owed", also=True, due_text=long_date(step.due_on)),
                )


_STEPS = Step.__table__  # type: ignore[attr-defined]
# Built once, on the table: the values to set come as parameters named after their columns.
_CLAIM = update(_STEPS).where(
    _STEPS.c.id == bindparam("claim_id"),
    _STEPS.c.reminder_count == bindparam("claim_count"),
    _STEPS.c.next_chase_on == bindparam("claim_next"),
    _STEPS.c.escalated_at.is_(None),
    _STEPS.c.closed_at.is_(None),
)


def _claim(session: Session, step: Step, **values: Any) -> bool:
    """Take this step for this run, unless another run (or an earlier one today) took it."""
    result = session.execute(
        _CLAIM,
        {
            "claim_id": step.id,
            "claim_count": step.reminder_count,
            "claim_next": step.next_chase_on,
            **values,
        },
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _item(policy: Policy, step: Step, action: str, **extra: Any) -> dict[str, Any]:
    """One line of a digest: what it is about, and what must still hold for it to be sent."""
    return {
        "action": action,
        "subject_type": step.subject_type,
        "subject_id": step.subject_id,
        "expect_status": policy.waiting.get(step.kind),
        "kind": step.kind,
        "step_id": step.id,
        **extra,
    }


def _remind(chase: _Run, policy: Policy, step: Step, subject: Any) -> bool:
    """Remind the owner. Before the due date (a domain that opened the step with an earlier
    first chase) it is a notice that does not count as a reminder, and the next chase is the
    first working day after the due date; after it, reminders count and come every interval."""
    due = step.due_on
    early = chase.today <= due
    number = step.reminder_count if early else step.reminder_count + 1
    next_on = due if early else clock.add_working_days(chase.today, policy.interval(subject))
    if not _claim(
        chase.session,
        step,
        reminder_count=number,
        reminded_at=clock.now(),
        next_chase_on=next_on,
    ):
        return False
    item = _item(
        policy,
        step,
        "remind",
        number=number,
        early=early,
        due_text=long_date(due),
        action_token_id=None,
    )
    fresh_link = bool(policy.link_purpose and policy.needs_link(step, subject))
    if fresh_link:
        chase.tell_with_link(policy, step, item)
    else:
        chase.tell(step.owner_id, item)
    owner = chase.session.get(Person, step.owner_id)
    chase.report.steps.append(
        Done(
            "reminded",
            policy.ref(subject),
            _label(owner),
            *_owed(policy, step),
            (
                f"before the due date {due.isoformat()}"
                if early
                else f"reminder {number}, due {due.isoformat()}"
            )
            + (", fresh link" if fresh_link else ""),
        )
    )
    if not early:
        _copy(chase, policy, step, subject, owner, number)
    return True


def _copy(
    chase: _Run, policy: Policy, step: Step, subject: Any, owner: Person | None, number: int
) -> None:
    """Tell the people the domain copies on this late reminder, in their own digests."""
    for person in policy.copies(chase.session, step, subject, number):
        if person.id is None or person.id == step.owner_id or not person.active:
            continue
        chase.tell(
            person.id,
            _item(
                policy,
                step,
                "copy",
                number=number,
                owner_name=owner.name if owner else "",
                owner_email=owner.email if owner else "",
                due_text=long_date(step.due_on),
            ),
        )
        chase.report.steps.append(
            Done(
                "copied",
                policy.ref(subject),
                _label(person),
                *_owed(policy, step),
                f"reminder {number}",
            )
        )


def _escalate(chase: _Run, policy: Policy, step: Step, subject: Any) -> None:
    if not _claim(chase.session, step, escalated_at=clock.now()):
        return
    owner = chase.session.get(Person, step.owner_id)
    owed = _owed(policy, step)
    contact = policy.escalate_to(chase.session, step, subject)
    late = owner.name if owner else "the owner"
    if contact is None:
        chase.report.steps.append(
            Done(
                "not_escalated",
                policy.ref(subject),
                "",
                *owed,
                f"{late} is late and nobody is named to escalate to",
            )
        )
        return
    chase.tell(
        contact.id or 0,
        _item(
            policy,
            step,
            "escalate",
            owner_name=owner.name if owner else "",
            owner_email=owner.email if owner else "",
            reminders=step.reminder_count,
            first_due_text=long_date(step.due_on),
        ),
    )
    chase.report.steps.append(
        Done(
            "escalated",
            policy.ref(subject),
            _label(contact),
            *owed,
            f"{late} has not done it after {step.reminder_count} reminders",
        )
    )


def _horizon(today: date) -> datetime:
    """Local midnight starting the second working day after today, as an aware instant."""
    day = clock.add_working_days(today, REISSUE_WORKING_DAYS)
    return datetime.combine(day, time(0), tzinfo=clock.local_tz())


def _steps_without_a_lasting_link(session: Session, policy: Policy, today: date) -> list[Step]:
    """Open steps of this domain, of a kind acted on by link, whose owner holds no live link
    lasting past the horizon: one query, which leaves out every step whose link is fine."""
    lasting = select(ActionToken.id).where(
        col(ActionToken.purpose) == policy.link_purpose,
        col(ActionToken.subject_type) == col(Step.subject_type),
        col(ActionToken.subject_id) == col(Step.subject_id),
        col(ActionToken.subject_version) == col(Step.subject_version),
        col(ActionToken.person_id) == col(Step.owner_id),
        col(ActionToken.used_at).is_(None),
        col(ActionToken.revoked_at).is_(None),
        col(ActionToken.expires_at) >= _horizon(today),
    )
    return list(
        session.exec(
            select(Step)
            .where(
                col(Step.subject_type) == policy.subject_type,
                col(Step.kind).in_(sorted(policy.link_kinds)),
                col(Step.closed_at).is_(None),
                ~lasting.exists(),
            )
            .order_by(col(Step.id))
        )
    )


def _reissue_link(chase: _Run, policy: Policy, step: Step, subject: Any) -> None:
    """A fresh link when the owner holds none lasting two working days. Once it is
    issued the owner holds a lasting link, so the next run does not issue another; two runs
    at once would queue the same digest key, so the email still goes once."""
    chase.tell_with_link(policy, step, _item(policy, step, "link", action_token_id=None))
    owner = chase.session.get(Person, step.owner_id)
    chase.report.steps.append(
        Done(
            "link_reissued",
            policy.ref(subject),
            _label(owner),
            *_owed(policy, step),
            f"no live link lasting past {_horizon(chase.today):%Y-%m-%d}",
        )
    )


def _digest(person_id: int, items: list[dict[str, Any]], today: date) -> outbox.Mail:
    """One email listing everything this run tells the person. Its key names the person, the
    day and the items, so a repeated run (which claims nothing new) queues nothing more."""
    keys = ",".join(f"{i['action']}:{i['step_id']}:{i.get('number', '')}" for i in items)
    digest = hashlib.sha256(keys.encode()).hexdigest()[:16]
    return outbox.Mail(
        DIGEST,
        person_id,
        f"{DIGEST}:p{person_id}:{today.isoformat()}:{digest}",
        context={"items": items},
    )


def _owed(policy: Policy, step: Step) -> tuple[str, str]:
    return policy.duty.get(step.kind, step.kind), policy.noun.get(step.kind, step.kind)


def _label(person: Person | None) -> str:
    return f"{person.name} <{person.email}>" if person is not None else "(unknown person)"
