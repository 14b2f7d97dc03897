"""The planning calendar (services/planning/calendar.py) over the 2010/11 cycle, day by day.

Six service plans, each with one Portfolio Holder to sign it, on a cycle that opens on
Monday 4 January 2010, wants drafts by Friday 12 February and sign-off by Wednesday 31 March
(Easter: Good Friday 2 April and Easter Monday 5 April are bank holidays). The clock is frozen
at 08:00 London time each day (the flow's hour); every run's mail goes to the real SMTP
server, and what it accepted is the record of who was told what, and when.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select
from support.factories import deliver
from support.performance import at, import_card, import_people, registered
from support.planning import (
    add_plan,
    import_councillors,
    links,
    open_cycle,
    plan,
    respond,
    submit,
)
from support.processes import signoff

from core import clock
from core.db import read_session, write_session
from models import OutboxMessage
from models.performance import Figure, FigureRevision, Measure, Scorecard
from models.planning import PlanningCycle, PlanStatus
from services.planning import calendar

TEAM = "Performance Team"
TEAM_EMAIL = "performance@scambs.example"
CALENDAR = {
    "opens_on": date(2010, 1, 4),
    "objectives_by": date(2010, 1, 15),
    "drafts_due": date(2010, 2, 12),
    "signoff_by": date(2010, 3, 31),
}
# service area -> (owner, their title, the Portfolio Holder who signs it)
PLANS = {
    "Community and Customer Services": ("Paul Howes", "Corporate Manager", "cllr.dunn"),
    "Partnerships": ("Gemma Barron", "Partnerships Manager", "cllr.hartley"),
    "Communications": ("Georgina Hayward", "Communications Manager", "cllr.cole"),
    "Electoral Services": ("Paul Williams", "Electoral Services Manager", "cllr.fisher"),
    "Policy and Performance": ("Richard May", "Policy and Performance Manager", "cllr.dunn"),
    "Corporate Services": ("Steve Hampson", "Executive Director", "cllr.ellis"),
}
CCS, PART, COMMS, ELEC, PP, CORP = PLANS


def kickoff(area: str) -> str:
    return f"Service planning 2010/11: please draft the {area} plan by 12 February 2010"


def remind(deadline: str, days: int) -> str:
    if deadline == "drafts":
        return f"Reminder: draft service plans are due by 12 February 2010 ({days} working days)"
    return f"Reminder: service plans must be signed off by 31 March 2010 ({days} working days)"


def late(area: str, number: int) -> str:
    return f"Late: the {area} service plan 2010/11 (reminder {number})"


def copy(area: str, number: int) -> str:
    return f"Still not submitted: the {area} service plan 2010/11 (reminder {number})"


def summary(day: date, approved: int) -> str:
    return f"Service plans 2010/11 on {day.day} {day:%B %Y}: {approved} of 6 approved"


OURS = re.compile(
    r"^(Service planning |Reminder: draft |Reminder: service plans |Late: |Still not submitted|"
    r"Service plans 2010/11 on )"
)


def set_up(factory: Any, areas: tuple[str, ...] = tuple(PLANS)) -> dict[str, Any]:
    """The people, the performance team, the CCS 09/10 scorecard (it has PP4), and the 2010/11
    cycle with the plans of `areas`, all set up in December 2009."""
    with clock.frozen(at("2009-12-14", "12:00")):
        import_people()
        import_councillors()
        import_card()
        admin = factory.person(TEAM, admin=True, email=TEAM_EMAIL)
        open_cycle(admin, **CALENDAR)
        people = registered()
        ids = {}
        for area in areas:
            owner, title, signer = PLANS[area]
            signatory = {"email": f"{signer}@scambs.example", "role": "portfolio_holder"}
            ids[area] = add_plan(
                admin,
                area=area,
                owner_email=people[owner].email,
                owner_title=title,
                signatories=[signatory | {"portfolio": area}],
            ).id
    return {"people": registered(), "admin": admin, "plans": ids}


@pytest.fixture
def cycle(env: Any, factory: Any) -> dict[str, Any]:
    return set_up(factory)


def days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(n) for n in range((end - start).days + 1)]


def run_day(day: date, hhmm: str = "08:00") -> calendar.DayReport:
    with clock.frozen(at(day.isoformat(), hhmm)), write_session() as s:
        return calendar.run_day(s)


def quiet(report: calendar.DayReport) -> bool:
    """A run that found nothing left to do."""
    steps = report.chase.steps if report.chase else []
    return not (report.told or report.kicked_off or report.pp4 or steps)


Mail = tuple[str, str]  # (recipient's name, subject)


def simulate(
    smtp: Any,
    people: dict[str, Any],
    run_on: list[date],
    events: dict[date, Callable[[], None]],
) -> tuple[dict[date, list[Mail]], dict[date, list[Any]]]:
    """Each day: the 08:00 run twice and delivery; the day's events at 11:00 and delivery;
    a 17:30 run and delivery. What the SMTP server accepted each day, as sorted (name,
    subject), and the messages themselves."""
    names = {p.email: name for name, p in people.items()}
    timeline: dict[date, list[Mail]] = {}
    messages: dict[date, list[Any]] = {}
    for day in run_on:
        smtp.reset()
        run_day(day)
        assert quiet(run_day(day)), (day, run_day(day).lines())
        with clock.frozen(at(day.isoformat(), "08:05")):
            deliver()
        if day in events:
            with clock.frozen(at(day.isoformat(), "11:00")):
                events[day]()
            with clock.frozen(at(day.isoformat(), "11:05")):
                deliver()
        evening = run_day(day, "17:30")
        assert quiet(evening), (day, evening.lines())
        with clock.frozen(at(day.isoformat(), "17:35")):
            deliver()
        assert all(len(m.rcpt_tos) == 1 for m in smtp.messages)
        timeline[day] = sorted((names[m.rcpt_tos[0]], m.subject) for m in smtp.messages)
        messages[day] = smtp.messages
    return timeline, messages


def submit_plan(ids: dict[str, int], people: dict[str, Any], area: str) -> Callable[[], None]:
    return lambda: submit(ids[area], people[PLANS[area][0]])


def sign(ids: dict[str, int], people: dict[str, Any], area: str, answer: str = "sign") -> Any:
    def act() -> None:
        signer = people_by_email(people)[f"{PLANS[area][2]}@scambs.example"]
        respond(links(ids[area])[signer.id], answer, "Say more about the elections budget.")

    return act


def people_by_email(people: dict[str, Any]) -> dict[str, Any]:
    return {p.email: p for p in people.values()}


def both(*acts: Callable[[], None]) -> Callable[[], None]:
    def act() -> None:
        for one in acts:
            one()

    return act


def ours(timeline: dict[date, list[Mail]]) -> dict[date, list[Mail]]:
    """The calendar's own emails each day (not the sign-off's requests, approvals, digests)."""
    return {day: [m for m in mails if OURS.match(m[1])] for day, mails in timeline.items()}


# --- the cycle ------------------------------------------------------------------------------


def test_the_cycle_tells_each_person_the_right_thing_on_the_right_day(cycle, smtp):
    """Communications is submitted on 20 January and signed on the 22nd; Community and
    Customer Services and Policy and Performance on 25 January (Cllr Dunn signs CCS on 3 March
    and asks for changes to Policy and Performance, resubmitted on the 5th and signed on the
    10th); Electoral Services on 8 February (signed 10 March); Corporate Services late, on 17
    February (signed 30 March); Partnerships late, on 19 March, signed only on 14 April."""
    people, ids = cycle["people"], cycle["plans"]
    events = {
        date(2010, 1, 20): submit_plan(ids, people, COMMS),
        date(2010, 1, 22): sign(ids, people, COMMS),
        date(2010, 1, 25): both(submit_plan(ids, people, CCS), submit_plan(ids, people, PP)),
        date(2010, 2, 8): submit_plan(ids, people, ELEC),
        date(2010, 2, 17): submit_plan(ids, people, CORP),
        date(2010, 3, 3): both(sign(ids, people, CCS), sign(ids, people, PP, "changes")),
        date(2010, 3, 5): submit_plan(ids, people, PP),
        date(2010, 3, 10): both(sign(ids, people, ELEC), sign(ids, people, PP)),
        date(2010, 3, 19): submit_plan(ids, people, PART),
        date(2010, 3, 30): sign(ids, people, CORP),
        date(2010, 4, 14): sign(ids, people, PART),
    }
    owner = {area: PLANS[area][0] for area in PLANS}
    expected: dict[date, list[Mail]] = defaultdict(list)
    expected[date(2010, 1, 4)] = [(owner[a], kickoff(a)) for a in PLANS] + [
        (TEAM, "Service planning 2010/11 has started: 6 plans")
    ]
    for day, approved in [
        ("2010-01-11", 0),
        ("2010-01-18", 0),
        ("2010-01-25", 1),
        ("2010-02-01", 1),
        ("2010-02-08", 1),
        ("2010-02-15", 1),
        ("2010-02-22", 1),
        ("2010-03-01", 1),
        ("2010-03-08", 2),
        ("2010-03-15", 4),
        ("2010-03-22", 4),
        ("2010-03-29", 4),
        ("2010-04-06", 5),  # Tuesday: Easter Monday is a bank holiday
        ("2010-04-12", 5),  # the last: two weeks after the deadline
    ]:
        expected[date.fromisoformat(day)].append((TEAM, summary(date.fromisoformat(day), approved)))
    # Ten and two working days before drafts are due, to owners of plans not yet submitted.
    expected[date(2010, 1, 29)] += [(owner[a], remind("drafts", 10)) for a in (PART, ELEC, CORP)]
    expected[date(2010, 2, 10)] += [(owner[a], remind("drafts", 2)) for a in (PART, CORP)]
    # The first working day after drafts were due, then every 5 working days; the performance
    # team is copied from the second chase.
    expected[date(2010, 2, 15)] += [(owner[PART], late(PART, 1)), (owner[CORP], late(CORP, 1))]
    for number, day in enumerate(("2010-02-22", "2010-03-01", "2010-03-08", "2010-03-15"), 2):
        expected[date.fromisoformat(day)] += [
            (owner[PART], late(PART, number)),
            (TEAM, copy(PART, number)),
        ]
    # Ten working days before sign-off; Partnerships is submitted two days later, so its owner
    # is not chased on the 22nd, and no plan is left unsubmitted two days before sign-off.
    expected[date(2010, 3, 17)] += [(owner[PART], remind("signoff", 10))]

    run_on = days("2009-12-31", "2010-04-16")
    timeline, messages = simulate(smtp, people, run_on, events)
    assert ours(timeline) == {day: sorted(expected[day]) for day in run_on}
    assert all(not timeline[d] for d in run_on if not clock.is_working_day(d))

    # What the emails say.
    (team_note,) = [m for m in messages[date(2010, 1, 4)] if m.rcpt_tos == [TEAM_EMAIL]]
    assert "Partnerships: Gemma Barron" in team_note.text
    (gemma_kickoff,) = [m for m in messages[date(2010, 1, 4)] if "Partnerships plan" in m.subject]
    assert f"/planning/plans/{ids[PART]}" in gemma_kickoff.text
    assert "Draft plans due: 12 February 2010" in gemma_kickoff.text
    assert "starts empty" in gemma_kickoff.text
    (steve_chase,) = [m for m in messages[date(2010, 2, 15)] if m.subject == late(CORP, 1)]
    assert "Corporate Services service plan (Not started, reminder 1)" in steve_chase.text
    assert "performance team has been copied" not in steve_chase.text
    (gemma_third,) = [m for m in messages[date(2010, 3, 1)] if m.subject == late(PART, 3)]
    assert "performance team has been copied" in gemma_third.text
    (copied,) = [m for m in messages[date(2010, 3, 1)] if m.subject == copy(PART, 3)]
    assert "Gemma Barron <gemma.barron@scambs.example>, reminder 3" in copied.text
    (last_summary,) = [m for m in messages[date(2010, 4, 12)] if m.rcpt_tos == [TEAM_EMAIL]]
    assert "83.3% (5 of 6 plans)" in last_summary.text
    assert "The cycle's dashboard: http://testserver/planning/2010" in last_summary.text
    assert "Partnerships (Gemma Barron): Submitted for sign-off, version 1, 0 of 1 signed." in (
        last_summary.text
    )
    assert "Waiting for: Cllr Anne Hartley. 12 days past the sign-off deadline" in last_summary.text

    _signatories_chased_one_digest_a_day(people, timeline, messages)
    _pp4_recorded_once(ids)


def _signatories_chased_one_digest_a_day(
    people: dict[str, Any], timeline: dict[date, list[Mail]], messages: dict[date, list[Any]]
) -> None:
    with read_session() as s:
        digests = s.exec(select(OutboxMessage).where(OutboxMessage.template == "chase_digest"))
        per_day = Counter(
            (d.to_person_id, d.created_at.astimezone(clock.local_tz()).date()) for d in digests
        )
    assert per_day and max(per_day.values()) == 1
    # Cllr Dunn owes two signatures a week after being asked: one email lists both.
    dunn = [m for m in messages[date(2010, 2, 2)] if m.rcpt_tos == ["cllr.dunn@scambs.example"]]
    (digest,) = dunn
    assert digest.subject == "Signoff: 2 things need your attention"
    assert CCS in digest.text and PP in digest.text
    # Partnerships: a notice before the deadline, a reminder after it, then its owner copied.
    hartley = "Cllr Anne Hartley"
    assert (hartley, "Please sign: Partnerships service plan 2010/11") in timeline[
        date(2010, 3, 29)
    ]
    assert (hartley, "Reminder: please sign: Partnerships service plan 2010/11") in timeline[
        date(2010, 4, 1)
    ]
    assert (
        "Gemma Barron",
        "Waiting for Cllr Anne Hartley's signature: Partnerships service plan",
    ) in timeline[date(2010, 4, 13)]


def _pp4_recorded_once(ids: dict[str, int]) -> None:
    with read_session() as s:
        cycle = s.exec(select(PlanningCycle)).one()
        figure, measure, card = s.exec(
            select(Figure, Measure, Scorecard)
            .join(Measure, Measure.id == Figure.measure_id)  # type: ignore[arg-type]
            .join(Scorecard, Scorecard.id == Measure.scorecard_id)  # type: ignore[arg-type]
            .where(Measure.code == "PP4", Figure.period == "2010-03")
        ).one()
        revisions = s.exec(
            select(FigureRevision).where(FigureRevision.figure_id == figure.id)
        ).all()
    assert cycle.pp4_recorded_at is not None
    assert cycle.pp4_recorded_at.astimezone(clock.local_tz()).date() == date(2010, 4, 1)
    assert card.code == "CCS-0910" and (figure.actual, figure.estimate) == (83.3, 83.3)
    assert [r.reason for r in revisions] == ["computed from the 2010/11 planning cycle"]
    assert plan(ids[PART]).status == PlanStatus.approved  # approved after: PP4 is not redone


# --- when the runs do not come every day ----------------------------------------------------


@pytest.mark.parametrize(
    ("today", "due"),
    [
        ("2010-01-28", None),  # 11 working days before Friday 12 February
        ("2010-01-29", 10),
        ("2010-02-09", 10),  # 3 working days before: still the 10-day reminder's turn
        ("2010-02-10", 2),
        ("2010-02-11", 2),  # caught up the day before: the 2-day one, not the 10-day one too
        ("2010-02-12", None),  # the deadline itself
        ("2010-02-13", None),
        # Easter 2010: Good Friday 2 April and Easter Monday 5 April are not working days, so
        # 10 working days before Friday 16 April is Wednesday 31 March, 2 before is Wednesday
        # the 14th.
        ("2010-03-30", None),
        ("2010-03-31", 10),
        ("2010-04-13", 10),
        ("2010-04-14", 2),
    ],
)
def test_which_reminder_is_due_counts_working_days(today, due):
    deadline = date(2010, 4, 16) if today >= "2010-03-01" else date(2010, 2, 12)
    assert calendar.reminder_due(date.fromisoformat(today), deadline) == due


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_days_without_a_run_are_caught_up_once(cycle, smtp):
    """The flow did not run from 27 January to 3 February, nor 12 to 19 February: each run
    after a gap sends what is still due, once, and never a reminder whose turn has passed."""
    people, ids = cycle["people"], cycle["plans"]
    told = {"2010-01-04": [t.line() for t in run_day(date(2010, 1, 4)).told]}
    for area in (CCS, COMMS, ELEC, PP, CORP):
        with clock.frozen(at("2010-01-20", "11:00")):
            submit_plan(ids, people, area)()
    for day in ("2010-01-26", "2010-02-04", "2010-02-05", "2010-02-11") + (
        "2010-02-22",
        "2010-02-23",
        "2010-03-01",
    ):
        told[day] = [t.line() for t in run_day(date.fromisoformat(day)).told]
    assert told == {
        "2010-01-04": told["2010-01-04"],
        # Tuesday, the week's first run: Monday's summary, a day late.
        "2010-01-26": ["Weekly summary to Performance Team: 0 of 6 plans approved"],
        # The 10-day reminder (its turn began on the 29th), and the week's summary (Monday's).
        "2010-02-04": [
            "Reminded Gemma Barron: drafts due 12 February 2010, 10 working days, "
            "Partnerships plan",
            "Weekly summary to Performance Team: 0 of 6 plans approved",
        ],
        "2010-02-05": [],
        # The 2-day reminder, and the summary no run sent on Monday the 8th.
        "2010-02-11": [
            "Reminded Gemma Barron: drafts due 12 February 2010, 2 working days, Partnerships plan",
            "Weekly summary to Performance Team: 0 of 6 plans approved",
        ],
        # The first chase, a week late, counts as the first: the team is not copied yet.
        "2010-02-22": [
            "Chased Gemma Barron: Partnerships plan (chase 1)",
            "Weekly summary to Performance Team: 0 of 6 plans approved",
        ],
        "2010-02-23": [],
        "2010-03-01": [
            "Chased Gemma Barron: Partnerships plan (chase 2)",
            "Copied to Performance Team: Partnerships plan (chase 2)",
            "Weekly summary to Performance Team: 0 of 6 plans approved",
        ],
    }
    assert len(told["2010-01-04"]) == 7  # six kick-offs and the team's note


# --- cycles set up late, plans added late, owners who have left -----------------------------


def _ph(area: str) -> list[dict[str, str]]:
    return [{"email": f"{PLANS[area][2]}@scambs.example", "role": "portfolio_holder"}]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_cycle_set_up_after_its_deadline_emails_nobody_and_a_rolled_plan_says_so(
    env, factory, smtp
):
    """Last year's cycle, entered in December 2009 to roll its Partnerships plan forward, is
    long past its deadline: nobody is kicked off or chased for it, and its PP4 (none of its
    one plan approved in time) is recorded once, on the cycle only, as no 2008/09 scorecard
    has PP4. This year's Partnerships plan is rolled forward from it, and its kick-off says so."""
    with clock.frozen(at("2009-12-14", "12:00")):
        import_people()
        import_councillors()
        admin = factory.person(TEAM, admin=True, email=TEAM_EMAIL)
        open_cycle(admin, year=2009)
        add_plan(
            admin,
            year=2009,
            area=PART,
            owner_email="gemma.barron@scambs.example",
            signatories=_ph(PART),
        )
        open_cycle(admin, **CALENDAR)
        rolled = add_plan(
            admin, area=PART, owner_email="gemma.barron@scambs.example", signatories=[]
        )
    assert rolled.rolled_from_id is not None
    first = run_day(date(2010, 1, 4))
    assert first.kicked_off == ["2010/11"]
    assert [t.line() for t in first.told] == [
        "Cycle opened, told Performance Team: 1 plans",
        "Kick-off to Gemma Barron: Partnerships plan 2010/11, rolled forward",
    ]
    (pp4,) = first.pp4
    assert pp4.line() == (
        "PP4 for the 2009/10 cycle: 0.0% (0 of 1 plans); no scorecard for 2008/09 has a "
        "measure PP4: recorded on the cycle only"
    )
    assert quiet(run_day(date(2010, 1, 4)))
    with read_session() as s:
        cycles = {c.year: c for c in s.exec(select(PlanningCycle))}
    assert cycles[2009].kicked_off_at is None and cycles[2009].pp4_recorded_at is not None
    with clock.frozen(at("2010-01-04", "08:05")):
        deliver()
    (mail,) = smtp.to("gemma.barron@scambs.example")
    assert "rolled forward from last year's" in mail.text
    assert "Its signatories are last year's" in mail.text
    assert "rolled forward from last year" in mail.html


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_plan_added_late_is_kicked_off_and_an_owner_who_left_is_noted(env, smtp, factory):
    """Electoral Services' plan is added after drafts were due: its owner gets the kick-off
    the next morning, saying drafts were due, and is first chased 5 working days later. Steve
    Hampson leaves: his plan's chases stop and the run says so."""
    cycle = set_up(factory, (CCS, PART, COMMS, PP, CORP))
    people, ids = cycle["people"], cycle["plans"]
    assert len(run_day(date(2010, 1, 4)).told) == 6  # five owners and the team's note
    for area in (CCS, COMMS, PP, PART):
        with clock.frozen(at("2010-01-20", "11:00")):
            submit_plan(ids, people, area)()
    with clock.frozen(at("2010-02-14", "12:00")):  # a Sunday
        add_plan(
            cycle["admin"],
            area=ELEC,
            owner_email=people["Paul Williams"].email,
            signatories=_ph(ELEC),
        )
        with write_session() as s:
            from models import Person

            s.get(Person, people["Steve Hampson"].id).active = False
    smtp.reset()
    told = {}
    for day in days("2010-02-15", "2010-02-23"):
        if clock.is_working_day(day):
            report = run_day(day)
            told[day.isoformat()] = [t.line() for t in report.told if t.what != "summary"]
            assert report.notes == [
                "The Corporate Services plan's owner can no longer be emailed: give the plan "
                "an active owner"
            ]
    assert told == {
        # Not chased the day it is kicked off, though drafts were due on the 12th.
        "2010-02-15": ["Kick-off to Paul Williams: Electoral Services plan 2010/11"],
        "2010-02-16": [],
        "2010-02-17": [],
        "2010-02-18": [],
        "2010-02-19": [],
        "2010-02-22": ["Chased Paul Williams: Electoral Services plan (chase 1)"],
        "2010-02-23": [],
    }
    with clock.frozen(at("2010-02-23", "08:05")):
        deliver()
    kickoff_mail, chase_mail = smtp.to("paul.williams@scambs.example")
    assert "Draft plans were due on 12 February 2010" in kickoff_mail.text
    assert chase_mail.subject == late(ELEC, 1)
    assert smtp.to("steve.hampson@scambs.example") == []


