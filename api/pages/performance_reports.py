"""The performance reports' pages: the scorecards, and for each the Scorecard Performance
Detail Report, the RAG summary, completeness, late figures by officer and a measure's history.

Performance data is shared across the council's staff, so every signed-in person may read
every report. A report with `?format=csv` or `?format=xlsx` is the same report as a download.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.pages.common import signed_in
from api.rendering import render
from core.db import read_session
from models import Person
from services.performance import report_charts, report_files, reports
from services.performance.report_lines import Card

router = APIRouter(include_in_schema=False)
SECTION = "/performance"
FILES = {"csv": (report_files.csv_bytes, report_files.CSV_TYPE)}
FILES["xlsx"] = (report_files.xlsx_bytes, report_files.XLSX_TYPE)
# Checked by the service, not FastAPI: a bad period is a 400 page saying what is wrong.
Period = Query(None)
Format = Query("", alias="format")


def scorecard_href(card: Card, page: str = "") -> str:
    return f"/performance/scorecards/{quote(card.code, safe='')}{page}?period={card.period}"


def _crumbs(card: Card, *, detail: bool = True) -> list[dict[str, str]]:
    trail = [{"text": "Performance", "href": f"{SECTION}?period={card.period}"}]
    if detail:
        trail.append({"text": card.name, "href": scorecard_href(card)})
    return trail


def _answer(
    request: Request,
    person: Person,
    fmt: str,
    template: str,
    context: dict[str, Any],
    sheet: Callable[[], report_files.Sheet],
) -> Response:
    """The report as a page, or as the download `fmt` names."""
    if not fmt:
        context = {"section": SECTION, "downloads": True} | context
        return render(request, f"pages/performance/{template}", context, person=person)
    if fmt not in FILES:
        raise HTTPException(400, "A report downloads as format=csv or format=xlsx.")
    write, media_type = FILES[fmt]
    table = sheet()
    return Response(
        write(table),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{table.name}.{fmt}"'},
    )


@router.get("/performance", response_class=HTMLResponse)
def scorecards(
    request: Request, period: str | None = Period, person: Person = Depends(signed_in)
) -> Response:
    with read_session() as session:
        listing = reports.listing(session, period_text=period)
    return render(
        request,
        "pages/performance/scorecards.html",
        {"title": "Performance scorecards", "listing": listing, "section": SECTION},
        person=person,
    )


@router.get("/performance/scorecards/{scorecard_code}", response_class=HTMLResponse)
def detail(
    request: Request,
    scorecard_code: str,
    period: str | None = Period,
    fmt: str = Format,
    person: Person = Depends(signed_in),
) -> Response:
    with read_session() as session:
        found = reports.detail(session, code=scorecard_code, period_text=period)
    context = {
        "title": f"{found.card.name}: detail report, {found.card.period_label}",
        "report": found,
        "card": found.card,
        "crumbs": _crumbs(found.card, detail=False),
    }
    return _answer(
        request,
        person,
        fmt,
        "report_detail.html",
        context,
        lambda: report_files.detail_sheet(found),
    )


@router.get("/performance/scorecards/{scorecard_code}/summary", response_class=HTMLResponse)
def summary(
    request: Request,
    scorecard_code: str,
    period: str | None = Period,
    fmt: str = Format,
    person: Person = Depends(signed_in),
) -> Response:
    with read_session() as session:
        found = reports.summary(session, code=scorecard_code, period_text=period)
    context = {
        "title": f"{found.card.name}: RAG summary, {found.card.period_label}",
        "report": found,
        "card": found.card,
        "crumbs": _crumbs(found.card),
    }
    return _answer(
        request,
        person,
        fmt,
        "report_summary.html",
        context,
        lambda: report_files.summary_sheet(found),
    )


@router.get("/performance/scorecards/{scorecard_code}/completeness", response_class=HTMLResponse)
def completeness(
    request: Request,
    scorecard_code: str,
    period: str | None = Period,
    fmt: str = Format,
    person: Person = Depends(signed_in),
) -> Response:
    with read_session() as session:
        found = reports.completeness(session, code=scorecard_code, period_text=period)
    context = {
        "title": f"{found.card.name}: completeness, {found.card.period_label}",
        "report": found,
        "card": found.card,
        "crumbs": _crumbs(found.card),
        "aim_bars": report_charts.bars(found.aims),
        "portfolio_bars": report_charts.bars(found.portfolios),
    }
    return _answer(
        request,
        person,
        fmt,
        "report_completeness.html",
        context,
        lambda: report_files.completeness_sheet(found),
    )


@router.get("/performance/scorecards/{scorecard_code}/late", response_class=HTMLResponse)
def late(
    request: Request,
    scorecard_code: str,
    period: str | None = Period,
    fmt: str = Format,
    person: Person = Depends(signed_in),
) -> Response:
    with read_session() as session:
        found = reports.late(session, code=scorecard_code, period_text=period)
    context = {
        "title": f"{found.card.name}: late figures, {found.card.period_label}",
        "report": found,
        "card": found.card,
        "crumbs": _crumbs(found.card),
    }
    return _answer(
        request, person, fmt, "report_late.html", context, lambda: report_files.late_sheet(found)
    )


@router.get(
    "/performance/scorecards/{scorecard_code}/measures/{measure_code:path}",
    response_class=HTMLResponse,
)
def measure_history(
    request: Request,
    scorecard_code: str,
    measure_code: str,
    fmt: str = Format,
    person: Person = Depends(signed_in),
) -> Response:
    with read_session() as session:
        found = reports.history(session, code=scorecard_code, measure_code=measure_code)
    context = {
        "title": f"{found.measure.code} {found.measure.name}: history",
        "report": found,
        "card": found.card,
        "crumbs": _crumbs(found.card),
        "plot": report_charts.plot(found.lines),
    }
    return _answer(
        request,
        person,
        fmt,
        "report_history.html",
        context,
        lambda: report_files.history_sheet(found),
    )
