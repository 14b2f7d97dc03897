"""Planning cycles and their service plans: open a cycle, add a plan (rolled forward from last
year's), edit it, submit it to its signatories, change who signs it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from core import clock
from models import Person
from models.planning import (
    PlanningCycle,
    PlanStatus,
    PlanVersion,
    ServicePlan,
    SignatoryRole,
)
from models.planning.content import YEARS, PlanContent, Target
from services.planning import signers
from services.planning.plan_workflow import WORKFLOW, Holders
from services.planning.schemas import Calendar, CalendarUpdate, CycleCreate, PlanCreate, SignatoryIn
from services.platform import audit
from services.platform.actors import Actor
from services.platform.errors import Conflict, Forbidden, Invalid, NotFound

ADMINS_ONLY = "Only the performance team can set up planning cycles and their plans."


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden(ADMINS_ONLY)


def get_cycle(session: Session, *, year: int) -> PlanningCycle:
    cycle = session.exec(select(PlanningCycle).where(PlanningCycle.year == year)).first()
    if cycle is None:
        raise NotFound(f"There is no planning cycle for {year}/{(year + 1) % 100:02d}.")
    return cycle


def list_cycles(session: Session) -> list[PlanningCycle]:
    return list(session.exec(select(PlanningCycle).order_by(col(PlanningCycle.year).desc())))


def open_cycle(session: Session, *, data: CycleCreate, actor: Actor) -> PlanningCycle:
    """A new cycle with its calendar (the council's usual dates unless given)."""
    _admin(actor)
    if session.exec(select(PlanningCycle.id).where(PlanningCycle.year == data.year)).first():
        raise Conflict(f"There is already a planning cycle for {cycle_label(data.year)}.")
    cycle = PlanningCycle(year=data.year, created_at=clock.now(), **data.calendar().model_dump())
    session.add(cycle)
    session.flush()
    _audit(session, actor, "cycle", cycle.id or 0, 1, "open_cycle", cycle_label(data.year))
    return cycle


def update_calendar(
    session: Session, *, year: int, data: CalendarUpdate, actor: Actor
) -> PlanningCycle:
    _admin(actor)
    cycle = get_cycle(session, year=year)
    dates = Calendar(
        **{
            k: getattr(data, k) or getattr(cycle, k)
            for k in ("opens_on", "objectives_by", "drafts_due", "signoff_by")
        }
    )
    done = session.execute(
        update(PlanningCycle)
        .where(col(PlanningCycle.id) == cycle.id, col(PlanningCycle.version) == data.version)
        .values(**dates.model_dump(), version=cycle.version + 1)  # = data.version + 1
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("The calendar was changed by someone else. Reload it and try again.")
    session.refresh(cycle)
    detail = ", ".join(f"{k} {v:%d %B %Y}" for k, v in dates.model_dump().items())
    _audit(session, actor, "cycle", cycle.id or 0, cycle.version, "change_calendar", detail)
    return cycle


def cycle_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def _person(session: Session, email: str, what: str) -> Person:
    person = session.exec(select(Person).where(Person.email == email.lower())).first()
    if person is None or not person.active:
        raise Invalid(f"{email} is not a registered person: add them before naming them {what}.")
    return person


def add_plan(session: Session, *, year: int, data: PlanCreate, actor: Actor) -> ServicePlan:
    """Add a service area's plan to the cycle, rolled forward from last year's where there is
    one (and `roll_forward`): its content with each target moved on a year, its signatories."""
    _admin(actor)
    cycle = get_cycle(session, year=year)
    taken = select(ServicePlan.id).where(
        ServicePlan.cycle_id == cycle.id, ServicePlan.service_area == data.service_area
    )
    if session.exec(taken).first():
        raise Conflict(f"{data.service_area} already has a plan in {cycle_label(year)}.")
    owner = _person(session, str(data.owner_email), "the plan's owner")
    last = previous_plan(session, year=year, service_area=data.service_area)
    use_last = last is not None and data.roll_forward
    now = clock.now()
    plan = ServicePlan(
        cycle_id=cycle.id or 0,
        service_area=data.service_area,
        owner_id=owner.id or 0,
        owner_title=data.owner_title,
        status=PlanStatus.drafting if use_last else PlanStatus.not_started,
        content=rolled_forward(last.content).model_dump(mode="json") if use_last and last else {},
        rolled_from_id=last.id if use_last and last else None,
        created_at=now,
        updated_at=now,
    )
    session.add(plan)
    session.flush()
    named = data.signatories
    if not named and use_last and last is not None:
        named = signers.carried_over(session, plan_id=last.id or 0)
    signers.replace(session, plan=plan, named=resolve(session, named))
    detail = f"{data.service_area}, owner {owner.name}" + (", rolled forward" if use_last else "")
    _audit(session, actor, "service_plan", plan.id or 0, plan.version, "add_plan", detail)
    return plan


def resolve(session: Session, named: Iterable[SignatoryIn]) -> list[signers.Named]:
    return [
        signers.Named(_person(session, str(n.email), "a signatory"), n.role, n.portfolio)
        for n in named
    ]


def previous_plan(session: Session, *, year: int, service_area: str) -> ServicePlan | None:
    return session.exec(
        select(ServicePlan)
        .join(PlanningCycle, col(PlanningCycle.id) == col(ServicePlan.cycle_id))
        .where(PlanningCycle.year == year - 1, ServicePlan.service_area == service_area)
    ).first()


def rolled_forward(content: dict[str, object]) -> PlanContent:
    """Last year's plan as the start of this year's: the three-year targets move on a year
    (next year's become this year's; the new third year is left to fill in)."""
    plan = PlanContent.model_validate(content)
    for row in plan.operational:
        row.targets = [*row.targets[1:YEARS], Target()]
    return plan


def get_plan(session: Session, *, plan_id: int) -> ServicePlan:
    plan = session.get(ServicePlan, plan_id)
    if plan is None:
        raise NotFound("There is no such service plan.")
    return plan


def holders(session: Session, plan: ServicePlan, actor: Actor) -> Holders:
    return Holders(frozenset(signers.ids(session, plan_id=plan.id or 0)), actor.is_admin)


def edit(
    session: Session, *, plan_id: int, version: int, content: PlanContent, actor: Actor
) -> ServicePlan:
    """Replace the plan's content. Editing a submitted plan withdraws the submitted version."""
    plan = _at_version(session, plan_id, version)
    WORKFLOW.apply(
        session,
        plan,
        holders(session, plan, actor),
        action="edit",
        actor=actor,
        changes={"content": content.model_dump(mode="json")},
        detail=_edit_detail(plan, content),
    )
    return plan


def _edit_detail(plan: ServicePlan, content: PlanContent) -> str:
    before = PlanContent.model_validate(plan.content)
    changed = [
        k for k in ("operational", "improvement") if getattr(before, k) != getattr(content, k)
    ]
    keys = sorted(set(before.sections) | set(content.sections))
    changed += [k for k in keys if before.section(k) != content.section(k)]
    return "changed: " + (", ".join(changed) or "nothing")


def _at_version(session: Session, plan_id: int, version: int) -> ServicePlan:
    plan = get_plan(session, plan_id=plan_id)
    if plan.version != version:
        raise Conflict(
            "The plan was changed by someone else since you opened it. Reload it and try again."
        )
    return plan


def submit(session: Session, *, plan_id: int, version: int, note: str, actor: Actor) -> PlanVersion:
    """Freeze the plan as its next version and ask each signatory to sign it, by email."""
    plan = _at_version(session, plan_id, version)
    named = signers.current(session, plan_id=plan.id or 0)
    if not any(s.role == SignatoryRole.portfolio_holder for s, _ in named):
        raise Invalid("Name at least one Portfolio Holder to sign the plan before submitting it.")
    WORKFLOW.authorise(plan, holders(session, plan, actor), action="submit", actor=actor)
    number = 1 + (
        session.exec(
            select(func.max(PlanVersion.number)).where(PlanVersion.plan_id == plan.id)
        ).one()
        or 0
    )
    frozen = PlanVersion(
        plan_id=plan.id or 0,
        number=number,
        content=plan.content,
        signatories=[signers.snapshot(s, person) for s, person in named],
        submitted_by_id=actor.person_id,
        submitted_at=clock.now(),
        note=note,
    )
    session.add(frozen)
    session.flush()
    WORKFLOW.apply(
        session,
        plan,
        holders(session, plan, actor),
        action="submit",
        actor=actor,
        changes={"current_version_id": frozen.id},
        detail=f"version {number}",
    )
    signers.ask_to_sign(session, plan=plan, version=frozen, people=[p for _, p in named])
    return frozen


def _audit(
    session: Session,
    actor: Actor,
    subject_type: str,
    subject_id: int,
    version: int,
    action: str,
    detail: str,
) -> None:
    audit.record(
        session,
        actor_id=actor.person_id,
        actor_role="performance_team" if actor.is_admin else "officer",
        actor_address=actor.address,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_version=version,
        action=action,
        detail=detail,
    )
