"""Pure ASGI middleware: body size limit and security headers."""

from __future__ import annotations

import json
import secrets
from typing import Any

MAX_BODY_BYTES = 256 * 1024

_HEADERS = [
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse request bodies over MAX_BODY_BYTES with 413, declared or streamed."""

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _reject(send, self.limit)
            return
        seen = 0
        started = False

        async def limited_receive() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _reject(send, self.limit)


async def _reject(send: Any, limit: int) -> None:
    body = json.dumps({"detail": f"The request is larger than {limit // 1024} KB."}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


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

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [(k, v) for k, v in _HEADERS if k not in names]
                if is_asset:
                    extra = [(k, v) for k, v in extra if k != b"cache-control"]
                csp = (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
                       "img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; "
                       "form-action 'self'; base-uri 'none'")
                extra.append((b"content-security-policy", csp.encode()))
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, with_headers)
