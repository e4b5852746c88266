"""The tail-dependence regime of offset credits: a t-copula DCC path's least favourable quantile.

Pinned three ways: on simulated data from a DCC Student-t copula with known dynamics, degrees
of freedom and target, the regime recovers the true correlation path's quantile (lower for a
long/short pair, upper for a same-direction pair of negatively correlated legs) and the tail
dependence at it; on a fit, the regime equals ``numpy.quantile`` of the fit's own path and the
tail dependence the closed form written here with ``scipy.stats.t``; in the calibration, the
regime's credit is :func:`hedge_credit` at its correlation and the switch is off by default.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.calibration import (
    CalibrationConfig,
    DataConfig,
    OffsetConfig,
    StressConfig,
    calibrate_from_config,
)
from research.calibration.offsets import copula_regime, hedge_credit
from research.correlation import CopulaDCC
from research.errors import DataError, ParameterError, SpecificationError
from research.volatility import UnivariateFits

#: Target of the simulated copula: A/B positively correlated, C negatively with both.
QBAR = np.array([[1.0, 0.7, -0.5], [0.7, 1.0, -0.4], [-0.5, -0.4, 1.0]])
A, B, NU = 0.05, 0.90, 5.0
PAIRS = (("A", "B"), ("A", "C", "same"))

#: A small calibration on the bundled data with the copula regime on and the DCC one off.
SMALL = CalibrationConfig(
    name="small-copula",
    profile="emir-2d-99",
    data=DataConfig(source="sp500", start="2007-01-01", end="2010-12-31"),
    assets=("XOM", "CVX", "KO", "PEP"),
    pairs=(("XOM", "CVX"), ("KO", "PEP"), ("XOM", "KO")),
    risk_weights={"lookback": 250},
    stress=StressConfig(names=("gfc_lehman",)),
    offsets=OffsetConfig(recent=250, dcc=False, dcc_window=500, copula=True),
)


def _simulate(t_obs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draws of a DCC(A, B) Student-t(NU) copula and the true correlation path behind them.

    The draws are multivariate t with the path's correlation; the regime's copula uses ranks
    (empirical uniforms), so these have the same copula as any margins would.
    """
    rng = np.random.default_rng(seed)
    n, burn = len(QBAR), 300
    normal = rng.standard_normal((t_obs + burn, n))
    mix = np.sqrt(NU / rng.chisquare(NU, t_obs + burn))
    x = np.empty((t_obs + burn, n))
    paths = np.empty((t_obs + burn, n, n))
    q = QBAR.copy()
    for t in range(t_obs + burn):
        d = np.sqrt(np.diag(q))
        paths[t] = q / np.outer(d, d)
        x[t] = np.linalg.cholesky(paths[t]) @ normal[t] * mix[t]
        y = x[t] * math.sqrt((NU - 2.0) / NU)
        q = (1.0 - A - B) * QBAR + A * np.outer(y, y) + B * q
    return x[burn:], paths[burn:]


def _fit(x: np.ndarray) -> CopulaDCC:
    index = pd.bdate_range("2010-01-01", periods=len(x))
    fits = UnivariateFits.from_arrays(pd.DataFrame(x, index=index, columns=["A", "B", "C"]))
    return CopulaDCC(copula="t", transform="empirical").fit(univariate=fits)


