"""The demo's performance data: the CCS scorecard as at 22 January 2010, with some December
figures late.

The council's story: figures for December were due on Friday 15 January; "significant
hastening activity resulted in an improved picture by the 21st"; the completeness dials were
read on the 22nd. The demo replays that month day by day with the clock frozen: returns open
on 4 January, most officers submit before the due date, a few after the first chase, and two
never do (Paul Knight and Ian Salter), so the reports show GREY and the mailbox holds the
chase. Then one run today re-chases the late ones with links that work now (a link issued in
2010 would long have expired). Idempotent: a second load finds the scorecard and does nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlmodel import col, select

from core import clock
from core.db import write_session
from core.settings import ROOT
from models import Person
from models.performance import FigureReturn, Scorecard
from services.performance import chasing, figures, imports, officers
from services.platform import outbox, people_import, tabular
from services.platform.actors import Actor

SCORECARD = ROOT / "data" / "scorecard_ccs_2009-10_q3.csv"
PEOPLE = ROOT / "data" / "ccs_people.csv"
CODE = "CCS-0910"
PERIOD = "2009-12"
# Who submits their December figures on which day of January 2010; anyone not listed is late
# at the cut-off and still late now.
SUBMIT_ON = {
    "georgina.hayward@scambs.example": 8,
    "paul.williams@scambs.example": 11,
    "richard.may@scambs.example": 12,
    "laura.lock@scambs.example": 13,
    "paul.howes@scambs.example": 13,
    "philip.aldis@scambs.example": 14,
    "kathryn.hawkes@scambs.example": 14,
    "paul.swift@scambs.example": 14,
    "gemma.barron@scambs.example": 19,  # after the first chase
    "jackie.sayers@scambs.example": 20,
    "neil.weston@scambs.example": 21,  # on the cut-off day
}
DEMO_COMMENTARY = "As reported to EMT for December 2009 (demo data)."


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=clock.local_tz())


def load_demo(*, today: date | None = None) -> str:
    """Load the scorecard, replay January 2010, then chase today; what was done, in a line."""
    with write_session() as session:
        if session.exec(select(Scorecard).where(Scorecard.code == CODE)).first() is not None:
            return f"scorecard {CODE} already loaded"
    rows = tabular.read(SCORECARD)
    values = {r["code"]: r for r in rows}
    with clock.frozen(_at(date(2010, 1, 4))):
        with write_session() as session:
            people_import.import_people(session, rows=tabular.read(PEOPLE))
            # The administrators are the performance team (the CSE demo's Emma George).
            team_id = session.exec(select(Person.id).where(col(Person.is_admin))).first()
        with write_session() as session:
            # The yearly measures keep last year's figures (March 2009); the December figures
            # come in through the officers' returns below.
            first = [
                r if r["frequency"] == "yearly" else r | {"actual": "", "estimate": ""}
                for r in rows
            ]
            imports.import_scorecard(
                session,
                rows=first,
                code=CODE,
                period=PERIOD,
                actor_id=team_id,
                filename=SCORECARD.name,
                portfolio="Policy and Performance",
            )
            aldis = people_import.people.find_by_email(session, "philip.aldis@scambs.example")
            assert aldis is not None
            officers.confirm_alias(
                session, name="Phil Aldis", person_id=aldis.id or 0, by_id=team_id
            )
            imports.assign_officers(session)
    day = date(2010, 1, 4)
    while day <= date(2010, 1, 22):
        with clock.frozen(_at(day)), write_session() as session:
            chasing.run_day(session, today=day)
            _submit_due(session, day, values)
        day += timedelta(days=1)
    with write_session() as session:
        # January's mail carries links that expired in 2010: it is not mail to send now.
        outbox.discard_queued(session, created_before=_at(date(2010, 1, 23)))
        chasing.run_day(session, today=today or clock.today())
    return f"scorecard {CODE}: December 2009 replayed to 22 January 2010; late figures chased today"


def _submit_due(session, day: date, values: dict[str, dict[str, str]]) -> None:  # type: ignore[no-untyped-def]
    for ret in session.exec(select(FigureReturn).where(FigureReturn.period == PERIOD)):
        officer = people_import.people.by_ids(session, [ret.officer_id]).get(ret.officer_id)
        if officer is None or SUBMIT_ON.get(officer.email) != day.day or ret.status != "open":
            continue
        entries = {}
        for item in figures.items(session, officer_id=ret.officer_id, period=PERIOD):
            row = values[item.measure.code]
            if not row["actual"]:
                entries[item.measure.id or 0] = figures.Entry(
                    unavailable=True,
                    reason="No data could be extracted from the system this quarter.",
                )
                continue
            entries[item.measure.id or 0] = figures.Entry(
                actual=row["actual"],
                ytd_actual=row["ytd_actual"],
                estimate=row["estimate"],
                commentary=DEMO_COMMENTARY,
            )
        figures.submit_return(
            session, ret=ret, entries=entries, actor=Actor(person_id=ret.officer_id)
        )
