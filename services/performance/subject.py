"""Performance's subjects, as the platform sees them: an officer's return and its entry link."""

from __future__ import annotations

from typing import Any

from core.db import CachedReads
from core.settings import get_settings
from models import Person
from models.performance import FigureReturn
from services.performance import figures, periods
from services.performance.returns_workflow import ENTER_LINK, SUBJECT
from services.platform import subjects


def _load(reads: CachedReads, return_id: int) -> FigureReturn | None:
    return reads.get(FigureReturn, return_id)


def _email_context(reads: CachedReads, ret: FigureReturn, base: str) -> dict[str, Any]:
    """A return's emails list the figures still outstanding on it."""
    settings = get_settings()
    outstanding = [
        i
        for i in figures.items(reads.session, officer_id=ret.officer_id, period=ret.period)
        if i.outstanding
    ]
    return {
        "ret": ret,
        "officer": reads.get(Person, ret.officer_id),
        "period_label": periods.label(ret.period),
        "outstanding": outstanding,
        "return_url": f"{base}/performance/returns/{ret.id}",
        "copy_responsible_from": settings.copy_responsible_from,
        "copy_manager_from": settings.copy_manager_from,
    }


subjects.register(
    subjects.SubjectType(
        name=SUBJECT,
        templates="performance",
        load=_load,
        status=lambda ret: ret.status,
        email_context=_email_context,
        path=lambda ret: f"/performance/returns/{ret.id}",
        ref=lambda ret: f"figures for {periods.label(ret.period)}",
    )
)
subjects.register_link(ENTER_LINK, "/figures/")
