"""What every page route needs: the signed-in person, the actor, redirects that carry a flash."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from api.deps import client_address, page_person
from api.rendering import flash
from models import Person
from services.platform.actors import Actor


def safe_return_path(path: str | None) -> str | None:
    """A path on this site to come back to after signing in, or None.

    Only a plain absolute path is accepted: no scheme, no host, no `//` or backslash (browsers
    read `/\\evil.example` as another site), no control characters, and never the sign-in pages.
    """
    if not path or len(path) > 500 or not path.startswith("/") or path.startswith("//"):
        return None
    if "\\" in path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or parts.path.startswith(("/sign-in", "/sign-out")):
        return None
    return path


def signed_in(request: Request, person: Person | None = Depends(page_person)) -> Person:
    """The signed-in person; anyone else is sent to sign in and brought back here afterwards."""
    if person is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        back = safe_return_path(here) if request.method == "GET" else None
        target = "/sign-in" + (f"?next={quote(back, safe='')}" if back else "")
        raise HTTPException(303, headers={"Location": target})
    return person


def admin(person: Person = Depends(signed_in)) -> Person:
    if not person.is_admin:
        raise HTTPException(403, "Only administrators can see this page.")
    return person


def actor_of(request: Request, person: Person) -> Actor:
    return Actor(
        person_id=person.id or 0, address=client_address(request), is_admin=person.is_admin
    )


def see_other(url: str, message: str | None = None) -> RedirectResponse:
    """Redirect after a POST, with an optional one-time confirmation for the next page."""
    response = RedirectResponse(url, status_code=303)
    if message:
        flash(response, message)
    return response
