"""The figure-entry pages as officers use them: the emailed link (GET shows, POST submits all
the figures together) and the same page signed in. Bad input is refused with each figure's
error named and nothing saved; a used, forged or expired link changes nothing.

Ian Salter is the data source for six quarterly figures of the CCS scorecard; his December
2009 figures are left out of the import, so the run of 4 January 2010 opens his return.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import select
from support.ids import case_id
from support.pages import csrf_token_of
from support.performance import at, card_rows, import_card

from core import clock
from core.db import read_session, write_session

OFFICER = "Ian Salter"
JAN_5 = at("2010-01-05", "10:00")


@pytest.fixture
def opened(people: dict[str, Any], factory: Any) -> dict[str, Any]:
    """Ian Salter's return for December 2009, opened on 4 January 2010, and his raw link."""
    from models import ActionToken
    from models.performance import FigureReturn
    from services.performance import chasing

    with clock.frozen(at("2009-12-31", "12:00")):
        import_card(card_rows(blank=(OFFICER,)))
    with clock.frozen(at("2010-01-04")), write_session() as s:
        chasing.run_day(s, today=date(2010, 1, 4))
    officer = people[OFFICER]
    with read_session() as s:
        ret = s.exec(select(FigureReturn).where(FigureReturn.officer_id == officer.id)).one()
        token = s.exec(
            select(ActionToken).where(
                ActionToken.purpose == "enter_figures", ActionToken.person_id == officer.id
            )
        ).one()
        from services.performance import figures

        items = figures.items(s, officer_id=officer.id, period="2009-12")
    return {
        "officer": officer,
        "return_id": ret.id,
        "raw": factory.raw_link(token),
        "items": {i.measure.code: i for i in items},
    }


def _good(items: dict[str, Any]) -> dict[str, str]:
    """A form that meets every target (so no commentary is needed)."""
    form = {}
    for item in items.values():
        key = f"f{item.measure.id}"
        on_target = "100" if item.measure.polarity == "higher" else "0"
        form |= {f"{key}_actual": on_target, f"{key}_estimate": on_target}
    return form


def _state(db: Any) -> dict[str, list]:
    snap = db.snapshot()
    return {
        t: snap[t] for t in ("figure", "figure_revision", "figure_return", "step", "action_token")
    }


def test_opening_the_link_shows_every_figure_and_changes_nothing(client, db, opened):
    before = db.snapshot()
    with clock.frozen(JAN_5):
        page = client.get(f"/figures/{opened['raw']}")
        head = client.head(f"/figures/{opened['raw']}")
    assert page.status_code == 200 and head.status_code == 200
    assert "Enter your figures for December 2009" in page.text
    assert "Ian Salter" in page.text and "Opening this page has changed nothing" in page.text
    for code, item in opened["items"].items():
        assert code in page.text and f'name="f{item.measure.id}_actual"' in page.text
    assert f"Submit {len(opened['items'])} figures" in page.text
    assert db.snapshot() == before


def test_submitting_by_link_saves_every_figure_and_stops_the_chase(client, db, opened):
    with clock.frozen(JAN_5):
        done = client.post(f"/figures/{opened['raw']}", data=_good(opened["items"]))
        again = client.get(f"/figures/{opened['raw']}")
    assert done.status_code == 200 and "Figures submitted" in done.text
    assert f"{len(opened['items'])} figures for December 2009" in done.text
    from models import Step
    from models.performance import Figure, FigureReturn, FigureRevision

    with read_session() as s:
        ret = s.get(FigureReturn, opened["return_id"])
        assert ret.status == "submitted" and ret.submitted_at is not None
        ids = [i.measure.id for i in opened["items"].values()]
        saved = s.exec(
            select(Figure).where(Figure.measure_id.in_(ids), Figure.period == "2009-12")
        ).all()
        assert len(saved) == len(ids)
        assert all(f.entered_by_id == opened["officer"].id for f in saved)
        revisions = s.exec(
            select(FigureRevision).where(FigureRevision.figure_id.in_([f.id for f in saved]))
        ).all()
        assert len(revisions) == len(ids)
        step = s.exec(
            select(Step).where(Step.subject_type == "figure_return", Step.subject_id == ret.id)
        ).one()
        assert step.closed_at is not None and step.outcome == "submitted"
    # The link is spent: it shows what happened and a second submission changes nothing.
    assert again.status_code == 410 and "have been submitted" in again.text
    before = _state(db)
    with clock.frozen(JAN_5):
        twice = client.post(f"/figures/{opened['raw']}", data=_good(opened["items"]))
    assert twice.status_code == 410 and "already been submitted" in twice.text
    assert _state(db) == before
    assert db.counts()["audit_refused"] == 1  # the refused second use is on the record


BAD_VALUES = [
    ("text", "seventy", "must be a number"),
    ("overflow", "1e309", "must be a number"),
    ("negative percentage", "-5", "outside 0 to 100"),
    ("over a hundred percent", "101", "outside 0 to 100"),
    ("blank", "", "enter the actual"),
]


