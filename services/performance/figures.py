"""Figures: what a return asks of an officer, entering them, revising them, overriding RAG.

An officer's return for a period lists every figure they are the data source for on any
scorecard. They submit them together (by emailed link or signed in); each figure is a number
in its unit's range, or "data unavailable" with a reason; commentary is required where the
figure is not GREEN. Every write of a figure appends a revision (who, when, why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from core import clock
from models import ActionToken
from models.performance import (
    Figure,
    FigureReturn,
    FigureRevision,
    FigureState,
    Measure,
    MeasureTarget,
    Rag,
    Scorecard,
)
from models.performance.figures import COMMENTARY_MAX, REASON_MAX
from models.text import free_text
from services.performance import numbers, periods
from services.performance.rag import judge
from services.performance.returns_workflow import WORKFLOW
from services.platform import audit
from services.platform.actors import Actor
from services.platform.errors import Invalid

VALUE_FIELDS = ("actual", "ytd_actual", "estimate")


@dataclass(frozen=True)
class Item:
    """One figure a return asks for."""

    measure: Measure
    scorecard: Scorecard
    target: float | None
    figure: Figure | None

    @property
    def outstanding(self) -> bool:
        return self.figure is None


@dataclass
class Entry:
    """What an officer typed for one figure (text, checked by `check`)."""

    actual: str = ""
    ytd_actual: str = ""
    estimate: str = ""
    commentary: str = ""
    unavailable: bool = False
    reason: str = ""


class EntryErrors(Invalid):
    """Some figures were not acceptable: measure id -> message; nothing was saved. `codes`
    names each measure, for a page's error summary."""

    def __init__(self, errors: dict[int, str], codes: dict[int, str] | None = None) -> None:
        count = len(errors)
        super().__init__(
            f"{count} figure{'s' if count != 1 else ''} need{'s' if count == 1 else ''} correcting."
        )
        self.errors = errors
        self.codes = codes or {}


def items(session: Session, *, officer_id: int, period: str) -> list[Item]:
    """Every figure the officer is the data source for in this period, in scorecard order:
    the measures of the period's financial year's scorecards due that month.

    One query (each email about a return lists them, so the chase runs it once per officer):
    a measure has at most one target and one figure per period."""
    return items_of(session, [officer_id], period).get(officer_id, [])


def items_of(session: Session, officer_ids: list[int], period: str) -> dict[int, list[Item]]:
    """`items` for many officers in one query: officer id -> their items (officers with
    none are left out)."""
    rows = session.exec(
        select(Measure, Scorecard, MeasureTarget.value, Figure)
        .join(Scorecard, col(Scorecard.id) == col(Measure.scorecard_id))
        .outerjoin(
            MeasureTarget,
            (col(MeasureTarget.measure_id) == col(Measure.id))
            & (col(MeasureTarget.period) == period),
        )
        .outerjoin(
            Figure, (col(Figure.measure_id) == col(Measure.id)) & (col(Figure.period) == period)
        )
        .where(
            col(Measure.data_source_officer_id).in_(officer_ids),
            col(Measure.active),
            col(Scorecard.year) == periods.financial_year(period),
        )
        .order_by(col(Scorecard.code), col(Measure.aim), col(Measure.code))
    ).all()
    found: dict[int, list[Item]] = {}
    for m, s, t, f in rows:
        if periods.is_due(m.frequency, period) and m.data_source_officer_id is not None:
            found.setdefault(m.data_source_officer_id, []).append(Item(m, s, t, f))
    return found


def check(item: Item, entry: Entry) -> dict[str, Any]:
    """The figure's values from an entry, or ValueError with what to correct."""
    if entry.unavailable:
        reason = free_text(entry.reason or "").strip()
        if not reason:
            raise ValueError("give the reason the data is unavailable")
        if len(reason) > REASON_MAX:
            raise ValueError(f"keep the reason to {REASON_MAX} characters")
        return {
            "state": FigureState.unavailable,
            "unavailable_reason": reason,
            "commentary": "",
            **dict.fromkeys(VALUE_FIELDS),
        }
    values: dict[str, Any] = {}
    for name in VALUE_FIELDS:
        shown = name.replace("ytd_", "year-to-date ").replace("_", " ")
        values[name] = numbers.parse(getattr(entry, name), what=shown)
        if values[name] is not None and name != "ytd_actual":
            numbers.in_range(values[name], item.measure.unit, what=shown)
    if values["actual"] is None:
        raise ValueError("enter the actual, or mark the data unavailable")
    commentary = free_text(entry.commentary or "").strip()
    if len(commentary) > COMMENTARY_MAX:
        raise ValueError(
            f"keep the commentary to {COMMENTARY_MAX:,} characters (it has {len(commentary):,})"
        )
    if not commentary and not _green(item, values):
        raise ValueError("this figure is not GREEN: say why in the commentary")
    return {
        "state": FigureState.entered,
        "commentary": commentary,
        "unavailable_reason": "",
        **values,
    }


