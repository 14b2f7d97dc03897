"""The service-planning pages in real headless Chromium, with the app's real Content-Security-
Policy: each page in its main states, as the performance team, a plan's owner and another
officer, including forms sent back with errors. axe-core finds no WCAG 2.2 A/AA violation,
hostile plan text stays text, nothing logs a console error, and no page scrolls sideways on a
390px phone (a wide table scrolls in its own box).

The world is this year's: the cycle whose plans start next April, at its usual dates, with a
plan in every status, and last year's cycle with the approved plan it rolled forward from and
a plan that missed its sign-off. Full-page screenshots go to /tmp/planning_shots (or
$PLANNING_SHOTS) for people to look at.
"""

from __future__ import annotations

import functools
import os
import re
from datetime import UTC, datetime
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
HOSTILE = "<img src=/x9 onerror=window.pwned=1><script>window.pwned=2</script> {{7*7}} <b>b9</b>"

OTHERS_OWNER = "gemma.barron@scambs.example"  # owns a plan that missed last year's sign-off

pytestmark = pytest.mark.browser


def _year() -> int:
    """The year this year's plans start (April): the cycle being drafted or signed now."""
    today = datetime.now(UTC).date()
    return today.year + (1 if today.month >= 4 else 0)


def _at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=UTC)


def _sign(plan_id: int, emails: list[str], answer: str = "sign", comment: str = "") -> None:
    from support.performance import registered
    from support.planning import links, respond

    by_email = {p.email: p for p in registered().values()}
    raw = links(plan_id)
    for email in emails:
        respond(raw[by_email[email].id], answer, comment)


def _last_year(admin: Any, last: int) -> dict[str, int]:
    """Last year's cycle: the CCS plan approved in February, another never submitted."""
    from support.planning import OWNER, PAIRS, add_plan, edit, open_cycle, plan, submit
    from test_plan_pages import content

    from core import clock

    with clock.frozen(_at(f"{last - 1}-06-01")):
        open_cycle(admin, last)
        old = add_plan(admin, last)
        late = add_plan(admin, last, area="Planning and New Communities", owner_email=OTHERS_OWNER)
    with clock.frozen(_at(f"{last}-02-10")):
        edit(old.id, admin, content())
        edit(late.id, admin, {"sections": {"about": {"fields": {"description": "Draft."}}}})
        submit(old.id, admin, "The plan for the Portfolio Holders' meeting of 11 March.")
    with clock.frozen(_at(f"{last}-02-20")):
        _sign(old.id, [email for _, email in PAIRS] + [OWNER])
    assert plan(old.id).status == "approved"
    return {"old": old.id, "late": late.id}


def _this_year(admin: Any, year: int) -> dict[str, int]:
    """This year's cycle, at its usual dates: a plan in every status, one with hostile text."""
    from support.planning import OWNER, PAIRS, add_plan, edit, open_cycle, submit
    from test_plan_pages import OTHERS, content

    from core import clock

    with clock.frozen(_at(f"{year - 1}-06-01")):
        open_cycle(admin, year)
        ids = {"drafting": add_plan(admin, year).id}  # rolled forward from last year's
        for status, (area, email, title) in OTHERS.items():
            extra = {"owner_title": title} if title else {}
            ids[status] = add_plan(admin, year, area=area, owner_email=email, **extra).id
    hostile = content()
    hostile["sections"]["about"]["fields"]["description"] = HOSTILE
    phs = [email for _, email in PAIRS]
    with clock.frozen(_at(f"{year - 1}-11-20")):
        for status in ("submitted", "changes_asked", "approved"):
            edit(ids[status], admin, hostile if status == "changes_asked" else content())
            submit(ids[status], admin, "For sign-off before 31 March.")
        _sign(ids["submitted"], phs[:3])
        _sign(ids["approved"], [*phs, OWNER])
        _sign(ids["changes_asked"], phs[:1], "changes", f"Please fix: {HOSTILE}")
    return ids


def _build() -> dict[str, Any]:
    """Last year's cycle and this year's, made through the services with the clock set to each
    moment; sessions for the performance team, the CCS plan's owner and another officer."""
    from support.factories import Factory
    from support.performance import import_people, registered
    from support.planning import import_councillors

    from core import clock

    year = _year()
    with clock.frozen(_at(f"{year - 2}-06-01")):
        import_people()
        import_councillors()
        factory = Factory()
        admin = factory.person("Richard Performance", admin=True)
    world = _last_year(admin, year - 1) | {"ids": _this_year(admin, year)}
    people = registered()
    cookies = {  # signed in now: a session made under a frozen clock would have expired
        "admin": factory.sign_in(admin),
        "owner": factory.sign_in(people["Paul Howes"]),
        "officer": factory.sign_in(people["Ian Salter"]),
    }
    return world | {"year": year, "last": year - 1, "cookies": cookies}


@pytest.fixture(scope="module")
def live(tmp_path_factory):  # type: ignore[no-untyped-def]
    require_chromium()
    with served(tmp_path_factory.mktemp("planning_pages"), _build, secret=SECRET) as (base, world):
        yield world | {"base": base}


