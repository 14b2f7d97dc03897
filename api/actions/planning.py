"""The signatory's emailed link to sign a service plan. GET and HEAD only show (mail scanners
fetch links before people do); the page's form POSTs the answer: sign, or ask for changes.

Portfolio Holders are councillors with no staff account: the link is their only way in, so
the page says what they are signing, what changed since they last saw the plan, who else
signs, and what each choice does.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api import throttling
from api.deps import client_address
from api.pages import forms
from api.rendering import render
from core.db import read_session, write_session
from models.planning.content import SECTIONS
from models.text import free_text
from services.planning import link_page, signoff
from services.planning.schemas import Response
from services.platform.audit import record_refusal
from services.platform.errors import Invalid, NotFound, ServiceError

router = APIRouter(tags=["action links"], include_in_schema=False)

_STATUS = {"live": 200, "answered": 410, "closed": 410, "replaced": 409}
COMMENT_MAX = 4000  # as services.planning.schemas.Response allows
NEED_COMMENT = "Say what should change before asking for changes"


def _page(
    request: Request,
    raw: str,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    """The link's page in its state; called once per request, so an unknown link counts once."""
    with read_session() as session:
        try:
            link: signoff.LinkView | None = signoff.view(session, raw=raw)
        except NotFound:
            link = None
        shown = link is not None and link.state != "removed"
        page = link_page.link_page(session, link=link) if link is not None and shown else None
    if link is None and (refused := throttling.missed(request)) is not None:
        return refused  # unknown or expired: what guessing finds
    if page is None:
        return _invalid(request, raw, notice=notice)
    state = page.link.state
    if state != "live":
        errors, form = {}, {}  # nothing to correct: the answer can no longer be given
        status = status if status not in (None, 422) else _STATUS[state]
    return render(
        request,
        "pages/planning/signoff.html",
        {
            "title": _title(page),
            "page": page,
            "link": page.link,
            "plan": page.link.plan,
            "specs": SECTIONS,
            "raw": raw,
            "replaced": signoff.replaced_message(page.link) if state == "replaced" else "",
            "errors": errors or {},
            "form": form or {},
            "notice": notice,
        },
        status_code=status or _STATUS[state],
    )


def _title(page: link_page.LinkPage) -> str:
    link, n = page.link, page.link.version.number
    area = link.plan.service_area
    if link.state == "live":
        return f"Sign the {area} service plan"
    if link.state == "answered" and link.response is not None:
        if link.response.kind == "signed":
            return f"You signed version {n} of the {area} service plan"
        return f"You asked for changes to version {n} of the {area} service plan"
    if link.state == "closed":
        return f"The {area} service plan has been approved"
    if link.state == "replaced":
        return f"Version {n} of the {area} service plan can no longer be signed"
    return "This link has already been used"


def _invalid(request: Request, raw: str, *, notice: str | None = None) -> HTMLResponse:
    return render(
        request,
        "pages/planning/signoff_invalid.html",
        {
            "title": "This link is not valid",
            "message": signoff.NOT_VALID,
            "notice": notice,
            "raw": raw,
        },
        status_code=404,
    )


@router.api_route("/plan-signoff/{raw}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def show(request: Request, raw: str) -> HTMLResponse:
    return throttling.refused(request) or _page(request, raw)


def _errors(answer: str, comment: str) -> dict[str, str]:
    """What is wrong with the answer as typed (the page shows each next to its field)."""
    errors = {}
    if answer not in ("sign", "changes"):
        errors["answer"] = "Select whether you sign the plan or ask for changes"
    if len(comment) > COMMENT_MAX:
        errors["comment"] = (
            f"Your comments must be {COMMENT_MAX:,} characters or fewer: they are {len(comment):,}"
        )
    else:
        try:
            free_text(comment)
        except ValueError:
            errors["comment"] = (
                "Your comments must not contain control characters or invisible characters: "
                "retype them rather than pasting"
            )
    if answer == "changes" and not comment.strip() and "comment" not in errors:
        errors["comment"] = NEED_COMMENT
    return errors


@router.post("/plan-signoff/{raw}", response_class=HTMLResponse)
def answer(request: Request, raw: str, posted: dict[str, str] = forms.LINK_POSTED) -> HTMLResponse:
    if (refused := throttling.refused(request)) is not None:
        return refused
    answer, comment = posted.get("answer", ""), posted.get("comment", "")
    form = {"answer": answer, "comment": comment}
    if errors := _errors(answer, comment):
        return _page(request, raw, errors=errors, form=form, status=422)
    try:
        with write_session() as session:
            signoff.respond_by_link(
                session,
                raw=raw,
                data=Response(answer=answer, comment=comment),
                address=client_address(request),
            )
            done = link_page.link_page(session, link=signoff.view(session, raw=raw))
    except Invalid as exc:
        return _page(request, raw, errors={"comment": exc.message}, form=form, status=422)
    except ServiceError as exc:
        if exc.refusal is not None:
            record_refusal(exc.refusal, exc.message)
        if exc.status_code == 404:
            return _page(request, raw)
        return _page(request, raw, status=exc.status_code, notice=exc.message)
    return render(
        request,
        "pages/planning/signoff_done.html",
        {"title": _title(done), "page": done, "link": done.link, "plan": done.link.plan},
    )


@router.post("/plan-signoff/{raw}/resend", response_class=HTMLResponse)
def resend(request: Request, raw: str, form: dict[str, str] = forms.LINK_POSTED) -> HTMLResponse:
    if (refused := throttling.refused(request)) is not None:
        return refused
    with write_session() as session:
        known = signoff.resend(session, raw=raw, email=form.get("email", "")[:320])
    if not known and (refused := throttling.missed(request)) is not None:
        return refused
    # The same answer whatever happened: it must not tell a guesser whose address it is.
    return render(
        request,
        "pages/planning/signoff_invalid.html",
        {
            "title": "Check your email",
            "message": "If that address is registered for this link and the plan is still "
            "waiting for your signature, a link to its current version has been sent to it.",
            "notice": None,
            "sent": True,
        },
    )
