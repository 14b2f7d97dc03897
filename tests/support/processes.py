"""Running the `signoff` command as a user would, on a test's database and SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.databases import env_vars

ROOT = Path(__file__).resolve().parents[2]
SIGNOFF = Path(sys.executable).parent / "signoff"


def signoff(
    url: str, smtp_port: int, *args: str, code: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`signoff ARGS` on this database and SMTP server; with `code`, `python -c CODE ARGS`
    instead (to change one thing before the command runs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
    env |= env_vars(url, smtp_port)
    if code is not None:
        command = [sys.executable, "-c", code]
    else:
        command = [str(SIGNOFF)] if SIGNOFF.exists() else [sys.executable, "-m", "cli.main"]
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [*command, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
