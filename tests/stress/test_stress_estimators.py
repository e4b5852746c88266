"""Sample, EWMA, shrinkage and blended correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import ledoit_wolf_shrinkage, oas

from research.errors import DataError, DataQualityWarning, InsufficientDataError, SpecificationError
from research.stress import (
    EMIR_STRESSED_WEIGHT,
    StressWindow,
    blend_correlation,
    ewma_correlation,
    sample_correlation,
    shrunk_correlation,
)

# Same quantity computed two ways (different operation order): only floating-point
# rounding differs, far below 1e-12 for numbers of order one.
ROUNDING_TOL = 1e-12
# pandas' ewm().corr() runs a bias-corrected recursion over ~400 rows: rounding accumulates.
PANDAS_EWM_TOL = 1e-10
# (1 + lambda) / (1 - lambda) is the n -> infinity limit; lambda^n ~ 1e-11 for n ~ 400.
ASYMPTOTIC_TOL = 1e-6

# Same formula evaluated two ways (numpy vs pandas/loop): only rounding differs.
CALM = ("2018-06-01", "2019-12-31")
STRESS_START, STRESS_END = pd.Timestamp("2020-02-20"), pd.Timestamp("2020-04-07")
STRESS = StressWindow("stress", STRESS_START, STRESS_END)


def test_sample_equals_pandas_corr(regimes):
    result = sample_correlation(regimes, STRESS)
    expected = regimes.loc[STRESS_START:STRESS_END].corr()
    np.testing.assert_allclose(result.matrix.to_numpy(), expected.to_numpy(), atol=ROUNDING_TOL)
    assert result.nobs == 34
    assert result.start == pd.Timestamp("2020-02-20") and result.end == pd.Timestamp("2020-04-07")
    assert result.method == "sample" and result.window == STRESS
    assert not result.repaired and result.band is None


def test_sample_recovers_known_correlation(regimes, truth):
    result = sample_correlation(regimes, CALM)
    n = result.nobs
    # Large-sample standard error of a normal-theory correlation: (1 - rho^2) / sqrt(n).
    se = (1.0 - truth.calm_corr**2) / np.sqrt(n)
    assert np.all(np.abs(result.matrix.to_numpy() - truth.calm_corr) <= 4.0 * se + ROUNDING_TOL)


def test_bootstrap_band_is_seeded_and_sized(regimes):
    first = sample_correlation(regimes, CALM, n_boot=400, level=0.90, seed=5)
    second = sample_correlation(regimes, CALM, n_boot=400, level=0.90, seed=5)
    pd.testing.assert_frame_equal(first.band.lower, second.band.lower)
    lower, upper = first.band.lower.to_numpy(), first.band.upper.to_numpy()
    estimate = first.matrix.to_numpy()
    off = ~np.eye(4, dtype=bool)
    assert np.all(lower[off] <= estimate[off]) and np.all(estimate[off] <= upper[off])
    # iid normal data: 90% band width ~ 2 * 1.645 * (1 - r^2) / sqrt(n). 400 replications
    # estimate the 5%/95% quantiles to ~10%; 30% leaves room for that and the normal approx.
    expected = 2 * 1.645 * (1 - estimate**2) / np.sqrt(first.nobs)
    np.testing.assert_allclose((upper - lower)[off], expected[off], rtol=0.3)
    assert first.band.n_samples == 400
    assert "bootstrap" in first.summary()["band"]


def test_block_bootstrap_runs_and_differs_from_iid(regimes):
    iid = sample_correlation(regimes, CALM, n_boot=200, seed=1)
    block = sample_correlation(regimes, CALM, n_boot=200, seed=1, block_length=10)
    assert block.info["block_length"] == 10
    assert not np.allclose(iid.band.lower.to_numpy(), block.band.lower.to_numpy())


def test_missing_values_are_dropped_counted_and_recorded(regimes):
    holed = regimes.copy()
    holed.iloc[[3, 4, 10], 1] = np.nan
    with pytest.warns(DataQualityWarning, match="dropped 3 of"):
        result = sample_correlation(holed, CALM)
    assert result.dropped == 3
    assert "b: 3" in result.warnings[0]
    assert result.summary()["dropped"] == 3


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (lambda r: r.iloc[:, :1], DataError, "at least two assets"),
        (lambda r: r.to_numpy(), DataError, "DataFrame"),
        (
            lambda r: r.assign(a=np.where(np.arange(len(r)) == 5, np.inf, r["a"])),
            DataError,
            "infinite",
        ),
        (lambda r: r.assign(c=1.0), DataError, "constant"),
    ],
    ids=["one-asset", "array", "inf", "constant"],
)
def test_bad_returns(regimes, mutate, error, match):
    with pytest.raises(error, match=match):
        sample_correlation(mutate(regimes))


def test_window_outside_data(regimes):
    with pytest.raises(DataError, match="outside the data"):
        sample_correlation(regimes, ("2008-09-15", "2009-03-09"))


def test_too_few_observations(regimes):
    with pytest.raises(InsufficientDataError, match="fewer than min_obs=40"):
        sample_correlation(regimes, STRESS, min_obs=40)


def test_bad_window_type(regimes):
    with pytest.raises(SpecificationError, match="window"):
        sample_correlation(regimes, "2020")


def test_bootstrap_options(regimes):
    with pytest.raises(SpecificationError, match="n_boot"):
        sample_correlation(regimes, n_boot=10)
    with pytest.raises(SpecificationError, match="block_length"):
        sample_correlation(regimes, STRESS, n_boot=100, block_length=100)
    with pytest.raises(SpecificationError, match="level"):
        sample_correlation(regimes, n_boot=100, level=1.5)


def test_ewma_matches_weighted_sum(regimes):
    decay = 0.94
    result = ewma_correlation(regimes, CALM, decay=decay)
    rows = regimes.loc[CALM[0] : CALM[1]].to_numpy()
    cov = np.zeros((4, 4))
    for age, r in enumerate(rows[::-1]):
        cov += decay**age * np.outer(r, r)
    d = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(result.matrix.to_numpy(), cov / np.outer(d, d), atol=ROUNDING_TOL)


def test_ewma_demeaned_matches_pandas(regimes):
    decay = 0.97
    result = ewma_correlation(regimes, CALM, decay=decay, demean=True)
    rows = regimes.loc[CALM[0] : CALM[1]]
    expected = rows.ewm(alpha=1 - decay, adjust=True).corr().loc[rows.index[-1]]
    np.testing.assert_allclose(result.matrix.to_numpy(), expected.to_numpy(), atol=PANDAS_EWM_TOL)


def test_ewma_effective_nobs(regimes):
    decay = 0.94
    result = ewma_correlation(regimes, CALM, decay=decay)
    n = result.nobs
    expected = (1 - decay**n) ** 2 / (1 - decay) ** 2 * (1 - decay**2) / (1 - decay ** (2 * n))
    assert result.info["effective_nobs"] == pytest.approx(expected, rel=ROUNDING_TOL)
    assert result.info["effective_nobs"] == pytest.approx(
        (1 + decay) / (1 - decay), rel=ASYMPTOTIC_TOL
    )


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.2])
def test_ewma_bad_decay(regimes, decay):
    with pytest.raises(SpecificationError, match="decay"):
        ewma_correlation(regimes, decay=decay)


@pytest.mark.parametrize("method", ["ledoit_wolf", "oas"])
def test_shrinkage_is_sklearn_convex_combination(regimes, method):
    result = shrunk_correlation(regimes, STRESS, method=method)
    rows = regimes.loc[STRESS_START:STRESS_END].to_numpy()
    z = (rows - rows.mean(axis=0)) / rows.std(axis=0)
    intensity = (
        ledoit_wolf_shrinkage(z, assume_centered=True)
        if method == "ledoit_wolf"
        else oas(z, assume_centered=True)[1]
    )
    assert result.info["shrinkage"] == pytest.approx(intensity, rel=ROUNDING_TOL)
    expected = (1 - intensity) * np.corrcoef(rows, rowvar=False) + intensity * np.eye(4)
    np.testing.assert_allclose(result.matrix.to_numpy(), expected, atol=ROUNDING_TOL)
    assert 0.0 < intensity < 1.0


def test_shrinkage_unknown_method(regimes):
    with pytest.raises(SpecificationError, match="method"):
        shrunk_correlation(regimes, method="glasso")


def test_blend_is_the_convex_combination(regimes):
    stressed = sample_correlation(regimes, STRESS)
    current = ewma_correlation(regimes, CALM)
    result = blend_correlation(stressed, current)
    expected = 0.25 * stressed.matrix + 0.75 * current.matrix
    np.testing.assert_allclose(result.matrix.to_numpy(), expected.to_numpy(), atol=ROUNDING_TOL)
    assert EMIR_STRESSED_WEIGHT == 0.25
    assert result.info == {"weight": 0.25, "stressed_method": "sample", "current_method": "ewma"}
    assert result.window == STRESS


def test_blend_aligns_labels_and_extremes(regimes):
    stressed = sample_correlation(regimes, STRESS).matrix
    current = sample_correlation(regimes, CALM).matrix.loc[::-1, ::-1]
    full = blend_correlation(stressed, current, weight=1.0).matrix
    none = blend_correlation(stressed, current, weight=0.0).matrix
    pd.testing.assert_frame_equal(full, stressed, check_exact=False, atol=ROUNDING_TOL)
    pd.testing.assert_frame_equal(
        none, current.loc[stressed.index, stressed.columns], check_exact=False, atol=ROUNDING_TOL
    )


def test_blend_bad_inputs(regimes):
    stressed = sample_correlation(regimes, STRESS).matrix
    with pytest.raises(SpecificationError, match="weight"):
        blend_correlation(stressed, stressed, weight=1.5)
    with pytest.raises(DataError, match="different assets"):
        blend_correlation(stressed, stressed.iloc[:3, :3])
    with pytest.raises(DataError, match="diagonal"):
        blend_correlation(stressed * 2, stressed)
