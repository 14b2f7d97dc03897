"""JSON API under /api/v1: thin routes that authorise, call one service, return a schema.

Every error is RFC 9457 problem+json (api/problems.py); each route declares the statuses it
can answer so /openapi.json and the schemathesis test hold the routes to them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session

from api.deps import api_actor, read_db, write_db
from api.problems import responses
from models.change_control.projects import MemberAdd, ProjectCreate, ProjectList, ProjectPublic
from models.change_control.rfcs import (
    Classification,
    DecisionInput,
    ImpactInput,
    Rfc,
    RfcCreate,
    RfcList,
    RfcListItem,
    RfcPublic,
    RfcStatus,
    RfcSummary,
    RfcUpdate,
)
from services.change_control import projects, rfc_search, rfc_views, rfcs
from services.platform.actors import Actor
from services.platform.errors import Forbidden, NotFound

router = APIRouter(prefix="/api/v1", tags=["api"])

RFC_KEY_PATTERN = rf"^([1-9][0-9]{{0,9}}|{rfc_search.REF_PATTERN})$"
RfcKey = Path(
    min_length=1,
    max_length=40,
    pattern=RFC_KEY_PATTERN,
    description="The RFC's numeric id (e.g. `7`) or its reference (e.g. `CSE-RFC-003`)",
    examples=["CSE-RFC-003"],
)
Code = Path(
    min_length=1,
    max_length=20,
    pattern=r"^[A-Za-z0-9-]+$",
    description="The project's code, e.g. `CSE`",
)

READ = responses(401, 404, 422)
WRITE = responses(401, 403, 404, 409, 413, 422)
WRITE_BODY = responses(400, 401, 403, 404, 409, 413, 422)  # 400: a body that is not UTF-8
LOCATION = {
    "Location": {"description": "The path of the new resource", "schema": {"type": "string"}}
}
CREATED: dict[int | str, dict[str, Any]] = {201: {"headers": LOCATION}}


class RfcListParams(BaseModel):
    """Query parameters of an RFC list; any other parameter is refused (422), not ignored."""

    model_config = ConfigDict(extra="forbid")
    status: RfcStatus | None = Field(None, description="Only RFCs in this status")
    classification: Classification | None = Field(None, description="Only minor or major ones")
    q: str = Field(
        "",
        max_length=rfc_search.Q_MAX,
        description="Case-insensitive text in the reference, title or description",
    )
    limit: int = Field(50, ge=1, le=rfc_search.LIMIT_MAX, description="Rows per page")
    cursor: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The `next_cursor` of the previous page, unchanged",
    )

    @field_validator("q")
    @classmethod
    def _q(cls, v: str) -> str:
        if any(ord(c) < 32 or ord(c) == 127 for c in v):
            raise ValueError("must not contain control characters")
        return v


# --- projects ---------------------------------------------------------------------------------


@router.get(
    "/projects", response_model=ProjectList, responses=responses(401), summary="List projects"
)
def list_projects(actor: Actor = Depends(api_actor), db: Session = Depends(read_db)) -> ProjectList:
    """The projects the caller may see, ordered by code: those they are one of the people of,
    those open to all officers, and (for administrators) every project."""
    return ProjectList(
        items=[projects.to_public(db, p) for p in projects.list_projects(db, actor=actor)]
    )


@router.post(
    "/projects",
    status_code=201,
    response_model=ProjectPublic,
    responses=CREATED | responses(400, 401, 403, 409, 413, 422),
    summary="Register a project",
)
def create_project(
    data: ProjectCreate,
    response: Response,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> ProjectPublic:
    """Register a project with its sponsor, manager and cost tolerance (administrators only).

    The people named by email must already be registered. Answers 201 with a `Location`.
    """
    if not actor.is_admin:
        raise Forbidden("Only administrators can register projects.")
    project = projects.create_project(db, actor=actor, data=data)
    response.headers["Location"] = f"/api/v1/projects/{project.code}"
    return projects.to_public(db, project)


@router.get(
    "/projects/{code}", response_model=ProjectPublic, responses=READ, summary="Get a project"
)
def get_project(
    code: str = Code, actor: Actor = Depends(api_actor), db: Session = Depends(read_db)
) -> ProjectPublic:
    """One project by its code, with its sponsor, manager, alternate and members.

    A project the caller may not see answers 404, as if it did not exist.
    """
    return projects.to_public(db, projects.visible_project(db, code=code, actor=actor))


@router.post(
    "/projects/{code}/members",
    status_code=201,
    response_model=ProjectPublic,
    responses=CREATED | WRITE_BODY,
    summary="Add a person to a project",
)
def add_member(
    data: MemberAdd,
    response: Response,
    code: str = Code,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> ProjectPublic:
    """Make a registered person one of the project's people, with their role on it
    (administrators and the project's Project Manager). Adding someone already there
    changes their role. Members see the project and its RFCs and may raise RFCs on it."""
    projects.add_project_member(db, actor=actor, code=code, email=str(data.email), role=data.role)
    response.headers["Location"] = f"/api/v1/projects/{code}/members/{data.email}"
    return projects.to_public(db, projects.visible_project(db, code=code, actor=actor))


@router.delete(
    "/projects/{code}/members/{email}",
    status_code=204,
    responses=WRITE,
    summary="Take a person off a project",
)
def remove_member(
    code: str = Code,
    email: str = Path(min_length=3, max_length=254),
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> Response:
    """Remove a member (administrators and the project's Project Manager). The named sponsor,
    manager and alternate approver stay while named (422)."""
    projects.remove_project_member(db, actor=actor, code=code, email=email)
    return Response(status_code=204)


@router.get(
    "/projects/{code}/rfcs", response_model=RfcList, responses=READ, summary="List a project's RFCs"
)
def list_rfcs(
    params: Annotated[RfcListParams, Query()],
    code: str = Code,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(read_db),
) -> RfcList:
    """A page of the project's RFCs, newest first, filtered by `status`, `classification` and `q`.

    `next_cursor` is null on the last page; otherwise pass it as `cursor`, with the same
    filters, for the next page. A cursor used with other filters, or altered, is refused (422).
    """
    project = projects.visible_project(db, code=code, actor=actor)
    page = rfc_search.search(
        db,
        query=rfc_search.RfcQuery(
            q=params.q,
            status=params.status,
            classification=params.classification,
            project_id=project.id,
            limit=params.limit,
            cursor=params.cursor,
        ),
    )
    return RfcList(
        items=[_list_item(r, project.code) for r in page.rows], next_cursor=page.next_cursor
    )


def _list_item(rfc: Rfc, project_code: str) -> RfcListItem:
    return RfcListItem.model_validate(rfc.model_dump() | {"project_code": project_code})


@router.post(
    "/projects/{code}/rfcs",
    status_code=201,
    response_model=RfcSummary,
    responses=CREATED | WRITE_BODY,
    summary="Raise an RFC",
)
def create_rfc(
    data: RfcCreate,
    response: Response,
    code: str = Code,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> RfcSummary:
    """Raise a draft RFC (Part 1) on the project; the caller is its requester.

    Answers 201 with a `Location` of the new RFC.
    """
    rfc = rfcs.create_rfc(db, actor=actor, project_code=code, data=data)
    response.headers["Location"] = f"/api/v1/rfcs/{rfc.id}"
    return rfc_views.summary(rfc)


# --- one RFC ----------------------------------------------------------------------------------


@router.get(
    "/rfcs/{rfc}", response_model=RfcPublic, responses=READ, summary="Get an RFC with its history"
)
def get_rfc(
    rfc: str = RfcKey, actor: Actor = Depends(api_actor), db: Session = Depends(read_db)
) -> RfcPublic:
    """One RFC by id or reference: both parts, the decision and the full history.

    Only its requester, the project's people, its approver and administrators see it; to
    anyone else it does not exist (404).
    """
    row, project = rfcs.get_rfc(db, rfc_id=rfc_search.rfc_id_for(db, key=rfc))
    if not rfcs.may_view(db, rfc=row, project=project, actor=actor):
        raise NotFound(f"There is no Request for Change {rfc}.")
    return rfc_views.to_public(db, rfc=row, project=project)


@router.patch("/rfcs/{rfc}", response_model=RfcSummary, responses=WRITE_BODY, summary="Edit Part 1")
def edit_rfc(
    data: RfcUpdate,
    rfc: str = RfcKey,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> RfcSummary:
    """Change the title, description, benefits or issue-log number; bumps the version.

    Send `version` to refuse the change (409) if someone else changed the RFC meanwhile.
    """
    rfc_id = rfc_search.rfc_id_for(db, key=rfc)
    return rfc_views.summary(rfcs.edit_rfc(db, actor=actor, rfc_id=rfc_id, data=data))


@router.post(
    "/rfcs/{rfc}/submit",
    response_model=RfcSummary,
    responses=WRITE,
    summary="Send a draft for impact analysis",
)
def submit_rfc(
    rfc: str = RfcKey, actor: Actor = Depends(api_actor), db: Session = Depends(write_db)
) -> RfcSummary:
    """The requester sends a draft to the Project Manager, who is emailed."""
    rfc_id = rfc_search.rfc_id_for(db, key=rfc)
    return rfc_views.summary(rfcs.submit_rfc(db, actor=actor, rfc_id=rfc_id))


@router.post(
    "/rfcs/{rfc}/impact",
    response_model=RfcSummary,
    responses=WRITE_BODY,
    summary="Record the impact analysis",
)
def record_impact(
    data: ImpactInput,
    rfc: str = RfcKey,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> RfcSummary:
    """The Project Manager's Part 2: classifies the change and asks the approver to decide.

    Major if it extends the timescale, needs extra resources or costs more than the project's
    tolerance (the sponsor decides); otherwise minor (the Project Manager decides).
    """
    rfc_id = rfc_search.rfc_id_for(db, key=rfc)
    return rfc_views.summary(rfcs.record_impact(db, actor=actor, rfc_id=rfc_id, data=data))


@router.post(
    "/rfcs/{rfc}/decision",
    response_model=RfcSummary,
    responses=WRITE_BODY,
    summary="Approve or reject",
)
def decide(
    data: DecisionInput,
    rfc: str = RfcKey,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> RfcSummary:
    """The named approver approves or rejects (a rejection needs a reason).

    The history records the decision as made "via API".
    """
    rfc_id = rfc_search.rfc_id_for(db, key=rfc)
    return rfc_views.summary(rfcs.decide(db, actor=actor, rfc_id=rfc_id, data=data, channel="api"))


@router.post(
    "/rfcs/{rfc}/withdraw", response_model=RfcSummary, responses=WRITE, summary="Withdraw an RFC"
)
def withdraw(
    rfc: str = RfcKey, actor: Actor = Depends(api_actor), db: Session = Depends(write_db)
) -> RfcSummary:
    """The requester or the Project Manager withdraws an open RFC; anyone waiting is told."""
    rfc_id = rfc_search.rfc_id_for(db, key=rfc)
    return rfc_views.summary(rfcs.withdraw_rfc(db, actor=actor, rfc_id=rfc_id))
