"""The README's "Try this", followed in Chromium exactly as written, as each person in it.

The people, buttons, links and subjects the test uses are read from (or checked against) the
README, so the walkthrough and the product cannot drift apart unnoticed. The demo delivers mail
within seconds through its Prefect runner; here `deliver()` does the same at each step.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from test_browser import _check, browser, live_app  # noqa: F401 - fixtures used below

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
TRY_THIS = README.split("Try this", 1)[1].split("## ", 1)[0]

pytestmark = pytest.mark.browser


def said(text: str) -> str:
    """A label the README tells the reader to use: it must be in the README as written."""
    assert f"*{text}*" in TRY_THIS, f"the README's walkthrough no longer says *{text}*"
    return text


def step(n: int) -> str:
    return re.split(r"\n\d+\. ", "\n" + TRY_THIS.split("\n1. ", 1)[1].join(["1. ", ""]))[n]


def people() -> list[str]:
    return list(dict.fromkeys(re.findall(r"[a-z.]+@scambs\.example", TRY_THIS)))


def sign_in(page, base: str, email: str, deliver, checked) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/sign-in")
    page.fill("#email", email)
    page.click(f"button:has-text('{said('Email me a sign-in link')}')")
    deliver()
    page.click("a:has-text('Demo mailbox')")
    page.locator("tr", has_text=email).locator(
        f"a:has-text('{said('Your Signoff sign-in link')}')"
    ).first.click()
    _check(page, checked)
    page.locator("a", has_text="/sign-in/").first.click()
    page.click(f"button:has-text('{said('Sign in')}')")
    assert page.url.endswith("/rfcs"), page.url


def test_the_readme_walkthrough_works_as_written(live_app, browser):  # noqa: F811
    base, deliver = live_app["base"], live_app["deliver"]
    officer, pm, sponsor, admin, late_officer, councillor, *signers = people()
    assert (officer, pm, sponsor, admin, late_officer, councillor) == (
        "richard.may@scambs.example",
        "paul.knight@scambs.example",
        "steve.hampson@scambs.example",
        "emma.george@scambs.example",
        "ian.salter@scambs.example",
        "cllr.dunn@scambs.example",
    )
    assert signers == [
        "cllr.ellis@scambs.example",
        "cllr.fisher@scambs.example",
        "paul.howes@scambs.example",
    ]
    checked: dict[str, list] = {}
    page = browser.new_context(bypass_csp=True).new_page()  # to inject axe-core

    # 1. An officer raises a change on the CSE project.
    sign_in(page, base, officer, deliver, checked)
    page.click("a:has-text('Projects')")
    page.click("a:has-text('Customer Service Excellence Standard')")
    register = page.inner_text("table")
    assert "CSE-RFC-003" in register and "Awaiting approval" in register
    assert "28 February 2010" in step(1)
    stage1 = page.locator("tr", has_text="Organisational Preparation").inner_text()
    assert stage1.count("28 February 2010") == 2, stage1  # baseline and scheduled
    _check(page, checked)
    page.click(f"text={said('Raise a Request for Change')}")
    page.fill("#title", "Run a fourth Getting Ready workshop")
    page.fill("#description", "One more workshop for service managers who missed the first three.")
    page.fill("#expected_benefits", "Every service manager is ready before stage 2.")
    page.click(f"button:has-text('{said('Submit for impact analysis')}')")
    assert "CSE-RFC-004" in step(1) and "CSE-RFC-004" in page.inner_text("h1")
    _check(page, checked)
    page.click("a:has-text('Sign out')")
    page.click("button:has-text('Sign out')")
    assert "You have signed out" in page.inner_text("body")

    # 2. The PM records the impact: minor, so the PM decides it.
    sign_in(page, base, pm, deliver, checked)
    waiting = page.locator("li", has_text="CSE-RFC-004")
    assert said("record the impact analysis") in waiting.inner_text()
    _check(page, checked)
    waiting.locator("a").click()
    page.fill("#days_of_work", "1")
    page.check("#extends_timescale-2")
    page.check("#needs_extra_resources-2")
    page.fill("#cost", "0")
    page.fill("#recommendation", "Book the room for 18 March.")
    page.click(f"button:has-text('{said('Record impact analysis')}')")
    assert "minor" in page.inner_text(".govuk-notification-banner")
    _check(page, checked)
    page.click(f"text={said('Approve or reject')}")
    page.check(f"label:has-text('{said('Approve the change')}')")
    page.click(f"button:has-text('{said('Record decision')}')")
    assert "Approved" in page.inner_text(".govuk-tag")
    _check(page, checked)
    deliver()

    # 3. The sponsor approves CSE-RFC-003 from the emailed link, without signing in.
    sponsor_page = browser.new_context(bypass_csp=True).new_page()  # to inject axe-core
    sponsor_page.goto(f"{base}/mailbox")
    subject = said("Approval needed: CSE-RFC-003 (major change)")
    sponsor_page.locator("tr", has_text=sponsor).locator(f"a:has-text('{subject}')").click()
    sponsor_page.locator("a", has_text="/approvals/").first.click()
    assert "Approve or reject CSE-RFC-003" in sponsor_page.inner_text("h1")
    _check(sponsor_page, checked)
    sponsor_page.check(f"label:has-text('{said('Approve the change')}')")
    sponsor_page.click(f"button:has-text('{said('Record decision')}')")
    assert "approved" in sponsor_page.inner_text("h1")
    _check(sponsor_page, checked)

    # 4. The administrator sees every RFC and every email.
    page.click("a:has-text('Sign out')")
    page.click("button:has-text('Sign out')")
    sign_in(page, base, admin, deliver, checked)
    page.click("a:has-text('All RFCs')")
    everything = page.inner_text("table")
    assert "CSE-RFC-003" in everything and "CSE-RFC-004" in everything
    _check(page, checked)
    page.click("a:has-text('Outbox')")
    assert "Sent" in page.inner_text("table")
    _check(page, checked)
    page.goto(f"{base}/rfcs/1")
    history = page.inner_text("#history ~ table")
    assert "Approved by Steve Hampson (via emailed link)" in history, history
    assert "Raised by Paul Knight" in history and "26 February 2010" in history

    page.click("a:has-text('Sign out')")
    page.click("button:has-text('Sign out')")

    # 5. A late officer enters their figures from the chase's link, without signing in.
    officer_page = browser.new_context(bypass_csp=True).new_page()
    officer_page.goto(f"{base}/mailbox")
    subject = said("Late: your performance figures for December 2009")
    officer_page.locator("tr", has_text=late_officer).locator(
        f"a:has-text('{subject}')"
    ).first.click()
    officer_page.locator("a", has_text="/figures/").first.click()
    assert "Enter your figures for December 2009" in officer_page.inner_text("h1")
    link = officer_page.url
    assert "six late figures" in " ".join(step(5).split())
    actuals = officer_page.locator("input[name$='_actual']:not([name$='ytd_actual'])")
    assert actuals.count() == 6
    _check(officer_page, checked)
    submit = said("Submit 6 figures")
    actuals.first.fill("lots")
    officer_page.click(f"button:has-text('{submit}')")
    assert "must be a number" in officer_page.inner_text(".govuk-error-summary")
    _check(officer_page, checked)
    for field in officer_page.locator("input[name$='_actual'], input[name$='_estimate']").all():
        if not field.get_attribute("name").endswith("ytd_actual"):
            field.fill("100")
    officer_page.click(f"button:has-text('{submit}')")
    assert said("Figures submitted") in officer_page.inner_text("h1")
    _check(officer_page, checked)
    officer_page.goto(link)
    assert "have been submitted" in officer_page.inner_text("h1")

    # 6. The reports, signed in as the officer of step 1.
    sign_in(page, base, officer, deliver, checked)
    page.click("a:has-text('Performance')")
    page.click("a:has-text('Community and Customer Services 09/10')")
    detail = page.inner_text("main")
    assert "December 2009" in detail and "GREY" in detail
    _check(page, checked)
    for report in (said("RAG summary"), said("Completeness"), said("Late figures")):
        page.click(f"a:has-text('{report}')")
        _check(page, checked)
    assert "Paul Knight" in page.inner_text("main")  # the late figures, by officer

    # 7. A chase happens on a later working day: the late officer, the responsible officer and
    # the line manager are told, and the performance team gets the list; once only.
    from datetime import date

    from core import clock

    later = clock.add_working_days(date.today(), 3)
    out = live_app["cli"]("performance", "chase", "--today", later.isoformat())
    assert "Reminded Paul Knight" in out and "Copied to Paul Swift" in out
    assert "Copied to Richard May" in out
    again = live_app["cli"]("performance", "chase", "--today", later.isoformat())
    assert "Reminded" not in again and "Copied" not in again

    # 8. A Portfolio Holder signs the service plan from the emailed link, without signing in.
    def sign_plan(email: str) -> Any:
        signer = browser.new_context(bypass_csp=True).new_page()
        signer.goto(f"{base}/mailbox")
        subject = said(
            "Please sign: Community and Customer Services service plan 2010/11, version 2"
        )
        signer.locator("tr", has_text=email).locator(f"a:has-text('{subject}')").first.click()
        signer.locator("a", has_text="/plan-signoff/").first.click()
        assert "Sign the Community and Customer Services service plan" in signer.inner_text("h1")
        signer.check(f"label:has-text('{said('Sign the plan')}')")
        return signer

    dunn = browser.new_context(bypass_csp=True).new_page()
    dunn.goto(f"{base}/mailbox")
    subject = said("Please sign: Community and Customer Services service plan 2010/11, version 2")
    dunn.locator("tr", has_text=councillor).locator(f"a:has-text('{subject}')").first.click()
    dunn.locator("a", has_text="/plan-signoff/").first.click()
    text = dunn.inner_text("main")
    assert said("What changed since version 1") in text and "Financial resources" in text
    assert "Cllr Carol Dunn" in text and "Finance" in step(8)
    _check(dunn, checked)
    dunn.check(f"label:has-text('{said('Sign the plan')}')")
    dunn.click(f"button:has-text('{said('Send my answer')}')")
    assert "You signed version 2" in dunn.inner_text("h1")
    _check(dunn, checked)

    # 9. The performance team's dashboard and the plan.
    sign_in(page, base, admin, deliver, checked)
    page.click("a:has-text('Service plans')")
    page.click("a:has-text('2010/11 to 2012/13')")
    row = page.locator("tr", has_text="Community and Customer Services").inner_text()
    assert "3 of 6 signed" in row and "3 of 6 signed" in step(9), row
    for name in ("Cllr David Ellis", "Cllr Eve Fisher", "Paul Howes"):
        assert name in row and name in step(9)
    _check(page, checked)
    page.click("a:has-text('Community and Customer Services')")
    plan = page.inner_text("main")
    for target in ("<5", "N/a", "2 out of 4 (09-10 assessment)"):
        assert target in plan and target in step(9)
    assert "Approved by" in plan
    _check(page, checked)
    plan_url = page.url

    # 10. The others sign: the plan is approved, printable, and measured next year.
    for email in signers:
        signer = sign_plan(email)
        signer.click(f"button:has-text('{said('Send my answer')}')")
    assert "the plan is approved" in signer.inner_text("main")
    deliver()
    page.goto(f"{base}/mailbox")
    approved = said("Approved: Community and Customer Services service plan 2010/11")
    assert page.locator(f"a:has-text('{approved}')").count() == 6
    page.goto(plan_url)
    page.click(f"a:has-text('{said('Print the approved plan')}')")
    printed = page.inner_text("body")
    assert "Approved by" in printed and printed.count("Signed electronically by link") == 10
    _check(page, checked)
    page.goto(plan_url)
    page.locator(".govuk-service-navigation a", has_text="Performance").click()
    card = said("Community and Customer Services 10/11")
    row = page.locator("tr", has_text=card).inner_text()
    assert "36" in row and "34" in step(10), row
