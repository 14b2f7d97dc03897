"""The sign-off link page in real headless Chromium, as a Portfolio Holder arriving from the
email uses it, with the app's real Content-Security-Policy: in each state of the link (live,
a wrong answer corrected, signed, replaced by a newer version, not valid, a new link asked
for, changes asked) axe-core finds no WCAG 2.2 A/AA violation, the plan's hostile text stays
text, and a 390px phone never scrolls the page sideways.

Full-page screenshots go to /tmp/planning_shots (or $PLANNING_SHOTS), to look at.
"""

from __future__ import annotations

import functools
import os
from datetime import timedelta
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

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("PLANNING_SHOTS", "/tmp/planning_shots"))  # noqa: S108 - to look at
HOSTILE = "<b>bold-x7</b> <img src=/x7 onerror=window.pwned7=1> & done"

pytestmark = pytest.mark.browser


def _content(finance_supplied: bool) -> dict[str, Any]:
    """The demo's Community and Customer Services plan with the real operational plan; in
    version 2 Finance has supplied section 7, one target moved, one indicator went and one
    came, and an action's completion slipped."""
    from services.planning import demo
    from services.planning.operational_import import read_operational_plan
    from services.planning.targets import parse

    rows = read_operational_plan(demo.OPERATIONAL.read_bytes(), demo.OPERATIONAL.name)
    sections = {k: dict(v) for k, v in demo.SECTIONS.items()}
    sections["about"] = {
        "fields": {
            "description": demo.SECTIONS["about"]["fields"]["description"]
            + "\n\nOur teams:\n- Partnerships\n- Elections\n"
            + HOSTILE
        }
    }
    improvement = [dict(a) for a in demo.IMPROVEMENT]
    if finance_supplied:
        sections["finance"] = demo.FINANCE_SUPPLIED
        nine = next(r for r in rows if r.code == "NI014")
        nine.targets[1] = parse("21")
        rows = [r for r in rows if r.code != "PP7"]
        rows.insert(
            2,
            rows[0].model_copy(
                update={
                    "code": "",
                    "indicator": "NEW PI - % of residents who feel well informed",
                    "targets": [parse("60%"), parse("65%")],
                }
            ),
        )
        improvement[1]["completion"] = "2010-12"
    return {
        "sections": sections,
        "operational": [r.model_dump() for r in rows],
        "improvement": improvement,
    }


def _build() -> dict[str, str]:
    """Version 1 out five days ago (section 7 to follow); Cllr Hartley asked for changes;
    version 2 out yesterday, Cllr Cole has signed it. The raw links, by what they show."""
    from sqlmodel import select
    from support.factories import Factory
    from support.performance import import_people
    from support.planning import (
        PAIRS,
        add_plan,
        edit,
        import_councillors,
        links,
        open_cycle,
        respond,
        submit,
    )

    from core import clock, tokens
    from core.db import read_session
    from models import Person

    now = clock.now()
    with clock.frozen(now - timedelta(days=6)):
        import_people()
        import_councillors()
        admin = Factory().person("Richard Performance", admin=True)
        open_cycle(admin)
        plan = add_plan(admin)
    with read_session() as s:
        people = {p.email: p for p in s.exec(select(Person))}
    owner = people["paul.howes@scambs.example"]
    hartley, cole, dunn, ellis, fisher = (people[e] for _, e in PAIRS)
    with clock.frozen(now - timedelta(days=5)):
        edit(plan.id, owner, _content(finance_supplied=False))
        submit(
            plan.id,
            owner,
            "Budget information is outstanding at section 7: Finance will provide it.",
        )
    old = links(plan.id)
    with clock.frozen(now - timedelta(days=4)):
        respond(old[hartley.id], "changes", "Please add the budget before I sign. " + HOSTILE)
    with clock.frozen(now - timedelta(days=1)):
        edit(plan.id, owner, _content(finance_supplied=True))
        submit(plan.id, owner, "Section 7 now has the budget from Finance.")
        new = links(plan.id)
        respond(new[cole.id])
    return {
        "live": new[dunn.id],
        "corrected": new[ellis.id],
        "signed": new[fisher.id],
        "replaced": old[dunn.id],
        "invalid": tokens.new_random_token(),
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory):  # type: ignore[no-untyped-def]
    require_chromium()
    with served(tmp_path_factory.mktemp("signoff"), _build, secret=SECRET) as (base, raw):
        yield {"base": base, "raw": raw}


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()


