"""Link guessing: a client that tries too many unknown or expired link tokens gets 429.

Used by the pages of emailed links (/sign-in/{raw}, /approvals/{raw} and its /resend). Every
miss counts against the client's address in the database (services/throttle), so the limit
holds across web workers. Once over it the client is refused on those routes, valid tokens
included, until the window ends: guessing cannot go on between hits.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.deps import client_address
from api.rendering import render_error
from core.settings import get_settings
from services.platform import throttle

BUCKET = "link_miss"


def _window() -> timedelta:
    return timedelta(minutes=get_settings().link_miss_window_minutes)


def refused(request: Request) -> HTMLResponse | None:
    """The 429 page when this client has used up its misses; None when it may go on."""
    seen = throttle.current(bucket=BUCKET, value=client_address(request), window=_window())
    if seen.hits >= get_settings().link_misses_per_client:
        return too_many(request, seen)
    return None


def missed(request: Request) -> HTMLResponse | None:
    """Count an unknown or expired link; the 429 page when this miss is past the limit."""
    seen = throttle.hit(bucket=BUCKET, value=client_address(request), window=_window())
    if seen.hits > get_settings().link_misses_per_client:
        return too_many(request, seen)
    return None


def too_many(request: Request, seen: throttle.Count) -> HTMLResponse:
    wait = seen.retry_after()
    minutes = max(1, (wait + 59) // 60)
    response = render_error(
        request,
        "Too many attempts",
        "Too many links that do not work have been tried from your connection. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}. If you keep seeing this, "
        "copy the whole link from your email into the address bar.",
        status_code=429,
    )
    response.headers["Retry-After"] = str(wait)
    return response
