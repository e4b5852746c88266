"""The correlation regimes of a path take each pair's quantile on the side that hurts its hedge."""

import numpy as np
import pandas as pd
import pytest

from research.calibration import OffsetPair, hedge_side_quantiles
from research.errors import DataError, ParameterError

ASSETS = ["A", "B", "C"]


def _path(seed: int = 0, n: int = 400) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    ab = np.tanh(rng.normal(0.8, 0.3, n))  # A/B positively correlated
    ac = np.tanh(rng.normal(-0.7, 0.3, n))  # A/C negatively correlated
    bc = np.tanh(rng.normal(-0.5, 0.3, n))
    array = np.repeat(np.eye(3)[None], n, axis=0)
    for (i, j), values in {(0, 1): ab, (0, 2): ac, (1, 2): bc}.items():
        array[:, i, j] = array[:, j, i] = values
    dates = pd.date_range("2020-01-01", periods=n, freq="D")
    index = pd.MultiIndex.from_product([dates, ASSETS])
    return pd.DataFrame(array.reshape(-1, 3), index=index, columns=ASSETS), array


def test_opposite_pairs_take_the_lower_and_same_direction_pairs_the_upper_quantile():
    path, array = _path()
    pairs = [OffsetPair("A", "B", "opposite"), OffsetPair("A", "C", "same")]
    matrix = hedge_side_quantiles(path, pairs, 0.05)
    assert matrix.loc["A", "B"] == pytest.approx(np.quantile(array[:, 0, 1], 0.05), abs=1e-12)
    assert matrix.loc["A", "C"] == pytest.approx(np.quantile(array[:, 0, 2], 0.95), abs=1e-12)
    assert matrix.loc["C", "A"] == matrix.loc["A", "C"]
    # not a candidate hedge: the lower quantile; unit diagonal
    assert matrix.loc["B", "C"] == pytest.approx(np.quantile(array[:, 1, 2], 0.05), abs=1e-12)
    assert np.all(np.diag(matrix.to_numpy()) == 1.0)
    # the hedge side is the unfavourable one: a same pair's upper quantile is above its median
    assert matrix.loc["A", "C"] > np.median(array[:, 0, 2])


def test_bad_quantiles_and_unknown_legs_are_named():
    path, _ = _path()
    with pytest.raises(ParameterError, match=r"\(0, 0.5\)"):
        hedge_side_quantiles(path, [("A", "B")], 0.5)
    with pytest.raises(DataError, match="no asset \\['D'\\]"):
        hedge_side_quantiles(path, [("A", "D")], 0.05)
