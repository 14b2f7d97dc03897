"""Counters for throttling: sign-in requests per address, link guesses per client."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import UTCDateTime


class Throttle(SQLModel, table=True):
    """A counter per (bucket, key) and time window, shared by every web worker."""

    __tablename__ = "throttle"
    bucket: str = Field(primary_key=True, max_length=30)
    key: str = Field(primary_key=True, max_length=64)  # a hash: no addresses stored in clear
    window_start: datetime = Field(sa_type=UTCDateTime)
    hits: int = 0
