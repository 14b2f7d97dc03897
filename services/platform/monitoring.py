"""The hand-over to monitoring: what one process agrees, another measures.

A domain whose approved documents carry indicators (an approved service plan's operational
plan) hands them over here, and a domain that computes a figure about its own process (PP4, the
share of plans agreed on time) records it here. The domain that monitors figures registers the
`Intake` that takes them; the platform names neither. Both calls run in the caller's
transaction, so what is handed over is committed with the decision that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel import Session


@dataclass(frozen=True)
class Indicator:
    """One thing to measure, as the approved document states it."""

    code: str  # "PP4"; "" when the document gives none ("NEW PI")
    name: str
    aim: str = ""
    approach: str = ""
    officer: str = ""  # the lead officer's name as written
    kind: str = "indicator"  # or "milestone"
    target: float | None = None  # the first year's target, where one could be read
    comparator: str | None = None  # "<", "<=", ">", ">=", "=" as written
    unit: str | None = None  # "%" as written


@dataclass(frozen=True)
class IndicatorSet:
    """Everything one approved document asks to be measured, for one financial year."""

    area: str  # "Community and Customer Services"
    year: int  # the financial year it starts in: 2010 for 2010/11
    indicators: list[Indicator] = field(default_factory=list)


@dataclass(frozen=True)
class ComputedFigure:
    """A year-end figure a process computed about itself."""

    code: str  # the measure it is the figure of: "PP4"
    year: int  # the financial year it belongs to
    value: float
    commentary: str
    reason: str  # why it was written, for its revision: "computed from the 2010/11 cycle"


@dataclass
class Taken:
    """What the intake did."""

    where: list[str] = field(default_factory=list)  # e.g. the scorecards written
    created: int = 0
    updated: int = 0


class Intake(Protocol):
    def take_indicators(self, session: Session, indicators: IndicatorSet) -> Taken: ...

    def take_figure(self, session: Session, figure: ComputedFigure) -> Taken: ...


_INTAKE: list[Intake] = []


def register(intake: Intake) -> None:
    _INTAKE[:] = [intake]


def _intake() -> Intake:
    from services.platform import subjects

    subjects.names()  # loads every domain: the monitoring one registers its intake
    if not _INTAKE:
        raise LookupError("no domain takes indicators for monitoring")
    return _INTAKE[0]


def hand_over(session: Session, indicators: IndicatorSet) -> Taken:
    """Have the approved indicators measured from the start of their year."""
    return _intake().take_indicators(session, indicators)


def record_figure(session: Session, figure: ComputedFigure) -> Taken:
    """Record a computed figure as the year-end figure of its measure, where one exists."""
    return _intake().take_figure(session, figure)
