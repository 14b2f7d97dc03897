"""Read a target as an operational plan writes it: "100%", "<5", "2 out of 4 (09-10 assessment)",
"N/a", "May 2010", "Improve on last year".

`parse` never drops the text: it is kept (trimmed) in `Target.text` and the parsed parts sit
beside it; text that is none of the forms below is kind "text" with nothing else set.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Literal

from models.planning.content import Target

MAX_ABS = 1e12  # as services/performance/numbers.py: a larger figure is a typing slip

_NOT_APPLICABLE = re.compile(r"n\s*/\s*a|n\.?a\.?|not applicable|[-–—]+", re.I)
# A note trails the target in brackets or after a spaced dash: "2 out of 4 (09-10 assessment)",
# "34% - investigate proxy indicators". The dash must have spaces round it, so "-5" and
# "31-03-2011" are not split, and words after it: "5 - 6" is a range, not 5 noted "6".
_NOTE = re.compile(r"(?P<head>.+?)\s*(?:\((?P<paren>[^()]*)\)|\s[-–—]\s+(?P<dash>[^\W\d].*))", re.S)
Comparator = Literal["<", "<=", ">", ">=", "="]
_COMPARATORS: dict[str, Comparator] = {
    "<": "<", "<=": "<=", "=<": "<=", "≤": "<=", ">": ">", ">=": ">=", "=>": ">=", "≥": ">=",
    "=": "=", "less than": "<", "fewer than": "<", "under": "<", "below": "<",
    "more than": ">", "over": ">", "above": ">", "at least": ">=", "minimum": ">=",
    "no more than": "<=", "at most": "<=", "maximum": "<=",
}  # fmt: skip
_TIME = r"(?:working\s+)?(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)"
_VALUE = re.compile(
    r"(?P<cmp>"
    + "|".join(sorted(map(re.escape, _COMPARATORS), key=len, reverse=True))
    + r")?\s*(?P<pound>£)?\s*"
    # ASCII digits only, at most 15 (as numbers.py): "1e309", "nan", "inf" and "١٠٠" are text.
    r"(?P<num>-?(?:[0-9]{1,3}(?:,[0-9]{3}){1,4}|[0-9]{1,15})(?:\.[0-9]{1,6})?)"
    rf"\s*(?P<unit>%|out\s+of\s+[0-9]{{1,6}}|{_TIME})?",
    re.I,
)
# English names written out, not calendar.month_name: that follows the process's locale.
_NAMES = "january february march april may june july august september october november december"
_MONTHS = {n: i for i, n in enumerate(_NAMES.split(), 1)} | {
    n[:3]: i for i, n in enumerate(_NAMES.split(), 1)
}
_MONTHS["sept"] = 9
# Milestones are often written "By March 2011" or "End of May 2010": no more than the date.
_BY = r"(?:by\s+|end\s+of\s+)?"
_WORDY_DATE = re.compile(
    _BY + r"(?:(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?\s+)?(?P<month>[a-z]+)\.?,?\s+(?P<year>[0-9]{4})",
    re.I,
)
# Numeric dates are UK order, day first: "03/04/2011" is 3 April 2011. ISO dates also read.
_DMY = re.compile(
    _BY + r"(?P<day>[0-9]{1,2})[/.-](?P<month>[0-9]{1,2})[/.-](?P<year>[0-9]{4})", re.I
)
_ISO = re.compile(_BY + r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})", re.I)
_CODE = re.compile(r"\s*([A-Za-z]{1,6})\s?([0-9]{1,5}[A-Za-z]?)\s*[-–—:]")


def parse(text: str) -> Target:
    """The target `text` says. Raises pydantic's ValidationError for text longer than a
    Target holds (content.LINE_MAX), so nothing is ever cut short, and for control or hidden
    characters (models.text.free_text), so nothing is stored that reads differently."""
    raw = text.strip()
    if not raw:
        return Target(text=raw, kind="none")
    if _NOT_APPLICABLE.fullmatch(raw):
        return Target(text=raw, kind="not_applicable")
    found = _read(raw, raw, "")
    if found is None and (m := _NOTE.fullmatch(raw)):
        found = _read(raw, m["head"], (m["paren"] or m["dash"] or "").strip())
    return found if found is not None else Target(text=raw, kind="text")


def _read(raw: str, head: str, note: str) -> Target | None:
    """A value or date target when `head` is one (`raw` is the whole text), else None."""
    if m := _VALUE.fullmatch(head):
        value = float(m["num"].replace(",", ""))
        if abs(value) > MAX_ABS or (m["pound"] and m["unit"]):  # "£5%" is no form of target
            return None
        unit = "£" if m["pound"] else m["unit"] and re.sub(r"\s+", " ", m["unit"].lower())
        comparator = _COMPARATORS[m["cmp"].lower()] if m["cmp"] else None
        return Target(
            text=raw, kind="value", comparator=comparator, value=value, unit=unit, note=note
        )
    on = _date(head)
    return Target(text=raw, kind="date", on=on, note=note) if on else None


def _date(text: str) -> date | None:
    """The date text names; a month alone ("May 2010") means its last day, the deadline."""
    m = _WORDY_DATE.fullmatch(text) or _DMY.fullmatch(text) or _ISO.fullmatch(text)
    if m is None:
        return None
    month = m["month"]
    number = _MONTHS.get(month.lower()) if not month.isdigit() else int(month)
    if number is None:
        return None
    year = int(m["year"])
    try:
        day = int(m["day"]) if m["day"] else calendar.monthrange(year, number)[1]
        return date(year, number, day)
    except ValueError:  # "31 February 2011", month 13, year 0
        return None


def code_of(indicator: str) -> str:
    """The measure code an indicator starts with ("SX028a - % of ..." -> "SX028a"); "" when
    there is none ("NEW PI - ..." is a new measure without a code yet). The code must be
    followed by a dash or colon, so an indicator starting "CO2 emissions" has no code."""
    m = _CODE.match(indicator)
    return m[1] + m[2] if m else ""
