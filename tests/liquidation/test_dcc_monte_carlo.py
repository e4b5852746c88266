"""Monte Carlo on DCC-FHS stressed paths, quantile bands, and bit-identity across backends."""

from __future__ import annotations

from statistics import NormalDist

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from research.correlation import DCC
from research.errors import DataError, ParameterError, SpecificationError
from research.liquidation import (
    AssetMarket,
    CascadeSimulator,
    LinearImpact,
    binance_like,
    cascade_distribution,
    compare_generators,
    dcc_stress_paths,
    path_statistics,
    paths_from_simulation,
    plot_distribution,
    quantile_bands,
    stress_paths,
    synthetic_accounts,
)

ASSETS = ["BTC", "ETH"]
STRESSED = pd.DataFrame([[1.0, 0.8], [0.8, 1.0]], index=ASSETS, columns=ASSETS)


@pytest.fixture(scope="module")
def returns():
    """600 hours of Gaussian returns (percent) with correlation 0.3, sd 1% and 2%."""
    rng = np.random.default_rng(5)
    chol = np.linalg.cholesky(np.array([[1.0, 0.3], [0.3, 1.0]]))
    return pd.DataFrame(
        rng.standard_normal((600, 2)) @ chol.T * [1.0, 2.0],
        columns=ASSETS,
        index=pd.date_range("2025-01-01", periods=600, freq="h", tz="UTC"),
    )


@pytest.fixture(scope="module")
def fitted(returns):
    """A DCC fitted to ``returns``."""
    return DCC().fit(returns)


def _stack(paths, step):
    return np.array([p.log_returns.to_numpy()[step] for p in paths])


def test_fitted_regime_is_the_correlation_stage_simulation_bit_for_bit(fitted):
    paths = dcc_stress_paths(fitted, None, n_paths=5, steps=4, seed=9)
    owner = paths_from_simulation(fitted.simulate(horizon=4, paths=5, method="fhs", seed=9))
    for mine, theirs in zip(paths, owner, strict=True):
        pd.testing.assert_frame_equal(mine.log_returns, theirs.log_returns, check_exact=True)


def test_a_ccc_at_its_own_target_is_the_correlation_stage_simulation_bit_for_bit(returns):
    # a CCC starts at and stays on its target: "stressing" it to that very matrix must give the
    # owner's FHS paths exactly (same residual draws, kernel and GARCH recursion)
    ccc = DCC(kind="ccc").fit(returns)
    target = pd.DataFrame(ccc.qbar, index=ASSETS, columns=ASSETS)
    mine = dcc_stress_paths(ccc, target, n_paths=5, steps=4, seed=9)
    owner = paths_from_simulation(ccc.simulate(horizon=4, paths=5, method="fhs", seed=9))
    for a, b in zip(mine, owner, strict=True):
        pd.testing.assert_frame_equal(a.log_returns, b.log_returns, check_exact=True)


def test_stressed_paths_have_the_stressed_correlation_and_the_fitted_volatility(fitted):
    n = 1200
    stressed = dcc_stress_paths(fitted, STRESSED, n_paths=n, steps=6, seed=1)
    calm = dcc_stress_paths(fitted, None, n_paths=n, steps=1, seed=1)
    sd_next = np.sqrt(fitted.forecast(horizon=1).variance.to_numpy()[0]) / 100.0
    # step 1: R = the stressed target exactly, sigma = sigma_{T+1}; 1,200 draws give a
    # standard error of ~0.01 on a correlation of 0.8 and ~2% on an sd (allow 2.5-3 se)
    first = _stack(stressed, 0)
    assert np.corrcoef(first.T)[0, 1] == pytest.approx(0.8, abs=0.03)
    np.testing.assert_allclose(first.std(axis=0), sd_next, rtol=0.05)
    # the regime persists: the recursion reverts to the stressed matrix, not the fitted 0.3
    assert np.corrcoef(_stack(stressed, 5).T)[0, 1] == pytest.approx(0.8, abs=0.04)
    assert np.corrcoef(_stack(calm, 0).T)[0, 1] == pytest.approx(0.3, abs=0.1)
    again = dcc_stress_paths(fitted, STRESSED, n_paths=3, steps=6, seed=1)
    assert all(a.log_returns.equals(b.log_returns) for a, b in zip(stressed, again, strict=False))


