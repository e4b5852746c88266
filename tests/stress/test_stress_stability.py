"""Correlation-stability diagnostics: Fisher z, Jennrich (1970), break flags."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.errors import InsufficientDataError, SpecificationError
from research.stress import correlation_stability, fisher_z_test, jennrich_test

# Same quantity computed two ways (different operation order): only floating-point
# rounding differs, far below 1e-12 for numbers of order one.
ROUNDING_TOL = 1e-12


def test_fisher_z_hand_computed():
    # atanh(0.5) = 0.5493061443340549, atanh(0.2) = 0.2027325540540822,
    # se = sqrt(1/100 + 1/50) = sqrt(0.03).
    z, p = fisher_z_test(0.5, 103, 0.2, 53)
    expected = (0.5493061443340549 - 0.2027325540540822) / math.sqrt(0.03)
    assert z == pytest.approx(expected, abs=ROUNDING_TOL)
    assert p == pytest.approx(math.erfc(expected / math.sqrt(2.0)), abs=ROUNDING_TOL)


def test_fisher_z_vectorized_and_bad_input():
    z, p = fisher_z_test(np.array([0.1, 0.3]), 50, np.array([0.1, -0.3]), 60)
    assert z[0] == 0.0 and p[0] == 1.0 and z[1] > 0
    with pytest.raises(SpecificationError, match="more than 3"):
        fisher_z_test(0.1, 3, 0.2, 50)
    with pytest.raises(SpecificationError, match="inside"):
        fisher_z_test(1.0, 30, 0.2, 50)


@pytest.mark.parametrize(("r1", "r2", "n1", "n2"), [(0.3, 0.6, 100, 50), (-0.2, 0.5, 80, 200)])
def test_jennrich_two_assets_closed_form(r1, r2, n1, n2):
    """For p = 2 the statistic is c (r1 - r2)^2 / (1 - rbar^2)^2 (delta method on one r)."""
    test = jennrich_test(np.array([[1, r1], [r1, 1]]), n1, np.array([[1, r2], [r2, 1]]), n2)
    rbar = (n1 * r1 + n2 * r2) / (n1 + n2)
    c = n1 * n2 / (n1 + n2)
    assert test.statistic == pytest.approx(
        c * (r1 - r2) ** 2 / (1 - rbar**2) ** 2, rel=ROUNDING_TOL
    )
    assert test.df == 1
    assert test.pvalue == pytest.approx(stats.chi2.sf(test.statistic, 1), rel=ROUNDING_TOL)


def test_jennrich_is_zero_for_equal_matrices(truth):
    test = jennrich_test(truth.calm_corr, 100, truth.calm_corr, 300)
    assert test.statistic == pytest.approx(0.0, abs=ROUNDING_TOL)
    assert test.pvalue == pytest.approx(1.0)
    assert "chi2(6)" in str(test)


def test_jennrich_size_under_the_null(truth):
    """Rejection rate at 5% over 300 seeded null replications lies in the 99.9% binomial band."""
    rng = np.random.default_rng(8)
    chol = np.linalg.cholesky(truth.calm_corr)
    n_reps, n_obs = 300, 250
    rejections = 0
    for _ in range(n_reps):
        r1 = np.corrcoef(rng.standard_normal((n_obs, 4)) @ chol.T, rowvar=False)
        r2 = np.corrcoef(rng.standard_normal((n_obs, 4)) @ chol.T, rowvar=False)
        rejections += jennrich_test(r1, n_obs, r2, n_obs).pvalue < 0.05
    low, high = stats.binom.ppf([0.0005, 0.9995], n_reps, 0.05)
    assert low <= rejections <= high


def test_jennrich_bad_input(truth):
    with pytest.raises(SpecificationError, match="shape"):
        jennrich_test(truth.calm_corr, 50, truth.calm_corr[:3, :3], 50)
    with pytest.raises(SpecificationError, match="at least 2"):
        jennrich_test(truth.calm_corr, 1, truth.calm_corr, 50)


@pytest.fixture(scope="module")
def break_panel():
    """Calm vs stress with one stable pair, one that falls below 0.3 and one that flips sign."""
    calm = np.array([[1.0, 0.6, 0.5], [0.6, 1.0, 0.3], [0.5, 0.3, 1.0]])
    stress = np.array([[1.0, 0.9, 0.1], [0.9, 1.0, -0.2], [0.1, -0.2, 1.0]])
    rng = np.random.default_rng(21)
    n_calm, n_stress = 2000, 1000
    draws = np.vstack(
        [
            rng.standard_normal((n_calm, 3)) @ np.linalg.cholesky(calm).T,
            3.0 * rng.standard_normal((n_stress, 3)) @ np.linalg.cholesky(stress).T,
        ]
    )
    index = pd.bdate_range("2000-01-03", periods=n_calm + n_stress)
    frame = pd.DataFrame(draws, index=index, columns=["x", "y", "z"])
    return frame, (index[0], index[n_calm - 1]), (index[n_calm], index[-1])


def test_break_flags(break_panel):
    frame, calm, stress = break_panel
    result = correlation_stability(frame, calm, stress, threshold=0.3)
    pairs = result.pairs.set_index(["asset_1", "asset_2"])
    assert not pairs.loc[("x", "y"), "breaks"]
    assert pairs.loc[("x", "z"), "below_threshold"] and not pairs.loc[("x", "z"), "sign_change"]
    assert pairs.loc[("y", "z"), "sign_change"] and pairs.loc[("y", "z"), "breaks"]
    assert pairs["significant"].all()
    assert (np.sign(pairs["z"]) == np.sign(pairs["change"])).all()
    assert list(result.breaks["asset_2"]) == ["z", "z"]
    # Power: correlations move by 0.3-0.4 with 1000+ observations; chi2(3) is far in the tail.
    assert result.jennrich.pvalue < 1e-10
    summary = result.summary()
    assert summary["breaks"] == 2 and summary["pairs"] == 3
    assert summary["calm_nobs"] == 2000 and summary["stress_nobs"] == 1000


def test_change_matches_the_two_estimates(regimes):
    result = correlation_stability(
        regimes, ("2018-06-01", "2019-12-31"), ("2020-02-20", "2020-04-07")
    )
    row = result.pairs.iloc[0]
    assert row["calm"] == pytest.approx(result.calm.matrix.loc["a", "b"], abs=ROUNDING_TOL)
    assert row["change"] == pytest.approx(
        result.stress.matrix.loc["a", "b"] - row["calm"], abs=ROUNDING_TOL
    )
    z, p = fisher_z_test(result.stress.matrix.loc["a", "b"], 34, row["calm"], result.calm.nobs)
    assert row["z"] == pytest.approx(z, abs=ROUNDING_TOL) and row["pvalue"] == pytest.approx(p)


def test_stability_bad_options(regimes):
    with pytest.raises(SpecificationError, match="threshold"):
        correlation_stability(regimes, None, ("2020-02-20", "2020-04-07"), threshold=1.5)
    with pytest.raises(InsufficientDataError):
        correlation_stability(regimes, None, ("2020-02-20", "2020-02-21"))


def test_default_calm_is_the_complement(break_panel):
    frame, calm, stress = break_panel
    explicit = correlation_stability(frame, calm, stress)
    default = correlation_stability(frame, None, stress)
    pd.testing.assert_frame_equal(explicit.pairs, default.pairs)
    assert default.calm.window is None and default.calm.nobs == 2000
