"""Signoff's web app with anyio's thread pool limited to one thread, for decision_http.

Sync routes then run one at a time in arrival order, so no two requests' write transactions
ever wait on each other in SQLite. Diagnosis only; the app itself is untouched:

    uv run python bench/decision_http.py --signoff-app _variant_one_thread:app
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread

from api.main import app as signoff_app

_limited = False


async def app(scope: dict, receive: Any, send: Any) -> None:
    global _limited
    if not _limited:  # the limiter belongs to the running event loop: set it from inside
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        _limited = True
    await signoff_app(scope, receive, send)
