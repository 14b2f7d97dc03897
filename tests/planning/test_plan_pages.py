"""The service-planning pages for signed-in staff, in-process: every page as the plan's owner,
the performance team, another officer and someone signed out, in every status of a plan; and
what each form does with malformed, oversized, hostile and out-of-date input (a clear message,
what was typed kept, nothing saved).

The 2010/11 cycle of tests/planning/conftest.py (`ccs`), in February 2010: the Community and
Customer Services plan (Paul Howes) and four more plans, one in each other status.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlmodel import select
from support.performance import at
from support.planning import OPERATIONAL_FILE, PAIRS, add_plan, edit, links, plan, respond, submit

from core import clock
from core.db import read_session
from models import AuditEvent, OutboxMessage
from models.planning import PlanStatus

OFFICER = "Ian Salter"  # a council officer with no part in any plan
HOSTILE = '<script>window.pwned=1</script> {{7*7}} <b>bold</b> "quoted" & done'
# Each other status's plan: service area, owner, owner's title.
OTHERS = {
    "not_started": ("Corporate Services", "steve.hampson@scambs.example", "Executive Director"),
    "submitted": ("Health and Environmental Services", "richard.may@scambs.example", None),
    "changes_asked": ("Planning and New Communities", "gemma.barron@scambs.example", None),
    "approved": ("Affordable Homes", "georgina.hayward@scambs.example", None),
}


def content() -> dict[str, Any]:
    """A plan as owners write one: sections with paragraphs, budget lines to follow from
    Finance, risks, the Policy and Performance team's operational plan and two actions."""
    from services.planning.operational_import import read_operational_plan

    rows = read_operational_plan(OPERATIONAL_FILE.read_bytes(), OPERATIONAL_FILE.name)
    return {
        "sections": {
            "about": {
                "fields": {
                    "description": "We bring together Partnerships, Communications and Policy "
                    "and Performance.\nAnd the Contact Centre.\n\nA second paragraph."
                }
            },
            "finance": {
                "fields": {"summary": "Budget information is outstanding."},
                "rows": [{"line": "Employees", "year1": 125050, "year2": 130000, "year3": None}],
                "to_follow": True,
                "to_follow_by": "Finance",
            },
            "risks": {
                "rows": [
                    {
                        "description": "Reduced funding from 2011/12",
                        "likelihood": "B",
                        "impact": "II",
                        "mitigation": "Efficiency review",
                        "owner": "Paul Howes",
                    }
                ]
            },
        },
        "operational": [r.model_dump(mode="json") for r in rows],
        "improvement": [
            {
                "number": "1.2",
                "action": "Embed the performance management framework",
                "completion": "2011-03",
                "responsible": "Richard May",
            }
        ],
    }


def _sign(
    plan_id: int, emails: list[str], by: Any, answer: str = "sign", comment: str = ""
) -> None:
    raw = links(plan_id)
    for email in emails:
        respond(raw[by(email).id], answer, comment)


@pytest.fixture
def plans_(ccs: Any) -> dict[str, int]:
    """A plan in every status, in February 2010: plan ids by status."""
    with clock.frozen(at("2010-02-01")):
        ids = {"drafting": ccs.plan.id}
        edit(ccs.plan.id, ccs.owner, content())
        for status, (area, owner, title) in OTHERS.items():
            extra = {"owner_title": title} if title else {}
            ids[status] = add_plan(ccs.admin, area=area, owner_email=owner, **extra).id
        for status in ("submitted", "changes_asked", "approved"):
            edit(ids[status], ccs.admin, content())
            submit(ids[status], ccs.admin, "Version for the March meeting.")
        phs = [email for _, email in PAIRS]
        _sign(ids["submitted"], phs[:3], ccs.by_email)
        _sign(ids["changes_asked"], phs[:1], ccs.by_email)
        _sign(ids["changes_asked"], phs[1:2], ccs.by_email, "changes", "Add the elections budget.")
        _sign(ids["approved"], [*phs, ccs.owner.email], ccs.by_email)
    assert {s: plan(i).status for s, i in ids.items()} == {s: s for s in ids}
    return ids


@pytest.fixture(autouse=True)
def february(ccs: Any) -> Any:
    with clock.frozen(at("2010-02-01", "10:00")):
        yield


