"""Render a page with the one Jinja environment, adding what every page needs."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.deps import ANON_COOKIE, SESSION_COOKIE
from core import tokens
from core.templating import environment
from models import Person


def csrf_binding(request: Request) -> str:
    """CSRF tokens bind to the session cookie, or to an anonymous cookie before sign-in."""
    raw = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE) or ""
    return tokens.hash_token(raw) if raw else ""


def csrf_ok(request: Request, presented: str | None) -> bool:
    binding = csrf_binding(request)
    return bool(binding) and tokens.csrf_matches(binding, presented)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    person: Person | None = None,
) -> HTMLResponse:
    new_anon = None
    binding = csrf_binding(request)
    if not binding:
        new_anon = tokens.new_random_token()
        binding = tokens.hash_token(new_anon)
    ctx: dict[str, Any] = {
        "request": request,
        "person": person,
        "cspNonce": request.scope.get("state", {}).get("csp_nonce"),
        "csrf_token": tokens.csrf_token(binding),
        "errors": {},
        "form": {},
        "title": "",
    }
    ctx.update(context or {})
    ctx["error_list"] = [{"text": msg, "href": f"#{field}"} for field, msg in ctx["errors"].items()]
    response = HTMLResponse(environment().get_template(template).render(ctx),
                            status_code=status_code)
    if new_anon is not None:
        response.set_cookie(ANON_COOKIE, new_anon, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    return response
