"""Periods and their deadlines (services/performance/periods.py): figures due on the 15th of
the month after, the report cut-off on the 21st, each moved to the next working day past
weekends and England-and-Wales bank holidays; quarters and years of the April-March
financial year; "today" as London has it, across the clock changes.

The bank holidays are checked against the `holidays` package, so the dates here are real.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import holidays
import pytest
from support.performance import set_setting

from core import clock
from models.performance import Frequency
from services.performance import periods
from services.performance.chasing import notice_on

pytestmark = pytest.mark.usefixtures("config")


def bank_holiday(day: date) -> str:
    return holidays.country_holidays("GB", subdiv="ENG", years=day.year).get(day, "")


# --- the 15th and the 21st ------------------------------------------------------------------


def test_december_2009s_figures_are_due_on_friday_15_january_and_cut_on_the_21st():
    # "By the 15th January ... many measures had not been updated"; the EMT deadline was
    # 21 January for December figures.
    assert periods.due_on("2009-12") == date(2010, 1, 15)
    assert periods.cutoff_on("2009-12") == date(2010, 1, 21)


@pytest.mark.parametrize(
    ("period", "fifteenth", "due"),
    [
        ("2009-07", date(2009, 8, 15), date(2009, 8, 17)),  # a Saturday
        ("2009-10", date(2009, 11, 15), date(2009, 11, 16)),  # a Sunday
        ("2010-04", date(2010, 5, 15), date(2010, 5, 17)),  # a Saturday
        ("2010-12", date(2011, 1, 15), date(2011, 1, 17)),  # a Saturday
    ],
)
def test_a_15th_at_the_weekend_moves_the_due_date_to_monday(period, fifteenth, due):
    assert fifteenth.weekday() >= 5
    assert periods.due_on(period) == due


def test_good_friday_on_the_15th_moves_the_due_date_past_easter_monday():
    # 15 April 2022 was Good Friday and 18 April Easter Monday: March 2022's figures (and the
    # quarter's and the year's) were due on Tuesday 19 April.
    assert bank_holiday(date(2022, 4, 15)) == "Good Friday"
    assert bank_holiday(date(2022, 4, 18)) == "Easter Monday"
    assert periods.due_on("2022-03") == date(2022, 4, 19)
    # The notice goes three working days before, skipping the Easter weekend's holidays.
    assert notice_on(date(2022, 4, 19)) == date(2022, 4, 12)


@pytest.mark.parametrize(
    ("setting", "day", "period", "holiday", "moved_to"),
    [
        # Easter 2010: Good Friday 2 April, Easter Monday 5 April.
        ("figures_due_day", 2, "2010-03", date(2010, 4, 2), date(2010, 4, 6)),
        ("report_cutoff_day", 5, "2010-03", date(2010, 4, 5), date(2010, 4, 6)),
        # May 2010: early May bank holiday Monday 3 May; spring bank holiday Monday 31 May is
        # past the 28th, the last day the setting allows.
        ("figures_due_day", 3, "2010-04", date(2010, 5, 3), date(2010, 5, 4)),
        # Easter 2011: Good Friday 22 April, Easter Monday 25 April.
        ("figures_due_day", 22, "2011-03", date(2011, 4, 22), date(2011, 4, 26)),
        ("report_cutoff_day", 25, "2011-03", date(2011, 4, 25), date(2011, 4, 26)),
        # May 2011: early May bank holiday Monday 2 May; the 28th is a Saturday before the
        # spring bank holiday, Monday 30 May.
        ("figures_due_day", 2, "2011-04", date(2011, 5, 2), date(2011, 5, 3)),
        ("report_cutoff_day", 28, "2011-04", date(2011, 5, 30), date(2011, 5, 31)),
    ],
)
def test_a_deadline_on_a_2010_or_2011_bank_holiday_moves_to_the_next_working_day(
    monkeypatch, setting, day, period, holiday, moved_to
):
    """The councils' own days of the month (settings) land on Easter and the May bank
    holidays of 2010 and 2011."""
    assert bank_holiday(holiday), holiday
    set_setting(monkeypatch, setting, day)
    deadline = periods.due_on if setting == "figures_due_day" else periods.cutoff_on
    assert deadline(period) == moved_to


def test_the_notice_skips_the_2011_royal_wedding_and_the_may_bank_holiday():
    # Due Tuesday 3 May 2011; three working days before it, counting back past Monday 2 May
    # (bank holiday), the weekend and Friday 29 April (the royal wedding): Tuesday 26 April.
    assert bank_holiday(date(2011, 4, 29)) and bank_holiday(date(2011, 5, 2))
    assert notice_on(date(2011, 5, 3)) == date(2011, 4, 26)


def test_the_due_and_cutoff_days_are_settings(monkeypatch):
    set_setting(monkeypatch, "figures_due_day", 10)
    set_setting(monkeypatch, "report_cutoff_day", 20)
    assert periods.due_on("2009-12") == date(2010, 1, 11)  # Sunday 10th -> Monday
    assert periods.cutoff_on("2009-12") == date(2010, 1, 20)


# --- frequencies and the financial year -----------------------------------------------------


def financial_year_2009() -> list[str]:
    return [periods.shift("2009-04", n) for n in range(12)]


def test_quarterly_figures_are_due_in_july_october_january_and_april():
    quarters = [p for p in financial_year_2009() if periods.is_due(Frequency.quarterly, p)]
    assert quarters == ["2009-06", "2009-09", "2009-12", "2010-03"]
    assert [periods.due_on(p) for p in quarters] == [
        date(2009, 7, 15),
        date(2009, 10, 15),
        date(2010, 1, 15),
        date(2010, 4, 15),
    ]


def test_yearly_figures_are_due_in_april_and_half_yearly_in_october_and_april():
    yearly = [p for p in financial_year_2009() if periods.is_due(Frequency.yearly, p)]
    assert yearly == ["2010-03"]
    assert periods.due_on("2010-03") == date(2010, 4, 15)
    halves = [p for p in financial_year_2009() if periods.is_due("half-yearly", p)]
    assert halves == ["2009-09", "2010-03"]
    assert all(periods.is_due(Frequency.monthly, p) for p in financial_year_2009())


@pytest.mark.parametrize(
    ("frequency", "period", "latest"),
    [
        (Frequency.yearly, "2009-12", "2009-03"),  # a yearly measure at December: last March
        (Frequency.yearly, "2010-03", "2010-03"),
        (Frequency.yearly, "2010-02", "2009-03"),
        (Frequency.quarterly, "2009-12", "2009-12"),
        (Frequency.quarterly, "2010-02", "2009-12"),
        (Frequency.half_yearly, "2009-12", "2009-09"),
        (Frequency.monthly, "2009-11", "2009-11"),
    ],
)
def test_latest_is_the_last_period_of_the_frequency_by_then(frequency, period, latest):
    assert periods.latest(frequency, period) == latest


def test_the_financial_year_runs_april_to_march():
    assert periods.financial_year("2009-04") == 2009
    assert periods.financial_year("2010-03") == 2009
    assert periods.financial_year("2010-01") == 2009
    assert periods.financial_year("2009-03") == 2008
    assert periods.year_end(2009) == "2010-03"
    assert periods.next_due(Frequency.quarterly, "2009-12") == "2010-03"
    assert periods.next_due(Frequency.yearly, "2009-12") == "2010-03"
    assert periods.shift("2009-12", 1) == "2010-01" and periods.shift("2010-01", -1) == "2009-12"
    assert periods.label("2009-12") == "December 2009"


def test_the_period_just_ended_is_last_month():
    assert periods.ended_by(date(2010, 1, 4)) == "2009-12"
    assert periods.ended_by(date(2010, 1, 31)) == "2009-12"
    assert periods.ended_by(date(2010, 2, 1)) == "2010-01"


# --- today, as London has it ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "london_today"),
    [
        # 00:30 on Sunday 28 March 2010, the last Sunday of March: still GMT.
        (datetime(2010, 3, 28, 0, 30, tzinfo=UTC), date(2010, 3, 28)),
        # 00:30 BST on Monday 29 March 2010 is 23:30 on Sunday in UTC.
        (datetime(2010, 3, 28, 23, 30, tzinfo=UTC), date(2010, 3, 29)),
        # 00:30 BST on Sunday 31 October 2010, the last Sunday of October: 23:30 UTC Saturday.
        (datetime(2010, 10, 30, 23, 30, tzinfo=UTC), date(2010, 10, 31)),
        # 01:30 on that Sunday happens twice in London (BST, then GMT): Sunday both times.
        (datetime(2010, 10, 31, 0, 30, tzinfo=UTC), date(2010, 10, 31)),
        (datetime(2010, 10, 31, 1, 30, tzinfo=UTC), date(2010, 10, 31)),
        # 00:30 BST on Thursday 1 April 2010 is still 31 March in UTC.
        (datetime(2010, 3, 31, 23, 30, tzinfo=UTC), date(2010, 4, 1)),
    ],
)
def test_today_is_londons_date_across_the_clock_changes(instant, london_today):
    with clock.frozen(instant):
        assert clock.today() == london_today


def test_the_period_ended_is_read_from_londons_today():
    # Half past midnight BST on 1 April 2010: March has ended in London (in UTC it has not).
    with clock.frozen(datetime(2010, 3, 31, 23, 30, tzinfo=UTC)):
        assert periods.ended_by(clock.today()) == "2010-03"


# --- periods as people type them ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["2009-13", "09-12", "", "2009-1", "<script>", "2009-00", "2009/12", "1999-12", "2009-12x"],
)
def test_a_bad_period_is_refused_saying_how_to_write_one(text):
    with pytest.raises(ValueError, match=r"is not a period: give its last month as YYYY-MM"):
        periods.parse(text)


def test_a_good_period_is_taken_trimmed():
    assert periods.parse(" 2009-12 ") == "2009-12"
    assert periods.parse("2010-03") == "2010-03"
