"""What every browser test shares: Debian's Chromium, axe-core, free ports, skip-or-fail.

Browser tests skip where Chromium or the built assets are missing, except under CI=true, where
they fail: a green CI must mean they ran.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Without the background-networking flags Chromium dials out at start, on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def require(condition: bool, why: str) -> None:
    if not condition:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why} (browser tests must run under CI)")
        pytest.skip(why)


def require_chromium() -> None:
    require(CHROMIUM is not None, "Debian's chromium is not installed (make browser)")
    require(AXE.exists(), "axe-core is not installed (npm ci)")
    require(
        (ROOT / "static/assets/govuk-frontend.min.css").exists(), "assets not built (make assets)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(tmp: Path, build: Callable[[], T], *, secret: str) -> Iterator[tuple[str, T]]:
    """A migrated SQLite file under `tmp`, filled by `build()` (run with the app's settings),
    then the app under uvicorn on a free port: yields (its base URL, what `build` returned).
    The server owns the database once it starts; everything is stopped and reset after."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "SIGNOFF_ENV": "test",
        "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp / 'signoff.db'}",
        "SIGNOFF_SECRET_KEY": secret,
        "SIGNOFF_BASE_URL": base,
        "SIGNOFF_SMTP_PORT": str(free_port()),
    }
    from support.databases import reset_caches

    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("SIGNOFF_")]:
            mp.delenv(key)
        for key, value in env.items():
            mp.setenv(key, value)
        reset_caches()
        from core.migrate import upgrade

        upgrade(env["SIGNOFF_DATABASE_URL"])
        built = build()
        reset_caches()  # the server owns the database from here on
        web = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(port)]
            + ["--log-level", "warning"],
            env={**os.environ},
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/sign-in", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                pytest.fail("the web app did not start")
            yield base, built
        finally:
            web.terminate()
            web.wait(timeout=10)
            reset_caches()
