"""Test-book builders (seeded, beta-weighted, research.portfolio books) and the positions file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.backtest.portfolios import (
    calendar_spreads,
    hedged_pairs,
    option_hedges,
    random_books,
    read_positions,
    stack_books,
)
from research.errors import DataError, SpecificationError, UnknownUnderlyingError
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    Market,
    PortfolioBook,
    Scenarios,
    Spot,
    unit_exposures,
)

EXACT = 1e-12
"""Closed forms and identities: agreement to rounding."""


def _returns(index: pd.DatetimeIndex) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8, 0.1], [0.8, 2.0, 0.2], [0.1, 0.2, 0.5]])
    values = rng.standard_normal((len(index), 3)) @ np.linalg.cholesky(cov).T
    return pd.DataFrame(values, index=index, columns=["BTC", "ETH", "SOL"])


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    return _returns(pd.bdate_range("2020-01-01", periods=500))


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
    assert isinstance(first, PortfolioBook)
    pd.testing.assert_frame_equal(first.quantities, again.quantities)
    assert first.instruments == again.instruments
    assert (
        not (
            first.quantities.shape == other.quantities.shape
            and np.allclose(first.quantities, other.quantities)
        )
        or first.instruments != other.instruments
    )


def test_hedged_pair_is_beta_weighted(returns):
    book = hedged_pairs(returns, 8, notional=1e6, top=1, seed=1)
    cov = returns.cov()
    # the most correlated pair is BTC/ETH
    for _, row in book.quantities.iterrows():
        held = row[row != 0]
        assert set(held.index) == {"BTC spot", "ETH spot"}
        first = held.index[np.argmax(np.abs(held.to_numpy()) == 1e6)]
        other = next(i for i in held.index if i != first)
        a, b = first.split()[0], other.split()[0]
        beta = cov.loc[a, b] / cov.loc[b, b]
        assert held[other] == pytest.approx(-beta * held[first], rel=EXACT)
    assert all(isinstance(i, Spot) for i in book.instruments)


def test_calendar_spread_net_delta_comes_from_the_markets_carry():
    book = calendar_spreads(["BTC"], 2, tenors=(0.25, 0.5), seed=0)
    kinds = {i.label: i for i in book.instruments}
    assert isinstance(kinds["BTC spot"], Spot)
    assert isinstance(kinds["BTC future T=0.25y"], DatedFuture)
    market = Market(spot={"BTC": 1.0}, carry={"BTC": 0.05})
    delta = unit_exposures(book.instruments, market)["delta"]
    assert delta["BTC future T=0.25y"] == pytest.approx(np.exp(0.05 * 0.25), rel=EXACT)
    assert delta["BTC future T=0.5y"] == pytest.approx(np.exp(0.05 * 0.5), rel=EXACT)


def test_unit_spot_option_is_the_option_on_the_notional_at_a_real_spot():
    """Quantity = notional at a unit spot: the P&L of N/S contracts struck at m S at spot S."""
    book = PortfolioBook(
        (EuropeanOption("BTC", strike=0.9, expiry=0.25, kind="put", implied_vol=0.6),),
        pd.DataFrame({"put": [1e6]}, index=["p"]),
    )
    spot, moves = 60_000.0, np.array([[-0.2], [-0.05], [0.0], [0.1]])
    scenarios = Scenarios.from_array(moves, ["BTC"])
    unit = book.pnl(Market(spot={"BTC": 1.0}), scenarios).to_numpy()[0]
    option = EuropeanOption("BTC", strike=0.9 * spot, expiry=0.25, kind="put", implied_vol=0.6)
    direct = option.pnl(Market(spot={"BTC": spot}), spot * np.exp(moves[:, 0])) * 1e6 / spot
    np.testing.assert_allclose(unit, direct, rtol=1e-10)


@pytest.mark.parametrize(
    ("index", "per_year"),
    [
        (pd.bdate_range("2020-01-01", periods=500), 252.0),
        (pd.date_range("2020-01-01", periods=500, freq="D"), 365.0),
    ],
    ids=["equities", "crypto"],
)
def test_option_hedge_is_delta_neutral_at_the_datas_annualised_volatility(index, per_year):
    """The hedge ratio uses the data's own periods per year (it was 252 even on 24/7 data)."""
    returns = _returns(index)
    book = option_hedges(returns, 5, seed=2)
    vols = returns.std() * np.sqrt(per_year) / 100
    market = Market(spot=dict.fromkeys(returns.columns, 1.0), volatility=vols)
    delta = unit_exposures(book.instruments, market)["delta"].to_numpy()
    np.testing.assert_allclose(book.quantities.to_numpy() @ delta, 0.0, atol=1e-6)


def test_stack_books_names_families(returns):
    book, family = stack_books(
        {
            "hedged pair": hedged_pairs(returns, 2, seed=0),
            "option hedge": option_hedges(returns, 2, seed=0),
        }
    )
    assert book.n_portfolios == 4
    assert list(family.unique()) == ["hedged pair", "option hedge"]
    assert list(family.index) == list(book.quantities.index)
    with pytest.raises(DataError, match="at least one"):
        stack_books({})
    with pytest.raises(DataError, match="unique"):
        stack_books({"a": hedged_pairs(returns, 2, seed=0), "b": hedged_pairs(returns, 2, seed=1)})
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
    book, family = read_positions(path, underlyings=["BTC", "ETH"])
    assert book.quantities.loc["p1", "ETH spot"] == -800000.0
    assert book.quantities.loc["p2", "BTC call K=1.1 T=0.25y"] == 500000.0
    assert book.quantities.loc["p2", "BTC spot"] == -250000.0
    assert family.to_dict() == {"p1": "pair", "p2": "options"}
    plain = tmp_path / "plain.csv"
    plain.write_text("portfolio,underlying,notional\np1,BTC,1\n")
    assert read_positions(plain)[1].to_dict() == {"p1": "custom"}


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
    carry = tmp_path / "carry.csv"
    carry.write_text("portfolio,underlying,notional,instrument,carry\np1,BTC,1,future,0.05\n")
    with pytest.raises(DataError, match="carry"):
        read_positions(carry)
