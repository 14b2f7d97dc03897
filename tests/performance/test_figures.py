"""Entering figures (services/performance/figures.py): an officer's return submitted all
together or not at all; "data unavailable" with a reason; revisions kept with who, when and
why; an officer's override of an AMBER or RED colour, audited and shown beside the computed one.

Ian Salter's December 2009 figures are left out of the real scorecard, so his return asks for
his six quarterly measures (PP18, PP19, PP20, PP21, PP22, PP5; percentages, higher is better).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from support.performance import (
    CODE,
    PERIOD,
    actor,
    at,
    card_rows,
    entry_from_file,
    import_card,
    measures,
    open_returns,
    return_of,
    sqlite_only,
)

from core import clock
from core.db import read_session, write_session
from models import AuditEvent, Step
from models.performance import Figure, FigureReturn, Rag, ReturnStatus, Scorecard
from services.performance import chasing, figures, one_figure, report
from services.performance.figures import Entry, EntryErrors
from services.platform.errors import Conflict, Invalid

SALTERS = ["PP18", "PP19", "PP20", "PP21", "PP22", "PP5"]


@pytest.fixture
def salter(people: dict[str, Any]) -> Any:
    """Ian Salter, whose return for December 2009 was opened on Monday 4 January 2010."""
    with clock.frozen(at("2009-12-31", "12:00")):
        import_card(card_rows(blank=("Ian Salter",)))
    assert open_returns("2010-01-04") == 3  # with Gemma Barron's SX057, Neil Weston's NI016
    return people["Ian Salter"]


def ids() -> dict[str, int]:
    return {code: m.id for code, m in measures().items()}


def good_entries() -> dict[int, Entry]:
    return {ids()[code]: entry_from_file(code) for code in SALTERS}


def submit(officer: Any, entries: dict[int, Entry], when: str = "2010-01-12") -> int:
    with clock.frozen(at(when)), write_session() as s:
        ret = s.get(FigureReturn, return_of(officer).id)
        return figures.submit_return(s, ret=ret, entries=entries, actor=actor(officer))


def figure(code: str, period: str = PERIOD) -> Figure | None:
    with read_session() as s:
        return s.exec(
            select(Figure).where(Figure.measure_id == ids()[code], Figure.period == period)
        ).first()


def rows_by_code(day: str = "2010-01-22") -> dict[str, report.Row]:
    with read_session() as s:
        card = s.exec(select(Scorecard).where(Scorecard.code == CODE)).one()
        return {
            r.measure.code: r
            for r in report.rows(s, scorecard=card, period=PERIOD, today=at(day).date())
        }


# --- a return, all together -----------------------------------------------------------------


@sqlite_only
def test_the_return_lists_each_figure_the_officer_is_the_data_source_for(salter):
    with read_session() as s:
        items = figures.items(s, officer_id=salter.id, period=PERIOD)
    assert sorted(i.measure.code for i in items) == sorted(SALTERS)
    assert all(i.outstanding for i in items)
    assert {i.measure.code: i.target for i in items}["PP22"] == 50


def test_a_return_is_submitted_all_together(salter, db):
    assert submit(salter, good_entries()) == 6
    ret = return_of(salter)
    assert (ret.status, ret.submitted_at) == (ReturnStatus.submitted, at("2010-01-12"))
    for code in SALTERS:
        f = figure(code)
        assert f is not None and f.state == "entered" and f.version == 1, code
        assert (f.entered_by_id, f.first_entered_at) == (salter.id, at("2010-01-12"))
    assert figure("PP22").actual == 75 and figure("PP22").estimate == 100  # type: ignore[union-attr]
    with read_session() as s:
        (step,) = s.exec(select(Step).where(Step.subject_id == ret.id))
        assert step.closed_at is not None  # the chase stops
        assert all(not i.outstanding for i in figures.items(s, officer_id=salter.id, period=PERIOD))
    (audit,) = [
        a for a in db_audit("figure_return", ret.id) if a.action == "submit" and a.outcome == "ok"
    ]
    assert (audit.actor_id, audit.to_status) == (salter.id, "submitted")


def test_a_return_cannot_be_submitted_twice(salter, db):
    submit(salter, good_entries())
    before = db.snapshot()
    with pytest.raises(Conflict, match="already been submitted"):
        submit(salter, good_entries())
    # Only the refusal is recorded.
    after = db.snapshot()
    assert {t: rows for t, rows in after.items() if t != "audit_event"} == {
        t: rows for t, rows in before.items() if t != "audit_event"
    }


def db_audit(subject_type: str, subject_id: int | None) -> list[AuditEvent]:
    with read_session() as s:
        return list(
            s.exec(
                select(AuditEvent)
                .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
                .order_by(AuditEvent.id)  # type: ignore[arg-type]
            )
        )


def test_each_bad_figure_is_named_and_nothing_is_saved(salter, db):
    before = db.snapshot()
    m = ids()
    entries = good_entries() | {
        m["PP18"]: entry_from_file("PP18", actual="seventy-five"),
        m["PP19"]: entry_from_file("PP19", actual="1e309"),
        m["PP20"]: entry_from_file("PP20", actual="-5"),
        m["PP21"]: entry_from_file("PP21", actual="101"),
        m["PP22"]: entry_from_file("PP22", actual=""),  # blank, and not marked unavailable
        m["PP5"]: Entry(unavailable=True, reason="   "),  # unavailable, but no reason
    }
    with pytest.raises(EntryErrors) as refused:
        submit(salter, entries)
    errors = refused.value.errors
    assert errors == {
        m["PP18"]: "the actual must be a number, like 75 or 3.03 (not 'seventy-five')",
        m["PP19"]: "the actual must be a number, like 75 or 3.03 (not '1e309')",
        m["PP20"]: "the actual -5 is outside 0 to 100 for a percentage",
        m["PP21"]: "the actual 101 is outside 0 to 100 for a percentage",
        m["PP22"]: "enter the actual, or mark the data unavailable",
        m["PP5"]: "give the reason the data is unavailable",
    }
    assert refused.value.message == "6 figures need correcting."
    assert db.snapshot() == before


def test_a_long_commentary_and_a_red_figure_without_one_are_refused_alone(salter, db):
    before = db.snapshot()
    m = ids()
    entries = good_entries() | {
        m["PP19"]: entry_from_file("PP19", commentary="x" * 10_000),
        # 50 against a target of 75 is RED (beyond 10% of the target): say why.
        m["PP18"]: entry_from_file("PP18", actual="50", commentary=""),
    }
    with pytest.raises(EntryErrors) as refused:
        submit(salter, entries)
    assert refused.value.errors == {
        m["PP19"]: "keep the commentary to 2,000 characters (it has 10,000)",
        m["PP18"]: "this figure is not GREEN: say why in the commentary",
    }
    assert refused.value.message == "2 figures need correcting."
    assert db.snapshot() == before  # the four good figures were not saved either


@sqlite_only
def test_a_red_or_amber_figure_with_commentary_is_accepted(salter):
    m = ids()
    entries = good_entries() | {
        m["PP18"]: entry_from_file("PP18", actual="50", commentary="Two posts vacant."),
        # On target now, but the year-end estimate of 95 misses 100: AMBER, so say why.
        m["PP19"]: entry_from_file("PP19", estimate="95", commentary="Slipping in Q4."),
    }
    assert submit(salter, entries) == 6
    assert figure("PP18").commentary == "Two posts vacant."  # type: ignore[union-attr]
    rows = rows_by_code()
    assert rows["PP18"].current.reported is Rag.red
    assert rows["PP19"].projected.reported is Rag.amber


@sqlite_only
def test_an_amber_estimate_without_commentary_is_refused(salter):
    m = ids()
    with pytest.raises(EntryErrors) as refused:
        submit(salter, good_entries() | {m["PP19"]: entry_from_file("PP19", estimate="95")})
    assert refused.value.errors == {
        m["PP19"]: "this figure is not GREEN: say why in the commentary"
    }


def test_data_unavailable_with_a_reason_counts_as_in_and_is_not_chased(salter, people, smtp):
    m = ids()
    reason = "No extract could be taken from the consultation system this quarter."
    entries = good_entries() | {m["PP5"]: Entry(unavailable=True, reason=reason)}
    assert submit(salter, entries) == 6
    f = figure("PP5")
    assert f is not None
    assert (f.state, f.unavailable_reason, f.actual, f.estimate) == (
        "unavailable",
        reason,
        None,
        None,
    )
    row = rows_by_code()["PP5"]
    assert (row.state, row.current.reported, row.projected.reported) == (
        "unavailable",
        Rag.grey,
        Rag.grey,
    )
    tally = report.Tally()
    tally.add(row)
    assert tally.entered == 1  # counts as in for completeness
    # Monday 18 January, the first chase: the others are chased, Ian Salter is not.
    with clock.frozen(at("2010-01-18")), write_session() as s:
        day = chasing.run_day(s)
    chased = [line for line in day.chase.lines()] if day.chase else []
    assert chased and not [line for line in chased if "Ian Salter" in line]
    assert "Ian Salter" not in [r["officer"] for r in day.late]


# --- revising -------------------------------------------------------------------------------


def test_a_revision_keeps_who_when_and_why(salter, people, db):
    submit(salter, good_entries())
    manager = people["Paul Swift"]  # PP22's responsible officer
    with read_session() as s:
        measure = s.get(type(measures()["PP22"]), ids()["PP22"])
    before = db.snapshot()
    for reason in ("", "   "):
        with pytest.raises(Invalid, match="Say why the figure is being revised"):
            revise("PP22", measure, Entry(actual="70", estimate="100"), reason, manager)
    with pytest.raises(Invalid, match="The actual 170 is outside 0 to 100"):
        revise("PP22", measure, Entry(actual="170"), "typo", manager)
    assert db.snapshot() == before
    with clock.frozen(at("2010-01-20", "14:30")):
        revise("PP22", measure, Entry(actual="70", estimate="100"), "Q3 recount", manager)
    f = figure("PP22")
    assert f is not None and (f.actual, f.version, f.entered_by_id) == (70, 2, manager.id)
    assert f.first_entered_at == at("2010-01-12")  # lateness reads the first entry
    with read_session() as s:
        revs = figures.revisions(s, figure_id=f.id)
    assert [(r.version, r.actual, r.by_id, r.at, r.reason) for r in revs] == [
        (1, 75, salter.id, at("2010-01-12"), ""),
        (2, 70, manager.id, at("2010-01-20", "14:30"), "Q3 recount"),
    ]


def revise(code: str, measure: Any, entry: Entry, reason: str, by: Any) -> Figure:
    f = figure(code)
    assert f is not None
    with write_session() as s:
        return one_figure.enter_one(
            s,
            measure=measure,
            period=f.period,
            entry=entry,
            reason=reason,
            version=f.version,
            actor=actor(by),
        )


# --- overriding RAG -------------------------------------------------------------------------


def override(code: str, by: Any, **kwargs: Any) -> Figure:
    row = rows_by_code()[code]
    with clock.frozen(at("2010-01-19")), write_session() as s:
        f = s.get(Figure, row.figure.id)  # type: ignore[union-attr]
        return figures.override(
            s,
            figure=f,
            computed_current=row.current.computed,
            computed_projected=row.projected.computed,
            actor=actor(by),
            **kwargs,
        )


def test_an_override_of_red_is_shown_beside_the_computed_colour_and_audited(card, people, db):
    # PP25: 0 against a target of 100 (and an estimate of 0 for the year): RED twice.
    row = rows_by_code()["PP25"]
    assert (row.current.computed, row.projected.computed) == (Rag.red, Rag.red)
    officer = people["Paul Knight"]
    before = db.counts()
    override(
        "PP25", officer, current=Rag.amber, projected=None, reason="New system live in February."
    )
    row = rows_by_code()["PP25"]
    assert (row.current.computed, row.current.reported, row.current.overridden) == (
        Rag.red,
        Rag.amber,
        True,
    )
    assert (row.projected.reported, row.projected.overridden) == (Rag.red, False)
    f = row.figure
    assert f is not None
    assert (f.override_reason, f.override_by_id, f.override_at) == (
        "New system live in February.",
        officer.id,
        at("2010-01-19"),
    )
    (event,) = db_audit("figure", f.id)
    assert (event.action, event.actor_id, event.outcome) == ("override", officer.id, "ok")
    assert event.detail == "current red->amber, projected red->-: New system live in February."
    assert db.counts()["audit_event"] == before["audit_event"] + 1
    # Withdrawn, the computed colour is reported again.
    override("PP25", officer, current=None, projected=None, reason="")
    row = rows_by_code()["PP25"]
    assert (row.current.reported, row.current.overridden, row.figure.override_reason) == (  # type: ignore[union-attr]
        Rag.red,
        False,
        "",
    )


@sqlite_only
def test_only_amber_or_red_can_be_overridden_only_to_amber_or_red_with_a_reason(card, people, db):
    officer = people["Paul Knight"]
    assert rows_by_code()["PP24"].current.computed is Rag.green  # 100 against 100
    before = db.snapshot()
    refusals = [
        ("PP24", {"current": Rag.red, "projected": None, "reason": "Feels worse."}),
        ("PP25", {"current": Rag.green, "projected": None, "reason": "Nearly there."}),
        ("PP25", {"current": Rag.grey, "projected": None, "reason": "Unsure."}),
        ("PP25", {"current": None, "projected": Rag.green, "reason": "Nearly there."}),
    ]
    for code, kwargs in refusals:
        with pytest.raises(Invalid, match="Only an AMBER or RED colour can be overridden"):
            override(code, officer, **kwargs)
    for reason in ("", "  \n "):
        with pytest.raises(Invalid, match="Give the reason for the override"):
            override("PP25", officer, current=Rag.amber, projected=None, reason=reason)
    with pytest.raises(Invalid, match="Keep the reason to 500 characters"):
        override("PP25", officer, current=Rag.amber, projected=None, reason="x" * 501)
    assert db.snapshot() == before
