"""An approved plan's indicators and milestones become measures of its year's scorecard.

"Actions detailed in the improvement and operational plans will then be input into CorVu":
on approval, each operational plan row becomes a measure of the service area's scorecard for
the plan's first year, with its first year's target; each improvement action becomes a
milestone measure ("ACTION 1.2"). A row whose code was measured last year keeps last year's
frequency, unit, polarity and officers (linked by code); a row without a code ("NEW PI") gets
one from its place in the plan. So the chase covers them from April.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from core import clock
from models.performance import Frequency, Measure, MeasureTarget, Polarity, Scorecard
from models.planning import PlanningCycle, PlanVersion, ServicePlan
from models.planning.content import OperationalRow, PlanContent
from services.performance import officers, periods
from services.platform import audit

_SMALL = ("", "and", "of", "the")
_CODE_PREFIX = re.compile(r"^\s*[A-Za-z]{1,6}\s?\d+[A-Za-z]?\s*[-–—:]\s*")


@dataclass
class Loaded:
    scorecard: str = ""
    created: int = 0
    updated: int = 0


def scorecard_code(service_area: str, year: int) -> str:
    """ "Community and Customer Services", 2010 -> "CCS-1011"."""
    words = [w for w in re.split(r"[^A-Za-z]+", service_area) if w.lower() not in _SMALL]
    initials = "".join(w[0].upper() for w in words)[:10] or "PLAN"
    return f"{initials}-{year % 100:02d}{(year + 1) % 100:02d}"


def load_approved(session: Session, *, plan: ServicePlan) -> Loaded:
    """Create or update the measures of the approved version's plan (idempotent by code)."""
    cycle = session.get(PlanningCycle, plan.cycle_id)
    version = session.get(PlanVersion, plan.approved_version_id or plan.current_version_id)
    assert cycle is not None and version is not None
    content = PlanContent.model_validate(version.content)
    code = scorecard_code(plan.service_area, cycle.year)
    card = session.exec(select(Scorecard).where(Scorecard.code == code)).first()
    if card is None:
        card = Scorecard(
            code=code,
            name=f"{plan.service_area} {cycle.year % 100:02d}/{(cycle.year + 1) % 100:02d}",
            year=cycle.year,
            created_at=clock.now(),
        )
        session.add(card)
        session.flush()
    on_card = session.exec(select(Measure).where(Measure.scorecard_id == card.id))
    existing = {m.code: m for m in on_card}
    last_year = _last_years_measures(session, cycle.year - 1)
    people = officers.directory(session)
    year_end = periods.year_end(cycle.year)
    done = Loaded(scorecard=code)
    for number, row in enumerate(content.operational, start=1):
        values = _from_row(row, number, last_year.get(row.code), people)
        target = values.pop("target")
        _save(session, card, existing, values, target, year_end, done)
    for action in content.improvement:
        values = {
            "code": f"ACTION {action.number}".strip()[:40],
            "name": action.action[:300],
            "aim": "Improvement plan",
            "approach": action.outcomes[:200],
            "frequency": Frequency.quarterly,
            "unit": "milestone",
            "polarity": Polarity.higher_better,
            "responsible_name": _first_name(action.responsible),
            "data_source_name": _first_name(action.responsible),
        }
        _officers(values, people, None)
        _save(session, card, existing, values, None, year_end, done)
    audit.record(
        session,
        actor_id=None,
        actor_role="system",
        actor_address="",
        subject_type="service_plan",
        subject_id=plan.id or 0,
        subject_version=plan.version,
        action="load_measures",
        detail=f"scorecard {code}: {done.created} measures added, {done.updated} updated",
    )
    return done


def _last_years_measures(session: Session, year: int) -> dict[str, Measure]:
    rows = session.exec(
        select(Measure)
        .join(Scorecard, col(Scorecard.id) == col(Measure.scorecard_id))
        .where(Scorecard.year == year)
        .order_by(col(Measure.id))
    )
    return {m.code: m for m in rows}


def _first_name(text: str) -> str:
    """ "Ian Salter / Paul Knight" -> "Ian Salter": a measure has one responsible officer."""
    return re.split(r"\s*[/&,]\s*|\s+and\s+", text.strip(), maxsplit=1)[0][:120]


def _from_row(
    row: OperationalRow, number: int, before: Measure | None, people: officers.Directory
) -> dict[str, Any]:
    first = row.targets[0] if row.targets else None
    value = first.value if first is not None and first.kind == "value" else None
    if first is not None and first.comparator in ("<", "<="):
        polarity = Polarity.lower_better
    elif first is not None and first.comparator in (">", ">="):
        polarity = Polarity.higher_better
    else:
        polarity = before.polarity if before is not None else Polarity.higher_better
    unit = "percentage" if first is not None and first.unit == "%" else None
    if first is not None and first.kind == "date":
        unit = "milestone"
    values: dict[str, Any] = {
        "code": (row.code or f"NEW PI {number}")[:40],
        "name": _CODE_PREFIX.sub("", row.indicator)[:300] or row.indicator[:300],
        "aim": (row.aim_approach or "Service plan")[:200],
        "approach": row.service_objective[:200],
        "frequency": before.frequency if before is not None else Frequency.yearly,
        "unit": unit or (before.unit if before is not None else "number"),
        "polarity": polarity,
        "responsible_name": _first_name(row.lead_officer),
        "data_source_name": _first_name(row.lead_officer),
        "target": value,
    }
    _officers(values, people, before)
    return values


def _officers(values: dict[str, Any], people: officers.Directory, before: Measure | None) -> None:
    found = people.find(values["responsible_name"]) if values["responsible_name"] else None
    values["responsible_officer_id"] = found or (before.responsible_officer_id if before else None)
    values["data_source_officer_id"] = found or (before.data_source_officer_id if before else None)


def _save(
    session: Session,
    card: Scorecard,
    existing: dict[str, Measure],
    values: dict[str, Any],
    target: float | None,
    year_end: str,
    done: Loaded,
) -> None:
    measure = existing.get(values["code"])
    values["year_end_target"] = target
    if measure is None:
        measure = Measure(scorecard_id=card.id or 0, updated_at=clock.now(), **values)
        session.add(measure)
        session.flush()
        existing[measure.code] = measure
        done.created += 1
    else:
        for k, v in values.items():
            setattr(measure, k, v)
        measure.active, measure.updated_at = True, clock.now()
        done.updated += 1
    if target is None:
        return
    row = session.exec(
        select(MeasureTarget).where(
            MeasureTarget.measure_id == measure.id, MeasureTarget.period == year_end
        )
    ).first()
    if row is None:
        session.add(MeasureTarget(measure_id=measure.id or 0, period=year_end, value=target))
    else:
        row.value = target
