"""Performance's subjects, as the platform sees them: an officer's return and its entry link."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from core.db import CachedReads
from core.settings import get_settings
from models import Person
from models.performance import FigureReturn
from services.performance import figures, periods
from services.performance.returns_workflow import ENTER_LINK, SUBJECT
from services.platform import subjects


def _load(reads: CachedReads, return_id: int) -> FigureReturn | None:
    return reads.get(FigureReturn, return_id)


def _items_key(officer_id: int, period: str) -> tuple[str, int, str]:
    return ("figure_items", officer_id, period)


def _prefetch(reads: CachedReads, return_ids: list[int]) -> None:
    """A batch's returns in one query, and the figures they list in one more per period."""
    returns = reads.session.exec(
        select(FigureReturn).where(col(FigureReturn.id).in_(return_ids))
    ).all()
    reads.hold(FigureReturn, returns)
    by_period: dict[str, list[int]] = {}
    for ret in returns:
        by_period.setdefault(ret.period, []).append(ret.officer_id)
    for period, officers in by_period.items():
        found = figures.items_of(reads.session, sorted(set(officers)), period)
        for officer_id in officers:
            reads.keep(_items_key(officer_id, period), found.get(officer_id, []))


def _email_context(reads: CachedReads, ret: FigureReturn, base: str) -> dict[str, Any]:
    """A return's emails list the figures still outstanding on it."""
    settings = get_settings()
    every = reads.remember(
        _items_key(ret.officer_id, ret.period),
        lambda: figures.items(reads.session, officer_id=ret.officer_id, period=ret.period),
    )
    outstanding = [i for i in every if i.outstanding]
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
        prefetch=_prefetch,
    )
)
subjects.register_link(ENTER_LINK, "/figures/")
