"""to_returns and mpor_returns against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.data import mpor_returns, overlapping_sums, quality_report, to_returns
from research.data.attached import attach_quality
from research.errors import DataError, SpecificationError

EXACT = 1e-12
"""Closed-form arithmetic on a handful of numbers: only rounding differs."""


@pytest.fixture
def prices() -> pd.DataFrame:
    index = pd.bdate_range("2024-01-01", periods=4, name="date")
    frame = pd.DataFrame(
        {"A": [100.0, 110.0, 99.0, 99.0], "B": [50.0, 25.0, 50.0, 100.0]}, index=index
    )
    frame.columns.name = "asset"
    return frame


def test_log_returns_in_percent(prices):
    returns = to_returns(prices)
    expected_a = [100 * np.log(1.1), 100 * np.log(0.9), 0.0]
    expected_b = [100 * np.log(0.5), 100 * np.log(2.0), 100 * np.log(2.0)]
    np.testing.assert_allclose(returns["A"], expected_a, rtol=0, atol=EXACT)
    np.testing.assert_allclose(returns["B"], expected_b, rtol=0, atol=EXACT)
    assert returns.index[0] == prices.index[1]
    assert returns.attrs["returns"] == {
        "kind": "log",
        "scale": 100.0,
        "rows_dropped": 1,
        "nan_returns": 0,
    }


def test_simple_returns_as_fractions(prices):
    returns = to_returns(prices, kind="simple", scale=1.0)
    np.testing.assert_allclose(returns["A"], [0.1, -0.1, 0.0], rtol=0, atol=EXACT)
    np.testing.assert_allclose(returns["B"], [-0.5, 1.0, 1.0], rtol=0, atol=EXACT)


def test_nan_prices_raise_unless_propagated(prices):
    prices.iloc[2, 0] = np.nan
    with pytest.raises(DataError, match=r"NaN price for asset 'A' on 2024-01-03.*align"):
        to_returns(prices)
    returns = to_returns(prices, missing="propagate")
    assert returns["A"].isna().sum() == 2
    assert returns.attrs["returns"]["nan_returns"] == 2


def test_non_positive_price_raises(prices):
    prices.iloc[3, 1] = 0.0
    with pytest.raises(DataError, match=r"non-positive price 0 for asset 'B' on 2024-01-04"):
        to_returns(prices)


def test_first_row_dropped_is_counted(prices):
    from research.data import validate_prices

    attach_quality(prices, validate_prices(prices))
    returns = to_returns(prices)
    assert quality_report(returns).repair_counts()["first_row_dropped"] == 1


def test_bad_options(prices):
    with pytest.raises(SpecificationError):
        to_returns(prices, kind="arith")  # type: ignore[arg-type]
    with pytest.raises(SpecificationError):
        to_returns(prices, scale=0.0)
    with pytest.raises(DataError, match="at least two rows"):
        to_returns(prices.iloc[:1])


@pytest.fixture
def daily() -> pd.DataFrame:
    index = pd.bdate_range("2024-01-01", periods=7, name="date")
    return pd.DataFrame(
        {"A": [1.0, -2.0, 3.0, 4.0, -5.0, 6.0, 7.0], "B": [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]},
        index=index,
    )


def test_mpor_overlapping_sums(daily):
    result = mpor_returns(daily, 3, given="returns")
    # 1-2+3, -2+3+4, 3+4-5, 4-5+6, -5+6+7
    np.testing.assert_allclose(result["A"], [2.0, 5.0, 2.0, 5.0, 8.0], rtol=0, atol=EXACT)
    np.testing.assert_allclose(result["B"], [1.5] * 5, rtol=0, atol=EXACT)
    assert result.index[0] == daily.index[2]
    assert result.attrs["returns"]["rows_dropped"] == 2


def test_overlapping_sums_equal_a_plain_loop_and_are_mpor_returns_core(daily):
    values = np.random.default_rng(3).normal(0.0, 2.0, (60, 4))
    for horizon in (1, 2, 5, 60):
        expected = np.array(
            [
                [sum(values[k + i, j] for i in range(horizon)) for j in range(4)]
                for k in range(61 - horizon)
            ]
        )
        sums = overlapping_sums(values, horizon)
        np.testing.assert_array_equal(sums, expected)  # same additions, same order
        assert sums.flags.c_contiguous
    frame = mpor_returns(daily, 3, given="returns")
    np.testing.assert_array_equal(frame.to_numpy(), overlapping_sums(daily.to_numpy(), 3))
    np.testing.assert_array_equal(
        overlapping_sums(values[:, 0], 2), overlapping_sums(values, 2)[:, 0]
    )


def test_overlapping_sums_depend_on_their_window_only():
    values = np.random.default_rng(4).normal(0.0, 2.0, (40, 2))
    shifted = np.vstack([np.full((7, 2), 1e6), values])  # a huge prefix history
    np.testing.assert_array_equal(overlapping_sums(shifted, 3)[7:], overlapping_sums(values, 3))
    holed = values.copy()
    holed[10, 1] = np.nan
    sums = overlapping_sums(holed, 3)
    assert np.isnan(sums[:, 1]).nonzero()[0].tolist() == [8, 9, 10]
    assert not np.isnan(sums[:, 0]).any()


@pytest.mark.parametrize("horizon", [0, -1, 41, 2.0, True])
def test_overlapping_sums_refuse_a_bad_horizon(horizon):
    with pytest.raises(SpecificationError, match="horizon"):
        overlapping_sums(np.zeros((40, 2)), horizon)


def test_mpor_non_overlapping_blocks_end_at_last_row(daily):
    result = mpor_returns(daily, 3, overlapping=False, given="returns")
    # blocks [-2, 3, 4] and [-5, 6, 7]; the oldest return (1.0) fills no block
    np.testing.assert_allclose(result["A"], [5.0, 8.0], rtol=0, atol=EXACT)
    assert result.index.tolist() == [daily.index[3], daily.index[6]]
    assert result.attrs["returns"]["rows_dropped"] == 1


def test_mpor_horizon_one_is_identity(daily):
    pd.testing.assert_frame_equal(mpor_returns(daily, 1, given="returns"), daily)


def test_mpor_from_prices_equals_log_of_price_ratio(prices):
    result = mpor_returns(prices, 2)  # positive frame: taken as prices
    expected = 100 * np.log(prices.to_numpy()[2:] / prices.to_numpy()[:-2])
    np.testing.assert_allclose(result.to_numpy(), expected, rtol=0, atol=1e-10)


def test_mpor_auto_detects_returns_from_to_returns(prices):
    returns = to_returns(prices)
    direct = mpor_returns(returns, 2)
    np.testing.assert_allclose(direct.to_numpy(), mpor_returns(prices, 2).to_numpy(), atol=1e-10)


def test_mpor_rejects_simple_returns_and_bad_horizons(prices, daily):
    with pytest.raises(SpecificationError, match="simple returns"):
        mpor_returns(to_returns(prices, kind="simple"), 2)
    with pytest.raises(SpecificationError):
        mpor_returns(daily, 0)
    with pytest.raises(SpecificationError, match="longer than"):
        mpor_returns(daily, 8, given="returns")
    daily.iloc[3, 1] = np.nan
    with pytest.raises(DataError, match=r"NaN return for asset 'B' on 2024-01-04"):
        mpor_returns(daily, 2, given="returns")


def test_mpor_propagate_makes_every_window_over_a_gap_nan(daily):
    clean = mpor_returns(daily, 3, given="returns", check_units=False)
    daily.iloc[3, 0] = np.nan
    result = mpor_returns(daily, 3, given="returns", check_units=False, missing="propagate")
    # windows ending on rows 3, 4 and 5 hold row 3; B and the other windows are untouched
    assert result["A"].isna().tolist() == [False, True, True, True, False]
    keep = result.notna()
    pd.testing.assert_frame_equal(result[keep].dropna(how="all"), clean[keep].dropna(how="all"))
    with pytest.raises(SpecificationError, match="missing must be"):
        mpor_returns(daily, 3, given="returns", missing="skip")


def test_mpor_move_depends_on_its_window_only():
    # before: differences of a running total, so the same window gave other bits after other
    # history (here 0.6000000000232831 for 0.1 + 0.2 + 0.3 after a 1e6 return)
    index = pd.bdate_range("2024-01-01", periods=4)
    late = pd.DataFrame({"A": [1e6, 0.1, 0.2, 0.3]}, index=index)
    alone = mpor_returns(late.iloc[1:], 3, given="returns", check_units=False)
    after = mpor_returns(late, 3, given="returns", check_units=False)
    assert after["A"].iloc[-1] == alone["A"].iloc[-1] == 0.1 + 0.2 + 0.3
