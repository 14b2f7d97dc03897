"""The front end as built by `make assets`, in real headless Chromium with the app's real CSP.

No test here bypasses the Content-Security-Policy: every page is loaded as a browser would load
it, and any CSP violation fails the test. Checked: the council's font stack (no GDS Transport, no
font files, no crown), GOV.UK Frontend's JavaScript (error summary focus, the service navigation's
menu button) and the pages without JavaScript, and /api/docs served from the app itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from support.browser import CHROMIUM, CHROMIUM_ARGS, free_port, require

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "static" / "assets"
COUNCIL_FONT = "arial, sans-serif"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    """The app under uvicorn on a migrated SQLite database."""
    require(CHROMIUM is not None, "Debian's chromium is not installed (make browser)")
    require(
        (ASSETS / "govuk-frontend.min.css").exists()
        and (ASSETS / "swagger-ui" / "swagger-ui-bundle.js").exists(),
        "assets not built (make assets)",
    )
    tmp = tmp_path_factory.mktemp("frontend")
    port = free_port()
    env = {
        **os.environ,
        "SIGNOFF_ENV": "test",
        "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp / 'signoff.db'}",
        "SIGNOFF_SECRET_KEY": "frontend-test-secret-key-0123456789abcdef",
        "SIGNOFF_BASE_URL": f"http://127.0.0.1:{port}",
        "SIGNOFF_SMTP_PORT": str(free_port()),
    }
    subprocess.run(
        [sys.executable, "-m", "cli.main", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/sign-in", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        web.terminate()
        pytest.fail("the web app did not start")
    yield base
    web.terminate()
    web.wait(timeout=10)


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


class Watched:
    """A page in a fresh context (CSP enforced) that records CSP violations, errors, requests."""

    def __init__(self, browser, **context_options) -> None:
        self.js = context_options.get("java_script_enabled", True)
        self.context = browser.new_context(**context_options)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on(
            "response",
            lambda r: (
                self.failed.append(r.url) if r.status >= 400 and "/sign-in" not in r.url else None
            ),
        )  # an empty sign-in answers 422
        self.page.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', e => "
            "window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample));"
        )

    def violations(self) -> list[str]:
        """CSP violations: from the console, and from the page's own listener when scripts run."""
        seen = [m for m in self.console if "Content Security Policy" in m]
        if self.js:
            seen += self.page.evaluate("window.__csp || []")
        return seen

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser):
    opened: list[Watched] = []

    def open_page(**options) -> Watched:
        w = Watched(browser, **options)
        opened.append(w)
        return w

    yield open_page
    for w in opened:
        w.close()


def _submit_empty_sign_in(w: Watched, base: str) -> None:
    w.page.goto(f"{base}/sign-in")
    w.page.click("button:has-text('Email me a sign-in link')")
    w.page.wait_for_selector(".govuk-error-summary")


def test_pages_use_the_council_font_and_no_gov_uk_font_or_crown(base_url, watched):
    w = watched(viewport={"width": 1024, "height": 768})
    _submit_empty_sign_in(w, base_url)
    fonts = w.page.evaluate(
        """() => ['body', 'h1', '.govuk-body', '.govuk-button', '.govuk-error-summary__title',
                  '.govuk-service-navigation__service-name']
             .map(s => [s, getComputedStyle(document.querySelector(s)).fontFamily])"""
    )
    assert {selector: family.lower() for selector, family in fonts} == {
        selector: COUNCIL_FONT for selector, _ in fonts
    }
    assert w.page.evaluate("document.fonts.size") == 0  # no @font-face at all
    fetched = [urlsplit(u).path for u in w.requests]
    assert not [p for p in fetched if p.endswith((".woff", ".woff2", ".ttf", ".otf"))], fetched
    assert not [p for p in fetched if "govuk-" in p and not p.startswith("/assets/govuk-frontend")]
    assert not [p for p in fetched if "crown" in p or "crest" in p or "/images/" in p], fetched
    icons = w.page.eval_on_selector_all(
        "link[rel~=icon], link[rel=apple-touch-icon], link[rel=mask-icon], link[rel=manifest]",
        "links => links.map(l => l.getAttribute('href'))",
    )
    assert icons and all(h.startswith("/assets/icons/signoff") for h in icons), icons
    for href in icons:
        assert w.context.request.get(f"{base_url}{href}").ok, href
    assert w.failed == []
    assert w.violations() == []

    # What was built: no GDS Transport in the stylesheet, no GOV.UK font or crown files served.
    css = (ASSETS / "govuk-frontend.min.css").read_text()
    assert "GDS Transport" not in css and "@font-face" not in css
    assert not (ASSETS / "fonts").exists() and not (ASSETS / "images").exists()
    assert not list(ASSETS.rglob("*.woff*")) and not list(ASSETS.rglob("govuk-*.png"))


def test_error_summary_takes_focus_with_javascript(base_url, watched):
    w = watched()
    _submit_empty_sign_in(w, base_url)
    assert "govuk-frontend-supported" in w.page.get_attribute("body", "class")
    w.page.wait_for_function(
        "document.activeElement && document.activeElement.classList.contains("
        "'govuk-error-summary')",
        timeout=5000,
    )
    assert w.violations() == []
    assert not [m for m in w.console if m.startswith(("pageerror", "warning"))], w.console


def test_service_navigation_menu_toggles_on_a_phone(base_url, watched):
    w = watched(viewport={"width": 375, "height": 740})
    w.page.goto(f"{base_url}/sign-in")
    toggle = w.page.locator(".govuk-service-navigation__toggle")
    items = w.page.locator(".govuk-service-navigation__list")
    toggle.wait_for(state="visible", timeout=5000)
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not items.is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert items.is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not items.is_visible()
    assert w.violations() == []


def test_pages_work_without_javascript(base_url, watched):
    w = watched(java_script_enabled=False, viewport={"width": 375, "height": 740})
    _submit_empty_sign_in(w, base_url)
    assert w.page.locator(".govuk-error-summary").is_visible()
    assert "email address" in w.page.inner_text(".govuk-error-summary").lower()
    # Without JavaScript there is no menu button and the navigation is simply shown.
    assert not w.page.locator(".govuk-service-navigation__toggle").is_visible()
    assert w.page.locator(".govuk-service-navigation__list").is_visible()
    assert w.violations() == []


def test_api_docs_are_served_by_the_app_under_its_csp(base_url, watched):
    w = watched(viewport={"width": 1200, "height": 900})
    response = w.page.goto(f"{base_url}/api/docs")
    assert response is not None and response.ok
    csp = response.headers["content-security-policy"]
    assert "unsafe-eval" not in csp and "unsafe-inline" not in csp.split("script-src")[1]
    w.page.wait_for_selector(".opblock", timeout=15000)
    operations = w.page.inner_text("#swagger-ui")
    assert "/api/v1/projects" in operations and "/api/v1/rfcs/" in operations
    assert w.page.locator(".opblock-post", has_text="/api/v1/projects").count() >= 1
    w.page.locator(".opblock-summary").first.click()  # an operation opens, with its schema
    w.page.wait_for_selector(".opblock-body", timeout=5000)
    hosts = {urlsplit(u).netloc for u in w.requests if u.startswith("http")}
    assert hosts == {urlsplit(base_url).netloc}, w.requests  # nothing from a CDN
    assert w.failed == []
    assert w.violations() == []
    assert not [m for m in w.console if m.startswith(("error", "pageerror"))], w.console
