"""Test-portfolio generators (seeded, beta-weighted) and the positions-file loader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.backtest.portfolios import (
    LinearLeg,
    OptionLeg,
    PortfolioSet,
    calendar_spreads,
    hedged_pairs,
    option_hedges,
    random_books,
    read_positions,
)
from research.errors import DataError, SpecificationError, UnknownUnderlyingError
from research.portfolio import EuropeanOption, Market

EXACT = 1e-12
"""Closed forms and identities: agreement to rounding."""


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8, 0.1], [0.8, 2.0, 0.2], [0.1, 0.2, 0.5]])
    values = rng.standard_normal((500, 3)) @ np.linalg.cholesky(cov).T
    return pd.DataFrame(
        values, index=pd.bdate_range("2020-01-01", periods=500), columns=["BTC", "ETH", "SOL"]
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda r, s: hedged_pairs(r, 6, seed=s),
        lambda r, s: calendar_spreads(list(r.columns), 6, seed=s),
        lambda r, s: option_hedges(r, 6, seed=s),
        lambda r, s: random_books(list(r.columns), 6, seed=s),
    ],
    ids=["pairs", "calendar", "options", "random"],
)
def test_generators_reproducible_from_seed(returns, make):
    first, again, other = make(returns, 3), make(returns, 3), make(returns, 4)
    pd.testing.assert_frame_equal(first.notionals, again.notionals)
    assert first.legs == again.legs
    assert (
        not (
            first.notionals.shape == other.notionals.shape
            and np.allclose(first.notionals, other.notionals)
        )
        or first.legs != other.legs
    )


def test_hedged_pair_is_beta_weighted(returns):
    ps = hedged_pairs(returns, 8, notional=1e6, top=1, seed=1)
    cov = returns.cov()
    # the most correlated pair is BTC/ETH
    for _, row in ps.notionals.iterrows():
        held = row[row != 0]
        assert set(held.index) == {"BTC spot", "ETH spot"}
        first = held.index[np.argmax(np.abs(held.to_numpy()) == 1e6)]
        other = next(i for i in held.index if i != first)
        a, b = first.split()[0], other.split()[0]
        beta = cov.loc[a, b] / cov.loc[b, b]
        assert held[other] == pytest.approx(-beta * held[first], rel=EXACT)
    assert set(ps.family) == {"hedged pair"}


def test_calendar_spread_net_sensitivity():
    ps = calendar_spreads(["BTC"], 2, carry=0.05, tenors=(0.25, 0.5), seed=0)
    legs = {leg.label: leg for leg in ps.legs}
    assert legs["BTC spot"].sensitivity == 1.0
    assert legs["BTC fut 0.25y"].sensitivity == pytest.approx(np.exp(0.05 * 0.25), rel=EXACT)
    assert legs["BTC fut 0.5y"].sensitivity == pytest.approx(np.exp(0.05 * 0.5), rel=EXACT)


def test_option_leg_is_homogeneous_in_spot():
    """P&L per unit notional at unit spot = P&L of N/S contracts at the real spot."""
    leg = OptionLeg("BTC", kind="put", moneyness=0.9, tenor=0.25)
    spot, notional, vol = 60_000.0, 1e6, 0.6
    moves = np.array([-0.2, -0.05, 0.0, 0.1])
    option = EuropeanOption("BTC", strike=0.9 * spot, expiry=0.25, kind="put", implied_vol=vol)
    direct = option.pnl(Market(spot={"BTC": spot}), spot * np.exp(moves)) * notional / spot
    np.testing.assert_allclose(leg.pnl_per_notional(moves, vol) * notional, direct, rtol=1e-10)


def test_option_hedge_is_delta_neutral_at_inception(returns):
    ps = option_hedges(returns, 5, seed=2)
    vols = returns.std() * np.sqrt(252) / 100
    for _, row in ps.notionals.iterrows():
        held = row[row != 0]
        option = next(
            leg for leg in ps.legs if leg.label in held.index and isinstance(leg, OptionLeg)
        )
        hedge = next(label for label in held.index if label != option.label)
        net = held[option.label] * option.delta(vols[option.underlying]) + held[hedge]
        assert net == pytest.approx(0.0, abs=1e-6)


def test_concat_and_validation(returns):
    both = PortfolioSet.concat(
        [hedged_pairs(returns, 2, seed=0), random_books(list(returns.columns), 2, seed=0)]
    )
    assert both.n_portfolios == 4 and list(both.family.unique()) == ["hedged pair", "random book"]
    legs = (LinearLeg("BTC"),)
    with pytest.raises(DataError, match="non-finite"):
        PortfolioSet(legs, pd.DataFrame({"BTC spot": [np.nan]}, index=["p"]))
    with pytest.raises(DataError, match="no position"):
        PortfolioSet(legs, pd.DataFrame({"BTC spot": [0.0]}, index=["p"]))
    with pytest.raises(UnknownUnderlyingError, match="DOGE"):
        PortfolioSet((LinearLeg("DOGE"),), pd.DataFrame({"DOGE spot": [1.0]})).check_underlyings(
            returns.columns
        )
    with pytest.raises(SpecificationError):
        OptionLeg("BTC", kind="straddle")
    with pytest.raises(SpecificationError):
        random_books(["BTC"], 0)


def test_read_positions(tmp_path):
    path = tmp_path / "positions.csv"
    path.write_text(
        "portfolio,underlying,notional,family,instrument,tenor,moneyness\n"
        "p1,BTC,1000000,pair,spot,,\n"
        "p1,ETH,-800000,pair,spot,,\n"
        "p2,BTC,500000,options,call,0.25,1.1\n"
        "p2,BTC,-250000,options,spot,,\n"
    )
    ps = read_positions(path, underlyings=["BTC", "ETH"])
    assert ps.notionals.loc["p1", "ETH spot"] == -800000.0
    assert ps.notionals.loc["p2", "BTC call m=1.1 0.25y"] == 500000.0
    assert ps.notionals.loc["p2", "BTC spot"] == -250000.0
    assert ps.family.to_dict() == {"p1": "pair", "p2": "options"}


def test_read_positions_errors(tmp_path):
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("portfolio,underlying,notional\np1,BTC,1\np1,DOGE,2\n")
    with pytest.raises(UnknownUnderlyingError, match=r"DOGE.*line 3"):
        read_positions(unknown, underlyings=["BTC"])
    missing = tmp_path / "nan.csv"
    missing.write_text("portfolio,underlying,notional\np1,BTC,1\np2,BTC,\np3,BTC,abc\n")
    with pytest.raises(DataError, match=r"2 missing or non-numeric.*line 3.*p2.*line 4"):
        read_positions(missing)
    columns = tmp_path / "columns.csv"
    columns.write_text("portfolio,asset,notional\np1,BTC,1\n")
    with pytest.raises(DataError, match="underlying"):
        read_positions(columns)
    kind = tmp_path / "kind.csv"
    kind.write_text("portfolio,underlying,notional,instrument\np1,BTC,1,swaption\n")
    with pytest.raises(DataError, match="swaption"):
        read_positions(kind)
