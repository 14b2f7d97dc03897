"""What the JSON API shows of the service-planning cycle, and what it hands to the services.

Cycles with their calendar and how many plans are in each status; a cycle's dashboard rows
(who holds each plan up, days to its deadline); a plan with its content, signatories and each
submitted version's answers. Writes call the one service function each (services.planning.plans
and .signoff) after two checks the shared schemas leave to their callers: every string sent
must be visible text (no control, invisible or text-direction characters, wherever it sits in
a plan's content) and every number finite (JSON's NaN and 1e309 parse in Python, and would be
stored and then break every read of the plan).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from models import Person
from models.planning import (
    PlanningCycle,
    PlanStatus,
    ResponseKind,
    ServicePlan,
    SignatoryRole,
)
from models.planning.content import PlanContent
from models.text import free_text
from services.planning import plans, signers, signoff, views
from services.planning.plan_workflow import LABELS, WORKFLOW
from services.planning.schemas import (
    CalendarUpdate,
    CycleCreate,
    PlanCreate,
    PlanUpdate,
    SignatoryIn,
    SubmitInput,
)
from services.platform.actors import Actor

# --- what the API shows -----------------------------------------------------------------------


class PersonRef(BaseModel):
    name: str
    email: str


class OwnerRef(PersonRef):
    title: str = Field(
        description="As the plan names them: Corporate Manager, or the "
        "Executive Director where the service has none"
    )


class StatusCounts(BaseModel):
    not_started: int = 0
    drafting: int = 0
    submitted: int = 0
    changes_asked: int = 0
    approved: int = 0
    total: int = 0


class CyclePublic(BaseModel):
    year: int = Field(description="The year the plans' first year starts: 2010 for 2010/11")
    label: str = Field(examples=["2010/11"])
    opens_on: date = Field(description="Plan owners are sent the kick-off email on this day")
    objectives_by: date = Field(description="High-level objectives set")
    drafts_due: date = Field(description="Draft plans due")
    signoff_by: date = Field(description="Every plan signed off (PP4 counts those approved)")
    kicked_off_at: datetime | None
    version: int = Field(description="Send it back to PATCH the calendar (409 if it moved on)")
    counts: StatusCounts = Field(description="The cycle's plans by status")


class CycleList(BaseModel):
    items: list[CyclePublic] = Field(description="Newest cycle first")


class PlanRowPublic(BaseModel):
    id: int
    service_area: str
    owner: OwnerRef
    status: PlanStatus
    status_label: str
    version: int = Field(description="The plan's row version (send it to PATCH or submit)")
    version_number: int | None = Field(description="Its newest submitted version, if any")
    holding_up: list[PersonRef] = Field(description="Whom the plan waits on now")
    deadline: date = Field(description="Drafts due until then, else the sign-off deadline")
    deadline_label: str = Field(examples=["drafts due", "sign-off"])
    days_left: int = Field(description="Negative once the deadline has passed")
    signed: int = Field(description="Signatures on the submitted version")
    to_sign: int = Field(description="Signatories in all")


class CycleDetail(CyclePublic):
    today: date = Field(description="The day `days_left` counts from (Europe/London)")
    approved_share: float | None = Field(description="Plans approved so far, 0 to 1 (PP4)")
    plans: list[PlanRowPublic] = Field(description="In service-area order")


class SignatoryPublic(BaseModel):
    name: str
    email: str
    role: SignatoryRole
    portfolio: str = Field(
        description="The Portfolio Holder's portfolio; empty for the "
        "Corporate Manager, who signs once for every pair"
    )


class AskedPublic(BaseModel):
    name: str
    email: str | None = Field(description="Null if the person is no longer registered")
    role: SignatoryRole
    portfolio: str


class AnswerPublic(BaseModel):
    name: str
    email: str
    kind: ResponseKind = Field(description="`signed`, or `changes_asked` with a comment")
    comment: str
    at: datetime


class VersionPublic(BaseModel):
    number: int
    submitted_at: datetime
    submitted_by: PersonRef | None
    note: str = Field(description="The owner's covering note")
    asked: list[AskedPublic] = Field(description="The signatories asked to sign this version")
    responses: list[AnswerPublic] = Field(description="Each answer given to it, oldest first")


class PlanPublic(BaseModel):
    id: int
    cycle_year: int
    cycle_label: str = Field(examples=["2010/11"])
    service_area: str
    owner: OwnerRef
    status: PlanStatus
    status_label: str
    version: int = Field(description="The row version: send it to PATCH or submit the plan")
    content: PlanContent
    current_version: int | None = Field(description="The newest submitted version's number")
    approved_version: int | None = Field(description="The version every signatory signed")
    approved_on: date | None
    rolled_forward: bool = Field(description="Started from last year's plan")
    signatories: list[SignatoryPublic] = Field(description="In the Approved by block's order")
    versions: list[VersionPublic] = Field(description="Each submitted version, newest first")


class PlanSubmitted(PlanPublic):
    submitted_version: int = Field(description="The number of the version just submitted")


# --- cycles -----------------------------------------------------------------------------------


def _counts(session: Session) -> dict[int, StatusCounts]:
    rows = session.exec(
        select(ServicePlan.cycle_id, ServicePlan.status, func.count()).group_by(
            col(ServicePlan.cycle_id), col(ServicePlan.status)
        )
    )
    out: dict[int, StatusCounts] = {}
    for cycle_id, status, n in rows:
        counts = out.setdefault(cycle_id, StatusCounts())
        setattr(counts, str(status), n)
        counts.total += n
    return out


def _cycle(cycle: PlanningCycle, counts: StatusCounts | None) -> dict[str, Any]:
    return {
        "year": cycle.year,
        "label": plans.cycle_label(cycle.year),
        "opens_on": cycle.opens_on,
        "objectives_by": cycle.objectives_by,
        "drafts_due": cycle.drafts_due,
        "signoff_by": cycle.signoff_by,
        "kicked_off_at": cycle.kicked_off_at,
        "version": cycle.version,
        "counts": counts or StatusCounts(),
    }


def cycle_list(session: Session) -> CycleList:
    """Every cycle, newest first, with its plans counted by status."""
    counts = _counts(session)
    return CycleList(
        items=[CyclePublic(**_cycle(c, counts.get(c.id or 0))) for c in plans.list_cycles(session)]
    )


def _cycle_public(session: Session, cycle: PlanningCycle) -> CyclePublic:
    return CyclePublic(**_cycle(cycle, _counts(session).get(cycle.id or 0)))


def cycle_detail(session: Session, *, year: int) -> CycleDetail:
    """The cycle with its dashboard: each plan's status and what it waits for."""
    board = views.dashboard(session, cycle=plans.get_cycle(session, year=year))
    rows = [_row(r) for r in board.rows]
    counts = StatusCounts(total=len(rows))
    for status, n in board.counts.items():
        setattr(counts, str(status), n)
    return CycleDetail(
        **_cycle(board.cycle, counts),
        today=board.today,
        approved_share=board.approved_share,
        plans=rows,
    )


