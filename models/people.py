"""People (officers, managers, sponsors), their API tokens and web sessions."""

from __future__ import annotations

from datetime import datetime

from pydantic import EmailStr
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime


class PersonBase(SQLModel):
    name: str = Field(max_length=120)
    email: str = Field(max_length=254, unique=True, index=True)
    job_title: str = Field(default="", max_length=120)


class Person(PersonBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    is_admin: bool = False
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)


class PersonCreate(SQLModel):
    name: str = Field(min_length=1, max_length=120)
    email: EmailStr
    job_title: str = Field(default="", max_length=120)
    is_admin: bool = False


class PersonPublic(SQLModel):
    id: int
    name: str
    email: str


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    label: str = Field(default="", max_length=120)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    __tablename__ = "web_session"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
