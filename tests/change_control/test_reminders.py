"""Chasing RFC steps through the services, without Prefect: who is chased, when, only once.

The clock is frozen (core.clock.frozen); every other part is real: the database (SQLite and
PostgreSQL), the outbox, the SMTP server the reminders are delivered to.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from support.factories import MINOR, Db, deliver

from core import clock
from core.db import read_session, write_session
from models import ActionToken, OutboxMessage
from models.change_control import Project
from services.platform import action_links
from services.platform.chasing import DIGEST, ChaseReport, Done
from services.platform.chasing import run as send_due_reminders


def at(day: str, hhmm: str = "09:00") -> datetime:
    """An instant given in London time (GMT or BST as London had it that day)."""
    local = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=clock.local_tz())
    return local.astimezone(UTC)


def run(when: datetime, **kwargs: Any) -> ChaseReport:
    with clock.frozen(when), write_session() as session:
        return send_due_reminders(session, **kwargs)


def chase_keys() -> list[str]:
    """Every item of every digest queued, as "remind:step7:n1", "escalate:step7", "link:step7"."""
    with read_session() as s:
        rows = (
            s.query(OutboxMessage.context)
            .filter(OutboxMessage.template == DIGEST)
            .order_by(OutboxMessage.id)
            .all()
        )
    return [
        f"{i['action']}:step{i['step_id']}" + (f":n{i['number']}" if "number" in i else "")
        for (context,) in rows
        for i in context["items"]
    ]


def days(start: str, end: str) -> list[date]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def set_project(project_id: int, **values: Any) -> None:
    with write_session() as s:
        project = s.get(Project, project_id)
        for key, value in values.items():
            setattr(project, key, value)


@pytest.fixture
def impact_rfc(factory, team, smtp):  # type: ignore[no-untyped-def]
    """Submitted on Monday 1 March 2010 at 10:00: the PM's impact analysis is due Monday 8th."""
    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "impact_analysis")
        deliver()  # the "needs your impact analysis" email: only reminders from here on
    smtp.reset()
    (task,) = factory_tasks(rfc.id)
    assert task.due_on == date(2010, 3, 8)
    return rfc


def factory_tasks(rfc_id: int) -> list:
    from models import Step

    with read_session() as s:
        return list(s.query(Step).filter_by(subject_type="rfc", subject_id=rfc_id, closed_at=None))


# --- working days -------------------------------------------------------------------------


def test_working_days_skip_weekends_and_easter_bank_holidays():
    assert not clock.is_working_day(date(2010, 4, 2))  # Good Friday
    assert not clock.is_working_day(date(2010, 4, 5))  # Easter Monday
    assert not clock.is_working_day(date(2010, 3, 27))  # Saturday
    assert clock.add_working_days(date(2010, 3, 1), 5) == date(2010, 3, 8)
    # Tue 30, Wed 31, Thu 1 April, [Good Friday, weekend, Easter Monday], Tue 6, Wed 7
    assert clock.add_working_days(date(2010, 3, 29), 5) == date(2010, 4, 7)
    assert clock.add_working_days(date(2010, 12, 24), 1) == date(2010, 12, 29)  # Christmas


def test_first_reminder_goes_the_working_day_after_the_due_date(impact_rfc, team, smtp):
    assert run(at("2010-03-05")).steps == []  # Friday: not due yet
    assert run(at("2010-03-08")).steps == []  # Monday: due today, the PM still has the day
    report = run(at("2010-03-09"))
    assert [(s.action, s.ref) for s in report.steps] == [("reminded", impact_rfc.ref)]
    assert team.manager.email in report.steps[0].to
    deliver()
    (mail,) = smtp.to(team.manager.email)
    assert mail.subject == f"Reminder: {impact_rfc.ref} needs your impact analysis"
    assert "8 March 2010" in mail.text and f"/rfcs/{impact_rfc.id}/impact" in mail.text


