"""Render a page with the one Jinja environment, adding what every page needs."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ANON_COOKIE, SESSION_COOKIE
from core import tokens
from core.settings import get_settings
from core.templating import environment
from models import Person

FLASH_COOKIE = "signoff_flash"


def set_cookie(response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    """Every cookie Signoff sets: HttpOnly, SameSite=Lax, Secure when the base URL is https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )


def flash(response: Response, message: str) -> Response:
    """A one-time confirmation for the next page; signed, so no one else can write one."""
    set_cookie(response, FLASH_COOKIE, tokens.sign("flash", message[:300]), max_age=300)
    return response


def _take_flash(request: Request) -> str | None:
    return tokens.unsign("flash", request.cookies.get(FLASH_COOKIE))


def csrf_binding(request: Request) -> str:
    """CSRF tokens bind to the session cookie, or to an anonymous cookie before sign-in."""
    raw = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE) or ""
    return tokens.hash_token(raw) if raw else ""


def csrf_ok(request: Request, presented: str | None) -> bool:
    binding = csrf_binding(request)
    return bool(binding) and tokens.csrf_matches(binding, presented)


_MENU = (
    ("/rfcs", "My RFCs"),
    ("/projects", "Projects"),
    ("/performance/figures", "My figures"),
    ("/performance", "Performance"),
    ("/planning", "Service plans"),
)
_ADMIN_MENU = (("/admin/rfcs", "All RFCs"), ("/admin/outbox", "Outbox"))


def menu(path: str, person: Person | None, section: str | None) -> list[dict[str, Any]]:
    """The service navigation's items for whoever is signed in (nobody: only "Sign in"): the
    item for `path` is the current page; the one for `section`, the top-level page `path`
    belongs to, is marked as where you are."""
    items = list(_MENU) if person else []
    if person is not None and person.is_admin:
        items += _ADMIN_MENU
    if get_settings().mailbox_enabled:
        items.append(("/mailbox", "Demo mailbox"))
    items.append(("/sign-out", "Sign out") if person else ("/sign-in", "Sign in"))
    here = section or path
    return [
        {
            "href": href,
            "text": text,
            "current": href == path,
            "active": href == here and href != path,
        }
        for href, text in items
    ]


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
        "flash": _take_flash(request),
    }
    ctx.update(context or {})
    ctx["nav"] = menu(request.url.path, ctx["person"], ctx.get("section"))
    ctx["error_list"] = [{"text": msg, "href": f"#{field}"} for field, msg in ctx["errors"].items()]
    response = HTMLResponse(
        environment().get_template(template).render(ctx), status_code=status_code
    )
    if new_anon is not None:
        set_cookie(response, ANON_COOKIE, new_anon)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE)  # shown once
    return response


def render_error(
    request: Request, title: str, message: str = "", *, status_code: int
) -> HTMLResponse:
    """An error page in the layout, with the navigation of whoever is signed in."""
    from api.deps import page_person

    try:
        person = page_person(request)
    except Exception:  # the database may be why we are here: show the page without a name
        person = None
    return render(
        request,
        "pages/error.html",
        {"title": title, "message": message, "status": status_code},
        status_code=status_code,
        person=person,
    )
