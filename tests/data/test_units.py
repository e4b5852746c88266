"""Units of returns: the converters of research.data.units against closed forms.

A 10% log move is ``10`` in percent and ``0.1`` as a decimal; it multiplies a price by
``e^{0.1}``, so a long loses ``1 - e^{0.1}`` (a gain) and a short ``e^{0.1} - 1`` of its
notional. Round trips percent -> decimal -> percent are exact to one rounding.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from research.data import (
    position_losses,
    to_decimal,
    to_percent,
    units_per_fraction,
    validate_units,
)
from research.errors import SpecificationError

EXACT = 0.0
"""Scaling by 1 is the identity and by 100 one correctly rounded operation."""
ROUND_TRIP_REL = 2.3e-16
"""x * 100 / 100 differs from x by at most two roundings of half an ulp each."""


def test_a_ten_percent_log_move_in_both_units():
    assert to_decimal(10.0, "percent") == 0.1
    assert to_percent(0.1, "decimal") == 10.0
    assert to_decimal(0.1, "decimal") == 0.1
    assert to_percent(10.0, "percent") == 10.0
    for moves, units in ((np.array([-10.0, 10.0]), "percent"), (np.array([-0.1, 0.1]), "decimal")):
        long = position_losses(moves, "long", units)
        short = position_losses(moves, "short", units)
        assert long[0] == pytest.approx(1.0 - math.exp(-0.1), rel=1e-15)
        assert long[1] == pytest.approx(1.0 - math.exp(0.1), rel=1e-15)
        assert short[0] == pytest.approx(math.exp(-0.1) - 1.0, rel=1e-15)
        assert short[1] == pytest.approx(math.exp(0.1) - 1.0, rel=1e-15)


def test_a_long_loses_at_most_its_notional():
    assert position_losses(np.array([-1e4]), "long")[0] == 1.0
    assert position_losses(np.array([1e2]), "short", "decimal")[0] > 1e40


def test_round_trips_keep_labels_and_values():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        rng.normal(0.0, 2.0, (50, 3)),
        index=pd.bdate_range("2024-01-01", periods=50),
        columns=["A", "B", "C"],
    )
    back = to_percent(to_decimal(frame, "percent"), "decimal")
    pd.testing.assert_index_equal(back.index, frame.index)
    pd.testing.assert_index_equal(back.columns, frame.columns)
    np.testing.assert_allclose(back.to_numpy(), frame.to_numpy(), rtol=ROUND_TRIP_REL, atol=0)
    same = to_decimal(frame, "decimal")
    np.testing.assert_allclose(same.to_numpy(), frame.to_numpy(), rtol=EXACT, atol=EXACT)
    series = frame["A"]
    pd.testing.assert_series_equal(to_percent(series, "percent"), series)


def test_factors():
    assert units_per_fraction("percent") == 100.0
    assert units_per_fraction("decimal") == 1.0


@pytest.mark.parametrize("units", ["percent", "decimal"])
def test_known_units_pass(units):
    assert validate_units(units) == units


@pytest.mark.parametrize(
    ("units", "hint"),
    [
        ("basis points", ""),
        ("Percent", ""),
        (100, "units='percent'"),
        (1.0, "units='decimal'"),
        (None, ""),
        (True, ""),
    ],
)
def test_the_literal_refuses_unknown_units(units, hint):
    with pytest.raises(SpecificationError, match="units must be 'percent' or 'decimal'") as err:
        validate_units(units)
    assert hint in str(err.value)
    with pytest.raises(SpecificationError):
        to_decimal(1.0, units)
    with pytest.raises(SpecificationError):
        position_losses(np.ones(2), "long", units)


def test_position_losses_refuses_an_unknown_side():
    with pytest.raises(SpecificationError, match="side"):
        position_losses(np.ones(2), "both")  # type: ignore[arg-type]
