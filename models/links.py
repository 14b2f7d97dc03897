"""Action links: single-use, expiring tokens bound to (purpose, subject, version, person)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime


class ActionToken(SQLModel, table=True):
    __tablename__ = "action_token"
    # A subject's live links are revoked whenever it moves (services/platform/action_links.py).
    __table_args__ = (Index("ix_action_token_subject", "subject_type", "subject_id"),)

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
