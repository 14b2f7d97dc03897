"""RAG (services/performance/rag.py): GREEN on target, AMBER within the tolerance, RED beyond
it, GREY when there is nothing to judge; compared as the decimals a person reads, so a value
exactly on the target or on the tolerance boundary is coloured as the report's reader would.
"""

from __future__ import annotations

import pytest
from support.performance import set_setting

from models.performance import Polarity, Rag
from services.performance.rag import Colour, judge, tolerance

pytestmark = pytest.mark.usefixtures("config")

GREEN, AMBER, RED, GREY = Rag.green, Rag.amber, Rag.red, Rag.grey


@pytest.mark.parametrize(
    ("value", "target", "polarity", "own", "colour"),
    [
        # Higher is better: target 75, AMBER down to 70 with a tolerance of 5.
        (75, 75, Polarity.higher_better, 5, GREEN),  # exactly on target
        (80, 75, Polarity.higher_better, 5, GREEN),  # better than target
        (72, 75, Polarity.higher_better, 5, AMBER),
        (70, 75, Polarity.higher_better, 5, AMBER),  # exactly on the boundary
        (69.9, 75, Polarity.higher_better, 5, RED),  # just past it
        (0, 75, Polarity.higher_better, 5, RED),
        # Lower is better (NI014 avoidable contact): target 20, AMBER up to 25.
        (20, 20, Polarity.lower_better, 5, GREEN),
        (12, 20, Polarity.lower_better, 5, GREEN),
        (25, 20, Polarity.lower_better, 5, AMBER),
        (25.01, 20, Polarity.lower_better, 5, RED),
        # A tolerance of 0: anything off target is RED.
        (74.99, 75, Polarity.higher_better, 0, RED),
        (20.01, 20, Polarity.lower_better, 0, RED),
    ],
)
def test_each_polarity_on_target_on_the_boundary_and_just_past_it(
    value, target, polarity, own, colour
):
    assert judge(value, target, polarity=polarity, own=own) == colour


@pytest.mark.parametrize(
    "polarity", [Polarity.higher_better, Polarity.lower_better, "higher", "lower"]
)
def test_zero_against_a_zero_target_is_green(polarity):
    assert judge(0, 0, polarity=polarity, own=None) == GREEN
    assert judge(0.0, 0, polarity=polarity, own=0) == GREEN


def test_a_zero_target_has_no_amber_band_unless_the_measure_sets_one():
    # Lower is better, target 0 (no complaints), one came in: the default share of a zero
    # target is nothing, so it is RED.
    assert judge(1, 0, polarity=Polarity.lower_better, own=None) == RED
    assert judge(1, 0, polarity=Polarity.lower_better, own=1) == AMBER
    assert judge(1, 0, polarity=Polarity.higher_better, own=None) == GREEN


@pytest.mark.parametrize(
    ("value", "target", "own", "polarity"),
    [
        (None, 75, 5, Polarity.higher_better),
        (75, None, 5, Polarity.higher_better),
        (None, None, None, "lower"),
    ],
)
def test_a_missing_value_or_target_is_grey(value, target, own, polarity):
    assert judge(value, target, polarity=polarity, own=own) == GREY


@pytest.mark.parametrize(
    ("value", "target", "own", "polarity", "past"),
    [
        (9.8, 9.3, 0.5, Polarity.lower_better, 9.81),
        (9.3, 9.8, 0.5, Polarity.higher_better, 9.29),
        # In floating point these misses come out just over the tolerance (1.1 - 1.0 is
        # 0.10000000000000009): only a decimal comparison finds them exactly on it.
        (1.1, 1.0, 0.1, Polarity.lower_better, 1.11),
        (2.0, 2.2, 0.2, Polarity.higher_better, 1.99),
        (20.3, 20, 0.3, Polarity.lower_better, 20.31),
    ],
)
def test_a_miss_of_exactly_the_tolerance_is_amber_in_decimals_not_floats(
    value, target, own, polarity, past
):
    assert judge(value, target, polarity=polarity, own=own) == AMBER
    assert judge(past, target, polarity=polarity, own=own) == RED


def test_the_float_trap_is_real():
    """The cases above would be RED compared as floats (so the test above can fail)."""
    assert abs(1.1 - 1.0) > 0.1 and abs(2.0 - 2.2) > 0.2 and abs(20.3 - 20) > 0.3
    assert 3.2 - 2.88 > 3.2 * 10.0 / 100


def test_the_default_tolerance_is_a_share_of_the_target(config):
    assert config.amber_tolerance_percent == 10.0
    # Target 80, higher is better: 10% of 80 is 8, so AMBER down to 72.
    assert judge(72, 80, polarity=Polarity.higher_better, own=None) == AMBER
    assert judge(71.9, 80, polarity=Polarity.higher_better, own=None) == RED
    # Target 20, lower is better: AMBER up to 22.
    assert judge(22, 20, polarity=Polarity.lower_better, own=None) == AMBER
    assert judge(22.1, 20, polarity=Polarity.lower_better, own=None) == RED
    # 10% of 3.2 is 0.32 and 3.2 - 2.88 is 0.32: AMBER (as floats, 0.3200000000000003 is
    # more than 0.32).
    assert judge(2.88, 3.2, polarity=Polarity.higher_better, own=None) == AMBER
    assert tolerance(3.2, None) == tolerance(3.2, 0.32)


def test_a_measures_own_tolerance_wins_over_the_default():
    assert judge(60, 80, polarity=Polarity.higher_better, own=20) == AMBER
    assert judge(79, 80, polarity=Polarity.higher_better, own=0) == RED
    assert (
        judge(17, 20, polarity=Polarity.higher_better, own=-5) == AMBER
    )  # a sign is not a direction


def test_the_default_share_is_a_setting(monkeypatch):
    set_setting(monkeypatch, "amber_tolerance_percent", 5)
    assert judge(76, 80, polarity=Polarity.higher_better, own=None) == AMBER
    assert judge(75.9, 80, polarity=Polarity.higher_better, own=None) == RED
    set_setting(monkeypatch, "amber_tolerance_percent", 0)
    assert judge(79.9, 80, polarity=Polarity.higher_better, own=None) == RED


def test_an_override_is_reported_with_the_computed_colour_beside_it():
    overridden = Colour(RED, AMBER)
    assert (overridden.computed, overridden.reported, overridden.overridden) == (RED, AMBER, True)
    plain = Colour(AMBER)
    assert (plain.computed, plain.reported, plain.overridden) == (AMBER, AMBER, False)
    same = Colour(RED, RED)  # an override that agrees is not shown as one
    assert (same.reported, same.overridden) == (RED, False)
