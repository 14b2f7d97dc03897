"""The chase of late figures: rules a user relies on that mutation testing of
services/performance/chasing.py found unchecked.

- A return is opened only for figures still collected on the period's own scorecards.
- The performance team's daily summary lists the late officers most late first, each with their
  address, the period and every figure they owe (monthly and quarterly together).
- The performance chase chases figures only, never another process's steps.
- On a day that is not a working day the chase does nothing, and its report says so.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import select
from support.factories import deliver
from support.performance import add_measure, add_scorecard, at, import_people, registered

from core import clock
from core.db import read_session, write_session

NEIL, GEMMA, IAN = "Neil Weston", "Gemma Barron", "Ian Salter"
CARDS = (("C-0910", 2009), ("C-0809", 2008))


@pytest.fixture
def officers(env: Any, factory: Any) -> dict[str, Any]:
    """On this year's scorecard Neil Weston owes a monthly and a quarterly figure and Gemma
    Barron a monthly one; Ian Salter's only measures are no longer collected or on last year's
    scorecard. An administrator (the performance team) reads the summary."""
    with clock.frozen(at("2009-12-31", "12:00")):
        import_people()
    people = registered()
    with clock.frozen(at("2010-01-04")), write_session() as s:
        cards = {year: add_scorecard(s, code, year=year) for code, year in CARDS}
        add_measure(s, cards[2009], "N1", people[NEIL])
        add_measure(s, cards[2009], "N2", people[NEIL], frequency="quarterly")
        add_measure(s, cards[2009], "G1", people[GEMMA])
        add_measure(s, cards[2009], "I1", people[IAN], active=False)
        add_measure(s, cards[2008], "I2", people[IAN])
    admin = factory.admin()
    return people | {"admin": admin}


def _open(period: str) -> int:
    from services.performance import chasing

    with clock.frozen(at("2010-01-04")), write_session() as s:
        return chasing.open_period(s, period=period)


def _returns() -> list[tuple[int, str]]:
    from models.performance import FigureReturn

    with read_session() as s:
        rows = s.exec(select(FigureReturn).order_by(FigureReturn.id)).all()
        return [(r.officer_id, r.period) for r in rows]


def test_a_return_is_opened_only_for_figures_still_collected_on_the_periods_scorecards(
    officers: dict[str, Any],
) -> None:
    assert _open("2009-12") == 2
    opened = {officer for officer, _ in _returns()}
    assert opened == {officers[NEIL].id, officers[GEMMA].id}  # not Ian Salter


def test_the_daily_summary_lists_late_officers_most_late_first_with_all_they_owe(
    officers: dict[str, Any], smtp: Any
) -> None:
    from services.performance import chasing

    assert _open("2009-12") == 2  # due 15 January 2010
    assert _open("2009-11") == 2  # due 15 December 2009: opened later, but later still
    smtp.reset()
    monday = date(2010, 1, 18)
    with clock.frozen(at("2010-01-18")), write_session() as s:
        report = chasing.run_day(s, today=monday)
    assert report.as_dict()["late_officers"] == 4
    with clock.frozen(at("2010-01-18")):
        deliver()
    (summary,) = smtp.to(officers["admin"].email)
    assert summary.subject == "Late performance figures: 4 officers on 2010-01-18"
    lines = [x for x in summary.text.splitlines() if x.startswith("- ")]
    neil, gemma = officers[NEIL], officers[GEMMA]
    by_id = sorted([neil, gemma], key=lambda p: p.id)  # one period's returns open in id order
    owed = {(neil.id, "December 2009"): "2 figures"}
    expected = [
        f"- {p.name} <{p.email}>: {owed.get((p.id, period), '1 figure')} for {period}, "
        for period in ("November 2009", "December 2009")  # the most late first
        for p in by_id
    ]
    assert [x[: len(e)] for x, e in zip(lines, expected, strict=True)] == expected


def test_the_performance_chase_never_chases_another_processs_steps(
    factory: Any, team: Any, smtp: Any
) -> None:
    from models import OutboxMessage
    from services.performance import chasing
    from services.platform.chasing import DIGEST

    with clock.frozen(at("2010-03-01", "10:00")):
        factory.in_status(team, "awaiting_approval")  # the sponsor's decision is due 8 March
    with clock.frozen(at("2010-03-09")), write_session() as s:
        chasing.run_day(s, today=date(2010, 3, 9))
    with read_session() as s:
        assert s.exec(select(OutboxMessage).where(OutboxMessage.template == DIGEST)).all() == []


def test_on_a_saturday_the_chase_does_nothing_and_its_report_says_so(
    officers: dict[str, Any],
) -> None:
    from services.performance import chasing

    saturday = date(2010, 1, 16)
    with clock.frozen(at("2010-01-16")), write_session() as s:
        report = chasing.run_day(s, today=saturday)
    assert report.as_dict() == {
        "today": "2010-01-16",
        "opened": {},
        "chase": None,
        "late_officers": 0,
    }
    assert _returns() == []


def test_a_run_for_a_given_day_chases_as_of_that_day_whatever_the_clock_says(
    officers: dict[str, Any],
) -> None:
    """The flow takes the day to run for (an operator catching up): the returns due on 15
    January are chased on Monday the 18th even when the run happens on the 4th."""
    from services.performance import chasing

    assert _open("2009-12") == 2
    with clock.frozen(at("2010-01-04", "12:00")), write_session() as s:
        report = chasing.run_day(s, today=date(2010, 1, 18))
    chase = report.as_dict()["chase"]
    assert chase is not None and (chase["today"], chase["reminded"]) == ("2010-01-18", 2), chase
    assert report.as_dict()["late_officers"] == 2


def test_with_no_notice_days_the_notice_goes_on_the_due_date_and_is_not_yet_a_reminder(
    officers: dict[str, Any], smtp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGNOFF_FIGURES_REMIND_BEFORE=0: the notice goes on the due date itself (Friday 15
    January 2010 for December's figures). On that day the figures are due, not late: it says
    so, counts no reminder and copies nobody (found by mutation testing of the platform's
    chase: treating the due date as past it left the suite green)."""
    from core.settings import reset_settings_cache
    from models import Step
    from services.performance import chasing

    monkeypatch.setenv("SIGNOFF_FIGURES_REMIND_BEFORE", "0")
    reset_settings_cache()
    assert _open("2009-12") == 2
    with clock.frozen(at("2010-01-04", "09:05")):
        deliver()  # the returns' opening emails: only the chase from here on
    smtp.reset()
    with clock.frozen(at("2010-01-14")), write_session() as s:
        assert chasing.run_day(s, today=date(2010, 1, 14)).chase.steps == []  # not yet
    with clock.frozen(at("2010-01-15")), write_session() as s:
        report = chasing.run_day(s, today=date(2010, 1, 15))
    details = sorted(d.detail for d in report.chase.steps)
    assert details == ["before the due date 2010-01-15, fresh link"] * 2
    assert [d.action for d in report.chase.steps] == ["reminded", "reminded"]
    with read_session() as s:
        assert sorted(st.reminder_count for st in s.exec(select(Step))) == [0, 0]
    with clock.frozen(at("2010-01-15", "09:05")):
        deliver()
    subjects = sorted(m.subject for m in smtp.messages)
    assert subjects == ["Performance figures for December 2009 are due by 15 January 2010"] * 2


