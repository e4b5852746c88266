"""Correlation regimes (recent sample, pooled stress windows) behind offset credits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.calibration import regime_correlations
from research.errors import InsufficientDataError


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    rng = np.random.default_rng(20240601)
    index = pd.bdate_range("2012-01-02", periods=600)
    return pd.DataFrame(rng.standard_normal((600, 3)), index=index, columns=["A", "B", "C"])


def test_regime_correlations(returns: pd.DataFrame) -> None:
    corr, nobs = regime_correlations(returns, 250, {"w": ("2012-03-01", "2012-03-30")})
    assert nobs == {"recent": 250, "stressed": 22}
    pd.testing.assert_frame_equal(corr["recent"], returns.tail(250).corr())
    outside, counts = regime_correlations(returns, 250, {"w": ("2030-01-01", "2030-02-01")})
    assert set(outside) == set(counts) == {"recent"}
    with pytest.raises(InsufficientDataError, match="recent"):
        regime_correlations(returns.head(3), 250)
