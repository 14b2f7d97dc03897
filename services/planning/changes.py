"""What changed between two versions of a service plan, and what a signatory's link page shows.

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

from sqlmodel import Session, col, select

from core.templating import money
from models import ActionToken, Person
from models.planning import PlanningCycle, PlanResponse, PlanVersion, ResponseKind, SignatoryRole
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
from services.planning import signers
from services.planning.plan_workflow import SIGN_LINK, SUBJECT
from services.planning.plans import cycle_label
from services.planning.signoff import LinkView

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


# --- the signatory's view -----------------------------------------------------------------


def last_seen(
    session: Session, plan_id: int, person_id: int, before_number: int
) -> PlanVersion | None:
    """The newest version before `before_number` that this person was asked to sign: named in
    its signatories, or sent a link to it (someone added while it was out for signature is
    asked then, but its list of signatories was frozen before them)."""
    linked = set(
        session.exec(
            select(ActionToken.subject_version).where(
                ActionToken.purpose == SIGN_LINK,
                ActionToken.subject_type == SUBJECT,
                ActionToken.subject_id == plan_id,
                ActionToken.person_id == person_id,
            )
        )
    )
    earlier = session.exec(
        select(PlanVersion)
        .where(PlanVersion.plan_id == plan_id, PlanVersion.number < before_number)
        .order_by(col(PlanVersion.number).desc())
    )
    for version in earlier:
        named = any(s.get("person_id") == person_id for s in version.signatories)
        if named or version.number in linked:
            return version
    return None


@dataclass
class Signature:
    """One signatory of a version, with their answer to it (None: not yet)."""

    person_id: int
    name: str
    role: str  # "Portfolio Holder for Partnerships", "Corporate Manager"
    answer: ResponseKind | None
    at: datetime | None


@dataclass
class LinkPage:
    """What a signatory's link page shows besides the link itself."""

    link: LinkView
    owner: Person
    cycle_label: str  # "2010/11"
    years: list[str]  # the plan's three years, for its operational plan
    content: PlanContent  # the link's version, frozen
    last_seen: PlanVersion | None  # the version they were asked to sign before this one
    changes: list[Change]  # from `last_seen` to the link's version
    signatures: list[Signature]  # who signs the link's version, in the Approved by order

    @property
    def role(self) -> str:
        mine = next((s for s in self.signatures if s.person_id == self.link.signer.id), None)
        return mine.role if mine else "a signatory"

    @property
    def still_to_sign(self) -> int:
        return sum(1 for s in self.signatures if s.answer != ResponseKind.signed)


def link_page(session: Session, *, link: LinkView) -> LinkPage:
    """The plan version a link is for, what changed since its holder last saw the plan, and
    who has signed it so far. Reads only."""
    plan, version = link.plan, link.version
    cycle = session.get(PlanningCycle, plan.cycle_id)
    owner = session.get(Person, plan.owner_id)
    assert cycle is not None and owner is not None
    content = PlanContent.model_validate(version.content)
    seen = last_seen(session, plan.id or 0, link.signer.id or 0, version.number)
    changes = []
    if seen is not None:
        changes = diff(PlanContent.model_validate(seen.content), content, first_year=cycle.year)
    return LinkPage(
        link=link,
        owner=owner,
        cycle_label=cycle_label(cycle.year),
        years=year_labels(cycle.year),
        content=content,
        last_seen=seen,
        changes=changes,
        signatures=_signatures(session, link),
    )


def _signatures(session: Session, link: LinkView) -> list[Signature]:
    """The current signatories while the link's version is the plan's newest (someone may have
    been added or replaced since it was submitted); otherwise those it was submitted to."""
    if link.version.id == link.plan.current_version_id:
        named = [
            (p.id or 0, p.name, s.role, s.portfolio)
            for s, p in signers.current(session, plan_id=link.plan.id or 0)
        ]
    else:
        named = [
            (s["person_id"], s["name"], s["role"], s.get("portfolio", ""))
            for s in link.version.signatories
        ]
    answers = {
        r.person_id: r
        for r in session.exec(
            select(PlanResponse).where(PlanResponse.version_id == link.version.id)
        )
    }
    people: dict[int, Signature] = {}
    portfolios: dict[int, list[str]] = {}
    for person_id, name, role, portfolio in named:
        if role == SignatoryRole.portfolio_holder and portfolio:
            portfolios.setdefault(person_id, []).append(portfolio)
        if person_id not in people:
            answer = answers.get(person_id)
            people[person_id] = Signature(
                person_id,
                name,
                "Portfolio Holder"
                if role == SignatoryRole.portfolio_holder
                else "Corporate Manager",
                answer.kind if answer else None,
                answer.at if answer else None,
            )
    for person_id, held in portfolios.items():
        people[person_id].role = "Portfolio Holder for " + " and ".join(dict.fromkeys(held))
    return list(people.values())
