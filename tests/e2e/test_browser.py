"""The RFC journey in real headless Chromium, with axe-core checking WCAG 2.2 A/AA on each page.

A real uvicorn server, a real aiosmtpd capture server and Debian's Chromium; the sponsor's
link is taken from the email the capture server caught.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import httpx
import pytest
from support.browser import AXE, CHROMIUM, CHROMIUM_ARGS, free_port, require

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """Migrated SQLite with the CSE demo, a capture SMTP server and the app under uvicorn."""
    require(CHROMIUM is not None, "Debian's chromium is not installed (make browser)")
    require(AXE.exists(), "axe-core is not installed (npm ci)")
    require(
        (ROOT / "static/assets/govuk-frontend.min.css").exists(), "assets not built (make assets)"
    )
    tmp = tmp_path_factory.mktemp("browser")
    web_port, smtp_port = free_port(), free_port()
    env = {
        **os.environ,
        "SIGNOFF_ENV": "test",
        "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp / 'signoff.db'}",
        "SIGNOFF_SECRET_KEY": "browser-test-secret-key-0123456789abcdef",
        "SIGNOFF_BASE_URL": f"http://127.0.0.1:{web_port}",
        "SIGNOFF_SMTP_PORT": str(smtp_port),
        "SIGNOFF_MAILBOX_DIR": str(tmp / "mailbox"),  # the Demo mailbox page reads it
    }
    py = sys.executable
    subprocess.run(
        [py, "-m", "cli.main", "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    subprocess.run(
        [py, "-m", "cli.main", "load-demo"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    maildir = tmp / "mailbox"
    smtp = subprocess.Popen(
        [
            py,
            "-c",
            "import sys, time; from core import capture_smtp; "
            f"capture_smtp.start(port={smtp_port}, "
            f"folder=__import__('pathlib').Path(r'{maildir}')); "
            "time.sleep(3600)",
        ],
        env=env,
        cwd=ROOT,
    )
    web = subprocess.Popen(
        [py, "-m", "uvicorn", "api.main:app", "--port", str(web_port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{web_port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/sign-in", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        pytest.fail("the web app did not start")

    def deliver() -> None:
        done = subprocess.run(
            [py, "-m", "cli.main", "outbox", "deliver", "--once"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr

    def cli(*args: str) -> str:
        done = subprocess.run(
            [py, "-m", "cli.main", *args], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    yield {"base": base, "maildir": maildir, "deliver": deliver, "cli": cli}
    for proc in (web, smtp):
        proc.terminate()
        proc.wait(timeout=10)


def _mail_to(maildir: Path, address: str, subject_part: str) -> str:
    """The text body of the newest caught email to `address` mentioning `subject_part`."""
    found = []
    for folder in ("new", "cur"):
        for path in (maildir / folder).glob("*") if (maildir / folder).exists() else []:
            msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            body = msg.get_body(("plain",)).get_content()
            if address in str(msg["To"]) and subject_part in str(msg["Subject"]) + body:
                found.append((path.stat().st_mtime, body))
    assert found, f"no email to {address} about {subject_part!r}"
    return max(found)[1]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield b
        b.close()


def _axe(page) -> list[dict]:
    """WCAG 2.0/2.1/2.2 A and AA violations on the current page."""
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"""
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
    ]


def _check(page, checked: dict) -> None:
    violations = _axe(page)
    # Keyed by address and heading: one address shows several states (draft, then submitted).
    checked[(page.url, page.inner_text("h1"))] = violations
    assert violations == [], json.dumps(violations, indent=1)


def test_raise_impact_and_sponsor_approval_in_chromium(live_app, browser):
    base, maildir, deliver = live_app["base"], live_app["maildir"], live_app["deliver"]
    checked: dict[str, list] = {}
    page = browser.new_context(bypass_csp=True).new_page()

    # An officer (the PM here) signs in by emailed link.
    page.goto(f"{base}/sign-in")
    _check(page, checked)
    page.click("button:has-text('Email me a sign-in link')")  # no address: an error summary
    assert page.locator(".govuk-error-summary").is_visible()
    _check(page, checked)
    page.fill("#email", "Paul.Knight@scambs.example")
    page.click("button:has-text('Email me a sign-in link')")
    assert "Check your email" in page.inner_text("h1")
    _check(page, checked)
    deliver()
    mail = _mail_to(maildir, "paul.knight@scambs.example", "sign-in")
    link = re.search(r"http://\S+/sign-in/\S+", mail)
    assert link, mail
    page.goto(link.group(0))
    _check(page, checked)
    page.click("button:has-text('Sign in')")
    assert page.url.endswith("/rfcs")
    _check(page, checked)

    # Raise an RFC on the CSE project, with hostile text that must come back escaped.
    page.goto(f"{base}/projects/CSE")
    _check(page, checked)
    page.click("text=Raise a Request for Change")
    _check(page, checked)
    page.click("button:has-text('Submit for impact analysis')")  # empty: errors first
    assert page.locator(".govuk-error-summary").is_visible()
    _check(page, checked)
    page.fill("#title", "Add a <script>alert(1)</script> workshop")
    page.fill("#description", "Run a fourth Getting Ready workshop for service managers.")
    page.fill("#expected_benefits", "All managers trained before stage 2.")
    page.click("button:has-text('Submit for impact analysis')")
    assert "Impact analysis" in page.inner_text(".govuk-tag")
    assert "<script>alert(1)</script>" in page.inner_text("h1")  # shown as text, not run
    _check(page, checked)

    # The PM records the impact: it extends the timescale, so it is major.
    page.click("text=Record the impact analysis")
    _check(page, checked)
    page.fill("#days_of_work", "3")
    page.fill("#products_affected", "Stage 2 plan")
    page.check("#extends_timescale")
    page.check("#needs_extra_resources-2")
    page.fill("#cost", "0")
    page.fill("#recommendation", "Approve: one extra workshop in March.")
    page.click("button:has-text('Record impact analysis')")
    assert "Awaiting approval" in page.inner_text(".govuk-tag")
    assert "major" in page.inner_text("body")
    rfc_url = page.url.split("?")[0]
    _check(page, checked)

    # The sponsor opens the link from the email (no sign-in) and approves.
    deliver()
    mail = _mail_to(maildir, "steve.hampson@scambs.example", "workshop")
    link = re.search(r"http://\S+/approvals/\S+", mail)
    assert link, mail
    sponsor = browser.new_context(bypass_csp=True).new_page()
    sponsor.goto(link.group(0))
    assert "Approve or reject" in sponsor.inner_text("h1")
    _check(sponsor, checked)
    sponsor.click("button:has-text('Record decision')")  # nothing chosen: an error, no decision
    assert sponsor.locator(".govuk-error-summary").is_visible()
    _check(sponsor, checked)
    sponsor.check("#decision")
    sponsor.fill("#reason", "Agreed at the Project Group.")
    sponsor.click("button:has-text('Record decision')")
    assert "approved" in sponsor.inner_text("h1")
    _check(sponsor, checked)
    sponsor.goto(link.group(0))  # the used link shows the decision already made
    assert "already been decided" in sponsor.inner_text("h1")
    _check(sponsor, checked)

    # Everyone involved sees the history; the printable RFC follows Appendix 7.
    page.goto(rfc_url)
    body = page.inner_text("body")
    assert "Approved" in body and "via emailed link" in body
    _check(page, checked)
    page.goto(rfc_url + "/print")
    assert "Part 2" in page.inner_text("body")
    _check(page, checked)
    assert len(checked) >= 10
