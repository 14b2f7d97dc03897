"""Entering performance figures signed in: My figures, a return's page, one figure's page
(enter, revise, override). The emailed link's pages are api/actions/performance.py; reports
are api/pages/performance_reports.py; the performance team's import, performance_admin.py."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from api.pages import forms
from api.pages.common import actor_of, see_other, signed_in
from api.rendering import render
from core import clock
from core.db import read_session, write_session
from models import Person
from models.performance import Rag
from services.performance import access, entry, figure_views, figures, one_figure, periods
from services.performance.figures import Entry, EntryErrors
from services.platform.errors import Forbidden, NotFound, ServiceError

router = APIRouter(include_in_schema=False)
# Six fields a figure: a return of 80 figures still fits.
MAX_FIELDS = 500


def entries_from(form: dict[str, str], view: entry.ReturnView) -> dict[int, Entry]:
    """Each outstanding figure's fields, as typed (checked by the service)."""
    out = {}
    for item in view.outstanding:
        key = f"f{item.measure.id}"
        out[item.measure.id or 0] = Entry(
            actual=form.get(f"{key}_actual", ""),
            ytd_actual=form.get(f"{key}_ytd_actual", ""),
            estimate=form.get(f"{key}_estimate", ""),
            commentary=form.get(f"{key}_commentary", ""),
            unavailable=form.get(f"{key}_unavailable") == "yes",
            reason=form.get(f"{key}_reason", ""),
        )
    return out


def return_context(view: entry.ReturnView, **extra: object) -> dict[str, object]:
    label = periods.label(view.ret.period)
    return {
        "title": f"Figures for {label}",
        "view": view,
        "period_label": label,
        "today": clock.today(),
        "errors": {},
        "form": {},
        **extra,
    }


def entry_errors(exc: EntryErrors) -> dict[str, str]:
    """Each figure's message, named by its measure's code, so the error summary says which."""
    named = {}
    for mid, msg in exc.errors.items():
        code = exc.codes.get(mid)
        named[f"f{mid}"] = f"{code}: {msg}" if code else msg[:1].upper() + msg[1:]
    return named


# --- signed in --------------------------------------------------------------------------------


