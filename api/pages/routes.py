"""HTML pages for signed-in officers: thin routes over the same services as the API."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import SESSION_COOKIE, client_address, page_person
from api.pages import forms
from api.rendering import render
from core.db import read_session, write_session
from models import Person
from models.rfcs import DecisionInput, ImpactInput, RfcCreate, RfcUpdate
from services import outbox, people, projects, rfc_views, rfcs
from services.actors import Actor, roles_on
from services.errors import Invalid, NotFound
from services.rfc_workflow import allowed_actions

router = APIRouter(include_in_schema=False)

RFC_LABELS = {"title": "a title", "description": "a description of the change",
              "expected_benefits": "the expected benefits", "issue_log_no": "the issue log number"}


def signed_in(request: Request, person: Person | None = Depends(page_person)) -> Person:
    if person is None:
        raise HTTPException(303, headers={"Location": "/sign-in"})
    return person


def _actor(request: Request, person: Person) -> Actor:
    return Actor(person_id=person.id or 0, address=client_address(request),
                 is_admin=person.is_admin)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(person: Person | None = Depends(page_person)) -> Response:
    return _see_other("/rfcs" if person else "/sign-in")


# --- signing in -------------------------------------------------------------------------


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request) -> Response:
    return render(request, "pages/sign_in.html", {"title": "Sign in"})


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    form = await forms.read_form(request)
    email = form.get("email", "").strip()
    if "@" not in email or len(email) > 254 or any(c.isspace() or ord(c) < 32 for c in email):
        return render(request, "pages/sign_in.html",
                      {"title": "Sign in", "form": form,
                       "errors": {"email": "Enter an email address in the correct format, "
                                           "like name@council.gov.uk"}},
                      status_code=422)
    with write_session() as session:
        people.request_sign_in(session, email=email)
    return render(request, "pages/message.html", {
        "title": "Check your email",
        "message": f"If {email} is registered with Signoff, we have sent it a sign-in link. "
                   "It works once and expires soon.",
    })


@router.api_route("/sign-in/{raw}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def sign_in_link(request: Request, raw: str) -> Response:
    with read_session() as session:
        live = people.sign_in_link_is_live(session, raw=raw)
    return render(request, "pages/sign_in_link.html", {"title": "Sign in", "live": live},
                  status_code=200 if live else 404)


@router.post("/sign-in/{raw}", response_class=HTMLResponse)
async def complete_sign_in(request: Request, raw: str) -> Response:
    await forms.read_form(request)
    with write_session() as session:
        _, session_token = people.complete_sign_in(session, raw=raw)
    response = _see_other("/rfcs")
    response.set_cookie(SESSION_COOKIE, session_token, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    return response


@router.post("/sign-out", response_class=HTMLResponse)
async def sign_out(request: Request) -> Response:
    await forms.read_form(request)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        with write_session() as session:
            people.sign_out(session, raw=raw)
    response = _see_other("/sign-in")
    response.delete_cookie(SESSION_COOKIE)
    return response


# --- lists --------------------------------------------------------------------------------


@router.get("/rfcs", response_class=HTMLResponse)
def my_rfcs(request: Request, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        waiting, raised = rfcs.my_rfcs(session, person_id=person.id or 0)
    return render(request, "pages/my_rfcs.html",
                  {"title": "My Requests for Change", "waiting": waiting, "raised": raised},
                  person=person)


@router.get("/projects", response_class=HTMLResponse)
def project_list(request: Request, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        rows = projects.list_projects(session)
    return render(request, "pages/projects.html", {"title": "Projects", "projects": rows},
                  person=person)


@router.get("/projects/{code}", response_class=HTMLResponse)
def project_page(request: Request, code: str, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        project = projects.get_project(session, code=code[:20])
        assert project is not None
        ctx = {
            "title": project.name, "project": project,
            "rfcs": projects.register(session, project=project),
            "stages": projects.stages(session, project=project),
            "members": projects.members(session, project=project),
            "sponsor": session.get(Person, project.sponsor_id),
            "manager": session.get(Person, project.manager_id),
            "alternate": session.get(Person, project.alternate_approver_id or 0),
        }
    return render(request, "pages/project.html", ctx, person=person)


# --- raising and editing -----------------------------------------------------------------


@router.get("/projects/{code}/rfcs/new", response_class=HTMLResponse)
def new_rfc_form(request: Request, code: str, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        project = projects.get_project(session, code=code[:20])
    return render(request, "pages/rfc_form.html",
                  {"title": "Raise a Request for Change", "project": project, "rfc": None},
                  person=person)


@router.post("/projects/{code}/rfcs/new", response_class=HTMLResponse)
async def new_rfc(request: Request, code: str, person: Person = Depends(signed_in)) -> Response:
    form = await forms.read_form(request)
    with read_session() as session:
        project = projects.get_project(session, code=code[:20])
    try:
        data = RfcCreate(title=form.get("title", ""), description=form.get("description", ""),
                         expected_benefits=form.get("expected_benefits", ""),
                         issue_log_no=forms.parse_int(form.get("issue_log_no")))  # type: ignore[arg-type]
    except ValidationError as exc:
        return render(request, "pages/rfc_form.html",
                      {"title": "Raise a Request for Change", "project": project, "rfc": None,
                       "form": form, "errors": forms.field_errors(exc, RFC_LABELS)},
                      status_code=422, person=person)
    actor = _actor(request, person)
    with write_session() as session:
        rfc = rfcs.create_rfc(session, actor=actor, project_code=code[:20], data=data)
        if form.get("then") == "submit":
            rfcs.submit_rfc(session, actor=actor, rfc_id=rfc.id or 0)
    return _see_other(f"/rfcs/{rfc.id}")


def _load(session, rfc_id: int, person: Person):  # type: ignore[no-untyped-def]
    rfc, project = rfcs.get_rfc(session, rfc_id=rfc_id)
    actor = Actor(person_id=person.id or 0, is_admin=person.is_admin)
    if not rfcs.may_view(session, rfc=rfc, project=project, actor=actor):
        raise NotFound(f"There is no Request for Change with id {rfc_id}.")
    return rfc, project


@router.get("/rfcs/{rfc_id}", response_class=HTMLResponse)
def rfc_detail(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        rfc, project = _load(session, rfc_id, person)
        detail = rfc_views.to_public(session, rfc=rfc, project=project)
        actions = allowed_actions(rfc, roles_on(rfc, project, person.id or 0))
    return render(request, "pages/rfc_detail.html",
                  {"title": f"{rfc.ref}: {rfc.title}", "rfc": detail, "project": project,
                   "actions": actions, "notice": request.query_params.get("notice", "")[:200],
                   "notice_ok": True},
                  person=person)


def _edit_page(request: Request, person: Person, rfc_id: int, form: dict | None = None,
               errors: dict | None = None, status: int = 200) -> Response:
    with read_session() as session:
        rfc, project = _load(session, rfc_id, person)
    if form is None:
        form = {"title": rfc.title, "description": rfc.description,
                "expected_benefits": rfc.expected_benefits,
                "issue_log_no": "" if rfc.issue_log_no is None else str(rfc.issue_log_no)}
    return render(request, "pages/rfc_form.html",
                  {"title": f"Edit {rfc.ref}", "project": project, "rfc": rfc, "form": form,
                   "errors": errors or {}}, status_code=status, person=person)


@router.get("/rfcs/{rfc_id}/edit", response_class=HTMLResponse)
def edit_form(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    return _edit_page(request, person, rfc_id)


@router.post("/rfcs/{rfc_id}/edit", response_class=HTMLResponse)
async def edit(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    form = await forms.read_form(request)
    try:
        data = RfcUpdate(title=form.get("title", ""), description=form.get("description", ""),
                         expected_benefits=form.get("expected_benefits", ""),
                         issue_log_no=forms.parse_int(form.get("issue_log_no")),  # type: ignore[arg-type]
                         version=forms.parse_int(form.get("version")))  # type: ignore[arg-type]
    except ValidationError as exc:
        return _edit_page(request, person, rfc_id, form, forms.field_errors(exc, RFC_LABELS), 422)
    try:
        with write_session() as session:
            rfcs.edit_rfc(session, actor=_actor(request, person), rfc_id=rfc_id, data=data)
    except Invalid as exc:
        return _edit_page(request, person, rfc_id, form, {"title": exc.message}, 422)
    return _see_other(f"/rfcs/{rfc_id}?notice=Your+changes+have+been+saved")


@router.post("/rfcs/{rfc_id}/submit", response_class=HTMLResponse)
async def submit(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    await forms.read_form(request)
    with write_session() as session:
        rfcs.submit_rfc(session, actor=_actor(request, person), rfc_id=rfc_id)
    return _see_other(f"/rfcs/{rfc_id}?notice=Submitted+to+the+Project+Manager+for+impact+analysis")


@router.post("/rfcs/{rfc_id}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    await forms.read_form(request)
    with write_session() as session:
        rfcs.withdraw_rfc(session, actor=_actor(request, person), rfc_id=rfc_id)
    return _see_other(f"/rfcs/{rfc_id}?notice=The+Request+for+Change+has+been+withdrawn")


# --- impact analysis and decision ---------------------------------------------------------

IMPACT_LABELS = {"days_of_work": "the number of days' work", "cost_pence": "the cost of change",
                 "extends_timescale": "whether the change extends the timescale",
                 "needs_extra_resources": "whether the change needs extra resources",
                 "recommendation": "the action required or reason for rejection",
                 "products_affected": "the other products affected"}


def _rfc_page(request: Request, person: Person, rfc_id: int, template: str, title: str,
              form: dict, errors: dict | None = None, status: int = 200) -> Response:
    with read_session() as session:
        rfc, project = _load(session, rfc_id, person)
        detail = rfc_views.to_public(session, rfc=rfc, project=project, with_history=False)
    return render(request, template, {"title": title, "rfc": detail, "project": project,
                                      "form": form, "errors": errors or {}},
                  status_code=status, person=person)


@router.get("/rfcs/{rfc_id}/impact", response_class=HTMLResponse)
def impact_form(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    return _rfc_page(request, person, rfc_id, "pages/impact.html", "Impact analysis", {})


def _impact_input(form: dict[str, str]) -> tuple[ImpactInput | None, dict[str, str]]:
    errors: dict[str, str] = {}
    days = form.get("days_of_work", "").strip()
    try:
        days_value = float(days) if days else None
    except ValueError:
        days_value = None
    if days_value is None or days_value != days_value:
        errors["days_of_work"] = "Enter the number of days' work as a number, like 2 or 0.5"
    cost = forms.parse_pounds(form.get("cost"))
    if cost is None:
        errors["cost"] = "Enter the cost of change in pounds, like 0 or 1250.50"
    flags = {}
    for name in ("extends_timescale", "needs_extra_resources"):
        if form.get(name) not in ("yes", "no"):
            errors[name] = f"Select whether {IMPACT_LABELS[name].removeprefix('whether ')}"
        flags[name] = form.get(name) == "yes"
    if errors:
        return None, errors
    try:
        return ImpactInput(days_of_work=days_value,
                           products_affected=form.get("products_affected", ""),
                           cost_pence=cost, recommendation=form.get("recommendation", ""),
                           **flags), {}  # type: ignore[arg-type]
    except ValidationError as exc:
        found = forms.field_errors(exc, IMPACT_LABELS)
        return None, {("cost" if k == "cost_pence" else k): v for k, v in found.items()}


@router.post("/rfcs/{rfc_id}/impact", response_class=HTMLResponse)
async def impact(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    form = await forms.read_form(request)
    data, errors = _impact_input(form)
    if data is None:
        return _rfc_page(request, person, rfc_id, "pages/impact.html", "Impact analysis", form,
                         errors, 422)
    with write_session() as session:
        rfc = rfcs.record_impact(session, actor=_actor(request, person), rfc_id=rfc_id, data=data)
        who = session.get(Person, rfc.approver_id or 0)
    approver = who.name if who else "the approver"
    note = (f"Impact analysis recorded: a {rfc.classification} change, "
            f"to be decided by {approver}")
    return _see_other(f"/rfcs/{rfc_id}?notice={note.replace(' ', '+')}")


@router.get("/rfcs/{rfc_id}/decision", response_class=HTMLResponse)
def decision_form(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    return _rfc_page(request, person, rfc_id, "pages/decision.html", "Decide", {})


@router.post("/rfcs/{rfc_id}/decision", response_class=HTMLResponse)
async def decision(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    form = await forms.read_form(request)
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
        return _rfc_page(request, person, rfc_id, "pages/decision.html", "Decide", form, errors,
                         422)
    with write_session() as session:
        rfc = rfcs.decide(session, actor=_actor(request, person), rfc_id=rfc_id, data=data)
    return _see_other(f"/rfcs/{rfc_id}?notice={rfc.ref}+{rfc.status}")


@router.get("/rfcs/{rfc_id}/print", response_class=HTMLResponse)
def printable(request: Request, rfc_id: int, person: Person = Depends(signed_in)) -> Response:
    with read_session() as session:
        rfc, project = _load(session, rfc_id, person)
        detail = rfc_views.to_public(session, rfc=rfc, project=project, with_history=False)
        manager = session.get(Person, project.manager_id)
        sponsor = session.get(Person, project.sponsor_id)
    # The PM authorises by recording the impact (and deciding a minor change); the sponsor by
    # deciding.
    by_pm = rfc.decided_at is not None and rfc.decided_by_id == project.manager_id
    return render(request, "pages/rfc_print.html", {
        "title": rfc.ref, "rfc": detail, "project": project, "manager": manager, "sponsor": sponsor,
        "pm_signed": rfc.decided_at if by_pm else rfc.impact_at,
        "sponsor_signed": rfc.decided_at if rfc.decided_at and not by_pm else None,
    }, person=person)


# --- administration ----------------------------------------------------------------------


def admin(person: Person = Depends(signed_in)) -> Person:
    if not person.is_admin:
        raise HTTPException(403, "Only administrators can see the outbox.")
    return person


@router.get("/admin/outbox", response_class=HTMLResponse)
def outbox_page(request: Request, status: str = "", person: Person = Depends(admin)) -> Response:
    status = status if status in ("failed", "queued", "sending", "sent", "dropped") else ""
    with read_session() as session:
        rows = [(m, session.get(Person, m.to_person_id))
                for m in outbox.list_messages(session, status=status or None)]
    return render(request, "pages/outbox.html", {"title": "Outbox", "rows": rows, "status": status},
                  person=person)


@router.post("/admin/outbox/{message_id}/requeue", response_class=HTMLResponse)
async def requeue(request: Request, message_id: int, person: Person = Depends(admin)) -> Response:
    await forms.read_form(request)
    with write_session() as session:
        outbox.requeue(session, message_id=message_id)
    return _see_other("/admin/outbox?status=failed")

