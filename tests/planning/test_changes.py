"""What changed between two versions of a service plan, in the plan's own words, and which
version a signatory last saw.

The operational plan is the Policy and Performance team's real one for 2010-13
(data/operational_plan_pp_2010-13.csv), read by the same import officers use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.performance import at
from support.planning import PAIRS, actor, edit, links, respond, signatories, submit

from core import clock
from core.db import read_session, write_session
from models.planning.content import ImprovementAction, OperationalRow, PlanContent, Section
from services.planning.changes import Change, diff
from services.planning.link_page import last_seen
from services.planning.operational_import import read_operational_plan
from services.planning.targets import parse

CSV = Path(__file__).resolve().parents[2] / "data" / "operational_plan_pp_2010-13.csv"
LAA = "NEW PI - % of SDCD LAA PI targets achieved"  # no code: matched by its wording


def _operational() -> list[OperationalRow]:
    return read_operational_plan(CSV.read_bytes(), CSV.name)


def _row(rows: list[OperationalRow], indicator_start: str) -> OperationalRow:
    (found,) = [r for r in rows if r.indicator.startswith(indicator_start)]
    return found


def test_the_real_operational_plan_against_an_edited_copy() -> None:
    old = _operational()
    assert len(old) == 34
    new = [r.model_copy(deep=True) for r in old]
    _row(new, LAA).targets[1] = parse("90")  # 2011/12: 85 -> 90
    sx028a = _row(new, "SX028a")
    sx028a.targets[2] = parse("80")
    sx028a.lead_officer = "Ian Salter"
    new.remove(_row(new, "PP7"))
    added = OperationalRow(
        indicator="NEW PI - % of residents who feel well informed",
        targets=[parse("60%"), parse("65%")],
        lead_officer="Gemma Barron",
    )
    new.insert(3, added)
    new.append(new.pop(0))  # PP4 moved to the end: moved is not changed
    found = diff(PlanContent(operational=old), PlanContent(operational=new), first_year=2010)
    assert found == [
        Change(
            "Operational plan — NEW PI - % of residents who feel well informed",
            "added",
            details=("2010/11 target: 60%", "2011/12 target: 65%", "Lead officer: Gemma Barron"),
        ),
        Change(
            "Operational plan — SX028a % of Council PIs that are improving (NIs & local)",
            "changed",
            details=(
                "2012/13 target: 75 → 80",
                "Lead officer: Ian Salter / Paul Knight → Ian Salter",
            ),
        ),
        Change(f"Operational plan — {LAA}", "changed", details=("2011/12 target: 85 → 90",)),
        Change(
            "Operational plan — PP7 Number of Elected Members involved in scrutiny",
            "removed",
            details=(
                "2010/11 target: 25",
                "2011/12 target: 25",
                "2012/13 target: 25",
                "Lead officer: Jackie Sayers",
            ),
        ),
    ]
    assert diff(PlanContent(operational=old), PlanContent(operational=old)) == []


def test_the_years_are_named_when_the_cycle_is_known() -> None:
    old = _operational()
    new = [r.model_copy(deep=True) for r in old]
    _row(new, "PP4").targets[0] = parse("95%")
    (change,) = diff(PlanContent(operational=old), PlanContent(operational=new))
    assert change.where == "Operational plan — PP4 % of service plans in place by April each year"
    assert change.details == ("Year 1 target: 100% → 95%",)


def test_a_section_marked_to_follow_then_supplied() -> None:
    outstanding = Section(
        fields={"summary": "Budget information is outstanding."},
        to_follow=True,
        to_follow_by="Finance",
    )
    supplied = Section(
        fields={"summary": "Net budget as agreed by Cabinet."},
        rows=[
            {"line": "Employees", "year1": 14_250_000, "year2": 14_530_000, "year3": None},
            {"line": "Supplies and services", "year1": 3_875_000},
        ],
    )
    draft = PlanContent(sections={"about": Section(fields={"description": "Our service."})})
    v1 = draft.model_copy(update={"sections": draft.sections | {"finance": outstanding}})
    v2 = draft.model_copy(update={"sections": draft.sections | {"finance": supplied}})
    assert diff(draft, v1) == [
        Change("Section 7 Financial resources", "changed", "Now to follow from Finance."),
        Change(
            "Section 7 Financial resources — Summary",
            "added",
            after="Budget information is outstanding.",
        ),
    ]
    assert diff(v1, v2) == [
        Change(
            "Section 7 Financial resources",
            "changed",
            "No longer to follow (it was to follow from Finance).",
        ),
        Change(
            "Section 7 Financial resources — Summary",
            "changed",
            before="Budget information is outstanding.",
            after="Net budget as agreed by Cabinet.",
        ),
        Change(
            "Section 7 Financial resources — budget line “Employees”",
            "added",
            details=("Year 1 (£): £142,500.00", "Year 2 (£): £145,300.00"),
        ),
        Change(
            "Section 7 Financial resources — budget line “Supplies and services”",
            "added",
            details=("Year 1 (£): £38,750.00",),
        ),
    ]
    later = Section(**(outstanding.model_dump() | {"to_follow_by": "Human Resources"}))
    v1b = v1.model_copy(update={"sections": v1.sections | {"finance": later}})
    assert diff(v1, v1b) == [
        Change(
            "Section 7 Financial resources",
            "changed",
            "Now to follow from Human Resources (was to follow from Finance).",
        )
    ]


def test_rows_of_a_section_are_matched_by_their_first_column() -> None:
    risk = {
        "description": "Data quality challenged at audit",
        "likelihood": "C",
        "impact": "II",
        "mitigation": "Quarterly checks",
    }
    other = {"description": "Loss of key staff", "likelihood": "D", "impact": "III"}
    old = PlanContent(sections={"risks": Section(rows=[risk, other])})
    new = PlanContent(
        sections={"risks": Section(rows=[other, risk | {"likelihood": "B", "owner": "R May"}])}
    )
    assert diff(old, new) == [
        Change(
            "Section 9 Risks — risk “Data quality challenged at audit”",
            "changed",
            details=("Likelihood: C – significant → B – high", "Owner: (blank) → R May"),
        )
    ]


def test_improvement_actions_are_matched_by_number() -> None:
    old = [
        ImprovementAction(number="1.2", action="Embed the framework", completion="2011-03"),
        ImprovementAction(number="1.6", action="Tell Us Once at Cambourne", responsible="PK"),
    ]
    new = [
        ImprovementAction(number="1.2", action="Embed the framework", completion="2011-06"),
        ImprovementAction(action="Publish the plan on the website"),
    ]
    assert diff(PlanContent(improvement=old), PlanContent(improvement=new)) == [
        Change(
            "Improvement plan — action “Publish the plan on the website”",
            "added",
            details=("Action: Publish the plan on the website",),
        ),
        Change(
            "Improvement plan — action 1.2",
            "changed",
            details=("Completion: March 2011 → June 2011",),
        ),
        Change(
            "Improvement plan — action 1.6",
            "removed",
            details=("Action: Tell Us Once at Cambourne", "Responsible officers: PK"),
        ),
    ]


def test_a_long_text_is_shown_around_its_first_difference() -> None:
    opening = "The service has many parts. " * 60  # about 1,700 characters the same
    old = PlanContent(sections={"about": Section(fields={"description": opening + "Old end."})})
    new = PlanContent(sections={"about": Section(fields={"description": opening + "New end."})})
    (change,) = diff(old, new)
    assert change.where == "Section 1 About our service — Description of the service"
    assert change.before.startswith("…") and change.before.endswith("Old end.")
    assert change.after.startswith("…") and change.after.endswith("New end.")
    assert len(change.before) < 100
    longer = PlanContent(
        sections={"about": Section(fields={"description": "Changed. " + opening * 2})}
    )
    (cut,) = diff(old, longer)
    assert cut.after.startswith("Changed. The service") and cut.after.endswith("…")
    assert len(cut.after) <= 301


def test_spacing_alone_is_said_to_be_spacing() -> None:
    old = PlanContent(sections={"about": Section(fields={"description": "One.\nTwo."})})
    new = PlanContent(sections={"about": Section(fields={"description": "One.\n\nTwo.\r\n"})})
    assert diff(old, new) == [
        Change(
            "Section 1 About our service — Description of the service",
            "changed",
            "Only the spacing or line breaks changed.",
        )
    ]


def test_the_first_version_is_all_added() -> None:
    content = PlanContent(
        sections={"about": Section(fields={"description": "Our service."})},
        operational=_operational()[:1],
    )
    assert [c.kind for c in diff(None, content)] == ["added", "added"]


# --- which version a signatory last saw ---------------------------------------------------


@pytest.fixture
def versions(ccs: Any) -> dict[str, Any]:
    """Version 1 to the five pairs; the performance team puts Cllr Gale in Cllr Dunn's place
    while it is out (so Gale is sent a link to version 1 but is not in its frozen list); Gale
    asks for changes; version 2 goes out with Gale; changes are asked again, Dunn comes back
    before version 3."""
    from services.planning import signoff
    from services.planning.schemas import SignatoryIn

    dunn, gale = ccs.by_email(PAIRS[2][1]), ccs.by_email("cllr.gale@scambs.example")

    def named(email: str) -> list[SignatoryIn]:
        pairs = [(p, email if e == dunn.email else e) for p, e in PAIRS]
        return [SignatoryIn(**s) for s in signatories(pairs)]

    def sign_by(email: str) -> None:
        with write_session() as session:
            signoff.set_signatories(
                session, plan_id=ccs.plan.id, named=named(email), actor=actor(ccs.admin)
            )

    made = {}
    with clock.frozen(at("2010-02-01")):
        for n, who in ((1, gale.email), (2, None), (3, None)):
            edit(ccs.plan.id, ccs.owner, {"improvement": [{"action": f"Version {n}"}]})
            made[n] = submit(ccs.plan.id, ccs.owner)
            if who:
                sign_by(who)
            if n < 3:
                respond(links(ccs.plan.id)[gale.id], "changes", "Not yet.")
            if n == 2:
                sign_by(dunn.email)
    return {"versions": made, "dunn": dunn, "gale": gale}


def test_a_signatory_sees_changes_since_the_version_they_last_saw(ccs, versions) -> None:
    v, dunn, gale = versions["versions"], versions["dunn"], versions["gale"]
    hartley = ccs.by_email(PAIRS[0][1])
    with read_session() as s:

        def seen(person: Any, before: int) -> int | None:
            found = last_seen(s, ccs.plan.id, person.id, before)
            return found.number if found else None

        assert seen(dunn, 1) is None  # the first version they are asked to sign
        assert seen(dunn, 3) == 1  # not asked to sign version 2
        assert seen(gale, 2) == 1  # sent a link to version 1, though not in its frozen list
        assert seen(gale, 3) == 2
        assert seen(hartley, 3) == 2
        assert seen(ccs.owner, 2) == 1  # the Corporate Manager signs too
        assert last_seen(s, ccs.plan.id, dunn.id, before_number=2).id == v[1].id
