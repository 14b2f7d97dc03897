"""The chase of late figures (services/performance/chasing.py) over January 2010, day by day.

The real scorecard is imported with Paul Knight's and Ian Salter's December figures left out,
so four officers owe figures: Gemma Barron (SX057), Paul Knight (18), Ian Salter (6) and Neil
Weston (NI016). December's figures are due on Friday 15 January 2010. The clock is frozen at
09:00 London time each day (the flow's hour); every run's mail is delivered to the real SMTP
server and what it accepted is the record of who was told what, and when.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from support.factories import deliver
from support.performance import (
    PERIOD,
    actor,
    at,
    card_rows,
    entry_from_file,
    file_rows,
    import_card,
    measures,
    return_of,
    sqlite_only,
)

from core import clock
from core.db import read_session, write_session
from models import OutboxMessage, Step
from models.performance import FigureReturn
from services.performance import chasing, entry, figures
from services.platform import action_links
from services.platform.chasing import DIGEST

FIGURES_LINK = re.compile(r"https?://[^\s\"'<>]+/figures/[A-Za-z0-9_-]+")
TEAM = "Performance Team"
GB, PK, IS, NW = "Gemma Barron", "Paul Knight", "Ian Salter", "Neil Weston"
DUE = "Performance figures for December 2009 are due by 15 January 2010"
LATE = "Late: your performance figures for December 2009"
TWO = "Signoff: 2 things need your attention"


def late_figures(name: str) -> str:
    return f"Late figures: {name}, December 2009"


def summary(officers: int, day: str) -> str:
    return f"Late performance figures: {officers} officers on {day}"


def codes_of(name: str) -> list[str]:
    """The December figures `name` owes: their quarterly measures (yearly ones are March's)."""
    return [
        r["code"]
        for r in file_rows()
        if r["data_source_officer"] == name
        and r["frequency"] == "quarterly"
        and (name in (PK, IS) or not r["actual"].strip())
    ]


@pytest.fixture
def month(people: dict[str, Any], factory: Any, smtp: Any) -> dict[str, Any]:
    """Everyone, with the performance team (an administrator) and the scorecard imported."""
    with clock.frozen(at("2009-12-31", "12:00")):
        team = factory.person(TEAM, admin=True, email="performance@scambs.example")
        import_card(card_rows(blank=(PK, IS)))
    return people | {TEAM: team}


def days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(n) for n in range((end - start).days + 1)]


def run_day(day: date, hhmm: str = "09:00") -> chasing.DayReport:
    with clock.frozen(at(day.isoformat(), hhmm)), write_session() as s:
        return chasing.run_day(s)


Mail = tuple[str, str]  # (recipient's name, subject)


def simulate(
    smtp: Any,
    people: dict[str, Any],
    run_on: list[date],
    between: dict[date, Callable[[], None]] | None = None,
) -> tuple[dict[date, list[Mail]], dict[date, list[Any]]]:
    """Each day: the 09:00 run twice, anything `between` does, delivery; then a 17:30 run and
    delivery again. What the SMTP server accepted each day, as sorted (name, subject), and the
    messages themselves."""
    names = {p.email: name for name, p in people.items()}
    timeline: dict[date, list[Mail]] = {}
    messages: dict[date, list[Any]] = {}
    for day in run_on:
        smtp.reset()
        run_day(day)
        again = run_day(day)
        assert again.chase is None or again.chase.steps == [], (day, again.chase.lines())
        with clock.frozen(at(day.isoformat(), "09:30")):
            if between and day in between:
                between[day]()
            deliver()
        late = run_day(day, "17:30")
        assert late.chase is None or late.chase.steps == [], (day, late.chase.lines())
        with clock.frozen(at(day.isoformat(), "17:35")):
            deliver()
        for m in smtp.messages:
            assert len(m.rcpt_tos) == 1, m.rcpt_tos
        timeline[day] = sorted((names[m.rcpt_tos[0]], m.subject) for m in smtp.messages)
        messages[day] = smtp.messages
    return timeline, messages


def submit_all(officer: Any) -> None:
    """The officer enters every figure they owe, on the emailed link's page (all together)."""
    ids = {code: m.id for code, m in measures().items()}
    entries = {ids[c]: entry_from_file(c) for c in codes_of(officer.name)}
    with write_session() as s:
        ret = s.get(FigureReturn, return_of(officer).id)
        figures.submit_return(s, ret=ret, entries=entries, actor=actor(officer))


def to(messages: list[Any], name: str, people: dict[str, Any]) -> Any:
    (mail,) = [m for m in messages if people[name].email in m.rcpt_tos]
    return mail


def listed(mail: Any) -> list[str]:
    """The measure codes an email lists, one a line ("- NI014a SCDC- Unnecessary ...")."""
    found = re.findall(r"^- (ACTION \d+|[A-Z]+\d+[a-z]?) ", mail.text, flags=re.MULTILINE)
    return sorted(found)


