"""The signatory's emailed link page, as a Portfolio Holder uses it: GET and HEAD only show (a
mail scanner fetching the link changes nothing), the form signs or asks for changes, and every
other state of the link (used, outdated, expired, taken away, approved meanwhile) answers with
its own status and words and records nothing.

The Community and Customer Services plan for 2010/11 (the `ccs` fixture) goes to its five
Portfolio Holders and its Corporate Manager, Paul Howes, in February 2010.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from sqlmodel import select
from support.performance import at
from support.planning import PAIRS, actor, edit, links, plan, respond, signatories, submit

from core import clock
from core.db import read_session, write_session
from models.planning import PlanResponse, PlanStatus

AREA = "Community and Customer Services"
DUNN = PAIRS[2][1]  # the Portfolio Holder for Policy and Performance
HOSTILE = '<script>window.pwned=1</script> & <b>bold</b> "quoted"'
CONTENT: dict[str, Any] = {
    "sections": {
        "about": {
            "fields": {
                "description": "Partnerships, Communications and Elections.\n"
                "Policy and Performance (second line)."
            }
        },
        "finance": {
            "fields": {"summary": "Budget information is outstanding."},
            "to_follow": True,
            "to_follow_by": "Finance",
        },
        "risks": {
            "rows": [
                {
                    "description": "Data quality challenged at audit",
                    "likelihood": "C",
                    "impact": "II",
                    "mitigation": "Quarterly checks",
                    "owner": "Richard May",
                }
            ]
        },
    },
    "operational": [
        {
            "indicator": "% of service plans in place by April each year",
            "code": "PP4",
            "targets": [{"text": "100%"}, {"text": "100%"}, {"text": "100%"}],
            "lead_officer": "Richard May",
        },
        {
            "indicator": "Residents satisfied with the council",
            "code": "NI005",
            "targets": [{"text": "2 out of 4 (09-10 assessment)"}, {"text": "N/a"}],
            "lead_officer": "Paul Howes",
        },
    ],
    "improvement": [
        {
            "number": "1.2",
            "action": "Embed the performance management framework",
            "completion": "2011-03",
            "responsible": "Richard May",
        }
    ],
}
FINANCE = {
    "fields": {"summary": "Net budget as agreed by Cabinet."},
    "rows": [{"line": "Employees", "year1": 14_250_000, "year2": 14_530_000}],
}


@pytest.fixture(autouse=True)
def february(ccs: Any) -> Any:
    with clock.frozen(at("2010-02-01")):
        yield


def _submitted(ccs: Any, content: dict[str, Any] | None = None, note: str = "") -> Any:
    edit(ccs.plan.id, ccs.owner, content or CONTENT)
    return submit(ccs.plan.id, ccs.owner, note)


def _signers(ccs: Any) -> list[Any]:
    return [ccs.by_email(email) for _, email in PAIRS] + [ccs.owner]


def _path(raw: str) -> str:
    return f"/plan-signoff/{raw}"


def _text(html: str) -> str:
    """The page's words, without tags, entities decoded and spaces collapsed."""
    import html as html_module

    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _responses() -> list[tuple[int, str, str]]:
    with read_session() as s:
        rows = s.exec(select(PlanResponse).order_by(PlanResponse.id)).all()  # type: ignore[arg-type]
    return [(r.person_id, r.kind, r.comment) for r in rows]


def test_opening_the_link_shows_the_plan_and_changes_nothing(client, db, ccs) -> None:
    _submitted(ccs, note="Budget information is outstanding at section 7.")
    dunn = ccs.by_email(DUNN)
    raw = links(ccs.plan.id)[dunn.id]
    before = db.snapshot()
    page = client.get(_path(raw))
    head = client.head(_path(raw))
    assert db.snapshot() == before
    assert page.status_code == 200 and head.status_code == 200 and head.content == b""
    for response in (page, head):
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
    words = _text(page.text)
    assert f"Sign the {AREA} service plan" in words
    assert f"{dunn.name}, you are asked to sign version 1" in words
    assert "as Portfolio Holder for Policy and Performance" in words
    assert "Opening this page has changed nothing" in words
    assert "This is the first version you have been asked to sign" in words
    assert "Paul Howes writes: Budget information is outstanding at section 7." in words
    assert "section 7 Financial resources (from Finance) is still to follow" in words
    # The plan itself: text with its line breaks, the risk's scores in words, the targets.
    assert "Elections.<br>Policy and Performance" in page.text
    assert "C – significant" in words and "II – critical" in words
    assert "PP4 % of service plans in place by April each year" in words
    assert "2 out of 4 (09-10 assessment)" in words and "N/a" in words
    assert "2010/11 target" in words and "2012/13 target" in words
    assert "1.2 Embed the performance management framework" in words and "March 2011" in words
    # Who signs, and the form.
    assert words.count("Not signed yet") == 6
    assert "Portfolio Holder for Partnerships" in words and "Corporate Manager" in words
    assert 'name="answer" type="radio" value="sign"' in page.text
    assert f'action="/plan-signoff/{raw}"' in page.text


