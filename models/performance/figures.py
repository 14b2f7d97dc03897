"""Figures: what an officer entered for a measure and period, its revisions, and returns.

A return is one officer's figures for one period, across every scorecard: one email, one
link, one page, one step for the chase. It is open until every figure on it is entered or
marked data unavailable.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel, UniqueConstraint

from models.base import EnumText, UTCDateTime
from models.performance.scorecards import Rag

COMMENTARY_MAX = 2000
REASON_MAX = 500


class FigureState(StrEnum):
    entered = "entered"
    unavailable = "unavailable"  # no data could be extracted: not lateness, not chased


class Figure(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("measure_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    period: str = Field(max_length=7, index=True)
    state: FigureState = Field(sa_type=EnumText(FigureState, 20))
    actual: float | None = None
    ytd_actual: float | None = None
    estimate: float | None = None  # the officer's forecast for the year end
    commentary: str = Field(default="", max_length=COMMENTARY_MAX)
    unavailable_reason: str = Field(default="", max_length=REASON_MAX)
    first_entered_at: datetime = Field(sa_type=UTCDateTime)  # lateness and GREY read this
    # First came from an import file: when it was really entered is not known, so it is never
    # counted late (a yearly measure's March figure imported in January).
    imported: bool = False
    entered_at: datetime = Field(sa_type=UTCDateTime)
    entered_by_id: int | None = Field(default=None, foreign_key="person.id")
    version: int = 1
    # An officer's judgement over the computed colour (AMBER/RED only), shown beside it.
    override_current: Rag | None = Field(default=None, sa_type=EnumText(Rag, 10))
    override_projected: Rag | None = Field(default=None, sa_type=EnumText(Rag, 10))
    override_reason: str = Field(default="", max_length=REASON_MAX)
    override_by_id: int | None = Field(default=None, foreign_key="person.id")
    override_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FigureRevision(SQLModel, table=True):
    """Append-only: every write of a figure, with who, when and why."""

    __tablename__ = "figure_revision"
    id: int | None = Field(default=None, primary_key=True)
    figure_id: int = Field(foreign_key="figure.id", index=True)
    version: int
    at: datetime = Field(sa_type=UTCDateTime)
    by_id: int | None = Field(default=None, foreign_key="person.id")
    reason: str = Field(default="", max_length=REASON_MAX)  # "" for the first entry
    state: FigureState = Field(sa_type=EnumText(FigureState, 20))
    actual: float | None = None
    ytd_actual: float | None = None
    estimate: float | None = None
    commentary: str = Field(default="", max_length=COMMENTARY_MAX)
    unavailable_reason: str = Field(default="", max_length=REASON_MAX)


class ReturnStatus(StrEnum):
    open = "open"
    submitted = "submitted"


class FigureReturn(SQLModel, table=True):
    __tablename__ = "figure_return"
    __table_args__ = (UniqueConstraint("officer_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    officer_id: int = Field(foreign_key="person.id", index=True)
    period: str = Field(max_length=7, index=True)
    due_on: date
    status: ReturnStatus = Field(sa_type=EnumText(ReturnStatus, 20))
    version: int = 1
    opened_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
