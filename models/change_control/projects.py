"""Projects, their people and stages."""

from __future__ import annotations

import re
from datetime import date, datetime

from pydantic import EmailStr, field_validator
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel, UniqueConstraint

from models.base import UTCDateTime
from models.text import free_text, single_line


class ProjectBase(SQLModel):
    code: str = Field(max_length=20, unique=True, index=True)
    name: str = Field(max_length=200)
    objective: str = Field(default="", max_length=2000)
    cost_tolerance_pence: int = Field(default=0, ge=0, sa_type=BigInteger)
    reminder_working_days: int = Field(default=5, ge=1, le=60)


class Project(ProjectBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sponsor_id: int = Field(foreign_key="person.id")
    manager_id: int = Field(foreign_key="person.id")
    alternate_approver_id: int | None = Field(default=None, foreign_key="person.id")
    group_chair_id: int | None = Field(default=None, foreign_key="person.id")
    start_on: date | None = None
    end_on: date | None = None
    rfc_counter: int = 0
    # Any registered officer may raise RFCs on it (and so see its register), not only members.
    open_to_all_officers: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)


CODE_PATTERN = r"^[A-Z][A-Z0-9-]{0,19}$"


class ProjectCreate(SQLModel):
    code: str = Field(
        min_length=1,
        max_length=20,
        description="Upper-case letters, digits and hyphens, starting with a letter (e.g. CSE)",
        schema_extra={"pattern": CODE_PATTERN},
    )
    name: str = Field(min_length=1, max_length=200)
    objective: str = Field(default="", max_length=2000)
    sponsor_email: EmailStr
    manager_email: EmailStr
    alternate_approver_email: EmailStr | None = None
    cost_tolerance_pence: int = Field(default=0, ge=0, le=10**12)
    open_to_all_officers: bool = Field(
        default=False,
        description="Any registered officer may see the project and raise RFCs "
        "on it; otherwise only its people (sponsor, manager, alternate, members) and admins",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return single_line(v)

    @field_validator("objective")
    @classmethod
    def _objective(cls, v: str) -> str:
        return free_text(v)

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not re.fullmatch(CODE_PATTERN, v):
            raise ValueError("use upper-case letters, digits and hyphens, starting with a letter")
        return v


class MemberPublic(SQLModel):
    email: str
    name: str
    role: str


class MemberAdd(SQLModel):
    email: EmailStr
    role: str = Field(
        min_length=1,
        max_length=120,
        description="What they do on the project, e.g. Work Stream Leader",
    )

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        return single_line(v)


class ProjectPublic(SQLModel):
    id: int
    code: str
    name: str
    objective: str
    sponsor_email: str
    manager_email: str
    alternate_approver_email: str | None
    cost_tolerance_pence: int
    open_to_all_officers: bool = False
    members: list[MemberPublic] = []


class ProjectList(SQLModel):
    items: list[ProjectPublic]


class ProjectMember(SQLModel, table=True):
    __tablename__ = "project_member"
    __table_args__ = (UniqueConstraint("project_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    role: str = Field(max_length=120)


class Stage(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    number: int
    name: str = Field(max_length=200)
    baseline_finish: date | None = None
    scheduled_finish: date | None = None
    review_on: date | None = None
