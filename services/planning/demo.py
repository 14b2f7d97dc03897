"""The demo's service plan: Community and Customer Services for 2010/11, part-way through
sign-off.

The council's story, replayed with the clock frozen: the 2010/11 cycle opens in June 2009;
Paul Howes drafts the plan in the autumn, with the Policy and Performance team's operational
plan (data/operational_plan_pp_2010-13.csv) and budget information "to follow" from Finance;
version 1 goes to the five Portfolio Holders in January 2010 with a councillor who has since
left the Policy and Performance portfolio; the performance team replaces him (audited);
Finance supplies section 7 and version 2 goes out on 1 March; two Portfolio Holders sign it.
Then the signatories still to sign are sent links that work today (a link issued in 2010
would long have expired), so a reader can sign as a Portfolio Holder from the mailbox.
Idempotent: a second load finds the cycle and does nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlmodel import col, select

from core import clock
from core.db import write_session
from core.settings import ROOT
from models import Person
from models.planning import PlanningCycle, PlanVersion, ServicePlan
from models.planning.content import PlanContent
from services.planning import operational_import, plans, signers, signoff
from services.planning.plan_workflow import SIGN_LINK, SUBJECT
from services.planning.schemas import CycleCreate, PlanCreate, Response, SignatoryIn
from services.platform import action_links, outbox, people_import, tabular
from services.platform.actors import Actor

YEAR = 2010
AREA = "Community and Customer Services"
COUNCILLORS = ROOT / "data" / "ccs_councillors.csv"
OPERATIONAL = ROOT / "data" / "operational_plan_pp_2010-13.csv"
OWNER = "paul.howes@scambs.example"
PAIRS = [
    ("Partnerships", "cllr.hartley@scambs.example"),
    ("Communications", "cllr.cole@scambs.example"),
    ("Policy and Performance", "cllr.dunn@scambs.example"),
    ("Equality and Diversity", "cllr.ellis@scambs.example"),
    ("Elections", "cllr.fisher@scambs.example"),
]
DRAFT_POLICY_HOLDER = "cllr.gale@scambs.example"  # named on the draft, replaced before March
SIGN_FIRST = ("cllr.hartley@scambs.example", "cllr.cole@scambs.example")

SECTIONS = {
    "about": {
        "fields": {
            "description": (
                "Community and Customer Services brings together Partnerships, "
                "Communications, Policy and Performance, Equality and Diversity, Electoral "
                "Services and the Contact Centre (demo text)."
            )
        }
    },
    "context": {
        "fields": {
            "political": "A new Sustainable Community Strategy and the Local Area Agreement.",
            "economic": "Budget pressures: efficiency savings are needed in every service.",
            "partners": "Cambridgeshire County Council, the Local Strategic Partnership.",
            "strengths": "Customer Service Centre performance; member engagement in scrutiny.",
            "weaknesses": "Avoidable contact (NI014) above the national average.",
            "opportunities": "Tell Us Once; shared services with neighbouring councils.",
            "threats": "Reduced funding from 2011/12.",
        }
    },
    "objectives": {
        "fields": {
            "council": "A1 - A5: the council's aims and approaches for 2010/11.",
            "service": "Effective performance management; better customer service standards.",
        }
    },
    "finance": {
        "fields": {"summary": "Budget information is outstanding: Finance will provide it."},
        "to_follow": True,
        "to_follow_by": "Finance",
    },
    "risks": {
        "fields": {"summary": "Service risks, scored on the council's matrix."},
        "rows": [
            {
                "description": "Data quality of performance indicators is challenged at audit.",
                "likelihood": "C",
                "impact": "II",
                "mitigation": "Data quality checks each quarter.",
                "owner": "Richard May",
            }
        ],
    },
}
FINANCE_SUPPLIED = {
    "fields": {"summary": "Net budget for the service, as agreed by Cabinet (demo figures)."},
    "rows": [
        {"line": "Employees", "year1": 142_500_00, "year2": 145_300_00, "year3": 148_200_00},
        {
            "line": "Supplies and services",
            "year1": 38_750_00,
            "year2": 37_900_00,
            "year3": 37_900_00,
        },
    ],
}
IMPROVEMENT = [
    {
        "number": "1.2",
        "action": "Embed the performance management framework across all services.",
        "outputs": "Quarterly performance reports to EMT and Portfolio Holders.",
        "outcomes": "Improved CAA score for managing performance.",
        "completion": "2011-03",
        "responsible": "Richard May",
    },
    {
        "number": "1.6",
        "action": "Introduce Tell Us Once at the Cambourne reception.",
        "resources": "Within existing budgets.",
        "outcomes": "Less avoidable contact (NI014).",
        "completion": "2010-09",
        "responsible": "Paul Knight",
    },
]


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=clock.local_tz())


def _signatories(policy_holder: str) -> list[SignatoryIn]:
    named = [
        SignatoryIn(
            email=policy_holder if portfolio == "Policy and Performance" else email,
            role="portfolio_holder",  # type: ignore[arg-type]
            portfolio=portfolio,
        )
        for portfolio, email in PAIRS
    ]
    named.append(SignatoryIn(email=OWNER, role="corporate_manager"))  # type: ignore[arg-type]
    return named


def load_demo() -> str:
    """Replay the plan's year, then send today's links; what was done, in a line."""
    with write_session() as session:
        if session.exec(select(PlanningCycle).where(PlanningCycle.year == YEAR)).first():
            return f"planning cycle {plans.cycle_label(YEAR)} already loaded"
        people_import.import_people(session, rows=tabular.read(COUNCILLORS))
        admin_id = session.exec(select(Person.id).where(col(Person.is_admin))).first()
        owner = session.exec(select(Person).where(Person.email == OWNER)).one()
    team = Actor(person_id=admin_id or 0, is_admin=True)
    paul = Actor(person_id=owner.id or 0)
    with clock.frozen(_at(date(2009, 6, 1))), write_session() as session:
        plans.open_cycle(session, data=CycleCreate(year=YEAR), actor=team)
        plan = plans.add_plan(
            session,
            year=YEAR,
            data=PlanCreate(
                service_area=AREA,
                owner_email=OWNER,
                signatories=_signatories(DRAFT_POLICY_HOLDER),
            ),
            actor=team,
        )
        plan_id = plan.id or 0
    content = PlanContent.model_validate(
        {
            "sections": SECTIONS,
            "operational": [
                r.model_dump()
                for r in operational_import.read_operational_plan(
                    OPERATIONAL.read_bytes(), OPERATIONAL.name
                )
            ],
            "improvement": IMPROVEMENT,
        }
    )
    _edit_and_submit(
        plan_id,
        content,
        paul,
        date(2010, 1, 25),
        "Budget information is outstanding at section 7: Finance will provide it.",
    )
    with clock.frozen(_at(date(2010, 2, 8))), write_session() as session:
        signoff.set_signatories(
            session, plan_id=plan_id, named=_signatories(PAIRS[2][1]), actor=team
        )
    content.sections["finance"] = content.sections["finance"].model_validate(FINANCE_SUPPLIED)
    _edit_and_submit(
        plan_id, content, paul, date(2010, 3, 1), "Section 7 now has the budget from Finance."
    )
    with clock.frozen(_at(date(2010, 3, 3))):
        for email in SIGN_FIRST:
            _sign(plan_id, email)
    with write_session() as session:
        # The 2010 mail carries links that expired long ago: it is not mail to send now.
        outbox.discard_queued(session, created_before=_at(date(2010, 4, 1)))
        waiting = _send_links_today(session, plan_id)
    return (
        f"service plan {AREA} {plans.cycle_label(YEAR)}: version 2 signed by 2 of 6; "
        f"links sent today to {waiting}"
    )


def _edit_and_submit(plan_id: int, content: PlanContent, by: Actor, day: date, note: str) -> None:
    with clock.frozen(_at(day)), write_session() as session:
        plan = plans.get_plan(session, plan_id=plan_id)
        plans.edit(session, plan_id=plan_id, version=plan.version, content=content, actor=by)
        plans.submit(session, plan_id=plan_id, version=plan.version, note=note, actor=by)


def _sign(plan_id: int, email: str) -> None:
    from core import tokens
    from models import ActionToken

    with write_session() as session:
        person = session.exec(select(Person).where(Person.email == email)).one()
        token = action_links.newest_live(
            session,
            purpose=SIGN_LINK,
            subject_type=SUBJECT,
            subject_id=plan_id,
            person_id=person.id or 0,
        )
        assert isinstance(token, ActionToken)
        signoff.respond_by_link(
            session,
            raw=tokens.derive_token(token.salt),
            data=Response(answer="sign"),
            address="127.0.0.1",
        )


def _send_links_today(session, plan_id: int) -> str:  # type: ignore[no-untyped-def]
    plan = session.get(ServicePlan, plan_id)
    version = session.get(PlanVersion, plan.current_version_id)
    waiting = signers.still_to_sign(session, plan=plan)
    for person in waiting:
        action_links.revoke_for_person(
            session,
            purpose=SIGN_LINK,
            subject_type=SUBJECT,
            subject_id=plan_id,
            person_id=person.id or 0,
        )
    signers.ask_to_sign(session, plan=plan, version=version, people=waiting, step=False)
    return ", ".join(p.name for p in waiting)
