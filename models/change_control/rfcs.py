"""Requests for Change: Part 1 (description) and Part 2 (impact analysis) of Appendix 7."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, TypeAlias

from pydantic import field_validator
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel, UniqueConstraint

from models.base import VERSION_MAX, EnumText, UTCDateTime
from models.text import free_text, single_line

TITLE_MAX = 200
TEXT_MAX = 10_000


class RfcStatus(StrEnum):
    draft = "draft"
    impact_analysis = "impact_analysis"
    awaiting_approval = "awaiting_approval"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class Decision(StrEnum):
    approve = "approve"
    reject = "reject"


class Classification(StrEnum):
    minor = "minor"
    major = "major"


if TYPE_CHECKING:  # read models take the table's text; pydantic validates it into the enum
    StatusField: TypeAlias = RfcStatus | str
    ClassificationField: TypeAlias = Classification | str
else:
    StatusField, ClassificationField = RfcStatus, Classification


class Rfc(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    number: int
    ref: str = Field(max_length=40, unique=True)
    # Part 1 - Description of Change, by the person requesting it
    title: str = Field(max_length=TITLE_MAX)
    description: str = Field(max_length=TEXT_MAX)
    expected_benefits: str = Field(default="", max_length=TEXT_MAX)
    issue_log_no: int | None = None
    requester_id: int = Field(foreign_key="person.id", index=True)
    raised_on: date
    # Part 2 - Impact Analysis, by the Project Manager
    days_of_work: float | None = None
    products_affected: str | None = Field(default=None, max_length=TEXT_MAX)
    cost_pence: int | None = Field(default=None, sa_type=BigInteger)
    extends_timescale: bool | None = None
    needs_extra_resources: bool | None = None
    recommendation: str | None = Field(default=None, max_length=TEXT_MAX)
    impact_by_id: int | None = Field(default=None, foreign_key="person.id")
    impact_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    classification: str | None = Field(default=None, max_length=10)
    approver_id: int | None = Field(default=None, foreign_key="person.id")
    # Decision
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = Field(default=None, max_length=TEXT_MAX)
    # Written only by the workflow engine (services/platform/workflow.py). Not indexed: every
    # move would rewrite the index entry, and RFCs are read by project or requester first.
    status: RfcStatus = Field(default=RfcStatus.draft, sa_type=EnumText(RfcStatus, 20))
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


def _no_control_chars(value: str | None) -> str | None:
    """Reject control characters (CR/LF in a title would end up in an email header)."""
    return None if value is None else free_text(value)


_single_line = single_line


class RfcCreate(SQLModel):
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    description: str = Field(min_length=1, max_length=TEXT_MAX)
    expected_benefits: str = Field(default="", max_length=TEXT_MAX)
    issue_log_no: int | None = Field(default=None, ge=1, le=100_000)

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        v = _single_line(v)
        if not v:
            raise ValueError("enter a title")
        return v

    @field_validator("description", "expected_benefits")
    @classmethod
    def _text(cls, v: str) -> str:
        return _no_control_chars(v) or ""


class RfcUpdate(SQLModel):
    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    description: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)
    expected_benefits: str | None = Field(default=None, max_length=TEXT_MAX)
    issue_log_no: int | None = Field(default=None, ge=1, le=100_000)
    version: int | None = Field(
        default=None, ge=1, le=VERSION_MAX, description="If given, must match (else 409)"
    )

    @field_validator("title")
    @classmethod
    def _title(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = _single_line(v)
        if not v:
            raise ValueError("enter a title")
        return v

    @field_validator("description", "expected_benefits")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        return _no_control_chars(v)


class ImpactInput(SQLModel):
    days_of_work: float = Field(ge=0, le=10_000)
    products_affected: str = Field(default="", max_length=TEXT_MAX)
    cost_pence: int = Field(ge=0, le=10**12)
    extends_timescale: bool
    needs_extra_resources: bool
    recommendation: str = Field(min_length=1, max_length=TEXT_MAX)

    @field_validator("products_affected", "recommendation")
    @classmethod
    def _text(cls, v: str) -> str:
        return _no_control_chars(v) or ""


class DecisionInput(SQLModel):
    decision: Decision
    reason: str = Field(default="", max_length=TEXT_MAX)

    @field_validator("reason")
    @classmethod
    def _text(cls, v: str) -> str:
        return (_no_control_chars(v) or "").strip()


class HistoryEntry(SQLModel):
    at: datetime
    actor: str | None
    role: str
    action: str
    from_status: str
    to_status: str
    version: int
    outcome: str
    address: str
    detail: str
    summary: str = Field(default="", description="What happened, in plain English")


class RfcPublic(SQLModel):
    id: int
    ref: str
    project_code: str
    title: str
    description: str
    expected_benefits: str
    issue_log_no: int | None
    requester: str
    raised_on: date
    status: StatusField
    classification: ClassificationField | None
    version: int
    days_of_work: float | None
    products_affected: str | None
    cost_pence: int | None
    extends_timescale: bool | None
    needs_extra_resources: bool | None
    recommendation: str | None
    approver: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    history: list[HistoryEntry] = []


class RfcSummary(SQLModel):
    id: int
    ref: str
    status: StatusField
    version: int
    classification: ClassificationField | None = None


class RfcListItem(SQLModel):
    """One row of an RFC list: enough to show a register without fetching each RFC."""

    id: int
    ref: str
    project_code: str
    title: str
    status: StatusField
    classification: ClassificationField | None
    version: int
    issue_log_no: int | None
    raised_on: date
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None


class RfcList(SQLModel):
    items: list[RfcListItem]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page"
    )
