"""Scenario models: the rolling FHS's GARCH refits are arch's, FHS filtering."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch import arch_model

from research.backtest.models import ParametricNormal, RollingFHS
from research.errors import DataError, InsufficientDataError, SpecificationError

ARCH_PARAM_TOL = 1e-5
"""The refit is the volatility stage's GARCH(1,1) (arch's backcast, bounds and start): arch's
estimates to 1e-5 (the backtest's former kernel, started at the sample variance, was 1.5e-2
away on the bundled equities)."""


def _garch_path(n: int, seed: int, mu=0.05, omega=0.05, alpha=0.08, beta=0.9) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = np.empty(n)
    s2 = omega / (1 - alpha - beta)
    for t in range(n):
        r[t] = mu + np.sqrt(s2) * rng.standard_normal()
        s2 = omega + alpha * (r[t] - mu) ** 2 + beta * s2
    return r


@pytest.mark.parametrize("seed", [1, 2])
def test_refit_is_archs_estimate(seed):
    r = _garch_path(1000, seed)
    frame = pd.DataFrame({"a": r}, index=pd.bdate_range("2015-01-01", periods=r.size))
    fitted = RollingFHS(horizon=2).fit(frame)
    ref = arch_model(r, mean="Constant", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    ours = fitted.params.loc["a", ["mu", "omega", "alpha", "beta"]].to_numpy(dtype=float)
    np.testing.assert_allclose(ours, ref.params.to_numpy(), atol=ARCH_PARAM_TOL)


def test_fhs_filter_is_the_garch_recursion():
    values = np.column_stack([_garch_path(400, 3), _garch_path(400, 4)])
    frame = pd.DataFrame(
        values, index=pd.bdate_range("2020-01-01", periods=400), columns=["a", "b"]
    )
    model = RollingFHS(horizon=3)
    fitted = model.fit(frame.iloc[:300])
    scale = fitted.scale(values[300:310])
    p = fitted.params
    s2 = fitted.sigma2_next.copy()
    assert scale[0] == pytest.approx(np.sqrt(s2))
    for i in range(10):
        s2 = p["omega"] + p["alpha"] * (values[300 + i] - p["mu"]) ** 2 + p["beta"] * s2
        np.testing.assert_allclose(scale[i + 1], np.sqrt(s2), rtol=1e-12)
    # base scenarios are 3-day sums of standardized residuals, one per start day
    assert fitted.base.shape == (300 - 3 + 1, 2)
    np.testing.assert_allclose(fitted.location, 3 * p["mu"].to_numpy())


def test_parametric_normal_draws_have_the_covariance():
    cov = pd.DataFrame([[4.0, 1.0], [1.0, 1.0]], index=["a", "b"], columns=["a", "b"])
    frame = pd.DataFrame(np.zeros((5, 2)), columns=["a", "b"])
    fitted = ParametricNormal(horizon=2, covariance=cov, n_scenarios=200_000).fit(frame, seed=0)
    # 200,000 draws: the sample covariance is within ~1% of 2 * cov
    np.testing.assert_allclose(
        np.cov(fitted.base, rowvar=False), 2 * cov.to_numpy(), rtol=0.02, atol=0.02
    )
    again = ParametricNormal(horizon=2, covariance=cov, n_scenarios=200).fit(frame, seed=5)
    same = ParametricNormal(horizon=2, covariance=cov, n_scenarios=200).fit(frame, seed=5)
    np.testing.assert_array_equal(again.base, same.base)


def test_model_errors():
    short = pd.DataFrame(np.zeros((50, 1)), columns=["a"])
    with pytest.raises(InsufficientDataError, match="lookback"):
        RollingFHS().fit(short)
    holes = pd.DataFrame(
        np.ones((150, 1)), columns=["a"], index=pd.bdate_range("2020-01-01", periods=150)
    )
    holes.iloc[20, 0] = np.nan
    with pytest.raises(DataError, match="'a'"):
        RollingFHS(volatility="ewma").fit(holes)
    with pytest.raises(SpecificationError):
        RollingFHS(volatility="egarch")
    with pytest.raises(SpecificationError):
        RollingFHS(horizon=0)
    cov = pd.DataFrame([[1.0]], index=["x"], columns=["x"])
    with pytest.raises(SpecificationError, match="'a'"):
        ParametricNormal(covariance=cov).fit(pd.DataFrame(np.zeros((5, 1)), columns=["a"]))


def test_calibrated_risk_weights_reproduce_the_calibration():
    """Isolated VaR of a unit position under the model's draws = the calibrated risk weight."""
    from research.backtest.engine import risk_measure
    from research.backtest.models import CalibratedRiskWeights
    from research.calibration import calibrate_risk_weights

    rng = np.random.default_rng(7)
    values = rng.standard_t(5, size=(600, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0.3], [0, 0, 1.0]])
    frame = pd.DataFrame(
        values, index=pd.bdate_range("2020-01-01", periods=600), columns=["a", "b", "c"]
    )
    fitted = CalibratedRiskWeights(horizon=2, n_scenarios=200_000).fit(frame, seed=1)
    weights = calibrate_risk_weights(frame, level=0.99, mpor=2, lookback=600).risk_weights
    gains = np.expm1(fitted.base.T / 100.0)  # P&L per unit of notional of a long
    # 200,000 normal draws: the 99% quantile is within ~1% of its true value, on both sides
    np.testing.assert_allclose(risk_measure(-gains, 0.99), weights.to_numpy(), rtol=0.02)
    np.testing.assert_allclose(risk_measure(gains, 0.99), weights.to_numpy(), rtol=0.02)
    np.testing.assert_allclose(np.corrcoef(fitted.base, rowvar=False), frame.corr(), atol=0.01)


