"""Steps (services/platform/steps.py), including a step that needs all of several people:
every signatory of one plan version must sign that same version."""

from __future__ import annotations

from core.db import read_session, write_session
from models import Step
from services.platform import steps

PLAN_V1 = steps.Subject("plan_version", 41, 1)
PLAN_V2 = steps.Subject("plan_version", 41, 2)


def open_rows() -> list[tuple]:
    with read_session() as s:
        return [
            (r.subject_version, r.owner_id, r.outcome)
            for r in s.query(Step).filter_by(subject_type="plan_version").order_by(Step.id)
        ]


def test_all_of_n_signatories_each_owe_a_step_and_the_version_is_done_when_all_signed(factory):
    a, b, c = (factory.person(f"Signatory {n}").id for n in "ABC")
    with write_session() as s:
        steps.open_steps(s, subject=PLAN_V1, kind="sign", owners=[a, b, c, b], due_on=_day())
    assert [o for _, o, _ in open_rows()] == [a, b, c]  # each person once
    with write_session() as s:
        assert steps.complete(s, subject=PLAN_V1, kind="sign", owner_id=a, outcome="signed")
        assert not steps.complete(s, subject=PLAN_V1, kind="sign", owner_id=a, outcome="signed")
        assert steps.complete(s, subject=PLAN_V1, kind="sign", owner_id=b, outcome="signed")
        assert steps.outcomes(s, subject=PLAN_V1, kind="sign") == ["signed", "signed", None]
        assert steps.complete(s, subject=PLAN_V1, kind="sign", owner_id=c, outcome="signed")
        assert steps.outcomes(s, subject=PLAN_V1, kind="sign") == ["signed"] * 3


def test_a_new_version_supersedes_the_open_steps_and_signatures_stay_with_their_version(factory):
    a, b = (factory.person(f"Signatory {n}").id for n in "AB")
    with write_session() as s:
        steps.open_steps(s, subject=PLAN_V1, kind="sign", owners=[a, b], due_on=_day())
        steps.complete(s, subject=PLAN_V1, kind="sign", owner_id=a, outcome="signed")
    with write_session() as s:  # the plan is edited: version 2 needs everyone again
        steps.close_steps(s, subject=PLAN_V1, outcome="superseded")
        steps.open_steps(s, subject=PLAN_V2, kind="sign", owners=[a, b], due_on=_day())
        assert not steps.complete(s, subject=PLAN_V1, kind="sign", owner_id=b, outcome="signed")
        assert steps.outcomes(s, subject=PLAN_V1, kind="sign") == ["signed", "superseded"]
        assert steps.outcomes(s, subject=PLAN_V2, kind="sign") == [None, None]
    assert open_rows() == [(1, a, "signed"), (1, b, "superseded"), (2, a, None), (2, b, None)]


def test_closing_one_kind_leaves_the_subjects_other_steps_open(factory):
    a = factory.person("Owner").id
    with write_session() as s:
        steps.open_steps(s, subject=PLAN_V1, kind="sign", owners=[a], due_on=_day())
        steps.open_steps(s, subject=PLAN_V1, kind="supply_section", owners=[a], due_on=_day())
        steps.close_steps(s, subject=PLAN_V1, outcome="done", kinds=["supply_section"])
        assert steps.outcomes(s, subject=PLAN_V1, kind="sign") == [None]
        assert steps.outcomes(s, subject=PLAN_V1, kind="supply_section") == ["done"]


def test_closing_a_subjects_steps_leaves_every_other_subjects_steps_open(factory):
    a = factory.person("Owner").id
    other_plan = steps.Subject("plan_version", 42, 1)
    other_type = steps.Subject("rfc", 41, 1)  # the same id, another domain
    with write_session() as s:
        for subject in (PLAN_V1, other_plan, other_type):
            steps.open_steps(s, subject=subject, kind="sign", owners=[a], due_on=_day())
        steps.close_steps(s, subject=PLAN_V1, outcome="superseded")
        steps.close_steps(s, subject=PLAN_V1, outcome="superseded", kinds=["sign"])
        assert steps.outcomes(s, subject=PLAN_V1, kind="sign") == ["superseded"]
        assert steps.outcomes(s, subject=other_plan, kind="sign") == [None]
        assert steps.outcomes(s, subject=other_type, kind="sign") == [None]


def test_a_persons_open_subjects_are_those_they_owe_a_step_on(factory):
    a, b = (factory.person(f"Person {n}").id for n in "AB")
    with write_session() as s:
        steps.open_steps(s, subject=PLAN_V1, kind="sign", owners=[a], due_on=_day())
        steps.open_steps(
            s, subject=steps.Subject("plan_version", 42, 1), kind="sign", owners=[b], due_on=_day()
        )
        owed = steps.open_subject_ids(s, subject_type="plan_version", owner_id=a)
        assert list(s.exec(owed)) == [41]
        steps.complete(s, subject=PLAN_V1, kind="sign", owner_id=a, outcome="signed")
        assert (
            list(s.exec(steps.open_subject_ids(s, subject_type="plan_version", owner_id=a))) == []
        )


def test_a_step_is_completed_and_counted_only_on_its_own_subject_and_kind(factory):
    """Steps that differ from PLAN_V1's `sign` step in one way each: another subject type with
    the same id, another subject, another kind. None is completed, counted or listed with it."""
    a = factory.person("Signatory").id
    decoys = {
        "other type": steps.Subject("figure_return", 41, 1),
        "other subject": steps.Subject("plan_version", 42, 1),
    }
    with write_session() as s:
        steps.open_steps(s, subject=PLAN_V1, kind="sign", owners=[a], due_on=_day())
        steps.open_steps(s, subject=PLAN_V1, kind="supply_section", owners=[a], due_on=_day())
        for subject in decoys.values():
            steps.open_steps(s, subject=subject, kind="sign", owners=[a], due_on=_day())
    with write_session() as s:
        assert steps.complete(s, subject=PLAN_V1, kind="sign", owner_id=a, outcome="signed")
        assert steps.outcomes(s, subject=PLAN_V1, kind="sign") == ["signed"]
        assert steps.outcomes(s, subject=PLAN_V1, kind="supply_section") == [None]
        for what, subject in decoys.items():
            assert steps.outcomes(s, subject=subject, kind="sign") == [None], what
        owed = list(s.exec(steps.open_subject_ids(s, subject_type="plan_version", owner_id=a)))
        assert sorted(owed) == [41, 42]  # the supply_section step on 41, and 42; not the return
        returns = steps.open_subject_ids(s, subject_type="figure_return", owner_id=a)
        assert list(s.exec(returns)) == [41]


def _day():  # type: ignore[no-untyped-def]
    from datetime import date

    return date(2011, 3, 31)