@router.get("/performance/figures", response_class=HTMLResponse)
def my_figures(request: Request, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        returns = [
            {
                "id": r.id,
                "period_label": periods.label(r.period),
                "due_on": r.due_on,
                "status": r.status,
            }
            for r in entry.returns_of(session, person=person)
        ]
    return render(
        request,
        "pages/performance/my_figures.html",
        {"title": "My figures", "returns": returns, "today": clock.today()},
        person=person,
    )


def _return_page(
    request: Request, person: Person, return_id: int, *, status: int = 200, **extra: object
) -> Response:
    with read_session() as session:
        try:
            view = entry.for_person(session, return_id=return_id, person=person)
        except NotFound:
            raise HTTPException(404, "No such return of figures.") from None
    context = return_context(
        view,
        action=f"/performance/returns/{return_id}",
        csrf=True,
        by_link=False,
        section="/performance/figures",
        **extra,
    )
    return render(
        request, "pages/performance/entry.html", context, status_code=status, person=person
    )


@router.get("/performance/returns/{return_id}", response_class=HTMLResponse)
def return_page(request: Request, return_id: int, person: Person = Depends(signed_in)) -> Response:
    return _return_page(request, person, return_id)


@router.post("/performance/returns/{return_id}", response_class=HTMLResponse)
def submit_return(
    request: Request,
    return_id: int,
    person: Person = Depends(signed_in),
    form: dict[str, str] = Depends(forms.posted(max_fields=MAX_FIELDS)),
) -> Response:
    try:
        with write_session() as session:
            view = entry.for_person(session, return_id=return_id, person=person)
            count = entry.submit_signed_in(
                session,
                return_id=return_id,
                entries=entries_from(form, view),
                actor=actor_of(request, person),
                person=person,
            )
            label = periods.label(view.ret.period)
    except EntryErrors as exc:
        return _return_page(
            request, person, return_id, status=422, errors=entry_errors(exc), form=form
        )
    except NotFound:
        raise HTTPException(404, "No such return of figures.") from None
    except ServiceError as exc:
        return _return_page(request, person, return_id, status=exc.status_code, notice=exc.message)
    return render(
        request,
        "pages/performance/entry_done.html",
        {"title": "Figures submitted", "count": count, "period_label": label},
        person=person,
    )


# --- one figure: enter or revise it, override its colours -------------------------------------


def _figure_page(
    request: Request,
    person: Person,
    measure_id: int,
    period: str,
    *,
    status: int = 200,
    **extra: object,
) -> Response:
    with read_session() as session:
        try:
            view = figure_views.view(
                session, measure_id=measure_id, period=period, actor=actor_of(request, person)
            )
        except NotFound:
            raise HTTPException(404, "No such figure.") from None
    context = {
        "title": f"{view.measure.code} for {periods.label(view.period)}",
        "view": view,
        "period_label": periods.label(view.period),
        "section": "/performance",
        "errors": {},
        "form": {},
        **extra,
    }
    return render(
        request, "pages/performance/figure.html", context, status_code=status, person=person
    )


@router.get("/performance/figures/{measure_id}/{period}", response_class=HTMLResponse)
def figure_page(
    request: Request, measure_id: int, period: str, person: Person = Depends(signed_in)
) -> Response:
    return _figure_page(request, person, measure_id, period)


@router.post("/performance/figures/{measure_id}/{period}", response_class=HTMLResponse)
def enter_figure(
    request: Request,
    measure_id: int,
    period: str,
    person: Person = Depends(signed_in),
    form: dict[str, str] = forms.POSTED,
) -> Response:
    version = forms.parse_int(form.get("version"))
    entered = Entry(
        actual=form.get("actual", ""),
        ytd_actual=form.get("ytd_actual", ""),
        estimate=form.get("estimate", ""),
        commentary=form.get("commentary", ""),
        unavailable=form.get("unavailable") == "yes",
        reason=form.get("unavailable_reason", ""),
    )
    try:
        with write_session() as session:
            view = figure_views.view(
                session, measure_id=measure_id, period=period, actor=actor_of(request, person)
            )
            one_figure.enter_one(
                session,
                measure=view.measure,
                period=view.period,
                entry=entered,
                reason=form.get("reason", ""),
                version=version if isinstance(version, int) else None,
                actor=actor_of(request, person),
            )
    except one_figure.FigureInvalid as exc:
        return _figure_page(
            request,
            person,
            measure_id,
            period,
            status=422,
            form=form,
            errors={exc.field: exc.message.split(": ", 1)[-1]},
        )
    except NotFound:
        raise HTTPException(404, "No such figure.") from None
    except ServiceError as exc:
        return _figure_page(
            request,
            person,
            measure_id,
            period,
            status=exc.status_code,
            notice=exc.message,
            form=form,
        )
    return see_other(f"/performance/figures/{measure_id}/{period}", "The figure is saved.")


@router.post("/performance/figures/{measure_id}/{period}/override", response_class=HTMLResponse)
def override_colours(
    request: Request,
    measure_id: int,
    period: str,
    person: Person = Depends(signed_in),
    form: dict[str, str] = forms.POSTED,
) -> Response:
    wanted = {}
    for which in ("current", "projected"):
        value = form.get(which, "")
        if value not in ("", "amber", "red"):
            raise HTTPException(400, "Choose AMBER, RED or no override.")
        wanted[which] = Rag(value) if value else None
    actor = actor_of(request, person)
    try:
        with write_session() as session:
            view = figure_views.view(session, measure_id=measure_id, period=period, actor=actor)
            if not view.may_override:
                raise Forbidden(access.MAY_NOT_OVERRIDE)
            if view.figure is None:
                raise NotFound("No such figure.")
            figures.override(
                session,
                figure=view.figure,
                computed_current=view.current.computed,
                computed_projected=view.projected.computed,
                current=wanted["current"],
                projected=wanted["projected"],
                reason=form.get("override_reason", ""),
                actor=actor,
            )
    except NotFound:
        raise HTTPException(404, "No such figure.") from None
    except Forbidden as exc:
        raise HTTPException(403, exc.message) from None
    except ServiceError as exc:
        return _figure_page(
            request,
            person,
            measure_id,
            period,
            status=exc.status_code,
            form=form,
            errors={"override_reason": exc.message},
        )
    return see_other(f"/performance/figures/{measure_id}/{period}", "The override is saved.")
