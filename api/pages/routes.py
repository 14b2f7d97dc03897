"""Every HTML page router, in one place for the app factory."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import admin, auth, info, projects, rfcs

router = APIRouter(include_in_schema=False)
for module in (auth, rfcs, projects, admin, info):
    router.include_router(module.router)
