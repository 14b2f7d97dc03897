"""The service-planning cycle's test helpers: the Community and Customer Services plan for
2010/11 with its five signatory pairs, built through the same service functions the pages,
the API and `signoff demo` call (fixtures in tests/planning/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import select

from core import tokens
from core.db import read_session, write_session
from models import ActionToken

ROOT = Path(__file__).resolve().parents[2]
COUNCILLORS_FILE = ROOT / "data" / "ccs_councillors.csv"
OPERATIONAL_FILE = ROOT / "data" / "operational_plan_pp_2010-13.csv"
AREA = "Community and Customer Services"
YEAR = 2010
OWNER = "paul.howes@scambs.example"
# The "Approved by" block of the final plan: five Portfolio Holders, each with the Corporate
# Manager (who signs once for all five pairs).
PAIRS = [
    ("Partnerships", "cllr.hartley@scambs.example"),
    ("Communications", "cllr.cole@scambs.example"),
    ("Policy and Performance", "cllr.dunn@scambs.example"),
    ("Equality and Diversity", "cllr.ellis@scambs.example"),
    ("Elections", "cllr.fisher@scambs.example"),
]


def signatories(pairs: list[tuple[str, str]] | None = None) -> list[dict[str, str]]:
    named = []
    for portfolio, email in pairs or PAIRS:
        named.append({"email": email, "role": "portfolio_holder", "portfolio": portfolio})
    named.append({"email": OWNER, "role": "corporate_manager", "portfolio": ""})
    return named


def import_councillors() -> Any:
    from services.platform import people_import, tabular

    with write_session() as session:
        return people_import.import_people(session, rows=tabular.read(COUNCILLORS_FILE))


def actor(person: Any, address: str = "192.0.2.20") -> Any:
    from services.platform.actors import Actor

    return Actor(person_id=person.id, address=address, is_admin=person.is_admin)


def open_cycle(admin: Any, year: int = YEAR, **dates: Any) -> Any:
    from services.planning import plans
    from services.planning.schemas import CycleCreate

    with write_session() as session:
        cycle = plans.open_cycle(session, data=CycleCreate(year=year, **dates), actor=actor(admin))
        session.expunge(cycle)
        return cycle


def add_plan(admin: Any, year: int = YEAR, *, area: str = AREA, **fields: Any) -> Any:
    from services.planning import plans
    from services.planning.schemas import PlanCreate

    data = PlanCreate(
        service_area=area,
        owner_email=fields.pop("owner_email", OWNER),
        signatories=fields.pop("signatories", signatories()),
        **fields,
    )
    with write_session() as session:
        plan = plans.add_plan(session, year=year, data=data, actor=actor(admin))
        session.expunge(plan)
        return plan


def plan(plan_id: int) -> Any:
    from models.planning import ServicePlan

    with read_session() as s:
        row = s.get(ServicePlan, plan_id)
        assert row is not None
        s.expunge(row)
        return row


def edit(plan_id: int, by: Any, content: Any) -> Any:
    from models.planning.content import PlanContent
    from services.planning import plans

    current = plan(plan_id)
    with write_session() as session:
        row = plans.edit(
            session,
            plan_id=plan_id,
            version=current.version,
            content=PlanContent.model_validate(content),
            actor=actor(by),
        )
        session.expunge(row)
        return row


def submit(plan_id: int, by: Any, note: str = "") -> Any:
    from services.planning import plans

    current = plan(plan_id)
    with write_session() as session:
        version = plans.submit(
            session, plan_id=plan_id, version=current.version, note=note, actor=actor(by)
        )
        session.expunge(version)
        return version


def links(plan_id: int, *, live_only: bool = True) -> dict[int, str]:
    """person id -> the raw token of their newest signing link (as their email carries it)."""
    from core import clock

    with read_session() as s:
        rows = s.exec(
            select(ActionToken)
            .where(ActionToken.purpose == "sign_plan", ActionToken.subject_id == plan_id)
            .order_by(ActionToken.id)
        ).all()
    found = {}
    for row in rows:
        if live_only and (row.used_at or row.revoked_at or row.expires_at <= clock.now()):
            continue
        found[row.person_id] = tokens.derive_token(row.salt)
    return found


def respond(raw: str, answer: str = "sign", comment: str = "") -> Any:
    from services.planning import signoff
    from services.planning.schemas import Response

    with write_session() as session:
        row = signoff.respond_by_link(
            session,
            raw=raw,
            data=Response(answer=answer, comment=comment),
            address="198.51.100.7",
        )
        session.expunge(row)
        return row
