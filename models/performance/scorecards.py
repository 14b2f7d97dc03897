"""Scorecards and their measures, as the council's CorVu held them.

A period is named by its last month, "YYYY-MM" (December 2009's quarter is "2009-12"), which
sorts and compares as text. Values are floats; the RAG rules compare them as decimals of their
shortest text, so 9.8 - 9.3 is exactly 0.5 on a tolerance boundary.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel, UniqueConstraint

from models.base import EnumText, UTCDateTime


class Frequency(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    half_yearly = "half-yearly"
    yearly = "yearly"


class Polarity(StrEnum):
    # Not named `lower`: a str enum member of that name would hide str.lower.
    higher_better = "higher"
    lower_better = "lower"  # NI014 avoidable contact


class Rag(StrEnum):
    green = "green"
    amber = "amber"
    red = "red"
    grey = "grey"


class Scorecard(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)  # "CCS-0910"
    name: str = Field(max_length=200)  # "Community and Customer Services 09/10"
    year: int  # the financial year it starts in: 2009 for 2009/10 (April to March)
    portfolio: str = Field(default="", max_length=120)  # the Portfolio Holder's portfolio
    created_at: datetime = Field(sa_type=UTCDateTime)


class Measure(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("scorecard_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    scorecard_id: int = Field(foreign_key="scorecard.id", index=True)
    code: str = Field(max_length=40)  # "NI014a", "PP18", "ACTION 22"
    name: str = Field(max_length=300)
    aim: str = Field(max_length=200)
    approach: str = Field(default="", max_length=200)
    frequency: Frequency = Field(sa_type=EnumText(Frequency, 20))
    # The officers as the file names them, and the people they were matched to (None until
    # a registered person is found, or a near-duplicate name is confirmed).
    responsible_name: str = Field(default="", max_length=120)
    responsible_officer_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    data_source_name: str = Field(default="", max_length=120)
    data_source_officer_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    unit: str = Field(default="number", max_length=40)
    polarity: Polarity = Field(sa_type=EnumText(Polarity, 10))
    year_end_target: float | None = None
    # How far a value may miss its target and be AMBER, in the measure's unit; None: the
    # site's default share of the target (settings.amber_tolerance_percent).
    amber_tolerance: float | None = None
    active: bool = True
    updated_at: datetime = Field(sa_type=UTCDateTime)


class MeasureTarget(SQLModel, table=True):
    __tablename__ = "measure_target"
    __table_args__ = (UniqueConstraint("measure_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    period: str = Field(max_length=7)
    value: float


class OfficerAlias(SQLModel, table=True):
    """A name an import file uses for a registered person ("Phil Aldis" is Philip Aldis),
    confirmed by someone in the performance team."""

    __tablename__ = "officer_alias"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)  # as compared: lower case, spaces squeezed
    person_id: int = Field(foreign_key="person.id")
    confirmed_by_id: int | None = Field(default=None, foreign_key="person.id")
    confirmed_at: datetime = Field(sa_type=UTCDateTime)
