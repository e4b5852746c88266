"""Stress and rolling entry points refuse a reversed or duplicated time index (issue 13 item 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.correlation import DCC
from research.correlation.rolling import rolling_forecast
from research.errors import DataError
from research.stress import exceedance_correlation, sample_correlation, stress_score


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2020-01-01", periods=300)
    return pd.DataFrame(rng.standard_normal((300, 3)), index=dates, columns=["A", "B", "C"])


def _reversed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[::-1]


def _duplicated(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([frame.iloc[:10], frame.iloc[9:]])


@pytest.mark.parametrize("spoil", [_reversed, _duplicated])
@pytest.mark.parametrize(
    "call",
    [
        lambda r: sample_correlation(r),
        lambda r: exceedance_correlation(r, 0.5),
        lambda r: stress_score(r, score="drawdown"),
        lambda r: rolling_forecast(r, DCC(kind="dcc"), window=100, refit_every=50),
    ],
    ids=["sample_correlation", "exceedance_correlation", "stress_score", "rolling_forecast"],
)
def test_bad_time_order_is_refused(returns, spoil, call):
    with pytest.raises(DataError, match="returns|data"):
        call(spoil(returns))


def test_sorted_returns_still_work(returns):
    assert sample_correlation(returns).matrix.shape == (3, 3)
    assert stress_score(returns, score="drawdown").notna().all()
