"""Performance data collection's test helpers: the council's real files, imported through the
same service functions `signoff users import` and `signoff scorecards import` call (fixtures
in tests/performance/conftest.py). What a test expects of the file is read from it with the
csv module, not through the code under test.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core import clock

ROOT = Path(__file__).resolve().parents[2]
CARD_FILE = ROOT / "data" / "scorecard_ccs_2009-10_q3.csv"
PEOPLE_FILE = ROOT / "data" / "ccs_people.csv"
CODE = "CCS-0910"
PERIOD = "2009-12"
PORTFOLIO = "Policy and Performance"


def at(day: str, hhmm: str = "09:00") -> datetime:
    """An instant given in London time (GMT or BST as London had it that day), in UTC."""
    local = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=clock.local_tz())
    return local.astimezone(UTC)


def file_rows() -> list[dict[str, str]]:
    """The scorecard file as the csv module reads it: the tests' oracle."""
    with CARD_FILE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def people_rows() -> list[dict[str, str]]:
    with PEOPLE_FILE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def card_rows(*, blank: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """The file's rows as the import reads them, with the December figures of the data source
    officers named in `blank` left out (as if they had not been entered yet)."""
    from services.platform import tabular

    rows = tabular.read(CARD_FILE)
    for row in rows:
        if row["data_source_officer"] in blank:
            row["actual"] = row["estimate"] = row["ytd_actual"] = ""
    return rows


def import_people(rows: list[dict[str, str]] | None = None) -> Any:
    from core.db import write_session
    from services.platform import people_import, tabular

    with write_session() as session:
        return people_import.import_people(
            session, rows=rows if rows is not None else tabular.read(PEOPLE_FILE)
        )


def import_card(
    rows: list[dict[str, str]] | None = None,
    *,
    code: str = CODE,
    period: str = PERIOD,
    portfolio: str | None = PORTFOLIO,
) -> Any:
    """One import in its own transaction, as `signoff scorecards import` does it."""
    from core.db import write_session
    from services.performance import imports

    with write_session() as session:
        return imports.import_scorecard(
            session,
            rows=rows if rows is not None else card_rows(),
            code=code,
            period=period,
            actor_id=None,
            filename=CARD_FILE.name,
            portfolio=portfolio,
        )


def registered() -> dict[str, Any]:
    """Everyone registered, by name."""
    from sqlmodel import select

    from core.db import read_session
    from models import Person

    with read_session() as s:
        return {p.name: p for p in s.exec(select(Person))}


def measures() -> dict[str, Any]:
    """The measures of every scorecard, by code."""
    from sqlmodel import select

    from core.db import read_session
    from models.performance import Measure

    with read_session() as s:
        return {m.code: m for m in s.exec(select(Measure))}


def set_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: object) -> None:
    from core.settings import reset_settings_cache

    monkeypatch.setenv(f"SIGNOFF_{name.upper()}", str(value))
    reset_settings_cache()


sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def open_returns(day: str, period: str = PERIOD) -> int:
    """The month's returns opened as the chase's first run of `day` opens them."""
    from core.db import write_session
    from services.performance import chasing

    with clock.frozen(at(day)), write_session() as session:
        return chasing.open_period(session, period=period)


def return_of(person: Any, period: str = PERIOD) -> Any:
    from sqlmodel import select

    from core.db import read_session
    from models.performance import FigureReturn

    with read_session() as s:
        return s.exec(
            select(FigureReturn).where(
                FigureReturn.officer_id == person.id, FigureReturn.period == period
            )
        ).one()


def actor(person: Any, address: str = "192.0.2.20") -> Any:
    from services.platform.actors import Actor

    return Actor(person_id=person.id, address=address, is_admin=person.is_admin)


def entry_from_file(code: str, **changes: Any) -> Any:
    """What the officer would type for a measure: the file's own December figures."""
    from services.performance.figures import Entry

    (row,) = [r for r in file_rows() if r["code"] == code]
    values = {"actual": row["actual"], "ytd_actual": row["ytd_actual"], "estimate": row["estimate"]}
    return Entry(**(values | changes))


def small_scorecard(*, officer_id: int, code: str = "GUARD-0910") -> dict[str, int]:
    """A scorecard for the route guards: `officer_id` is the data source of PP1 (no figure yet,
    so their December 2009 return is open) and data source and responsible officer of PP2
    (entered RED: 10 against a target of 100)."""
    from sqlmodel import select

    from core.db import write_session
    from models.performance import FigureReturn, Measure, MeasureTarget, Scorecard
    from services.performance import chasing, figures, one_figure
    from services.platform.actors import Actor

    with clock.frozen(at("2010-01-04")), write_session() as s:
        card = Scorecard(code=code, name="Guard 09/10", year=2009, created_at=clock.now())
        s.add(card)
        s.flush()
        ids = {}
        for m_code, responsible in (("PP1", None), ("PP2", officer_id)):
            measure = Measure(
                scorecard_id=card.id or 0,
                code=m_code,
                name=f"Measure {m_code}",
                aim="An aim",
                frequency="quarterly",
                polarity="higher",
                unit="percentage",
                data_source_officer_id=officer_id,
                responsible_officer_id=responsible,
                year_end_target=100,
                updated_at=clock.now(),
            )
            s.add(measure)
            s.flush()
            s.add(MeasureTarget(measure_id=measure.id or 0, period=PERIOD, value=100))
            ids[m_code] = measure.id or 0
        s.flush()
        red = s.get(Measure, ids["PP2"])
        assert red is not None
        one_figure.enter_one(
            s,
            measure=red,
            period=PERIOD,
            reason="",
            version=None,
            actor=Actor(person_id=officer_id),
            entry=figures.Entry(actual="10", estimate="100", commentary="Behind plan."),
        )
        chasing.open_period(s, period=PERIOD)
        from sqlmodel import select

        from models.performance import FigureReturn

        ret = s.exec(select(FigureReturn).where(FigureReturn.officer_id == officer_id)).one()
        return {"measure_id": ids["PP1"], "red_measure_id": ids["PP2"], "return_id": ret.id or 0}


def add_scorecard(s: Any, code: str, *, name: str | None = None, year: int = 2009) -> int:
    """A scorecard, in the caller's transaction; its id."""
    from models.performance import Scorecard

    card = Scorecard(code=code, name=name or code, year=year, created_at=clock.now())
    s.add(card)
    s.flush()
    return card.id or 0


def add_measure(
    s: Any,
    card_id: int,
    code: str,
    officer: Any,
    *,
    targets: dict[str, float] | None = None,
    **fields: Any,
) -> int:
    """A measure of `officer`'s (monthly, higher is better, a percentage, unless `fields` say
    otherwise) with its targets by period, in the caller's transaction; its id."""
    from models.performance import Measure, MeasureTarget

    values: dict[str, Any] = {
        "name": f"Measure {code}",
        "aim": "Customers",
        "frequency": "monthly",
        "polarity": "higher",
        "unit": "percentage",
        "year_end_target": 90,
    }
    measure = Measure(
        scorecard_id=card_id,
        code=code,
        data_source_officer_id=officer.id,
        updated_at=clock.now(),
        **(values | fields),
    )
    s.add(measure)
    s.flush()
    for period, value in (targets or {}).items():
        s.add(MeasureTarget(measure_id=measure.id or 0, period=period, value=value))
    s.flush()
    return measure.id or 0
