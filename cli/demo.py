"""`signoff demo`: everything on embedded defaults, started together, stopped together.

SQLite under ./var, the CSE demo data, a capture SMTP server (its mail shown at /mailbox),
the web app, a local Prefect server on SQLite (./var/prefect) and a serve() runner for the
flows. Each child runs in its own process group, so Ctrl-C or SIGTERM stops every process
it started (and theirs: flow runs are grandchildren), and nothing is left running.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from core.settings import ROOT, VAR_DIR

PREFECT_PORT = int(os.environ.get("SIGNOFF_DEMO_PREFECT_PORT", "4200"))
SMTP_PORT = int(os.environ.get("SIGNOFF_SMTP_PORT", "8025"))
STOP_SECONDS = 20


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
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_UI_ENABLED": "true",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_RUNNER_POLL_FREQUENCY": "5",  # a nudged delivery starts within seconds
    }
    os.environ.update({k: env[k] for k in env if k.startswith("SIGNOFF_")})
    from core.settings import reset_settings_cache

    reset_settings_cache()
    return env


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A child in its own process group, so stopping it stops everything it started."""
    out = log.open("ab")
    return subprocess.Popen(  # noqa: S603 - our own commands, fixed arguments
        args,
        env=env,
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait(
    what: str, ready: Callable[[], bool], procs: list[subprocess.Popen[bytes]], timeout: float
) -> None:
    """Poll until ready, showing progress; fail early if a process we need has exited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{what}: a process exited (code {proc.returncode}); see var/logs/"
                )
        try:
            if ready():
                print(
                    f"\r  {what}: ready after {time.monotonic() - started:.0f} s" + " " * 20,
                    flush=True,
                )
                return
        except httpx.HTTPError:
            pass
        print(f"\r  {what}: waiting... {time.monotonic() - started:.0f} s", end="", flush=True)
        time.sleep(1)
    raise RuntimeError(f"{what} was not ready within {timeout:.0f} s; see var/logs/")


def _get_ok(url: str) -> Callable[[], bool]:
    return lambda: httpx.get(url, timeout=2).status_code == 200


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGINT to each child's process group, then SIGKILL whatever outlives the deadline."""
    for proc in procs:
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGINT)
    deadline = time.monotonic() + STOP_SECONDS
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in procs:
        # Flow runs started by the runner live in its group: none may outlive the demo.
        _signal_group(proc.pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _prepare() -> None:
    from core.db import write_session
    from core.migrate import upgrade
    from services.change_control.demo import load_demo

    print("Preparing the database under ./var ...", flush=True)
    upgrade()
    with write_session() as session:
        project = load_demo(session)
        print(f"  demo project {project.code}: {project.name}", flush=True)
    from services.performance.demo import load_demo as load_performance_demo

    print(f"  {load_performance_demo()}", flush=True)
    from services.planning.demo import load_demo as load_planning_demo

    print(f"  {load_planning_demo()}", flush=True)


def _deliver_now(api: str) -> None:
    """Send the mail queued before Prefect was up, rather than wait for the minute."""
    try:
        with httpx.Client(base_url=api, timeout=5) as client:
            found = client.get("/deployments/name/deliver-outbox/deliver-outbox")
            found.raise_for_status()
            client.post(
                f"/deployments/{found.json()['id']}/create_flow_run", json={"tags": ["demo-start"]}
            ).raise_for_status()
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        print(f"  (could not start a delivery now: {exc}; the schedule will send the mail)")


def tree_rss(root_pid: int) -> dict[int, tuple[str, int]]:
    """{pid: (command, RSS bytes)} for root_pid and every descendant, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parents.items() if p == pid and c not in tree]
        tree.update(children)
        frontier.extend(children)
    out: dict[int, tuple[str, int]] = {}
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        kb = next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
        out[pid] = (cmd.strip(), kb * 1024)
    return out


def memory_report(children: dict[str, int]) -> str:
    """'545 MB (web app 88 MB, ...)': the RSS of this process and of each child's tree."""
    own = tree_rss(os.getpid())
    sizes = {"supervisor with capture SMTP": own[os.getpid()][1]}
    for name, pid in children.items():
        sizes[name] = sum(rss for _, rss in tree_rss(pid).values())
    total = sum(rss for _, rss in own.values())  # everything under this process, once
    shares = ", ".join(f"{name} {size / 2**20:.0f} MB" for name, size in sizes.items())
    return f"{total / 2**20:.0f} MB ({shares})"


def run_demo(host: str = "127.0.0.1", port: int = 8000) -> int:
    busy = [p for p in (port, PREFECT_PORT, SMTP_PORT) if not _port_free(p)]
    if busy:
        print(
            f"Port(s) {', '.join(map(str, busy))} on 127.0.0.1 are in use: is a demo already "
            "running? Stop it first (or set SIGNOFF_SMTP_PORT / SIGNOFF_DEMO_PREFECT_PORT).",
            file=sys.stderr,
        )
        return 2
    env = _environment(host, port)
    logs = VAR_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    _prepare()

    from core import capture_smtp

    smtp = capture_smtp.start(port=SMTP_PORT)
    procs: list[subprocess.Popen[bytes]] = []

    def on_term(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C stops the demo even when it was started with SIGINT ignored (a shell's background
    # job, or CI that launched it so): Python then never installs its own handler.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        py = sys.executable
        # `signoff web`, as in production: its access log redacts sign-in and link tokens.
        web = _start(
            [py, "-m", "cli.main", "web", "--host", host, "--port", str(port)],
            env,
            logs / "web.log",
        )
        prefect = _start(
            [
                py,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(PREFECT_PORT),
            ],
            env,
            logs / "prefect-server.log",
        )
        procs += [web, prefect]
        _wait("web app", _get_ok(f"http://{host}:{port}/sign-in"), [web], 60)
        print("Starting the local Prefect server (about 25 s on a small machine)", flush=True)
        api = f"http://127.0.0.1:{PREFECT_PORT}/api"
        _wait("Prefect server", _get_ok(f"{api}/health"), [prefect], 180)
        runner = _start([py, "-m", "flows.serve"], env, logs / "flows.log")
        procs.append(runner)
        from flows.deployments import DEPLOYMENTS

        for name in (d.name for d in DEPLOYMENTS):
            url = f"{api}/deployments/name/{name}/{name}"
            _wait(f"flow runner: {name}", _get_ok(url), [runner, prefect], 120)
        _deliver_now(api)
        children = {"web app": web.pid, "Prefect server": prefect.pid, "flow runner": runner.pid}
        _banner(host, port, memory_report(children))
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        print("A demo process stopped unexpectedly; see var/logs/. Stopping the rest.")
        return 1
    except KeyboardInterrupt:
        print("\nStopping the demo ...", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C or SIGTERM must not cut the clean-up short (it is bounded anyway).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop(procs)
        smtp.stop()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        print("Everything the demo started has stopped.", flush=True)


def _banner(host: str, port: int, memory: str) -> None:
    web = f"http://{host}:{port}"
    print(
        f"""
Signoff demo is running
  Web app and API      {web}          (API docs: {web}/api/docs)
  Demo mailbox         {web}/mailbox  (every email the demo sends)
  Prefect              http://127.0.0.1:{PREFECT_PORT}    (flows, runs, artifacts, events)
  Capture SMTP server  127.0.0.1:{SMTP_PORT}
  Data                 ./var (kept between runs; delete it to start afresh); logs in ./var/logs
  Memory               {memory}

Try this (the README's walkthrough, step by step)
  1. Sign in as a work-stream leader, richard.may@scambs.example, at {web}/sign-in
     (the sign-in email arrives in the mailbox). Projects -> Customer Service Excellence
     Standard: raise a Request for Change and submit it. Then Sign out.
  2. Sign in as the PM, paul.knight@scambs.example: My RFCs shows it waiting. Record the
     impact (no cost, no delay, no extra resources: minor) and approve it yourself.
  3. As the sponsor, Steve Hampson: open "Approval needed: CSE-RFC-003" in the mailbox and
     follow its link (no sign-in needed) to approve or reject the major change.
  4. Sign in as the administrator, emma.george@scambs.example: All RFCs and the Outbox.
     In Prefect, see the deliver-outbox and chase runs and the signoff.rfc.* events.
  5. Late figures: open "Late: your performance figures for December 2009" to Ian Salter in
     the mailbox and follow its link (no sign-in needed) to enter his six figures.
  6. Signed in, Performance -> Community and Customer Services 09/10: the detail report,
     RAG summary, completeness and late figures as at December 2009 (Paul Knight's GREY).
  7. See a chase happen: .venv/bin/signoff performance chase --today YYYY-MM-DD (a working
     day three or more working days from today) and watch the mailbox.

Press Ctrl-C to stop everything.
""",
        flush=True,
    )
