"""Stressed correlation from a (date, asset) x asset conditional correlation path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError, PSDRepairWarning, SpecificationError
from research.stress import dcc_correlation

# Same quantity computed two ways (different operation order): only floating-point
# rounding differs, far below 1e-12 for numbers of order one.
ROUNDING_TOL = 1e-12
# Smallest eigenvalue of a PSD output up to LAPACK rounding (research.stress PSD_TOLERANCE).
EIG_TOL = 1e-10

ASSETS = ["x", "y", "z"]
# Two valid correlation matrices whose entry-wise minimum is not PSD (eigenvalue -0.209).
A = np.array([[1.0, 0.98, -0.62], [0.98, 1.0, -0.68], [-0.62, -0.68, 1.0]])
B = np.array([[1.0, -0.51, -0.17], [-0.51, 1.0, -0.33], [-0.17, -0.33, 1.0]])


def make_path(weights: np.ndarray, start: str = "2021-01-01") -> pd.DataFrame:
    """R_t = (1 - u_t) A + u_t B on consecutive days, in DCCResult.correlation layout."""
    dates = pd.date_range(start, periods=len(weights))
    blocks = [(1 - u) * A + u * B for u in weights]
    index = pd.MultiIndex.from_product([dates, ASSETS], names=["date", "asset"])
    return pd.DataFrame(np.concatenate(blocks), index=index, columns=ASSETS)


def test_mean_over_window_is_exact():
    u = np.linspace(0.0, 1.0, 101)
    path = make_path(u)
    dates = path.index.get_level_values("date").unique()
    window = (dates[10], dates[60])
    result = dcc_correlation(path, window)
    u_bar = u[10:61].mean()
    np.testing.assert_allclose(
        result.matrix.to_numpy(), (1 - u_bar) * A + u_bar * B, atol=ROUNDING_TOL
    )
    assert result.nobs == 51 and result.method == "dcc-mean"
    assert not result.repaired


def test_band_holds_path_quantiles():
    u = np.linspace(0.0, 1.0, 101)
    result = dcc_correlation(make_path(u), level=0.8)
    np.testing.assert_allclose(
        result.band.lower.to_numpy(),
        np.quantile(np.stack([(1 - v) * A + v * B for v in u]), 0.1, axis=0),
        atol=ROUNDING_TOL,
    )
    assert result.band.method == "path quantiles" and result.band.n_samples == 101


def test_lower_quantile_is_repaired_and_says_so():
    path = make_path(np.array([0.0, 1.0] * 50))
    raw = np.minimum(A, B)
    assert np.linalg.eigvalsh(raw)[0] < -0.2  # precondition: the entry-wise min is not PSD
    with pytest.warns(PSDRepairWarning, match="dcc-lower"):
        result = dcc_correlation(path, statistic="lower", level=0.98)
    assert result.repaired
    assert result.repair.input_min_eigenvalue == pytest.approx(np.linalg.eigvalsh(raw)[0])
    assert result.repair.distance > 0
    assert "repaired" in result.warnings[0]
    np.testing.assert_allclose(result.band.lower.to_numpy(), raw, atol=ROUNDING_TOL)
    assert np.linalg.eigvalsh(result.matrix.to_numpy())[0] >= -EIG_TOL


def test_upper_and_median():
    u = np.linspace(0.0, 1.0, 11)
    path = make_path(u)
    median = dcc_correlation(path, statistic="median").matrix.to_numpy()
    np.testing.assert_allclose(median, 0.5 * A + 0.5 * B, atol=ROUNDING_TOL)
    upper = dcc_correlation(path, statistic="upper", level=0.5)
    assert upper.method == "dcc-upper"


def test_row_order_does_not_matter():
    path = make_path(np.linspace(0, 1, 20))
    shuffled = path.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(dcc_correlation(shuffled).matrix, dcc_correlation(path).matrix)


def test_bad_paths():
    path = make_path(np.linspace(0, 1, 20))
    with pytest.raises(DataError, match="MultiIndex"):
        dcc_correlation(path.reset_index(drop=True))
    with pytest.raises(DataError, match="missing"):
        dcc_correlation(path.drop(index=path.index[4]))
    with pytest.raises(DataError, match="unit diagonal"):
        dcc_correlation(path * 2.0)
    with pytest.raises(DataError, match="differ from its"):
        dcc_correlation(path.rename(columns={"z": "w"}))
    with pytest.raises(DataError, match="outside the data"):
        dcc_correlation(path, ("2008-09-15", "2009-03-09"))
    with pytest.raises(SpecificationError, match="statistic"):
        dcc_correlation(path, statistic="max")
