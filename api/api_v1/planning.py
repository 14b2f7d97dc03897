"""JSON API for the service-planning cycle under /api/v1: cycles and their calendar, the
cycle's dashboard, service plans (content, submission, signatories) and who signed which
version when.

Thin routes, as api/api_v1/performance.py: authorise by token, call one service, return a
schema; errors are problem+json. Every token holder reads every cycle and plan (plans are
shared with all staff); who may write is the services' rule: the performance team opens
cycles, moves their calendar, adds plans and changes signatories; a plan's owner and the
performance team edit and submit it. Signing is not in the API: signatories (Portfolio
Holders have no staff account) sign only through the link emailed to them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Response
from sqlmodel import Session

from api.deps import api_actor, read_db, write_db
from api.problems import responses
from services.planning import api_views
from services.planning.api_views import (
    CycleDetail,
    CycleList,
    CyclePublic,
    PlanPublic,
    PlanSubmitted,
)
from services.planning.schemas import (
    CalendarUpdate,
    CycleCreate,
    PlanCreate,
    PlanUpdate,
    SignatoryIn,
    SubmitInput,
)
from services.platform.actors import Actor

router = APIRouter(prefix="/api/v1", tags=["planning"])

Year = Path(
    ge=2000,
    le=2100,
    description="The year the cycle's plans start: `2010` for the 2010/11 plans",
    examples=[2010],
)
PlanId = Path(ge=1, le=2_147_483_647, description="The service plan's id", examples=[1])
SIGNATORIES_MAX = 40


def _described(statuses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """api/problems.py's responses, with 403, 404 and 409 saying what they mean here."""
    words = {
        403: "Only the performance team, or for a plan's content its owner (`forbidden`)",
        404: "No such planning cycle or service plan (`not_found`)",
        409: "The cycle or plan changed since the `version` sent, the year or service area "
        "is taken, or the plan is approved or already with its signatories (`conflict`)",
    }
    return {s: v | ({"description": words[s]} if s in words else {}) for s, v in statuses.items()}


LOCATION = {
    "Location": {"description": "The path of the new resource", "schema": {"type": "string"}}
}
CREATED: dict[int | str, dict[str, Any]] = {201: {"headers": LOCATION}}
READ = _described(responses(401, 404, 422))
WRITE = _described(responses(400, 401, 403, 404, 409, 413, 422))
CREATE_CYCLE = _described(responses(400, 401, 403, 409, 413, 422))


# --- cycles -----------------------------------------------------------------------------------


@router.get(
    "/cycles", response_model=CycleList, responses=responses(401), summary="List planning cycles"
)
def list_cycles(actor: Actor = Depends(api_actor), db: Session = Depends(read_db)) -> CycleList:
    """Every planning cycle, newest first: its year and label ("2010/11"), its calendar
    (opens, objectives by, drafts due, sign-off by) and how many plans are in each status.

    Plans are shared with all staff: every API token holder sees every cycle."""
    return api_views.cycle_list(db)


