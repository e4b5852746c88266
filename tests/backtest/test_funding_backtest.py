"""Perpetual funding in the backtest's realized P&L (issue 16 item 4).

A long perpetual pays ``rate x notional`` every 8 hours (positive rate), a short receives it;
the realized loss over day ``t``'s MPOR includes the funding of bars ``t + 1 .. t + h``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from research.backtest.engine import OffsetBacktest
from research.backtest.results import BacktestResult
from research.data import read_prices
from research.errors import (
    DataError,
    InsufficientDataError,
    SpecificationError,
    UnknownUnderlyingError,
)
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    InversePerpetual,
    LinearPerpetual,
    PortfolioBook,
    Spot,
    accrued_funding,
)
from research.portfolio.funding import funding_label, funding_rates, funding_sources

EXACT = 1e-12
"""Same arithmetic in a different order: agreement to rounding."""

H = 2
"""MPOR of the tests, in daily bars (3 funding intervals each)."""


@dataclass(frozen=True)
class _Fixed:
    location: np.ndarray
    base: np.ndarray
    warnings: tuple[str, ...] = ()

    def scale(self, new_returns: np.ndarray) -> np.ndarray:
        return np.ones((len(new_returns) + 1, self.base.shape[1]))


@dataclass(frozen=True)
class FixedScenarios:
    """A model whose scenarios are the given matrix, whatever the data (fast, exact)."""

    base: np.ndarray
    horizon: int = H
    name: str = "fixed"

    def fit(self, returns, *, seed=None, previous=None):
        return _Fixed(np.zeros(self.base.shape[1]), self.base)


def _returns(n: int = 30, seed: int = 3, tz: str | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2021-01-01", periods=n, freq="D", tz=tz, name="date")
    return pd.DataFrame(rng.normal(0, 2.0, (n, 2)), index=index, columns=["BTC", "ETH"])


def _backtest(**kwargs) -> OffsetBacktest:
    base = np.random.default_rng(7).normal(0, 3.0, (40, 2))
    settings = {"level": 0.9, "refit_every": 4, "lookback": 5} | kwargs
    return OffsetBacktest(FixedScenarios(base), **settings)


def _perp_book() -> PortfolioBook:
    legs = (LinearPerpetual("BTC", contract_size=1.0), InversePerpetual("ETH", contract_value=1.0))
    q = pd.DataFrame(
        [[300.0, 0.0], [0.0, -200.0], [300.0, -200.0]],
        index=["long BTC", "short ETH", "pair"],
        columns=[leg.label for leg in legs],
    )
    return PortfolioBook(legs, q)


def _rates(returns: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.normal(1e-4, 3e-4, returns.shape), index=returns.index, columns=returns.columns
    )


def test_constant_rate_closed_form_long_pays_short_receives():
    returns, book, r = _returns(), _perp_book(), 2e-4
    plain = _backtest().run(returns, book)
    funded = _backtest(funding=r, margin_funding="none").run(returns, book)
    f = r * 3 * H  # three 8-hour intervals per daily bar, H bars
    expected = pd.Series({"long BTC": 300.0 * f, "short ETH": -200.0 * f, "pair": 100.0 * f})
    for name, value in expected.items():
        np.testing.assert_allclose(funded.loss[name] - plain.loss[name], value, rtol=0, atol=EXACT)
        np.testing.assert_allclose(funded.funding[name], value, rtol=0, atol=EXACT)
    np.testing.assert_array_equal(plain.funding.to_numpy(), 0.0)
    # margins ignore funding with margin_funding="none"
    pd.testing.assert_frame_equal(funded.margin_cross, plain.margin_cross)
    pd.testing.assert_frame_equal(funded.margin_isolated, plain.margin_isolated)
    assert plain.settings["funding"] == "none"
    assert funded.settings["funding"] == "BTC: constant 0.0002 per 8h; ETH: constant 0.0002 per 8h"
    assert funded.settings["margin_funding"] == plain.settings["margin_funding"] == "none"
    assert "funding BTC: constant" in str(funded)


def test_trailing_margin_funding_shifts_every_scenario_by_the_known_accrual():
    # a constant rate: the funding known at t equals the funding paid over t .. t + h, and the
    # VaR of FHS scenarios shifted by q f moves by exactly q f
    returns, book, r = _returns(), _perp_book(), -1e-4
    plain = _backtest().run(returns, book)
    funded = _backtest(funding={"BTC": r, "ETH": r}).run(returns, book)
    f = r * 3 * H
    np.testing.assert_allclose(
        funded.margin_cross["long BTC"] - plain.margin_cross["long BTC"], 300 * f, atol=EXACT
    )
    np.testing.assert_allclose(
        funded.margin_cross["short ETH"] - plain.margin_cross["short ETH"], -200 * f, atol=EXACT
    )
    assert funded.settings["margin_funding"] == "trailing"


def test_series_input_equals_a_plain_loop_and_accrued_funding():
    returns, book = _returns(), _perp_book()
    rates = _rates(returns)
    plain = _backtest().run(returns, book)
    funded = _backtest(funding=rates).run(returns, book)
    accrued = accrued_funding(rates, H)
    for day, date in enumerate(funded.dates):
        t = returns.index.get_loc(date)
        paid = 3 * rates.iloc[t + 1 : t + H + 1].sum()  # plain loop over the MPOR's bars
        known = 3 * rates.iloc[t - H + 1 : t + 1].sum()
        assert paid.to_numpy() == pytest.approx(accrued.loc[returns.index[t + H]].to_numpy())
        expected = 300.0 * paid["BTC"] - 200.0 * paid["ETH"]
        assert funded.funding.iloc[day]["pair"] == pytest.approx(expected, abs=EXACT)
        assert funded.loss.iloc[day]["pair"] - plain.loss.iloc[day]["pair"] == pytest.approx(
            expected, abs=EXACT
        )
        shift = funded.margin_cross.iloc[day] - plain.margin_cross.iloc[day]
        assert shift["long BTC"] == pytest.approx(300.0 * known["BTC"], abs=EXACT)
    assert funded.settings["funding"] == "BTC: series BTC; ETH: series ETH"
    # the same rates as a mapping of named series, and block by block: the same bits
    mapping = {"BTC": rates["BTC"].rename("btc_rate"), "ETH": rates["ETH"]}
    again = _backtest(funding=mapping, block_size=1).run(returns, book)
    pd.testing.assert_frame_equal(again.loss, funded.loss, rtol=0, atol=0)
    pd.testing.assert_frame_equal(again.funding, funded.funding, rtol=0, atol=0)
    assert again.settings["funding"].startswith("BTC: series btc_rate;")


def test_other_instruments_pay_no_funding_and_unused_sources_are_ignored():
    returns = _returns()
    legs = (
        Spot("BTC"),
        DatedFuture("BTC", expiry=0.25),
        EuropeanOption("BTC", strike=1.0, expiry=0.1, kind="call"),
        LinearPerpetual("ETH"),
    )
    q = pd.DataFrame(np.diag([100.0, -50.0, 20.0, 80.0]), columns=[leg.label for leg in legs])
    q.index = ["spot", "future", "option", "ETH perp"]
    book = PortfolioBook(legs, q)
    rates = _rates(returns)
    rates.iloc[3, 0] = np.nan  # BTC has no perpetual: its rates are not read
    plain = _backtest().run(returns, book)
    funded = _backtest(funding={"BTC": rates["BTC"], "ETH": 1e-4}).run(returns, book)
    others = ["spot", "future", "option"]
    pd.testing.assert_frame_equal(funded.loss[others], plain.loss[others], rtol=0, atol=0)
    pd.testing.assert_frame_equal(funded.margin_cross[others], plain.margin_cross[others])
    np.testing.assert_array_equal(funded.funding[others].to_numpy(), 0.0)
    np.testing.assert_allclose(funded.funding["ETH perp"], 80.0 * 3e-4 * H, atol=EXACT)
    assert funded.settings["funding"] == "ETH: constant 0.0001 per 8h"
    # a perpetual without a source pays none, stated
    only_btc = _backtest(funding={"BTC": 1e-4}).run(returns, book)
    assert only_btc.settings["funding"] == "none"
    pd.testing.assert_frame_equal(only_btc.loss, plain.loss, rtol=0, atol=0)


def test_bad_funding_inputs_are_named():
    returns, book = _returns(), _perp_book()
    rates = _rates(returns)
    nan = rates.copy()
    nan.loc["2021-01-20", "ETH"] = np.nan
    with pytest.raises(DataError, match="missing rate on 2021-01-20"):
        _backtest(funding=nan).run(returns, book)
    gap = rates.drop(pd.Timestamp("2021-01-12"))
    with pytest.raises(DataError, match=r"'BTC' have no rate for 1 of .*first 2021-01-12"):
        _backtest(funding=gap).run(returns, book)
    # the first margin date is 2021-01-05; the trailing accrual reads from 2021-01-04
    late = rates.loc["2021-01-10":]
    with pytest.raises(DataError, match="no rate for 6 of the 27 bars from 2021-01-04"):
        _backtest(funding=late).run(returns, book)
    hourly = pd.Series(1e-4, index=pd.date_range("2021-01-01", periods=600, freq="h", tz="UTC"))
    with pytest.raises(DataError, match="no rate for 5 of the 27 bars.*first 2021-01-26"):
        _backtest(funding={"BTC": hourly}).run(returns, book)  # 600 hours: to 2021-01-25 23:00
    with pytest.raises(UnknownUnderlyingError, match=r"\['funding_mean'\]"):
        _backtest(funding=rates.rename(columns={"BTC": "funding_mean"})).run(returns, book)
    with pytest.raises(SpecificationError, match="names no underlying"):
        _backtest(funding=rates["BTC"])
    with pytest.raises(SpecificationError, match="finite"):
        _backtest(funding={"BTC": np.nan})
    with pytest.raises(SpecificationError, match="DatetimeIndex"):
        _backtest(funding={"BTC": pd.Series([1e-4, 2e-4])})
    with pytest.raises(SpecificationError, match="margin_funding"):
        _backtest(funding=1e-4, margin_funding="forecast")
    with pytest.raises(SpecificationError, match="got str"):
        _backtest(funding="0.0001")
    # a first margin date with fewer than H bars up to it: no trailing accrual to carry
    with pytest.raises(InsufficientDataError, match="trailing margin funding"):
        _backtest(funding=1e-4, lookback=1).run(returns, book)
    _backtest(funding=1e-4, lookback=1, margin_funding="none").run(returns, book)


def test_naive_funding_stamps_are_utc_on_tz_aware_returns():
    naive, book = _returns(), _perp_book()
    aware = _returns(tz="UTC")
    rates = _rates(naive)
    a = _backtest(funding=rates).run(aware, book)
    b = _backtest(funding=rates).run(naive, book)
    np.testing.assert_array_equal(a.funding.to_numpy(), b.funding.to_numpy())


def test_funding_contribution_splits_the_loss():
    returns, book = _returns(), _perp_book()
    result = _backtest(funding=5e-3, margin_funding="none").run(returns, book)
    plain = _backtest().run(returns, book)
    split = result.funding_contribution()
    f = 5e-3 * 3 * H
    assert split.loc["long BTC", "mean_funding"] == pytest.approx(300 * f)
    assert split.loc["short ETH", "mean_funding"] == pytest.approx(-200 * f)
    losing = result.loss["long BTC"] > 0
    share = 300 * f * losing.sum() / result.loss["long BTC"][losing].sum()
    assert split.loc["long BTC", "funding_share"] == pytest.approx(share)
    caused = (result.exceptions() & ~plain.exceptions()).sum()
    hidden = (plain.exceptions() & ~result.exceptions()).sum()
    assert (split["exceptions_from_funding"] == caused).all()
    assert (split["exceptions_hidden_by_funding"] == hidden).all()
    assert caused["long BTC"] > 0 and hidden["short ETH"] > 0  # the test has power
    assert split.loc["pair", "funding_at_largest_loss"] == pytest.approx(100 * f)
    # selections keep the split; a hand-built result has none
    window = result.window("2021-01-10", "2021-01-15")
    assert window.funding.index.equals(window.dates)
    assert list(result.select("custom").funding.columns) == list(book.quantities.index)
    bare = BacktestResult(**{k: getattr(result, k) for k in _FIELDS})
    with pytest.raises(DataError, match="no funding split"):
        bare.funding_contribution()


def test_a_spot_hedged_perpetual_loses_its_funding_only():
    # long spot, short perpetual: the price legs cancel, the loss is the funding received
    # (negative) or paid, and the split counts no exception without funding
    returns = _returns()
    legs = (Spot("BTC"), LinearPerpetual("BTC"), Spot("ETH"))  # ETH: the model's 2nd asset
    q = pd.DataFrame(
        [[1e6, -1e6, 0.0], [0.0, 0.0, 1.0]],
        index=["hedge", "ETH"],
        columns=[leg.label for leg in legs],
    )
    book = PortfolioBook(legs, q)
    rates = _rates(returns, seed=4)
    result = _backtest(funding=rates, margin_funding="none").run(returns, book)
    accrued = accrued_funding(rates["BTC"], H).shift(-H).reindex(result.dates)
    np.testing.assert_allclose(result.loss["hedge"], -1e6 * accrued, rtol=1e-12)
    np.testing.assert_array_equal((result.loss - result.funding)["hedge"].to_numpy(), 0.0)
    split = result.funding_contribution()
    paying = int((accrued < 0).sum())  # the short pays when the rate is negative; margin 0
    assert paying > 0
    assert split.loc["hedge", "exceptions"] == split.loc["hedge", "exceptions_from_funding"]
    assert split.loc["hedge", "exceptions"] == paying
    assert split.loc["hedge", "exceptions_hidden_by_funding"] == 0


_FIELDS = (
    "margin_isolated",
    "margin_cross",
    "margin_cross_engine",
    "loss",
    "isolated_shortfall",
    "position_breaches",
    "family",
    "n_legs",
    "refit_dates",
    "settings",
)


def test_from_parameters_passes_funding():
    params = SimpleNamespace(level=0.99, mpor=2, lookback=50, offset_cap=0.5)
    bt = OffsetBacktest.from_parameters(params, funding={"BTC": 1e-4}, margin_funding="none")
    assert (bt.funding, bt.margin_funding) == ({"BTC": 1e-4}, "none")
    assert OffsetBacktest.from_parameters(params).funding is None


def test_funding_sources_rates_and_label():
    days = pd.date_range("2021-02-01", periods=4, freq="D")
    series = pd.Series([1e-4, 2e-4, 3e-4, 4e-4], index=days, name="funding_mean")
    assert funding_sources(None) == {}
    assert funding_sources(1e-4) == {"*": 1e-4}
    assert funding_sources(pd.Series({"BTC": 1e-4})) == {"BTC": 1e-4}
    rates = funding_rates({"BTC": series, "ETH": -1e-4}, days[1:3], ["ETH", "BTC", "SOL"])
    assert list(rates.columns) == ["ETH", "BTC"]
    np.testing.assert_array_equal(rates["BTC"], [2e-4, 3e-4])
    np.testing.assert_array_equal(rates["ETH"], [-1e-4, -1e-4])
    assert funding_label({"BTC": series}, ["BTC", "SOL"]) == "BTC: series funding_mean; SOL: none"
    assert funding_label(None, ["BTC"]) == funding_label({"ETH": 1e-4}, ["BTC"]) == "none"
    with pytest.raises(DataError, match="not sorted"):
        funding_rates({"BTC": pd.concat([series, series])}, days, ["BTC"])


def test_daily_rates_spread_over_hourly_bars():
    # a day's rate on each of its 24 hourly bars, 1/8 of an 8-hour rate each: over a whole
    # day the bars accrue exactly the daily accrual (3 prints)
    days = pd.date_range("2025-10-01", periods=5, freq="D", name="date")
    daily = pd.Series([1e-4, -2e-4, 3e-4, 5e-4, 1e-4], index=days, name="funding_mean")
    hours = pd.date_range("2025-10-02", periods=48, freq="h", tz="UTC")
    rates = funding_rates({"BTC": daily}, hours, ["BTC"])["BTC"]
    # differences of cumulative funding: agreement to rounding
    np.testing.assert_allclose(rates.to_numpy(), np.repeat([-2e-4, 3e-4], 24), rtol=1e-12)
    by_day = accrued_funding(rates, "1D").iloc[[0, 24]].to_numpy()
    np.testing.assert_allclose(by_day, accrued_funding(daily, 1).loc["2025-10-02":"2025-10-03"])
    assert funding_label({"BTC": daily}, ["BTC"], hours) == (
        "BTC: series funding_mean (1D rates on 1h bars)"
    )
    assert funding_label({"BTC": daily}, ["BTC"], days) == "BTC: series funding_mean"
    late = pd.date_range("2025-10-04", periods=72, freq="h", tz="UTC")  # past the last day
    with pytest.raises(DataError, match="no rate for 24 of the 72 bars.*first 2025-10-06"):
        funding_rates({"BTC": daily}, late, ["BTC"])
    # an hourly sample without 2025-10-03: the first bar after the gap covers that day too
    gap = hours[:24].append(hours[24:] + pd.Timedelta("1D"))
    after = funding_rates({"BTC": daily}, gap, ["BTC"])["BTC"]
    assert after.iloc[24] == pytest.approx((24 * 3e-4 + 5e-4), rel=1e-12)
    np.testing.assert_allclose(after.iloc[25:], 5e-4, rtol=1e-12)


def test_a_bar_accrues_every_period_it_covers():
    # hourly rates on daily bars sum to the day; a daily sample without 2021-02-03 accrues
    # the funding of that day on 2021-02-04 (its return runs over both days)
    hours = pd.date_range("2021-02-01", periods=24 * 5, freq="h", tz="UTC")
    hourly = pd.Series(np.arange(len(hours)) * 1e-6, index=hours, name="hourly")
    days = pd.date_range("2021-02-02", periods=3, freq="D")
    rates = funding_rates({"BTC": hourly}, days, ["BTC"])["BTC"]
    paid = accrued_funding(rates, 1).to_numpy()  # per daily bar
    daily_sums = accrued_funding(hourly, "1D")
    by_day = [daily_sums.loc[d.tz_localize("UTC") + pd.Timedelta("23h")] for d in days]
    np.testing.assert_allclose(paid, by_day, rtol=1e-12)
    assert (
        funding_label({"BTC": hourly}, ["BTC"], days) == "BTC: series hourly (1h rates on 1D bars)"
    )
    daily = pd.Series([1e-4, 2e-4, 4e-4, 8e-4], index=days.insert(0, pd.Timestamp("2021-02-01")))
    gap = funding_rates({"BTC": daily}, daily.index[[1, 3]], ["BTC"])["BTC"]
    np.testing.assert_allclose(gap, [2e-4, 12e-4], rtol=1e-12)


@pytest.mark.shared_data
def test_btc_funding_file_in_a_backtest(shared_data_dir):
    file = read_prices(shared_data_dir / "btc_perp_funding_daily.csv", warn=False)
    rates = file["funding_mean"].loc["2021-01-01":"2021-03-31"]
    rng = np.random.default_rng(5)
    returns = pd.DataFrame(
        rng.normal(0, 3.0, (len(rates), 2)), index=rates.index, columns=["BTC", "ETH"]
    )
    book = _perp_book()
    result = _backtest(funding={"BTC": file["funding_mean"]}).run(returns, book)
    paid = accrued_funding(file["funding_mean"], H).shift(-H).reindex(result.dates)
    np.testing.assert_allclose(result.funding["long BTC"], 300.0 * paid, rtol=1e-12)
    assert result.settings["funding"] == (
        "BTC: series btc_perp_funding_daily.csv:funding_mean; ETH: none"
    )


def test_hourly_backtest_with_daily_funding_and_naive_dates():
    # hourly UTC returns, daily funding rates (naive dates are UTC days), an 8-hour MPOR and
    # naive start/end dates: the funding of each MPOR is 8 bars at 1/8 of the day's rate
    hours = pd.date_range("2021-01-01", periods=24 * 4, freq="h", tz="UTC", name="date")
    rng = np.random.default_rng(2)
    returns = pd.DataFrame(rng.normal(0, 0.5, (len(hours), 2)), index=hours, columns=["BTC", "ETH"])
    days = pd.date_range("2021-01-01", periods=4, freq="D", name="date")
    daily = pd.Series([1e-4, 4e-4, -2e-4, 3e-4], index=days, name="funding_mean")
    base = np.random.default_rng(7).normal(0, 1.0, (40, 2))
    model = FixedScenarios(base, horizon=8)
    bt = OffsetBacktest(model, level=0.9, refit_every=24, lookback=24, funding={"BTC": daily})
    result = bt.run(returns, _perp_book(), start="2021-01-02", end="2021-01-02")
    assert result.dates[0] == pd.Timestamp("2021-01-02", tz="UTC")
    assert result.dates[-1] == pd.Timestamp("2021-01-02 23:00", tz="UTC")
    rate = daily.reindex(hours.tz_localize(None).normalize()).to_numpy()
    for day, stamp in enumerate(result.dates):
        t = hours.get_loc(stamp)
        paid = rate[t + 1 : t + 9].sum() * 3 / 24  # 8 hourly bars, 3 prints a day
        assert result.funding["long BTC"].iloc[day] == pytest.approx(300.0 * paid, abs=EXACT)
    assert result.settings["funding"] == (
        "BTC: series funding_mean (1D rates on 1h bars); ETH: none"
    )