class Staff:
    """The in-process app as one person at a time, with their CSRF token."""

    def __init__(self, client: Any, factory: Any) -> None:
        self.client, self.factory = client, factory
        self.sessions: dict[int, str] = {}  # signed in once each: a sign-in writes rows

    def be(self, person: Any) -> Staff:
        self.client.cookies.clear()
        if person is not None:
            if person.id not in self.sessions:
                self.sessions[person.id] = self.factory.sign_in(person)
            self.client.cookies.set("signoff_session", self.sessions[person.id])
        return self

    def get(self, path: str) -> Any:
        return self.client.get(path, follow_redirects=False)

    def token(self) -> str:
        found = re.search(r'name="csrf_token" value="([^"]*)"', self.client.get("/sign-out").text)
        assert found
        return found.group(1)

    def post(self, path: str, data: dict[str, Any], files: Any = None) -> Any:
        form = data | {"csrf_token": self.token()}
        return self.client.post(path, data=form, files=files, follow_redirects=False)


@pytest.fixture
def staff(client: Any, factory: Any) -> Staff:
    return Staff(client, factory)


def _state(db: Any) -> dict[str, list]:
    snap = db.snapshot()
    snap.pop("web_session")
    return snap


def text_of(page: Any) -> str:
    """The page's words, markup dropped (whitespace squeezed)."""
    body = re.sub(r"<script.*?</script>|<[^>]+>", " ", page.text.split("<main", 1)[-1], flags=re.S)
    return re.sub(r" ([,.:;)])", r"\1", " ".join(html.unescape(body).split()))


# --- who sees what ----------------------------------------------------------------------------


def _pages(pid: int, approved: int) -> dict[str, str]:
    return {
        "cycles": "/planning",
        "dashboard": "/planning/2010",
        "calendar": "/planning/2010/calendar",
        "new plan": "/planning/2010/plans/new",
        "plan": f"/planning/plans/{pid}",
        "section": f"/planning/plans/{pid}/sections/finance",
        "operational": f"/planning/plans/{pid}/operational",
        "improvement": f"/planning/plans/{pid}/improvement",
        "signatories": f"/planning/plans/{pid}/signatories",
        "print (drafting)": f"/planning/plans/{pid}/print",
        "print (approved)": f"/planning/plans/{approved}/print",
    }


# page -> (owner, performance team, another officer); signed out is always sent to sign in.
WHO_SEES = {
    "cycles": (200, 200, 200),
    "dashboard": (200, 200, 200),
    "calendar": (403, 200, 403),
    "new plan": (403, 200, 403),
    "plan": (200, 200, 200),
    "section": (200, 200, 403),
    "operational": (200, 200, 403),
    "improvement": (200, 200, 403),
    "signatories": (403, 200, 403),
    "print (drafting)": (409, 409, 409),
    "print (approved)": (200, 200, 200),
}


def test_every_page_as_each_person(staff, ccs, plans_, db):
    pages = _pages(plans_["drafting"], plans_["approved"])
    people = {"owner": ccs.owner, "admin": ccs.admin, "officer": ccs.people[OFFICER]}
    for person in people.values():
        staff.be(person)
    before = _state(db)
    wrong = []
    for n, (who, person) in enumerate(people.items()):
        staff.be(person)
        for name, path in pages.items():
            got = staff.get(path).status_code
            if got != WHO_SEES[name][n]:
                wrong.append(f"{who} {name}: {got}, want {WHO_SEES[name][n]}")
    staff.be(None)
    for name, path in pages.items():
        r = staff.get(path)
        if r.status_code != 303 or not r.headers["location"].startswith("/sign-in?next="):
            wrong.append(f"signed out {name}: {r.status_code}")
    assert not wrong
    assert _state(db) == before  # reading changes nothing, refusals of a GET included


def test_what_each_person_is_offered(staff, ccs, plans_):
    pid = plans_["drafting"]
    owner = text_of(staff.be(ccs.owner).get(f"/planning/plans/{pid}"))
    admin = text_of(staff.be(ccs.admin).get(f"/planning/plans/{pid}"))
    officer = text_of(staff.be(ccs.people[OFFICER]).get(f"/planning/plans/{pid}"))
    for words in ("Submit for sign-off", "Import operational plan", "Edit improvement plan"):
        assert words in owner and words in admin and words not in officer
    assert "Edit section 7, Financial resources" in owner and "Edit section" not in officer
    assert "Change signatories" in admin and "Change signatories" not in owner
    assert "Print the approved plan" not in admin
    refused = staff.be(ccs.people[OFFICER]).get(f"/planning/plans/{pid}/sections/about")
    assert "Only the plan's owner or the performance team can change" in text_of(refused)
    for path, words in (("/planning", "Open a planning cycle"), ("/planning/2010", "Add a")):
        assert words in text_of(staff.be(ccs.admin).get(path))
        assert words not in text_of(staff.be(ccs.owner).get(path))


