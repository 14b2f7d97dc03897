"""Changing a service plan, signed in: one section at a time, the operational plan (a file's
rows, or one row by form), the improvement plan, and (the performance team) its signatories.

Each change is made at the version the person read: if someone else saved meanwhile, the page
comes back with what they typed, says so, and shows what is saved now, so nothing is lost.
Editing a submitted plan withdraws its version from the signatories (the page warns first).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.pages import forms
from api.pages import planning_forms as pf
from api.pages.common import actor_of, see_other, signed_in
from api.rendering import render
from core.db import read_session, write_session
from models import Person
from models.planning import PlanStatus, ServicePlan
from models.planning.content import (
    SECTION_BY_KEY,
    TEXT_MAX,
    ImprovementAction,
    PlanContent,
    Section,
    SectionSpec,
)
from services.planning import operational_import, plans, views
from services.planning.plan_workflow import WORKFLOW
from services.platform.errors import Conflict, Invalid, ServiceError

router = APIRouter(include_in_schema=False)
PlanId = Annotated[int, Path(ge=1, le=2_147_483_647)]
TABLE_FIELDS = 4000  # 300 typed rows of a ten-column table still reach the page's own check
OPERATIONAL_MAX = 1000  # PlanContent's limit on operational plan rows


def may_edit(session: Session, request: Request, person: Person, plan_id: int) -> ServicePlan:
    """The plan, if this person may change it now: 403 for anyone but its owner and the
    performance team (whatever its state), 409 once it is approved. A form page refuses
    before anyone fills it in; the refusal is audited when they post."""
    plan = plans.get_plan(session, plan_id=plan_id)
    actor = actor_of(request, person)
    WORKFLOW.authorise(plan, plans.holders(session, plan, actor), action="edit", actor=actor)
    return plan


def _quietly(request: Request, person: Person, plan_id: int) -> dict[str, Any]:
    """may_edit for a GET (viewing a form changes nothing: no audit row), with what every
    edit page shows: the plan, its year, its content, and the version editing would withdraw."""
    with read_session() as session:
        try:
            plan = may_edit(session, request, person, plan_id)
        except ServiceError as exc:
            exc.refusal = None
            raise
        year = pf.cycle_year(session, plan)
        history = views.history(session, plan=plan)
    withdraws = history[0].version.number if plan.status == PlanStatus.submitted else None
    return {
        "plan": plan,
        "year": year,
        "years": [plans.cycle_label(year + n) for n in range(3)],
        "content": PlanContent.model_validate(plan.content),
        "withdraws": withdraws,
        "crumbs": pf.crumbs(year, plan),
        "section": "/planning",
        "version": plan.version,
    }


def _save(request: Request, person: Person, plan_id: int, version: Any, change: Any) -> str:
    """Apply `change` to the plan's content at `version`; returns what the banner says
    about the signatories (a submitted version is withdrawn). Raises Conflict when stale."""
    if not isinstance(version, int):
        raise Conflict(pf.DAMAGED)
    with write_session() as session:
        plan = plans.get_plan(session, plan_id=plan_id)
        was = plan.status
        content = PlanContent.model_validate(plan.content)
        change(content)
        try:  # checked whole, as the page's own checks may not have seen every rule
            checked = PlanContent.model_validate(content.model_dump())
        except ValidationError as exc:
            raise Invalid(f"Nothing was saved: {exc.errors()[0]['msg']}.") from None
        plans.edit(
            session,
            plan_id=plan_id,
            version=version,
            content=checked,
            actor=actor_of(request, person),
        )
    if was == PlanStatus.submitted:
        return " The submitted version was withdrawn from its signatories: submit the plan again."
    return ""


# --- one section ------------------------------------------------------------------------------


def _spec(key: str) -> SectionSpec:
    spec = SECTION_BY_KEY.get(key)
    if spec is None:
        raise HTTPException(404, "A service plan has no such section.")
    return spec


def _section_page(
    request: Request, person: Person, plan_id: int, spec: SectionSpec, **extra: Any
) -> Response:
    context = _quietly(request, person, plan_id)
    saved = context["content"].section(spec.key)
    cells = pf.section_cells(spec)
    context |= {
        "title": f"{spec.number}. {spec.title}",
        "spec": spec,
        "cells": cells,
        "saved": saved,
        "cell_text": pf.cell_text,
        "form": {
            "fields": dict(saved.fields),
            "rows": pf.stored_rows(saved.rows, cells),
            "to_follow": saved.to_follow,
            "to_follow_by": saved.to_follow_by,
        },
    }
    context |= extra
    if "stale" in extra:
        context["version"] = context["plan"].version  # their typed values, the saved version
    status = 409 if "stale" in extra else 422 if extra.get("errors") else 200
    return render(
        request, "pages/planning/section.html", context, status_code=status, person=person
    )


@router.get("/planning/plans/{plan_id}/sections/{key}", response_class=HTMLResponse)
def section_form(
    request: Request, plan_id: PlanId, key: str, person: Person = Depends(signed_in)
) -> Response:
    return _section_page(request, person, plan_id, _spec(key))


def _typed_section(form: dict[str, str], spec: SectionSpec) -> dict[str, Any]:
    return {
        "fields": {n: form.get(f"field-{n}", "").replace("\r\n", "\n") for n, _ in spec.fields},
        "rows": pf.typed_rows(form, "row", pf.section_cells(spec)),
        "to_follow": form.get("to_follow") == "yes",
        "to_follow_by": form.get("to_follow_by", ""),
    }


def _read_section(typed: dict[str, Any], spec: SectionSpec) -> tuple[Section | None, dict]:
    errors: dict[str, str] = {}
    for name, label in spec.fields:
        problem = pf.text_problem(typed["fields"][name], TEXT_MAX)
        if problem:
            errors[f"field-{name}"] = f"{label} {problem}"
    what = spec.row_label or "row"
    rows, row_errors = pf.read_rows(typed["rows"], pf.section_cells(spec), prefix="row", what=what)
    errors |= row_errors
    # Who supplies a section only means something while it is to follow.
    by = typed["to_follow_by"].strip() if typed["to_follow"] else ""
    problem = pf.text_problem(by, 120, single=True)
    if problem:
        errors["to_follow_by"] = f"Who will supply it {problem}"
    elif typed["to_follow"] and not by:
        errors["to_follow_by"] = "Enter who will supply the section, like Finance"
    if errors:
        return None, errors
    fields = {n: v.strip() for n, v in typed["fields"].items() if v.strip()}
    return Section(fields=fields, rows=rows, to_follow=typed["to_follow"], to_follow_by=by), {}


@router.post("/planning/plans/{plan_id}/sections/{key}", response_class=HTMLResponse)
def save_section(
    request: Request,
    plan_id: PlanId,
    key: str,
    person: Person = Depends(signed_in),
    form: dict[str, str] = Depends(forms.posted(max_fields=TABLE_FIELDS, whole=True)),
) -> Response:
    spec = _spec(key)
    with read_session() as session:
        may_edit(session, request, person, plan_id)  # permission first; refusals audited
    typed = _typed_section(form, spec)
    section, errors = _read_section(typed, spec)
    if section is None:
        return _section_page(request, person, plan_id, spec, form=typed, errors=errors)
    try:
        note = _save(
            request,
            person,
            plan_id,
            pf.parse_int(form.get("version")),
            lambda content: content.sections.__setitem__(spec.key, section),
        )
    except Conflict as exc:
        return _section_page(request, person, plan_id, spec, form=typed, stale=exc.message)
    except Invalid as exc:
        first = f"field-{spec.fields[0][0]}" if spec.fields else f"row-0-{spec.columns[0].name}"
        return _section_page(
            request, person, plan_id, spec, form=typed, errors={first: exc.message}
        )
    here = f"/planning/plans/{plan_id}"
    if form.get("then") == "more":
        return see_other(f"{here}/sections/{key}#rows", f"Section {spec.number} is saved.{note}")
    return see_other(
        f"{here}#section-{key}", f"Section {spec.number}, {spec.title}, is saved.{note}"
    )


# --- the operational plan -------------------------------------------------------------------


def _operational_page(
    request: Request, person: Person, plan_id: int, *, status: int = 200, **extra: Any
) -> Response:
    context = _quietly(request, person, plan_id)
    context |= {
        "title": "Operational plan",
        "rows": context["content"].operational,
        "reading": pf.reading,
        "form": {},
        "max_rows": OPERATIONAL_MAX,
        **extra,
    }
    return render(
        request, "pages/planning/operational.html", context, status_code=status, person=person
    )


@router.get("/planning/plans/{plan_id}/operational", response_class=HTMLResponse)
def operational_page(
    request: Request, plan_id: PlanId, person: Person = Depends(signed_in)
) -> Response:
    return _operational_page(request, person, plan_id)


@router.post("/planning/plans/{plan_id}/operational", response_class=HTMLResponse)
def import_operational(
    request: Request,
    plan_id: PlanId,
    person: Person = Depends(signed_in),
    sent: forms.Upload = forms.UPLOADED,
) -> Response:
    form, upload = sent.fields, sent.file
    with read_session() as session:
        may_edit(session, request, person, plan_id)
    if upload is None or not upload.filename:
        errors = {"file": "Choose a CSV or XLSX file of the operational plan"}
        return _operational_page(request, person, plan_id, status=422, errors=errors)
    data = sent.read()
    name = upload.filename[-100:]
    try:
        if len(data) > forms.MAX_UPLOAD:
            raise Invalid(f"{name} is larger than 5 MB.")
        rows = operational_import.read_operational_plan(data, name)
        if len(rows) > OPERATIONAL_MAX:
            raise Invalid(f"{name} has {len(rows)} rows: a plan holds at most {OPERATIONAL_MAX}.")
        note = _save(
            request,
            person,
            plan_id,
            pf.parse_int(form.get("version")),
            lambda content: setattr(content, "operational", rows),
        )
    except ServiceError as exc:
        problems = pf.problems(exc.message)
        return _operational_page(
            request,
            person,
            plan_id,
            status=exc.status_code,
            errors={"file": problems[0]},
            problems=problems[1:],
        )
    return see_other(
        f"/planning/plans/{plan_id}#operational",
        f"The operational plan now has the {len(rows)} rows of {name}.{note}",
    )


@router.post("/planning/plans/{plan_id}/operational/rows", response_class=HTMLResponse)
def add_operational_row(
    request: Request,
    plan_id: PlanId,
    person: Person = Depends(signed_in),
    form: dict[str, str] = Depends(forms.posted(max_fields=30, whole=True)),
) -> Response:
    with read_session() as session:
        may_edit(session, request, person, plan_id)
    row, errors = pf.operational_row(form)
    if row is None:
        return _operational_page(request, person, plan_id, status=422, form=form, errors=errors)

    def add(content: PlanContent) -> None:
        if len(content.operational) >= OPERATIONAL_MAX:
            raise Invalid(f"The operational plan already has {OPERATIONAL_MAX} rows.")
        content.operational.append(row)

    try:
        note = _save(request, person, plan_id, pf.parse_int(form.get("version")), add)
    except (Conflict, Invalid) as exc:
        return _operational_page(
            request,
            person,
            plan_id,
            status=exc.status_code,
            form=form,
            errors={"indicator": exc.message},
        )
    return see_other(
        f"/planning/plans/{plan_id}/operational#rows", f"Row added: {row.indicator[:120]}{note}"
    )


@router.post("/planning/plans/{plan_id}/operational/remove", response_class=HTMLResponse)
def remove_operational_rows(
    request: Request,
    plan_id: PlanId,
    person: Person = Depends(signed_in),
    form: dict[str, str] = Depends(forms.posted(max_fields=OPERATIONAL_MAX + 10, whole=True)),
) -> Response:
    with read_session() as session:
        may_edit(session, request, person, plan_id)
    chosen = {int(k[7:]) for k in form if k.startswith("remove-") and k[7:].isdigit()}
    if not chosen:
        errors = {"remove": "Choose the rows to remove"}
        return _operational_page(request, person, plan_id, status=422, errors=errors)

    def drop(content: PlanContent) -> None:
        content.operational = [r for i, r in enumerate(content.operational) if i not in chosen]

    try:
        note = _save(request, person, plan_id, pf.parse_int(form.get("version")), drop)
    except Conflict as exc:
        return _operational_page(
            request, person, plan_id, status=409, errors={"remove": exc.message}
        )
    count = f"{len(chosen)} row{'s' if len(chosen) != 1 else ''}"
    return see_other(f"/planning/plans/{plan_id}/operational#rows", f"{count} removed.{note}")


# --- the improvement plan -------------------------------------------------------------------


def _improvement_page(request: Request, person: Person, plan_id: int, **extra: Any) -> Response:
    context = _quietly(request, person, plan_id)
    saved = [a.model_dump() for a in context["content"].improvement]
    context |= {
        "title": "Improvement plan",
        "cells": pf.IMPROVEMENT_CELLS,
        "form": {"rows": pf.stored_rows(saved, pf.IMPROVEMENT_CELLS)},
        "month": pf.month_label,
        **extra,
    }
    if "stale" in extra:
        context["version"] = context["plan"].version
    status = 409 if "stale" in extra else 422 if extra.get("errors") else 200
    return render(
        request, "pages/planning/improvement.html", context, status_code=status, person=person
    )


@router.get("/planning/plans/{plan_id}/improvement", response_class=HTMLResponse)
def improvement_form(
    request: Request, plan_id: PlanId, person: Person = Depends(signed_in)
) -> Response:
    return _improvement_page(request, person, plan_id)


@router.post("/planning/plans/{plan_id}/improvement", response_class=HTMLResponse)
def save_improvement(
    request: Request,
    plan_id: PlanId,
    person: Person = Depends(signed_in),
    form: dict[str, str] = Depends(forms.posted(max_fields=TABLE_FIELDS, whole=True)),
) -> Response:
    with read_session() as session:
        may_edit(session, request, person, plan_id)
    typed = {"rows": pf.typed_rows(form, "imp", pf.IMPROVEMENT_CELLS)}
    rows, errors = pf.read_improvement(typed["rows"])
    if errors:
        return _improvement_page(request, person, plan_id, form=typed, errors=errors)
    try:
        actions = [ImprovementAction.model_validate(r) for r in rows]
    except ValidationError as exc:  # checked above, field by field; this is the model's word
        errors = {"imp-0-action": f"The improvement plan was not saved: {exc.errors()[0]['msg']}"}
        return _improvement_page(request, person, plan_id, form=typed, errors=errors)
    try:
        note = _save(
            request,
            person,
            plan_id,
            pf.parse_int(form.get("version")),
            lambda content: setattr(content, "improvement", actions),
        )
    except Conflict as exc:
        return _improvement_page(request, person, plan_id, form=typed, stale=exc.message)
    except Invalid as exc:
        errors = {"imp-0-action": exc.message}
        return _improvement_page(request, person, plan_id, form=typed, errors=errors)
    if form.get("then") == "more":
        return see_other(f"/planning/plans/{plan_id}/improvement#rows", f"Saved.{note}")
    return see_other(
        f"/planning/plans/{plan_id}#improvement",
        f"The improvement plan is saved: {len(actions)} actions.{note}",
    )