@pytest.fixture(scope="module")
def tabs(live):  # type: ignore[no-untyped-def]
    """One browser tab per person, each recording console errors."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        out = {}
        for who, cookie in live["cookies"].items():
            context = browser.new_context()  # the app's real CSP applies
            context.add_cookies([{"name": "signoff_session", "value": cookie, "url": live["base"]}])
            tab = context.new_page()
            tab.problems = []
            tab.on(
                "console", lambda m, t=tab: t.problems.append(m.text) if m.type == "error" else None
            )
            tab.on("pageerror", lambda e, t=tab: t.problems.append(str(e)))
            out[who] = tab
        yield out
        browser.close()


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()


def check(tab: Any, name: str, status: int, response: Any = None) -> list[str]:
    """axe, hostile text, console, a 390px phone; a full-page screenshot of each width."""
    problems = []
    if response is not None and response.status != status:
        problems.append(f"{name}: status {response.status}, want {status}")
    if status == 422 and not tab.title().startswith("Error: "):  # a form sent back
        problems.append(f"{name}: not shown with its errors ({tab.title()!r})")
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
    if tab.evaluate("window.pwned") is not None or tab.locator("b:text-is('b9')").count():
        problems.append(f"{name}: hostile text became markup")
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    tab.set_viewport_size({"width": 390, "height": 800})
    width = tab.evaluate("document.documentElement.scrollWidth")
    if width > 390:
        problems.append(f"{name}: {width}px wide on a 390px phone")
    tab.set_viewport_size({"width": 1280, "height": 800})
    expected = f"the server responded with a status of {status}"
    problems += [f"{name}: console {m}" for m in tab.problems if expected not in m]
    tab.problems.clear()
    return problems


def visit(live: Any, tab: Any, name: str, path: str, status: int = 200) -> list[str]:
    return check(tab, name, status, tab.goto(live["base"] + path))


def test_the_planning_pages_in_chromium(live, tabs):
    y, ids, p = live["year"], live["ids"], "/planning/plans/"
    admin, owner, officer = tabs["admin"], tabs["owner"], tabs["officer"]
    problems: list[str] = []
    pages = [
        (admin, "cycles_admin", "/planning", 200),
        (officer, "cycles_officer", "/planning", 200),
        (admin, "dashboard_admin", f"/planning/{y}", 200),
        (officer, "dashboard_last_year", f"/planning/{live['last']}", 200),
        (admin, "calendar", f"/planning/{y}/calendar", 200),
        (admin, "plan_new", f"/planning/{y}/plans/new", 200),
        (owner, "plan_drafting_owner", f"{p}{ids['drafting']}", 200),
        (admin, "plan_not_started_admin", f"{p}{ids['not_started']}", 200),
        (owner, "plan_submitted_owner", f"{p}{ids['submitted']}", 200),
        (officer, "plan_changes_asked_officer", f"{p}{ids['changes_asked']}", 200),
        (officer, "plan_approved_officer", f"{p}{ids['approved']}", 200),
        (owner, "section_finance", f"{p}{ids['drafting']}/sections/finance", 200),
        (owner, "section_risks", f"{p}{ids['drafting']}/sections/risks", 200),
        (admin, "section_about_submitted", f"{p}{ids['submitted']}/sections/about", 200),
        (owner, "operational", f"{p}{ids['drafting']}/operational", 200),
        (owner, "improvement", f"{p}{ids['drafting']}/improvement", 200),
        (admin, "signatories_submitted", f"{p}{ids['submitted']}/signatories", 200),
        (officer, "print_approved", f"{p}{live['old']}/print", 200),
        (officer, "refused_section_officer", f"{p}{ids['drafting']}/sections/about", 403),
        (officer, "print_not_approved", f"{p}{ids['submitted']}/print", 409),
    ]
    for tab, name, path, status in pages:
        problems += visit(live, tab, name, path, status)

    problems += _forms_with_errors(live, tabs)
    assert not problems, "\n".join(problems)
    assert re.search(
        r"\d+ days late", tabs["officer"].goto(live["base"] + f"/planning/{live['last']}").text()
    )


def _forms_with_errors(live: Any, tabs: dict[str, Any]) -> list[str]:
    """Forms typed into and sent back with their errors shown, as a person would see them."""
    y, ids, p = live["year"], live["ids"], "/planning/plans/"
    admin, owner = tabs["admin"], tabs["owner"]
    problems: list[str] = []
    owner.goto(live["base"] + f"{p}{ids['drafting']}/sections/finance")
    owner.fill("#row-0-year1", "12,34x")
    owner.get_by_role("button", name="Save the section").click()
    problems += check(owner, "section_finance_error", 422)
    if owner.locator(".govuk-error-summary").count() != 1:
        problems.append("section_finance_error: no error summary")
    owner.goto(live["base"] + f"{p}{ids['drafting']}/improvement")
    owner.fill("#imp-1-action", "Tell Us Once")
    owner.fill("#imp-1-completion", "2011-13")
    owner.get_by_role("button", name="Save the improvement plan").click()
    problems += check(owner, "improvement_error", 422)
    owner.goto(live["base"] + f"{p}{ids['drafting']}/operational")
    owner.set_input_files(
        "#file",
        files=[
            {
                "name": "plan.csv",
                "mimeType": "text/csv",
                "buffer": b"indicator,target_2010_11\n,5\nPP4 - ok,<5\n,7\n",
            }
        ],
    )
    owner.get_by_role("button", name="Import and replace the rows").click()
    problems += check(owner, "operational_error", 422)
    admin.goto(live["base"] + f"/planning/{y}/plans/new")
    admin.get_by_role("button", name="Add the plan").click()
    problems += check(admin, "plan_new_error", 422)
    admin.goto(live["base"] + f"{p}{ids['submitted']}/signatories")
    admin.fill("#sig-6-email", "nobody@scambs.example")
    admin.select_option("#sig-6-role", "portfolio_holder")
    admin.get_by_role("button", name="Save the signatories").click()
    problems += check(admin, "signatories_error", 422)
    return problems
