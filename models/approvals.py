"""Human steps (who owes what by when) and the action-link tokens that let people act."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from models.base import UTCDateTime


class TaskKind(StrEnum):
    impact_analysis = "impact_analysis"
    decision = "decision"


class ApprovalTask(SQLModel, table=True):
    """One row per human step; reminders and escalations query these rows."""

    __tablename__ = "approval_task"
    id: int | None = Field(default=None, primary_key=True)
    rfc_id: int = Field(foreign_key="rfc.id", index=True)
    rfc_version: int
    kind: str = Field(max_length=30)
    owner_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    due_on: date
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminder_count: int = 0
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    outcome: str | None = Field(default=None, max_length=30)


class ActionToken(SQLModel, table=True):
    """A single-use, expiring link bound to (purpose, subject, version, person)."""

    __tablename__ = "action_token"
    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=30)
    subject_type: str = Field(max_length=30)
    subject_id: int
    subject_version: int
    person_id: int = Field(foreign_key="person.id", index=True)
    salt: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
