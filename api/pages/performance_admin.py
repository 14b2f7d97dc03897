"""The performance team's pages (administrators): import a scorecard file, and confirm that a
name a file spells differently is a registered person."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from api.pages import forms
from api.pages.common import admin, see_other
from api.rendering import render
from core import clock
from core.db import read_session, write_session
from models import Person
from services.performance import imports, officers, periods
from services.platform import people, tabular
from services.platform.errors import ServiceError

router = APIRouter(include_in_schema=False)


def _page(request: Request, person: Person, *, status: int = 200, **extra: object) -> Response:
    context = {
        "title": "Import a scorecard",
        "section": "/performance",
        "default_period": periods.ended_by(clock.today()),
        "report": None,
        **extra,
    }
    return render(
        request, "pages/performance/import.html", context, status_code=status, person=person
    )


@router.get("/performance/import", response_class=HTMLResponse)
def import_form(request: Request, person: Person = Depends(admin)) -> Response:
    return _page(request, person)


@router.post("/performance/import", response_class=HTMLResponse)
def import_file(
    request: Request, person: Person = Depends(admin), sent: forms.Upload = forms.UPLOADED
) -> Response:
    form, upload = sent.fields, sent.file
    errors: dict[str, str] = {}
    if upload is None or not upload.filename:
        errors["file"] = "Choose a CSV or XLSX file to import"
    for field, label in (("code", "the scorecard's code"), ("period", "the period")):
        if not form.get(field, "").strip():
            errors[field] = f"Enter {label}"
    if errors or upload is None:
        return _page(request, person, status=422, errors=errors, form=form)
    data = sent.read()
    name = (upload.filename or "the file")[-100:]
    try:
        rows = tabular.parse(data, name)
        with write_session() as session:
            report = imports.import_scorecard(
                session,
                rows=rows,
                code=form["code"],
                period=form["period"],
                actor_id=person.id,
                filename=name,
                portfolio=form.get("portfolio") or None,
            )
            report_view = report.as_dict()
            candidates = _candidates(session, report.resembling)
    except ServiceError as exc:
        return _page(
            request, person, status=exc.status_code, errors={"file": exc.message}, form=form
        )
    return _page(request, person, report=report_view, candidates=candidates, form=form)


def _candidates(session, resembling: dict[str, list[str]]) -> dict[str, list[dict[str, object]]]:  # type: ignore[no-untyped-def]
    """For each look-alike name, the registered people it may be (id, name, email)."""
    everyone = {p.name: p for p in people.list_people(session) if p.active}
    return {
        name: [
            {"id": everyone[n].id, "name": n, "email": everyone[n].email}
            for n in like
            if n in everyone
        ]
        for name, like in resembling.items()
    }


@router.post("/performance/aliases", response_class=HTMLResponse)
def confirm_alias(
    request: Request, person: Person = Depends(admin), form: dict[str, str] = forms.POSTED
) -> Response:
    try:
        person_id = int(form.get("person_id", ""))
    except ValueError:
        raise HTTPException(400, "Choose the person this name belongs to.") from None
    try:
        with write_session() as session:
            officers.confirm_alias(
                session, name=form.get("name", ""), person_id=person_id, by_id=person.id
            )
            matched = imports.assign_officers(session)
    except ServiceError as exc:
        raise HTTPException(exc.status_code, exc.message) from None
    with read_session() as session:
        who = people.by_ids(session, [person_id]).get(person_id)
    return see_other(
        "/performance/import",
        f"{form.get('name', '')[:120]} is now matched to {who.name if who else 'them'}: "
        f"{matched} measure officer{'s' if matched != 1 else ''} updated.",
    )