def test_signing_through_the_page_records_one_signature(client, db, ccs) -> None:
    version = _submitted(ccs)
    dunn = ccs.by_email(DUNN)
    raw = links(ccs.plan.id)[dunn.id]
    with clock.frozen(at("2010-02-02", "10:30")):
        done = client.post(_path(raw), data={"answer": "sign", "comment": ""})
    assert done.status_code == 200
    words = _text(done.text)
    assert f"You signed version 1 of the {AREA} service plan" in words
    assert "5 of the plan’s 6 signatories have still to sign it" in words
    assert _responses() == [(dunn.id, "signed", "")]
    with read_session() as s:
        row = s.exec(select(PlanResponse)).one()
    assert row.version_id == version.id and row.via_link
    # The link is spent: it shows the signature, and a second answer records nothing.
    again = client.get(_path(raw))
    assert again.status_code == 410
    assert "You signed it on 2 February 2010 at 10:30" in _text(again.text)
    assert 'name="answer"' not in again.text
    before = db.snapshot()
    twice = client.post(_path(raw), data={"answer": "changes", "comment": "Wait"})
    assert twice.status_code == 410 and "already answered version 1" in twice.text
    assert _prune(db.snapshot()) == _prune(before)


def _prune(snapshot: dict[str, list]) -> dict[str, list]:
    """A snapshot without refused attempts (which the audit trail records on purpose)."""
    return snapshot | {"audit_event": [r for r in snapshot["audit_event"] if "refused" not in r]}


def test_the_last_signature_approves_the_plan(client, ccs) -> None:
    _submitted(ccs)
    raw = links(ccs.plan.id)
    signers = _signers(ccs)
    for person in signers[:-1]:
        respond(raw[person.id])
    done = client.post(_path(raw[signers[-1].id]), data={"answer": "sign"})
    assert done.status_code == 200
    assert "Every signatory has now signed version 1: the plan is approved" in _text(done.text)
    assert plan(ccs.plan.id).status == PlanStatus.approved


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"answer": "changes", "comment": "  \n "}, "Say what should change"),
        ({"answer": "changes", "comment": "x" * 4001}, "4,000 characters or fewer: they are 4,001"),
        ({"answer": "changes", "comment": "Add\x00 a line"}, "must not contain control characters"),
        ({"answer": "changes", "comment": "Add\u202e a line"}, "must not contain control"),
        ({"answer": "approve", "comment": "Fine"}, "Select whether you sign the plan"),
        ({"comment": "Fine"}, "Select whether you sign the plan"),
    ],
    ids=["blank", "too long", "control", "bidi", "unknown answer", "no answer"],
)
def test_a_bad_answer_is_refused_with_the_comment_kept(client, db, ccs, form, error) -> None:
    _submitted(ccs)
    raw = links(ccs.plan.id)[ccs.by_email(DUNN).id]
    before = db.snapshot()
    page = client.post(_path(raw), data=form)
    assert page.status_code == 422
    assert db.snapshot() == before
    assert "There is a problem" in page.text and error in _text(page.text)
    assert page.text.count(error.split(":")[0]) >= 2  # in the summary and by the field
    typed = form["comment"].replace("\x00", "\ufffd")
    if "\x00" not in form["comment"]:
        assert f">{typed}</textarea>" in page.text  # what they typed is kept to correct
    assert re.search(r"<title>Error: ", page.text)


def test_a_comment_of_exactly_4000_characters_is_accepted(client, ccs) -> None:
    _submitted(ccs)
    dunn = ccs.by_email(DUNN)
    comment = ("Add the elections budget line. " * 200)[:4000]
    done = client.post(
        _path(links(ccs.plan.id)[dunn.id]), data={"answer": "changes", "comment": comment}
    )
    assert done.status_code == 200
    assert _responses() == [(dunn.id, "changes_asked", comment.strip())]