# --- the month ------------------------------------------------------------------------------


def test_a_month_of_chasing_tells_each_person_the_right_thing_on_the_right_day(month, smtp):
    """1 January to 12 February 2010. Ian Salter enters his figures on Thursday 21 January,
    after that morning's run and before its mail goes: what it queued about him is dropped."""
    people = month
    chase_day = {GB: LATE, PK: LATE, IS: LATE, NW: LATE}
    after_salter = [
        (GB, TWO),  # her own chase and a copy about Neil Weston (she is responsible for NI016)
        (PK, LATE),
        ("Paul Howes", late_figures(GB)),  # Gemma Barron's line manager
        ("Paul Swift", late_figures(PK)),  # responsible for most of Paul Knight's measures
        ("Richard May", late_figures(PK)),  # Paul Knight's line manager
        (NW, LATE),
        ("Paul Williams", late_figures(NW)),  # Neil Weston's line manager
    ]
    expected: dict[date, list[Mail]] = defaultdict(list)
    expected[date(2010, 1, 4)] = [(n, DUE) for n in (GB, PK, IS, NW)]  # the first working day
    expected[date(2010, 1, 12)] = [(n, DUE) for n in (GB, PK, IS, NW)]  # 3 working days before
    expected[date(2010, 1, 18)] = [*chase_day.items(), (TEAM, summary(4, "2010-01-18"))]
    for day in ("2010-01-19", "2010-01-20"):
        expected[date.fromisoformat(day)] = [(TEAM, summary(4, day))]
    expected[date(2010, 1, 21)] = [
        (GB, TWO),  # her chase 2 and a copy about Neil Weston; the one about Ian Salter dropped
        (PK, LATE),
        ("Paul Swift", late_figures(PK)),  # copies from chase 2: the responsible officer
        (NW, LATE),
        (TEAM, summary(4, "2010-01-21")),  # sent at 09:00, before Ian Salter's figures came in
    ]
    for day in days("2010-01-22", "2010-02-12"):
        if clock.is_working_day(day):
            expected[day] = [(TEAM, summary(3, day.isoformat()))]
    for day in ("2010-01-26", "2010-01-29", "2010-02-03", "2010-02-08", "2010-02-11"):
        expected[date.fromisoformat(day)] += after_salter  # every 2 working days, from chase 3

    timeline, messages = simulate(
        smtp,
        people,
        days("2010-01-01", "2010-02-12"),
        {date(2010, 1, 21): lambda: submit_all(people[IS])},
    )
    assert timeline == {day: sorted(expected[day]) for day in days("2010-01-01", "2010-02-12")}
    # Nothing on New Year's Day, at weekends, or on the due date itself.
    assert timeline[date(2010, 1, 1)] == [] and timeline[date(2010, 1, 15)] == []
    assert all(not timeline[d] for d in days("2010-01-01", "2010-02-12") if d.weekday() >= 5)

    # Monday 4 January: one email each, listing every figure they owe, with one link each.
    links = []
    for name in (GB, PK, IS, NW):
        mail = to(messages[date(2010, 1, 4)], name, people)
        assert listed(mail) == sorted(codes_of(name)), name
        (link,) = FIGURES_LINK.findall(mail.text)
        links.append(link)
        with read_session() as s:
            token = action_links.find(s, link.rsplit("/", 1)[1], "enter_figures")
        assert token is not None and token.person_id == people[name].id, name
        assert token.subject_id == return_of(people[name]).id
    assert len(set(links)) == 4
    assert len(listed(to(messages[date(2010, 1, 4)], PK, people))) == 18

    notice = to(messages[date(2010, 1, 12)], PK, people)
    assert "due by 15 January 2010 and 18 are still to enter" in notice.text
    assert len(FIGURES_LINK.findall(notice.text)) == 1 and listed(notice) == sorted(codes_of(PK))

    first = to(messages[date(2010, 1, 18)], PK, people)
    assert "These 18 are late" in first.text and "This is chase 1." in first.text
    assert listed(first) == sorted(codes_of(PK)) and len(FIGURES_LINK.findall(first.text)) == 1
    assert (
        "From chase 2 the responsible officer is copied, and from chase 3 your line manager."
        in first.text
    )

    # Thursday 21st: the copies name the late officer; nothing about Ian Salter went out.
    thursday = messages[date(2010, 1, 21)]
    assert not [m for m in thursday if IS in m.text and TEAM not in m.text]
    swift = to(thursday, "Paul Swift", people)
    assert "Paul Knight (paul.knight@scambs.example) has not entered 18 performance figures" in (
        swift.text
    )
    assert FIGURES_LINK.findall(swift.text) == []  # a copy carries no link to enter them
    gemma = to(thursday, GB, people)
    assert "This is chase 2." in gemma.text and "Neil Weston" in gemma.text
    assert len(FIGURES_LINK.findall(gemma.text)) == 1  # her own
    # Tuesday 26th, chase 3: the line manager is copied too.
    may = to(messages[date(2010, 1, 26)], "Richard May", people)
    assert "chased 3 times. You are copied as their line manager" in " ".join(may.text.split())
    friday = to(messages[date(2010, 1, 22)], TEAM, people)
    assert [n for n in (GB, PK, IS, NW) if n in friday.text] == [GB, PK, NW]

    # The link in the last chase works: it opens the officer's return, ready to enter.
    (link,) = FIGURES_LINK.findall(to(messages[date(2010, 2, 11)], PK, people).text)
    with clock.frozen(at("2010-02-11", "10:00")), read_session() as s:
        view = entry.by_link(s, raw=link.rsplit("/", 1)[1])
    assert (view.state, view.officer.name, len(view.outstanding)) == ("live", PK, 18)

    # The last day: Ian Salter's step is closed; the others' have been chased 7 times.
    with read_session() as s:
        steps = {
            s.get(FigureReturn, st.subject_id).officer_id: st  # type: ignore[union-attr]
            for st in s.exec(select(Step).where(Step.subject_type == "figure_return"))
        }
    counts = {n: steps[people[n].id].reminder_count for n in (GB, PK, IS, NW)}
    assert counts == {GB: 7, PK: 7, IS: 2, NW: 7}
    assert steps[people[IS].id].closed_at is not None


