"""What changed between two versions of a service plan.

A signatory asked to sign version 3 wants to know what differs from the version THEY last saw
(they may not have been asked to sign version 2), in the plan's own words: "Section 7 Financial
resources — Summary", "Operational plan — PP4 ...", "2011/12 target: 85 → 90". Sections are
compared field by field and row by row. Rows are matched by what names them — a section row by
its first column, an operational plan row by its code (its wording when it has none), an
improvement action by its number — so a row inserted or moved is one change, not a change to
every row after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

from core.templating import money
from models.planning.content import (
    SECTIONS,
    YEARS,
    Column,
    ImprovementAction,
    OperationalRow,
    PlanContent,
    Section,
    SectionSpec,
)
from services.planning.plans import cycle_label

T = TypeVar("T")
TEXT_LIMIT = 300  # characters of a changed text shown before and after
VALUE_LIMIT = 150  # characters of one value in a detail line ("Lead officer: A → B")
LABEL_LIMIT = 90  # characters of an indicator or action naming where a change is
BLANK = "(blank)"


@dataclass(frozen=True)
class Change:
    """One difference: where it is, whether something was added, removed or changed, and how.

    `summary` says a change in words ("Now to follow from Finance"); `before` and `after` are
    excerpts of a changed text around its first difference; `details` list changed values of a
    row ("2011/12 target: 85 → 90") or the values of a row added or removed."""

    where: str
    kind: Literal["added", "removed", "changed"]
    summary: str = ""
    before: str = ""
    after: str = ""
    details: tuple[str, ...] = ()


def year_labels(first_year: int | None) -> list[str]:
    """The plan's three financial years ("2010/11", ...), or "Year 1" ... when not known."""
    if first_year is None:
        return [f"Year {n}" for n in range(1, YEARS + 1)]
    return [cycle_label(first_year + n) for n in range(YEARS)]


def diff(
    old: PlanContent | None, new: PlanContent, *, first_year: int | None = None
) -> list[Change]:
    """Every difference from `old` to `new`, in the plan's order (None: an empty plan)."""
    before = old if old is not None else PlanContent()
    found: list[Change] = []
    for spec in SECTIONS:
        found += _section(spec, before.section(spec.key), new.section(spec.key))
    found += _operational(before.operational, new.operational, year_labels(first_year))
    found += _improvement(before.improvement, new.improvement)
    return found


# --- text ---------------------------------------------------------------------------------


def _flat(text: str) -> str:
    return " ".join(text.split())


