"""RAG is computed, never typed: GREEN on target, AMBER within the tolerance, RED beyond.

Values are compared as decimals of their shortest text, so a value exactly on the target or
exactly on the tolerance boundary is judged as a person reading the report would judge it.
GREY is not a judgement of a value but its absence (no figure, no target, or data unavailable).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from core.settings import get_settings
from models.performance import Polarity, Rag


@lru_cache(maxsize=65536)  # a scorecard's targets and tolerances repeat; values often do
def _d(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def tolerance(target: float, own: float | None) -> Decimal:
    """How far a value may miss this target and be AMBER: the measure's own tolerance, or the
    site's share of the target (a zero target has no AMBER band unless the measure sets one)."""
    if own is not None:
        return abs(_d(own))
    share = _d(get_settings().amber_tolerance_percent) / 100
    return abs(_d(target)) * share


_POLARITY = {p.value: p for p in Polarity}  # str or member (they hash alike) -> member


def judge(
    value: float | None, target: float | None, *, polarity: Polarity | str, own: float | None
) -> Rag:
    """The colour of `value` against `target` (GREY when either is missing)."""
    if value is None or target is None:
        return Rag.grey
    v, t = _d(value), _d(target)
    miss = t - v if _POLARITY[polarity] is Polarity.higher_better else v - t
    if miss <= 0:
        return Rag.green
    if miss <= tolerance(target, own):
        return Rag.amber
    return Rag.red


@dataclass(frozen=True)
class Colour:
    """A measure's colour as reported: the computed one, and an officer's override if any."""

    computed: Rag
    override: Rag | None = None

    @property
    def reported(self) -> Rag:
        return self.override or self.computed

    @property
    def overridden(self) -> bool:
        return self.override is not None and self.override != self.computed
