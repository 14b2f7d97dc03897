"""The platform's chasing (services/platform/chasing.py): one digest per person per day, items
whose reason has gone left out at sending time, and a due test that is one query however many
steps are open. The RFC domain supplies the steps; tests/change_control/test_reminders.py
covers its policy.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event
from support.factories import Db, deliver

from core import clock
from core.db import read_session, write_session
from models import Step
from services.platform.chasing import DIGEST
from services.platform.chasing import run as chase


def at(day: str, hhmm: str = "09:00") -> datetime:
    local = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=clock.local_tz())
    return local.astimezone(UTC)


def run(day: str, **kwargs):  # type: ignore[no-untyped-def]
    with clock.frozen(at(day)), write_session() as session:
        return chase(session, **kwargs)


def test_a_person_owing_several_things_gets_one_digest_listing_each(factory, team, smtp):
    """The sponsor owes two decisions and hears that the PM is late on a third RFC: one email,
    three items, each with its own reference and, for the decisions, its own fresh link."""
    with clock.frozen(at("2010-03-01", "10:00")):
        first = factory.in_status(team, "awaiting_approval")
        second = factory.in_status(team, "awaiting_approval")
        late = factory.in_status(team, "impact_analysis")
    deliver()
    smtp.reset()
    report = run("2010-03-09", max_reminders=1)
    assert sorted((s.action, s.ref) for s in report.steps) == sorted(
        [("reminded", first.ref), ("reminded", second.ref), ("reminded", late.ref)]
    )
    # Five working days on, the PM's late impact analysis is escalated to the sponsor (and the
    # sponsor's own late decisions to the alternate approver).
    run("2010-03-17", max_reminders=1)
    with clock.frozen(at("2010-03-17", "09:05")):
        deliver()
    to_sponsor = smtp.to(team.sponsor.email)
    assert len(to_sponsor) == 2  # one digest on the 9th, one on the 17th
    ninth, seventeenth = to_sponsor
    assert ninth.subject == "Signoff: 2 things need your attention"
    assert first.ref in ninth.text and second.ref in ninth.text
    assert len(set(ninth.links())) == 2  # a fresh link for each decision
    assert seventeenth.subject == f"Escalation: {late.ref} is waiting for {team.manager.name}"
    (to_alternate,) = smtp.to(team.alternate.email)
    assert to_alternate.subject == "Signoff: 2 things need your attention"
    assert f"Escalation: {first.ref} is waiting for {team.sponsor.name}" in to_alternate.html
    (to_pm,) = [m for m in smtp.to(team.manager.email) if m.subject.startswith("Reminder")]
    assert to_pm.subject == f"Reminder: {late.ref} needs your impact analysis"


def test_a_repeated_run_the_same_day_queues_no_second_digest(factory, team):
    with clock.frozen(at("2010-03-01", "10:00")):
        factory.in_status(team, "awaiting_approval")
        factory.in_status(team, "awaiting_approval")
    assert run("2010-03-09").digests == 1
    assert run("2010-03-09").digests == 0
    assert len(Db().outbox(template=DIGEST)) == 1


def test_an_item_overtaken_before_sending_is_left_out_and_the_rest_still_go(factory, team, smtp):
    with clock.frozen(at("2010-03-01", "10:00")):
        decided = factory.in_status(team, "awaiting_approval")
        waiting = factory.in_status(team, "awaiting_approval")
    deliver()
    smtp.reset()
    with clock.frozen(at("2010-03-09")):
        assert run("2010-03-09").digests == 1
        factory.decide(decided, team.sponsor)
        smtp.reset()
        deliver()
    (digest,) = [
        m
        for m in smtp.to(team.sponsor.email)
        if decided.ref not in m.subject or waiting.ref in m.subject
    ]
    assert digest.subject == f"Reminder: {waiting.ref} is waiting for your decision"
    assert decided.ref not in digest.text and len(digest.links()) == 1


def test_a_digest_with_nothing_left_to_say_is_dropped(factory, team, smtp):
    with clock.frozen(at("2010-03-01", "10:00")):
        rfc = factory.in_status(team, "awaiting_approval")
    deliver()
    smtp.reset()
    with clock.frozen(at("2010-03-09")):
        run("2010-03-09")
        factory.withdraw(rfc, team.officer)
        smtp.reset()
        deliver()
    assert not [m for m in smtp.messages if m.subject.startswith(("Reminder", "Signoff:"))]
    (row,) = Db().outbox(template=DIGEST)
    assert row.status == "dropped"


def test_the_due_test_is_one_query_however_many_steps_are_open(factory, team, env):
    """Open steps that are not due, or whose link lasts, cost nothing per step: the same
    statements for 3 or 30 of each, and not one step row loaded into Python."""

    def cost_with(n: int) -> tuple[int, int]:
        with clock.frozen(at("2010-03-01", "10:00")):
            for _ in range(n):
                factory.in_status(team, "impact_analysis")  # the PM's, acted on in the app
                factory.in_status(team, "awaiting_approval")  # the sponsor's, by a 14-day link
        from core.db import get_engine

        seen: list[str] = []
        loaded: list[Step] = []

        def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            seen.append(statement)

        def load(target, context):  # type: ignore[no-untyped-def]
            loaded.append(target)

        engine = get_engine()
        event.listen(engine, "before_cursor_execute", count)
        event.listen(Step, "load", load)
        try:
            assert run("2010-03-03").steps == []  # due on the 8th: nothing to do yet
        finally:
            event.remove(engine, "before_cursor_execute", count)
            event.remove(Step, "load", load)
        with write_session() as s:  # close them, so the next count starts from nothing open
            for step in s.query(Step).filter(Step.closed_at.is_(None)):
                step.closed_at = clock.now()
        return len([q for q in seen if q.lstrip().upper().startswith("SELECT")]), len(loaded)

    few, many = cost_with(3), cost_with(30)
    assert few == many == (few[0], 0), (few, many)
    with read_session() as s:
        assert s.query(Step).count() == 3 * 3 + 30 * 3  # each RFC: impact, then decision


def test_a_digest_also_lists_what_else_the_reader_owes_but_nobody_is_sent_one_for_that_alone(
    factory, team, smtp
):
    with clock.frozen(at("2010-03-01", "10:00")):
        late = factory.in_status(team, "awaiting_approval")
    with clock.frozen(at("2010-03-08", "10:00")):
        recent = factory.in_status(team, "awaiting_approval")  # due on the 15th: not late yet
        factory.in_status(team, "impact_analysis")  # the PM's: not late either
    deliver()
    smtp.reset()
    assert run("2010-03-09").digests == 1  # the sponsor's; the PM owes nothing late
    with clock.frozen(at("2010-03-09", "09:05")):
        deliver()
    (mail,) = smtp.messages
    assert mail.subject == f"Reminder: {late.ref} is waiting for your decision"
    body = mail.text.split("Also waiting for you:", 1)
    assert len(body) == 2 and recent.ref in body[1] and recent.ref not in body[0]
    assert "due by 15 March 2010" in body[1]
    assert len(mail.links()) >= 1


def test_a_digest_whose_late_items_were_all_done_is_dropped_even_with_others_listed(
    factory, team, smtp
):
    with clock.frozen(at("2010-03-01", "10:00")):
        late = factory.in_status(team, "awaiting_approval")
    with clock.frozen(at("2010-03-08", "10:00")):
        factory.in_status(team, "awaiting_approval")
    deliver()
    smtp.reset()
    with clock.frozen(at("2010-03-09")):
        run("2010-03-09")
        factory.decide(late, team.sponsor)
        smtp.reset()
        deliver()
    assert not [m for m in smtp.messages if m.subject.startswith(("Reminder", "Signoff:"))]


def test_also_waiting_for_you_lists_the_readers_other_steps_soonest_due_first(factory, team):
    """The rest of what the reader owes comes in due-date order, whatever order the steps were
    opened in; a step already closed is not listed."""
    from sqlalchemy import update

    with clock.frozen(at("2010-03-01", "10:00")):
        late = factory.in_status(team, "awaiting_approval")
    with clock.frozen(at("2010-03-08", "10:00")):
        later = factory.in_status(team, "awaiting_approval")
        sooner = factory.in_status(team, "awaiting_approval")
        done = factory.in_status(team, "awaiting_approval")
    with write_session() as s:  # opened in that order, but `sooner` falls due first
        for rfc, due in ((later, "2010-03-19"), (sooner, "2010-03-12")):
            s.execute(
                update(Step)
                .where(Step.subject_id == rfc.id, Step.kind == "decision")  # type: ignore[arg-type]
                .values(due_on=datetime.fromisoformat(due).date())
            )
    with clock.frozen(at("2010-03-08", "11:00")):
        factory.decide(done, team.sponsor)
    run("2010-03-09")
    (digest,) = Db().outbox(template=DIGEST)
    items = digest.context["items"]
    ids = {r.id: r.ref for r in (late, later, sooner, done)}
    listed = [(i["action"], ids[i["subject_id"]]) for i in items]
    assert listed == [("remind", late.ref), ("owed", sooner.ref), ("owed", later.ref)]


def test_a_domains_run_lists_only_its_own_steps(factory, team):
    """Each domain's chase sends its own digest at its own hour: the RFC run's digest does not
    list the sponsor's open return of performance figures, nor the other way round."""
    from support.performance import small_scorecard

    from services.performance import chasing as performance

    small_scorecard(officer_id=team.sponsor.id)  # their December 2009 figures, due 15 January
    with clock.frozen(at("2010-03-01", "10:00")):
        late = factory.in_status(team, "awaiting_approval")
    run("2010-03-09", subject_types=["rfc"])
    (rfc_digest,) = [m for m in Db().outbox(template=DIGEST) if m.to_person_id == team.sponsor.id]
    assert {i["subject_type"] for i in rfc_digest.context["items"]} == {"rfc"}
    assert [i["subject_id"] for i in rfc_digest.context["items"]] == [late.id]
    with clock.frozen(at("2010-03-09")), write_session() as session:
        performance.run_day(session, today=datetime(2010, 3, 9).date())
    digests = [m for m in Db().outbox(template=DIGEST) if m.to_person_id == team.sponsor.id]
    (figures_digest,) = [m for m in digests if m.id != rfc_digest.id]
    assert {i["subject_type"] for i in figures_digest.context["items"]} == {"figure_return"}


