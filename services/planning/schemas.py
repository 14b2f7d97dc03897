"""What people and API clients send to the planning cycle: checked here, once, for pages and
the API alike."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from models.base import VERSION_MAX
from models.planning import SignatoryRole
from models.planning.content import PlanContent
from models.text import free_text, single_line


def default_calendar(year: int) -> dict[str, date]:
    """The council's usual calendar for the plans starting in April of `year`: objectives in
    July, drafts in November, sign-off by 31 March (all of the year before)."""
    return {
        "opens_on": date(year - 1, 6, 1),
        "objectives_by": date(year - 1, 7, 31),
        "drafts_due": date(year - 1, 11, 30),
        "signoff_by": date(year, 3, 31),
    }


class Calendar(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opens_on: date
    objectives_by: date
    drafts_due: date
    signoff_by: date

    @model_validator(mode="after")
    def _in_order(self) -> Calendar:
        if not self.opens_on <= self.objectives_by <= self.drafts_due <= self.signoff_by:
            raise ValueError(
                "the dates must run in order: opens, objectives by, drafts due, sign-off by"
            )
        return self


class CycleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100, description="2010 for the 2010/11 plans")
    opens_on: date | None = None
    objectives_by: date | None = None
    drafts_due: date | None = None
    signoff_by: date | None = None

    def calendar(self) -> Calendar:
        dates = default_calendar(self.year)
        given = self.model_dump(exclude={"year"}, exclude_none=True)
        return Calendar(**(dates | given))


class CalendarUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=VERSION_MAX, description="the cycle's version as read")
    opens_on: date | None = None
    objectives_by: date | None = None
    drafts_due: date | None = None
    signoff_by: date | None = None


class SignatoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    role: SignatoryRole
    portfolio: str = Field(default="", max_length=120)

    @field_validator("portfolio")
    @classmethod
    def _line(cls, v: str) -> str:
        return single_line(v)


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service_area: str = Field(min_length=1, max_length=120)
    owner_email: EmailStr
    owner_title: str = Field(default="Corporate Manager", min_length=1, max_length=60)
    signatories: list[SignatoryIn] = Field(default_factory=list, max_length=40)
    roll_forward: bool = Field(
        default=True, description="start from last year's plan for the service area, if any"
    )

    @field_validator("service_area", "owner_title")
    @classmethod
    def _line(cls, v: str) -> str:
        v = single_line(v)
        if not v:
            raise ValueError("must not be blank")
        return v


class PlanUpdate(BaseModel):
    """A change to a plan's content (PATCH): the parts given replace the plan's."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(
        ge=1, le=VERSION_MAX, description="the plan's version as read (409 if it has moved on)"
    )
    content: PlanContent


class SubmitInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=VERSION_MAX)
    note: str = Field(default="", max_length=2000)

    @field_validator("note")
    @classmethod
    def _text(cls, v: str) -> str:
        return free_text(v).strip()  # copied into each signatory's email


class Response(BaseModel):
    """A signatory's answer: sign, or ask for changes saying what."""

    model_config = ConfigDict(extra="forbid")
    answer: str = Field(pattern="^(sign|changes)$")
    comment: str = Field(default="", max_length=4000)

    @field_validator("comment")
    @classmethod
    def _text(cls, v: str) -> str:
        return free_text(v)
