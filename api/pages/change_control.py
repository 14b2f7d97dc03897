"""Change control's pages: projects and their RFC registers (searchable, filtered, paged), every
RFC for admins, and each RFC's own pages (My RFCs, raise, view, edit, submit, withdraw, impact,
decide)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.pages import forms
from api.pages.common import actor_of, admin, see_other, signed_in
from api.rendering import render
from core.db import read_session, write_session
from models import Person
from models.change_control import Project, Rfc
from models.change_control.projects import MemberAdd
from models.change_control.rfcs import (
    TEXT_MAX,
    Classification,
    DecisionInput,
    ImpactInput,
    RfcCreate,
    RfcStatus,
    RfcUpdate,
)
from services.change_control import access, projects, rfc_views, rfc_workflow, rfcs
from services.change_control.rfc_search import Q_MAX, RfcQuery, search
from services.change_control.rfc_workflow import allowed_actions
from services.change_control.roles import roles_on
from services.platform import people
from services.platform.actors import Actor
from services.platform.errors import Invalid, NotFound, ServiceError

router = APIRouter(include_in_schema=False)

RFC_LABELS = {
    "title": "a title",
    "description": "a description of the change",
    "expected_benefits": "the expected benefits",
    "issue_log_no": "the issue log number",
}
IMPACT_LABELS = {
    "days_of_work": "the number of days' work",
    "cost_pence": "the cost of change",
    "extends_timescale": "whether the change extends the timescale",
    "needs_extra_resources": "whether the change needs extra resources",
    "recommendation": "the action required or reason for rejection",
    "products_affected": "the other products affected",
}


def crumbs(project: Project, rfc: Rfc | None = None) -> list[dict[str, str]]:
    trail = [
        {"text": "Projects", "href": "/projects"},
        {"text": project.name, "href": f"/projects/{project.code}"},
    ]
    if rfc is not None:
        trail.append({"text": rfc.ref, "href": f"/rfcs/{rfc.id}"})
    return trail


@router.get("/rfcs", response_class=HTMLResponse)
def my_rfcs(request: Request, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        waiting, raised = rfcs.my_rfcs(session, person_id=person.id or 0)
    return render(
        request,
        "pages/change_control/my_rfcs.html",
        {
            "title": "My Requests for Change",
            "waiting": waiting,
            "raised": raised,
            "section": "/rfcs",
        },
        person=person,
    )


# --- raising and editing -----------------------------------------------------------------


def _new_page(
    request: Request,
    person: Person,
    code: str,
    form: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
) -> Response:
    with read_session() as session:
        project = projects.visible_project(session, code=code[:20], actor=actor_of(request, person))
    return render(
        request,
        "pages/change_control/rfc_form.html",
        {
            "title": "Raise a Request for Change",
            "project": project,
            "rfc": None,
            "form": form or {},
            "errors": errors or {},
            "crumbs": crumbs(project),
            "section": "/projects",
        },
        status_code=status,
        person=person,
    )


@router.get("/projects/{code}/rfcs/new", response_class=HTMLResponse)
def new_rfc_form(request: Request, code: str, person: Person = Depends(signed_in)) -> Response:
    return _new_page(request, person, code)


@router.post("/projects/{code}/rfcs/new", response_class=HTMLResponse)
def new_rfc(
    request: Request,
    code: str,
    person: Person = Depends(signed_in),
    form: dict[str, str] = forms.POSTED,
) -> Response:
    try:
        data = RfcCreate(
            title=form.get("title", ""),
            description=form.get("description", ""),
            expected_benefits=form.get("expected_benefits", ""),
            issue_log_no=forms.parse_int(form.get("issue_log_no")),  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        return _new_page(request, person, code, form, forms.field_errors(exc, RFC_LABELS), 422)
    actor = actor_of(request, person)
    with write_session() as session:
        rfc = rfcs.create_rfc(session, actor=actor, project_code=code[:20], data=data)
        if form.get("then") == "submit":
            rfcs.submit_rfc(session, actor=actor, rfc_id=rfc.id or 0)
    done = (
        "submitted to the Project Manager for impact analysis"
        if form.get("then") == "submit"
        else "saved as a draft"
    )
    return see_other(f"/rfcs/{rfc.id}", f"{rfc.ref} raised and {done}.")


def _load(
    session: Session, rfc_id: int, person: Person, action: str | None = None
) -> tuple[Rfc, Project]:
    """The RFC if this person may see it; with `action`, only if they may make that move now.

    A form page refuses (403, or 409 for the wrong state) before anyone fills it in. Viewing
    changes nothing, so these refusals are not written to the audit trail; the POST's are.
    """
    rfc, project = rfcs.get_rfc(session, rfc_id=rfc_id)
    actor = Actor(person_id=person.id or 0, is_admin=person.is_admin)
    if not rfcs.may_view(session, rfc=rfc, project=project, actor=actor):
        raise NotFound(f"There is no Request for Change with id {rfc_id}.")
    if action is not None:
        try:
            rfc_workflow.authorise(rfc, project, action=action, actor=actor)
        except ServiceError as exc:
            exc.refusal = None
            raise
    return rfc, project


@router.get("/rfcs/{rfc_id}", response_class=HTMLResponse)
def rfc_detail(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        rfc, project = _load(session, rfc_id, person)
        detail = rfc_views.to_public(session, rfc=rfc, project=project)
        actions = allowed_actions(rfc, roles_on(rfc, project, person.id or 0))
    return render(
        request,
        "pages/change_control/rfc_detail.html",
        {
            "title": f"{rfc.ref}: {rfc.title}",
            "rfc": detail,
            "project": project,
            "actions": actions,
            "crumbs": crumbs(project),
            "section": "/projects",
        },
        person=person,
    )


def _edit_page(
    request: Request,
    person: Person,
    rfc_id: int,
    form: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
) -> Response:
    with read_session() as session:
        rfc, project = _load(session, rfc_id, person, "edit")
    if form is None:
        form = {
            "title": rfc.title,
            "description": rfc.description,
            "expected_benefits": rfc.expected_benefits,
            "issue_log_no": "" if rfc.issue_log_no is None else str(rfc.issue_log_no),
        }
    return render(
        request,
        "pages/change_control/rfc_form.html",
        {
            "title": f"Edit {rfc.ref}",
            "project": project,
            "rfc": rfc,
            "form": form,
            "errors": errors or {},
            "crumbs": crumbs(project, rfc),
            "section": "/projects",
        },
        status_code=status,
        person=person,
    )


@router.get("/rfcs/{rfc_id}/edit", response_class=HTMLResponse)
def edit_form(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    return _edit_page(request, person, rfc_id)


@router.post("/rfcs/{rfc_id}/edit", response_class=HTMLResponse)
def edit(
    request: Request,
    rfc_id: int,
    person: Person = Depends(signed_in),
    form: dict[str, str] = forms.POSTED,
) -> Response:
    try:
        data = RfcUpdate(
            title=form.get("title", ""),
            description=form.get("description", ""),
            expected_benefits=form.get("expected_benefits", ""),
            issue_log_no=forms.parse_int(form.get("issue_log_no")),  # type: ignore[arg-type]
            version=forms.parse_int(form.get("version")),  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        return _edit_page(request, person, rfc_id, form, forms.field_errors(exc, RFC_LABELS), 422)
    try:
        with write_session() as session:
            rfc = rfcs.edit_rfc(session, actor=actor_of(request, person), rfc_id=rfc_id, data=data)
    except Invalid as exc:
        return _edit_page(request, person, rfc_id, form, {"title": exc.message}, 422)
    return see_other(f"/rfcs/{rfc_id}", f"Your changes to {rfc.ref} have been saved.")


@router.post("/rfcs/{rfc_id}/submit", response_class=HTMLResponse)
def submit(
    request: Request,
    rfc_id: int,
    person: Person = Depends(signed_in),
    form: dict[str, str] = forms.POSTED,
) -> Response:
    with write_session() as session:
        rfc = rfcs.submit_rfc(session, actor=actor_of(request, person), rfc_id=rfc_id)
    return see_other(
        f"/rfcs/{rfc_id}", f"{rfc.ref} has been sent to the Project Manager for impact analysis."
    )


# --- withdrawing: asked for, with a reason ----------------------------------------------


def _withdraw_page(
    request: Request,
    person: Person,
    rfc_id: int,
    form: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
) -> Response:
    with read_session() as session:
        rfc, project = _load(session, rfc_id, person, "withdraw")
        detail = rfc_views.to_public(session, rfc=rfc, project=project, with_history=False)
    return render(
        request,
        "pages/change_control/withdraw.html",
        {
            "title": f"Withdraw {rfc.ref}",
            "rfc": detail,
            "project": project,
            "form": form or {},
            "errors": errors or {},
            "crumbs": crumbs(project, rfc),
            "section": "/projects",
        },
        status_code=status,
        person=person,
    )


@router.get("/rfcs/{rfc_id}/withdraw", response_class=HTMLResponse)
def withdraw_form(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    return _withdraw_page(request, person, rfc_id)


@router.post("/rfcs/{rfc_id}/withdraw", response_class=HTMLResponse)
def withdraw(
    request: Request,
    rfc_id: int,
    person: Person = Depends(signed_in),
    form: dict[str, str] = forms.POSTED,
) -> Response:
    reason = form.get("reason", "").strip()
    if not reason:
        return _withdraw_page(
            request,
            person,
            rfc_id,
            form,
            {"reason": "Enter why you are withdrawing the change"},
            422,
        )
    if len(reason) > TEXT_MAX:
        return _withdraw_page(
            request,
            person,
            rfc_id,
            form,
            {"reason": f"The reason must be {TEXT_MAX:,} characters or fewer"},
            422,
        )
    with write_session() as session:
        rfc = rfcs.withdraw_rfc(
            session, actor=actor_of(request, person), rfc_id=rfc_id, reason=reason
        )
    return see_other(f"/rfcs/{rfc_id}", f"{rfc.ref} has been withdrawn.")


# --- impact analysis and decision ---------------------------------------------------------


def _rfc_page(
    request: Request,
    person: Person,
    rfc_id: int,
    template: str,
    title: str,
    form: dict,
    errors: dict | None = None,
    status: int = 200,
    action: str | None = None,
) -> Response:
    with read_session() as session:
        rfc, project = _load(session, rfc_id, person, action)
        detail = rfc_views.to_public(session, rfc=rfc, project=project, with_history=False)
    return render(
        request,
        template,
        {
            "title": title,
            "rfc": detail,
            "project": project,
            "form": form,
            "errors": errors or {},
            "crumbs": crumbs(project, rfc),
            "section": "/projects",
        },
        status_code=status,
        person=person,
    )


@router.get("/rfcs/{rfc_id}/impact", response_class=HTMLResponse)
def impact_form(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    return _rfc_page(
        request,
        person,
        rfc_id,
        "pages/change_control/impact.html",
        "Impact analysis",
        {},
        action="record_impact",
    )


def _impact_input(form: dict[str, str]) -> tuple[ImpactInput | None, dict[str, str]]:
    errors: dict[str, str] = {}
    days_value = forms.parse_decimal(form.get("days_of_work"))
    if days_value is None:
        errors["days_of_work"] = "Enter the number of days' work as a number, like 2 or 0.5"
    cost = forms.parse_pounds(form.get("cost"))
    if cost is None:
        errors["cost"] = "Enter the cost of change in pounds, like 0 or 1250.50"
    flags = {}
    for name in ("extends_timescale", "needs_extra_resources"):
        if form.get(name) not in ("yes", "no"):
            errors[name] = f"Select whether {IMPACT_LABELS[name].removeprefix('whether ')}"
        flags[name] = form.get(name) == "yes"
    if errors or days_value is None or cost is None:
        return None, errors
    try:
        return ImpactInput(
            days_of_work=days_value,
            products_affected=form.get("products_affected", ""),
            cost_pence=cost,
            recommendation=form.get("recommendation", ""),
            **flags,
        ), {}  # type: ignore[arg-type]
    except ValidationError as exc:
        found = forms.field_errors(exc, IMPACT_LABELS)
        return None, {("cost" if k == "cost_pence" else k): v for k, v in found.items()}


@router.post("/rfcs/{rfc_id}/impact", response_class=HTMLResponse)
def impact(
    request: Request,
    rfc_id: int,
    person: Person = Depends(signed_in),
    form: dict[str, str] = forms.POSTED,
) -> Response:
    data, errors = _impact_input(form)
    if data is None:
        return _rfc_page(
            request,
            person,
            rfc_id,
            "pages/change_control/impact.html",
            "Impact analysis",
            form,
            errors,
            422,
        )
    with write_session() as session:
        rfc = rfcs.record_impact(session, actor=actor_of(request, person), rfc_id=rfc_id, data=data)
        who = people.by_ids(session, [rfc.approver_id]).get(rfc.approver_id or 0)
    decider = (
        "you" if who is not None and who.id == person.id else (who.name if who else "the approver")
    )
    return see_other(
        f"/rfcs/{rfc_id}",
        f"Impact analysis recorded: a {rfc.classification} change, to be decided by {decider}.",
    )


@router.get("/rfcs/{rfc_id}/decision", response_class=HTMLResponse)
def decision_form(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    return _rfc_page(
        request,
        person,
        rfc_id,
        "pages/change_control/decision.html",
        "Decide",
        {},
        action="approve",
    )


@router.post("/rfcs/{rfc_id}/decision", response_class=HTMLResponse)
def decision(
    request: Request,
    rfc_id: int,
    person: Person = Depends(signed_in),
    form: dict[str, str] = forms.POSTED,
) -> Response:
    errors: dict[str, str] = {}
    if form.get("decision") not in ("approve", "reject"):
        errors["decision"] = "Select whether you approve or reject the change"
    elif form.get("decision") == "reject" and not form.get("reason", "").strip():
        errors["reason"] = "Enter the reason for rejecting the change"
    data = None
    if not errors:
        try:
            data = DecisionInput(decision=form["decision"], reason=form.get("reason", ""))  # type: ignore[arg-type]
        except ValidationError as exc:
            errors = forms.field_errors(exc, {"reason": "the reason"})
    if data is None:
        return _rfc_page(
            request,
            person,
            rfc_id,
            "pages/change_control/decision.html",
            "Decide",
            form,
            errors,
            422,
        )
    with write_session() as session:
        rfc = rfcs.decide(session, actor=actor_of(request, person), rfc_id=rfc_id, data=data)
    return see_other(f"/rfcs/{rfc_id}", f"{rfc.ref} {rfc.status}. Everyone involved is emailed.")


@router.get("/rfcs/{rfc_id}/print", response_class=HTMLResponse)
def printable(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        rfc, project = _load(session, rfc_id, person)
        detail = rfc_views.to_public(session, rfc=rfc, project=project, with_history=False)
        named = people.by_ids(session, [project.manager_id, project.sponsor_id])
        manager, sponsor = named.get(project.manager_id), named.get(project.sponsor_id)
    # The PM authorises by recording the impact (and deciding a minor change); the sponsor by
    # deciding.
    by_pm = rfc.decided_at is not None and rfc.decided_by_id == project.manager_id
    return render(
        request,
        "pages/change_control/rfc_print.html",
        {
            "title": rfc.ref,
            "rfc": detail,
            "project": project,
            "manager": manager,
            "sponsor": sponsor,
            "pm_signed": rfc.decided_at if by_pm else rfc.impact_at,
            "sponsor_signed": rfc.decided_at if rfc.decided_at and not by_pm else None,
        },
        person=person,
    )


PAGE_SIZE = 25


@router.get("/projects", response_class=HTMLResponse)
def project_list(request: Request, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        rows = projects.overview(session, actor=actor_of(request, person))
    return render(
        request,
        "pages/change_control/projects.html",
        {"title": "Projects", "projects": rows, "section": "/projects"},
        person=person,
    )


def _register(request: Request, project: Project | None) -> dict[str, Any]:
    """The register's filters as asked, one page of rows, and links to the next page."""
    params = request.query_params
    q = params.get("q", "")[:Q_MAX].strip()
    status = params.get("status", "")
    classification = params.get("classification", "")
    query = RfcQuery(
        q="".join(c for c in q if c.isprintable()),
        status=RfcStatus(status) if status in RfcStatus.__members__ else None,
        classification=(
            Classification(classification) if classification in Classification.__members__ else None
        ),
        project_id=project.id if project else None,
        limit=PAGE_SIZE,
        cursor=params.get("cursor") or None,
    )
    with read_session() as session:
        try:
            page = search(session, query=query)
            stale = False
        except Invalid:  # an old or altered cursor: show the first page
            page, stale = search(session, query=replace(query, cursor=None)), True
        codes = {p.id: p.code for p in projects.list_projects(session)} if project is None else {}
    filters = {
        "q": query.q,
        "status": query.status or "",
        "classification": query.classification or "",
    }
    kept = {k: v for k, v in filters.items() if v}
    return {
        "rows": page.rows,
        "filters": filters,
        "codes": codes,
        "stale_cursor": stale,
        "filtered": bool(kept),
        "first_page": query.cursor is not None and not stale,
        "first_href": "?" + urlencode(kept) if kept else "?",
        "next_href": ("?" + urlencode(kept | {"cursor": page.next_cursor}))
        if page.next_cursor
        else None,
        "statuses": list(RfcStatus),
        "classifications": list(Classification),
    }


