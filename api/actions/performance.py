"""The data source officer's emailed link to their figures. GET and HEAD only show; the page's
button POSTs all the figures together (docs/security.md, action links)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api import throttling
from api.deps import client_address
from api.pages import forms
from api.pages.performance import MAX_FIELDS, entries_from, entry_errors, return_context
from api.rendering import render
from core.db import read_session, write_session
from services.performance import entry, periods
from services.performance.figures import EntryErrors
from services.platform.audit import record_refusal
from services.platform.errors import NotFound, ServiceError

router = APIRouter(tags=["action links"], include_in_schema=False)
_STATUS = {"live": 200, "used": 410, "submitted": 410}


def _link_page(
    request: Request, raw: str, *, status: int | None = None, **extra: object
) -> Response:
    with read_session() as session:
        try:
            view: entry.ReturnView | None = entry.by_link(session, raw=raw)
        except NotFound:
            view = None
    if view is None:
        if (refused := throttling.missed(request)) is not None:
            return refused  # unknown or expired: what guessing finds
        return render(
            request,
            "pages/performance/entry_invalid.html",
            {"title": "This link is not valid", "message": entry.NOT_VALID},
            status_code=404,
        )
    context = return_context(view, action=f"/figures/{raw}", csrf=False, by_link=True, **extra)
    return render(
        request, "pages/performance/entry.html", context, status_code=status or _STATUS[view.state]
    )


@router.api_route("/figures/{raw}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def link_page(request: Request, raw: str) -> Response:
    return throttling.refused(request) or _link_page(request, raw)


@router.post("/figures/{raw}", response_class=HTMLResponse)
def submit_by_link(
    request: Request,
    raw: str,
    typed: dict[str, str] = Depends(forms.posted(max_fields=MAX_FIELDS, csrf=False)),
) -> Response:
    if (refused := throttling.refused(request)) is not None:
        return refused
    try:
        with write_session() as session:
            view = entry.by_link(session, raw=raw)
            count = entry.submit_by_link(
                session, raw=raw, entries=entries_from(typed, view), address=client_address(request)
            )
            label = periods.label(view.ret.period)
    except EntryErrors as exc:
        return _link_page(request, raw, status=422, errors=entry_errors(exc), form=typed)
    except ServiceError as exc:
        if exc.refusal is not None:
            record_refusal(exc.refusal, exc.message)
        if exc.status_code == 404:
            return _link_page(request, raw)
        return _link_page(request, raw, status=exc.status_code, notice=exc.message)
    return render(
        request,
        "pages/performance/entry_done.html",
        {"title": "Figures submitted", "count": count, "period_label": label},
    )
