"""Planning cycles, service plans, their signatories, versions and signatures.

A plan's content (its sections, operational plan and improvement plan) is one JSON document,
validated by `models.planning.content.PlanContent` on every write. Submitting copies it into a
`plan_version` row, which is never changed again: what a signatory signed is exactly what they
were shown, and what changed between two versions is the difference of two documents.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel, UniqueConstraint

from models.base import EnumText, UTCDateTime


class PlanStatus(StrEnum):
    not_started = "not_started"
    drafting = "drafting"
    submitted = "submitted"
    changes_asked = "changes_asked"
    approved = "approved"


class SignatoryRole(StrEnum):
    portfolio_holder = "portfolio_holder"
    corporate_manager = "corporate_manager"


class ResponseKind(StrEnum):
    signed = "signed"
    changes_asked = "changes_asked"


class PlanningCycle(SQLModel, table=True):
    """One financial year's round of service plans and its calendar."""

    __tablename__ = "planning_cycle"
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True)  # the year the plan's first year starts: 2010 for 2010/11
    opens_on: date  # kick-off emails go to plan owners on this day
    objectives_by: date  # high-level objectives set (31 July)
    drafts_due: date  # draft plans due (30 November)
    signoff_by: date  # every plan signed off (31 March): PP4 counts plans approved by then
    kicked_off_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # PP4 written into the scorecard once the deadline has passed (None until then).
    pp4_recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    version: int = 1  # bumped by every change to the calendar (optimistic concurrency)


class ServicePlan(SQLModel, table=True):
    __tablename__ = "service_plan"
    __table_args__ = (UniqueConstraint("cycle_id", "service_area"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="planning_cycle.id", index=True)
    service_area: str = Field(max_length=120)  # "Community and Customer Services"
    # The Corporate Manager, or the Executive Director where the service has none.
    owner_id: int = Field(foreign_key="person.id", index=True)
    owner_title: str = Field(default="Corporate Manager", max_length=60)
    status: PlanStatus = Field(sa_type=EnumText(PlanStatus, 20), default=PlanStatus.not_started)
    version: int = 1  # the row's version: every change bumps it (the workflow's guard)
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # The newest submitted version, and the approved one (frozen; printable).
    current_version_id: int | None = Field(default=None, index=True)
    approved_version_id: int | None = Field(default=None)
    approved_on: date | None = None
    rolled_from_id: int | None = Field(default=None, foreign_key="service_plan.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class PlanSignatory(SQLModel, table=True):
    """Who must sign the plan. Portfolio Holders are paired with the Corporate Manager in the
    "Approved by" block, one pair per portfolio; the Corporate Manager signs once."""

    __tablename__ = "plan_signatory"
    __table_args__ = (UniqueConstraint("plan_id", "person_id", "portfolio"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="service_plan.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: SignatoryRole = Field(sa_type=EnumText(SignatoryRole, 30))
    portfolio: str = Field(default="", max_length=120)  # "Policy & Performance"
    position: int = 0  # order in the Approved by block


class PlanVersion(SQLModel, table=True):
    """A plan as submitted for sign-off: frozen once written."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="service_plan.id", index=True)
    number: int  # 1, 2, 3 ... as people name them ("version 2")
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # The signatories asked to sign this version: [{person_id, name, role, portfolio}, ...]
    signatories: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    submitted_by_id: int = Field(foreign_key="person.id")
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    note: str = Field(default="", max_length=2000)  # the owner's covering note


class PlanResponse(SQLModel, table=True):
    """A signatory's answer to one version: signed, or changes asked (with a comment)."""

    __tablename__ = "plan_response"
    __table_args__ = (UniqueConstraint("version_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="service_plan.id", index=True)
    version_id: int = Field(foreign_key="plan_version.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    kind: ResponseKind = Field(sa_type=EnumText(ResponseKind, 20))
    comment: str = Field(default="", max_length=4000)
    at: datetime = Field(sa_type=UTCDateTime)
    via_link: bool = True
