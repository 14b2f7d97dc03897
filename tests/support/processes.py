"""Running the `signoff` command as a user would, on a test's database and SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.databases import env_vars

ROOT = Path(__file__).resolve().parents[2]
SIGNOFF = Path(sys.executable).parent / "signoff"


def signoff(url: str, smtp_port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
    env |= env_vars(url, smtp_port)
    command = [str(SIGNOFF)] if SIGNOFF.exists() else ["uv", "run", "signoff"]
    return subprocess.run(
        [*command, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,  # noqa: S603
        text=True,
        timeout=120,
        check=False,
    )
