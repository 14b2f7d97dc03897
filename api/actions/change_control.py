"""The approver's emailed link. GET and HEAD only show; the page's buttons POST."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api import throttling
from api.deps import client_address
from api.pages import forms
from api.rendering import render
from core.db import read_session, write_session
from models.change_control.rfcs import DecisionInput
from services.change_control import approvals, rfc_views
from services.platform.audit import record_refusal
from services.platform.errors import NotFound, ServiceError

router = APIRouter(tags=["action links"], include_in_schema=False)

_STATUS = {"live": 200, "used": 410, "closed": 410, "changed": 409, "reassigned": 404}


def _page(
    request: Request,
    raw: str,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    """The link's page; called once per request, so an unknown link counts once."""
    with read_session() as session:
        try:
            link: approvals.LinkView | None = approvals.view(session, raw=raw)
        except NotFound:
            link = None
        if link is not None and link.state != "reassigned":
            detail = rfc_views.to_public(session, rfc=link.rfc, project=link.project)
    if link is None and (refused := throttling.missed(request)) is not None:
        return refused  # unknown or expired: what guessing finds
    if link is None or link.state == "reassigned":
        return render(
            request,
            "pages/change_control/approval_invalid.html",
            {"title": "This link is not valid", "message": approvals.NOT_VALID, "notice": notice},
            status_code=404,
        )
    return render(
        request,
        "pages/change_control/approval.html",
        {
            "title": f"Decide {link.rfc.ref}",
            "link": link,
            "rfc": detail,
            "project": link.project,
            "errors": errors or {},
            "form": form or {},
            "notice": notice,
        },
        status_code=status or _STATUS[link.state],
    )


@router.api_route("/approvals/{raw}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def show(request: Request, raw: str) -> HTMLResponse:
    return throttling.refused(request) or _page(request, raw)


@router.post("/approvals/{raw}", response_class=HTMLResponse)
def decide(request: Request, raw: str, posted: dict[str, str] = forms.LINK_POSTED) -> HTMLResponse:
    if (refused := throttling.refused(request)) is not None:
        return refused
    decision, reason = posted.get("decision", ""), posted.get("reason", "")
    form = {"decision": decision, "reason": reason}
    try:
        data = DecisionInput(decision=decision, reason=reason)  # type: ignore[arg-type]
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors()}
        errors = {}
        if "decision" in fields:
            errors["decision"] = "Select whether you approve or reject the change"
        if "reason" in fields:
            errors["reason"] = (
                "The reason must be 10,000 characters or fewer, without control characters"
            )
        return _page(request, raw, errors=errors, form=form, status=422)
    if data.decision == "reject" and not data.reason:
        return _page(
            request,
            raw,
            errors={"reason": "Enter the reason for rejecting the change"},
            form=form,
            status=422,
        )
    try:
        with write_session() as session:
            rfc = approvals.decide_by_link(
                session, raw=raw, data=data, address=client_address(request)
            )
            ref, status = rfc.ref, rfc.status
    except ServiceError as exc:
        if exc.refusal is not None:
            record_refusal(exc.refusal, exc.message)
        if exc.status_code == 404:
            return _page(request, raw)
        return _page(request, raw, status=exc.status_code, notice=exc.message)
    return render(
        request,
        "pages/change_control/approval_done.html",
        {"title": f"{ref} {status}", "ref": ref, "status": status},
    )


@router.post("/approvals/{raw}/resend", response_class=HTMLResponse)
def resend(request: Request, raw: str, form: dict[str, str] = forms.LINK_POSTED) -> HTMLResponse:
    if (refused := throttling.refused(request)) is not None:
        return refused
    with write_session() as session:
        known = approvals.resend(session, raw=raw, email=form.get("email", "")[:320])
    if not known and (refused := throttling.missed(request)) is not None:
        return refused
    return render(
        request,
        "pages/change_control/approval_invalid.html",
        {
            "title": "Check your email",
            "message": "If that address is registered for this link and the change is still "
            "waiting for a decision, a new link has been sent to it.",
            "notice": None,
            "sent": True,
        },
    )
