"""The one place a correlation model gets its univariate stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError
from research.volatility import UnivariateFits, UnivariateSpec, univariate_stage


def _returns() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2015-01-01", periods=400)
    return pd.DataFrame(rng.standard_normal((400, 2)), index=index, columns=["A", "B"])


def test_fits_returns_or_passes_a_fitted_stage_through() -> None:
    fitted = univariate_stage(_returns(), None, UnivariateSpec())
    assert isinstance(fitted, UnivariateFits) and fitted.assets == ["A", "B"]
    assert univariate_stage(None, fitted, UnivariateSpec()) is fitted


def test_refuses_nothing_and_the_wrong_type() -> None:
    with pytest.raises(DataError, match="pass returns"):
        univariate_stage(None, None, UnivariateSpec())
    with pytest.raises(DataError, match="must be a UnivariateFits"):
        univariate_stage(None, _returns(), UnivariateSpec())  # type: ignore[arg-type]
