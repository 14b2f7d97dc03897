"""JSON API under /api/v1: thin routes that authorise, call one service, return a schema."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path
from sqlmodel import Session

from api.deps import api_actor, read_db, write_db
from models.projects import ProjectCreate, ProjectPublic
from models.rfcs import DecisionInput, ImpactInput, RfcCreate, RfcPublic, RfcSummary, RfcUpdate
from services import projects, rfc_views, rfcs
from services.actors import Actor

router = APIRouter(prefix="/api/v1", tags=["api"])

RfcId = Path(ge=1, le=2**31 - 1, description="The RFC's numeric id")
Code = Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9-]+$")

ERRORS = {
    401: {"description": "No or invalid API token"},
    403: {"description": "Not allowed for this person"},
    404: {"description": "Not found"},
    409: {"description": "Wrong state or changed meanwhile"},
    422: {"description": "Invalid input"},
}


@router.post("/projects", status_code=201, response_model=ProjectPublic, responses=ERRORS)
def create_project(data: ProjectCreate, actor: Actor = Depends(api_actor),
                   db: Session = Depends(write_db)) -> ProjectPublic:
    if not actor.is_admin:
        raise HTTPException(403, "Only administrators can register projects.")
    project = projects.create_project(db, actor=actor, data=data)
    return projects.to_public(db, project)


@router.get("/projects/{code}", response_model=ProjectPublic, responses=ERRORS)
def get_project(code: str = Code, _: Actor = Depends(api_actor),
                db: Session = Depends(read_db)) -> ProjectPublic:
    project = projects.get_project(db, code=code)
    assert project is not None
    return projects.to_public(db, project)


@router.get("/projects/{code}/rfcs", response_model=list[RfcSummary], responses=ERRORS)
def list_rfcs(code: str = Code, _: Actor = Depends(api_actor),
              db: Session = Depends(read_db)) -> list[RfcSummary]:
    project = projects.get_project(db, code=code)
    assert project is not None
    return [rfc_views.summary(r) for r in projects.register(db, project=project)]


@router.post("/projects/{code}/rfcs", status_code=201, response_model=RfcSummary, responses=ERRORS)
def create_rfc(data: RfcCreate, code: str = Code, actor: Actor = Depends(api_actor),
               db: Session = Depends(write_db)) -> RfcSummary:
    return rfc_views.summary(rfcs.create_rfc(db, actor=actor, project_code=code, data=data))


@router.get("/rfcs/{rfc_id}", response_model=RfcPublic, responses=ERRORS)
def get_rfc(rfc_id: int = RfcId, actor: Actor = Depends(api_actor),
            db: Session = Depends(read_db)) -> RfcPublic:
    rfc, project = rfcs.get_rfc(db, rfc_id=rfc_id)
    if not rfcs.may_view(db, rfc=rfc, project=project, actor=actor):
        raise HTTPException(404, f"There is no Request for Change with id {rfc_id}.")
    return rfc_views.to_public(db, rfc=rfc, project=project)


@router.patch("/rfcs/{rfc_id}", response_model=RfcSummary, responses=ERRORS)
def edit_rfc(data: RfcUpdate, rfc_id: int = RfcId, actor: Actor = Depends(api_actor),
             db: Session = Depends(write_db)) -> RfcSummary:
    return rfc_views.summary(rfcs.edit_rfc(db, actor=actor, rfc_id=rfc_id, data=data))


@router.post("/rfcs/{rfc_id}/submit", response_model=RfcSummary, responses=ERRORS)
def submit_rfc(rfc_id: int = RfcId, actor: Actor = Depends(api_actor),
               db: Session = Depends(write_db)) -> RfcSummary:
    return rfc_views.summary(rfcs.submit_rfc(db, actor=actor, rfc_id=rfc_id))


@router.post("/rfcs/{rfc_id}/impact", response_model=RfcSummary, responses=ERRORS)
def record_impact(data: ImpactInput, rfc_id: int = RfcId, actor: Actor = Depends(api_actor),
                  db: Session = Depends(write_db)) -> RfcSummary:
    return rfc_views.summary(rfcs.record_impact(db, actor=actor, rfc_id=rfc_id, data=data))


@router.post("/rfcs/{rfc_id}/decision", response_model=RfcSummary, responses=ERRORS)
def decide(data: DecisionInput, rfc_id: int = RfcId, actor: Actor = Depends(api_actor),
           db: Session = Depends(write_db)) -> RfcSummary:
    return rfc_views.summary(rfcs.decide(db, actor=actor, rfc_id=rfc_id, data=data))


@router.post("/rfcs/{rfc_id}/withdraw", response_model=RfcSummary, responses=ERRORS)
def withdraw(rfc_id: int = RfcId, actor: Actor = Depends(api_actor),
             db: Session = Depends(write_db)) -> RfcSummary:
    return rfc_views.summary(rfcs.withdraw_rfc(db, actor=actor, rfc_id=rfc_id))
