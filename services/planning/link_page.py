"""What a signatory's link page shows besides the link itself: the version, what changed since
the version they were last asked to sign, and who has signed it so far. Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from models import ActionToken, Person
from models.planning import PlanningCycle, PlanResponse, PlanVersion, ResponseKind, SignatoryRole
from models.planning.content import PlanContent
from services.planning import signers
from services.planning.changes import Change, diff, year_labels
from services.planning.plan_workflow import SIGN_LINK, SUBJECT
from services.planning.plans import cycle_label
from services.planning.signoff import LinkView


def last_seen(
    session: Session, plan_id: int, person_id: int, before_number: int
) -> PlanVersion | None:
    """The newest version before `before_number` that this person was asked to sign: named in
    its signatories, or sent a link to it (someone added while it was out for signature is
    asked then, but its list of signatories was frozen before them)."""
    linked = set(
        session.exec(
            select(ActionToken.subject_version).where(
                ActionToken.purpose == SIGN_LINK,
                ActionToken.subject_type == SUBJECT,
                ActionToken.subject_id == plan_id,
                ActionToken.person_id == person_id,
            )
        )
    )
    earlier = session.exec(
        select(PlanVersion)
        .where(PlanVersion.plan_id == plan_id, PlanVersion.number < before_number)
        .order_by(col(PlanVersion.number).desc())
    )
    for version in earlier:
        named = any(s.get("person_id") == person_id for s in version.signatories)
        if named or version.number in linked:
            return version
    return None


@dataclass
class Signature:
    """One signatory of a version, with their answer to it (None: not yet)."""

    person_id: int
    name: str
    role: str  # "Portfolio Holder for Partnerships", "Corporate Manager"
    answer: ResponseKind | None
    at: datetime | None


@dataclass
class LinkPage:
    """What a signatory's link page shows besides the link itself."""

    link: LinkView
    owner: Person
    cycle_label: str  # "2010/11"
    years: list[str]  # the plan's three years, for its operational plan
    content: PlanContent  # the link's version, frozen
    last_seen: PlanVersion | None  # the version they were asked to sign before this one
    changes: list[Change]  # from `last_seen` to the link's version
    signatures: list[Signature]  # who signs the link's version, in the Approved by order

    @property
    def role(self) -> str:
        mine = next((s for s in self.signatures if s.person_id == self.link.signer.id), None)
        return mine.role if mine else "a signatory"

    @property
    def still_to_sign(self) -> int:
        return sum(1 for s in self.signatures if s.answer != ResponseKind.signed)


def link_page(session: Session, *, link: LinkView) -> LinkPage:
    """The plan version a link is for, what changed since its holder last saw the plan, and
    who has signed it so far. Reads only."""
    plan, version = link.plan, link.version
    cycle = session.get(PlanningCycle, plan.cycle_id)
    owner = session.get(Person, plan.owner_id)
    assert cycle is not None and owner is not None
    content = PlanContent.model_validate(version.content)
    seen = last_seen(session, plan.id or 0, link.signer.id or 0, version.number)
    changes = []
    if seen is not None:
        changes = diff(PlanContent.model_validate(seen.content), content, first_year=cycle.year)
    return LinkPage(
        link=link,
        owner=owner,
        cycle_label=cycle_label(cycle.year),
        years=year_labels(cycle.year),
        content=content,
        last_seen=seen,
        changes=changes,
        signatures=_signatures(session, link),
    )


def _signatures(session: Session, link: LinkView) -> list[Signature]:
    """The current signatories while the link's version is the plan's newest (someone may have
    been added or replaced since it was submitted); otherwise those it was submitted to."""
    if link.version.id == link.plan.current_version_id:
        named = [
            (p.id or 0, p.name, s.role, s.portfolio)
            for s, p in signers.current(session, plan_id=link.plan.id or 0)
        ]
    else:
        named = [
            (s["person_id"], s["name"], s["role"], s.get("portfolio", ""))
            for s in link.version.signatories
        ]
    answers = {
        r.person_id: r
        for r in session.exec(
            select(PlanResponse).where(PlanResponse.version_id == link.version.id)
        )
    }
    people: dict[int, Signature] = {}
    portfolios: dict[int, list[str]] = {}
    for person_id, name, role, portfolio in named:
        if role == SignatoryRole.portfolio_holder and portfolio:
            portfolios.setdefault(person_id, []).append(portfolio)
        if person_id not in people:
            answer = answers.get(person_id)
            people[person_id] = Signature(
                person_id,
                name,
                "Portfolio Holder"
                if role == SignatoryRole.portfolio_holder
                else "Corporate Manager",
                answer.kind if answer else None,
                answer.at if answer else None,
            )
    for person_id, held in portfolios.items():
        people[person_id].role = "Portfolio Holder for " + " and ".join(dict.fromkeys(held))
    return list(people.values())
