"""The running `signoff web`, probed from outside: its log, its headers, what it trusts.

A real `signoff web` process over a migrated SQLite file with the CSE demo; requests come from
httpx over loopback; the log is what the process wrote to its stdout and stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from support.browser import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "web-server-test-secret-0123456789abcdef"  # noqa: S105 - tests only
HOST = "signoff.council.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("web")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")} | {
        "SIGNOFF_ENV": "production",
        "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp / 'signoff.db'}",
        "SIGNOFF_SECRET_KEY": SECRET,
        "SIGNOFF_BASE_URL": f"https://{HOST}",  # behind an HTTPS proxy, as in production
        "SIGNOFF_SMTP_PORT": str(free_port()),
    }
    py = sys.executable
    for command in (["db", "upgrade"], ["load-demo"]):
        subprocess.run(
            [py, "-m", "cli.main", *command], env=env, cwd=ROOT, check=True, capture_output=True
        )
    log = tmp / "web.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [py, "-m", "cli.main", "web", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/sign-in", headers={"Host": HOST}, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("signoff web did not start:\n" + log.read_text())
    yield {"base": base, "env": env, "log": log, "tmp": tmp}
    proc.terminate()
    proc.wait(timeout=10)


def _in_process(env: dict[str, str], code: str) -> str:
    """Run a snippet against the server's database with its settings; returns its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


PRINT_SIGN_IN_LINK = """
from sqlmodel import select
from core import tokens
from core.db import read_session, write_session
from models import ActionToken
from services.platform import people
with write_session() as s:
    people.request_sign_in(s, email="emma.george@scambs.example")
with read_session() as s:
    row = s.exec(select(ActionToken).where(ActionToken.purpose == "sign_in")
                 .order_by(ActionToken.id.desc())).first()
print(tokens.derive_token(row.salt))
"""
PRINT_APPROVAL_LINK = """
from sqlmodel import select
from core import tokens
from core.db import read_session
from models import ActionToken
with read_session() as s:
    row = s.exec(select(ActionToken).where(ActionToken.purpose == "approve_rfc",
                                           ActionToken.revoked_at == None)).first()  # noqa: E711
print(tokens.derive_token(row.salt))
"""


def test_live_tokens_never_reach_the_log(server):
    base, headers = server["base"], {"Host": HOST}
    sign_in = _in_process(server["env"], PRINT_SIGN_IN_LINK)
    approval = _in_process(server["env"], PRINT_APPROVAL_LINK)
    assert len(sign_in) > 20 and len(approval) > 20
    for path in (
        f"/sign-in/{sign_in}",
        f"/approvals/{approval}",
        f"/approvals/{approval}?x=1",
        f"/approvals/{approval}/resend",
        "/approvals/" + "A" * 43,
    ):
        httpx.get(base + path, headers=headers)
        httpx.head(base + path, headers=headers)
        httpx.post(base + path, headers=headers, data={"decision": "approve"})
    time.sleep(0.5)  # let the access log flush
    log = server["log"].read_text()
    assert "/approvals/[redacted]" in log and "/sign-in/[redacted]" in log, log[-2000:]
    assert sign_in not in log and approval not in log and "A" * 43 not in log


def test_https_base_url_means_secure_cookies_and_hsts(server):
    page = httpx.get(server["base"] + "/sign-in", headers={"Host": HOST})  # plain http inside
    assert page.status_code == 200
    cookie = page.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert page.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize(
    "host", ["evil.example", "signoff.council.example.evil.example", "localhost", "127.0.0.1"]
)
def test_only_our_own_host_is_answered(server, host):
    r = httpx.get(server["base"] + "/sign-in", headers={"Host": host})
    # production: only BASE_URL's host (and SIGNOFF_ALLOWED_HOSTS); no page for anyone else
    assert r.status_code == 400 and "Unknown host" in r.text


def test_forwarded_for_from_an_untrusted_peer_does_not_set_the_audit_address(server):
    env = server["env"]
    token = _in_process(
        env,
        """
from core.db import write_session
from services.platform import people
with write_session() as s:
    print(people.create_api_token(s, email="paul.knight@scambs.example"))
""",
    )
    r = httpx.post(
        server["base"] + "/api/v1/rfcs/1/decision",
        json={"decision": "approve"},
        headers={
            "Host": HOST,
            "Authorization": f"Bearer {token}",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
        },
    )
    assert r.status_code == 403, r.text  # Paul raised CSE-RFC-003: he may not approve it
    address = _in_process(
        env,
        """
from sqlmodel import select
from core.db import read_session
from models import AuditEvent
with read_session() as s:
    print(s.exec(select(AuditEvent).where(AuditEvent.outcome == "refused")
                 .order_by(AuditEvent.id.desc())).first().actor_address)
""",
    )
    assert address == "127.0.0.1"


def test_an_api_client_with_a_foreign_host_gets_a_problem(server):
    r = httpx.get(server["base"] + "/api/v1/projects", headers={"Host": "evil.example"})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "unknown_host"