def test_a_copy_names_the_late_officer_their_address_and_the_due_date(
    officers: dict[str, Any], smtp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Line managers copied from the first reminder (SIGNOFF_COPY_MANAGER_FROM=1): the copy
    says who is late, at which address, for which period and due date, and how often chased
    (found by mutation testing: the copy's due date and the late officer's details could go
    missing with no test noticing)."""
    from core.settings import reset_settings_cache
    from services.performance import chasing

    monkeypatch.setenv("SIGNOFF_COPY_MANAGER_FROM", "1")
    reset_settings_cache()
    assert _open("2009-12") == 2
    with clock.frozen(at("2010-01-04", "09:05")):
        deliver()
    smtp.reset()
    with clock.frozen(at("2010-01-18")), write_session() as s:  # the first working day late
        report = chasing.run_day(s, today=date(2010, 1, 18))
    copies = [d for d in report.chase.steps if d.action == "copied"]
    assert copies, report.chase.lines()
    assert report.chase.as_dict()["copied"] == len(copies)
    from models import Person

    with read_session() as s:  # the operator's report: each late officer's manager, copied
        managers = {
            officers[name].name: s.get(Person, officers[name].manager_id) for name in (NEIL, GEMMA)
        }
    assert sorted((c.to, c.line(), c.detail) for c in copies) == sorted(
        (
            f"{manager.name} <{manager.email}>",
            f"Copied to {manager.name}: late figures of {late}, December 2009",
            "reminder 1",
        )
        for late, manager in managers.items()
    )
    with clock.frozen(at("2010-01-18", "09:05")):
        deliver()
    neil = officers[NEIL]
    about_neil = [m for m in smtp.messages if m.subject == f"Late figures: {NEIL}, December 2009"]
    assert about_neil, [m.subject for m in smtp.messages]
    for mail in about_neil:
        said = " ".join(mail.text.split())
        assert f"{NEIL} ({neil.email}) has not entered" in said
        assert "for December 2009, due by 15 January 2010, and has been chased 1 time." in said
