"""The transactional outbox: emails queued with the change that causes them, sent later."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime


class OutboxStatus(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    dropped = "dropped"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_subject", "subject_type", "subject_id"),)
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    template: str = Field(max_length=60)
    to_person_id: int = Field(foreign_key="person.id")
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # What the email is about (any domain's subject), and the status that subject must still be
    # in when the email is sent: a reminder overtaken by the step being done is dropped.
    subject_type: str | None = Field(default=None, max_length=30)
    subject_id: int | None = None
    expect_status: str | None = Field(default=None, max_length=30)
    action_token_id: int | None = Field(default=None, foreign_key="action_token.id")
    status: str = Field(default=OutboxStatus.queued, max_length=10, index=True)
    attempts: int = 0
    # Not indexed: a claim finds queued and sending rows through the status index, where each
    # status's rows sit together, and a claim's results are recorded by id.
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claim_id: str | None = Field(default=None, max_length=40)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_id: str | None = Field(default=None, max_length=200)
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
