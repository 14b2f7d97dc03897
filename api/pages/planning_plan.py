"""One service plan's pages: the plan (its sections, operational and improvement plans, who
signs it and who signed which version), submitting it for sign-off, changing its signatories
(the performance team), and the printable approved plan with its "Approved by" block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.pages import forms
from api.pages import planning_forms as pf
from api.pages.common import actor_of, see_other, signed_in
from api.rendering import render
from core.db import read_session, write_session
from models import Person
from models.planning import PlanningCycle, PlanStatus, ServicePlan, SignatoryRole
from models.planning.content import SECTIONS, PlanContent
from services.planning import plans, signers, signoff, views
from services.planning.plan_workflow import WORKFLOW
from services.platform.errors import Conflict, Invalid

router = APIRouter(include_in_schema=False)
PlanId = Annotated[int, Path(ge=1, le=2_147_483_647)]  # an INTEGER key: larger is no plan
SIGNATORIES_ONLY = "Only the performance team can change a plan's signatories."


@dataclass
class PlanPage:
    """What a plan's page shows, read in one session."""

    plan: ServicePlan
    cycle: PlanningCycle
    row: views.PlanRow  # its status, whom it waits on, its deadline
    content: PlanContent
    named: list[dict[str, Any]]  # the current signatories, in block order
    history: list[views.VersionHistory]  # newest first
    actions: list[str]  # what this person may do to it now ("edit", "submit")


def load_plan(session: Session, plan_id: int, person: Person) -> PlanPage:
    plan = plans.get_plan(session, plan_id=plan_id)
    cycle = next(c for c in plans.list_cycles(session) if c.id == plan.cycle_id)
    row = next(r for r in views.dashboard(session, cycle=cycle).rows if r.plan.id == plan.id)
    roles = {"owner"} if person.id == plan.owner_id else set()
    roles |= {"performance_team"} if person.is_admin else set()
    named = [
        {"person_id": p.id, "name": p.name, "role": str(s.role), "portfolio": s.portfolio}
        for s, p in signers.current(session, plan_id=plan.id or 0)
    ]
    return PlanPage(
        plan=plan,
        cycle=cycle,
        row=row,
        content=PlanContent.model_validate(plan.content),
        named=named,
        history=views.history(session, plan=plan),
        actions=WORKFLOW.allowed_actions(plan, roles),
    )


