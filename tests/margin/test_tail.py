"""The package's single empirical tail convention and the entry points that share it.

Convention (research.margin.tail): with n scenarios at confidence ``level`` the tail is the
m = ceil((1 - level) n) largest losses; VaR is the m-th largest loss and ES the mean of the m
largest. Expected values are computed here by a full sort.
"""

import math

import numpy as np
import pytest

from research.backtest.engine import risk_measure
from research.calibration.risk_weights import tail_risk
from research.errors import DataError, InsufficientDataError, ParameterError
from research.margin import tail
from research.margin.tail import (
    INSERTION_MAX_TAIL,
    empirical_var_es,
    tail_count,
    var_es,
    var_es_of_product,
)

SAMPLE_SIZES = (250, 1000, 1001)
LEVELS = (0.975, 0.99)
SUM_ORDER = 1e-13
"""ES by a sorted sum vs a partitioned sum of the same numbers: rounding only (|losses| < 10)."""


def _sorted_tail(losses: np.ndarray, level: float) -> tuple[float, float]:
    m = max(1, math.ceil(round((1.0 - level) * losses.size, 9)))
    ordered = np.sort(losses)
    return float(ordered[-m]), float(ordered[-m:].mean())


@pytest.mark.parametrize("n", SAMPLE_SIZES)
@pytest.mark.parametrize("level", LEVELS)
def test_three_entry_points_agree_exactly(n, level):
    rng = np.random.default_rng(1000 * n + round(1000 * level))
    losses = rng.standard_t(4, size=n)
    var, es, scenario = var_es(losses[None, :], level)
    calib_var, position = tail_risk(losses, level, "var")
    calib_es, _ = tail_risk(losses, level, "es")
    engine_var = risk_measure(losses[None, :], level, "var")[0]
    engine_es = risk_measure(losses[None, :], level, "es")[0]
    assert var[0] == calib_var == engine_var
    assert es[0] == calib_es == engine_es
    assert position == scenario[0] and losses[position] == var[0]
    expected_var, expected_es = _sorted_tail(losses, level)
    assert var[0] == expected_var
    assert es[0] == pytest.approx(expected_es, abs=SUM_ORDER)


@pytest.mark.parametrize("n", SAMPLE_SIZES)
@pytest.mark.parametrize("level", LEVELS)
def test_row_wise_entry_points_agree_exactly(n, level):
    losses = np.random.default_rng(n).standard_normal((7, n))
    var, es, _ = var_es(losses, level)
    product_var, product_es, _ = var_es_of_product(np.eye(7), losses, level)
    np.testing.assert_array_equal(risk_measure(losses, level, "var"), var)
    np.testing.assert_array_equal(risk_measure(losses.copy(), level, "es", overwrite=True), es)
    np.testing.assert_array_equal(product_var, var)
    np.testing.assert_array_equal(product_es, es)
    for row in range(7):
        assert (tail_risk(losses[row], level)[0], tail_risk(losses[row], level, "es")[0]) == (
            var[row],
            es[row],
        )


def test_tail_count_is_the_ceiling_of_the_tail_mass():
    assert [tail_count(n, 0.99) for n in SAMPLE_SIZES] == [3, 10, 11]
    assert [tail_count(n, 0.975) for n in SAMPLE_SIZES] == [7, 25, 26]
    assert tail_count(5, 0.8) == 1  # (1 - 0.8) * 5 = 1.0000000000000002 counts 1


def test_empirical_var_es_any_axis_and_in_place():
    losses = np.random.default_rng(5).standard_normal((3, 400, 2))
    var, es = empirical_var_es(losses, 0.99, axis=1)
    assert var.shape == es.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            expected_var, expected_es = _sorted_tail(losses[i, :, j], 0.99)
            assert var[i, j] == expected_var
            assert es[i, j] == pytest.approx(expected_es, abs=SUM_ORDER)
    original = losses.copy()
    empirical_var_es(losses, 0.99, axis=1)
    np.testing.assert_array_equal(losses, original)  # a copy is partitioned by default
    work = np.ascontiguousarray(losses[:, :, 0])
    in_place_var, _ = empirical_var_es(work, 0.99, overwrite=True)
    np.testing.assert_array_equal(in_place_var, var[:, 0])
    assert not np.array_equal(work, original[:, :, 0])  # partitioned in place
    v, e = empirical_var_es([3.0, 1.0, 2.0], 0.5)  # m = 2: VaR 2, ES 2.5
    assert (float(v), float(e)) == (2.0, 2.5)


def test_empirical_var_es_bad_input():
    with pytest.raises(DataError, match="non-finite loss in sample \\(1,\\)"):
        empirical_var_es(np.array([[0.0, 1.0, 2.0], [0.0, np.nan, 2.0]]), 0.9)
    with pytest.raises(DataError, match="non-finite"):
        empirical_var_es(np.array([0.0, np.inf, 2.0]), 0.9)
    with pytest.raises(InsufficientDataError):
        empirical_var_es(np.empty((2, 0)), 0.99)
    with pytest.raises(DataError, match="scalar"):
        empirical_var_es(np.float64(1.0), 0.99)
    with pytest.raises(ParameterError, match="level"):
        empirical_var_es(np.ones(10), 1.0)
    with pytest.raises(DataError, match="non-finite"):
        tail_risk(np.array([1.0, np.nan]), 0.99)


TAIL_CASES = (  # (n, level): m = 1 (n = 1 and n = 500), 10, 26, m = n = 32, threshold 32 / 33, 125
    (1, 0.5),
    (500, 0.999),
    (1000, 0.99),
    (1001, 0.975),
    (40, 0.2),
    (3200, 0.99),
    (3300, 0.99),
    (250, 0.5),
)


