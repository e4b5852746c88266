"""Direction-aware conservative correlation matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError, PSDRepairWarning, SpecificationError
from research.stress import conservative_correlation, sample_correlation

# Same quantity computed two ways (different operation order): only floating-point
# rounding differs, far below 1e-12 for numbers of order one.
ROUNDING_TOL = 1e-12
# Smallest eigenvalue of a PSD output up to LAPACK rounding (research.stress PSD_TOLERANCE).
EIG_TOL = 1e-10

LABELS = ["x", "y", "z"]
A = pd.DataFrame([[1.0, 0.98, -0.62], [0.98, 1.0, -0.68], [-0.62, -0.68, 1.0]], LABELS, LABELS)
B = pd.DataFrame([[1.0, -0.51, -0.17], [-0.51, 1.0, -0.33], [-0.17, -0.33, 1.0]], LABELS, LABELS)


def test_same_direction_takes_max_hedge_takes_min(regimes):
    calm = sample_correlation(regimes, ("2018-06-01", "2019-12-31"))
    stress = sample_correlation(regimes, ("2020-02-20", "2020-04-07"))
    positions = pd.Series({"a": 2.0, "b": 1.0, "c": -1.0, "d": 0.5})
    result = conservative_correlation({"calm": calm, "stress": stress}, positions)
    c, s, r = calm.matrix, stress.matrix, result.matrix
    assert not result.repaired
    assert r.loc["a", "b"] == max(c.loc["a", "b"], s.loc["a", "b"])
    assert r.loc["a", "c"] == min(c.loc["a", "c"], s.loc["a", "c"])
    assert r.loc["c", "d"] == min(c.loc["c", "d"], s.loc["c", "d"])
    choice = result.info["choice"]
    assert choice.loc["a", "b"] in {"calm", "stress"} and choice.loc["a", "a"] == ""
    # The portfolio variance (unit vols) is at least that under every candidate.
    x = positions.loc[r.index].to_numpy()
    worst = x @ r.to_numpy() @ x
    for candidate in (c, s):
        assert worst >= x @ candidate.loc[r.index, r.index].to_numpy() @ x - ROUNDING_TOL


def test_zero_exposure_takes_the_mean():
    result = conservative_correlation([A, B], pd.Series({"x": 1.0, "y": 0.0, "z": 1.0}))
    assert result.matrix.loc["x", "y"] == pytest.approx(0.5 * (0.98 - 0.51), abs=ROUNDING_TOL)
    assert result.info["choice"].loc["x", "y"] == "mean"
    assert result.info["candidates"] == ("candidate_0", "candidate_1")


def test_non_psd_pick_is_repaired_and_reported():
    positions = pd.Series({"x": 1.0, "y": -1.0, "z": 1.0})
    raw = np.array([[1.0, -0.51, -0.17], [-0.51, 1.0, -0.33], [-0.17, -0.33, 1.0]])
    raw[0, 1] = raw[1, 0] = -0.51  # hedge: min(0.98, -0.51)
    raw[0, 2] = raw[2, 0] = -0.17  # same direction: max(-0.62, -0.17)
    raw[1, 2] = raw[2, 1] = -0.68  # hedge: min(-0.68, -0.33)
    assert np.linalg.eigvalsh(raw)[0] >= 0  # this pick happens to be PSD: no repair
    result = conservative_correlation({"A": A, "B": B}, positions)
    np.testing.assert_allclose(result.matrix.to_numpy(), raw, atol=ROUNDING_TOL)
    assert not result.repaired

    long_only = pd.Series({"x": 1.0, "y": 1.0, "z": -1.0})
    picked = np.array([[1.0, 0.98, -0.62], [0.98, 1.0, -0.68], [-0.62, -0.68, 1.0]])
    picked[0, 2] = picked[2, 0] = min(-0.62, -0.17)
    picked[1, 2] = picked[2, 1] = min(-0.68, -0.33)
    picked[0, 1] = picked[1, 0] = max(0.98, -0.51)
    np.testing.assert_allclose(
        conservative_correlation({"A": A, "B": B}, long_only).matrix.to_numpy(),
        picked,
        atol=ROUNDING_TOL,
    )

    # A third candidate makes the long-only pick inconsistent: x ~ y (0.98) but
    # corr(x, z) = 0.6 and corr(y, z) = -0.33.
    c = pd.DataFrame([[1.0, 0.0, 0.6], [0.0, 1.0, -0.6], [0.6, -0.6, 1.0]], LABELS, LABELS)
    assert np.linalg.eigvalsh(c.to_numpy())[0] > 0
    pick = np.array([[1.0, 0.98, 0.6], [0.98, 1.0, -0.33], [0.6, -0.33, 1.0]])
    assert np.linalg.eigvalsh(pick)[0] < 0  # precondition: this pick is not PSD
    all_long = pd.Series({"x": 1.0, "y": 1.0, "z": 1.0})
    with pytest.warns(PSDRepairWarning, match="conservative"):
        result = conservative_correlation({"A": A, "B": B, "C": c}, all_long)
    assert result.repaired
    assert result.repair.input_min_eigenvalue == pytest.approx(np.linalg.eigvalsh(pick)[0])
    assert result.info["choice"].loc["x", "z"] == "C"
    assert np.linalg.eigvalsh(result.matrix.to_numpy())[0] >= -EIG_TOL
    assert "repaired" in result.warnings[0]


def test_bad_inputs():
    with pytest.raises(SpecificationError, match="at least one"):
        conservative_correlation({}, pd.Series({"x": 1.0}))
    with pytest.raises(DataError, match="no exposure"):
        conservative_correlation([A], pd.Series({"x": 1.0}))
    with pytest.raises(DataError, match="Series"):
        conservative_correlation([A], [1.0, 1.0, 1.0])
    with pytest.raises(DataError, match="different assets"):
        conservative_correlation([A, A.iloc[:2, :2]], pd.Series({"x": 1.0, "y": 1.0, "z": 1.0}))
    with pytest.raises(DataError, match="finite"):
        conservative_correlation([A], pd.Series({"x": 1.0, "y": np.nan, "z": 1.0}))