def test_the_dashboard_shows_each_plan_status_signatures_and_deadline(staff, ccs, plans_):
    page = text_of(staff.be(ccs.people[OFFICER]).get("/planning/2010"))
    assert "1 of 5 plans approved so far (20%)" in page
    assert "3 of 6 signed" in page and "All 6 signed" in page
    # Drafts were due on 30 November 2009: the plans not yet submitted now count to sign-off.
    assert "58 days to sign-off" in page  # 1 February to 31 March 2010
    for label in ("Not started", "Drafting", "Submitted for sign-off", "Changes asked"):
        assert label in page
    # Whom the submitted plan waits on: the two Portfolio Holders left and the CM.
    assert "Cllr David Ellis, Cllr Eve Fisher, Paul Howes" in page
    with clock.frozen(at("2010-04-05")):
        staff.sessions.clear()  # a new week, a new sign-in
        late = staff.be(ccs.people[OFFICER]).get("/planning/2010").text
    assert "5 days late" in late and "govuk-tag--red" in late


def test_the_plan_page_in_every_status(staff, ccs, plans_):
    staff.be(ccs.people[OFFICER])
    pages = {s: text_of(staff.get(f"/planning/plans/{i}")) for s, i in plans_.items()}
    assert "To follow from Finance" in pages["drafting"] and "£1,250.50" in pages["drafting"]
    assert "B – high" in pages["drafting"] and "March 2011" in pages["drafting"]
    assert "<5 (below 5)" in pages["drafting"] and "N/a" in pages["drafting"]
    assert (
        "Not submitted yet" in pages["not_started"]
        and "Steve Hampson, Executive" in (pages["not_started"])
    )
    assert (
        "Cllr Anne Hartley Portfolio Holder for Partnerships Signed 1 February 2010"
        in (pages["submitted"])
    )
    assert "Has not signed yet" in pages["submitted"]
    assert "Asked for changes 1 February 2010" in pages["changes_asked"]
    assert "Add the elections budget." in pages["changes_asked"]
    assert "Print the approved plan" in pages["approved"]
    assert "Version 1 (approved)" in pages["approved"]


def test_signatures_on_an_older_version_stay_on_its_page(staff, ccs, plans_):
    pid = plans_["changes_asked"]
    edit(pid, ccs.admin, content() | {"improvement": []})
    submit(pid, ccs.admin, "Version 2: elections budget added.")
    page = text_of(staff.be(ccs.owner).get(f"/planning/plans/{pid}"))
    first, second = page.index("Version 2 With signatories"), page.index("Version 1 Changes")
    assert first < second  # newest first
    assert "Cllr Anne Hartley Portfolio Holder for Partnerships Signed" in page[second:]
    assert "Add the elections budget." in page[second:]


def test_hostile_text_is_shown_as_text(staff, ccs, plans_, client):
    pid = plans_["drafting"]
    staff.be(ccs.owner)
    form = _section_form(staff, pid, "finance") | {"field-summary": HOSTILE, "row-0-line": HOSTILE}
    assert staff.post(f"/planning/plans/{pid}/sections/finance", form).status_code == 303
    for path in (f"/planning/plans/{pid}", f"/planning/plans/{pid}/sections/finance"):
        page = staff.get(path).text
        assert "<script>window.pwned" not in page and "<b>bold</b>" not in page
        assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
        assert HOSTILE in text_of(staff.get(path))  # every character of it, as text


# --- editing a section ------------------------------------------------------------------------


def form_of(page: str) -> dict[str, str]:
    """A form's fields as the browser would send them untouched (ticked boxes only)."""
    form = {}
    for tag in re.findall(r"<input[^>]*>", page):
        attrs = dict(re.findall(r'([a-z-]+)="([^"]*)"', tag))
        if "name" in attrs and ('type="checkbox"' not in tag or " checked" in tag):
            form[attrs["name"]] = html.unescape(attrs.get("value", ""))
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        form[name] = html.unescape(text)
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        form[name] = html.unescape(chosen[1]) if chosen else ""
    form.pop("csrf_token", None)
    return form


def _section_form(staff: Staff, pid: int, key: str) -> dict[str, str]:
    return form_of(staff.get(f"/planning/plans/{pid}/sections/{key}").text)


def test_saving_a_section_changes_it_alone(staff, ccs, plans_):
    pid = plans_["drafting"]
    staff.be(ccs.owner)
    before = plan(pid).content
    form = _section_form(staff, pid, "finance")
    assert form["row-0-year1"] == "1,250.50" and form["version"] == str(plan(pid).version)
    form |= {"row-1-line": "Income", "row-1-year1": "-£2,000", "row-1-year3": "40"}
    form |= {"row-0-remove": "yes", "field-summary": "Line one\r\nLine two", "then": "plan"}
    r = staff.post(f"/planning/plans/{pid}/sections/finance", form)
    assert r.status_code == 303 and r.headers["location"].endswith("#section-finance")
    after = plan(pid).content
    assert after["sections"]["finance"] == {
        "fields": {"summary": "Line one\nLine two"},
        "rows": [{"line": "Income", "year1": -200000, "year2": None, "year3": 4000}],
        "to_follow": True,
        "to_follow_by": "Finance",
    }
    assert {k: v for k, v in after.items() if k != "sections"} == {
        k: v for k, v in before.items() if k != "sections"
    }
    assert after["sections"]["about"] == before["sections"]["about"]
    page = staff.get(f"/planning/plans/{pid}")
    assert "-£2,000.00" in page.text and "Line one<br>Line two" in page.text
    with read_session() as s:
        done = s.exec(select(AuditEvent).where(AuditEvent.action == "edit")).all()
    assert done[-1].detail == "changed: finance"


