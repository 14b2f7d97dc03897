"""Every HTML page router, in one place for the app factory: the platform's pages (sign-in,
administration, information) and each domain's."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import admin, auth, change_control, info

router = APIRouter(include_in_schema=False)
for module in (auth, change_control, admin, info):
    router.include_router(module.router)