def _row(row: views.PlanRow) -> PlanRowPublic:
    return PlanRowPublic(
        id=row.plan.id or 0,
        service_area=row.plan.service_area,
        owner=_owner(row.owner, row.plan),
        status=row.plan.status,
        status_label=row.status_label,
        version=row.plan.version,
        version_number=row.version_number,
        holding_up=[_ref(p) for p in row.holding_up],
        deadline=row.deadline,
        deadline_label=row.deadline_label,
        days_left=row.days_left,
        signed=row.signed,
        to_sign=row.to_sign,
    )


def open_cycle(session: Session, *, data: CycleCreate, actor: Actor) -> CyclePublic:
    """Open a cycle (the performance team); dates out of order are the request's fault."""
    with _request_errors():
        cycle = plans.open_cycle(session, data=data, actor=actor)
    return _cycle_public(session, cycle)


def change_calendar(
    session: Session, *, year: int, data: CalendarUpdate, actor: Actor
) -> CyclePublic:
    """Move the cycle's dates (the performance team), at the version read."""
    with _request_errors():
        cycle = plans.update_calendar(session, year=year, data=data, actor=actor)
    return _cycle_public(session, cycle)


# --- plans ------------------------------------------------------------------------------------


def plan_detail(session: Session, *, plan_id: int) -> PlanPublic:
    """The plan with its content, signatories and every submitted version's answers."""
    return _plan(session, plans.get_plan(session, plan_id=plan_id))


def add_plan(session: Session, *, year: int, data: PlanCreate, actor: Actor) -> PlanPublic:
    """Add a service area's plan to the cycle (the performance team)."""
    return _plan(session, plans.add_plan(session, year=year, data=data, actor=actor))


def edit_plan(session: Session, *, plan_id: int, data: PlanUpdate, actor: Actor) -> PlanPublic:
    """Replace the plan's content (its owner or the performance team)."""
    visible_text(data.model_dump(), ("body",))
    _authorise(session, plan_id, "edit", actor)
    plan = plans.edit(
        session, plan_id=plan_id, version=data.version, content=data.content, actor=actor
    )
    return _plan(session, plan)


