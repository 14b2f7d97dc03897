"""Steps: who owes what, about which subject, by when. The platform's chasing reads these rows.

A step refers to any domain's subject by (subject_type, subject_id, subject_version), as links,
outbox rows and audit events do. A step that needs all of several people (every signatory of
a plan version) is one row per person with the same subject, version and kind: the subject is
done when none of them is open and each has the outcome wanted.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime


class Step(SQLModel, table=True):
    __tablename__ = "step"
    __table_args__ = (Index("ix_step_subject", "subject_type", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(max_length=30)
    subject_id: int
    subject_version: int
    kind: str = Field(max_length=30)
    owner_id: int = Field(foreign_key="person.id", index=True)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    due_on: date
    # The chase's due test is `closed_at IS NULL AND escalated_at IS NULL AND next_chase_on <
    # today`: the due date at first, then each reminder moves it on by the domain's interval.
    # It reads the open steps through closed_at's index, so next_chase_on has none to rewrite.
    next_chase_on: date
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminder_count: int = 0
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    outcome: str | None = Field(default=None, max_length=30)
