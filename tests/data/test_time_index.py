"""The one time-index check and the units guard, at every entry point that takes dated data.

Issue 13 item 2: reversed, shuffled or duplicated dates and prices/decimals given as percent
returns ran silently through to_returns, DCC.fit and the backtest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.backtest.engine import OffsetBacktest
from research.backtest.models import RollingFHS
from research.backtest.portfolios import hedged_pairs
from research.calibration import calibrate_risk_weights
from research.correlation import DCC
from research.data import (
    align,
    check_return_units,
    check_time_index,
    load_dataset,
    mpor_returns,
    read_prices,
    to_returns,
)
from research.data.units import PERCENT_MIN_DAILY_STD
from research.errors import DataError, SpecificationError
from research.portfolio import PortfolioBook
from research.volatility import fit_univariate


def _returns(n: int = 300, assets: int = 2, scale: float = 1.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.standard_normal((n, assets)) * scale,
        index=pd.bdate_range("2020-01-01", periods=n, name="date"),
        columns=[f"A{j}" for j in range(assets)],
    )


def _disorder(frame: pd.DataFrame, how: str) -> pd.DataFrame:
    if how == "reversed":
        return frame.iloc[::-1]
    if how == "shuffled":
        order = np.random.default_rng(1).permutation(len(frame))
        return frame.iloc[order]
    return pd.concat([frame.iloc[:10], frame.iloc[9:]])


# ----- check_time_index --------------------------------------------------------------------


def test_reversed_index_names_both_ends():
    frame = _returns()
    with pytest.raises(DataError, match=r"reverse date order \(2021-02-23 first, 2020-01-01 last"):
        check_time_index(frame.iloc[::-1], what="returns")


def test_shuffled_index_names_the_first_offending_stamp_and_row():
    frame = _returns(20)
    swapped = frame.iloc[[0, 1, 2, 4, 3, *range(5, 20)]]
    with pytest.raises(DataError, match=r"2020-01-06 \(row 5\) comes after 2020-01-07"):
        check_time_index(swapped)


def test_duplicate_stamp_is_named():
    frame = _disorder(_returns(20), "duplicated")
    with pytest.raises(DataError, match=r"duplicate stamp 2020-01-14 \(row 11\)"):
        check_time_index(frame)


@pytest.mark.parametrize(
    "index, match",
    [
        (pd.RangeIndex(48), "must be a DatetimeIndex"),
        (pd.date_range("2024-01-01", periods=48, freq="h"), "intraday stamps without a time"),
        (
            pd.date_range("2024-01-01", periods=48, freq="h", tz="Europe/Zurich"),
            "time zone Europe/Zurich",
        ),
    ],
    ids=["range-index", "naive-intraday", "non-utc"],
)
def test_index_policy(index, match):
    frame = pd.DataFrame({"A": np.arange(48.0)}, index=index)
    with pytest.raises(DataError, match=match):
        check_time_index(frame)


def test_policy_compliant_indexes_give_their_frequency():
    hourly = pd.DataFrame(
        {"A": np.arange(48.0)}, index=pd.date_range("2024-01-01", periods=48, freq="h", tz="UTC")
    )
    assert str(check_time_index(hourly)) == "intraday 1h"
    assert str(check_time_index(_returns(30))) == "daily"


# ----- entry points ------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["reversed", "shuffled", "duplicated"])
def test_to_returns_refuses_disordered_prices(how):
    prices = load_dataset("sp500-nasdaq").iloc[:200]
    with pytest.raises(DataError, match="prices: "):
        to_returns(_disorder(prices, how))


@pytest.mark.parametrize("how", ["reversed", "shuffled", "duplicated"])
def test_mpor_returns_refuses_disordered_returns(how):
    with pytest.raises(DataError, match="returns: "):
        mpor_returns(_disorder(_returns(), how), 2, given="returns")


@pytest.mark.parametrize("how", ["reversed", "shuffled", "duplicated"])
def test_dcc_fit_refuses_disordered_returns(how):
    with pytest.raises(DataError, match="returns: "):
        DCC(std_errors=False).fit(_disorder(_returns(), how))


@pytest.mark.parametrize("how", ["reversed", "shuffled", "duplicated"])
def test_risk_weights_refuse_disordered_returns(how):
    with pytest.raises(DataError, match="returns: "):
        calibrate_risk_weights(_disorder(_returns(), how))


def _backtest_inputs() -> tuple[OffsetBacktest, pd.DataFrame, PortfolioBook]:
    returns = _returns(260, 3, seed=2)
    portfolios = hedged_pairs(returns.iloc[:200], 2, seed=0)
    return OffsetBacktest(RollingFHS(horizon=2), refit_every=20, lookback=200), returns, portfolios


@pytest.mark.parametrize("how", ["reversed", "shuffled", "duplicated"])
def test_backtest_refuses_disordered_returns(how):
    backtest, returns, portfolios = _backtest_inputs()
    with pytest.raises(DataError, match="returns: "):
        backtest.run(_disorder(returns, how), portfolios)


# ----- units guard -------------------------------------------------------------------------


def test_decimals_where_percent_expected_are_refused_everywhere():
    decimals = _returns(300, 3, scale=0.01)
    with pytest.raises(DataError, match="look like decimals"):
        check_return_units(decimals)
    with pytest.raises(DataError, match="look like decimals"):
        fit_univariate(decimals)
    with pytest.raises(DataError, match="look like decimals"):
        DCC(std_errors=False).fit(decimals)
    with pytest.raises(DataError, match="look like decimals"):
        calibrate_risk_weights(decimals)
    with pytest.raises(DataError, match="look like decimals"):
        mpor_returns(decimals, 2, given="returns")
    backtest, returns, portfolios = _backtest_inputs()
    with pytest.raises(DataError, match="look like decimals"):
        backtest.run(returns / 100.0, portfolios)


def test_prices_where_returns_expected_are_refused_everywhere():
    prices = load_dataset("sp500-nasdaq").iloc[-300:]
    with pytest.raises(DataError, match="look like prices"):
        fit_univariate(prices)
    with pytest.raises(DataError, match="look like prices"):
        calibrate_risk_weights(prices)
    with pytest.raises(DataError, match="look like prices"):
        mpor_returns(prices, 2, given="returns")


def test_levels_far_from_zero_are_prices_even_with_negative_values():
    spread = _returns(100, 1) + 50.0
    spread.iloc[3, 0] = -1.0
    with pytest.raises(DataError, match="standard deviations from zero"):
        check_return_units(spread)


def test_units_guard_can_be_told():
    decimals = _returns(300, 2, scale=0.01)
    check_return_units(decimals, None)
    check_return_units(decimals, "decimal")
    assert mpor_returns(decimals, 2, given="returns", check_units=False).shape == (299, 2)
    assert calibrate_risk_weights(decimals, units="decimal").risk_weights.gt(0).all()
    with pytest.raises(DataError, match="look like percent"):
        calibrate_risk_weights(_returns(300, 2), units="decimal")
    with pytest.raises(SpecificationError, match="units must be"):
        check_return_units(decimals, "basis points")  # type: ignore[arg-type]


def test_units_guard_leaves_short_or_constant_samples_to_other_checks():
    check_return_units(_returns(19, 2, scale=0.01))
    check_return_units(pd.DataFrame({"A": np.zeros(50)}, index=pd.bdate_range("2020", periods=50)))


@pytest.mark.parametrize("name", ["sp500", "sp500-nasdaq"])
def test_units_guard_accepts_the_bundled_datasets_in_every_100_day_window(name):
    returns = to_returns(load_dataset(name))
    check_return_units(returns)
    daily = returns.rolling(100).std().dropna()
    assert float(daily.max(axis=1).min()) > PERCENT_MIN_DAILY_STD


@pytest.mark.parametrize(
    "file", ["crypto_spot_daily_binance.csv", "crypto_perp_hourly_binance.csv"]
)
def test_units_guard_accepts_the_shared_crypto_files(shared_data_dir, file):
    prices = align(read_prices(shared_data_dir / file, warn=False), warn=False)
    returns = to_returns(prices)
    check_return_units(returns)
    check_return_units(returns.iloc[-100:])
    with pytest.raises(DataError, match="look like decimals"):
        check_return_units(returns / 100.0)