BAD_SECTION_INPUT = [
    ("bad pounds", {"row-0-year1": "12,34x"}, "Budget line 1, Year 1 (£): enter an amount"),
    ("pounds and pence too fine", {"row-0-year2": "1.005"}, "enter an amount in pounds"),
    ("unknown likelihood", {}, None),
    ("too long", {"field-summary": "x" * 20_001}, "must be 20,000 characters or fewer"),
    ("hidden characters", {"row-0-line": "Staff\u202egnp.exe"}, "text-direction characters"),
    ("no one to supply it", {"to_follow_by": ""}, "Enter who will supply the section"),
]


@pytest.mark.parametrize(
    "case,change,message", BAD_SECTION_INPUT, ids=[c[0] for c in BAD_SECTION_INPUT]
)
def test_a_bad_section_is_refused_with_what_was_typed_kept(
    staff, ccs, plans_, db, case, change, message
):
    pid = plans_["drafting"]
    staff.be(ccs.owner)
    form = _section_form(staff, pid, "finance") | {"row-1-line": "Kept line"} | change
    path = f"/planning/plans/{pid}/sections/finance"
    if message is None:  # a choice no one offered, posted to the risks section
        form = _section_form(staff, pid, "risks") | {"row-0-likelihood": "Z"}
        path, message = path.replace("finance", "risks"), "Risk 1, Likelihood: choose one"
    before = _state(db)
    r = staff.post(path, form)
    assert r.status_code == 422 and message in html.unescape(r.text)
    assert "There is a problem" in r.text and _state(db) == before
    assert 'value="Kept line"' in r.text or "risks" in path


def test_three_hundred_rows_are_refused_and_kept(staff, ccs, plans_, db):
    pid = plans_["drafting"]
    staff.be(ccs.owner)
    form = _section_form(staff, pid, "finance")
    form |= {f"row-{n}-line": f"Line {n}" for n in range(300)}
    before = _state(db)
    r = staff.post(f"/planning/plans/{pid}/sections/finance", form)
    assert r.status_code == 422 and "There are 300 budget lines" in r.text
    assert 'value="Line 299"' in r.text and _state(db) == before


def test_a_stale_section_is_refused_and_nothing_is_lost(staff, ccs, plans_, db):
    pid = plans_["drafting"]
    staff.be(ccs.owner)
    form = _section_form(staff, pid, "about") | {"field-description": "Mine, typed slowly."}
    edit(pid, ccs.admin, plan(pid).content | {"improvement": []})  # someone else saves first
    before = _state(db)
    r = staff.post(f"/planning/plans/{pid}/sections/about", form)
    assert r.status_code == 409 and _state(db) == before
    assert "changed by someone else" in r.text and "Mine, typed slowly." in r.text
    assert "What the section says now" in r.text and "A second paragraph." in r.text
    # The form now carries the saved version: saving again, having looked, goes through.
    again = _section_form(staff, pid, "about") | {"field-description": "Mine, typed slowly."}
    assert staff.post(f"/planning/plans/{pid}/sections/about", again).status_code == 303


def test_no_such_section_or_plan(staff, ccs, plans_):
    staff.be(ccs.owner)
    pid = plans_["drafting"]
    assert staff.get(f"/planning/plans/{pid}/sections/budget").status_code == 404
    assert staff.post(f"/planning/plans/{pid}/sections/budget", {}).status_code == 404
    for path in (
        "/planning/plans/99999999999",
        "/planning/plans/0",
        "/planning/abc",
        "/planning/1999",
    ):
        assert staff.get(path).status_code == 404, path


def test_a_form_without_its_token_changes_nothing(staff, ccs, plans_, db):
    pid = plans_["drafting"]
    staff.be(ccs.owner)
    form = _section_form(staff, pid, "about") | {"field-description": "Forged."}
    before = _state(db)
    r = staff.client.post(f"/planning/plans/{pid}/sections/about", data=form)
    assert r.status_code == 403 and _state(db) == before


# --- editing a submitted plan, and submitting ------------------------------------------------


