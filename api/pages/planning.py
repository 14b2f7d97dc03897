"""The service-planning cycle's pages for signed-in staff: the cycles, a cycle's dashboard and
calendar, and adding a plan to a cycle.

Every signed-in person reads cycles and plans (plans are shared across the council's staff);
only the performance team opens cycles, changes their calendar and adds plans. A plan's own
page, submitting it and printing it are api/pages/planning_plan.py; changing its content,
api/pages/planning_edit.py. Signatories sign by their emailed link, never here.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.pages import forms
from api.pages import planning_forms as pf
from api.pages.common import actor_of, see_other, signed_in
from api.rendering import render
from core import clock
from core.db import read_session, write_session
from models import Person
from models.planning import PlanStatus
from services.planning import plans, views
from services.planning.schemas import CalendarUpdate, CycleCreate, PlanCreate, default_calendar
from services.platform.errors import Conflict, Invalid

router = APIRouter(include_in_schema=False)
HOME = "/planning"
Year = Annotated[int, Path(ge=1, le=9999)]
DATES = (
    ("opens_on", "Opens", "Plan owners are emailed to start their plans on this day"),
    ("objectives_by", "Objectives set by", "The council's high-level objectives are set"),
    ("drafts_due", "Draft plans due", "Every plan's first draft"),
    ("signoff_by", "Signed off by", "Every plan signed: PP4 counts the plans approved by then"),
)
TITLES = ("Corporate Manager", "Executive Director")


def performance_team(person: Person = Depends(signed_in)) -> Person:
    if not person.is_admin:
        raise HTTPException(403, plans.ADMINS_ONLY)
    return person


# --- dates as GOV.UK date inputs (day, month, year) ------------------------------------------


def date_fields(dates: dict[str, date]) -> dict[str, str]:
    """Dates as the form's day, month and year fields."""
    out: dict[str, str] = {}
    for name, value in dates.items():
        out |= {f"{name}-day": str(value.day), f"{name}-month": str(value.month)}
        out[f"{name}-year"] = str(value.year)
    return out


def read_dates(form: dict[str, str]) -> tuple[dict[str, date], dict[str, str]]:
    """The four dates typed, or a message for each that is missing or not a real date."""
    found: dict[str, date] = {}
    errors: dict[str, str] = {}
    for name, label, _ in DATES:
        parts = [form.get(f"{name}-{p}", "").strip() for p in ("day", "month", "year")]
        if not any(parts):
            errors[name] = f"Enter the date for “{label}”"
            continue
        if not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts):
            errors[name] = f"“{label}” must be a real date, like 31 3 2011"
            continue
        day, month, year = (int(p) for p in parts)
        try:
            if year < 1900:  # "10" for 2010 is a slip, not the year 10
                raise ValueError(year)
            found[name] = date(year, month, day)
        except ValueError:
            errors[name] = f"“{label}” must be a real date, like 31 3 2011"
    return found, errors


def _order_error(exc: ValidationError) -> dict[str, str]:
    message = str(exc.errors()[0].get("msg", "")).removeprefix("Value error, ")
    return {"opens_on": message[:1].upper() + message[1:]}


# --- the cycles ---------------------------------------------------------------------------


def _cycles_page(request: Request, person: Person, *, status: int = 200, **extra: Any) -> Response:
    with read_session() as session:
        cycles = plans.list_cycles(session)
    today = clock.today()
    suggested = cycles[0].year + 1 if cycles else today.year + (1 if today.month >= 4 else 0)
    context: dict[str, Any] = {
        "title": "Service plans",
        "cycles": cycles,
        "label": plans.cycle_label,
        "dates": DATES,
        "section": HOME,
        "form": {"year": str(suggested)} | date_fields(default_calendar(suggested)),
        **extra,
    }
    return render(request, "pages/planning/cycles.html", context, status_code=status, person=person)


@router.get("/planning", response_class=HTMLResponse)
def cycles_page(request: Request, person: Person = Depends(signed_in)) -> Response:
    return _cycles_page(request, person)


@router.post("/planning/cycles", response_class=HTMLResponse)
def open_cycle(
    request: Request,
    person: Person = Depends(performance_team),
    form: dict[str, str] = Depends(forms.posted(max_fields=30, whole=True)),
) -> Response:
    raw = pf.parse_int(form.get("year"))
    year = raw if isinstance(raw, int) and 2000 <= raw <= 2100 else None
    bad_year = {"year": "Enter the year the plans start as 4 digits, like 2010"}
    if form.get("then") == "usual":  # the form again with that year's usual dates; no cycle
        if year is None:
            return _cycles_page(request, person, status=422, form=form, errors=bad_year)
        return _cycles_page(request, person, form=form | date_fields(default_calendar(year)))
    dates, errors = read_dates(form)
    if year is None or errors:
        errors = (bad_year if year is None else {}) | errors
        return _cycles_page(request, person, status=422, form=form, errors=errors)
    try:
        with write_session() as session:
            plans.open_cycle(
                session, data=CycleCreate(year=year, **dates), actor=actor_of(request, person)
            )
    except ValidationError as exc:
        return _cycles_page(request, person, status=422, form=form, errors=_order_error(exc))
    except Conflict as exc:
        return _cycles_page(request, person, status=409, form=form, errors={"year": exc.message})
    return see_other(f"{HOME}/{year}", f"The {plans.cycle_label(year)} planning cycle is open.")


