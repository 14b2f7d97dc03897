"""What the JSON API shows of scorecards, measures and figures, and what it accepts.

Values in a request are JSON numbers, never text: "75", "NaN", Infinity and 1e309 are refused
by the schema (422, naming the field) before any rule of the entry page is applied.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeAlias

from pydantic import ConfigDict, field_validator
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from models.base import VERSION_MAX
from models.performance.figures import FigureState, ReturnStatus
from models.performance.scorecards import Frequency, Polarity, Rag
from models.text import free_text

MAX_ABS = 1e12  # as services/performance/numbers.py: no figure is larger

Value: TypeAlias = Annotated[
    float,
    PydanticField(strict=True, allow_inf_nan=False, ge=-MAX_ABS, le=MAX_ABS),
]


class ScorecardPublic(SQLModel):
    code: str
    name: str
    year: int = Field(description="The financial year it starts in: 2009 for 2009/10")
    portfolio: str


class ScorecardList(SQLModel):
    items: list[ScorecardPublic]


class RagCounts(SQLModel):
    green: int
    amber: int
    red: int
    grey: int


class RagTally(SQLModel):
    measures: int
    current: RagCounts
    projected: RagCounts


class AimRag(SQLModel):
    aim: str
    measures: int
    current: RagCounts
    projected: RagCounts


class RagSummary(SQLModel):
    scorecard: str
    period: str = Field(description="The period, named by its last month (YYYY-MM)")
    aims: list[AimRag]
    total: RagTally


class OfficerPublic(SQLModel):
    name: str = Field(description="The registered person's name, or the file's spelling")
    email: str | None = Field(description="Null until the name is matched to a person")


class TargetPublic(SQLModel):
    period: str
    value: float


class ColourPublic(SQLModel):
    computed: Rag = Field(description="From the figure and its target")
    override: Rag | None = Field(description="An officer's judgement (AMBER or RED), if any")
    reported: Rag = Field(description="The override if there is one, else the computed colour")


class FigurePublic(SQLModel):
    period: str
    state: FigureState
    actual: float | None
    ytd_actual: float | None
    estimate: float | None = Field(description="The officer's forecast for the year end")
    commentary: str
    unavailable_reason: str
    target: float | None = Field(description="The measure's target for this period")
    current: ColourPublic = Field(description="The actual against the period's target")
    projected: ColourPublic = Field(description="The estimate against the year-end target")
    override_reason: str
    override_at: datetime | None
    first_entered_at: datetime
    entered_at: datetime
    version: int = Field(description="Send it back to revise the figure")


class FigureEntered(FigurePublic):
    return_status: ReturnStatus | None = Field(
        description="The data source officer's return for this period after this write "
        "(`submitted` once no figure on it is outstanding); null if none was opened"
    )


class MeasurePublic(SQLModel):
    scorecard: str
    code: str
    name: str
    aim: str
    approach: str
    frequency: Frequency
    unit: str
    polarity: Polarity
    year_end_target: float | None
    amber_tolerance: float | None = Field(
        description="How far a value may miss its target and be AMBER; null: the site's share"
    )
    active: bool
    responsible_officer: OfficerPublic | None
    data_source_officer: OfficerPublic | None
    targets: list[TargetPublic]
    figures: list[FigurePublic]


class MeasureList(SQLModel):
    scorecard: str
    items: list[MeasurePublic]


class FigureInput(SQLModel):
    """A figure for one period: numbers, or data unavailable with a reason."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]
    actual: Value | None = None
    ytd_actual: Value | None = None
    estimate: Value | None = None
    commentary: str = Field(default="", description="Required unless the figure is GREEN")
    unavailable: Annotated[bool, PydanticField(strict=True)] = Field(
        default=False, description="No data could be extracted: the values are then ignored"
    )
    unavailable_reason: str = Field(default="", description="Required when unavailable")
    reason: str = Field(default="", description="Why it is revised: required to revise")
    version: Annotated[int, PydanticField(strict=True, ge=1, le=VERSION_MAX)] | None = Field(
        default=None, description="The figure's version, required to revise (else 409)"
    )

    @field_validator("commentary", "unavailable_reason", "reason")
    @classmethod
    def _text(cls, v: str) -> str:
        return free_text(v)


class OverrideInput(SQLModel):
    """An officer's judgement over AMBER or RED colours; null withdraws it."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]
    current: Rag | None = None
    projected: Rag | None = None
    reason: str = Field(default="", description="Required when overriding; shown beside it")

    @field_validator("reason")
    @classmethod
    def _text(cls, v: str) -> str:
        return free_text(v)