@router.post(
    "/cycles",
    status_code=201,
    response_model=CyclePublic,
    responses=CREATED | CREATE_CYCLE,
    summary="Open a planning cycle",
)
def open_cycle(
    data: CycleCreate,
    response: Response,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> CyclePublic:
    """Open the cycle for a year's service plans (the performance team only). Dates left out
    take the council's usual calendar: opens 1 June, objectives by 31 July, drafts due
    30 November, sign-off by 31 March. The dates must run in that order (422); a year that
    already has a cycle is 409. Answers 201 with a `Location`."""
    cycle = api_views.open_cycle(db, data=data, actor=actor)
    response.headers["Location"] = f"/api/v1/cycles/{cycle.year}"
    return cycle


@router.get(
    "/cycles/{year}",
    response_model=CycleDetail,
    responses=READ,
    summary="A planning cycle with its plans",
)
def get_cycle(
    year: int = Year, actor: Actor = Depends(api_actor), db: Session = Depends(read_db)
) -> CycleDetail:
    """The cycle's calendar and its dashboard: each plan's status, its row version, its newest
    submitted version, who is holding it up (the owner while drafting, the signatories yet to
    sign while submitted), its next deadline and the days left to it."""
    return api_views.cycle_detail(db, year=year)


@router.patch(
    "/cycles/{year}",
    response_model=CyclePublic,
    responses=WRITE,
    summary="Move a cycle's dates",
)
def change_calendar(
    data: CalendarUpdate,
    year: int = Year,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> CyclePublic:
    """Change any of the cycle's dates (the performance team only). Send the cycle's
    `version` as read: 409 if someone changed the calendar since. The dates, as changed, must
    still run in order (422)."""
    return api_views.change_calendar(db, year=year, data=data, actor=actor)


@router.post(
    "/cycles/{year}/plans",
    status_code=201,
    response_model=PlanPublic,
    responses=CREATED | WRITE,
    summary="Add a service plan to a cycle",
)
def add_plan(
    data: PlanCreate,
    response: Response,
    year: int = Year,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> PlanPublic:
    """Add a service area's plan (the performance team only), owned by its Corporate Manager
    (or Executive Director), with its signatories: the Portfolio Holders, each with their
    portfolio, and the Corporate Manager. Where the service area had a plan last year it is
    rolled forward (unless `roll_forward` is false): its content with each target moved on a
    year, and its signatories if none are named. The owner and signatories must be registered
    (422); a service area already in the cycle is 409. Answers 201 with a `Location`."""
    plan = api_views.add_plan(db, year=year, data=data, actor=actor)
    response.headers["Location"] = f"/api/v1/plans/{plan.id}"
    return plan


# --- plans ------------------------------------------------------------------------------------


@router.get(
    "/plans/{plan_id}",
    response_model=PlanPublic,
    responses=READ,
    summary="A service plan with its signatures",
)
def get_plan(
    plan_id: int = PlanId, actor: Actor = Depends(api_actor), db: Session = Depends(read_db)
) -> PlanPublic:
    """The plan: its owner, status, row `version`, content (sections, operational plan,
    improvement plan), its signatories, and each submitted version with every signatory's
    answer to it (signed, or changes asked with a comment, and when). Signatures on older
    versions stay on record; the plan is approved when every signatory has signed one version.

    Signing is not in the API: signatories sign, or ask for changes, only through the link
    emailed to them (Portfolio Holders are councillors with no staff account)."""
    return api_views.plan_detail(db, plan_id=plan_id)


@router.patch(
    "/plans/{plan_id}",
    response_model=PlanPublic,
    responses=WRITE,
    summary="Change a service plan's content",
)
def edit_plan(
    data: PlanUpdate,
    plan_id: int = PlanId,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> PlanPublic:
    """Replace the plan's content (its owner or the performance team). Send the plan's
    `version` as read: 409 if it changed since. An approved plan cannot change (409).
    Changing a plan that is with its signatories withdraws that version: their links stop
    working, signatures already given stay on record, and the next submission is a new
    version for all of them to sign. Invalid content is 422 with the path of each field."""
    return api_views.edit_plan(db, plan_id=plan_id, data=data, actor=actor)


@router.post(
    "/plans/{plan_id}/submit",
    response_model=PlanSubmitted,
    responses=WRITE,
    summary="Submit a service plan for sign-off",
)
def submit_plan(
    data: SubmitInput,
    plan_id: int = PlanId,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> PlanSubmitted:
    """Freeze the plan as its next version and email each signatory a link to sign it (its
    owner or the performance team), with an optional covering note. Send the plan's `version`
    as read (409 if it changed since). A plan with no Portfolio Holder named is 422."""
    return api_views.submit_plan(db, plan_id=plan_id, data=data, actor=actor)


@router.put(
    "/plans/{plan_id}/signatories",
    response_model=PlanPublic,
    responses=WRITE,
    summary="Set who signs a service plan",
)
def set_signatories(
    named: Annotated[
        list[SignatoryIn],
        Body(max_length=SIGNATORIES_MAX, description="The Approved by block, in order"),
    ],
    plan_id: int = PlanId,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> PlanPublic:
    """Replace the plan's signatories (the performance team only; audited). At least one
    Portfolio Holder (422); everyone named must be registered (422). While the plan is with
    its signatories, those added are emailed a link to sign the current version and those
    removed can no longer sign; if everyone left has signed it, the plan is approved. An
    approved plan's signatories cannot change (409)."""
    return api_views.change_signatories(db, plan_id=plan_id, named=named, actor=actor)