def test_a_deadline_on_a_bank_holiday_waits_for_the_next_working_day(factory, team, smtp):
    # Submitted Monday 29 March 2010, the day after the clocks went forward: five working
    # days skip Good Friday and Easter Monday, so the analysis is due Wednesday 7 April.
    with clock.frozen(at("2010-03-29", "10:00")):
        rfc = factory.in_status(team, "impact_analysis")
    assert factory_tasks(rfc.id)[0].due_on == date(2010, 4, 7)
    for day in days("2010-03-30", "2010-04-07"):
        assert run(at(day.isoformat())).steps == [], day
    assert [s.action for s in run(at("2010-04-08")).steps] == ["reminded"]


def test_no_one_is_chased_at_the_weekend_or_on_a_bank_holiday(impact_rfc):
    # Due Monday 8 March; Saturday 13 March would be overdue, but nobody is emailed at weekends.
    report = run(at("2010-03-13"), today=date(2010, 3, 13))
    assert not report.working_day and report.steps == []
    assert [s.action for s in run(at("2010-03-15")).steps] == ["reminded"]


def test_dst_change_night_counts_in_london_days(factory, team):
    """At 00:30 BST on Monday 29 March 2010 it is still Sunday in UTC: London's day counts."""
    with clock.frozen(at("2010-03-19", "10:00")):  # a Friday: due Friday 26 March
        rfc = factory.in_status(team, "impact_analysis")
    assert factory_tasks(rfc.id)[0].due_on == date(2010, 3, 26)
    sunday_utc = datetime(2010, 3, 28, 23, 30, tzinfo=UTC)
    assert run(datetime(2010, 3, 28, 12, 0, tzinfo=UTC)).steps == []  # Sunday: nobody chased
    assert [s.action for s in run(sunday_utc).steps] == ["reminded"]
    # The next one counts five working days from Monday 29th (London), not from Sunday 28th
    # (UTC): Tue 30, Wed 31, Thu 1, Tue 6, Wed 7 -> reminder 2 on Thursday 8 April.
    assert run(at("2010-04-07")).steps == []
    assert [s.action for s in run(at("2010-04-08")).steps] == ["reminded"]


# --- once and only once -------------------------------------------------------------------


def test_a_run_repeated_the_same_day_sends_each_reminder_once(impact_rfc, team, smtp):
    assert len(run(at("2010-03-09", "09:00")).steps) == 1
    assert run(at("2010-03-09", "09:00")).steps == []
    assert run(at("2010-03-09", "17:30")).steps == []
    deliver()
    assert len(smtp.to(team.manager.email)) == 1
    assert chase_keys() == [f"remind:step{factory_tasks(impact_rfc.id)[0].id}:n1"]


def test_catching_up_after_three_days_of_downtime_sends_each_step_once(impact_rfc, team, smtp):
    """Runs every day, but the scheduler was down Tue-Thu twice: reminder 1, 2, escalation once."""
    down = set(days("2010-03-09", "2010-03-11")) | set(days("2010-03-30", "2010-04-01"))
    sent: list[tuple[date, str]] = []
    for day in days("2010-03-02", "2010-04-30"):
        if day in down:
            continue
        for _ in range(2):  # and every run happens twice
            sent += [(day, s.action) for s in run(at(day.isoformat())).steps]
    assert sent == [
        (date(2010, 3, 12), "reminded"),  # due Mon 8th; first run after the outage
        (date(2010, 3, 22), "reminded"),  # 5 working days after Friday 12th is Fri 19th
        # due Mon 29th; down Tue-Thu, then Good Friday, the weekend and Easter Monday
        (date(2010, 4, 6), "escalated"),
    ]
    task = factory_tasks(impact_rfc.id)[0]
    assert (task.reminder_count, task.escalated_at is not None) == (2, True)
    assert Counter(chase_keys()) == Counter(
        [f"remind:step{task.id}:n1", f"remind:step{task.id}:n2", f"escalate:step{task.id}"]
    )
    deliver()
    assert [m.subject for m in smtp.to(team.manager.email)] == [
        f"Reminder: {impact_rfc.ref} needs your impact analysis"
    ] * 2
    (escalation,) = smtp.to(team.sponsor.email)
    assert escalation.subject == f"Escalation: {impact_rfc.ref} is waiting for {team.manager.name}"
    assert "after 2 reminders" in escalation.text and team.manager.email in escalation.text


