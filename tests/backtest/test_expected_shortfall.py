"""Expected-shortfall backtests: hand-computed statistics, seeded size and power checks.

Normal closed forms at level 0.975: VaR = z = 1.959964, ES = phi(z) / 0.025 = 2.337803.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research._random import as_generator
from research.backtest import CoverageTest, acerbi_szekely, mcneil_frey
from research.errors import DataError, InsufficientDataError, SpecificationError

LEVEL = 0.975
VAR = float(stats.norm.ppf(LEVEL))
ES = float(stats.norm.pdf(VAR) / (1 - LEVEL))
CLOSED_FORM_TOL = 1e-12
"""Hand-computed statistics: only floating-point rounding separates the two sides."""
N_REPS = 400
"""Simulated test periods (one seed each) in the size and power checks."""
MC_SIGMAS = 4.0
"""Monte-Carlo tolerance: 4 binomial standard errors of a rejection frequency over N_REPS."""


def _mc_tol(prob: float) -> float:
    return MC_SIGMAS * math.sqrt(prob * (1 - prob) / N_REPS)


def test_es_constants_match_published_values():
    assert VAR == pytest.approx(1.959964, abs=5e-7)
    assert ES == pytest.approx(2.337803, abs=5e-7)


# ---------------------------------------------------------------- Acerbi-Szekely


def test_z2_hand_computed():
    losses = np.array([0.0, 3.0, 1.0, 4.0])
    res = acerbi_szekely(losses, 2.0, 2.5, level=0.6, n_simulations=199, seed=0)
    # exceedances 3 and 4: Z2 = 1 - (3/2.5 + 4/2.5) / (4 * 0.4) = -0.75
    assert res.statistic == pytest.approx(-0.75, abs=CLOSED_FORM_TOL)
    assert res.exceptions == 2 and res.observations == 4
    assert isinstance(res, CoverageTest) and res.df is None


def test_z2_per_day_forecasts_equal_scalar_forecasts():
    losses = as_generator(3).standard_normal(300)
    scalar = acerbi_szekely(losses, VAR, ES, level=LEVEL, n_simulations=999, seed=1)
    per_day = acerbi_szekely(
        losses, np.full(300, VAR), np.full(300, ES), level=LEVEL, n_simulations=999, seed=1
    )
    assert scalar == per_day


def test_z2_is_scale_free():
    """Scaling losses, VaR and ES by the same sigma_t leaves Z2 and its p-value unchanged."""
    rng = as_generator(5)
    sigma = np.exp(rng.normal(size=250))
    z = rng.standard_normal(250)
    base = acerbi_szekely(z, VAR, ES, level=LEVEL, n_simulations=499, seed=2)
    scaled = acerbi_szekely(
        z * sigma, VAR * sigma, ES * sigma, level=LEVEL, n_simulations=499, seed=2
    )
    assert scaled.statistic == pytest.approx(base.statistic, abs=CLOSED_FORM_TOL)
    assert scaled.pvalue == base.pvalue


def test_simulated_critical_values_are_ordered_and_consistent():
    losses = 1.2 * as_generator(4).standard_normal(250)
    res = acerbi_szekely(losses, VAR, ES, level=LEVEL, n_simulations=1999, seed=3)
    crit = res.critical_values
    assert crit["1%"] < crit["5%"] < crit["10%"] < 0.0  # lower tail of Z2
    # the empirical p-value and the empirical 5% quantile use the same draws
    assert res.reject(0.05) == (res.statistic < crit["5%"])
    mf = mcneil_frey(
        as_generator(6).standard_normal(2000), VAR, ES, level=LEVEL, n_bootstrap=1999, seed=0
    )
    assert 0.0 < mf.critical_values["10%"] < mf.critical_values["5%"] < mf.critical_values["1%"]


def test_z2_reproducible_with_seed():
    losses = as_generator(0).standard_normal(250)
    a = acerbi_szekely(losses, VAR, ES, level=LEVEL, n_simulations=499, seed=11)
    b = acerbi_szekely(losses, VAR, ES, level=LEVEL, n_simulations=499, seed=11)
    assert a == b


def _z2_rejections(loss_scale: float, distribution="normal", var=VAR, es=ES) -> float:
    rejected = 0
    for seed in range(N_REPS):
        rng = as_generator(seed)
        if distribution == "normal":
            losses = loss_scale * rng.standard_normal(250)
        else:
            losses = loss_scale * distribution.rvs(size=250, random_state=rng)
        res = acerbi_szekely(
            losses, var, es, level=LEVEL, distribution=distribution, n_simulations=499, seed=rng
        )
        rejected += res.reject(0.05)
    return rejected / N_REPS


def test_z2_size_correctly_specified():
    # simulated critical values are exact in finite samples: the size is 5% up to MC error
    rate = _z2_rejections(1.0)
    assert abs(rate - 0.05) < _mc_tol(0.05)


def test_z2_size_student_t_model():
    dist = stats.t(df=5)
    var = float(dist.ppf(LEVEL))
    es = float(dist.pdf(var) / (1 - LEVEL) * (5 + var**2) / 4)  # ES of Student t(5)
    rate = _z2_rejections(1.0, distribution=dist, var=var, es=es)
    assert abs(rate - 0.05) < _mc_tol(0.05)


def test_z2_power_under_margined():
    # losses 40% more volatile than the model: VaR exceeded ~7.5x more often than 2.5%
    rate = _z2_rejections(1.4)
    assert rate > 0.9


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"losses": [1.0, np.nan], "var": 1.0, "es": 1.5}, DataError),
        ({"losses": [1.0, 2.0], "var": [1.0, 1.0, 1.0], "es": 1.5}, DataError),
        ({"losses": [1.0, 2.0], "var": 2.0, "es": 1.5}, DataError),
        ({"losses": [1.0, 2.0], "var": -1.0, "es": 1.5}, DataError),
        ({"losses": [], "var": 1.0, "es": 1.5}, InsufficientDataError),
        ({"losses": [1.0], "var": 1.0, "es": 1.5, "distribution": "cauchy"}, SpecificationError),
        ({"losses": [1.0], "var": 1.0, "es": 1.5, "n_simulations": 10}, SpecificationError),
        ({"losses": [1.0], "var": 1.0, "es": 1.5, "level": 1.0}, SpecificationError),
        ({"losses": [1.0], "var": 1.0, "es": 1.5, "level": 0.4}, SpecificationError),
    ],
    ids=[
        "nan",
        "length",
        "es-below-var",
        "negative-var",
        "empty",
        "distribution",
        "few-simulations",
        "level",
        "level-not-in-loss-tail",
    ],
)
def test_z2_bad_input(kwargs, error):
    with pytest.raises(error):
        acerbi_szekely(**kwargs, seed=0)


def test_misaligned_series_rejected():
    idx = pd.bdate_range("2020-01-01", periods=3)
    losses = pd.Series([1.0, 2.0, 3.0], index=idx)
    var = pd.Series(1.0, index=idx.shift(1))
    with pytest.raises(DataError, match="indexes"):
        acerbi_szekely(losses, var, var * 1.2, seed=0)


# ---------------------------------------------------------------- McNeil-Frey


def test_mcneil_frey_statistic_hand_computed():
    losses = np.array([0.5, 3.0, 0.1, 4.0, 2.5, 0.0])
    var, es = 2.0, 2.8
    residuals = np.array([3.0, 4.0, 2.5]) - es
    expected = residuals.mean() / (residuals.std(ddof=1) / math.sqrt(3))
    res = mcneil_frey(losses, var, es, level=0.5, n_bootstrap=999, seed=0)
    assert res.statistic == pytest.approx(expected, abs=CLOSED_FORM_TOL)
    assert res.exceptions == 3
    scaled = mcneil_frey(losses, var, es, level=0.5, scale=2.0, n_bootstrap=999, seed=0)
    # a constant scale does not change a t-statistic
    assert scaled.statistic == pytest.approx(expected, abs=CLOSED_FORM_TOL)


def _mf_rejections(loss_scale: float) -> float:
    rejected = 0
    for seed in range(N_REPS):
        rng = as_generator(seed)
        losses = loss_scale * rng.standard_normal(1000)
        res = mcneil_frey(losses, VAR, ES, level=LEVEL, n_bootstrap=499, seed=rng)
        rejected += res.reject(0.05)
    return rejected / N_REPS


def test_mcneil_frey_size_correctly_specified():
    # the bootstrap is asymptotic: with ~25 exceedances it may be somewhat liberal or
    # conservative; it must stay within 5% +- 2.5% plus Monte-Carlo error
    rate = _mf_rejections(1.0)
    assert abs(rate - 0.05) < 0.025 + _mc_tol(0.05)


def test_mcneil_frey_power_under_margined():
    rate = _mf_rejections(1.4)
    assert rate > 0.9


def test_mcneil_frey_two_sided_detects_overstated_es():
    losses = 0.7 * as_generator(9).standard_normal(5000)
    greater = mcneil_frey(losses, 0.7 * VAR, ES, level=LEVEL, n_bootstrap=999, seed=0)
    two_sided = mcneil_frey(
        losses, 0.7 * VAR, ES, level=LEVEL, n_bootstrap=999, seed=0, alternative="two-sided"
    )
    assert not greater.reject()
    assert two_sided.reject()


def test_mcneil_frey_bad_input():
    with pytest.raises(InsufficientDataError, match="two exceedances"):
        mcneil_frey(np.array([0.0, 3.0, 0.1]), 2.0, 2.5, seed=0)
    with pytest.raises(DataError, match="scale"):
        mcneil_frey(np.array([3.0, 4.0]), 2.0, 2.5, scale=-1.0, seed=0)
    with pytest.raises(SpecificationError, match="alternative"):
        mcneil_frey(np.array([3.0, 4.0]), 2.0, 2.5, alternative="less", seed=0)
    with pytest.raises(SpecificationError, match="n_bootstrap"):
        mcneil_frey(np.array([3.0, 4.0]), 2.0, 2.5, n_bootstrap=5, seed=0)