@router.get("/planning/{year}", response_class=HTMLResponse)
def dashboard(request: Request, year: Year, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        board = views.dashboard(session, cycle=plans.get_cycle(session, year=year))
    return render(
        request,
        "pages/planning/dashboard.html",
        {
            "title": f"Service plans {plans.cycle_label(year)}",
            "board": board,
            "label": plans.cycle_label,
            "statuses": list(PlanStatus),
            "crumbs": pf.crumbs(),
            "section": HOME,
        },
        person=person,
    )


def _calendar_page(
    request: Request, person: Person, year: int, *, status: int = 200, **extra: Any
) -> Response:
    with read_session() as session:
        cycle = plans.get_cycle(session, year=year)
    saved = {name: getattr(cycle, name) for name, _, _ in DATES}
    context: dict[str, Any] = {
        "title": f"Change the {plans.cycle_label(year)} calendar",
        "cycle": cycle,
        "saved": saved,
        "dates": DATES,
        "form": date_fields(saved),
        "version": cycle.version,
        "crumbs": pf.crumbs(year),
        "section": HOME,
        **extra,
    }
    return render(
        request, "pages/planning/calendar.html", context, status_code=status, person=person
    )


@router.get("/planning/{year}/calendar", response_class=HTMLResponse)
def calendar_form(
    request: Request, year: Year, person: Person = Depends(performance_team)
) -> Response:
    return _calendar_page(request, person, year)


@router.post("/planning/{year}/calendar", response_class=HTMLResponse)
def change_calendar(
    request: Request,
    year: Year,
    person: Person = Depends(performance_team),
    form: dict[str, str] = Depends(forms.posted(max_fields=30, whole=True)),
) -> Response:
    version = pf.parse_int(form.get("version"))
    dates, errors = read_dates(form)
    if errors or not isinstance(version, int):
        errors = errors or {"opens_on": "The form was damaged: reload the page and try again"}
        return _calendar_page(request, person, year, status=422, form=form, errors=errors)
    try:
        with write_session() as session:
            plans.update_calendar(
                session,
                year=year,
                data=CalendarUpdate(version=version, **dates),
                actor=actor_of(request, person),
            )
    except ValidationError as exc:
        return _calendar_page(
            request, person, year, status=422, form=form, errors=_order_error(exc)
        )
    except Conflict as exc:
        # Someone else moved the calendar: show what it says now beside the dates typed.
        return _calendar_page(request, person, year, status=409, form=form, stale=exc.message)
    return see_other(f"{HOME}/{year}", f"The {plans.cycle_label(year)} calendar is changed.")


# --- adding a plan ------------------------------------------------------------------------

PLAN_LABELS = {
    "service_area": "the service area",
    "owner_email": "the owner's email address",
    "owner_title": "the owner's title",
}


def _new_plan_page(
    request: Request, person: Person, year: int, *, status: int = 200, **extra: Any
) -> Response:
    with read_session() as session:
        cycle = plans.get_cycle(session, year=year)
        board = views.dashboard(session, cycle=cycle)
        last = plans.list_cycles(session)
    taken = {r.plan.service_area for r in board.rows}
    before = next((c for c in last if c.year == year - 1), None)
    earlier = []
    if before is not None:
        with read_session() as session:
            earlier = [r.plan.service_area for r in views.dashboard(session, cycle=before).rows]
    context: dict[str, Any] = {
        "title": f"Add a service plan to {plans.cycle_label(year)}",
        "cycle": cycle,
        "not_yet": [a for a in earlier if a not in taken],
        "last_label": plans.cycle_label(year - 1),
        "titles": TITLES,
        "form": {"owner_title": TITLES[0], "roll_forward": "yes"},
        "crumbs": pf.crumbs(year),
        "section": HOME,
        **extra,
    }
    return render(
        request, "pages/planning/plan_new.html", context, status_code=status, person=person
    )


@router.get("/planning/{year}/plans/new", response_class=HTMLResponse)
def new_plan_form(
    request: Request, year: Year, person: Person = Depends(performance_team)
) -> Response:
    return _new_plan_page(request, person, year)


@router.post("/planning/{year}/plans/new", response_class=HTMLResponse)
def add_plan(
    request: Request,
    year: Year,
    person: Person = Depends(performance_team),
    form: dict[str, str] = Depends(forms.posted(max_fields=20, whole=True)),
) -> Response:
    errors: dict[str, str] = {}
    if form.get("owner_title") not in TITLES:
        errors["owner_title"] = "Choose whether a Corporate Manager or Executive Director owns it"
    if form.get("roll_forward") not in ("yes", "no"):
        errors["roll_forward"] = "Choose whether to start from last year's plan"
    try:
        data = PlanCreate(
            service_area=form.get("service_area", ""),
            owner_email=form.get("owner_email", "").strip(),
            owner_title=form.get("owner_title", ""),
            roll_forward=form.get("roll_forward") == "yes",
        )
    except ValidationError as exc:
        errors = pf.field_errors(exc, PLAN_LABELS) | errors
    if "owner_email" in errors:  # pydantic's words for a bad address are not a person's
        errors["owner_email"] = pf.email_problem(form.get("owner_email", ""), "the owner's")
    if errors:
        return _new_plan_page(request, person, year, status=422, form=form, errors=errors)
    try:
        with write_session() as session:
            plan = plans.add_plan(session, year=year, data=data, actor=actor_of(request, person))
    except (Invalid, Conflict) as exc:
        field = "owner_email" if isinstance(exc, Invalid) else "service_area"
        return _new_plan_page(
            request, person, year, status=exc.status_code, form=form, errors={field: exc.message}
        )
    return see_other(
        f"{HOME}/plans/{plan.id}",
        f"The {plan.service_area} plan is added to {plans.cycle_label(year)}. "
        "Check who signs it under “Sign-off”.",
    )
