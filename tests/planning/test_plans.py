"""Cycles, plans, roll-forward and loading an approved plan into the scorecard."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import select
from support.performance import at, import_card
from support.planning import (
    actor,
    add_plan,
    edit,
    links,
    open_cycle,
    plan,
    respond,
    submit,
)

from core import clock
from core.db import read_session, write_session
from models import AuditEvent
from models.performance import Measure, MeasureTarget, Polarity, Scorecard
from models.planning import PlanStatus
from models.planning.content import PlanContent
from services.planning import plans
from services.planning.schemas import CalendarUpdate, CycleCreate
from services.platform.errors import Conflict, Forbidden, Invalid

ROWS = [
    {
        "aim_approach": "All",
        "indicator": "PP4 - % of service plans in place by April each year",
        "code": "PP4",
        "targets": [
            {"text": "100%", "kind": "value", "value": 100, "unit": "%"},
            {"text": "100%", "kind": "value", "value": 100, "unit": "%"},
            {"text": "100%", "kind": "value", "value": 100, "unit": "%"},
        ],
        "lead_officer": "Richard May",
    },
    {
        "aim_approach": "A4",
        "indicator": "SF731 - % of Contact Centre calls abandoned (Service Level Agreement)",
        "code": "SF731",
        "targets": [
            {"text": "<5", "kind": "value", "comparator": "<", "value": 5},
            {"text": "<5", "kind": "value", "comparator": "<", "value": 5},
            {"text": "<4", "kind": "value", "comparator": "<", "value": 4},
        ],
        "lead_officer": "CSC",
    },
    {
        "aim_approach": "A4/5",
        "indicator": "NI014 – The % of customer contact which is of low or no value",
        "code": "NI014",
        "targets": [{"text": "25", "kind": "value", "value": 25}],
        "lead_officer": "CSC",
    },
    {
        "aim_approach": "A5",
        "indicator": "NEW PI - Score for performance management element of CAA",
        "targets": [{"text": "2 out of 4 (09-10 assessment)", "kind": "value", "value": 2}],
        "lead_officer": "Paul Howes",
    },
]


def _approve(ccs: Any, content: dict[str, Any]) -> None:
    edit(ccs.plan.id, ccs.owner, content)
    submit(ccs.plan.id, ccs.owner)
    for raw in links(ccs.plan.id).values():
        respond(raw)
    assert plan(ccs.plan.id).status == PlanStatus.approved


def test_the_cycle_calendar_defaults_to_the_councils_and_checks_its_order(ccs: Any) -> None:
    cycle = ccs.cycle
    assert (cycle.objectives_by, cycle.drafts_due, cycle.signoff_by) == (
        date(2009, 7, 31),
        date(2009, 11, 30),
        date(2010, 3, 31),
    )
    with write_session() as s, pytest.raises(Conflict):
        plans.open_cycle(s, data=CycleCreate(year=2010), actor=actor(ccs.admin))
    with pytest.raises(ValueError, match="in order"):
        CycleCreate(year=2011, drafts_due=date(2011, 4, 30)).calendar()
    with write_session() as s:
        moved = plans.update_calendar(
            s,
            year=2010,
            data=CalendarUpdate(version=1, signoff_by=date(2010, 3, 26)),
            actor=actor(ccs.admin),
        )
        assert (moved.signoff_by, moved.version) == (date(2010, 3, 26), 2)
    with write_session() as s, pytest.raises(Conflict):  # a stale calendar
        plans.update_calendar(s, year=2010, data=CalendarUpdate(version=1), actor=actor(ccs.admin))
    with write_session() as s, pytest.raises(Forbidden):
        plans.open_cycle(s, data=CycleCreate(year=2011), actor=actor(ccs.owner))


def test_only_the_owner_or_the_performance_team_edit_and_submit(ccs: Any) -> None:
    other = ccs.people["Gemma Barron"]
    with write_session() as s, pytest.raises(Forbidden):
        plans.edit(s, plan_id=ccs.plan.id, version=1, content=PlanContent(), actor=actor(other))
    edit(ccs.plan.id, ccs.admin, {"operational": ROWS})
    with pytest.raises(Conflict):  # the owner's page was read before the team's edit
        with write_session() as s:
            plans.edit(
                s, plan_id=ccs.plan.id, version=1, content=PlanContent(), actor=actor(ccs.owner)
            )
    assert len(PlanContent.model_validate(plan(ccs.plan.id).content).operational) == 4


def test_a_plan_needs_a_portfolio_holder_to_be_submitted(ccs: Any) -> None:
    bare = add_plan(ccs.admin, area="Planning and New Communities", signatories=[])
    with pytest.raises(Invalid, match="Portfolio Holder"):
        submit(bare.id, ccs.owner)
    assert plan(bare.id).status == PlanStatus.not_started


def test_an_approved_plan_is_frozen(ccs: Any) -> None:
    _approve(ccs, {"operational": ROWS})
    with pytest.raises(Conflict, match="approved"):
        edit(ccs.plan.id, ccs.owner, {"operational": []})


def test_an_approved_plan_becomes_measures_linked_by_code_to_last_years(ccs: Any) -> None:
    with clock.frozen(at("2009-12-31", "12:00")):
        import_card()  # CCS-0910: PP4, NI014 ... with their officers, units and polarity
    with clock.frozen(at("2010-03-01")):
        _approve(ccs, {"operational": ROWS, "improvement": [{"number": "1.2", "action": "PMF"}]})
    with read_session() as s:
        card = s.exec(select(Scorecard).where(Scorecard.code == "CCS-1011")).one()
        assert (card.year, card.name) == (2010, "Community and Customer Services 10/11")
        new = {m.code: m for m in s.exec(select(Measure).where(Measure.scorecard_id == card.id))}
        old = {
            m.code: m
            for m in s.exec(select(Measure).join(Scorecard).where(Scorecard.code == "CCS-0910"))
        }
        targets = {t.measure_id: (t.period, t.value) for t in s.exec(select(MeasureTarget))}
        loaded = s.exec(select(AuditEvent).where(AuditEvent.action == "load_measures")).one()
    assert set(new) == {"PP4", "SF731", "NI014", "NEW PI 4", "ACTION 1.2"}
    assert new["PP4"].frequency == old["PP4"].frequency  # carried from last year, by code
    assert new["PP4"].data_source_officer_id == ccs.people["Richard May"].id
    assert targets[new["PP4"].id] == ("2011-03", 100)
    # "<5" is lower-is-better; NI014's "25" says nothing, so last year's polarity stands.
    assert new["SF731"].polarity == Polarity.lower_better
    assert new["NI014"].polarity == Polarity.lower_better
    assert new["NI014"].data_source_officer_id == old["NI014"].data_source_officer_id
    assert new["NEW PI 4"].responsible_officer_id == ccs.owner.id
    assert new["ACTION 1.2"].unit == "milestone"
    assert "5 measures added" in loaded.detail


def test_a_plan_rolls_forward_into_next_years_cycle(ccs: Any) -> None:
    edit(
        ccs.plan.id,
        ccs.owner,
        {"sections": {"about": {"fields": {"description": "Our service."}}}, "operational": ROWS},
    )
    with clock.frozen(at("2010-06-01")):
        open_cycle(ccs.admin, 2011)
        rolled = add_plan(ccs.admin, 2011, signatories=[])
    assert rolled.status == PlanStatus.drafting and rolled.rolled_from_id == ccs.plan.id
    content = PlanContent.model_validate(rolled.content)
    assert content.section("about").fields["description"] == "Our service."
    sf731 = next(r for r in content.operational if r.code == "SF731")
    # 2011/12's target is now the first year's; the new third year is left to fill in.
    assert [t.text for t in sf731.targets] == ["<5", "<4", ""]
    with read_session() as s:
        from services.planning import signers

        carried = [(x.role, x.portfolio) for x, _ in signers.current(s, plan_id=rolled.id)]
        first = [(x.role, x.portfolio) for x, _ in signers.current(s, plan_id=ccs.plan.id)]
    assert carried == first and len(carried) == 6
    fresh = add_plan(ccs.admin, 2011, area="Finance", roll_forward=False, signatories=[])
    assert fresh.status == PlanStatus.not_started and fresh.content == {}


@pytest.mark.parametrize(
    "content",
    [
        {"sections": {"nonsense": {}}},
        {"sections": {"about": {"fields": {"description": "x" * 20_001}}}},
        {"sections": {"about": {"fields": {"description": "bidi \u202e here"}}}},
        {"operational": [{"indicator": ""}]},
        {"operational": [{"indicator": "   \n "}]},
        {"improvement": [{"action": " "}]},
        {"improvement": [{"action": "a", "completion": "2011-13"}]},
        {"unknown": 1},
    ],
)
def test_content_that_is_not_a_plan_is_refused(ccs: Any, content: dict[str, Any]) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        PlanContent.model_validate(content)