@pytest.mark.parametrize("case,value,message", BAD_VALUES, ids=[case_id(c[0]) for c in BAD_VALUES])
def test_a_bad_figure_is_named_and_nothing_is_saved(client, db, opened, case, value, message):
    item = opened["items"]["PP18"]  # a percentage, higher is better
    form = _good(opened["items"]) | {f"f{item.measure.id}_actual": value}
    before = _state(db)
    with clock.frozen(JAN_5):
        r = client.post(f"/figures/{opened['raw']}", data=form)
    assert r.status_code == 422
    assert message.lower() in r.text.lower()
    assert f'href="#f{item.measure.id}"' in r.text  # the error summary links to the figure
    assert "PP18: " in r.text  # and names it
    assert _state(db) == before
    # What was typed is kept, so nothing the officer entered is lost.
    other = next(i for c, i in opened["items"].items() if c != "PP18")
    assert f'value="{form[f"f{other.measure.id}_actual"]}"' in r.text


def test_a_figure_off_target_needs_a_commentary_and_one_too_long_is_refused(client, db, opened):
    item = opened["items"]["PP18"]
    key = f"f{item.measure.id}"
    red = _good(opened["items"]) | {f"{key}_actual": "10"}
    before = _state(db)
    with clock.frozen(JAN_5):
        missing = client.post(f"/figures/{opened['raw']}", data=red)
        too_long = client.post(
            f"/figures/{opened['raw']}", data=red | {f"{key}_commentary": "x" * 10_000}
        )
    assert missing.status_code == 422 and "not GREEN: say why in the commentary" in missing.text
    assert too_long.status_code == 422 and "2,000 characters" in too_long.text
    assert _state(db) == before
    with clock.frozen(JAN_5):
        ok = client.post(
            f"/figures/{opened['raw']}",
            data=red | {f"{key}_commentary": "The CorVu upgrade slipped to February."},
        )
    assert ok.status_code == 200


def test_data_unavailable_needs_a_reason_and_then_counts_as_in(client, db, opened):
    item = opened["items"]["PP18"]
    key = f"f{item.measure.id}"
    form = _good(opened["items"]) | {f"{key}_actual": "", f"{key}_unavailable": "yes"}
    with clock.frozen(JAN_5):
        refused = client.post(f"/figures/{opened['raw']}", data=form)
        accepted = client.post(
            f"/figures/{opened['raw']}",
            data=form | {f"{key}_reason": "CorVu was down all quarter."},
        )
    assert refused.status_code == 422 and "reason the data is unavailable" in refused.text
    assert accepted.status_code == 200
    from models.performance import Figure

    with read_session() as s:
        figure = s.exec(select(Figure).where(Figure.measure_id == item.measure.id)).one()
        assert figure.state == "unavailable" and figure.actual is None
        assert figure.unavailable_reason == "CorVu was down all quarter."


def test_a_forged_or_expired_link_looks_the_same_and_changes_nothing(client, db, opened):
    before = db.snapshot()
    with clock.frozen(JAN_5):
        forged = client.get("/figures/" + "A" * 43)
        junk = client.post("/figures/<script>", data=_good(opened["items"]))
    with clock.frozen(at("2010-01-30")):  # 14 days after 4 January, the link has lapsed
        expired = client.get(f"/figures/{opened['raw']}")
        expired_post = client.post(f"/figures/{opened['raw']}", data=_good(opened["items"]))
    for r in (forged, junk, expired, expired_post):
        assert r.status_code == 404
        assert "This link is not valid" in r.text
    assert "&lt;script&gt;" not in junk.text and "<script>" not in junk.text.split("</head>")[1]
    after = db.snapshot()
    assert {t: after[t] for t in after if t != "audit_event"} == {
        t: before[t] for t in before if t != "audit_event"
    }


def test_signed_in_the_officer_enters_the_same_figures_with_a_csrf_token(
    client, db, factory, opened
):
    path = f"/performance/returns/{opened['return_id']}"
    with clock.frozen(JAN_5):
        client.cookies.set("signoff_session", factory.sign_in(opened["officer"]))
        mine = client.get("/performance/figures")
        page = client.get(path)
        before = _state(db)
        forged = client.post(path, data=_good(opened["items"]))
        assert forged.status_code == 403 and _state(db) == before
        done = client.post(
            path, data=_good(opened["items"]) | {"csrf_token": csrf_token_of(client, path)}
        )
    assert "December 2009" in mine.text and path in mine.text
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    assert done.status_code == 200 and "Figures submitted" in done.text


def test_someone_elses_return_is_not_found_but_the_performance_team_may_enter_it(
    client, db, factory, opened, people
):
    path = f"/performance/returns/{opened['return_id']}"
    with clock.frozen(JAN_5):
        client.cookies.set("signoff_session", factory.sign_in(people["Paul Knight"]))
        token = csrf_token_of(client, "/sign-out")
        before = _state(db)
        assert client.get(path).status_code == 404
        assert (
            client.post(path, data=_good(opened["items"]) | {"csrf_token": token}).status_code
            == 404
        )
        assert _state(db) == before
        client.cookies.set("signoff_session", factory.sign_in(factory.admin()))
        assert client.get(path).status_code == 200
        done = client.post(
            path, data=_good(opened["items"]) | {"csrf_token": csrf_token_of(client, path)}
        )
    assert done.status_code == 200


def test_signed_out_the_return_page_sends_you_to_sign_in(client, opened):
    r = client.get(f"/performance/returns/{opened['return_id']}", follow_redirects=False)
    assert r.status_code in (302, 303) and "/sign-in" in r.headers["location"]