def test_the_number_of_reminders_before_escalation_is_a_setting(impact_rfc, team, monkeypatch):
    from core.settings import reset_settings_cache

    monkeypatch.setenv("SIGNOFF_REMINDERS_BEFORE_ESCALATION", "0")
    reset_settings_cache()
    assert [s.action for s in run(at("2010-03-09")).steps] == ["escalated"]
    assert run(at("2010-03-10")).steps == []


@pytest.mark.parametrize("value", ["-1", "21", "two", ""])
def test_a_bad_reminders_before_escalation_setting_is_refused_by_name(env, monkeypatch, value):
    from pydantic import ValidationError

    from core.settings import Settings

    monkeypatch.setenv("SIGNOFF_REMINDERS_BEFORE_ESCALATION", value)
    with pytest.raises(ValidationError, match="reminders_before_escalation"):
        Settings()


# --- whom to chase and escalate to --------------------------------------------------------


def test_sponsor_is_reminded_with_a_fresh_working_link(factory, team, smtp, client):
    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "awaiting_approval")
    deliver()
    smtp.reset()
    with clock.frozen(at("2010-03-09")):
        report = run(at("2010-03-09"))
        assert [(s.action, s.duty) for s in report.steps] == [("reminded", "decide")]
        deliver()
        (mail,) = smtp.to(team.sponsor.email)
        assert mail.subject == f"Reminder: {rfc.ref} is waiting for your decision"
        link = mail.link()
        with read_session() as s:
            token = action_links.find(s, link.rsplit("/", 1)[1], "approve_rfc")
            assert token is not None and action_links.is_live(token)
            assert token.person_id == team.sponsor.id
            live = (
                s.query(ActionToken)
                .filter_by(subject_id=rfc.id, used_at=None, revoked_at=None)
                .count()
            )
        assert live == 2  # the first link keeps working until it expires
        page = client.get(link.replace("http://testserver", ""))
        assert page.status_code == 200 and rfc.ref in page.text


def test_pm_deciding_a_minor_change_is_reminded_without_a_link(factory, team, smtp):
    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.rfc(team)
        factory.submit(rfc, team.officer)
        factory.impact(rfc, team.manager, **MINOR)
    deliver()
    smtp.reset()
    run(at("2010-03-09"))
    deliver()
    (mail,) = smtp.to(team.manager.email)
    assert mail.links() == [] and f"/rfcs/{rfc.id}/decision" in mail.text


def test_the_pms_own_decision_is_never_given_a_link_to_keep_alive(factory, team):
    """A minor change waits for the PM's decision in the app, not by link: on the days before
    it is due the chase issues no link for it (found by mutation testing: loosening the
    reissue's `needs_link` check sent the PM a link they cannot use)."""
    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.rfc(team)
        factory.submit(rfc, team.officer)
        factory.impact(rfc, team.manager, **MINOR)
    for day in ("2010-03-02", "2010-03-03", "2010-03-04", "2010-03-05"):
        assert run(at(day)).steps == [], day
    with read_session() as s:
        assert s.query(ActionToken).filter_by(subject_id=rfc.id).count() == 0


def test_sponsor_escalates_to_the_group_chair(factory, team, smtp):
    chair = factory.person("Chair of the Project Group")
    set_project(team.project.id, group_chair_id=chair.id)
    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "awaiting_approval")
    report = run(at("2010-03-09"), max_reminders=0)
    assert [(s.action, chair.email in s.to) for s in report.steps] == [("escalated", True)]
    deliver()
    (mail,) = smtp.to(chair.email)
    assert team.sponsor.name in mail.subject and rfc.ref in mail.subject