def test_editing_a_submitted_plan_warns_then_withdraws_it(staff, ccs, plans_, db):
    pid = plans_["submitted"]
    staff.be(ccs.admin)
    page = staff.get(f"/planning/plans/{pid}/sections/about")
    assert "Saving a change withdraws version 1 from them" in text_of(page)
    form = _section_form(staff, pid, "about") | {"field-description": "Corrected."}
    r = staff.post(f"/planning/plans/{pid}/sections/about", form)
    assert r.status_code == 303 and plan(pid).status == PlanStatus.drafting
    assert links(pid) == {}  # the signatories' links no longer sign anything
    shown = text_of(staff.client.get(r.headers["location"]))
    assert "withdrawn from its signatories" in shown
    assert "Version 1 Withdrawn" in shown and "Signed 1 February 2010" in shown


def test_submitting_asks_each_signatory_and_says_who(staff, ccs, plans_):
    pid = plans_["drafting"]
    staff.be(ccs.owner)
    page = text_of(staff.get(f"/planning/plans/{pid}"))
    assert "Still to follow: 7. Financial resources (from Finance)" in page
    version = str(plan(pid).version)
    r = staff.post(f"/planning/plans/{pid}/submit", {"version": version, "note": "For 11 March."})
    assert r.status_code == 303
    shown = text_of(staff.client.get(r.headers["location"]))
    assert "Version 1 was sent for sign-off. Asked to sign: Cllr Anne Hartley" in shown
    assert "Cllr Eve Fisher, Paul Howes." in shown and "For 11 March." in shown
    with read_session() as s:
        asked = s.exec(
            select(OutboxMessage).where(OutboxMessage.template == "plan_signature_request")
        )
        assert len({m.to_person_id for m in asked if m.subject_id == pid}) == 6


def test_a_stale_or_unsigned_submission_is_refused_with_the_note_kept(staff, ccs, plans_, db):
    pid = plans_["not_started"]
    staff.be(ccs.admin)
    before = _state(db)
    stale = staff.post(f"/planning/plans/{pid}/submit", {"version": "0", "note": "Kept note."})
    assert stale.status_code == 409 and "Kept note." in stale.text
    assert "changed by someone else" in stale.text and _state(db) == before
    bad = staff.post(f"/planning/plans/{pid}/submit", {"version": "1", "note": "x\u202e" * 3})
    assert bad.status_code == 422 and _state(db) == before
    officer = staff.be(ccs.people[OFFICER]).post(f"/planning/plans/{pid}/submit", {"version": "1"})
    assert officer.status_code == 403 and plan(pid).status == PlanStatus.not_started


# --- the operational plan --------------------------------------------------------------------


def _file_rows() -> list[dict[str, str]]:
    import csv

    with OPERATIONAL_FILE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_importing_the_operational_plan_replaces_its_rows(staff, ccs, plans_):
    pid = plans_["not_started"]
    staff.be(ccs.admin)
    version = str(plan(pid).version)
    upload = {"file": (OPERATIONAL_FILE.name, OPERATIONAL_FILE.read_bytes(), "text/csv")}
    r = staff.post(f"/planning/plans/{pid}/operational", {"version": version}, files=upload)
    assert r.status_code == 303
    rows = plan(pid).content["operational"]
    expected = _file_rows()
    assert [row["indicator"] for row in rows] == [row["indicator"] for row in expected]
    assert rows[0]["code"] == "PP4" and rows[0]["targets"][0]["text"] == "100%"
    shown = text_of(staff.client.get(r.headers["location"]))
    assert f"The operational plan now has the {len(expected)} rows of" in shown
    assert "<30 (below 30)" in shown


BAD_FILES = [
    ("no indicator", "indicator,target_2010_11\n,5\nPP4 - ok,<5\n,7\n", ["Row 2", "Row 4"]),
    ("not a table", b"\xff\xfe\x00\x81", ["neither a UTF-8 CSV file nor an XLSX"]),
    ("four years", "indicator,target_a,target_b,target_c,target_d\nx,1,2,3,4\n", ["4 target"]),
    ("hidden characters", "indicator,target_2010_11\nPP4 - x,5\u202e\n", ["Row 2"]),
]