def submit_plan(
    session: Session, *, plan_id: int, data: SubmitInput, actor: Actor
) -> PlanSubmitted:
    """Freeze the plan as its next version and email each signatory a link to sign it."""
    visible_text(data.model_dump(), ("body",))
    _authorise(session, plan_id, "submit", actor)
    version = plans.submit(
        session, plan_id=plan_id, version=data.version, note=data.note, actor=actor
    )
    shown = _plan(session, plans.get_plan(session, plan_id=plan_id))
    return PlanSubmitted(**dict(shown), submitted_version=version.number)


def change_signatories(
    session: Session, *, plan_id: int, named: list[SignatoryIn], actor: Actor
) -> PlanPublic:
    """Set who signs the plan (the performance team)."""
    plan = signoff.set_signatories(session, plan_id=plan_id, named=named, actor=actor)
    return _plan(session, plan)


def _authorise(session: Session, plan_id: int, action: str, actor: Actor) -> None:
    """Permission before state and version: someone who may never edit or submit the plan is
    told so (403, audited as refused) whatever version they sent."""
    plan = plans.get_plan(session, plan_id=plan_id)
    WORKFLOW.authorise(plan, plans.holders(session, plan, actor), action=action, actor=actor)


def _plan(session: Session, plan: ServicePlan) -> PlanPublic:
    cycle = session.get(PlanningCycle, plan.cycle_id)
    owner = session.get(Person, plan.owner_id)
    assert cycle is not None and owner is not None
    history = views.history(session, plan=plan)
    numbers = {h.version.id: h.version.number for h in history}
    return PlanPublic(
        id=plan.id or 0,
        cycle_year=cycle.year,
        cycle_label=plans.cycle_label(cycle.year),
        service_area=plan.service_area,
        owner=_owner(owner, plan),
        status=plan.status,
        status_label=LABELS[plan.status],
        version=plan.version,
        content=PlanContent.model_validate(plan.content),
        current_version=numbers.get(plan.current_version_id),
        approved_version=numbers.get(plan.approved_version_id),
        approved_on=plan.approved_on,
        rolled_forward=plan.rolled_from_id is not None,
        signatories=[
            SignatoryPublic(name=p.name, email=p.email, role=s.role, portfolio=s.portfolio)
            for s, p in signers.current(session, plan_id=plan.id or 0)
        ],
        versions=[_version(session, h) for h in history],
    )


def _version(session: Session, h: views.VersionHistory) -> VersionPublic:
    v = h.version
    return VersionPublic(
        number=v.number,
        submitted_at=v.submitted_at,
        submitted_by=_ref(h.submitted_by) if h.submitted_by else None,
        note=v.note,
        asked=[_asked(session, s) for s in v.signatories],
        responses=[
            AnswerPublic(
                name=a.person.name, email=a.person.email, kind=a.kind, comment=a.comment, at=a.at
            )
            for a in h.answers
        ],
    )


def _asked(session: Session, snapshot: dict[str, Any]) -> AskedPublic:
    # The snapshot keeps the name as it was when the version was submitted.
    person = session.get(Person, snapshot.get("person_id") or 0)
    return AskedPublic(
        name=str(snapshot.get("name", "")),
        email=person.email if person else None,
        role=SignatoryRole(snapshot["role"]),
        portfolio=str(snapshot.get("portfolio", "")),
    )


def _ref(person: Person) -> PersonRef:
    return PersonRef(name=person.name, email=person.email)


def _owner(person: Person, plan: ServicePlan) -> OwnerRef:
    return OwnerRef(name=person.name, email=person.email, title=plan.owner_title)


# --- requests the shared schemas let through -----------------------------------------------


@contextmanager
def _request_errors() -> Iterator[None]:
    """A service that builds a model from the request (the cycle's calendar, whose dates must
    run in order) raises pydantic's error: that is a 422 naming the body, not a server error."""
    try:
        yield
    except ValidationError as e:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in e.errors(include_url=False)]
        ) from e


def visible_text(value: Any, loc: tuple[str | int, ...]) -> None:
    """Refuse (422, naming where) any string holding control, invisible or text-direction
    characters, and any number that is not finite, anywhere in a request's body."""
    errors = list(_hostile(value, loc))
    if errors:
        raise RequestValidationError(errors)


def _hostile(value: Any, loc: tuple[str | int, ...]) -> Iterator[dict[str, Any]]:
    if isinstance(value, str):
        try:
            free_text(value)
        except ValueError as e:
            yield {"type": "value_error", "loc": loc, "msg": f"Value error, {e}", "input": value}
    elif isinstance(value, float) and not math.isfinite(value):
        yield {"type": "finite_number", "loc": loc, "msg": "Input should be a finite number"}
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _hostile(key, (*loc, str(key)))
            yield from _hostile(item, (*loc, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _hostile(item, (*loc, i))
