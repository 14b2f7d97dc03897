"""PP4, "% of service plans agreed by March 31st": the council measures its own planning cycle.

Once a cycle's sign-off deadline has passed, the share of its plans approved on or before the
deadline is written, once, as the March figure of measure PP4 on the scorecards of the
financial year that ends at the deadline (the 2010/11 cycle's PP4 is 2009/10's March figure,
as in the council's 09/10 scorecard: "83"). It is recorded through the hand-over to
monitoring (services.platform.monitoring), which writes it as a revision like any other (who:
nobody, why: the cycle), so reports and RAG treat it as a figure an officer entered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import update
from sqlmodel import Session, col, select

from core import clock
from core.templating import long_date
from models.planning import PlanningCycle, PlanStatus, ServicePlan
from services.planning.plans import cycle_label
from services.platform import audit, monitoring

CODE = "PP4"


@dataclass(frozen=True)
class Pp4:
    approved_by_deadline: int
    total: int
    percent: float | None  # to one decimal; None when the cycle has no plans
    late: tuple[str, ...] = ()  # the service areas not approved by the deadline

    def text(self) -> str:
        if self.percent is None:
            return "no service plans"
        return f"{self.percent:.1f}% ({self.approved_by_deadline} of {self.total} plans)"


def pp4(session: Session, cycle: PlanningCycle) -> Pp4:
    """The share of the cycle's plans approved on or before its sign-off deadline."""
    plans = session.exec(
        select(ServicePlan)
        .where(ServicePlan.cycle_id == cycle.id)
        .order_by(col(ServicePlan.service_area))
    ).all()
    on_time = [p for p in plans if _approved_by(p, cycle.signoff_by)]
    late = tuple(p.service_area for p in plans if not _approved_by(p, cycle.signoff_by))
    if not plans:
        return Pp4(0, 0, None)
    # Half up, as people round: 5 of 16 is 31.3%, not the 31.2% of round()'s banker's rule.
    share = (Decimal(100 * len(on_time)) / Decimal(len(plans))).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    return Pp4(len(on_time), len(plans), float(share), late)


def _approved_by(plan: ServicePlan, deadline: date) -> bool:
    return (
        plan.status == PlanStatus.approved
        and plan.approved_on is not None
        and plan.approved_on <= deadline
    )


@dataclass
class Recorded:
    """What one run did about one cycle's PP4."""

    cycle: str  # "2010/11"
    value: Pp4
    period: str
    recorded: bool  # pp4_recorded_at set by this run
    written: list[str] = field(default_factory=list)  # scorecard codes given the figure
    why_not: str = ""

    def line(self) -> str:
        head = f"PP4 for the {self.cycle} cycle: {self.value.text()}"
        if self.written:
            return f"{head}, written as March {self.period[:4]} on {', '.join(self.written)}"
        return f"{head}; {self.why_not}"

    def as_dict(self) -> dict[str, object]:
        return {
            "cycle": self.cycle,
            "percent": self.value.percent,
            "approved_by_deadline": self.value.approved_by_deadline,
            "total": self.value.total,
            "period": self.period,
            "recorded": self.recorded,
            "written": self.written,
        }


def record(session: Session, *, cycle: PlanningCycle, today: date) -> Recorded | None:
    """Write the cycle's PP4 once its deadline has passed (None: not due, or already done)."""
    if today <= cycle.signoff_by or cycle.pp4_recorded_at is not None:
        return None
    label = cycle_label(cycle.year)
    # The last month of the financial year that ends at the deadline, the year of the
    # scorecards written: a calendar moved by hand never puts the figure in another year.
    period = f"{cycle.year}-03"
    value = pp4(session, cycle)
    if value.percent is None:
        # Left unrecorded, so plans added late are still counted; each run says why.
        return Recorded(label, value, period, False, why_not="not recorded: the cycle has no plans")
    if not _claim(session, cycle):
        return None  # another run recorded it a moment ago
    done = Recorded(label, value, period, True)
    commentary = (
        f"{value.approved_by_deadline} of {value.total} service plans were approved by "
        f"{long_date(cycle.signoff_by)}."
        + (f" Not approved by then: {', '.join(value.late)}." if value.late else "")
    )
    taken = monitoring.record_figure(
        session,
        monitoring.ComputedFigure(
            code=CODE,
            year=cycle.year - 1,
            value=value.percent,
            commentary=commentary,
            reason=f"computed from the {label} planning cycle",
        ),
    )
    done.written = taken.where
    if not done.written:
        done.why_not = (
            f"no scorecard for {cycle_label(cycle.year - 1)} has a measure {CODE}: "
            "recorded on the cycle only"
        )
    audit.record(
        session,
        actor_id=None,
        actor_role="system",
        actor_address="",
        subject_type="planning_cycle",
        subject_id=cycle.id or 0,
        subject_version=cycle.version,
        action="record_pp4",
        detail=done.line()[:2000],
    )
    return done


def _claim(session: Session, cycle: PlanningCycle) -> bool:
    """Take the cycle's PP4 for this run: of two runs at once, one writes it."""
    result = session.execute(
        update(PlanningCycle)
        .where(col(PlanningCycle.id) == cycle.id, col(PlanningCycle.pp4_recorded_at).is_(None))
        .values(pp4_recorded_at=clock.now())
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