# --- two runs at once -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_two_runs_at_once_kick_off_once(cycle, smtp):
    """Two runs of the same morning on PostgreSQL: the second read the cycle as not kicked
    off, but its kick-off UPDATE waits for the first run's transaction, then finds the cycle
    kicked off, and the second run emails nobody. Without the conditional UPDATE every owner
    would be kicked off twice (the keys would still save them the second email)."""
    import threading

    second: list[calendar.DayReport] = []
    second_done = threading.Event()

    def run_again() -> None:  # under the clock the main thread froze (one clock a process)
        with write_session() as s:
            second.append(calendar.run_day(s))
        second_done.set()

    with clock.frozen(at("2010-01-04", "08:00")):
        with write_session() as s:
            first = calendar.run_day(s)
            racer = threading.Thread(target=run_again)
            racer.start()
            assert not second_done.wait(timeout=1.0)  # it waits for this transaction
        racer.join(timeout=60)
    assert (first.kicked_off, len(first.told)) == (["2010/11"], 7)
    (other,) = second
    assert (other.kicked_off, other.told) == ([], [])
    with clock.frozen(at("2010-01-04", "08:05")):
        deliver()
    assert len(smtp.messages) == 7  # six owners and the team, once each


# --- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_signoff_planning_run_does_one_day_and_refuses_a_bad_day(cycle, env, smtp, db):
    url = env.database_url
    before = db.snapshot()
    bad = signoff(url, smtp.port, "planning", "run", "--today", "2010-13-01")
    assert bad.returncode == 2 and "'2010-13-01' is not a date (YYYY-MM-DD)" in bad.stderr
    far = signoff(url, smtp.port, "planning", "run", "--today", "1999-12-31")
    assert far.returncode == 2 and "is not a day from 2000 to 2100" in far.stderr
    assert db.snapshot() == before and "Traceback" not in bad.stderr + far.stderr

    done = signoff(url, smtp.port, "planning", "run", "--today", "2010-01-04")
    assert done.returncode == 0, done.stderr
    summary_line, *lines = done.stdout.splitlines()
    said = json.loads(summary_line)
    assert (said["today"], said["kicked_off"], said["kickoff"], said["kickoff_team"]) == (
        "2010-01-04",
        ["2010/11"],
        6,
        1,
    )
    assert lines[0] == "Planning cycle 2010/11 kicked off"
    assert "Kick-off to Gemma Barron: Partnerships plan 2010/11" in lines
    # Queued, as `signoff performance chase` does; the outbox deliverer sends them.
    deliver()
    assert len(smtp.messages) == 7
    again = signoff(url, smtp.port, "planning", "run", "--today", "2010-01-04")
    assert again.returncode == 0 and again.stdout.splitlines()[1:] == []
    assert json.loads(again.stdout)["kickoff"] == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_hostile_service_area_is_text_in_every_email(env, factory, smtp):
    area = 'Parks & <b>Open</b> "Spaces" | <script>alert(1)</script>'
    with clock.frozen(at("2009-12-14", "12:00")):
        import_people()
        import_councillors()
        admin = factory.person(TEAM, admin=True, email=TEAM_EMAIL)
        open_cycle(admin, **CALENDAR)
        add_plan(admin, area=area, owner_email="gemma.barron@scambs.example", signatories=[])
    report = run_day(date(2010, 1, 4))
    assert f"Kick-off to Gemma Barron: {area} plan 2010/11" in report.lines()
    for day in ("2010-01-04", "2010-01-11"):
        run_day(date.fromisoformat(day))
        with clock.frozen(at(day, "08:05")):
            deliver()
    (owner_mail,) = smtp.to("gemma.barron@scambs.example")
    assert owner_mail.subject == kickoff(area)
    team_mails = smtp.to(TEAM_EMAIL)
    assert len(team_mails) == 2  # the cycle's note and the first weekly summary
    for mail in [owner_mail, *team_mails]:
        assert area in mail.text
        assert "<script>" not in mail.html and "<b>Open</b>" not in mail.html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
