"""Ask Prefect to run deliver-outbox now, right after a commit that queued email.

The web app must not import prefect (seconds and ~80 MB), so this speaks to the Prefect
server's REST API directly, in a background thread, at most once every few seconds. Without
SIGNOFF_PREFECT_API_URL it does nothing: the every-minute schedule still delivers the mail.
"""

from __future__ import annotations

import logging
import threading
import time

import httpx

from core.settings import get_settings

log = logging.getLogger("signoff.nudge")
_lock = threading.Lock()
_last = 0.0
_deployment_id: str | None = None
MIN_INTERVAL_SECONDS = 3.0


def nudge_delivery() -> None:
    """Fire and forget; never raises, never blocks the request."""
    global _last
    api = get_settings().prefect_api_url
    if not api:
        return
    with _lock:
        if time.monotonic() - _last < MIN_INTERVAL_SECONDS:
            return
        _last = time.monotonic()
    threading.Thread(target=_create_run, args=(api.rstrip("/"),), daemon=True).start()


def _create_run(api: str) -> None:
    global _deployment_id
    try:
        with httpx.Client(timeout=5) as client:
            if _deployment_id is None:
                r = client.get(f"{api}/deployments/name/deliver-outbox/deliver-outbox")
                r.raise_for_status()
                _deployment_id = r.json()["id"]
            r = client.post(
                f"{api}/deployments/{_deployment_id}/create_flow_run", json={"tags": ["nudge"]}
            )
            r.raise_for_status()
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        log.info("could not nudge deliver-outbox (the schedule will send the mail): %s", exc)