@pytest.mark.parametrize("case,data,says", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_a_bad_operational_file_is_refused_listing_each_bad_row(
    staff, ccs, plans_, db, case, data, says
):
    pid = plans_["drafting"]
    staff.be(ccs.owner)
    before = _state(db)
    upload = {"file": ("plan.csv", data if isinstance(data, bytes) else data.encode(), "text/csv")}
    r = staff.post(
        f"/planning/plans/{pid}/operational", {"version": str(plan(pid).version)}, upload
    )
    assert r.status_code == 422 and _state(db) == before
    for words in says:
        assert words in text_of(r), words


def test_an_upload_too_large_or_missing_changes_nothing(staff, ccs, plans_, db):
    pid = plans_["drafting"]
    staff.be(ccs.owner)
    before = _state(db)
    big = {"file": ("big.csv", b"indicator\n" + b"x" * 6 * 1024 * 1024, "text/csv")}
    r = staff.post(f"/planning/plans/{pid}/operational", {"version": "2"}, big)
    assert r.status_code == 413 and "larger than 5 MB" in r.text
    # A file under 5 MB reaches the import (which names what is wrong with it).
    junk = {"file": ("big.csv", b"indicator\n" + b"x" * 3 * 1024 * 1024, "text/csv")}
    read = staff.post(f"/planning/plans/{pid}/operational", {"version": "2"}, junk)
    assert read.status_code == 422, read.status_code
    none = staff.post(f"/planning/plans/{pid}/operational", {"version": "2"})
    assert none.status_code == 422 and "Choose a CSV or XLSX file" in none.text
    assert _state(db) == before


def test_adding_and_removing_operational_rows(staff, ccs, plans_, db):
    pid = plans_["not_started"]
    staff.be(ccs.admin)
    path = f"/planning/plans/{pid}/operational"
    row = {
        "indicator": "SF731 - % of Contact Centre calls abandoned",
        "target-0": "<5",
        "target-1": "N/a",
        "target-2": "By May 2012",
        "lead_officer": "CSC",
        "version": str(plan(pid).version),
    }
    assert staff.post(f"{path}/rows", row).status_code == 303
    saved = plan(pid).content["operational"]
    assert saved[0]["code"] == "SF731" and saved[0]["targets"][0]["comparator"] == "<"
    assert [t["kind"] for t in saved[0]["targets"]] == ["value", "not_applicable", "date"]
    before = _state(db)
    blank = staff.post(f"{path}/rows", row | {"indicator": " ", "version": str(plan(pid).version)})
    assert blank.status_code == 422 and "Enter the performance indicator" in blank.text
    long = staff.post(
        f"{path}/rows", row | {"target-1": "9" * 301, "version": str(plan(pid).version)}
    )
    assert long.status_code == 422 and "Year 2's target must be 300 characters" in html.unescape(
        long.text
    )
    assert 'value="By May 2012"' in long.text and _state(db) == before
    none = staff.post(f"{path}/remove", {"version": str(plan(pid).version)})
    assert none.status_code == 422 and "Choose the rows to remove" in none.text
    stale = staff.post(f"{path}/remove", {"version": "1", "remove-0": "yes"})
    assert stale.status_code == 409 and _state(db) == before
    gone = staff.post(f"{path}/remove", {"version": str(plan(pid).version), "remove-0": "yes"})
    assert gone.status_code == 303 and plan(pid).content["operational"] == []


# --- the improvement plan --------------------------------------------------------------------


def test_the_improvement_plan_is_saved_and_bad_months_refused(staff, ccs, plans_, db):
    pid = plans_["drafting"]
    staff.be(ccs.owner)
    path = f"/planning/plans/{pid}/improvement"
    form = form_of(staff.get(path).text)
    assert form["imp-0-completion"] == "2011-03" and "imp-3-action" in form
    form |= {"imp-1-number": "1.3", "imp-1-action": "Tell Us Once", "imp-1-completion": "2011-13"}
    before = _state(db)
    r = staff.post(path, form)
    assert r.status_code == 422 and _state(db) == before
    assert "Action 2, Completion month: enter a month as YYYY-MM" in html.unescape(r.text)
    assert 'value="2011-13"' in r.text and "Tell Us Once" in r.text
    no_action = staff.post(path, form | {"imp-1-completion": "2011-09", "imp-1-action": ""})
    assert no_action.status_code == 422 and "Action 2, Action: enter it" in html.unescape(
        no_action.text
    )
    done = staff.post(path, form | {"imp-1-completion": "2011-09", "imp-0-remove": "yes"})
    assert done.status_code == 303
    assert [(a["number"], a["completion"]) for a in plan(pid).content["improvement"]] == [
        ("1.3", "2011-09")
    ]
    assert "September 2011" in text_of(staff.get(f"/planning/plans/{pid}"))


# --- signatories -----------------------------------------------------------------------------


def test_changing_signatories_while_submitted_asks_those_added(staff, ccs, plans_, db):
    pid = plans_["submitted"]
    path = f"/planning/plans/{pid}/signatories"
    assert staff.be(ccs.owner).get(path).status_code == 403
    staff.be(ccs.admin)
    form = form_of(staff.get(path).text)
    assert form["sig-4-email"] == "cllr.fisher@scambs.example"
    form |= {"sig-4-email": "cllr.gale@scambs.example"}
    r = staff.post(path, form)
    assert r.status_code == 303
    shown = text_of(staff.client.get(r.headers["location"]))
    assert "Asked to sign version 1: Cllr Frank Gale. No longer asked: Cllr Eve Fisher." in shown
    with read_session() as s:
        change = s.exec(select(AuditEvent).where(AuditEvent.action == "change_signatories")).one()
    assert "Cllr Eve Fisher" in change.detail and change.actor_id == ccs.admin.id


BAD_SIGNATORIES = [
    ({"sig-0-email": "nobody@scambs.example"}, "sig-0-email", "not a registered person"),
    ({"sig-1-portfolio": ""}, "sig-1-portfolio", "enter the Portfolio Holder's portfolio"),
    ({"sig-2-role": "mayor"}, "sig-2-role", "choose Portfolio Holder or Corporate Manager"),
    ({"sig-3-email": "not an email"}, "sig-3-email", "Signatory 4: enter their email address in"),
]


@pytest.mark.parametrize("change,field,says", BAD_SIGNATORIES, ids=[c[1] for c in BAD_SIGNATORIES])
def test_bad_signatories_are_refused_and_kept(staff, ccs, plans_, db, change, field, says):
    pid = plans_["drafting"]
    staff.be(ccs.admin)
    path = f"/planning/plans/{pid}/signatories"
    form = form_of(staff.get(path).text) | change
    before = _state(db)
    r = staff.post(path, form)
    assert r.status_code == 422 and _state(db) == before
    assert f'href="#{field}"' in r.text and says in html.unescape(r.text)
    assert 'value="cllr.cole@scambs.example"' in r.text


def test_an_approved_plans_signatories_cannot_change(staff, ccs, plans_):
    staff.be(ccs.admin)
    assert staff.get(f"/planning/plans/{plans_['approved']}/signatories").status_code == 409


# --- the printable plan ----------------------------------------------------------------------


def test_the_approved_plan_prints_with_its_approved_by_block(staff, ccs, plans_):
    page = staff.be(ccs.people[OFFICER]).get(f"/planning/plans/{plans_['approved']}/print")
    assert page.status_code == 200
    words = text_of(page)
    assert "Affordable Homes Service Plan 2010/11 to 2012/13" in words
    rows = re.findall(r"<tr>\s*<td><bdi>(.*?)</bdi></td>(.*?)</tr>", page.text, re.S)[: len(PAIRS)]
    assert [r[0] for r in rows] == [portfolio for portfolio, _ in PAIRS]
    for _, cells in rows:
        assert cells.count("Signed electronically by link") == 2  # the PH and the CM
        assert cells.count("1 February 2010") == 2 and "Paul Howes" in cells
    assert "To follow from Finance" in words and "£1,250.50" in words
    drafting = staff.get(f"/planning/plans/{plans_['drafting']}/print")
    assert drafting.status_code == 409 and "has not been approved yet" in drafting.text


# --- cycles, the calendar, adding a plan -----------------------------------------------------


def test_opening_a_cycle_with_the_usual_dates(staff, ccs, db):
    staff.be(ccs.admin)
    page = form_of(staff.get("/planning").text)
    assert page["year"] == "2011" and page["signoff_by-year"] == "2011"
    before = _state(db)
    usual = staff.post("/planning/cycles", page | {"year": "2013", "then": "usual"})
    assert usual.status_code == 200 and _state(db) == before
    assert form_of(usual.text)["drafts_due-year"] == "2012"
    r = staff.post("/planning/cycles", form_of(usual.text) | {"then": "open"})
    assert r.status_code == 303 and r.headers["location"] == "/planning/2013"
    from services.planning import plans as planning

    with read_session() as s:
        cycle = planning.get_cycle(s, year=2013)
    assert str(cycle.signoff_by) == "2013-03-31" and str(cycle.opens_on) == "2012-06-01"


BAD_CYCLES = [
    ({"year": "twenty"}, 422, "Enter the year the plans start as 4 digits"),
    ({"year": "2010"}, 409, "There is already a planning cycle for 2010/11"),
    (
        {"drafts_due-day": "31", "drafts_due-month": "2"},
        422,
        "“Draft plans due” must be a real date",
    ),
    ({"opens_on-year": "2012"}, 422, "The dates must run in order"),
    ({"signoff_by-day": ""}, 422, "“Signed off by” must be a real date"),
    (
        {"objectives_by-day": "", "objectives_by-month": "", "objectives_by-year": ""},
        422,
        "Enter the date",
    ),
]


@pytest.mark.parametrize("change,status,says", BAD_CYCLES, ids=[c[2][:30] for c in BAD_CYCLES])
def test_a_bad_cycle_is_refused_and_kept(staff, ccs, db, change, status, says):
    staff.be(ccs.admin)
    form = form_of(staff.get("/planning").text) | {"then": "open"} | change
    before = _state(db)
    r = staff.post("/planning/cycles", form)
    assert r.status_code == status and _state(db) == before
    assert says in html.unescape(r.text)
    kept = form_of(r.text)
    assert all(kept[k] == v for k, v in change.items()), "what was typed is shown again"


def test_only_the_performance_team_opens_a_cycle(staff, ccs, db):
    form = form_of(staff.be(ccs.admin).get("/planning").text) | {"then": "open"}
    staff.be(ccs.owner)
    before = _state(db)
    assert staff.post("/planning/cycles", form).status_code == 403
    assert _state(db) == before


def test_changing_the_calendar_at_the_version_read(staff, ccs, db):
    staff.be(ccs.admin)
    path = "/planning/2010/calendar"
    form = form_of(staff.get(path).text) | {"drafts_due-day": "15", "drafts_due-month": "12"}
    r = staff.post(path, form)
    assert r.status_code == 303
    before = _state(db)
    stale = staff.post(path, form | {"drafts_due-day": "16"})  # the version read was 1
    assert stale.status_code == 409 and _state(db) == before
    assert "changed by someone else" in stale.text and 'value="16"' in stale.text
    assert "draft plans due 15 December 2009" in text_of(stale)
    disorder = staff.post(path, form_of(stale.text) | {"signoff_by-year": "2009"})
    assert disorder.status_code == 422 and "must run in order" in disorder.text
    assert staff.post(path, form_of(stale.text)).status_code == 303  # looked, saved again
    assert staff.be(ccs.owner).post(path, form).status_code == 403


def test_adding_a_plan_rolled_forward_from_last_year(staff, ccs, plans_, db):
    from support.planning import open_cycle

    staff.be(ccs.admin)
    open_cycle(ccs.admin, 2011)
    path = "/planning/2011/plans/new"
    assert "Community and Customer Services" in text_of(staff.get(path))  # not yet added
    form = {
        "service_area": "Community and Customer Services",
        "owner_email": "PAUL.HOWES@scambs.example",
    }
    form |= {"owner_title": "Corporate Manager", "roll_forward": "yes"}
    r = staff.post(path, form)
    assert r.status_code == 303
    new = plan(int(r.headers["location"].rsplit("/", 1)[1]))
    assert new.rolled_from_id == plans_["drafting"] and new.status == PlanStatus.drafting
    assert new.content["operational"][0]["targets"][2]["kind"] == "none"  # the new third year
    before = _state(db)
    twice = staff.post(path, form)
    assert twice.status_code == 409 and "already has a plan in 2011/12" in twice.text
    stranger = staff.post(path, form | {"service_area": "Elections", "owner_email": "x@y.example"})
    assert stranger.status_code == 422 and "not a registered person" in stranger.text
    title = staff.post(path, form | {"service_area": "Elections", "owner_title": "Boss"})
    assert title.status_code == 422 and "Choose whether a Corporate Manager" in title.text
    assert 'value="Elections"' in title.text and _state(db) == before


def test_a_stale_improvement_plan_keeps_what_was_typed(staff, ccs, plans_, db):
    pid = plans_["drafting"]
    staff.be(ccs.owner)
    form = form_of(staff.get(f"/planning/plans/{pid}/improvement").text)
    form |= {"imp-1-action": "Typed while someone else saved."}
    edit(pid, ccs.admin, plan(pid).content | {"operational": []})
    before = _state(db)
    r = staff.post(f"/planning/plans/{pid}/improvement", form)
    assert r.status_code == 409 and _state(db) == before
    assert "Typed while someone else saved." in r.text
    assert "What the improvement plan says now" in r.text
    assert form_of(r.text)["version"] == str(plan(pid).version)


def test_an_approved_plan_is_frozen(staff, ccs, plans_, db):
    pid = plans_["approved"]
    owner = ccs.by_email(OTHERS["approved"][1])
    for person, want in ((owner, 409), (ccs.admin, 409), (ccs.people[OFFICER], 403)):
        staff.be(person)
        for page in ("sections/about", "operational", "improvement"):
            r = staff.get(f"/planning/plans/{pid}/{page}")
            assert r.status_code == want, (person.name, page)
    staff.be(ccs.admin)
    form = {"version": str(plan(pid).version), "field-description": "Changed after approval."}
    before = db.counts()
    r = staff.post(f"/planning/plans/{pid}/sections/about", form)
    assert r.status_code == 409 and "its approved version cannot be changed" in r.text
    after = db.counts()
    assert after["audit_refused"] == before["audit_refused"] + 1  # the attempt is on record
    saved = plan(pid).content["sections"]["about"]["fields"]
    assert saved == content()["sections"]["about"]["fields"]