def test_dcc_stress_paths_refuse_bad_input(fitted):
    with pytest.raises(ParameterError, match="no row for \\['ETH'\\]"):
        dcc_stress_paths(fitted, STRESSED.loc[["BTC"], ["BTC"]], n_paths=2, steps=2, seed=0)
    with pytest.raises(DataError):
        dcc_stress_paths(fitted, STRESSED * 2, n_paths=2, steps=2, seed=0)
    with pytest.raises(SpecificationError, match="integers >= 1"):
        dcc_stress_paths(fitted, STRESSED, n_paths=2, steps=0, seed=0)
    with pytest.raises(ParameterError, match="units"):
        dcc_stress_paths(fitted, STRESSED, n_paths=2, steps=2, seed=0, units="bp")


def test_quantile_bands_are_the_binomial_order_statistics():
    # n = 20, p = 0.5, level 0.9: P(B <= 5) = 0.0207 < 0.05 <= P(B <= 6) = 0.0577, so l = 6;
    # P(B <= 13) = 0.9423 < 0.95 <= P(B <= 14) = 0.9793, so u = 15; coverage 0.9793 - 0.0207
    values = pd.DataFrame({"x": np.arange(20.0, 0.0, -1.0)})  # 20, 19, ..., 1
    band = quantile_bands(values, quantiles=[0.5], level=0.9).loc[("x", 0.5)]
    assert (band["lower"], band["upper"], band["estimate"]) == (6.0, 15.0, 10.5)
    assert band["coverage"] == pytest.approx(0.958611, abs=1e-6)
    # 12 draws cannot bound the 99% quantile from above: NaN, not the sample maximum
    tail = quantile_bands(values.iloc[:12], quantiles=[0.99]).loc[("x", 0.99)]
    # (P(B <= 10) = 0.0062 < 0.05 <= P(B <= 11) = 0.1136 for B ~ Bin(12, 0.99): l = 11, so
    # the lower bound is the 11th smallest of 9, 10, ..., 20)
    assert np.isnan(tail["upper"]) and tail["lower"] == 19.0
    with pytest.raises(ParameterError, match="quantiles"):
        quantile_bands(values, quantiles=[1.0])
    with pytest.raises(ParameterError, match="draw"):
        quantile_bands(values.iloc[:0])


def test_quantile_bands_cover_the_true_quantile_at_their_level():
    # 400 samples of 60 unit exponentials: true quantiles ln 2 and ln 10; the coverage of
    # each band is >= 0.9 (binomial standard error of the hit rate ~0.015)
    draws = pd.DataFrame(np.random.default_rng(3).exponential(size=(60, 400)))
    bands = quantile_bands(draws, quantiles=[0.5, 0.9], level=0.9)
    for p, truth in ((0.5, np.log(2.0)), (0.9, np.log(10.0))):
        rows = bands.xs(p, level="quantile")
        hit = (rows["lower"] <= truth) & (truth <= rows["upper"])
        assert hit.mean() >= 0.87
        assert hit.mean() == pytest.approx(rows["coverage"].iloc[0], abs=0.05)


def test_dcc_monte_carlo_is_bit_identical_on_local_and_dask_backends(fitted):
    # local processes against serial: test_montecarlo_and_replay.py (same cascade_distribution)
    distributed = pytest.importorskip("distributed")
    prices = pd.Series({"BTC": 100_000.0, "ETH": 3_500.0})
    accounts = synthetic_accounts(prices, {"BTC": 2e8, "ETH": 1e8}, n_accounts=60, seed=2)
    markets = {a: AssetMarket(p, LinearImpact.from_depth(2e6, p)) for a, p in prices.items()}
    sim = CascadeSimulator(binance_like(insurance_fund=1e5), markets)
    scaled = dcc_stress_paths(fitted, STRESSED, n_paths=3, steps=6, seed=4)
    serial = cascade_distribution(sim, accounts, scaled)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        dask = cascade_distribution(sim, accounts, scaled, backend="dask", cluster=cluster)
    pd.testing.assert_frame_equal(serial, dask, check_exact=True)
    assert serial["accounts_liquidated"].sum() > 0 and serial["bad_debt"].nunique() > 1


