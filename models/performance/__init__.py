"""Performance data collection's tables: scorecards, measures, their targets and figures, and
each officer's return of figures for a period (the subject the chase is about)."""

from models.performance.figures import (
    Figure,
    FigureReturn,
    FigureRevision,
    FigureState,
    ReturnStatus,
)
from models.performance.scorecards import (
    Frequency,
    Measure,
    MeasureTarget,
    OfficerAlias,
    Polarity,
    Rag,
    Scorecard,
)

__all__ = [
    "Figure",
    "FigureReturn",
    "FigureRevision",
    "FigureState",
    "Frequency",
    "Measure",
    "MeasureTarget",
    "OfficerAlias",
    "Polarity",
    "Rag",
    "ReturnStatus",
    "Scorecard",
]
