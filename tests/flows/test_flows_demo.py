"""`signoff demo` for real, in a copy of the project on a fresh ./var: it starts everything,
delivers the demo's mail through its Prefect runner, stops every process on SIGINT and on
SIGTERM, and a second start reuses the data. Prints the memory the running demo uses.
"""

from __future__ import annotations

import mailbox
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.smtp_recorder import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
COPY_IGNORE = shutil.ignore_patterns(
    ".venv",
    "var",
    "node_modules",
    ".git",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    ".pytest_cache",
)


class Demo:
    """One `signoff demo` process (its own session), with its output collected."""

    def __init__(self, home: Path, ports: dict[str, int]) -> None:
        self.home, self.ports = home, ports
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNOFF_", "PREFECT_"))}
        env |= {
            "SIGNOFF_SMTP_PORT": str(ports["smtp"]),
            "SIGNOFF_DEMO_PREFECT_PORT": str(ports["prefect"]),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        }
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "cli.main", "demo", "--port", str(ports["web"])],
            cwd=home,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
        )
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    @property
    def text(self) -> str:
        return "".join(self.output)

    def wait_for(self, marker: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.text:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no {marker!r} (exit {self.proc.poll()}):\n{self.text[-3000:]}")
            time.sleep(0.5)

    def descendants(self) -> set[int]:
        from cli.demo import tree_rss

        return set(tree_rss(self.proc.pid))

    def stop(self, sig: signal.Signals, timeout: float = 60) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            pytest.fail(f"the demo did not stop within {timeout} s on {sig.name}")
            raise

    def kill(self) -> None:
        for pid in self.descendants():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def subjects(home: Path) -> list[str]:
    folder = home / "var" / "mailbox"
    if not folder.exists():
        return []
    return [str(m["Subject"]) for m in mailbox.Maildir(folder, create=False)]


def wait_until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(1)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """The project as a fresh machine has it (no ./var), sharing this machine's venv."""
    target = tmp_path / "signoff"
    shutil.copytree(ROOT, target, ignore=COPY_IGNORE, symlinks=True)
    yield target


def test_demo_starts_everything_delivers_and_stops_cleanly_twice(home: Path) -> None:
    ports = {"web": free_port(), "prefect": free_port(), "smtp": free_port()}
    demo = Demo(home, ports)
    try:
        demo.wait_for("Signoff demo is running", 300)
        assert "Prefect server: waiting" in demo.text or "Prefect server: ready" in demo.text
        web = f"http://127.0.0.1:{ports['web']}"
        assert httpx.get(f"{web}/sign-in", timeout=10).status_code == 200
        assert (
            httpx.get(f"http://127.0.0.1:{ports['prefect']}/api/health", timeout=10).status_code
            == 200
        )
        # The demo's queued mail goes out through a deliver-outbox run of the runner.
        wait_until(
            lambda: any("CSE-RFC-003" in s for s in subjects(home)),
            120,
            "the sponsor's approval email in ./var/mailbox",
        )
        assert "CSE-RFC-003" in httpx.get(f"{web}/mailbox", timeout=10).text
        memory = re.search(r"Memory\s+(.*)", demo.text)
        assert memory is not None
        print(f"\ndemo memory: {memory.group(1)}")
        tree = demo.descendants()
        assert len(tree) >= 4
        assert demo.stop(signal.SIGINT) == 0
        wait_until(lambda: not alive(tree), 10, "every demo process to exit")
        assert "Everything the demo started has stopped." in demo.text
    finally:
        demo.kill()

    # Again, on the same ./var: the data is reused, nothing is loaded or sent twice.
    with sqlite3.connect(home / "var" / "signoff.db") as db:
        before = db.execute("select count(*) from rfc").fetchone()[0]
    sent_before = len(subjects(home))
    again = Demo(home, ports)
    try:
        again.wait_for("Signoff demo is running", 300)
        tree = again.descendants()
        assert again.stop(signal.SIGTERM) == 0
        wait_until(lambda: not alive(tree), 10, "every demo process to exit")
    finally:
        again.kill()
    with sqlite3.connect(home / "var" / "signoff.db") as db:
        assert db.execute("select count(*) from rfc").fetchone()[0] == before
        assert db.execute("select count(*) from project").fetchone()[0] == 1
    assert len(subjects(home)) == sent_before
