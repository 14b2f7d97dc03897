"""One figure's page: revising it keeps who, when and why; a stale version or a missing reason
is refused; only the responsible officer or the performance team overrides a colour, and only
AMBER or RED; readers see it but change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from support.pages import csrf_token_of
from support.performance import at

from core import clock
from core.db import read_session

NOW = at("2010-01-25", "10:00")


@pytest.fixture
def c2(card: Any, people: dict[str, Any]) -> dict[str, Any]:
    """C2 (Equalities best practice): 80 against a target of 100, RED; Georgina Hayward is its
    data source and responsible officer."""
    from models.performance import Figure, Measure

    with read_session() as s:
        measure = s.exec(select(Measure).where(Measure.code == "C2")).one()
        figure = s.exec(select(Figure).where(Figure.measure_id == measure.id)).one()
    return {
        "measure": measure,
        "figure": figure,
        "path": f"/performance/figures/{measure.id}/2009-12",
    }


def _figure(measure_id: int) -> Any:
    from models.performance import Figure

    with read_session() as s:
        return s.exec(select(Figure).where(Figure.measure_id == measure_id)).one()


def _sign_in(client: Any, factory: Any, person: Any) -> None:
    client.cookies.set("signoff_session", factory.sign_in(person))


def test_a_revision_needs_a_reason_and_is_kept_with_who_when_and_why(
    client, db, factory, people, c2
):
    _sign_in(client, factory, people["Georgina Hayward"])
    path = c2["path"]
    form = {
        "actual": "90",
        "estimate": "100",
        "commentary": "Two issues missed the brief.",
        "version": "1",
    }
    with clock.frozen(NOW):
        before = db.snapshot()
        no_reason = client.post(path, data=form | {"csrf_token": csrf_token_of(client, path)})
        assert (
            no_reason.status_code == 422
            and "say why the figure is being revised" in no_reason.text.lower()
        )
        assert db.snapshot() == before
        done = client.post(
            path,
            data=form
            | {
                "reason": "The October issue was counted twice.",
                "csrf_token": csrf_token_of(client, path),
            },
            follow_redirects=False,
        )
        page = client.get(path)
    assert done.status_code == 303
    figure = _figure(c2["measure"].id)
    assert figure.actual == 90 and figure.version == 2
    assert "The October issue was counted twice." in page.text and "Georgina Hayward" in page.text
    from services.performance import figures as service

    with read_session() as s:
        revisions = service.revisions(s, figure_id=figure.id)
    assert [r.version for r in revisions] == [1, 2]
    assert revisions[-1].by_id == people["Georgina Hayward"].id
    assert revisions[-1].reason == "The October issue was counted twice."


def test_a_revision_of_an_older_version_is_refused(client, db, factory, people, c2):
    _sign_in(client, factory, people["Georgina Hayward"])
    path = c2["path"]
    with clock.frozen(NOW):
        before = db.snapshot()
        stale = client.post(
            path,
            data={
                "actual": "95",
                "estimate": "100",
                "commentary": "x",
                "reason": "Late correction",
                "version": "7",
                "csrf_token": csrf_token_of(client, path),
            },
        )
    assert stale.status_code == 409 and "changed since you read it" in stale.text
    assert db.snapshot() == before


@pytest.mark.parametrize("value", ["lots", "1e309", "-1", "250"])
def test_a_bad_value_is_named_and_nothing_changes(client, db, factory, people, c2, value):
    _sign_in(client, factory, people["Georgina Hayward"])
    path = c2["path"]
    with clock.frozen(NOW):
        before = db.snapshot()
        r = client.post(
            path,
            data={
                "actual": value,
                "estimate": "100",
                "commentary": "x",
                "reason": "Fix",
                "version": "1",
                "csrf_token": csrf_token_of(client, path),
            },
        )
    assert r.status_code == 422 and 'id="actual-error"' in r.text
    assert db.snapshot() == before


def test_readers_see_the_figure_but_cannot_change_it(client, db, factory, people, c2):
    _sign_in(client, factory, people["Jo Mills"])
    path = c2["path"]
    with clock.frozen(NOW):
        page = client.get(path)
        token = csrf_token_of(client, "/sign-out")
        before = db.snapshot()
        revise = client.post(
            path,
            data={
                "actual": "100",
                "estimate": "100",
                "reason": "Mine now",
                "version": "1",
                "csrf_token": token,
            },
        )
        override = client.post(
            f"{path}/override",
            data={"current": "amber", "override_reason": "x", "csrf_token": token},
        )
    assert page.status_code == 200 and "Revise the figure" not in page.text
    assert "Override the colours" not in page.text
    assert revise.status_code == 403 and override.status_code == 403
    assert db.snapshot() == before


def test_the_responsible_officer_overrides_red_to_amber_with_a_reason_and_both_show(
    client, db, factory, people, c2
):
    _sign_in(client, factory, people["Georgina Hayward"])
    path = c2["path"]
    with clock.frozen(NOW):
        before = db.snapshot()
        no_reason = client.post(
            f"{path}/override", data={"current": "amber", "csrf_token": csrf_token_of(client, path)}
        )
        assert no_reason.status_code == 422 and db.snapshot() == before
        done = client.post(
            f"{path}/override",
            data={
                "current": "amber",
                "override_reason": "The December issue will make it up.",
                "csrf_token": csrf_token_of(client, path),
            },
            follow_redirects=False,
        )
        page = client.get(path)
    assert done.status_code == 303
    assert "AMBER" in page.text and "(computed RED)" in page.text
    assert "The December issue will make it up." in page.text
    from models import AuditEvent

    with read_session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "override")).all()
    assert len(events) == 1 and events[0].actor_id == people["Georgina Hayward"].id
    assert "red->amber" in events[0].detail


def test_a_green_colour_cannot_be_overridden(client, db, factory, people, card):
    from models.performance import Measure

    with read_session() as s:
        c4 = s.exec(select(Measure).where(Measure.code == "C4")).one()  # 75 against 75: GREEN
    _sign_in(client, factory, factory.admin())
    path = f"/performance/figures/{c4.id}/2009-12"
    with clock.frozen(NOW):
        before = db.snapshot()
        r = client.post(
            f"{path}/override",
            data={
                "current": "red",
                "override_reason": "I feel it",
                "csrf_token": csrf_token_of(client, path),
            },
        )
        junk = client.post(
            f"{path}/override",
            data={
                "current": "purple",
                "override_reason": "x",
                "csrf_token": csrf_token_of(client, path),
            },
        )
    assert r.status_code == 422 and "Only an AMBER or RED colour" in r.text
    assert junk.status_code == 400
    assert db.snapshot() == before


def test_the_figure_forms_refuse_a_missing_csrf_token(client, db, factory, people, c2):
    _sign_in(client, factory, people["Georgina Hayward"])
    before = db.snapshot()
    r = client.post(c2["path"], data={"actual": "99", "version": "1", "reason": "x"})
    o = client.post(f"{c2['path']}/override", data={"current": "amber", "override_reason": "x"})
    assert r.status_code == 403 and o.status_code == 403
    assert db.snapshot() == before


def test_an_unknown_measure_or_a_period_it_is_not_collected_in_is_not_found(
    client, factory, people, c2
):
    _sign_in(client, factory, people["Jo Mills"])
    assert client.get("/performance/figures/99999/2009-12").status_code == 404
    assert client.get(f"/performance/figures/{c2['measure'].id}/2009-11").status_code == 404
    assert client.get(f"/performance/figures/{c2['measure'].id}/2009-13").status_code == 404