def test_asking_for_changes_sends_the_hostile_comment_escaped(
    client, ccs, smtp, deliver_outbox
) -> None:
    _submitted(ccs)
    dunn = ccs.by_email(DUNN)
    raw = links(ccs.plan.id)[dunn.id]
    done = client.post(_path(raw), data={"answer": "changes", "comment": HOSTILE + "\nLine 2"})
    assert done.status_code == 200
    assert "Your request for changes has been sent to Paul Howes" in _text(done.text)
    escaped = "&lt;script&gt;window.pwned=1&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    for html in (done.text, client.get(_path(raw)).text):
        assert escaped in html and "<script>window.pwned" not in html
        assert "<b>bold" not in html
    assert plan(ccs.plan.id).status == PlanStatus.changes_asked
    deliver_outbox()
    (mail,) = smtp.to(ccs.owner.email)
    assert mail.subject.startswith("Changes asked:")
    assert escaped in mail.html and "<script>window.pwned" not in mail.html
    assert HOSTILE in mail.text  # plain text is not markup: shown as typed
    assert f"{dunn.name} asked for changes to version 1" in mail.text
    # Their link now shows what they asked for; the plan is back with its owner.
    after = client.get(_path(raw))
    assert after.status_code == 410
    assert "The plan is back with Paul Howes to change" in _text(after.text)


def test_an_expired_link_offers_a_new_one_sent_only_to_the_registered_address(
    client, db, ccs, smtp, deliver_outbox
) -> None:
    _submitted(ccs)
    dunn = ccs.by_email(DUNN)
    raw = links(ccs.plan.id)[dunn.id]
    deliver_outbox()
    smtp.reset()
    with clock.frozen(at("2010-02-16")):  # links last 14 days
        page = client.get(_path(raw))
        assert page.status_code == 404 and "This link is not valid" in page.text
        assert f'action="/plan-signoff/{raw}/resend"' in page.text
        assert client.post(_path(raw), data={"answer": "sign"}).status_code == 404
        assert _responses() == []
        answers = [
            client.post(_path(raw) + "/resend", data={"email": email})
            for email in ("someone.else@example.com", "", "x" * 400, dunn.email.upper())
        ]
        assert {a.status_code for a in answers} == {200}
        assert len({_normalised(a.text) for a in answers}) == 1  # the same answer every time
        assert "Check your email" in answers[0].text
        deliver_outbox()
    mails = smtp.messages
    assert [m.rcpt_tos for m in mails] == [[dunn.email]]
    assert mails[0].subject.startswith(f"Please sign: {AREA} service plan 2010/11, version 1")
    (new,) = re.findall(r"https?://[^\s\"'<>]+/plan-signoff/([A-Za-z0-9_-]+)", mails[0].text)
    with clock.frozen(at("2010-02-16", "10:00")):
        assert client.get(_path(new)).status_code == 200
        assert client.post(_path(new), data={"answer": "sign"}).status_code == 200
    assert _responses() == [(dunn.id, "signed", "")]


def _normalised(html: str) -> str:
    html = re.sub(r'nonce="[^"]*"', 'nonce=""', html)
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', html)


def test_an_outdated_versions_link_offers_the_current_one(client, db, ccs) -> None:
    _submitted(ccs)
    dunn = ccs.by_email(DUNN)
    old = links(ccs.plan.id)[dunn.id]
    supplied = CONTENT | {"sections": CONTENT["sections"] | {"finance": FINANCE}}
    with clock.frozen(at("2010-02-08")):  # Finance supplies section 7 within the week
        _submitted(ccs, supplied)
        page = client.get(_path(old))
        before = db.snapshot()
        refused = client.post(_path(old), data={"answer": "sign"})
    assert page.status_code == 409 and refused.status_code == 409
    words = _text(page.text)
    assert "Version 1 of this plan has been replaced by version 2" in words
    assert "Email me a link to version 2" in words and 'name="answer"' not in page.text
    assert _prune(db.snapshot()) == _prune(before)
    assert _responses() == []
    # The current version's page says what changed since version 1, in the plan's words.
    current = client.get(_path(links(ccs.plan.id)[dunn.id]))
    words = _text(current.text)
    assert current.status_code == 200 and "What changed since version 1" in words
    assert (
        "Section 7 Financial resources No longer to follow (it was to follow from Finance)" in words
    )
    assert "Was: Budget information is outstanding. Now: Net budget as agreed by Cabinet." in words
    assert "Added Section 7 Financial resources — budget line “Employees”" in words
    assert "Year 1 (£): £142,500.00" in words


def test_an_answered_version_with_a_newer_one_out_offers_a_link_to_it(client, ccs) -> None:
    _submitted(ccs)
    dunn = ccs.by_email(DUNN)
    raw = links(ccs.plan.id)[dunn.id]
    respond(raw, "changes", "Add the budget.")
    with clock.frozen(at("2010-03-01")):
        _submitted(ccs, CONTENT | {"improvement": []})
        page = client.get(_path(raw))
    assert page.status_code == 410
    words = _text(page.text)
    assert f"You asked for changes to version 1 of the {AREA} service plan" in words
    assert "What you asked for: Add the budget." in words
    assert "Version 2 of the plan has been submitted since" in words
    assert "Email me a link to version 2" in words