def test_calibrated_risk_weights_floor_prices_at_zero():
    """Draws of the simple return at or below -100% become total losses, and are counted."""
    from research.backtest.models import PRICE_FLOOR, CalibratedRiskWeights

    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        rng.normal(0.0, 40.0, size=(300, 2)),  # 40% daily: 2-day risk weights near 100%
        index=pd.bdate_range("2020-01-01", periods=300),
        columns=["a", "b"],
    )
    fitted = CalibratedRiskWeights(horizon=2, n_scenarios=20_000).fit(frame, seed=2)
    returns = np.expm1(fitted.base / 100.0)
    floored = int((returns <= PRICE_FLOOR - 1.0 + 1e-15).sum())
    assert floored > 0 and np.isfinite(fitted.base).all()
    assert returns.min() >= -1.0
    assert any(f"{floored} of {returns.size} normal draws" in w for w in fitted.warnings)


def test_calibrated_risk_weights_match_the_correlation_engine():
    """Linear books: cross VaR under the model's normal draws = SIMM-style aggregation
    sqrt(WS' rho WS) of research.margin.CorrelationEngine with the same weights and correlation.
    """
    from research.backtest.engine import risk_measure
    from research.backtest.models import CalibratedRiskWeights
    from research.calibration import calibrate_risk_weights
    from research.margin import CorrelationEngine
    from research.portfolio import Market, PortfolioBook, Spot

    rng = np.random.default_rng(11)
    values = rng.standard_normal((500, 3)) @ np.array([[1.5, 0.6, 0.2], [0, 1, 0.4], [0, 0, 0.8]])
    frame = pd.DataFrame(
        values, index=pd.bdate_range("2021-01-01", periods=500), columns=["a", "b", "c"]
    )
    fitted = CalibratedRiskWeights(horizon=2, n_scenarios=400_000).fit(frame, seed=3)
    weights = calibrate_risk_weights(frame, level=0.99, mpor=2, lookback=500).risk_weights
    notionals = np.array([[1e6, -6e5, 0.0], [5e5, 5e5, -3e5], [-1e6, 0.0, 8e5]])
    # the model's cross VaR of the linear P&L (the engine's expm1 of the log moves)
    ours = risk_measure(-(notionals @ np.expm1(fitted.base.T / 100.0)), 0.99)
    book = PortfolioBook(
        tuple(Spot(u) for u in frame.columns),
        pd.DataFrame(notionals, columns=[f"{u} spot" for u in frame.columns]),
    )
    engine = CorrelationEngine(risk_weights=weights, correlation=frame.corr())
    market = Market(spot={u: 1.0 for u in frame.columns})
    closed_form = engine.margin_book(book, market).cross.to_numpy()
    # 400,000 draws: the Monte Carlo 99% quantile is within ~0.5% of the normal one
    np.testing.assert_allclose(ours, closed_form, rtol=0.02)
