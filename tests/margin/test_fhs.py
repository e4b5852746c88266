"""VaR/ES against the normal closed form, the partition kernel against a sort, FHS scenarios."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from research.errors import DataQualityWarning, InsufficientDataError, ParameterError
from research.margin import (
    FilteredHistoricalSimulation,
    fhs_scenarios,
    tail_count,
    var_es,
)
from research.portfolio import Market, Portfolio, Position, Scenarios, Spot

Z_99 = 2.326348  # standard normal 99% quantile (issue 5)
ES_99 = 2.665214  # standard normal 99% expected shortfall, phi(z) / 0.01
REFERENCE_DIGITS = 5e-7  # the reference values are given to 6 decimals
SIGMA = 1_000.0


def test_reference_values_are_the_normal_closed_form():
    assert norm.ppf(0.99) == pytest.approx(Z_99, abs=REFERENCE_DIGITS)
    assert norm.pdf(norm.ppf(0.99)) / 0.01 == pytest.approx(ES_99, abs=REFERENCE_DIGITS)


def _spot_engine(pnl, measure):
    # relative moves of pnl / 100 on one unit of an asset priced 100: the P&L is ``pnl``;
    # SIGMA units scale it to a normal with standard deviation SIGMA
    market = Market(spot={"X": 100.0})
    scenarios = Scenarios(pd.DataFrame({"X": pnl / 100.0}), kind="relative")
    engine = FilteredHistoricalSimulation(scenarios, level=0.99, measure=measure)
    return engine.margin(Portfolio([Position(Spot("X"), SIGMA)]), market).cross / SIGMA


def test_var_es_exact_quantile_construction():
    # P&L at the mid-point quantiles of N(0, 1): the empirical VaR sits at level + 0.5/n, an
    # error of about 0.5 / (n phi(z)) = 1e-4 for n = 200k; ES has the same order
    n = 200_000
    pnl = norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    discretisation = 2e-4
    assert _spot_engine(pnl, "var") == pytest.approx(Z_99, abs=discretisation)
    assert _spot_engine(pnl, "es") == pytest.approx(ES_99, abs=discretisation)


def test_var_es_monte_carlo():
    # seeded N(0, 1) sample of n = 200k; standard error of the 99% quantile is
    # sqrt(0.99 * 0.01 / n) / phi(z) = 0.0084 and of ES about 0.012; tolerance 4 se
    n = 200_000
    pnl = np.random.default_rng(20261125).standard_normal(n)
    se_var = np.sqrt(0.99 * 0.01 / n) / norm.pdf(Z_99)
    se_es = 1.5 * se_var  # ES estimator sd / VaR sd at 99% for a normal is about 1.4
    assert _spot_engine(pnl, "var") == pytest.approx(Z_99, abs=4 * se_var)
    assert _spot_engine(pnl, "es") == pytest.approx(ES_99, abs=4 * se_es)


def test_partition_kernel_matches_sort():
    losses = np.random.default_rng(3).standard_normal((40, 1_000))
    var, es, scenario = var_es(losses, 0.99)
    ordered = np.sort(losses, axis=1)[:, ::-1]
    assert tail_count(1_000, 0.99) == 10
    assert np.array_equal(var, ordered[:, 9])
    assert np.allclose(es, ordered[:, :10].mean(axis=1), rtol=1e-14)
    assert np.array_equal(losses[np.arange(40), scenario], var)


def test_tail_count_rounding_and_bounds():
    assert tail_count(1_000, 0.975) == 25
    assert tail_count(50, 0.99) == 1
    with pytest.raises(ParameterError, match="level"):
        tail_count(100, 1.0)


def test_driver_is_the_var_scenario():
    market = Market(spot={"X": 1.0})
    moves = np.linspace(-0.1, 0.1, 100)
    scenarios = Scenarios(
        pd.DataFrame({"X": moves}, index=[f"d{i}" for i in range(100)]), kind="relative"
    )
    result = FilteredHistoricalSimulation(scenarios, level=0.99, measure="var").margin(
        Portfolio([Position(Spot("X"), 1.0)]), market
    )
    assert result.driver == "d0"
    assert result.cross == pytest.approx(0.1)


def test_gains_only_floor_at_zero():
    market = Market(spot={"X": 1.0})
    scenarios = Scenarios(pd.DataFrame({"X": [0.01, 0.02, 0.03]}), kind="relative")
    result = FilteredHistoricalSimulation(scenarios, level=0.5).margin(
        Portfolio([Position(Spot("X"), 1.0)]), market
    )
    assert result.cross == 0.0


@pytest.fixture
def regime_returns():
    # daily percent log returns: 500 days at 1% vol then 250 days at 3% vol
    rng = np.random.default_rng(5)
    r = np.concatenate([rng.normal(0, 1.0, (500, 2)), rng.normal(0, 3.0, (250, 2))])
    return pd.DataFrame(r, columns=["A", "B"], index=pd.bdate_range("2020-01-01", periods=750))


def test_fhs_with_given_constant_volatility_is_plain_sums(regime_returns):
    sigma = pd.DataFrame(2.0, index=regime_returns.index, columns=regime_returns.columns)
    scen = fhs_scenarios(regime_returns, mpor=5, volatility=sigma)
    expected = regime_returns.rolling(5).sum().dropna() / 100
    assert scen.n_scenarios == 746
    assert np.allclose(scen.moves.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-15)
    assert scen.moves.index[0] == regime_returns.index[4]


def test_fhs_rescales_to_current_volatility(regime_returns):
    # the 500 calm days are scaled up to today's ~3% vol, so 1-day scenarios have std ~3%
    scen = fhs_scenarios(regime_returns, mpor=1, current=pd.Series({"A": 3.0, "B": 3.0}))
    std = scen.moves.std()
    # sampling error of a std from 750 draws ~ 3% / sqrt(1500) ~ 0.08%; EWMA filter error
    # adds a few percent relative, so 10% relative is a loose but failing-on-bug bound
    assert np.allclose(std, 0.03, rtol=0.10)
    raw = regime_returns.iloc[:500].std() / 100
    assert (std > 2.5 * raw).all()


def test_fhs_missing_rows_are_counted(regime_returns):
    gappy = regime_returns.copy()
    gappy.iloc[[3, 10, 11], 0] = np.nan
    with pytest.warns(DataQualityWarning, match="dropped 3 of 750"):
        scen = fhs_scenarios(gappy, mpor=2)
    assert scen.warnings and "A: 3" in scen.warnings[0]
    engine = FilteredHistoricalSimulation(scen)
    result = engine.margin(Portfolio([Position(Spot("A"), 1.0)]), Market(spot={"A": 1.0, "B": 1.0}))
    assert result.warnings == scen.warnings


def test_fhs_input_checks(regime_returns):
    with pytest.raises(ParameterError, match="mpor"):
        fhs_scenarios(regime_returns, mpor=0)
    with pytest.raises(InsufficientDataError):
        fhs_scenarios(regime_returns.iloc[:3], mpor=5)


def test_simulated_scenarios_from_array():
    # e.g. h-day DCC simulations handed over as an array
    sims = np.random.default_rng(1).normal(0, 0.02, (1_000, 2))
    scen = Scenarios.from_array(sims, ["A", "B"], description="DCC simulation")
    engine = FilteredHistoricalSimulation(scen, level=0.99, measure="var")
    p = Portfolio([Position(Spot("A"), 1.0, "short")])
    result = engine.margin(p, Market(spot={"A": 100.0, "B": 1.0}))
    expected = np.sort(100.0 * (np.exp(sims[:, 0]) - 1.0))[-10]
    assert result.cross == pytest.approx(expected, rel=1e-12)
    assert result.settings["scenarios"] == "DCC simulation"


def test_ewma_matches_a_naive_loop(regime_returns):
    from research.margin import ewma_volatility

    sigma, current = ewma_volatility(regime_returns, decay=0.9)
    r = regime_returns["B"].to_list()
    var = sum(x * x for x in r[:30]) / 30
    expected = []
    for x in r:
        expected.append(var**0.5)
        var = 0.9 * var + 0.1 * x * x
    assert np.allclose(sigma["B"], expected, rtol=1e-12)
    assert current["B"] == pytest.approx(var**0.5, rel=1e-12)
    with pytest.raises(ParameterError, match="decay"):
        ewma_volatility(regime_returns, decay=1.0)


def test_driver_is_a_date_for_historical_scenarios(regime_returns):
    scen = fhs_scenarios(regime_returns, mpor=1)
    result = FilteredHistoricalSimulation(scen, measure="var").margin(
        Portfolio([Position(Spot("A"), 1.0)]), Market(spot={"A": 1.0, "B": 1.0})
    )
    worst = (-(np.exp(scen.moves["A"]) - 1.0)).sort_values(ascending=False).index[7]
    assert result.driver == str(worst.date())
