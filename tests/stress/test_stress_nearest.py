"""Tests of research.stress.nearest_correlation (Higham 2002).

References used:

* Higham (2002), Section 4: the nearest correlation matrix (W = I) of
  tridiag(-1, 2, -1) of order 4 printed to 4 decimals; the NAG Library example program
  for g02aa (same matrix, "Nearest Correlation Matrix" output) prints the same matrix to
  5 decimals: -0.80841, 0.19159, 0.10678, -0.65623.
* ``reference/nearest_cvxpy.json``: the same convex problem solved by cvxpy/Clarabel
  (generator ``reference/generate_nearest.py``), including weights and fixed entries.
* The KKT conditions of the problem, checked in closed form: X is optimal iff
  Z = W(X - A)W - diag(theta) - M (M supported on the fixed entries) is PSD with Z X = 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.errors import ConvergenceWarning, DataError, SpecificationError
from research.stress import nearest_correlation

# Same quantity computed two ways (different operation order): only floating-point
# rounding differs, far below 1e-12 for numbers of order one.
ROUNDING_TOL = 1e-12

HIGHAM = np.array([[2, -1, 0, 0], [-1, 2, -1, 0], [0, -1, 2, -1], [0, 0, -1, 2]], dtype=float)
# Published digits: 4 decimals in Higham (2002); 5 decimals in NAG's g02aa example output.
HIGHAM_SOLUTION_5DP = np.array(
    [
        [1.00000, -0.80841, 0.19159, 0.10678],
        [-0.80841, 1.00000, -0.65623, 0.19159],
        [0.19159, -0.65623, 1.00000, -0.80841],
        [0.10678, 0.19159, -0.80841, 1.00000],
    ]
)
# Half a unit in the 5th decimal: the published digits are rounded.
PUBLISHED_TOL = 0.5e-5
# Clarabel's interior-point solution is accurate to ~1e-7 (see the generator docstring).
CVXPY_TOL = 1e-6
# KKT residuals of a solution converged to tol=1e-10 (Dykstra's error in X is ~tol).
KKT_TOL = 1e-8
# Smallest eigenvalue of a PSD result up to LAPACK rounding.
EIG_TOL = 1e-12
# Fixed entries are kept exactly by the iteration; the final unit-diagonal rescaling of the
# polish step moves them by O(tol) = 1e-10.
FIXED_TOL = 1e-9
# The same rescaling multiplies eigenvalues by 1 / max(diag) = 1 - O(tol): relative slack.
FLOOR_REL_TOL = 1e-6

REFERENCE = json.loads(
    Path(__file__).with_name("reference").joinpath("nearest_cvxpy.json").read_text()
)["cases"]


def kkt_residuals(a, x, w, fixed):
    """Smallest eigenvalue of the dual matrix Z and the complementarity ||Z X||."""
    n = a.shape[0]
    gradient = np.diag(w) @ (x - a) @ np.diag(w)
    columns = []
    for i in range(n):
        e = np.zeros((n, n))
        e[i, i] = 1.0
        columns.append((e @ x).ravel())
    for i, j in fixed:
        e = np.zeros((n, n))
        e[i, j] = e[j, i] = 1.0
        columns.append((e @ x).ravel())
    multipliers, *_ = np.linalg.lstsq(np.array(columns).T, (gradient @ x).ravel(), rcond=None)
    z = gradient - np.diag(multipliers[:n])
    for value, (i, j) in zip(multipliers[n:], fixed, strict=True):
        z[i, j] -= value
        z[j, i] -= value
    return np.linalg.eigvalsh(z)[0], np.linalg.norm(z @ x)


def test_higham_example_published_digits():
    result = nearest_correlation(HIGHAM)
    np.testing.assert_allclose(result.matrix.to_numpy(), HIGHAM_SOLUTION_5DP, atol=PUBLISHED_TOL)
    assert result.converged
    assert result.iterations > 0


def test_higham_example_distance_matches_matrix():
    result = nearest_correlation(HIGHAM)
    expected = np.linalg.norm(HIGHAM - result.matrix.to_numpy())
    assert result.distance == pytest.approx(expected, rel=ROUNDING_TOL)


@pytest.mark.parametrize("case", sorted(REFERENCE), ids=str)
def test_against_cvxpy(case):
    ref = REFERENCE[case]
    fixed = [tuple(pair) for pair in ref["fixed"]]
    result = nearest_correlation(
        np.array(ref["matrix"]), weights=ref["weights"], fixed=fixed or None
    )
    np.testing.assert_allclose(result.matrix.to_numpy(), np.array(ref["solution"]), atol=CVXPY_TOL)


@pytest.mark.parametrize("case", sorted(REFERENCE), ids=str)
def test_kkt_conditions(case):
    ref = REFERENCE[case]
    a = np.array(ref["matrix"])
    w = np.ones(len(a)) if ref["weights"] is None else np.array(ref["weights"])
    fixed = [tuple(pair) for pair in ref["fixed"]]
    result = nearest_correlation(a, weights=ref["weights"], fixed=fixed or None)
    min_dual, complementarity = kkt_residuals(a, result.matrix.to_numpy(), w, fixed)
    assert min_dual >= -KKT_TOL
    assert complementarity <= KKT_TOL


@pytest.mark.parametrize("case", sorted(REFERENCE), ids=str)
def test_output_is_a_correlation_matrix(case):
    ref = REFERENCE[case]
    fixed = [tuple(pair) for pair in ref["fixed"]]
    x = nearest_correlation(
        np.array(ref["matrix"]), weights=ref["weights"], fixed=fixed or None
    ).matrix.to_numpy()
    np.testing.assert_array_equal(x, x.T)
    np.testing.assert_array_equal(np.diag(x), 1.0)
    assert np.linalg.eigvalsh(x)[0] >= -EIG_TOL
    for i, j in fixed:
        assert x[i, j] == pytest.approx(ref["matrix"][i][j], abs=FIXED_TOL)


def test_min_eigenvalue_floor():
    result = nearest_correlation(HIGHAM, min_eigenvalue=1e-3)
    assert np.linalg.eigvalsh(result.matrix.to_numpy())[0] >= 1e-3 * (1 - FLOOR_REL_TOL)
    assert result.distance > nearest_correlation(HIGHAM).distance


def test_valid_matrix_returned_unchanged():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 5))
    corr = pd.DataFrame(np.corrcoef(x, rowvar=False), index=list("abcde"), columns=list("abcde"))
    result = nearest_correlation(corr)
    pd.testing.assert_frame_equal(result.matrix, corr, check_exact=False, rtol=0, atol=ROUNDING_TOL)
    assert result.iterations == 0
    assert result.distance == 0.0


def test_result_is_idempotent():
    first = nearest_correlation(HIGHAM).matrix
    second = nearest_correlation(first)
    assert second.iterations == 0
    pd.testing.assert_frame_equal(
        second.matrix, first, check_exact=False, rtol=0, atol=ROUNDING_TOL
    )


def test_labels_and_series_weights_are_aligned():
    labels = ["w", "x", "y", "z"]
    frame = pd.DataFrame(HIGHAM, index=labels, columns=labels)
    weights = pd.Series([4.0, 3.0, 2.0, 1.0], index=labels[::-1])
    result = nearest_correlation(frame, weights=weights)
    expected = nearest_correlation(HIGHAM, weights=[1.0, 2.0, 3.0, 4.0]).matrix.to_numpy()
    assert list(result.matrix.index) == labels
    np.testing.assert_allclose(result.matrix.to_numpy(), expected, atol=ROUNDING_TOL)


def test_boolean_fixed_mask_equals_pairs():
    mask = np.zeros((4, 4), dtype=bool)
    mask[0, 2] = mask[2, 0] = True
    by_mask = nearest_correlation(HIGHAM / 2, fixed=mask).matrix.to_numpy()
    by_pairs = nearest_correlation(HIGHAM / 2, fixed=[(0, 2)]).matrix.to_numpy()
    np.testing.assert_allclose(by_mask, by_pairs, atol=ROUNDING_TOL)
    assert by_mask[0, 2] == pytest.approx(0.0, abs=FIXED_TOL)


def test_non_convergence_is_warned_and_recorded():
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        result = nearest_correlation(HIGHAM, max_iter=2)
    assert not result.converged
    assert result.iterations == 2
    assert "max_iter=2" in result.warnings[0]
    assert "NOT converged" in str(result)


def test_summary_reports_repair():
    summary = nearest_correlation(HIGHAM).summary()
    assert summary["input_min_eigenvalue"] == pytest.approx(2 - 2 * np.cos(np.pi / 5))
    assert summary["converged"]


@pytest.mark.parametrize(
    ("matrix", "match"),
    [
        (np.ones((3, 4)), "square"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "non-finite"),
        (np.array([[1.0, 0.5], [0.2, 1.0]]), "not symmetric"),
        (pd.DataFrame(np.eye(2), index=["a", "b"], columns=["a", "c"]), "labels"),
    ],
    ids=["non-square", "nan", "non-symmetric", "labels"],
)
def test_bad_matrix_raises_data_error(matrix, match):
    with pytest.raises(DataError, match=match):
        nearest_correlation(matrix)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weights": [1.0, 2.0]},
        {"weights": [1.0, -1.0, 1.0, 1.0]},
        {"fixed": [(0, 9)]},
        {"fixed": np.ones((4, 4))},
        {"min_eigenvalue": -0.1},
        {"tol": 0.0},
        {"max_iter": 0},
    ],
    ids=["weights-shape", "weights-sign", "fixed-label", "fixed-dtype", "floor", "tol", "iter"],
)
def test_bad_options_raise_specification_error(kwargs):
    with pytest.raises(SpecificationError):
        nearest_correlation(HIGHAM, **kwargs)


def test_fixed_entry_outside_unit_interval_raises():
    with pytest.raises(DataError, match="fixed entry"):
        nearest_correlation(np.array([[1.0, 1.5], [1.5, 1.0]]), fixed=[(0, 1)])
