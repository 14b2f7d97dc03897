"""Every HTML page router, in one place for the app factory: the platform's pages (sign-in,
administration, information) and each domain's."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import (
    admin,
    auth,
    change_control,
    info,
    performance,
    performance_admin,
    performance_reports,
    planning,
    planning_edit,
    planning_plan,
)

router = APIRouter(include_in_schema=False)
for module in (
    auth,
    change_control,
    performance,
    performance_admin,
    performance_reports,
    planning,
    planning_plan,
    planning_edit,
    admin,
    info,
):
    router.include_router(module.router)
