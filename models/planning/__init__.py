"""The annual service-planning cycle's tables: a cycle per financial year, a service plan per
service area, the plan's signatories, each submitted version (frozen), and each signatory's
response to a version (signed, or changes asked)."""

from models.planning.plans import (
    PlanningCycle,
    PlanResponse,
    PlanSignatory,
    PlanStatus,
    PlanVersion,
    ResponseKind,
    ServicePlan,
    SignatoryRole,
)

__all__ = [
    "PlanResponse",
    "PlanSignatory",
    "PlanStatus",
    "PlanVersion",
    "PlanningCycle",
    "ResponseKind",
    "ServicePlan",
    "SignatoryRole",
]
