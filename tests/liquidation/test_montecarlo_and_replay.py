"""Monte Carlo reproducibility, the stress-path model, and the 2025-10-10 replay on real bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.liquidation import (
    AssetMarket,
    CascadeSimulator,
    LinearImpact,
    binance_like,
    cascade_distribution,
    compare_with_facts,
    october_10_accounts,
    paths_from_simulation,
    replay_markets,
    replay_path,
    replay_window,
    stress_paths,
    synthetic_accounts,
)

PRICES = pd.Series({"BTC": 100_000.0, "ETH": 3_500.0})


def setup(n_paths=3):
    accounts = synthetic_accounts(PRICES, {"BTC": 2e8, "ETH": 1e8}, n_accounts=150, seed=2)
    markets = {a: AssetMarket(p, LinearImpact.from_depth(2e7, p)) for a, p in PRICES.items()}
    paths = stress_paths(
        {"BTC": 0.015, "ETH": 0.02}, n_paths=n_paths, steps=12, drift=-0.004, seed=11
    )
    return CascadeSimulator(binance_like(insurance_fund=1e6), markets), accounts, paths


def test_stress_paths_have_the_stated_moments():
    paths = stress_paths({"A": 0.01, "B": 0.03}, n_paths=400, steps=100, correlation=0.9, seed=0)
    r = np.concatenate([p.log_returns.to_numpy() for p in paths])
    # 40,000 draws: standard errors of the sd ~0.4% (t4 has heavy tails: allow 4%),
    # of the correlation ~0.002 (allow 0.02)
    np.testing.assert_allclose(r.std(axis=0), [0.01, 0.03], rtol=0.04)
    assert np.corrcoef(r.T)[0, 1] == pytest.approx(0.9, abs=0.02)
    again = stress_paths({"A": 0.01, "B": 0.03}, n_paths=400, steps=100, correlation=0.9, seed=0)
    assert all(a.log_returns.equals(b.log_returns) for a, b in zip(paths, again, strict=True))


def test_monte_carlo_is_bit_identical_for_a_seed_across_backends():
    sim, accounts, paths = setup()
    serial = cascade_distribution(sim, accounts, paths)
    again = cascade_distribution(sim, accounts, setup()[2])
    processes = cascade_distribution(sim, accounts, paths, backend="processes", max_workers=2)
    pd.testing.assert_frame_equal(serial, again, check_exact=True)
    pd.testing.assert_frame_equal(serial, processes, check_exact=True)
    assert (serial["accounts_liquidated"] > 0).all()


def test_paths_from_a_dcc_simulation_in_percent():
    from research.correlation import DCC

    rng = np.random.default_rng(5)
    returns = pd.DataFrame(
        rng.standard_normal((400, 2)) @ np.array([[1.0, 0.0], [0.6, 0.8]]),
        columns=["BTC", "ETH"],
        index=pd.date_range("2025-01-01", periods=400, freq="h", tz="UTC"),
    )
    simulation = DCC().fit(returns).simulate(horizon=6, paths=4, method="fhs", seed=3)
    paths = paths_from_simulation(simulation)
    assert len(paths) == 4 and paths[0].assets == ("BTC", "ETH")
    np.testing.assert_allclose(paths[2].log_returns.to_numpy(), simulation.returns[2] / 100)
    sim, accounts, _ = setup()
    frame = cascade_distribution(sim, accounts, paths)
    assert len(frame) == 4


@pytest.fixture(scope="module")
def october(shared_data_dir):
    path = shared_data_dir / "crypto_perp_hourly_binance.csv"
    close, low, high = replay_window(path, "2025-10-10 00:00", "2025-10-11 12:00")
    accounts = october_10_accounts(close.iloc[0], n_accounts=1000, seed=0)
    sim = CascadeSimulator(binance_like(insurance_fund=1e9), replay_markets(close))
    return close, low, high, sim.run(accounts, replay_path(close, low, high))


@pytest.mark.shared_data
def test_replay_reads_wicks_of_the_crash_bar(october):
    close, low, high, _ = october
    assert low is not None and high is not None
    bar = pd.Timestamp("2025-10-10 21:00", tz="UTC")
    # the README of the data: intra-hour low relative to the open of ADA -96% (log), BTC -12%
    assert low.loc[bar, "ADA"] / close.loc[pd.Timestamp("2025-10-10 20:00", tz="UTC"), "ADA"] < 0.5


@pytest.mark.shared_data
def test_replay_concentrates_on_the_evening_of_october_10_and_on_longs(october):
    facts = compare_with_facts(october[3])
    # the facts (spec §9.1): 70% of the day's liquidations in 20:50-21:30 UTC, 84% longs
    assert facts.loc["share in the 20:00-21:59 bars", "simulated"] > 0.5
    assert facts.loc["long share of liquidations", "simulated"] > 0.8
    assert october[3].conservation_error() < 1e-9


def test_replay_window_reads_closes_only_files_without_wicks(tmp_path):
    stamps = pd.date_range("2025-10-10", periods=6, freq="h", tz="UTC")
    frame = pd.DataFrame(
        {"time_utc": stamps.strftime("%Y-%m-%d %H:%M"), "BTC": 100.0 + np.arange(6)}
    )
    path = tmp_path / "closes.csv"
    frame.to_csv(path, index=False)
    close, low, high = replay_window(path)
    assert low is None and high is None
    assert close["BTC"].tolist() == [100.0, 101.0, 102.0, 103.0, 104.0, 105.0]
