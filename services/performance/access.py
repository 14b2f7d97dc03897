"""Who may do what with performance figures: one set of rules for pages and the API alike.

- Every signed-in person (every active API token holder) reads every scorecard, measure and
  figure: performance data is shared with all the council's staff.
- A figure is entered or revised by its measure's data source officer, its responsible
  officer, or the performance team (administrators).
- Its colours are overridden by the measure's responsible officer or the performance team.
"""

from __future__ import annotations

from models.performance import Measure
from services.platform.actors import Actor

MAY_NOT_ENTER = (
    "Only the measure's data source officer, its responsible officer or the performance team "
    "can enter or revise its figures."
)
MAY_NOT_OVERRIDE = (
    "Only the measure's responsible officer or the performance team can override its colours."
)


def may_enter(measure: Measure, actor: Actor) -> bool:
    """May this person enter or revise the measure's figures?"""
    return actor.is_admin or actor.person_id in (
        measure.data_source_officer_id,
        measure.responsible_officer_id,
    )


def may_override(measure: Measure, actor: Actor) -> bool:
    """May this person override the colours of the measure's figures?"""
    return actor.is_admin or actor.person_id == measure.responsible_officer_id
