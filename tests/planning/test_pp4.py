"""PP4, "% of service plans agreed by March 31st" (services/planning/pp4.py), over a year.

The 2010/11 cycle on the council's usual calendar (opens 1 June 2009, drafts due 30 November,
sign-off by 31 March 2010) with six plans: five approved by 31 March, one on 6 April. The
planning calendar runs every day of the year; PP4 is written once, on 1 April, into the CCS
09/10 scorecard's PP4 (the council's own measure: 83 in 2009/10) as March 2010's figure.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select
from support.performance import at, import_card, import_people, registered
from support.planning import add_plan, import_councillors, links, open_cycle, respond, submit

from core import clock
from core.db import read_session, write_session
from models import AuditEvent
from models.performance import Figure, FigureRevision, Measure
from models.planning import PlanningCycle
from services.planning import calendar, pp4
from services.planning.pp4 import Pp4

REASON = "computed from the 2010/11 planning cycle"
# service area -> (owner, Portfolio Holder, the day its Portfolio Holder signs)
PLANS = {
    "Community and Customer Services": ("Paul Howes", "cllr.dunn", "2010-03-11"),
    "Partnerships": ("Gemma Barron", "cllr.hartley", "2010-04-06"),  # after the deadline
    "Communications": ("Georgina Hayward", "cllr.cole", "2010-02-24"),
    "Electoral Services": ("Paul Williams", "cllr.fisher", "2010-03-31"),  # on the day
    "Policy and Performance": ("Richard May", "cllr.dunn", "2010-03-11"),
    "Corporate Services": ("Steve Hampson", "cllr.ellis", "2010-01-20"),
}


def set_up(factory: Any, plans: dict[str, tuple[str, str, str]], *, card: bool = True) -> Any:
    with clock.frozen(at("2009-05-20", "12:00")):
        import_people()
        import_councillors()
        if card:
            import_card()  # CCS-0910: PP4, yearly, Richard May, 83 for 2008/09
        admin = factory.person("Performance Team", admin=True)
        open_cycle(admin)
        people = registered()
        ids = {}
        for area, (owner, signer, _) in plans.items():
            ids[area] = add_plan(
                admin,
                area=area,
                owner_email=people[owner].email,
                signatories=[{"email": f"{signer}@scambs.example", "role": "portfolio_holder"}],
            ).id
    return people, ids


def year(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def run_day(day: date) -> calendar.DayReport:
    with clock.frozen(at(day.isoformat(), "08:00")), write_session() as s:
        return calendar.run_day(s)


def pp4_figure() -> tuple[Figure | None, list[FigureRevision]]:
    with read_session() as s:
        figure = s.exec(
            select(Figure)
            .join(Measure, Measure.id == Figure.measure_id)  # type: ignore[arg-type]
            .where(Measure.code == "PP4", Figure.period == "2010-03")
        ).first()
        revisions = (
            list(s.exec(select(FigureRevision).where(FigureRevision.figure_id == figure.id)))
            if figure
            else []
        )
    return figure, revisions


def the_cycle() -> PlanningCycle:
    with read_session() as s:
        return s.exec(select(PlanningCycle)).one()


def test_a_year_of_the_cycle_records_pp4_once_on_the_first_day_after_the_deadline(env, factory):
    people, ids = set_up(factory, PLANS)
    by_email = {p.email: p for p in people.values()}
    recorded: dict[date, list[str]] = {}
    for day in year(date(2009, 6, 1), date(2010, 4, 30)):
        report = run_day(day)
        if report.pp4:
            recorded[day] = [r.line() for r in report.pp4]
        with clock.frozen(at(day.isoformat(), "11:00")):
            for area, (owner, signer, signs_on) in PLANS.items():
                # Each owner submits a week before their Portfolio Holder signs.
                if day == date.fromisoformat(signs_on) - timedelta(days=7):
                    submit(ids[area], people[owner])
                if day == date.fromisoformat(signs_on):
                    respond(links(ids[area])[by_email[f"{signer}@scambs.example"].id])
    assert recorded == {
        date(2010, 4, 1): [
            "PP4 for the 2010/11 cycle: 83.3% (5 of 6 plans), written as March 2010 on CCS-0910"
        ]
    }
    figure, revisions = pp4_figure()
    assert figure is not None
    assert (figure.actual, figure.estimate, figure.state) == (83.3, 83.3, "entered")
    assert figure.commentary == (
        "5 of 6 service plans were approved by 31 March 2010. Not approved by then: Partnerships."
    )
    assert [(r.reason, r.by_id, r.actual) for r in revisions] == [(REASON, None, 83.3)]
    cycle = the_cycle()
    assert cycle.pp4_recorded_at == at("2010-04-01", "08:00")
    with read_session() as s:
        audited = s.exec(select(AuditEvent).where(AuditEvent.action == "record_pp4")).all()
    assert [(e.subject_id, e.actor_id) for e in audited] == [(cycle.id, None)]
    with read_session() as s:  # Partnerships, approved on 6 April, is still not counted
        assert pp4.pp4(s, cycle) == Pp4(5, 6, 83.3, ("Partnerships",))


def _plans(n: int) -> dict[str, tuple[str, str, str]]:
    return {f"Service {i:02d}": ("Paul Howes", "cllr.dunn", "") for i in range(n)}


def _approve(ids: dict[str, int], on: dict[str, str]) -> None:
    """Mark plans approved on the days given, straight in the table: the sums are what is
    tested here; how plans come to be approved is tested in the year above."""
    from sqlalchemy import update

    from models.planning import PlanStatus, ServicePlan

    with write_session() as s:
        for area, day in on.items():
            s.execute(
                update(ServicePlan)
                .where(ServicePlan.id == ids[area])  # type: ignore[arg-type]
                .values(status=PlanStatus.approved, approved_on=date.fromisoformat(day))
            )


@pytest.mark.parametrize(
    ("approved", "total", "percent"),
    [(5, 16, 31.3), (1, 8, 12.5), (2, 3, 66.7), (0, 4, 0.0), (4, 4, 100.0)],
)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_pp4_is_the_share_approved_by_the_deadline_rounded_half_up(
    env, factory, approved, total, percent
):
    _, ids = set_up(factory, _plans(total), card=False)
    areas = sorted(ids)
    # One more plan approved the day after the deadline: not counted.
    on_time = {a: "2010-03-31" for a in areas[:approved]}
    _approve(ids, on_time | ({areas[approved]: "2010-04-01"} if approved < total else {}))
    with read_session() as s:
        value = pp4.pp4(s, s.exec(select(PlanningCycle)).one())
    assert (value.approved_by_deadline, value.total, value.percent) == (approved, total, percent)
    assert value.late == tuple(areas[approved:])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_cycle_without_plans_is_not_recorded_until_it_has_some(env, factory):
    set_up(factory, {})
    first = run_day(date(2010, 4, 1))
    (said,) = first.pp4
    assert (
        said.line()
        == "PP4 for the 2010/11 cycle: no service plans; not recorded: the cycle has no plans"
    )
    assert not said.recorded and the_cycle().pp4_recorded_at is None
    assert pp4_figure() == (None, [])
    with clock.frozen(at("2010-04-01", "12:00")):
        from support.planning import add_plan as add

        admin = registered()["Performance Team"]
        add(admin, area="Partnerships", owner_email="gemma.barron@scambs.example", signatories=[])
    (later,) = run_day(date(2010, 4, 2)).pp4
    assert later.recorded and later.value.percent == 0.0
    assert run_day(date(2010, 4, 6)).pp4 == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_without_a_pp4_measure_it_is_recorded_on_the_cycle_and_the_run_says_so(env, factory):
    _, ids = set_up(factory, dict(list(PLANS.items())[:2]), card=False)
    _approve(ids, {"Community and Customer Services": "2010-03-11"})
    (said,) = run_day(date(2010, 4, 1)).pp4
    assert said.line() == (
        "PP4 for the 2010/11 cycle: 50.0% (1 of 2 plans); no scorecard for 2009/10 has a "
        "measure PP4: recorded on the cycle only"
    )
    assert said.recorded and said.written == []
    assert the_cycle().pp4_recorded_at is not None
    assert run_day(date(2010, 4, 2)).pp4 == []


def test_a_figure_already_entered_is_revised_and_a_stale_run_writes_nothing(env, factory):
    """Richard May entered 80 for PP4 by hand before the deadline; the run revises it, his
    entry kept as the first revision. A second run that read the cycle before the first
    committed (its copy says not yet recorded) finds it taken and writes nothing."""
    from services.performance import figures

    _, ids = set_up(factory, dict(list(PLANS.items())[:3]))
    _approve(ids, {"Community and Customer Services": "2010-03-11", "Partnerships": "2010-03-12"})
    richard = registered()["Richard May"]
    with clock.frozen(at("2010-03-20", "10:00")), write_session() as s:
        measure = s.exec(select(Measure).where(Measure.code == "PP4")).one()
        values = {"state": "entered", "actual": 80.0, "commentary": "Estimated by hand."}
        figures.write(
            s,
            measure=measure,
            period="2010-03",
            figure=None,
            values=values,
            by_id=richard.id,
            reason="",
        )
    stale = the_cycle()
    assert stale.pp4_recorded_at is None
    assert len(run_day(date(2010, 4, 1)).pp4) == 1
    with clock.frozen(at("2010-04-01", "08:00")), write_session() as s:
        assert pp4.record(s, cycle=stale, today=date(2010, 4, 1)) is None
    figure, revisions = pp4_figure()
    assert figure is not None and figure.actual == 66.7 and figure.version == 2
    assert [(r.actual, r.by_id, r.reason) for r in revisions] == [
        (80.0, richard.id, ""),
        (66.7, None, REASON),
    ]
