"""An approved plan's indicators and milestones are handed over to be measured.

"Actions detailed in the improvement and operational plans will then be input into CorVu": on
approval, each operational plan row (with its first year's target) and each improvement action
(a milestone, "ACTION 1.2") of the approved version is handed to monitoring
(services.platform.monitoring), which puts them on the service's scorecard for the plan's
first year, in the same transaction as the approval.
"""

from __future__ import annotations

from sqlmodel import Session

from models.planning import PlanningCycle, PlanVersion, ServicePlan
from models.planning.content import ImprovementAction, OperationalRow, PlanContent
from services.platform import monitoring
from services.platform.monitoring import Indicator, IndicatorSet, Taken


def load_approved(session: Session, *, plan: ServicePlan) -> Taken:
    """Hand the approved version's indicators over (idempotent by code)."""
    cycle = session.get(PlanningCycle, plan.cycle_id)
    version = session.get(PlanVersion, plan.approved_version_id or plan.current_version_id)
    assert cycle is not None and version is not None
    content = PlanContent.model_validate(version.content)
    indicators = [_indicator(row) for row in content.operational]
    indicators += [_milestone(action) for action in content.improvement]
    return monitoring.hand_over(
        session, IndicatorSet(area=plan.service_area, year=cycle.year, indicators=indicators)
    )


def _indicator(row: OperationalRow) -> Indicator:
    first = row.targets[0] if row.targets else None
    return Indicator(
        code=row.code,
        name=row.indicator,
        aim=row.aim_approach,
        approach=row.service_objective,
        officer=row.lead_officer,
        kind="milestone" if first is not None and first.kind == "date" else "indicator",
        target=first.value if first is not None and first.kind == "value" else None,
        comparator=first.comparator if first is not None else None,
        unit=first.unit if first is not None else None,
    )


def _milestone(action: ImprovementAction) -> Indicator:
    return Indicator(
        code=f"ACTION {action.number}".strip(),
        name=action.action,
        aim="Improvement plan",
        approach=action.outcomes,
        officer=action.responsible,
        kind="milestone",
    )