def test_without_a_group_chair_the_sponsor_escalates_to_the_alternate_approver(factory, team):
    with clock.frozen(at("2010-03-01", "10:00")):
        factory.in_status(team, "awaiting_approval")
    (step,) = run(at("2010-03-09"), max_reminders=0).steps
    assert step.action == "escalated" and team.alternate.email in step.to


def test_with_nobody_named_the_escalation_goes_to_an_administrator(factory):
    team = factory.team(alternate=False)
    with clock.frozen(at("2010-03-01", "10:00")):
        factory.in_status(team, "awaiting_approval")
    (step,) = run(at("2010-03-09"), max_reminders=0).steps
    assert step.action == "escalated" and factory.admin().email in step.to


def test_decided_or_withdrawn_rfcs_are_not_chased(factory, team, smtp):
    with clock.frozen(at("2010-03-01", "10:00")):
        approved = factory.in_status(team, "approved")
        withdrawn = factory.in_status(team, "impact_analysis")
        factory.withdraw(withdrawn, team.officer)
    assert run(at("2010-03-09")).steps == []
    assert chase_keys() == []
    assert approved.status == "approved"


def test_a_reminder_queued_but_overtaken_by_the_decision_is_dropped(factory, team, smtp):
    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "awaiting_approval")
    deliver()
    smtp.reset()
    with clock.frozen(at("2010-03-09")):
        run(at("2010-03-09"))
        factory.decide(rfc, team.sponsor)
        deliver()
    assert not any(m.subject.startswith("Reminder") for m in smtp.messages)


def test_an_impact_reminder_queued_but_overtaken_by_the_impact_analysis_is_dropped(
    impact_rfc, factory, team, smtp
):
    # The PM's reminder carries no link: only the RFC's status says it is no longer owed.
    with clock.frozen(at("2010-03-09")):
        assert [s.action for s in run(at("2010-03-09")).steps] == ["reminded"]
        factory.impact(impact_rfc, team.manager)
        deliver()
    assert not any(m.subject.startswith("Reminder") for m in smtp.messages)


@pytest.mark.parametrize("late", ["manager", "sponsor"])
def test_an_escalation_queued_but_overtaken_by_the_late_step_is_dropped(factory, team, smtp, late):
    with clock.frozen(at("2010-03-01", "10:00")):
        status = "impact_analysis" if late == "manager" else "awaiting_approval"
        rfc = factory.in_status(team, status)
    deliver()
    smtp.reset()
    with clock.frozen(at("2010-03-09")):
        assert [s.action for s in run(at("2010-03-09"), max_reminders=0).steps] == ["escalated"]
        if late == "manager":
            factory.impact(rfc, team.manager)
        else:
            factory.decide(rfc, team.sponsor)
        deliver()
    assert not [m.subject for m in smtp.messages if "has not" in m.subject or "late" in m.subject]
    with read_session() as s:
        (status_of,) = s.query(OutboxMessage.status).filter(OutboxMessage.template == DIGEST).one()
    assert status_of == "dropped"


# --- links about to expire ----------------------------------------------------------------


