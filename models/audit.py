"""The append-only audit trail: every transition and every refused attempt."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import UTCDateTime


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    actor_role: str = Field(max_length=30)
    actor_address: str = Field(default="", max_length=64)
    subject_type: str = Field(max_length=30)
    subject_id: int = Field(index=True)
    subject_version: int
    action: str = Field(max_length=30)
    from_status: str = Field(default="", max_length=30)
    to_status: str = Field(default="", max_length=30)
    outcome: str = Field(max_length=10)  # "ok" or "refused"
    detail: str = Field(default="", max_length=2000)
    # Tamper evidence: each row's hash covers its fields and the previous row's hash.
    prev_hash: str = Field(default="", max_length=64)
    row_hash: str = Field(default="", max_length=64)