def _samples(n: int, ties: bool) -> np.ndarray:
    rng = np.random.default_rng(n + ties)
    if ties:  # integer losses: the VaR loss recurs inside and below the tail
        return rng.integers(-3, 4, size=(40, n)).astype(float)
    return rng.standard_normal((40, n))


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize(("n", "level"), TAIL_CASES)
def test_compiled_selection_equals_partition(n, level, ties, monkeypatch):
    losses = _samples(n, ties)
    m = tail_count(n, level)
    compiled = (
        var_es(losses, level),
        var_es_of_product(np.eye(40), losses, level),
        empirical_var_es(losses, level),
        empirical_var_es(losses[3], level),
    )
    in_place = losses.copy()
    in_place_var, in_place_es = empirical_var_es(in_place, level, overwrite=True)
    monkeypatch.setattr(tail, "INSERTION_MAX_TAIL", 0)  # every call partitions
    partitioned = (
        var_es(losses, level),
        var_es_of_product(np.eye(40), losses, level),
        empirical_var_es(losses, level),
        empirical_var_es(losses[3], level),
    )
    for got, expected in zip(compiled, partitioned, strict=True):
        np.testing.assert_array_equal(got[0], expected[0])  # VaR
        np.testing.assert_allclose(got[1], expected[1], rtol=0, atol=SUM_ORDER)  # ES
    for got, expected in zip(compiled[:2], partitioned[:2], strict=True):
        np.testing.assert_array_equal(got[2], expected[2])  # first column of the VaR loss
    if m > INSERTION_MAX_TAIL:  # the fallback is the partition path itself
        for got, expected in zip(compiled, partitioned, strict=True):
            np.testing.assert_array_equal(got[1], expected[1])
    for row in range(40):
        expected_var, expected_es = _sorted_tail(losses[row], level)
        assert compiled[0][0][row] == expected_var
        assert compiled[0][1][row] == pytest.approx(expected_es, abs=SUM_ORDER)
    np.testing.assert_array_equal(in_place_var, compiled[0][0])
    np.testing.assert_array_equal(in_place_es, compiled[2][1])
    np.testing.assert_array_equal(np.sort(in_place, axis=1), np.sort(losses, axis=1))
    np.testing.assert_array_equal(in_place[:, n - m], in_place_var)  # partitioned at n - m
    assert (in_place[:, : n - m] <= in_place_var[:, None]).all()


def test_threshold_picks_the_path(monkeypatch):
    calls = []
    select_top = tail._select_top
    monkeypatch.setattr(
        tail, "_select_top", lambda *args: calls.append(args[1]) or select_top(*args)
    )
    losses = _samples(100, False)
    for level in (0.99, 1 - INSERTION_MAX_TAIL / 100, 1 - (INSERTION_MAX_TAIL + 1) / 100):
        var_es(losses, level)
        var_es_of_product(np.eye(40), losses, level)
        empirical_var_es(losses, level)
    assert calls == [1] * 3 + [INSERTION_MAX_TAIL] * 3


def test_compiled_selection_non_finite():
    with np.errstate(over="ignore"), pytest.raises(DataError, match="sample \\(0,\\)"):
        var_es_of_product(np.array([[1e308, 1e308]]), np.ones((2, 5)), 0.99)  # overflow
    losses = np.zeros((2, 50))
    losses[1, 7] = np.nan
    with pytest.raises(DataError, match="non-finite loss in sample \\(1,\\)"):
        empirical_var_es(losses, 0.99)
    losses[1, 7] = -np.inf  # below the tail: not reported, as with np.partition
    var, es = empirical_var_es(losses, 0.99)
    np.testing.assert_array_equal(var, [0.0, 0.0])
    np.testing.assert_array_equal(es, [0.0, 0.0])
    losses[1] = -np.inf  # inside the tail
    with pytest.raises(DataError, match="non-finite loss in sample \\(1,\\)"):
        empirical_var_es(losses, 0.99)


@pytest.mark.parametrize("level", [0.99, 0.8])  # m = 2 (compiled) and m = 40 (partitioned)
def test_product_in_threaded_blocks_equals_the_full_product(level):
    """A book large enough for several row blocks on several threads gives var_es(q @ u)."""
    rng = np.random.default_rng(7)
    n_scenarios = 200
    assert (tail_count(n_scenarios, level) <= INSERTION_MAX_TAIL) == (level == 0.99)
    quantities = rng.normal(0.0, 5.0, (12_000, 15))
    quantities[rng.random(quantities.shape) < 0.5] = 0.0  # sparse rows, as in real books
    unit_losses = rng.standard_normal((15, n_scenarios))
    assert quantities.shape[0] * n_scenarios >= tail.PARALLEL_ELEMENTS
    assert quantities.shape[0] > 2 * (tail.BLOCK_ELEMENTS // n_scenarios)  # several blocks
    var, es, scenario = var_es_of_product(quantities, unit_losses, level)
    expected_var, expected_es, expected_scenario = var_es(quantities @ unit_losses, level)
    np.testing.assert_allclose(var, expected_var, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(es, expected_es, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(scenario, expected_scenario)


def test_product_reports_the_global_row_of_a_non_finite_loss():
    quantities = np.ones((12_000, 2))
    quantities[9_000] = 1e308  # its losses overflow to inf; it lies in a later block
    with np.errstate(over="ignore"), pytest.raises(DataError, match="sample \\(9000,\\)"):
        var_es_of_product(quantities, np.ones((2, 200)), 0.99)
