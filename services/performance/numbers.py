"""Figures as people type them: "75", "75%", "1,234.5"; never text, never 1e309 or NaN."""

from __future__ import annotations

import math
import re

_NUMBER = re.compile(r"^-?(\d{1,15}(\.\d{1,6})?|\.\d{1,6})$")
MAX_ABS = 1e12

# The range a value of each unit may take; units not listed take any finite number.
RANGES = {
    "percentage": (0.0, 100.0),
    "days": (0.0, MAX_ABS),
    "number": (0.0, MAX_ABS),
    "count": (0.0, MAX_ABS),
    "pounds": (-MAX_ABS, MAX_ABS),
}


def parse(text: str | None, *, what: str = "value") -> float | None:
    """A number or None for a blank; ValueError saying what was wrong otherwise."""
    raw = (text or "").strip()
    if not raw:
        return None
    cleaned = raw.replace(",", "").removesuffix("%").strip()
    if len(raw) > 30 or not _NUMBER.match(cleaned):
        raise ValueError(f"the {what} must be a number, like 75 or 3.03 (not {raw[:30]!r})")
    value = float(cleaned)
    if not math.isfinite(value) or abs(value) > MAX_ABS:
        raise ValueError(f"the {what} is too large")
    return value


def in_range(value: float, unit: str, *, what: str = "value") -> None:
    """ValueError when the value cannot be one of this unit (a percentage above 100)."""
    low, high = RANGES.get(unit.strip().lower(), (-MAX_ABS, MAX_ABS))
    if not low <= value <= high:
        shown = f"{value:g}"
        raise ValueError(f"the {what} {shown} is outside {low:g} to {high:g} for a {unit}")
