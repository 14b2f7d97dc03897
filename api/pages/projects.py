"""Projects, their RFC registers (searchable, filtered, paged), and every RFC for admins."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.pages import forms
from api.pages.common import actor_of, admin, see_other, signed_in
from api.rendering import render
from core.db import read_session, write_session
from models import Person, Project
from models.projects import MemberAdd
from models.rfcs import Classification, RfcStatus
from services import access, projects
from services.errors import Invalid
from services.rfc_search import Q_MAX, RfcQuery, search

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25


@router.get("/projects", response_class=HTMLResponse)
def project_list(request: Request, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        rows = projects.overview(session, actor=actor_of(request, person))
    return render(request, "pages/projects.html",
                  {"title": "Projects", "projects": rows, "section": "/projects"}, person=person)


def _register(request: Request, project: Project | None) -> dict[str, Any]:
    """The register's filters as asked, one page of rows, and links to the next page."""
    params = request.query_params
    q = params.get("q", "")[:Q_MAX].strip()
    status = params.get("status", "")
    classification = params.get("classification", "")
    query = RfcQuery(
        q="".join(c for c in q if c.isprintable()),
        status=RfcStatus(status) if status in RfcStatus.__members__ else None,
        classification=(Classification(classification)
                        if classification in Classification.__members__ else None),
        project_id=project.id if project else None, limit=PAGE_SIZE,
        cursor=params.get("cursor") or None,
    )
    with read_session() as session:
        try:
            page = search(session, query=query)
            stale = False
        except Invalid:  # an old or altered cursor: show the first page
            page, stale = search(session, query=replace(query, cursor=None)), True
        codes = {p.id: p.code for p in projects.list_projects(session)} if project is None else {}
    filters = {"q": query.q, "status": query.status or "",
               "classification": query.classification or ""}
    kept = {k: v for k, v in filters.items() if v}
    return {
        "rows": page.rows, "filters": filters, "codes": codes, "stale_cursor": stale,
        "filtered": bool(kept), "first_page": query.cursor is not None and not stale,
        "first_href": "?" + urlencode(kept) if kept else "?",
        "next_href": ("?" + urlencode(kept | {"cursor": page.next_cursor}))
        if page.next_cursor else None,
        "statuses": list(RfcStatus), "classifications": list(Classification),
    }


@router.get("/projects/{code}", response_class=HTMLResponse)
def project_page(request: Request, code: str, person: Person = Depends(signed_in)) -> Response:
    return _project_page(request, code, person)


def _project_page(request: Request, code: str, person: Person, form: dict | None = None,
                  errors: dict | None = None, status: int = 200) -> Response:
    actor = actor_of(request, person)
    with read_session() as session:
        project = projects.visible_project(session, code=code[:20], actor=actor)
        ctx = {
            "title": project.name, "project": project,
            "stages": projects.stages(session, project=project),
            "members": projects.members(session, project=project),
            "sponsor": session.get(Person, project.sponsor_id),
            "manager": session.get(Person, project.manager_id),
            "alternate": session.get(Person, project.alternate_approver_id or 0),
            "crumbs": [{"text": "Projects", "href": "/projects"}], "section": "/projects",
            "manages": access.manages_members(project=project, actor=actor),
            "form": form or {}, "errors": errors or {},
        }
    ctx["register"] = _register(request, project)
    return render(request, "pages/project.html", ctx, person=person, status_code=status)


@router.post("/projects/{code}/members", response_class=HTMLResponse)
async def add_member(request: Request, code: str, person: Person = Depends(signed_in)) -> Response:
    form = await forms.read_form(request)
    email, role = form.get("email", "").strip(), form.get("role", "").strip()
    errors: dict[str, str] = {}
    try:
        data = MemberAdd(email=email, role=role)
    except ValidationError as exc:
        errors = forms.field_errors(exc, {"email": "the person's email address",
                                          "role": "their role on the project"})
    if not errors:
        try:
            with write_session() as session:
                projects.add_project_member(session, actor=actor_of(request, person),
                                            code=code[:20], email=str(data.email),
                                            role=data.role)
        except Invalid as exc:
            errors = {"email": exc.message}
    if errors:
        return _project_page(request, code, person, form, errors, 422)
    return see_other(f"/projects/{code}#people", f"{email} is now one of the project's people.")


@router.post("/projects/{code}/members/remove", response_class=HTMLResponse)
async def remove_member(request: Request, code: str,
                        person: Person = Depends(signed_in)) -> Response:
    form = await forms.read_form(request)
    email = form.get("email", "")[:254]
    with write_session() as session:
        projects.remove_project_member(session, actor=actor_of(request, person), code=code[:20],
                                       email=email)
    return see_other(f"/projects/{code}#people", f"{email} is no longer one of the project's "
                                                 "people.")


@router.get("/admin/rfcs", response_class=HTMLResponse)
def all_rfcs(request: Request, person: Person = Depends(admin)) -> Response:
    return render(request, "pages/all_rfcs.html",
                  {"title": "All Requests for Change", "register": _register(request, None),
                   "section": "/admin/rfcs"}, person=person)
