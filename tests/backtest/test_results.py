"""BacktestResult tables, disclosure and stress replay on a hand-made result."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.figure import Figure

from research.backtest.replay import stress_replay
from research.backtest.results import BacktestResult
from research.errors import DataError, InsufficientDataError
from research.stress.windows import StressWindow


@pytest.fixture
def result() -> BacktestResult:
    """Two portfolios x five days; every exception and breach placed by hand.

    Portfolio "a" (2 legs): day 1 loss 12 > cross 10 but <= isolated 15 (offset-caused, no leg
    breach: offsets failed); day 3 loss 20 > isolated 15 and cross 10 (one leg breached).
    Portfolio "b" (1 leg): day 4 loss 9 > cross = isolated 8 (its only leg breached).
    """
    dates = pd.bdate_range("2020-03-02", periods=5)
    cols = ["a", "b"]
    iso = pd.DataFrame([[15.0, 8.0]] * 5, index=dates, columns=cols)
    cross = pd.DataFrame([[10.0, 8.0]] * 5, index=dates, columns=cols)
    loss = pd.DataFrame(
        [[1, 0], [12, 1], [2, 2], [20, 3], [0, 9]], index=dates, columns=cols, dtype=float
    )
    breaches = pd.DataFrame([[0, 0], [0, 0], [0, 0], [1, 0], [0, 1]], index=dates, columns=cols)
    shortfall = pd.DataFrame(
        [[0, 0], [0, 0], [0, 0], [6.0, 0], [0, 1.0]], index=dates, columns=cols
    )
    return BacktestResult(
        margin_isolated=iso,
        margin_cross=cross,
        margin_cross_engine=cross,
        loss=loss,
        isolated_shortfall=shortfall,
        position_breaches=breaches,
        family=pd.Series({"a": "pair", "b": "outright"}),
        n_legs=pd.Series({"a": 2, "b": 1}),
        refit_dates=dates[:1],
        settings={"level": 0.99, "horizon": 1, "model": "hand", "measure": "var"},
    )


def test_offset_caused_exceptions(result):
    caused = result.offset_caused()
    assert int(caused.to_numpy().sum()) == 1
    assert caused.iloc[1]["a"]
    assert result.exceptions("cross")["a"].sum() == 2
    assert result.exceptions("isolated")["a"].sum() == 1
    assert result.exceptions("cross")["b"].sum() == result.exceptions("isolated")["b"].sum() == 1


def test_summary_has_target_column(result):
    s = result.summary()
    assert list(s.columns) == ["isolated", "cross", "target"]
    assert s.loc["exceptions", "cross"] == 3 and s.loc["exceptions", "isolated"] == 2
    assert s.loc["coverage", "cross"] == pytest.approx(1 - 3 / 10)
    assert s.loc["coverage", "target"] == 0.99
    assert s.loc["largest_exceedance", "cross"] == 10.0
    assert s.loc["average_exceedance", "cross"] == pytest.approx((2 + 10 + 1) / 3)
    assert s.loc["offset_caused_exceptions", "cross"] == 1
    assert s.loc["mean_margin_saved", "cross"] == pytest.approx(2.5)


def test_disclosure(result):
    d = result.disclosure()
    assert d.loc["cross", "breaches"] == 3 and d.loc["isolated", "breaches"] == 2
    assert d.loc["isolated", "largest_breach"] == 5.0
    assert d.loc["isolated", "average_breach"] == pytest.approx((5 + 1) / 2)
    assert d.loc["cross", "largest_breach_pct_margin"] == pytest.approx(100.0)
    by_family = result.disclosure("family")
    assert by_family.loc[("outright", "cross"), "breaches"] == 1


def test_per_portfolio_and_coverage(result):
    per = result.per_portfolio()
    assert per.loc["a", ("offset", "offset_caused_exceptions")] == 1
    assert per.loc["b", ("cross", "exceptions")] == 1
    cov = result.coverage()
    assert cov.loc["pair", ("cross", "exceptions")] == 2
    assert cov.loc["pair", ("cross", "observations")] == 5
    # 2 exceptions in 5 days at 99% are far too many
    assert cov.loc["pair", ("cross", "traffic_light")] == "red"


def test_window_select_and_replay(result):
    sub = result.window("2020-03-03", "2020-03-05")
    assert len(sub.dates) == 3 and int(sub.offset_caused().to_numpy().sum()) == 1
    with pytest.raises(InsufficientDataError):
        result.window("2021-01-01", "2021-02-01")
    assert result.select("outright").loss.columns.tolist() == ["b"]
    with pytest.raises(DataError, match="families"):
        result.select("nope")
    windows = [
        StressWindow("early", "2020-03-02", "2020-03-03"),
        StressWindow("late", "2020-03-05", "2020-03-06"),
        StressWindow("outside", "2019-01-01", "2019-02-01"),
    ]
    replay = stress_replay(result, windows)
    assert replay.loc[("early", "cross"), "exceptions"] == 1
    assert replay.loc[("early", "cross"), "offset_caused_exceptions"] == 1
    assert replay.loc[("late", "isolated"), "exceptions"] == 2
    assert replay.attrs["skipped"] == ["outside"]
    none = stress_replay(result, windows[2:])  # no window in the data: empty, same columns
    assert none.empty and none.index.names == ["window", "account"]
    assert list(none.columns) == list(replay.columns)
    assert none.attrs["skipped"] == ["outside"]


def test_plots_and_text(result):
    assert isinstance(result.plot_exceptions(freq="D"), Figure)
    assert isinstance(result.plot_margins("a"), Figure)
    both = result.plot_margins(["a", "b"], names={"a": "hedged A"}, unit="USD per 1m notional")
    axes = both.get_axes()
    assert [ax.get_title() for ax in axes] == ["hedged A", "b"]
    assert {ax.get_ylabel() for ax in axes} == {"USD per 1m notional"}
    marked = axes[0].collections[0].get_offsets()
    assert len(marked) == int(result.exceptions("cross")["a"].sum())
    with pytest.raises(DataError, match="unknown portfolio"):
        result.plot_margins("zzz")
    with pytest.raises(DataError, match="at least one"):
        result.plot_margins([])
    assert "Offset backtest" in str(result) and "BacktestResult" in repr(result)
    assert set(result.exceptions_over_time().columns) == {"isolated", "cross", "offset_caused"}


def test_family_conclusions(result):
    from research.backtest.conclusions import family_conclusions

    text = family_conclusions(result)
    assert list(text.index) == ["pair", "outright"]
    assert "exceeded twice" in text["pair"] and "1 exception was offset-caused" in text["pair"]
    # 2 exceptions in 5 days at 99%: Kupiec rejects, too many exceptions
    assert "Cross margin is under-margined" in text["pair"]
    # mean loss beyond the margin: (2 + 10) / 5 cross, 6 / 5 for the holdings alone
    assert "was 2 per portfolio-day for cross margin against 1 for the holdings" in text["pair"]


def test_compare(result):
    from research.backtest.results import compare

    table = compare({"one": result, "two": result.window("2020-03-02", "2020-03-04")})
    assert table.loc["exceptions", ("one", "cross")] == 3
    assert table.loc["exceptions", ("two", "cross")] == 1
    assert table.loc["coverage", ("target", "")] == 0.99
    with pytest.raises(DataError):
        compare({})


def test_coverage_long_layout(result):
    long = result.coverage(wide=False)
    wide = result.coverage()
    assert long.loc[("cross", "pair"), "exceptions"] == wide.loc["pair", ("cross", "exceptions")]
    assert list(long.index.names) == ["account", "family"]


def _daily_result(dates: pd.DatetimeIndex) -> BacktestResult:
    frame = pd.DataFrame({"a": 1.0}, index=dates)
    return BacktestResult(
        margin_isolated=frame * 2,
        margin_cross=frame * 2,
        margin_cross_engine=frame * 2,
        loss=frame,
        isolated_shortfall=frame * 0,
        position_breaches=frame * 0,
        family=pd.Series({"a": "outright"}),
        n_legs=pd.Series({"a": 1}),
        refit_dates=dates[:1],
        settings={"level": 0.99, "horizon": 1, "model": "hand", "measure": "var"},
    )


def test_default_replay_uses_the_windows_of_the_data_asset_class():
    # Issue 16: a crypto backtest over June 2022 was replayed through the equity window
    # rates_2022 (2022-01-03 .. 2022-10-12), which also overlaps it.
    crypto = _daily_result(pd.date_range("2022-06-01", "2022-06-30", freq="D"))
    assert list(stress_replay(crypto).index.unique("window")) == ["crypto_3ac_celsius"]
    equities = _daily_result(pd.bdate_range("2022-06-01", "2022-06-30"))
    assert list(stress_replay(equities).index.unique("window")) == ["rates_2022"]