def _tail_dependence(h: float, nu: float) -> float:
    return float(2.0 * stats.t.cdf(-math.sqrt((nu + 1.0) * (1.0 - h) / (1.0 + h)), nu + 1.0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_the_true_paths_quantile_on_a_simulated_t_copula(seed: int) -> None:
    x, true_paths = _simulate(3000, seed)
    fit = _fit(x)
    assert 4.0 < fit.nu < 6.5
    _, table = copula_regime(fit, PAIRS, 0.05)
    truth = {
        "A/B": np.quantile(true_paths[:, 0, 1], 0.05),  # long/short: the low correlation
        "A/C": np.quantile(true_paths[:, 0, 2], 0.95),  # both long: the least negative one
    }
    for pair, rho in truth.items():
        assert table.loc[pair, "rho"] == pytest.approx(rho, abs=0.05)
        hedge = rho if pair == "A/B" else -rho
        assert table.loc[pair, "tail_dependence"] == pytest.approx(
            _tail_dependence(hedge, NU), abs=0.06
        )


def test_regime_is_the_fits_own_quantile_on_the_hedges_side() -> None:
    x, _ = _simulate(600, 3)
    fit = _fit(x)
    matrix, table = copula_regime(fit, PAIRS, 0.10)
    ab, ac, bc = (fit.correlation_array[:, i, j] for i, j in ((0, 1), (0, 2), (1, 2)))
    assert matrix.loc["A", "B"] == matrix.loc["B", "A"] == pytest.approx(np.quantile(ab, 0.10))
    assert matrix.loc["A", "C"] == matrix.loc["C", "A"] == pytest.approx(np.quantile(ac, 0.90))
    assert matrix.loc["B", "C"] == pytest.approx(np.quantile(bc, 0.10))  # not a pair
    assert (np.diag(matrix) == 1.0).all()
    # the conservative side: each hedge correlation lies below the median hedge correlation
    assert table.loc["A/B", "hedge_rho"] == table.loc["A/B", "rho"]
    assert table.loc["A/C", "hedge_rho"] == -table.loc["A/C", "rho"]
    assert table.loc["A/B", "rho"] < table.loc["A/B", "rho_median"]
    assert table.loc["A/C", "rho"] > table.loc["A/C", "rho_median"]
    for pair in ("A/B", "A/C"):
        row = table.loc[pair]
        assert row["nu"] == fit.nu and row["nobs"] == 600 and row["quantile"] == 0.10
        assert row["tail_dependence"] == pytest.approx(
            _tail_dependence(row["hedge_rho"], fit.nu), rel=1e-10
        )
        assert row["tail_dependence"] <= row["tail_dependence_median"]


def test_gaussian_copula_has_no_tail_dependence() -> None:
    x, _ = _simulate(400, 4)
    index = pd.bdate_range("2010-01-01", periods=len(x))
    fits = UnivariateFits.from_arrays(pd.DataFrame(x, index=index, columns=["A", "B", "C"]))
    fit = CopulaDCC(copula="gaussian", transform="empirical").fit(univariate=fits)
    _, table = copula_regime(fit, [("A", "B")], 0.05)
    assert table.loc["A/B", "tail_dependence"] == 0.0 and math.isinf(table.loc["A/B", "nu"])


def test_bad_inputs() -> None:
    x, _ = _simulate(300, 5)
    fit = _fit(x)
    for quantile in (0.0, 0.5, -0.1):
        with pytest.raises(ParameterError, match="quantile"):
            copula_regime(fit, PAIRS, quantile)
    with pytest.raises(ParameterError, match="at least one pair"):
        copula_regime(fit, [], 0.05)
    with pytest.raises(ParameterError, match="repeat"):
        copula_regime(fit, [("A", "B"), ("A", "B")], 0.05)
    with pytest.raises(DataError, match="no asset"):
        copula_regime(fit, [("A", "D")], 0.05)


def test_config_switch_is_off_by_default_and_validated() -> None:
    assert OffsetConfig().copula is False
    default = CalibrationConfig.from_yaml("configs/default.yaml")
    assert default.offsets.copula is False
    on = replace(SMALL, offsets=OffsetConfig(copula=True, copula_quantile=0.1))
    assert CalibrationConfig.from_yaml(on.to_yaml()) == on
    for bad, match in (
        ({"copula": "yes"}, "copula"),
        ({"copula_quantile": 0.5}, "copula_quantile"),
        ({"copula_quantile": 0.0}, "copula_quantile"),
    ):
        with pytest.raises(SpecificationError, match=match):
            OffsetConfig(**bad)


def test_regime_in_the_calibrations_credits() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = calibrate_from_config(SMALL)
    assert res.copula is not None and len(res.copula.dates) == 500
    assert res.offsets.regimes == ("recent", "stressed", "copula_q05")
    table = res.offsets.table
    regime = res.evidence()["copula_regime"]
    for pair in ("XOM/CVX", "KO/PEP", "XOM/KO"):
        first, second = pair.split("/")
        path = res.copula.correlation_pair(first, second)
        assert regime.loc[pair, "rho"] == pytest.approx(np.quantile(path, 0.05), abs=1e-12)
        assert res.correlations["copula_q05"].loc[first, second] == regime.loc[pair, "rho"]
        # the default hedge matches the legs' risks: equal standalone risks
        assert table.loc[pair, "credit_copula_q05"] == pytest.approx(
            float(hedge_credit(regime.loc[pair, "rho"])), abs=1e-12
        )
    assert "credit_copula_q05" in res.evidence()["offset_credits"].columns
    assert (table["raw_credit"] <= table["credit_copula_q05"] + 1e-12).all()