def test_an_expiring_link_is_reissued_once_and_the_approver_always_holds_a_live_one(
    factory, team, smtp
):
    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "awaiting_approval")
    steps: list[tuple[date, str]] = []
    for day in days("2010-03-02", "2010-05-14"):
        report = run(at(day.isoformat()))
        steps += [(day, s.action) for s in report.steps]
        with clock.frozen(at(day.isoformat(), "09:05")):
            deliver()
            with read_session() as s:
                tokens = s.query(ActionToken).filter_by(
                    subject_id=rfc.id, person_id=team.sponsor.id
                )
                assert any(action_links.is_live(t) for t in tokens), f"no live link on {day}"
    actions = [a for _, a in steps]
    assert actions[:3] == ["reminded", "reminded", "escalated"]
    assert actions.count("reminded") == 2 and actions.count("escalated") == 1
    reissued = [d for d, a in steps if a == "link_reissued"]
    assert reissued, "the last reminder's link lapsed without a new one"
    # One re-issue per lapsing link: none until the newest link is within two working days
    # of expiring, so re-issues are a link's lifetime apart, never on consecutive days.
    gaps = [(b - a).days for a, b in zip(reissued, reissued[1:], strict=False)]
    assert all(gap >= 7 for gap in gaps), reissued
    assert chase_keys().count("link:step" + chase_keys()[0].split("step")[1].split(":")[0]) == len(
        reissued
    )
    reissue_mails = [m for m in smtp.to(team.sponsor.email) if m.subject.startswith("Approval")]
    assert len(reissue_mails) == 1 + len(reissued)  # the first request, then each re-issue


# --- the calendar in 2026: Christmas and the autumn clock change --------------------------


def test_a_sponsor_with_two_rfcs_waiting_always_holds_a_live_link_for_each(factory, team):
    """One RFC's fresh link never stands in for another's: each is re-issued on its own."""
    with clock.frozen(at("2010-03-01", "10:00")):
        first = factory.in_status(team, "awaiting_approval")
    with clock.frozen(at("2010-03-10", "10:00")):
        second = factory.in_status(team, "awaiting_approval")
    for day in days("2010-03-11", "2010-04-30"):
        run(at(day.isoformat()))
        with clock.frozen(at(day.isoformat(), "09:05")), read_session() as s:
            for rfc in (first, second):
                tokens = s.query(ActionToken).filter_by(
                    subject_id=rfc.id, person_id=team.sponsor.id
                )
                assert any(action_links.is_live(t) for t in tokens), f"{rfc.ref} on {day}"