def _check(tab: Any, name: str, status: int, says: str, response: Any) -> list[str]:
    """Every problem with the page the tab shows, as short sentences; and its screenshots."""
    problems = []
    if response is None or response.status != status:
        problems.append(f"{name}: status {response and response.status}, not {status}")
    heading = tab.locator("h1").first.inner_text()
    if says not in tab.locator("main").inner_text():
        problems.append(f"{name}: does not say {says!r} (headed {heading!r})")
    tab.evaluate(_axe_source())  # evaluated by the driver: no inline script for the CSP
    result = tab.evaluate(
        "async (tags) => await axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    problems += [
        f"{name}: axe {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]
    live_markup = tab.evaluate(
        "window.pwned7 !== undefined || [...document.querySelectorAll('b, img')]"
        ".some(e => e.textContent === 'bold-x7' || e.getAttribute('src') === '/x7')"
    )
    if live_markup:
        problems.append(f"{name}: hostile text became markup")
    problems += [f"{name}: console {m}" for m in tab.problems if f"status of {status}" not in m]
    tab.problems.clear()
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    tab.set_viewport_size({"width": 390, "height": 800})
    width = tab.evaluate("document.documentElement.scrollWidth")
    if width > 390:
        problems.append(f"{name}: the page is {width}px wide on a 390px phone")
    tab.screenshot(path=str(SHOTS / f"{name}_390px.png"), full_page=True)
    tab.set_viewport_size({"width": 1280, "height": 800})
    return problems


def test_the_signoff_link_page_in_each_state(live):
    from playwright.sync_api import sync_playwright

    base, raw = live["base"], live["raw"]
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        tab = browser.new_context().new_page()  # no session: a councillor has no account
        tab.set_viewport_size({"width": 1280, "height": 800})
        tab.problems = []
        tab.on(
            "console",
            lambda m: tab.problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        tab.on("pageerror", lambda e: tab.problems.append(str(e)))

        def visit(name: str, status: int, says: str) -> None:
            problems.extend(
                _check(tab, name, status, says, tab.goto(base + f"/plan-signoff/{raw[name]}"))
            )

        visit("live", 200, "What changed since version 1")
        # A councillor asks for changes but forgets to say what: the form says so, kept.
        tab.goto(base + f"/plan-signoff/{raw['corrected']}")
        tab.get_by_label("Ask for changes").check()
        with tab.expect_navigation() as nav:
            tab.get_by_role("button", name="Send my answer").click()
        problems += _check(tab, "corrected", 422, "Say what should change", nav.value)
        if not tab.get_by_label("Ask for changes").is_checked():
            problems.append("corrected: the answer chosen was lost")
        # Another signs through the form, then opens the link again.
        tab.goto(base + f"/plan-signoff/{raw['signed']}")
        tab.get_by_label("Sign the plan").check()
        with tab.expect_navigation() as nav:
            tab.get_by_role("button", name="Send my answer").click()
        problems += _check(tab, "signed_done", 200, "Your signature has been recorded", nav.value)
        visit("signed", 410, "You signed it on")
        visit("replaced", 409, "has been replaced by version 2")
        visit("invalid", 404, "This link is not valid")
        tab.get_by_label("Your email address").fill("someone@example.com")
        with tab.expect_navigation() as nav:
            tab.get_by_role("button", name="Send me a new link").click()
        problems += _check(tab, "resend", 200, "Check your email", nav.value)
        # Last, as it sends the plan back: the councillor corrects the answer and says what.
        tab.goto(base + f"/plan-signoff/{raw['corrected']}")
        tab.get_by_label("Ask for changes").check()
        tab.get_by_label("Your comments").fill("Please add the equality actions.\n" + HOSTILE)
        with tab.expect_navigation() as nav:
            tab.get_by_role("button", name="Send my answer").click()
        says = "Your request for changes has been sent to Paul Howes"
        problems += _check(tab, "changes_done", 200, says, nav.value)
        browser.close()
    assert not problems, "\n".join(problems)
