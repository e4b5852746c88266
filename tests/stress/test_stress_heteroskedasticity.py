"""Forbes-Rigobon adjustment and Loretan-English conditional correlation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError, PSDRepairWarning, SpecificationError
from research.stress import (
    forbes_rigobon,
    forbes_rigobon_correlation,
    loretan_english,
    loretan_english_correlation,
)

# Same quantity computed two ways (different operation order): only floating-point
# rounding differs, far below 1e-12 for numbers of order one.
ROUNDING_TOL = 1e-12

# Hand-computed values (closed forms evaluated with math, independently of numpy):
#   FR(0.5, delta=3)  = 0.5 / sqrt(1 + 3 * 0.75)          = 0.5 / sqrt(3.25)
#   FR(0.8, delta=1)  = 0.8 / sqrt(1 + 1 * 0.36)          = 0.8 / sqrt(1.36)
#   LE(0.5, ratio=4)  = 0.5 / sqrt(0.25 + 0.75 / 4)        = 0.5 / sqrt(0.4375)
#   LE(0.3, ratio=2)  = 0.3 / sqrt(0.09 + 0.91 / 2)        = 0.3 / sqrt(0.545)
HAND = [
    ("fr", 0.5, 3.0, 0.5 / math.sqrt(3.25), 0.277350098112615),
    ("fr", 0.8, 1.0, 0.8 / math.sqrt(1.36), 0.685994340570035),
    ("le", 0.5, 4.0, 0.5 / math.sqrt(0.4375), 0.755928946018454),
    ("le", 0.3, 2.0, 0.3 / math.sqrt(0.545), 0.406371276887158),
]
CLOSED_FORM_TOL = 1e-14
# Decimal values above are rounded to 15 places.
DECIMAL_TOL = 1e-14


@pytest.mark.parametrize(
    ("which", "rho", "arg", "formula", "decimal"),
    HAND,
    ids=["fr-0.5", "fr-0.8", "le-0.5", "le-0.3"],
)
def test_hand_computed(which, rho, arg, formula, decimal):
    value = forbes_rigobon(rho, arg) if which == "fr" else loretan_english(rho, arg)
    assert value == pytest.approx(formula, abs=CLOSED_FORM_TOL)
    assert value == pytest.approx(decimal, abs=DECIMAL_TOL)


def test_maps_are_inverse_and_odd():
    rho = np.linspace(-0.99, 0.99, 41)
    for delta in (-0.5, 0.0, 2.0, 8.0):
        np.testing.assert_allclose(
            loretan_english(forbes_rigobon(rho, delta), 1 + delta), rho, atol=ROUNDING_TOL
        )
        np.testing.assert_allclose(
            forbes_rigobon(-rho, delta), -forbes_rigobon(rho, delta), atol=ROUNDING_TOL
        )
    np.testing.assert_allclose(forbes_rigobon(rho, 0.0), rho, atol=ROUNDING_TOL)


def test_formula_bad_arguments():
    with pytest.raises(SpecificationError, match="delta"):
        forbes_rigobon(0.5, -1.0)
    with pytest.raises(SpecificationError, match=r"\[-1, 1\]"):
        forbes_rigobon(1.5, 1.0)
    with pytest.raises(SpecificationError, match="variance_ratio"):
        loretan_english(0.5, 0.0)
    with pytest.raises(SpecificationError, match=r"\[-1, 1\]"):
        loretan_english(np.array([0.2, np.nan]), 2.0)


@pytest.fixture(scope="module")
def factor_panel():
    """y = 0.5 x + e with var(e) = 0.75: corr 0.5 when var(x) = 1, LE(0.5, 4) when var(x) = 4."""
    rng = np.random.default_rng(77)
    n_calm, n_stress = 3000, 3000
    scale = np.r_[np.ones(n_calm), 2.0 * np.ones(n_stress)]
    x = scale * rng.standard_normal(n_calm + n_stress)
    y = 0.5 * x + np.sqrt(0.75) * rng.standard_normal(n_calm + n_stress)
    index = pd.bdate_range("2010-01-01", periods=n_calm + n_stress)
    stress = (index[n_calm], index[-1])
    return pd.DataFrame({"x": x, "y": y}, index=index), stress


def test_forbes_rigobon_recovers_the_constant_correlation(factor_panel):
    panel, stress = factor_panel
    result = forbes_rigobon_correlation(panel, stress, source="x")
    # delta estimates var ratio 4 - 1 = 3 with relative se ~ sqrt(2/3000 * 2) ~ 0.037.
    assert result.info["delta"] == pytest.approx(3.0, rel=4 * 0.037)
    # The adjusted correlation estimates 0.5; the se of a correlation near 0.76 over 3000
    # points is (1 - 0.76^2)/sqrt(3000) ~ 0.008, and the delta error adds about as much.
    assert result.matrix.loc["x", "y"] == pytest.approx(0.5, abs=4 * 0.012)
    assert result.info["stressed"].loc["x", "y"] == pytest.approx(0.756, abs=4 * 0.008)
    assert result.method == "forbes-rigobon" and result.info["source"] == "x"


def test_loretan_english_predicts_the_stress_correlation(factor_panel):
    panel, stress = factor_panel
    result = loretan_english_correlation(panel, stress, source="x")
    expected = loretan_english(0.5, 4.0)
    assert result.matrix.loc["x", "y"] == pytest.approx(expected, abs=4 * 0.012)
    assert result.info["variance_ratio"] == pytest.approx(4.0, rel=4 * 0.037)
    assert result.info["observed"].loc["x", "y"] == pytest.approx(expected, abs=4 * 0.008)


def test_estimator_arithmetic(regimes):
    """FR matrix = forbes_rigobon(stressed sample corr, delta) entry by entry."""
    stress = ("2020-02-20", "2020-04-07")
    result = forbes_rigobon_correlation(regimes, stress, ("2018-06-01", "2019-12-31"))
    stressed = regimes.loc[stress[0] : stress[1]]
    calm = regimes.loc["2018-06-01":"2019-12-31"]
    ratio = stressed.mean(axis=1).var() / calm.mean(axis=1).var()
    assert result.info["delta"] == pytest.approx(ratio - 1, rel=ROUNDING_TOL)
    assert result.info["source"] == "equal-weight portfolio"
    assert not result.repaired
    np.testing.assert_allclose(
        result.matrix.to_numpy(),
        forbes_rigobon(stressed.corr().to_numpy(), ratio - 1),
        atol=ROUNDING_TOL,
    )


def test_default_calm_is_the_complement_and_repair_is_reported(regimes):
    stress = ("2020-02-20", "2020-04-07")
    # The equal-weight variance rises ~9-fold, which pushes every |rho| towards one with the
    # calm signs; that sign pattern is not PSD, so the estimate must be repaired and say so.
    with pytest.warns(PSDRepairWarning, match="loretan-english"):
        result = loretan_english_correlation(regimes, stress)
    assert result.nobs == len(regimes) - 34
    assert result.repaired and result.repair.converged


def test_unknown_source(regimes):
    with pytest.raises(DataError, match="source"):
        forbes_rigobon_correlation(regimes, ("2020-02-20", "2020-04-07"), source="zz")
    with pytest.raises(SpecificationError, match="stress window"):
        loretan_english_correlation(regimes, None)