@router.get("/projects/{code}", response_class=HTMLResponse)
def project_page(request: Request, code: str, person: Person = Depends(signed_in)) -> Response:
    return _project_page(request, code, person)


def _project_page(
    request: Request,
    code: str,
    person: Person,
    form: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
) -> Response:
    actor = actor_of(request, person)
    with read_session() as session:
        project = projects.visible_project(session, code=code[:20], actor=actor)
        named = people.by_ids(
            session, [project.sponsor_id, project.manager_id, project.alternate_approver_id]
        )
        ctx = {
            "title": project.name,
            "project": project,
            "stages": projects.stages(session, project=project),
            "members": projects.members(session, project=project),
            "sponsor": named.get(project.sponsor_id),
            "manager": named.get(project.manager_id),
            "alternate": named.get(project.alternate_approver_id or 0),
            "crumbs": [{"text": "Projects", "href": "/projects"}],
            "section": "/projects",
            "manages": access.manages_members(project=project, actor=actor),
            "form": form or {},
            "errors": errors or {},
        }
    ctx["register"] = _register(request, project)
    return render(
        request, "pages/change_control/project.html", ctx, person=person, status_code=status
    )


@router.post("/projects/{code}/members", response_class=HTMLResponse)
def add_member(
    request: Request,
    code: str,
    person: Person = Depends(signed_in),
    form: dict[str, str] = forms.POSTED,
) -> Response:
    email, role = form.get("email", "").strip(), form.get("role", "").strip()
    errors: dict[str, str] = {}
    try:
        data = MemberAdd(email=email, role=role)
    except ValidationError as exc:
        errors = forms.field_errors(
            exc, {"email": "the person's email address", "role": "their role on the project"}
        )
    if not errors:
        try:
            with write_session() as session:
                projects.add_project_member(
                    session,
                    actor=actor_of(request, person),
                    code=code[:20],
                    email=str(data.email),
                    role=data.role,
                )
        except Invalid as exc:
            errors = {"email": exc.message}
    if errors:
        return _project_page(request, code, person, form, errors, 422)
    return see_other(f"/projects/{code}#people", f"{email} is now one of the project's people.")


@router.post("/projects/{code}/members/remove", response_class=HTMLResponse)
def remove_member(
    request: Request,
    code: str,
    person: Person = Depends(signed_in),
    form: dict[str, str] = forms.POSTED,
) -> Response:
    email = form.get("email", "")[:254]
    with write_session() as session:
        projects.remove_project_member(
            session, actor=actor_of(request, person), code=code[:20], email=email
        )
    return see_other(
        f"/projects/{code}#people", f"{email} is no longer one of the project's people."
    )


@router.get("/admin/rfcs", response_class=HTMLResponse)
def all_rfcs(request: Request, person: Person = Depends(admin)) -> Response:
    return render(
        request,
        "pages/change_control/all_rfcs.html",
        {
            "title": "All Requests for Change",
            "register": _register(request, None),
            "section": "/admin/rfcs",
        },
        person=person,
    )
