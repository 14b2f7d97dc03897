"""People (officers, managers, sponsors), their API tokens and web sessions."""

from __future__ import annotations

from datetime import datetime

from pydantic import EmailStr, field_validator
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime
from models.text import single_line


class PersonBase(SQLModel):
    name: str = Field(max_length=120)
    email: str = Field(max_length=254, unique=True, index=True)
    job_title: str = Field(default="", max_length=120)


class Person(PersonBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    is_admin: bool = False
    active: bool = True
    # Their line manager: the chase of late figures copies them last.
    manager_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class PersonCreate(SQLModel):
    name: str = Field(min_length=1, max_length=120)
    email: EmailStr
    job_title: str = Field(default="", max_length=120)
    is_admin: bool = False

    @field_validator("name", "job_title")
    @classmethod
    def _visible(cls, v: str) -> str:
        return single_line(v)

    @field_validator("name")
    @classmethod
    def _named(cls, v: str) -> str:
        if not v:
            raise ValueError("enter a name")
        return v


class PersonUpdate(SQLModel):
    """What `signoff users update` may change; None leaves a field as it is."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    job_title: str | None = Field(default=None, max_length=120)
    is_admin: bool | None = None

    @field_validator("name", "job_title")
    @classmethod
    def _single_line(cls, v: str | None) -> str | None:
        if v is None:
            return v
        return single_line(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is not None and not v:
            raise ValueError("enter a name")
        return v


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
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: until revoked


class WebSession(SQLModel, table=True):
    __tablename__ = "web_session"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