def every(hours: int, start: str, end: str) -> list[datetime]:
    """Runs every `hours` hours in UTC from London midnight `start` to `end`, inclusive."""
    first, last = at(start, "00:00"), at(end, "23:59")
    return [
        first + timedelta(hours=hours * n)
        for n in range(int((last - first).total_seconds() // (3600 * hours)) + 1)
    ]


def london_day(instant: datetime) -> date:
    return instant.astimezone(clock.local_tz()).date()


def test_christmas_2026_deadline_and_reminders_skip_the_bank_holidays(factory, team, smtp):
    # Submitted Monday 21 December 2026: Tue 22, Wed 23, Thu 24, [Christmas Day, the weekend,
    # Boxing Day's substitute Monday 28th], Tue 29, Wed 30 -> due Wednesday 30 December.
    with clock.frozen(at("2026-12-21", "10:00")):
        rfc = factory.in_status(team, "impact_analysis")
        deliver()
    smtp.reset()
    assert factory_tasks(rfc.id)[0].due_on == date(2026, 12, 30)
    sent = [
        (day, s.action)
        for day in days("2026-12-22", "2027-01-12")
        for s in run(at(day.isoformat())).steps
    ]
    # Reminder 2: five working days after Thu 31 Dec skip New Year's Day -> due Fri 8 January.
    assert sent == [(date(2026, 12, 31), "reminded"), (date(2027, 1, 11), "reminded")]
    with clock.frozen(at("2027-01-12", "10:00")):  # the mail is due then, not at the real now
        deliver()
    assert len(smtp.to(team.manager.email)) == 2


def test_autumn_clock_change_2026_sends_each_reminder_once(factory, team, smtp):
    """Runs every hour across Sunday 25 October 2026 (01:00-02:00 happens twice in London)."""
    with clock.frozen(at("2026-10-16", "10:00")):  # a Friday: due Friday 23 October
        rfc = factory.in_status(team, "impact_analysis")
        deliver()
    smtp.reset()
    assert factory_tasks(rfc.id)[0].due_on == date(2026, 10, 23)
    sent = [
        (london_day(when), s.action)
        for when in every(1, "2026-10-23", "2026-11-03")
        for s in run(when).steps
    ]
    # Monday 26th (GMT now) is the first working day after the due date; the next reminder is
    # due five working days after it (Mon 2 November) and goes on Tuesday 3rd.
    assert sent == [(date(2026, 10, 26), "reminded"), (date(2026, 11, 3), "reminded")]
    with clock.frozen(at("2026-11-04", "10:00")):
        deliver()
    assert len(smtp.to(team.manager.email)) == 2


def test_a_run_reports_one_human_line_per_step(impact_rfc, team):
    report = run(at("2010-03-09"))
    assert report.lines() == [f"Reminded {team.manager.name}: impact analysis of {impact_rfc.ref}"]


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_two_runs_racing_on_one_task_take_one_step_and_issue_one_link(factory, team, env):
    """A real race on PostgreSQL: run A has claimed the reminder and not committed when run B
    reads the same open task. B's claim waits on A's row lock, then finds the count moved on."""
    import threading
    from urllib.parse import urlsplit

    import psycopg

    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "awaiting_approval")
    links_before = len(Db().tokens(rfc.id))
    dsn = urlsplit(env.database_url)
    watcher = psycopg.connect(
        host=dsn.hostname,
        port=dsn.port,
        user=dsn.username,
        dbname=dsn.path.lstrip("/"),
        autocommit=True,
    )
    reports: dict[str, ChaseReport] = {}

    def run_b() -> None:
        with write_session() as session:
            reports["b"] = send_due_reminders(session)

    with clock.frozen(at("2010-03-09")):
        with write_session() as session:
            reports["a"] = send_due_reminders(session)  # claimed, not yet committed
            b = threading.Thread(target=run_b)
            b.start()
            for _ in range(200):  # until B's claim is waiting on A's row lock
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
    steps = [s.action for r in reports.values() for s in r.steps]
    assert steps == ["reminded"], reports
    assert len(Db().tokens(rfc.id)) == links_before + 1  # one fresh link, not two
    assert len(Db().outbox(template=DIGEST)) == 1
    (task,) = factory_tasks(rfc.id)
    assert task.reminder_count == 1


# --- what the chasing emails say, and to whom (found by mutation testing) --------------------


def test_the_reminder_says_which_one_it_is_and_the_escalation_names_the_late_person(
    impact_rfc, team, smtp
):
    chair = team.sponsor  # the sponsor hears when the PM's step stays undone
    run(at("2010-03-09"))
    deliver()
    (first,) = smtp.to(team.manager.email)
    assert "This is reminder 1." in first.text and "This is reminder 1." in first.html
    smtp.reset()
    report = run(at("2010-03-19"), max_reminders=1)  # the next step: escalate
    assert [s.action for s in report.steps] == ["escalated"]
    deliver()
    (mail,) = smtp.to(chair.email)
    expected = (
        f"{team.manager.name} has not recorded the impact analysis of {impact_rfc.ref}, "
        f"first due by 8 March 2010, after 1 reminder."
    )
    assert expected in " ".join(mail.text.split())
    assert f"({team.manager.email})" in mail.text


def test_every_overdue_step_in_a_run_is_chased(factory, team, smtp):
    with clock.frozen(at("2010-03-01", "10:00")):
        rfcs = [factory.in_status(team, "impact_analysis") for _ in range(3)]
    report = run(at("2010-03-09"))
    assert sorted(s.ref for s in report.steps) == sorted(r.ref for r in rfcs)
    assert [t.reminder_count for r in rfcs for t in factory_tasks(r.id)] == [1, 1, 1]


def test_escalation_skips_people_who_have_left_and_never_goes_to_the_late_person(factory, smtp):
    from models import Person

    team = factory.team(alternate=False)
    with clock.frozen(at("2010-03-01", "10:00")):
        factory.in_status(team, "awaiting_approval")  # the sponsor is late
    gone_admin = factory.admin()
    late_admin_sponsor = team.sponsor
    with write_session() as s:
        s.get(Person, gone_admin.id).active = False
        s.get(Person, late_admin_sponsor.id).is_admin = True
    assert run(at("2010-03-09"), max_reminders=0).steps[0].action == "not_escalated"
    active_admin = factory.person("Admin Who Is Here", admin=True)
    with clock.frozen(at("2010-03-01", "10:00")):
        factory.in_status(team, "awaiting_approval")
    (step,) = run(at("2010-03-10"), max_reminders=0).steps
    assert step.action == "escalated" and active_admin.email in step.to


def test_an_inactive_group_chair_is_passed_over(factory, team, smtp):
    from models import Person

    chair = factory.person("Chair Who Left")
    set_project(team.project.id, group_chair_id=chair.id)
    with write_session() as s:
        s.get(Person, chair.id).active = False
    with clock.frozen(at("2010-03-01", "10:00")):
        factory.in_status(team, "awaiting_approval")
    (step,) = run(at("2010-03-09"), max_reminders=0).steps
    assert step.action == "escalated" and team.alternate.email in step.to


def test_a_reminder_carrying_a_fresh_link_is_not_followed_by_a_second_link_the_same_day(
    factory, team, smtp, monkeypatch
):
    """With reminders every 10 working days and links lasting 16 days, reminders fall due on
    days the approver's last link is about to lapse (31 March, 20 May 2010): the reminder's
    own fresh link is the only one sent."""
    from core.settings import get_settings

    monkeypatch.setenv("SIGNOFF_ACTION_LINK_DAYS", "16")
    get_settings.cache_clear()
    set_project(team.project.id, reminder_working_days=10)
    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "awaiting_approval")
    both_on_one_day = []
    for day in days("2010-03-02", "2010-05-31"):
        actions = [s.action for s in run(at(day.isoformat()), max_reminders=5).steps]
        assert actions.count("link_reissued") <= 1
        if "reminded" in actions and "link_reissued" in actions:
            both_on_one_day.append(day)
    assert both_on_one_day == []
    with read_session() as s:
        links = s.query(ActionToken).filter_by(subject_id=rfc.id, person_id=team.sponsor.id)
        issued = sorted(t.created_at.date() for t in links)
    assert len(issued) == len(set(issued))  # never two links for the sponsor on one day


