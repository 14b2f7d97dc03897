"""Signing in by emailed link, and signing out."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api import throttling
from api.deps import SESSION_COOKIE, page_person
from api.pages import forms
from api.pages.common import safe_return_path, see_other
from api.rendering import render, set_cookie
from core import tokens
from core.db import read_session, write_session
from core.settings import get_settings
from models import Person
from services.platform import people
from services.platform.errors import Gone

router = APIRouter(include_in_schema=False)

NEXT_COOKIE = "signoff_next"


@router.get("/", response_class=HTMLResponse)
def home(person: Person | None = Depends(page_person)) -> Response:
    return see_other("/rfcs" if person else "/sign-in")


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, person: Person | None = Depends(page_person)) -> Response:
    back = safe_return_path(request.query_params.get("next"))
    return render(
        request,
        "pages/sign_in.html",
        {"title": "Sign in", "form": {"next": back or ""}},
        person=person,
    )


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request, form: dict[str, str] = forms.POSTED) -> Response:
    started = time.monotonic()
    email = form.get("email", "").strip()
    if "@" not in email or len(email) > 254 or any(c.isspace() or ord(c) < 32 for c in email):
        return render(
            request,
            "pages/sign_in.html",
            {
                "title": "Sign in",
                "form": form,
                "errors": {
                    "email": "Enter an email address in the correct format, "
                    "like name@council.gov.uk"
                },
            },
            status_code=422,
        )
    await run_in_threadpool(_request_sign_in, email)
    # A registered address costs more work than an unknown one (a link, an email); the answer
    # waits until the same moment after the request started either way, so timing tells nothing.
    floor = get_settings().sign_in_response_ms / 1000
    await asyncio.sleep(max(0.0, floor - (time.monotonic() - started)))
    response = render(
        request,
        "pages/message.html",
        {
            "title": "Check your email",
            "message": f"If {email} is registered with Signoff, we have sent it a sign-in link. "
            "It works once and expires soon.",
        },
    )
    back = safe_return_path(form.get("next"))
    if back:  # kept in this browser: the link in the email brings the person back here
        set_cookie(response, NEXT_COOKIE, tokens.sign("next", back), max_age=3600)
    return response


def _request_sign_in(email: str) -> None:
    with write_session() as session:
        people.request_sign_in(session, email=email)


@router.api_route("/sign-in/{raw}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def sign_in_link(request: Request, raw: str) -> Response:
    if (refused := throttling.refused(request)) is not None:
        return refused
    with read_session() as session:
        live = people.sign_in_link_is_live(session, raw=raw)
    if not live and (refused := throttling.missed(request)) is not None:
        return refused
    return render(
        request,
        "pages/sign_in_link.html",
        {"title": "Sign in", "live": live},
        status_code=200 if live else 404,
    )


@router.post("/sign-in/{raw}", response_class=HTMLResponse)
def complete_sign_in(request: Request, raw: str, form: dict[str, str] = forms.POSTED) -> Response:
    if (refused := throttling.refused(request)) is not None:
        return refused
    try:
        with write_session() as session:
            _, session_token = people.complete_sign_in(session, raw=raw)
    except Gone:
        if (refused := throttling.missed(request)) is not None:
            return refused
        raise
    back = safe_return_path(tokens.unsign("next", request.cookies.get(NEXT_COOKIE)))
    response = see_other(back or "/rfcs")
    set_cookie(response, SESSION_COOKIE, session_token)
    response.delete_cookie(NEXT_COOKIE)
    return response


@router.get("/sign-out", response_class=HTMLResponse)
def sign_out_page(request: Request, person: Person | None = Depends(page_person)) -> Response:
    """Signing out is a button (a POST), so a link elsewhere cannot sign anyone out."""
    if person is None:
        return see_other("/sign-in")
    return render(request, "pages/sign_out.html", {"title": "Sign out"}, person=person)


@router.post("/sign-out", response_class=HTMLResponse)
def sign_out(request: Request, form: dict[str, str] = forms.POSTED) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        with write_session() as session:
            people.sign_out(session, raw=raw)
    response = see_other("/sign-in", "You have signed out.")
    response.delete_cookie(SESSION_COOKIE)
    return response
