"""The geometry of the reports' charts, drawn as SVG by the page templates.

No JavaScript and no chart library: the page draws rectangles, lines and text at the
positions worked out here, and Jinja escapes every label (measure and aim names come from
files). Each chart's numbers are also in a table beside it, for anyone who cannot see it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from services.performance.report_lines import Line
from services.performance.reports import Complete

WIDTH = 640
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def short(text: str, most: int = 70) -> str:
    """A label that fits one line of a chart (the table beside it has it in full)."""
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


# --- completeness: one bar per group ---------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    y: int  # the top of the bar's row
    width: float
    text: str  # "75% (3 of 4)"


@dataclass(frozen=True)
class Bars:
    width: int
    height: int
    track: int  # the width of a full (100%) bar
    bars: list[Bar]


def bars(groups: list[Complete]) -> Bars:
    """A bar per group, as long as its share of figures in; its row is 48 units tall."""
    track = WIDTH - 160  # room after the bar for "100% (300 of 300)"
    rows = [
        Bar(
            short(g.label),
            8 + 48 * i,
            round(track * g.percent / 100, 1),
            f"{g.percent}% ({g.entered} of {g.measures})",
        )
        for i, g in enumerate(groups)
    ]
    return Bars(WIDTH, 16 + 48 * len(rows), track, rows)


# --- a measure's history: target and actual over its periods ---------------------------------


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float


@dataclass(frozen=True)
class Series:
    name: str
    points: list[Point]
    lines: list[str]  # polyline "x,y x,y" runs, broken where a value is missing


@dataclass(frozen=True)
class Plot:
    width: int
    height: int
    left: int
    top: int
    bottom: int  # y of the x axis
    right: int
    x_labels: list[tuple[float, str, str]]  # x, month, year
    y_ticks: list[tuple[float, str]]
    target: Series
    actual: Series


def nice_step(span: float) -> float:
    """A tick step of 1, 2 or 5 times a power of ten giving about four ticks."""
    raw = span / 4 if span > 0 else 1
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _label(value: float) -> str:
    return f"{value:,.10g}"


def _series(
    name: str, values: list[float | None], xs: list[float], scale: Callable[[float], float]
) -> Series:
    points = [Point(x, scale(v), v) for x, v in zip(xs, values, strict=True) if v is not None]
    runs: list[list[str]] = [[]]
    for x, v in zip(xs, values, strict=True):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(f"{x:.1f},{scale(v):.1f}")
    return Series(name, points, [" ".join(r) for r in runs if len(r) > 1])


def plot(lines: list[Line]) -> Plot | None:
    """Target and actual at each period, or None when there is nothing to draw."""
    targets = [ln.target for ln in lines]
    actuals = [ln.actual if ln.state == "entered" else None for ln in lines]
    known = [v for v in targets + actuals if v is not None]
    if not known:
        return None
    step = nice_step(max(known) - min(0.0, min(known)))
    low = math.floor(min(0.0, min(known)) / step) * step
    high = max(math.ceil(max(known) / step) * step, low + step)
    left, top, right, bottom = 80, 40, WIDTH - 16, 250  # room for "12,345,678" at the left
    gap = (right - left) / max(len(lines), 1)
    xs = [left + gap * (i + 0.5) for i in range(len(lines))]

    def scale(v: float) -> float:
        return bottom - (v - low) / (high - low) * (bottom - top)

    ticks = [low + step * i for i in range(round((high - low) / step) + 1)]
    labels = [
        (x, _MONTHS[int(ln.period[5:]) - 1], ln.period[:4]) for x, ln in zip(xs, lines, strict=True)
    ]
    return Plot(
        WIDTH,
        bottom + 44,
        left,
        top,
        bottom,
        right,
        labels,
        [(scale(t), _label(t)) for t in ticks],
        _series("Target", targets, xs, scale),
        _series("Actual", actuals, xs, scale),
    )