@sqlite_only
def test_the_day_report_says_what_was_opened_and_who_is_late(month):
    report = run_day(date(2010, 1, 4))
    assert report.opened == {PERIOD: 4} and report.late == []
    assert run_day(date(2010, 1, 4)).opened == {PERIOD: 0}  # opened once
    saturday = run_day(date(2010, 1, 16))
    assert (saturday.opened, saturday.chase, saturday.late) == ({}, None, [])
    monday = run_day(date(2010, 1, 18))
    assert [(r["officer"], r["figures"], r["days_late"], r["chases"]) for r in monday.late] == [
        (GB, 1, 3, 1),
        (PK, 18, 3, 1),
        (IS, 6, 3, 1),
        (NW, 1, 3, 1),
    ]
    assert monday.as_dict()["chase"]["reminded"] == 4
    assert monday.chase is not None
    assert sorted(monday.chase.lines()) == sorted(
        f"Reminded {n}: late figures of {n}, December 2009" for n in (GB, PK, IS, NW)
    )


# --- catching up ----------------------------------------------------------------------------


def reminders_queued() -> dict[str, list[tuple[str, int]]]:
    """Per "action:officer id": (day, chase number) of every digest item queued about them."""
    with read_session() as s:
        rows = list(s.exec(select(OutboxMessage).where(OutboxMessage.template == DIGEST)))
        returns = {r.id: r for r in s.exec(select(FigureReturn))}
    out: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for row in rows:
        day = row.idempotency_key.split(":")[2]  # chase_digest:p<person>:<day>:<items>
        for item in row.context["items"]:
            if item["action"] in ("remind", "copy"):
                ret = returns[item["subject_id"]]
                out[f"{item['action']}:{ret.officer_id}"].append((day, item["number"]))
    return out


@sqlite_only
def test_a_run_skipped_for_days_then_caught_up_sends_each_chase_once(month, smtp):
    """The scheduler was down 5-20 January and 23-28 January: the notice is past its time and
    not sent; chase 1 goes on the 21st, chase 2 on the 29th, chase 3 on 3 February, once each."""
    people = month
    run_on = [
        date(2010, 1, 4),
        *days("2010-01-21", "2010-01-22"),
        *days("2010-01-29", "2010-02-03"),
    ]
    timeline, _ = simulate(smtp, people, run_on)
    knight = {day: [s for n, s in mails if n == PK] for day, mails in timeline.items()}
    assert knight == {
        date(2010, 1, 4): [DUE],
        date(2010, 1, 21): [LATE],
        date(2010, 1, 22): [],
        date(2010, 1, 29): [LATE],
        date(2010, 1, 30): [],
        date(2010, 1, 31): [],
        date(2010, 2, 1): [],
        date(2010, 2, 2): [],
        date(2010, 2, 3): [LATE],
    }
    queued = reminders_queued()
    for name in (GB, PK, IS, NW):
        mine = queued[f"remind:{people[name].id}"]
        assert mine == [
            ("2010-01-21", 1),
            ("2010-01-29", 2),
            ("2010-02-03", 3),
        ], name
    # Copies: the responsible officer from chase 2, the line manager from chase 3.
    copied = [m for m, _ in timeline[date(2010, 1, 29)] if m in ("Paul Swift", "Richard May")]
    assert copied == ["Paul Swift"]
    assert ("Richard May", "Signoff: 2 things need your attention") in timeline[date(2010, 2, 3)]


