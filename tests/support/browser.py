"""What every browser test shares: Debian's Chromium, axe-core, free ports, skip-or-fail.

Browser tests skip where Chromium or the built assets are missing, except under CI=true, where
they fail: a green CI must mean they ran.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

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