def test_a_step_closed_while_its_subject_still_waits_is_neither_chased_nor_listed(factory, team):
    """One of several people owing the same subject has done their part (a signatory who has
    signed while others have not): the subject is still waiting, their step is closed, and the
    chase must leave it alone, both as a late step and in "also waiting for you" (found by
    mutation testing: dropping `closed_at IS NULL` from either query left the suite green)."""
    from services.platform import steps

    with clock.frozen(at("2010-03-01", "10:00")):
        late = factory.in_status(team, "awaiting_approval")
        done_late = factory.in_status(team, "awaiting_approval")
    with clock.frozen(at("2010-03-08", "10:00")):
        done_recent = factory.in_status(team, "awaiting_approval")  # due on the 15th
    with clock.frozen(at("2010-03-08", "11:00")), write_session() as s:
        for rfc in (done_late, done_recent):  # closed, the RFC still awaiting approval
            assert steps.complete(
                s,
                subject=steps.Subject("rfc", rfc.id, rfc.version),
                kind="decision",
                owner_id=team.sponsor.id,
                outcome="done elsewhere",
            )
    report = run("2010-03-09")
    assert [(s.action, s.ref) for s in report.steps] == [("reminded", late.ref)]
    (digest,) = Db().outbox(template=DIGEST)
    assert [i["subject_id"] for i in digest.context["items"]] == [late.id]