def pairs(named: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """The "Approved by" block: each Portfolio Holder with the Corporate Manager, who signs
    once for every pair."""
    manager = next((n for n in named if n["role"] == SignatoryRole.corporate_manager), None)
    return [(n, manager) for n in named if n["role"] == SignatoryRole.portfolio_holder]


def plan_context(page: PlanPage, content: PlanContent) -> dict[str, Any]:
    year = page.cycle.year
    return {
        "title": f"{page.plan.service_area} service plan {plans.cycle_label(year)}",
        "page": page,
        "plan": page.plan,
        "content": content,
        "sections": [(spec, content.section(spec.key)) for spec in SECTIONS],
        "years": [plans.cycle_label(year + n) for n in range(3)],
        "pairs": pairs(page.named),
        "reading": pf.reading,
        "cell": pf.cell_text,
        "month": pf.month_label,
        "crumbs": pf.crumbs(year),
        "section": "/planning",
    }


def _plan_page(
    request: Request, person: Person, plan_id: int, *, status: int = 200, **extra: Any
) -> Response:
    with read_session() as session:
        page = load_plan(session, plan_id, person)
    context = plan_context(page, page.content) | {"form": {}, **extra}
    return render(request, "pages/planning/plan.html", context, status_code=status, person=person)


@router.get("/planning/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(request: Request, plan_id: PlanId, person: Person = Depends(signed_in)) -> Response:
    return _plan_page(request, person, plan_id)


@router.post("/planning/plans/{plan_id}/submit", response_class=HTMLResponse)
def submit(
    request: Request,
    plan_id: PlanId,
    person: Person = Depends(signed_in),
    form: dict[str, str] = Depends(forms.posted(max_fields=10, whole=True)),
) -> Response:
    version = pf.parse_int(form.get("version"))
    note = form.get("note", "").replace("\r\n", "\n").strip()
    actor = actor_of(request, person)
    with read_session() as session:
        plan = plans.get_plan(session, plan_id=plan_id)
        # Permission before state: someone who may never submit it learns nothing more.
        WORKFLOW.authorise(plan, plans.holders(session, plan, actor), action="submit", actor=actor)
    problem = pf.text_problem(note, 2000)
    try:
        if problem or not isinstance(version, int):
            raise Invalid(f"The covering note {problem}" if problem else pf.DAMAGED)
        with write_session() as session:
            frozen = plans.submit(session, plan_id=plan_id, version=version, note=note, actor=actor)
    except (Invalid, Conflict) as exc:
        errors = {"note": exc.message}
        return _plan_page(
            request, person, plan_id, status=exc.status_code, form=form, errors=errors
        )
    names = [str(s["name"]) for s in frozen.signatories]
    return see_other(f"/planning/plans/{plan_id}", pf.asked_message(frozen.number, names))


@router.get("/planning/plans/{plan_id}/print", response_class=HTMLResponse)
def printable(request: Request, plan_id: PlanId, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        page = load_plan(session, plan_id, person)
    approved = next(
        (h for h in page.history if h.version.id == page.plan.approved_version_id), None
    )
    if page.plan.status != PlanStatus.approved or approved is None:
        raise Conflict(
            f"The {page.plan.service_area} plan has not been approved yet: only an approved "
            "plan can be printed. Its page shows where it has got to."
        )
    content = PlanContent.model_validate(approved.version.content)
    context = plan_context(page, content) | {
        "version": approved.version,
        "signed": {a.person.id: a for a in approved.answers if a.kind == "signed"},
        "last_year": plans.cycle_label(page.cycle.year + 2),
    }
    return render(request, "pages/planning/print.html", context, person=person)


# --- signatories (the performance team) -----------------------------------------------------


def _signatories_page(request: Request, person: Person, plan_id: int, **extra: Any) -> Response:
    if not person.is_admin:
        raise HTTPException(403, SIGNATORIES_ONLY)
    with read_session() as session:
        plan = plans.get_plan(session, plan_id=plan_id)
        if plan.status == PlanStatus.approved:
            raise Conflict("The plan has been approved: its signatories cannot be changed.")
        year = pf.cycle_year(session, plan)
        named = signers.current(session, plan_id=plan_id)
        history = views.history(session, plan=plan)
    saved = [{"email": p.email, "role": str(s.role), "portfolio": s.portfolio} for s, p in named]
    context = {
        "title": "Change signatories",
        "plan": plan,
        "cells": pf.SIGNATORY_CELLS,
        "roles": pf.ROLES,
        "form": {"rows": pf.stored_rows(saved, pf.SIGNATORY_CELLS)},
        "current": history[0].version.number if plan.status == PlanStatus.submitted else None,
        "crumbs": pf.crumbs(year, plan),
        "section": "/planning",
        **extra,
    }
    status = 422 if extra.get("errors") else 200
    return render(
        request, "pages/planning/signatories.html", context, status_code=status, person=person
    )


@router.get("/planning/plans/{plan_id}/signatories", response_class=HTMLResponse)
def signatories_form(
    request: Request, plan_id: PlanId, person: Person = Depends(signed_in)
) -> Response:
    return _signatories_page(request, person, plan_id)


@router.post("/planning/plans/{plan_id}/signatories", response_class=HTMLResponse)
def change_signatories(
    request: Request,
    plan_id: PlanId,
    person: Person = Depends(signed_in),
    form: dict[str, str] = Depends(forms.posted(max_fields=500, whole=True)),
) -> Response:
    if not person.is_admin:
        raise HTTPException(403, SIGNATORIES_ONLY)
    typed = {"rows": pf.typed_rows(form, "sig", pf.SIGNATORY_CELLS)}
    named, errors = pf.read_signatories(typed["rows"])
    if errors:
        return _signatories_page(request, person, plan_id, form=typed, errors=errors)
    try:
        with write_session() as session:
            before = {p.id: p.name for _, p in signers.current(session, plan_id=plan_id)}
            plan = signoff.set_signatories(
                session, plan_id=plan_id, named=named, actor=actor_of(request, person)
            )
            after = {p.id: p.name for _, p in signers.current(session, plan_id=plan_id)}
            history = views.history(session, plan=plan)
    except Invalid as exc:
        errors = {_where(exc, typed["rows"]): exc.message}
        return _signatories_page(request, person, plan_id, form=typed, errors=errors)
    number = history[0].version.number if history else None
    message = "The signatories are saved, and the change is in the audit trail."
    added = [name for pid, name in after.items() if pid not in before]
    gone = [name for pid, name in before.items() if pid not in after]
    if plan.status == PlanStatus.approved:
        message += f" Everyone left had signed version {number}, so the plan is approved."
    elif plan.status == PlanStatus.submitted:
        message += f" Asked to sign version {number}: {', '.join(added)}." if added else ""
        message += f" No longer asked: {', '.join(gone)}." if gone else ""
    return see_other(f"/planning/plans/{plan_id}#signoff", message)


def _where(exc: Invalid, rows: list[pf.TypedRow]) -> str:
    """The input a refusal is about: the row of the email it names, else the first row."""
    for row in rows:
        email = row.values.get("email", "").strip()
        if email and not row.remove and email.lower() in exc.message.lower():
            return f"sig-{row.index}-email"
    return f"sig-{rows[0].index if rows else 0}-role"
