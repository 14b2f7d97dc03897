"""`signoff demo`: everything on embedded defaults, started together, stopped together.

SQLite under ./var, the CSE demo data, a capture SMTP server (its mail shown at /mailbox),
the web app, a local Prefect server on SQLite (./var/prefect) and a serve() runner for the
flows. Ctrl-C or SIGTERM stops every process it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.settings import ROOT, VAR_DIR

PREFECT_PORT = 4200
SMTP_PORT = 8025


def _environment(host: str, port: int) -> dict[str, str]:
    prefect_api = f"http://127.0.0.1:{PREFECT_PORT}/api"
    env = {
        **os.environ,
        "SIGNOFF_ENV": "demo",
        "SIGNOFF_BASE_URL": os.environ.get("SIGNOFF_BASE_URL", f"http://{host}:{port}"),
        "SIGNOFF_SMTP_HOST": "127.0.0.1",
        "SIGNOFF_SMTP_PORT": str(SMTP_PORT),
        "SIGNOFF_PREFECT_API_URL": prefect_api,
        "PREFECT_API_URL": prefect_api,
        "PREFECT_HOME": str(VAR_DIR / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "true",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    os.environ.update({k: env[k] for k in env if k.startswith("SIGNOFF_")})
    return env


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A child in its own process group, so stopping it stops everything it started."""
    out = log.open("ab")
    return subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _wait(url: str, what: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited (code {proc.returncode}); see var/logs/")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                print(f"\r  {what} ready after {time.monotonic() - started:.0f} s" + " " * 20)
                return
        except httpx.HTTPError:
            pass
        print(f"\r  waiting for {what}... {time.monotonic() - started:.0f} s", end="", flush=True)
        time.sleep(1)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s; see var/logs/")


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
    deadline = time.monotonic() + 15
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _prepare() -> None:
    from core.db import write_session
    from core.migrate import upgrade
    from services.demo import load_demo

    print("Preparing the database under ./var ...")
    upgrade()
    with write_session() as session:
        project = load_demo(session)
        print(f"  demo project {project.code}: {project.name}")


def run_demo(host: str = "127.0.0.1", port: int = 8000) -> int:
    env = _environment(host, port)
    logs = VAR_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    _prepare()

    from core import capture_smtp

    smtp = capture_smtp.start(port=SMTP_PORT)
    procs: list[subprocess.Popen[bytes]] = []

    def on_term(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        py = sys.executable
        web = _start([py, "-m", "uvicorn", "api.main:app", "--host", host, "--port", str(port),
                      "--log-level", "warning"], env, logs / "web.log")
        procs.append(web)
        prefect = _start([py, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                          "--port", str(PREFECT_PORT)], env, logs / "prefect-server.log")
        procs.append(prefect)
        _wait(f"http://{host}:{port}/sign-in", "the web app", web, 60)
        print("Starting the local Prefect server (about 25 s on a small machine)")
        _wait(f"http://127.0.0.1:{PREFECT_PORT}/api/health", "Prefect", prefect, 180)
        procs.append(_start([py, "-m", "flows.serve"], env, logs / "flows.log"))
        _banner(host, port)
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        print("A demo process stopped unexpectedly; see var/logs/. Stopping the rest.")
        return 1
    except KeyboardInterrupt:
        print("\nStopping the demo ...")
        return 0
    finally:
        _stop(procs)
        smtp.stop()
        print("Everything the demo started has stopped.")


def _banner(host: str, port: int) -> None:
    web = f"http://{host}:{port}"
    print(f"""
Signoff demo is running
  Web app and API      {web}          (API docs: {web}/api/docs)
  Demo mailbox         {web}/mailbox  (every email the demo sends)
  Prefect              http://127.0.0.1:{PREFECT_PORT}    (flows, runs, artifacts, events)
  Capture SMTP server  127.0.0.1:{SMTP_PORT}
  Data                 ./var (kept between runs; delete it to start afresh)

Try this
  1. Sign in as the Project Manager, Paul Knight: enter paul.knight@scambs.example at
     {web}/sign-in, then open the sign-in email in the mailbox.
  2. Projects -> CSE: CSE-RFC-003 (extend stage 1 to 31 March 2010) is a major change
     waiting for the sponsor. Raise and analyse a change of your own.
  3. Approve CSE-RFC-003 as the sponsor, Steve Hampson: open "Approval needed: CSE-RFC-003"
     in the mailbox and follow its link (no sign-in needed).

Press Ctrl-C to stop everything.
""", flush=True)
