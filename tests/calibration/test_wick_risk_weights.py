"""Risk weights from the worst intraperiod move: lows for longs, highs for shorts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from research.calibration import calibrate_risk_weights
from research.data import Bars, to_returns
from research.errors import SpecificationError


def _bars(n: int = 1200, seed: int = 11) -> Bars:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2022-01-01", periods=n, freq="D", name="date")
    columns = pd.Index(["X", "Y"], name="asset")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, (n, 2)), axis=0))
    open_ = np.vstack([close[:1], close[:-1]])
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.015, (n, 2))))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.015, (n, 2))))
    return Bars(*(pd.DataFrame(x, index=index, columns=columns) for x in (open_, high, low, close)))


@pytest.mark.parametrize("mpor", [1, 3])
def test_wick_weights_match_an_independent_order_statistic(mpor):
    bars = _bars()
    returns = to_returns(bars.close)
    level = 0.99
    for side in ("long", "short"):
        result = calibrate_risk_weights(
            returns, level=level, mpor=mpor, lookback=None, side=side, bars=bars
        )
        close, low, high = (getattr(bars, f)["X"].to_numpy() for f in ("close", "low", "high"))
        losses = []
        for t in range(mpor, len(close)):  # a move ends on each day with mpor returns before it
            if side == "long":
                losses.append(1 - low[t - mpor + 1 : t + 1].min() / close[t - mpor])
            else:
                losses.append(high[t - mpor + 1 : t + 1].max() / close[t - mpor] - 1)
        losses = np.sort(losses)[::-1]
        m = math.ceil((1 - level) * len(losses))  # the package's tail convention
        assert result.risk_weights["X"] == pytest.approx(losses[m - 1], rel=1e-12)
        assert result.settings["moves"] == "worst intraperiod"
        closes_only = calibrate_risk_weights(
            returns, level=level, mpor=mpor, lookback=None, side=side
        )
        assert (result.risk_weights > closes_only.risk_weights).all()


def test_wicks_are_not_filtered():
    bars = _bars(300)
    with pytest.raises(SpecificationError, match="cannot be volatility-filtered"):
        calibrate_risk_weights(to_returns(bars.close), mpor=1, filter="ewma", bars=bars)
