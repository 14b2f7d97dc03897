"""One figure at a time: entering or revising a single figure (the API, the figure's page).

The one way to change a figure already in, and the one way a figure entered outside a return's
page settles that return: once nothing is left on it, the return is submitted through its
workflow exactly as the page submitting them all would.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core import clock
from models.performance import Figure, FigureReturn, Measure, MeasureTarget, ReturnStatus, Scorecard
from models.performance.figures import REASON_MAX
from models.text import free_text
from services.performance import access, figures, numbers, periods
from services.performance.figures import VALUE_FIELDS, Entry, Item, check, items
from services.performance.returns_workflow import WORKFLOW
from services.platform.actors import Actor
from services.platform.errors import Conflict, Forbidden, Invalid


class FigureInvalid(Invalid):
    """One figure was not acceptable; `field` names what to correct. Nothing was saved."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message[:1].upper()}{message[1:]}.")
        self.field = field


def enter_one(
    session: Session,
    *,
    measure: Measure,
    period: str,
    entry: Entry,
    reason: str,
    version: int | None,
    actor: Actor,
) -> Figure:
    """Enter or revise one figure; submits its officer's return once nothing on it is left."""
    if not access.may_enter(measure, actor):
        raise Forbidden(access.MAY_NOT_ENTER)
    if not measure.active:
        raise Conflict(f"Measure {measure.code} is no longer collected.")
    period = _entry_period(measure, period)
    figure = session.exec(
        select(Figure).where(Figure.measure_id == measure.id, Figure.period == period)
    ).first()
    why = _revision_reason(figure, reason=reason, version=version)
    values = _checked(session, measure=measure, period=period, entry=entry)
    if figure is None:
        figure = _first_entry(session, measure=measure, period=period, values=values, actor=actor)
    else:
        _claim(session, figure)
        figure = figures.write(
            session,
            measure=measure,
            period=period,
            figure=figure,
            values=values,
            by_id=actor.person_id,
            reason=why,
        )
    _settle_return(session, measure=measure, period=period, actor=actor)
    return figure


def _entry_period(measure: Measure, text: str) -> str:
    try:
        period = periods.parse(text)
    except ValueError as exc:
        raise FigureInvalid("period", str(exc)) from None
    if not periods.is_due(measure.frequency, period):
        raise FigureInvalid(
            "period",
            f"{measure.code} is collected {measure.frequency}: it has no figure for "
            f"{periods.label(period)}",
        )
    if period > periods.ended_by(clock.today()):
        raise FigureInvalid("period", f"{periods.label(period)} has not ended yet")
    return period


def _revision_reason(figure: Figure | None, *, reason: str, version: int | None) -> str:
    """The reason for a revision ("" for a first entry), once the version sent matches."""
    if figure is None:
        if version is not None:
            raise Conflict("This figure has not been entered yet: send no version to enter it.")
        return ""
    if version is None:
        raise FigureInvalid(
            "version",
            "this figure has already been entered: send the version you read, and a reason, "
            "to revise it",
        )
    if version != figure.version:
        raise Conflict(
            f"The figure has changed since you read it (it is now version {figure.version}). "
            "Read it again before revising it."
        )
    try:
        why = free_text(reason or "").strip()
    except ValueError as exc:
        raise FigureInvalid("reason", str(exc)) from None
    if not why:
        raise FigureInvalid("reason", "say why the figure is being revised")
    if len(why) > REASON_MAX:
        raise FigureInvalid("reason", f"keep the reason to {REASON_MAX} characters")
    return why


def _checked(session: Session, *, measure: Measure, period: str, entry: Entry) -> dict[str, Any]:
    """The entry page's own checks (`check`), refusing with the field at fault."""
    scorecard = session.get(Scorecard, measure.scorecard_id)
    assert scorecard is not None
    target = session.exec(
        select(MeasureTarget.value).where(
            MeasureTarget.measure_id == measure.id, MeasureTarget.period == period
        )
    ).first()
    item = Item(measure, scorecard, target, None)
    try:
        return check(item, entry)
    except ValueError as exc:
        raise FigureInvalid(_field_at_fault(item, entry), str(exc)) from None


def _field_at_fault(item: Item, entry: Entry) -> str:
    """Which field `check` refused: its checks again, in its order."""
    if entry.unavailable:
        return "unavailable_reason"
    for name in VALUE_FIELDS:
        try:
            value = numbers.parse(getattr(entry, name))
            if value is not None and name != "ytd_actual":
                numbers.in_range(value, item.measure.unit)
        except ValueError:
            return name
    return "actual" if not (entry.actual or "").strip() else "commentary"


def _first_entry(
    session: Session, *, measure: Measure, period: str, values: dict[str, Any], actor: Actor
) -> Figure:
    # Two first entries racing: the loser's INSERT breaks the unique (measure, period) key.
    try:
        with session.begin_nested():
            return figures.write(
                session,
                measure=measure,
                period=period,
                figure=None,
                values=values,
                by_id=actor.person_id,
                reason="",
            )
    except IntegrityError:
        raise Conflict(
            "Someone entered this figure a moment ago. Read it, then revise it if need be."
        ) from None


def _claim(session: Session, figure: Figure) -> None:
    """Lock the figure at the version read: of two revisions of one version, one wins."""
    claimed = session.execute(
        update(Figure)
        .where(col(Figure.id) == figure.id, col(Figure.version) == figure.version)
        .values(version=figure.version)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Someone revised this figure a moment ago. Read it again first.")


def _settle_return(session: Session, *, measure: Measure, period: str, actor: Actor) -> None:
    """Submit the data source officer's open return for the period, through its workflow as
    the entry page does, once no figure on it is outstanding."""
    if measure.data_source_officer_id is None:
        return
    # Locked, so two officers entering a return's last two figures at once cannot each see
    # the other's as outstanding and leave the return open.
    ret = session.exec(
        select(FigureReturn)
        .where(
            FigureReturn.officer_id == measure.data_source_officer_id,
            FigureReturn.period == period,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if ret is None or ret.status != ReturnStatus.open:
        return
    if any(i.outstanding for i in items(session, officer_id=ret.officer_id, period=period)):
        return
    WORKFLOW.apply(
        session,
        ret,
        None,
        action="submit",
        actor=actor,
        changes={"submitted_at": clock.now()},
        detail=f"the last figure, {measure.code}",
    )