# --- two runs at once -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize("day", ["2010-01-04", "2010-01-18"])
def test_two_runs_at_once_on_the_same_day_send_one_set_of_emails(month, smtp, env, day):
    """A real race on PostgreSQL: run A has done the day's work and not committed when run B
    starts the same day's. B waits on A's rows, then finds nothing left to do."""
    import threading
    from urllib.parse import urlsplit

    import psycopg

    people = month
    if day == "2010-01-18":
        for earlier in (date(2010, 1, 4), date(2010, 1, 12)):
            run_day(earlier)
    with clock.frozen(at(day, "08:00")):
        deliver()
    smtp.reset()
    dsn = urlsplit(env.database_url)
    watcher = psycopg.connect(
        host=dsn.hostname,
        port=dsn.port,
        user=dsn.username,
        dbname=dsn.path.lstrip("/"),
        autocommit=True,
    )
    reports: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run_b() -> None:
        try:
            with clock.frozen(at(day)), write_session() as session:
                reports["b"] = chasing.run_day(session)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with clock.frozen(at(day)):
        with write_session() as session:
            reports["a"] = chasing.run_day(session)  # done, not yet committed
            b = threading.Thread(target=run_b)
            b.start()
            waiting = 0
            for _ in range(200):  # until B waits on a row A holds
                waiting = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                ).fetchone()[0]
                if waiting:
                    break
                b.join(0.05)
            assert waiting == 1, "run B never waited for run A: no race was staged"
        b.join(30)
    watcher.close()
    assert not b.is_alive()
    assert errors == []
    with clock.frozen(at(day, "09:30")):
        deliver()
    names = {p.email: n for n, p in people.items()}
    sent = sorted((names[m.rcpt_tos[0]], m.subject) for m in smtp.messages)
    if day == "2010-01-04":
        assert sent == sorted((n, DUE) for n in (GB, PK, IS, NW))
        assert reports["a"].opened == {PERIOD: 4} and reports["b"].opened == {PERIOD: 0}
    else:
        assert sent == sorted([(n, LATE) for n in (GB, PK, IS, NW)] + [(TEAM, summary(4, day))])
        assert len(reports["a"].chase.steps) == 4 and reports["b"].chase.steps == []


# --- "today" at night, across the clock changes ---------------------------------------------


@sqlite_only
def test_a_run_at_half_past_midnight_bst_works_on_londons_day(month):
    run_day(date(2010, 3, 1))  # February's returns (no monthly measures: nothing opened)
    # 00:30 on Monday 29 March 2010, the first night of BST, is 23:30 on Sunday in UTC.
    with clock.frozen(datetime(2010, 3, 28, 23, 30, tzinfo=UTC)), write_session() as s:
        monday = chasing.run_day(s)
    assert monday.today == date(2010, 3, 29) and monday.chase is not None
    assert monday.chase.working_day and monday.opened == {"2010-02": 0}
    # 00:30 on Sunday 28 March, before the clocks went forward: a Sunday, nothing is done.
    with clock.frozen(datetime(2010, 3, 28, 0, 30, tzinfo=UTC)), write_session() as s:
        sunday = chasing.run_day(s)
    assert sunday.today == date(2010, 3, 28) and (sunday.chase, sunday.opened) == (None, {})
    # 00:30 BST on Thursday 1 April is 31 March in UTC: March has ended in London.
    with clock.frozen(datetime(2010, 3, 31, 23, 30, tzinfo=UTC)), write_session() as s:
        april = chasing.run_day(s)
    assert april.today == date(2010, 4, 1) and list(april.opened) == ["2010-03"]
    # Quarterly and yearly measures end in March: every officer with measures owes figures.
    assert april.opened["2010-03"] == len(
        {m.data_source_officer_id for m in measures().values() if m.data_source_officer_id}
    )


@sqlite_only
def test_a_run_at_half_past_midnight_on_the_last_sunday_of_october_is_a_sunday(month):
    # 00:30 BST on Sunday 31 October 2010 is 23:30 on Saturday in UTC: Sunday in London.
    with clock.frozen(datetime(2010, 10, 30, 23, 30, tzinfo=UTC)), write_session() as s:
        report = chasing.run_day(s)
    assert report.today == date(2010, 10, 31) and (report.chase, report.opened) == (None, {})
    # 00:30 GMT on Monday 1 November: a working day again, October's returns are opened.
    with clock.frozen(datetime(2010, 11, 1, 0, 30, tzinfo=UTC)), write_session() as s:
        report = chasing.run_day(s)
    assert report.today == date(2010, 11, 1) and list(report.opened) == ["2010-10"]
