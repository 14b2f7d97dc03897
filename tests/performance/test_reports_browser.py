"""The performance reports in real headless Chromium, with the app's real Content-Security-Policy:
axe-core finds no WCAG 2.2 A/AA violation, hostile measure names stay text, a 390px phone
never scrolls the page sideways, and the print layout drops the menus and fits landscape A4.

Screenshots (desktop, 390px, print) go to /tmp/report_shots (or $REPORT_SHOTS) to look at.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

import pytest
from support.browser import (
    AXE,
    AXE_TAGS,
    CHROMIUM,
    CHROMIUM_ARGS,
    require_chromium,
    served,
)
from support.databases import SECRET
from support.factories import Factory
from test_reports import build, build_other_scorecards

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("REPORT_SHOTS", "/tmp/report_shots"))  # noqa: S108 - to look at
BASE = "/performance/scorecards/CCS-0910"
PAGES = {
    "list": "/performance?period=2009-12",
    "detail": f"{BASE}?period=2009-12",
    "summary": f"{BASE}/summary?period=2009-12",
    "completeness": f"{BASE}/completeness?period=2009-12",
    "late": f"{BASE}/late?period=2009-12",
    "history": f"{BASE}/measures/C1",
}
# A4 landscape less the 10 mm margins of the print stylesheet, in CSS pixels (96 per inch).
A4_LANDSCAPE_CONTENT = round((297 - 20) / 25.4 * 96)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The scorecard of test_reports.py in a migrated SQLite file, the app under uvicorn, and
    a signed-in officer's session cookie."""
    require_chromium()

    def build_all() -> str:
        factory = Factory()
        build(factory)
        build_other_scorecards(factory)
        return factory.sign_in(factory.person("Olive Officer"))

    with served(tmp_path_factory.mktemp("reports"), build_all, secret=SECRET) as (base, cookie):
        yield {"base": base, "cookie": cookie}


@pytest.fixture(scope="module")
def page(live):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context()  # the app's real CSP applies
        context.add_cookies(
            [{"name": "signoff_session", "value": live["cookie"], "url": live["base"]}]
        )
        tab = context.new_page()
        tab.problems = []
        tab.on(
            "console",
            lambda m: tab.problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        tab.on("pageerror", lambda e: tab.problems.append(str(e)))
        yield tab
        browser.close()


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()


def _axe(tab: Any) -> list[str]:
    tab.evaluate(_axe_source())  # evaluated by the driver: no inline script for the CSP
    result = tab.evaluate(
        "async (tags) => await axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        f"{v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def _shot(tab: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_reports_in_chromium(live, page):
    problems: list[str] = []
    for name, path in PAGES.items():
        page.set_viewport_size({"width": 1280, "height": 800})
        page.problems.clear()
        response = page.goto(live["base"] + path)
        assert response is not None and response.status == 200, path
        problems += [f"{name}: axe {v}" for v in _axe(page)]
        if page.evaluate("window.x") is not None or page.locator("b:text-is('bold')").count():
            problems.append(f"{name}: a hostile measure name became markup")
        _shot(page, f"{name}_desktop")
        page.set_viewport_size({"width": 390, "height": 800})
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => "
                "e.getBoundingClientRect().right > 391).slice(0, 3).map(e => e.tagName + '.' + "
                "e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
            )
            problems.append(f"{name}: the page is {width}px wide on a 390px phone: {wide}")
        _shot(page, f"{name}_390px")
        problems += [f"{name}: console {m}" for m in page.problems]
    assert not problems, "\n".join(problems)


def test_the_detail_report_prints_on_landscape_a4_without_the_menus(live, page):
    page.set_viewport_size({"width": A4_LANDSCAPE_CONTENT, "height": 794})
    page.goto(live["base"] + PAGES["detail"])
    page.emulate_media(media="print")
    try:
        hidden = page.evaluate(
            """() => ['.govuk-service-navigation', '.govuk-footer', '.govuk-breadcrumbs',
                      'form[aria-label="Choose the period"]', '.signoff-report-nav']
                .map(s => document.querySelector(s))
                .filter(e => e && e.checkVisibility())
                .map(e => e.className || e.tagName)"""
        )
        assert hidden == [], f"shown in print: {hidden}"
        widths = page.evaluate(
            "[...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().right)"
        )
        assert widths and max(widths) <= A4_LANDSCAPE_CONTENT, widths
        _shot(page, "detail_print")
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    finally:
        page.emulate_media(media="screen")
    boxes = set(re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf))
    assert boxes and all(float(w) > float(h) for w, h in boxes), boxes  # landscape
    assert all(abs(float(w) - 841.9) < 1 for w, _ in boxes), boxes  # A4: 297 mm wide
    (SHOTS / "detail_print.pdf").write_bytes(pdf)