def _green(item: Item, values: dict[str, Any]) -> bool:
    m = item.measure
    current = judge(values["actual"], item.target, polarity=m.polarity, own=m.amber_tolerance)
    projected = (
        judge(values["estimate"], m.year_end_target, polarity=m.polarity, own=m.amber_tolerance)
        if values["estimate"] is not None
        else Rag.green
    )
    return current in (Rag.green, Rag.grey) and projected in (Rag.green, Rag.grey)


def submit_return(
    session: Session,
    *,
    ret: FigureReturn,
    entries: dict[int, Entry],
    actor: Actor,
    link: ActionToken | None = None,
) -> int:
    """Save every outstanding figure of the return together and submit it; the number saved.

    All or nothing: one figure wrong and none is saved (EntryErrors says which and why)."""
    WORKFLOW.authorise(ret, None, action="submit", actor=actor)
    wanted = [
        i for i in items(session, officer_id=ret.officer_id, period=ret.period) if i.outstanding
    ]
    errors: dict[int, str] = {}
    checked: list[tuple[Item, dict[str, Any]]] = []
    for item in wanted:
        try:
            checked.append((item, check(item, entries.get(item.measure.id or 0, Entry()))))
        except ValueError as exc:
            errors[item.measure.id or 0] = str(exc)
    if errors:
        raise EntryErrors(errors, {i.measure.id or 0: i.measure.code for i in wanted})
    for item, values in checked:
        write(
            session,
            measure=item.measure,
            period=ret.period,
            figure=None,
            values=values,
            by_id=actor.person_id,
            reason="",
        )
    WORKFLOW.apply(
        session,
        ret,
        None,
        action="submit",
        actor=actor,
        link=link,
        changes={"submitted_at": clock.now()},
        detail=f"{len(checked)} figures",
    )
    return len(checked)


def write(
    session: Session,
    *,
    measure: Measure,
    period: str,
    figure: Figure | None,
    values: dict[str, Any],
    by_id: int | None,
    reason: str,
) -> Figure:
    now = clock.now()
    if figure is None:
        figure = Figure(
            measure_id=measure.id or 0,
            period=period,
            first_entered_at=now,
            entered_at=now,
            entered_by_id=by_id,
            version=1,
            **values,
        )
        session.add(figure)
        session.flush()
    else:
        for k, v in values.items():
            setattr(figure, k, v)
        figure.entered_at, figure.entered_by_id, figure.version = now, by_id, figure.version + 1
    session.add(
        FigureRevision(
            figure_id=figure.id or 0,
            version=figure.version,
            at=now,
            by_id=by_id,
            reason=reason,
            **{
                k: getattr(figure, k)
                for k in (
                    "state",
                    "actual",
                    "ytd_actual",
                    "estimate",
                    "commentary",
                    "unavailable_reason",
                )
            },
        )
    )
    return figure


def record_from_file(
    session: Session, *, measure: Measure, period: str, values: dict[str, Any], by_id: int | None
) -> int:
    """A figure as an import file gives it: 1 when written, 0 when it was already so."""
    figure = session.exec(
        select(Figure).where(Figure.measure_id == measure.id, Figure.period == period)
    ).first()
    full = {"state": FigureState.entered, "unavailable_reason": "", **values}
    if figure is not None and all(getattr(figure, k) == v for k, v in full.items()):
        return 0
    if figure is not None:
        full["commentary"] = figure.commentary
    else:
        full["imported"] = True
    write(
        session,
        measure=measure,
        period=period,
        figure=figure,
        values=full,
        by_id=by_id,
        reason="" if figure is None else "imported from a file",
    )
    return 1


OVERRIDABLE = (Rag.amber, Rag.red)


def override(
    session: Session,
    *,
    figure: Figure,
    computed_current: Rag,
    computed_projected: Rag,
    current: Rag | None,
    projected: Rag | None,
    reason: str,
    actor: Actor,
) -> Figure:
    """An officer's judgement over an AMBER or RED colour (or None to withdraw it), audited."""
    why = free_text(reason or "").strip()
    for computed, wanted in ((computed_current, current), (computed_projected, projected)):
        if wanted is not None and (computed not in OVERRIDABLE or wanted not in OVERRIDABLE):
            raise Invalid(
                "Only an AMBER or RED colour can be overridden, and only to AMBER or RED."
            )
    if (current or projected) and not why:
        raise Invalid("Give the reason for the override: it is shown beside the colours.")
    if len(why) > REASON_MAX:
        raise Invalid(f"Keep the reason to {REASON_MAX} characters.")
    figure.override_current, figure.override_projected = current, projected
    figure.override_reason = why if (current or projected) else ""
    figure.override_by_id, figure.override_at = actor.person_id, clock.now()
    audit.record(
        session,
        actor_id=actor.person_id,
        actor_role="officer",
        actor_address=actor.address,
        subject_type="figure",
        subject_id=figure.id or 0,
        subject_version=figure.version,
        action="override",
        detail=f"current {computed_current}->{current or '-'}, "
        f"projected {computed_projected}->{projected or '-'}: {why}"[:2000],
    )
    return figure


def revisions(session: Session, *, figure_id: int) -> list[FigureRevision]:
    return list(
        session.exec(
            select(FigureRevision)
            .where(FigureRevision.figure_id == figure_id)
            .order_by(col(FigureRevision.id))
        )
    )