@pytest.mark.parametrize(
    "decoy",
    [
        "other_version",
        "other_person",
        "other_rfc",
        "used",
        "revoked",
        "other_purpose",
        "other_type",
    ],
)
def test_only_the_approvers_own_live_link_for_this_version_stops_a_reissue(factory, team, decoy):
    """A lasting link that differs in any one way (another version, person, RFC, purpose or
    subject type, or one used or revoked) does not count: the approver still gets a fresh link
    when theirs lapses. (Found by mutation testing: dropping any of those conditions from the
    "no lasting link" query went unnoticed.)"""
    from datetime import timedelta

    from services.platform import action_links

    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "awaiting_approval")
        other = factory.in_status(team, "awaiting_approval")
    with clock.frozen(at("2010-03-01", "10:00")), write_session() as s:
        link = s.get(
            ActionToken,
            action_links.issue(
                s,
                purpose="approve_rfc",
                subject_type="rfc",
                subject_id=rfc.id,
                subject_version=rfc.version,
                person_id=team.sponsor.id,
                lifetime=timedelta(days=60),
            ),
        )
        if decoy == "other_version":
            link.subject_version = rfc.version - 1
        elif decoy == "other_person":
            link.person_id = team.alternate.id
        elif decoy == "other_rfc":
            link.subject_id = other.id
        elif decoy == "used":
            link.used_at = clock.now()
        elif decoy == "revoked":
            link.revoked_at = clock.now()
        elif decoy == "other_purpose":
            link.purpose = "sign_in"
        else:
            link.subject_type = "plan_version"
    # No reminders (each would carry a link): the 14-day link of 1 March lapses on the 15th,
    # so Friday 12 March is the last run before it does.
    assert "link_reissued" not in [s.action for s in run(at("2010-03-11"), max_reminders=0).steps]
    reissued = [
        s.ref for s in run(at("2010-03-12"), max_reminders=0).steps if s.action == "link_reissued"
    ]
    assert rfc.ref in reissued


