"""Pure ASGI middleware: body size limit and security headers."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

MAX_BODY_BYTES = 256 * 1024
# Uploads of files to import (a scorecard or an operational plan as CSV or XLSX) may be
# larger, and so may a whole service plan or one of its long sections; nothing else is.
UPLOAD_PATHS = {"/performance/import": 5 * 1024 * 1024}
LARGER_PATHS = (
    (re.compile(r"/planning/plans/\d+/operational"), 5 * 1024 * 1024),
    (re.compile(r"/planning/plans/\d+/sections/\w+"), 2 * 1024 * 1024),
    (re.compile(r"/api/v1/plans/\d+"), 2 * 1024 * 1024),
)


def body_limit(path: str, default: int = MAX_BODY_BYTES) -> int:
    if path in UPLOAD_PATHS:
        return UPLOAD_PATHS[path]
    return next((limit for p, limit in LARGER_PATHS if p.fullmatch(path)), default)


_HEADERS = [
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class BodyLimitMiddleware:
    """Refuse request bodies over MAX_BODY_BYTES with 413, whether declared or streamed.

    A body without Content-Length is read (up to the limit) before the app sees it, so an
    oversized stream is answered 413 rather than surfacing as a parse error.
    """

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope.get("path", ""), self.limit)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                await _reject(scope, send, limit)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            size += len(message.get("body", b""))
            if size > limit:
                await _reject(scope, send, limit)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], then=receive), send)


def _replay(messages: list[dict], then: Any = None) -> Any:
    """A receive() that hands back buffered messages, then defers to the real one."""
    pending = list(messages)

    async def receive() -> dict:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


async def _reject(scope: dict, send: Any, limit: int) -> None:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    message = f"The request is larger than {size}."
    # A person who posted a form gets a page saying what to do; it is answered before the app
    # (and its templates) sees the request, so it is plain.
    media_type = b"text/html; charset=utf-8"
    body = (
        '<!DOCTYPE html><html lang="en"><head><title>Too large - Signoff</title></head><body>'
        f"<h1>What you sent is too large</h1><p>{message} Go back, and send a smaller file "
        "or shorter text.</p></body></html>"
    ).encode()
    if scope["path"].startswith("/api/"):  # the API's one error format
        from api.problems import MEDIA_TYPE, problem_bytes

        media_type = MEDIA_TYPE.encode()
        body = problem_bytes(413, message, instance=scope["path"])
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", media_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HostCheckMiddleware:
    """Answer only to our own host names: a forged Host header gets 400, never a page.

    Links are built from SIGNOFF_BASE_URL, not the Host header, but a cache or proxy in front
    could still be poisoned by pages served for any host; and nothing legitimate sends one.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from core.settings import get_settings

        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]")
        if name not in get_settings().host_names():
            detail = "Unknown host: use the address in SIGNOFF_BASE_URL."
            if scope["path"].startswith("/api/"):
                from api.problems import MEDIA_TYPE
                from api.problems import body as problem_body

                body = json.dumps(problem_body(400, detail, code="unknown_host")).encode()
                kind = MEDIA_TYPE.encode()
            else:
                body, kind = (detail + "\n").encode(), b"text/plain; charset=utf-8"
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", kind),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class SecurityHeadersMiddleware:
    """Headers every response carries; a CSP nonce for the GOV.UK template's one inline script."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        is_asset = scope["path"].startswith("/assets/")
        from core.settings import get_settings

        hsts = get_settings().secure_cookies  # BASE_URL is https: browsers should only use https

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [(k, v) for k, v in _HEADERS if k not in names]
                if is_asset:
                    extra = [(k, v) for k, v in extra if k != b"cache-control"]
                csp = (
                    f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
                    "img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; "
                    "form-action 'self'; base-uri 'none'"
                )
                extra.append((b"content-security-policy", csp.encode()))
                if hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, with_headers)