def test_a_link_to_a_version_overtaken_by_approval_is_closed(client, ccs) -> None:
    _submitted(ccs)
    old = links(ccs.plan.id)[ccs.by_email(DUNN).id]
    with clock.frozen(at("2010-03-01")):
        _submitted(ccs, CONTENT | {"improvement": []})
        for raw in links(ccs.plan.id).values():
            respond(raw)
    page = client.get(_path(old))
    assert page.status_code == 410
    words = _text(page.text)
    assert f"The {AREA} service plan has been approved" in words
    assert "It was approved on 1 March 2010, when every signatory had signed version 2" in words
    assert 'name="answer"' not in page.text


@pytest.mark.parametrize("when", ["between versions", "while out for signature"])
def test_a_signatory_removed_gets_not_valid(client, db, ccs, when) -> None:
    """Cllr Gale takes the Policy and Performance portfolio from Cllr Dunn: after changes
    were asked to version 1 and before version 2, or while version 1 is out."""
    from services.planning import signoff
    from services.planning.schemas import SignatoryIn

    _submitted(ccs)
    dunn, gale = ccs.by_email(DUNN), ccs.by_email("cllr.gale@scambs.example")
    raw = links(ccs.plan.id)[dunn.id]
    if when == "between versions":
        respond(links(ccs.plan.id)[ccs.by_email(PAIRS[0][1]).id], "changes", "Add the budget.")
    pairs = [(p, gale.email if e == DUNN else e) for p, e in PAIRS]
    with write_session() as session:
        signoff.set_signatories(
            session,
            plan_id=ccs.plan.id,
            named=[SignatoryIn(**s) for s in signatories(pairs)],
            actor=actor(ccs.admin),
        )
    if when == "between versions":
        _submitted(ccs, CONTENT | {"improvement": []})
    page = client.get(_path(raw))
    assert page.status_code == 404 and "This link is not valid" in page.text
    assert AREA not in page.text  # it tells a former signatory nothing about the plan
    before = db.snapshot()
    assert client.post(_path(raw), data={"answer": "sign"}).status_code == 404
    assert client.post(_path(raw) + "/resend", data={"email": DUNN}).status_code == 200
    assert _prune(db.snapshot()) == _prune(before)  # and no new link for them
    # Their replacement sees it is the first version they were asked to sign.
    page = client.get(_path(links(ccs.plan.id)[gale.id]))
    assert page.status_code == 200
    assert "as Portfolio Holder for Policy and Performance" in _text(page.text)
    assert "This is the first version you have been asked to sign" in _text(page.text)


def test_racing_answers_on_one_link_record_one(client, ccs) -> None:
    """The same link posted twice at once (a double click): the second request waits for the
    first's transaction (the plan's row lock; SQLite's one writer) and then finds it answered."""
    from services.planning import signoff
    from services.planning.schemas import Response

    _submitted(ccs)
    dunn = ccs.by_email(DUNN)
    raw = links(ccs.plan.id)[dunn.id]
    answers: list[Any] = []
    second_done = threading.Event()

    def second() -> None:
        answers.append(client.post(_path(raw), data={"answer": "changes", "comment": "No"}))
        second_done.set()

    with write_session() as first:
        signoff.respond_by_link(
            first, raw=raw, data=Response(answer="sign"), address="198.51.100.7"
        )
        racer = threading.Thread(target=second)
        racer.start()
        assert not second_done.wait(timeout=1.0)  # it waits for this transaction
    racer.join(timeout=30)
    (late,) = answers
    assert late.status_code == 410
    assert "already answered version 1" in late.text and "You signed it on" in _text(late.text)
    assert _responses() == [(dunn.id, "signed", "")]
    assert plan(ccs.plan.id).status == PlanStatus.submitted


def test_guessing_links_is_throttled(client, ccs, monkeypatch) -> None:
    from core.settings import get_settings

    _submitted(ccs)
    raw = links(ccs.plan.id)[ccs.by_email(DUNN).id]
    monkeypatch.setenv("SIGNOFF_LINK_MISSES_PER_CLIENT", "3")
    get_settings.cache_clear()
    for _ in range(5):
        assert client.get(_path(raw)).status_code == 200  # a real link never counts
    junk = ["A" * 43, "not-a-token", "B" * 42 + "%3Cscript%3E"]
    assert [client.get(_path(j)).status_code for j in junk] == [404, 404, 404]
    refused = client.get(_path("C" * 43))
    assert refused.status_code == 429 and "Too many attempts" in refused.text
    # Once refused, every sign-off route is refused, the real link included.
    assert client.get(_path(raw)).status_code == 429
    assert client.post(_path(raw), data={"answer": "sign"}).status_code == 429
    assert client.post(_path(raw) + "/resend", data={"email": DUNN}).status_code == 429
    assert _responses() == []
    with clock.frozen(at("2010-02-01", "09:11")):
        assert client.get(_path(raw)).status_code == 200  # the window has passed
