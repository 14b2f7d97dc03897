"""Delivery with a per-batch prefetch of performance subjects, for bench/chase.py. Diagnosis only.

What a `prefetch(reads, ids)` hook on `services.platform.subjects.SubjectType` would let the
deliverer do: before a claimed batch is rendered, load the batch's returns in one query and
the figures every one of them lists in one more, instead of one `session.get` and one
`figures.items` query per email. The app is untouched; `install()` patches this process:

- `services.platform.delivery._prime` also loads the batch's `FigureReturn` rows (held, so
  `CachedReads.get` finds them in the session) and every (officer, period)'s items, kept in
  the read session's `info`;
- `services.performance.figures.items` answers from that when it is there, and queries as
  usual otherwise.

    uv run python bench/chase.py --variant prefetch
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

_KEY = "bench_prefetched_items"


def install() -> None:
    from sqlmodel import Session, col, select

    from models.performance import Figure, FigureReturn, Measure, MeasureTarget, Scorecard
    from services.performance import figures, periods
    from services.performance.returns_workflow import SUBJECT
    from services.platform import delivery

    prime, items = delivery._prime, figures.items

    def prefetch(session: Session, claimed: list[Any]) -> list[object]:
        held = prime(session, claimed)
        ids = {m.subject_id for m in claimed if m.subject_type == SUBJECT} | {
            i.get("subject_id")
            for m in claimed
            for i in m.context.get("items", ())
            if i.get("subject_type") == SUBJECT
        }
        ids.discard(None)
        returns = list(
            session.exec(select(FigureReturn).where(col(FigureReturn.id).in_(sorted(ids))))
        )
        held += returns
        found: dict[tuple[int, str], list[figures.Item]] = defaultdict(list)
        by_period: dict[str, set[int]] = defaultdict(set)
        for r in returns:
            by_period[r.period].add(r.officer_id)
            found[(r.officer_id, r.period)] = []
        for period, officers in by_period.items():
            rows = session.exec(
                select(Measure, Scorecard, MeasureTarget.value, Figure)
                .join(Scorecard, col(Scorecard.id) == col(Measure.scorecard_id))
                .outerjoin(
                    MeasureTarget,
                    (col(MeasureTarget.measure_id) == col(Measure.id))
                    & (col(MeasureTarget.period) == period),
                )
                .outerjoin(
                    Figure,
                    (col(Figure.measure_id) == col(Measure.id)) & (col(Figure.period) == period),
                )
                .where(
                    col(Measure.data_source_officer_id).in_(sorted(officers)),
                    col(Measure.active),
                    col(Scorecard.year) == periods.financial_year(period),
                )
                .order_by(col(Scorecard.code), col(Measure.aim), col(Measure.code))
            ).all()
            for m, s, t, f in rows:
                if periods.is_due(m.frequency, period):
                    found[(m.data_source_officer_id, period)].append(figures.Item(m, s, t, f))
        session.info[_KEY] = dict(found)
        return held

    def cached_items(session: Session, *, officer_id: int, period: str) -> list[figures.Item]:
        hit = session.info.get(_KEY, {}).get((officer_id, period))
        if hit is not None:
            return list(hit)
        return items(session, officer_id=officer_id, period=period)

    delivery._prime = prefetch  # type: ignore[assignment]
    figures.items = cached_items  # type: ignore[assignment]