def test_the_operators_report_says_what_each_run_did_word_for_word(impact_rfc, team):
    """What `signoff chase` prints and the chase flow records (found by mutation testing: the
    report's words and counts changed with no test noticing)."""
    pm, sponsor = team.manager, team.sponsor
    first = run(at("2010-03-09"))
    assert first.steps == [
        Done(
            "reminded",
            impact_rfc.ref,
            f"{pm.name} <{pm.email}>",
            "record the impact analysis",
            "impact analysis",
            "reminder 1, due 2010-03-08",
        )
    ]
    assert first.as_dict() == {
        "today": "2010-03-09",
        "working_day": True,
        "reminded": 1,
        "escalated": 0,
        "link_reissued": 0,
        "copied": 0,
        "not_escalated": 0,
        "digests": 1,
    }
    escalated = run(at("2010-03-19"), max_reminders=1)
    assert escalated.lines() == [
        f"Escalated to {sponsor.name}: impact analysis of {impact_rfc.ref}"
    ]
    assert escalated.steps[0].detail == f"{pm.name} has not done it after 1 reminders"
    assert escalated.as_dict() | {"today": ""} == first.as_dict() | {
        "today": "",
        "reminded": 0,
        "escalated": 1,
    }
    saturday = run(at("2010-03-20"))
    assert saturday.as_dict() == {
        "today": "2010-03-20",
        "working_day": False,
        "reminded": 0,
        "escalated": 0,
        "link_reissued": 0,
        "copied": 0,
        "not_escalated": 0,
        "digests": 0,
    }


def test_an_escalation_with_nobody_to_go_to_is_reported_in_words(factory):
    from models import Person

    team = factory.team(alternate=False)
    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "awaiting_approval")  # the sponsor is late
    with write_session() as s:  # the only administrator is the late sponsor
        s.get(Person, factory.admin().id).active = False
        s.get(Person, team.sponsor.id).is_admin = True
    report = run(at("2010-03-09"), max_reminders=0)
    late = f"{team.sponsor.name} is late and nobody is named to escalate to"
    assert report.steps == [Done("not_escalated", rfc.ref, "", "decide", "decision", late)]
    assert report.lines() == [f"Could not escalate decision of {rfc.ref}: {late}"]
    assert (report.as_dict()["not_escalated"], report.as_dict()["digests"]) == (1, 0)


@pytest.mark.parametrize(
    ("expires", "reissued"),
    [
        ("2010-03-04T00:00:00+00:00", False),  # lasts until the horizon itself: enough
        ("2010-03-03T23:59:59+00:00", True),  # a second short of it: a fresh link goes out
    ],
    ids=["at_the_horizon", "a_second_before"],
)
def test_a_link_lasting_to_midnight_before_the_second_working_day_is_not_reissued(
    factory, team, expires, reissued
):
    """On Tuesday 2 March 2010 the horizon is local midnight starting Thursday the 4th (two
    working days on; GMT, so 00:00 UTC). The sponsor's decision is not due until the 8th: only
    the link's lifetime decides."""
    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "awaiting_approval")
    with write_session() as s:
        (link,) = s.query(ActionToken).filter_by(subject_id=rfc.id, person_id=team.sponsor.id)
        link.expires_at = datetime.fromisoformat(expires)
    report = run(at("2010-03-02"))
    assert [s.action for s in report.steps] == (["link_reissued"] if reissued else [])
    if reissued:
        (step,) = report.steps
        assert step.detail == "no live link lasting past 2010-03-04"
        assert step.line() == f"New link for {team.sponsor.name}: decision of {rfc.ref}"
        assert report.as_dict()["link_reissued"] == 1