def test_path_statistics_recover_the_stated_student_t_model():
    # 300 paths x 50 steps of the stated t4 model: sd 1% and 3%, correlation 0.6, drift -0.1%;
    # the cumulative 50-step return has sd 0.01 sqrt(50) (sum of t4 draws: close to normal)
    paths = stress_paths(
        {"A": 0.01, "B": 0.03}, n_paths=300, steps=50, correlation=0.6, drift=-0.001, seed=4
    )
    table = path_statistics(paths)
    np.testing.assert_allclose(table["sd per step"], [0.01, 0.03], rtol=0.04)
    np.testing.assert_allclose(table["mean correlation"], [0.6, 0.6], atol=0.02)
    np.testing.assert_allclose(table["mean per step"], [-0.001, -0.001], atol=0.0006)
    expected = -0.05 + NormalDist().inv_cdf(0.05) * 0.01 * np.sqrt(50)
    assert table.loc["A", "path return 5%"] == pytest.approx(expected, abs=0.012)
    with pytest.raises(ParameterError, match="at least one path"):
        path_statistics([])
    with pytest.raises(ParameterError, match="different assets"):
        path_statistics([paths[0], stress_paths({"C": 0.01}, n_paths=1, steps=2, seed=0)[0]])


def test_plot_distribution_draws_one_panel_per_generator_with_its_quantiles():
    frames = {
        "a": pd.DataFrame({"bad_debt": np.arange(1, 101) * 1e6}),
        "b": pd.DataFrame({"bad_debt": np.arange(1, 11) * 1e6}),
    }
    fig = plot_distribution(frames, "bad_debt")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["a", "b"]
    lines = [line.get_xdata()[0] for line in axes[0].get_lines()]
    np.testing.assert_allclose(lines, np.quantile(np.arange(1, 101), [0.05, 0.5, 0.95]))
    single = plot_distribution(frames["a"])
    assert len(single.axes) == 1
    plt.close(fig)
    plt.close(single)


def test_compare_generators_tabulates_each_generator_as_its_parts_do():
    prices = pd.Series({"BTC": 100_000.0, "ETH": 3_500.0})
    accounts = synthetic_accounts(prices, {"BTC": 2e8, "ETH": 1e8}, n_accounts=60, seed=2)
    markets = {a: AssetMarket(p, LinearImpact.from_depth(2e6, p)) for a, p in prices.items()}
    sim = CascadeSimulator(binance_like(insurance_fund=1e5), markets)
    vol = {"BTC": 0.015, "ETH": 0.02}
    generators = {
        "calm": stress_paths(vol, n_paths=4, steps=3, seed=1),
        "selloff": stress_paths(vol, n_paths=4, steps=3, drift=-0.01, seed=1),
    }
    out = compare_generators(sim, accounts, generators, quantiles=[0.5])
    for name, paths in generators.items():
        alone = cascade_distribution(sim, accounts, paths)
        pd.testing.assert_frame_equal(out.distributions[name], alone, check_exact=True)
        pd.testing.assert_series_equal(out.means.loc[name], alone.mean(), check_names=False)
        assert out.bands.loc[(name, "bad_debt", 0.5), "estimate"] == alone["bad_debt"].median()
        pd.testing.assert_frame_equal(out.paths.loc[name], path_statistics(paths))
        assert out.share_with_bad_debt()[name] == (alone["bad_debt"] > 0).mean()
    # the same shocks with a -1% hourly drift liquidate more than with none
    assert (
        out.means.loc["selloff", "liquidated_notional"]
        > out.means.loc["calm", "liquidated_notional"]
    )
    with pytest.raises(ParameterError, match="each with paths"):
        compare_generators(sim, accounts, {"none": []})