def _clip(text: str, limit: int = TEXT_LIMIT, start: int = 0) -> str:
    """`text` from `start`, cut at a word near `limit` characters, with … where cut."""
    piece = text[start : start + limit]
    if start + limit < len(text):
        space = piece.rfind(" ")
        piece = (piece[:space] if space > limit // 2 else piece).rstrip() + "…"
    return ("…" + piece.lstrip()) if start > 0 else piece


def _excerpts(old: str, new: str, limit: int = TEXT_LIMIT) -> tuple[str, str]:
    """Both texts from a little before their first difference, so that two long texts that
    differ near the end do not look the same when cut."""
    a, b = _flat(old), _flat(new)
    same = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    start = 0
    if same > limit // 2:
        start = max(0, a.rfind(" ", 0, max(0, same - 40)) + 1)
    return _clip(a, limit, start), _clip(b, limit, start)


def _text(where: str, old: str, new: str) -> Change | None:
    a, b = old.replace("\r\n", "\n").strip(), new.replace("\r\n", "\n").strip()
    if a == b:
        return None
    if not a:
        return Change(where, "added", after=_clip(_flat(b)))
    if not b:
        return Change(where, "removed", before=_clip(_flat(a)))
    if _flat(a) == _flat(b):
        return Change(where, "changed", "Only the spacing or line breaks changed.")
    before, after = _excerpts(a, b)
    return Change(where, "changed", before=before, after=after)


def _values(label: str, old: str, new: str) -> str:
    a, b = _excerpts(old, new, VALUE_LIMIT) if old and new else (_flat(old), _flat(new))
    return f"{label}: {_clip(a, VALUE_LIMIT) or BLANK} → {_clip(b, VALUE_LIMIT) or BLANK}"


def _listed(
    pairs: Sequence[tuple[str, str]], shown: Callable[[str], bool] = lambda label: True
) -> tuple[str, ...]:
    return tuple(
        f"{label}: {_clip(_flat(v), VALUE_LIMIT)}"
        for label, v in pairs
        if v.strip() and shown(label)
    )


# --- matching rows ------------------------------------------------------------------------


def _pair(
    old: Sequence[T], new: Sequence[T], key: Callable[[T], str]
) -> tuple[list[tuple[T, T]], list[T], list[T]]:
    """Rows of `old` and `new` with the same key, in the new order (rows sharing a key pair
    in turn); then the new rows with no partner, and the old ones with none (old order)."""
    waiting: dict[str, list[int]] = {}
    for i, row in enumerate(old):
        waiting.setdefault(key(row), []).append(i)
    pairs, added, used = [], [], set()
    for row in new:
        match = waiting.get(key(row))
        if match:
            i = match.pop(0)
            used.add(i)
            pairs.append((old[i], row))
        else:
            added.append(row)
    return pairs, added, [row for i, row in enumerate(old) if i not in used]


# --- sections -----------------------------------------------------------------------------


def _section(spec: SectionSpec, old: Section, new: Section) -> list[Change]:
    title = f"Section {spec.number} {spec.title}"
    found = []
    follow = _to_follow(old, new)
    if follow:
        found.append(Change(title, "changed", follow))
    labels = dict(spec.fields)
    extra = sorted((set(old.fields) | set(new.fields)) - set(labels))
    for name in [*labels, *extra]:
        label = labels.get(name, name.replace("_", " ").capitalize())
        change = _text(f"{title} — {label}", old.fields.get(name, ""), new.fields.get(name, ""))
        if change:
            found.append(change)
    return found + _rows(spec, title, old.rows, new.rows)


def _to_follow(old: Section, new: Section) -> str:
    by = f" from {new.to_follow_by}" if new.to_follow_by else ""
    if new.to_follow and not old.to_follow:
        return f"Now to follow{by}."
    if old.to_follow and not new.to_follow:
        return "No longer to follow" + (
            f" (it was to follow from {old.to_follow_by})." if old.to_follow_by else "."
        )
    if new.to_follow and old.to_follow_by != new.to_follow_by:
        return f"Now to follow{by} (was to follow from {old.to_follow_by or 'no one named'})."
    return ""


def _cell(column: Column, value: object) -> str:
    if value is None or value == "":
        return ""
    if column.kind == "pence" and isinstance(value, int):
        return money(value)
    if column.kind == "choice":
        return dict(column.choices).get(str(value), str(value))
    if column.kind == "month":
        return _month(str(value))
    return _flat(str(value))


def _month(value: str) -> str:
    try:
        return datetime.strptime(value, "%Y-%m").strftime("%B %Y")
    except ValueError:
        return value


Facets = list[tuple[str, str]]  # a row's values as shown, each with its label


def _matched(
    old: Sequence[T],
    new: Sequence[T],
    key: Callable[[T], str],
    where: Callable[[T], str],
    facets: Callable[[T], Facets],
    listed: Callable[[str], bool] = lambda label: True,
) -> list[Change]:
    """Rows added (with their `listed` values), changed (each value that differs), removed."""
    pairs, added, removed = _pair(old, new, key)
    found = [Change(where(r), "added", details=_listed(facets(r), listed)) for r in added]
    for a, b in pairs:
        changed = tuple(
            _values(label, x, y)
            for (label, x), (_, y) in zip(facets(a), facets(b), strict=True)
            if _flat(x) != _flat(y)
        )
        if changed:
            found.append(Change(where(b), "changed", details=changed))
    return found + [
        Change(where(r), "removed", details=_listed(facets(r), listed)) for r in removed
    ]


Row = dict[str, str | int | None]


def _rows(spec: SectionSpec, title: str, old: list[Row], new: list[Row]) -> list[Change]:
    if not spec.columns:
        return []
    first, rest = spec.columns[0], spec.columns[1:]

    def where(row: Row) -> str:
        name = _clip(_cell(first, row.get(first.name)), LABEL_LIMIT)
        return f"{title} — {spec.row_label} “{name}”" if name else f"{title} — a {spec.row_label}"

    return _matched(
        old,
        new,
        key=lambda row: _cell(first, row.get(first.name)).casefold(),
        where=where,
        facets=lambda row: [(c.label, _cell(c, row.get(c.name))) for c in rest],
    )


# --- operational plan and improvement plan --------------------------------------------------

OPERATIONAL_FIELDS = (
    ("indicator", "Indicator or milestone"),
    ("team", "Team"),
    ("aim_approach", "Council aim and approach"),
    ("service_objective", "Service objective"),
    ("supporting_objective", "Supporting objective"),
    ("lead_officer", "Lead officer"),
)
IMPROVEMENT_FIELDS = (
    ("action", "Action"),
    ("resources", "Additional resources"),
    ("outputs", "Outputs"),
    ("outcomes", "Outcomes"),
    ("risks", "Risks"),
    ("other_services", "Other services affected"),
    ("completion", "Completion"),
    ("responsible", "Responsible officers"),
)


def _indicator(row: OperationalRow) -> str:
    """ "Operational plan — PP4 % of service plans ...": the code once, though the plan's
    wording usually starts with it ("PP4 - % of service plans ...")."""
    wording = _flat(row.indicator)
    if row.code and wording.startswith(row.code):
        wording = wording[len(row.code) :].lstrip(" -–—:")
    named = " ".join(p for p in (row.code, _clip(wording, LABEL_LIMIT)) if p)
    return f"Operational plan — {named}"


def _operational(
    old: list[OperationalRow], new: list[OperationalRow], years: list[str]
) -> list[Change]:
    def facets(row: OperationalRow) -> Facets:
        texts = [t.text.strip() for t in row.targets] + [""] * len(years)
        targets = [(f"{year} target", text) for year, text in zip(years, texts, strict=False)]
        return targets + [(label, getattr(row, name)) for name, label in OPERATIONAL_FIELDS]

    return _matched(
        old,
        new,
        # A row with no code yet ("NEW PI - ...") is known by its wording.
        key=lambda row: row.code.strip().casefold() or "wording:" + _flat(row.indicator).casefold(),
        where=_indicator,
        facets=facets,
        # A row added or removed: its targets and lead officer (its wording is in `where`).
        listed=lambda label: label.endswith(" target") or label == "Lead officer",
    )


def _improvement(old: list[ImprovementAction], new: list[ImprovementAction]) -> list[Change]:
    def where(action: ImprovementAction) -> str:
        if action.number:
            return f"Improvement plan — action {action.number}"
        return f"Improvement plan — action “{_clip(_flat(action.action), LABEL_LIMIT)}”"

    def facets(action: ImprovementAction) -> Facets:
        found = [(label, getattr(action, name)) for name, label in IMPROVEMENT_FIELDS]
        return [(label, _month(v) if label == "Completion" and v else v) for label, v in found]

    return _matched(
        old,
        new,
        key=lambda a: a.number.strip().casefold() or "wording:" + _flat(a.action).casefold(),
        where=where,
        facets=facets,
    )
