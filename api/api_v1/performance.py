"""JSON API for performance under /api/v1: scorecards, their RAG summary, measures with their
targets and figures, entering a figure and overriding its colours.

Thin routes, as api/api_v1/change_control.py: authorise by token, call one service, return a
schema; errors are problem+json. Every token holder reads everything (performance data is
shared with all staff); who may write is the service's rule (services/performance/access.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session

from api.deps import api_actor, read_db, write_db
from api.problems import responses
from models.performance.public import (
    FigureEntered,
    FigureInput,
    FigurePublic,
    MeasureList,
    MeasurePublic,
    OverrideInput,
    RagSummary,
    ScorecardList,
)
from services.performance import api_views, periods
from services.platform.actors import Actor

router = APIRouter(prefix="/api/v1", tags=["performance"])

Code = Path(
    min_length=1,
    max_length=40,
    pattern=r"^[A-Za-z0-9_-]+$",
    description="The scorecard's code, e.g. `CCS-0910`",
    examples=["CCS-0910"],
)
MeasureCode = Path(
    min_length=1,
    max_length=40,
    description="The measure's code on the scorecard, e.g. `NI016` or `ACTION 03`",
    examples=["NI016"],
)
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
Period = Path(
    pattern=PERIOD_PATTERN,
    description="The period, named by its last month: `2009-12` is October to December 2009 "
    "for a quarterly measure",
    examples=["2009-12"],
)


def _described(statuses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """api/problems.py's responses, with 404 and 409 saying what they mean here."""
    words = {
        404: "No such scorecard, measure or figure (`not_found`)",
        409: "The figure changed since the `version` sent, or the measure is no longer "
        "collected (`conflict`)",
    }
    return {s: v | ({"description": words[s]} if s in words else {}) for s, v in statuses.items()}


READ = _described(responses(401, 404, 422))
ENTERED: dict[int | str, dict[str, Any]] = {
    201: {"model": FigureEntered, "description": "The figure, entered for the first time"}
}
WRITE_BODY = _described(responses(400, 401, 403, 404, 409, 413, 422))


class SummaryParams(BaseModel):
    """Query parameters of a RAG summary; any other parameter is refused (422)."""

    model_config = ConfigDict(extra="forbid")
    period: str | None = Field(
        None,
        max_length=20,
        description="The period, named by its last month (YYYY-MM); by default the last "
        "period that has ended",
        examples=["2009-12"],
    )

    @field_validator("period")
    @classmethod
    def _period(cls, v: str | None) -> str | None:
        return None if v is None else periods.parse(v)


@router.get(
    "/scorecards", response_model=ScorecardList, responses=responses(401), summary="List scorecards"
)
def list_scorecards(
    actor: Actor = Depends(api_actor), db: Session = Depends(read_db)
) -> ScorecardList:
    """Every scorecard, ordered by code: code, name, financial year and portfolio.

    Performance data is shared with all staff: every API token holder sees every scorecard.
    """
    return api_views.scorecard_list(db)


@router.get(
    "/scorecards/{scorecard_code}/rag-summary",
    response_model=RagSummary,
    responses=READ,
    summary="A scorecard's RAG summary",
)
def rag_summary(
    params: Annotated[SummaryParams, Query()],
    scorecard_code: str = Code,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(read_db),
) -> RagSummary:
    """How many measures are GREEN, AMBER, RED and GREY, now (`current`: the actual against
    the period's target) and at the year end (`projected`: the estimate against the year-end
    target), per aim and in total, as the reports count them: each active measure on its
    latest figure by the period, an officer's override counted in place of the colour."""
    return api_views.rag_summary(db, code=scorecard_code, period=params.period)


@router.get(
    "/scorecards/{scorecard_code}/measures",
    response_model=MeasureList,
    responses=READ,
    summary="A scorecard's measures with their figures",
)
def list_measures(
    scorecard_code: str = Code, actor: Actor = Depends(api_actor), db: Session = Depends(read_db)
) -> MeasureList:
    """Every measure of the scorecard, by aim, approach and code: its officers, its targets
    and every figure entered for it, with the colours computed and any override."""
    return api_views.measure_list(db, code=scorecard_code)


@router.get(
    "/scorecards/{scorecard_code}/measures/{measure_code:path}",
    response_model=MeasurePublic,
    responses=READ,
    summary="One measure with its figures",
)
def get_measure(
    scorecard_code: str = Code,
    measure_code: str = MeasureCode,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(read_db),
) -> MeasurePublic:
    """One measure: its officers, its targets and every figure entered for it."""
    return api_views.measure_detail(db, code=scorecard_code, measure_code=measure_code)


@router.put(
    "/scorecards/{scorecard_code}/measures/{measure_code:path}/figures/{period}",
    response_model=FigureEntered,
    responses=ENTERED | WRITE_BODY,
    summary="Enter or revise a figure",
)
def put_figure(
    data: FigureInput,
    response: Response,
    scorecard_code: str = Code,
    measure_code: str = MeasureCode,
    period: str = Period,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> FigureEntered:
    """Enter a figure (201) or revise one already in (200; send its `version` and a `reason`),
    checked as the entry page checks it. The measure's data source officer, its responsible
    officer and administrators may. When it was the last figure outstanding on the data source
    officer's return for the period, the return is submitted and the chase stops."""
    entered = api_views.enter_figure(
        db, code=scorecard_code, measure_code=measure_code, period=period, data=data, actor=actor
    )
    if entered.version == 1:
        response.status_code = 201
    return entered


@router.post(
    "/scorecards/{scorecard_code}/measures/{measure_code:path}/figures/{period}/override",
    response_model=FigurePublic,
    responses=WRITE_BODY,
    summary="Override a figure's colours",
)
def override(
    data: OverrideInput,
    scorecard_code: str = Code,
    measure_code: str = MeasureCode,
    period: str = Period,
    actor: Actor = Depends(api_actor),
    db: Session = Depends(write_db),
) -> FigurePublic:
    """The responsible officer's (or an administrator's) judgement over an AMBER or RED
    colour, to AMBER or RED, with a reason shown beside it; null withdraws it."""
    return api_views.override_colours(
        db, code=scorecard_code, measure_code=measure_code, period=period, data=data, actor=actor
    )
