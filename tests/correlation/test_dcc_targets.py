"""Correlation targets, composite pairs and the second-stage Hessian."""

from __future__ import annotations

import numpy as np
import pytest

from research.correlation._likelihood import (
    CorrelationProblem,
    check_positive_definite,
    correlation_target,
    negative_target,
    pairs_for,
)
from research.correlation.covariance import second_stage_hessian
from research.errors import NotPositiveDefiniteError

IDENTITY_TOL = 1e-12


@pytest.fixture(scope="module")
def z():
    rng = np.random.default_rng(5)
    return np.ascontiguousarray(rng.standard_normal((500, 3)) + 0.1)


def test_target_is_numpy_corrcoef(z):
    np.testing.assert_allclose(
        correlation_target(z, ["a", "b", "c"]), np.corrcoef(z.T), atol=IDENTITY_TOL
    )


def test_negative_target(z):
    n = np.where(z < 0, z, 0.0)
    np.testing.assert_allclose(negative_target(z), n.T @ n / len(z), atol=IDENTITY_TOL)


def test_singular_matrix_is_reported_with_pair():
    m = np.array([[1.0, 1.0, 0.2], [1.0, 1.0, 0.2], [0.2, 0.2, 1.0]])
    with pytest.raises(NotPositiveDefiniteError, match="'x' and 'y'"):
        check_positive_definite(m, ["x", "y", "w"], "test matrix")


@pytest.mark.parametrize(
    "estimation, expected",
    [
        ("full", None),
        ("composite-adjacent", [[0, 1], [1, 2], [2, 3]]),
        ("composite-all", [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]),
    ],
)
def test_pairs(estimation, expected):
    out = pairs_for(estimation, 4)
    if expected is None:
        assert out is None
    else:
        assert out.tolist() == expected and out.dtype == np.int64


def test_with_column_updates_targets_like_a_rebuild(z):
    problem = CorrelationProblem.build(z, "adcc", "normal", "full", ["a", "b", "c"])
    new = z[:, 1] * 1.1 + 0.05 * z[:, 0]
    updated = problem.with_column(1, new)
    z2 = z.copy()
    z2[:, 1] = new
    rebuilt = CorrelationProblem.build(z2, "adcc", "normal", "full", ["a", "b", "c"])
    np.testing.assert_allclose(updated.qbar, rebuilt.qbar, atol=IDENTITY_TOL)
    np.testing.assert_allclose(updated.nbar, rebuilt.nbar, atol=IDENTITY_TOL)


def test_involving_keeps_pairs_of_one_asset(z):
    problem = CorrelationProblem.build(z, "dcc", "normal", "composite-all", ["a", "b", "c"])
    sub, pos = problem.involving(2)
    assert sub.pairs.tolist() == [[0, 2], [1, 2]] and pos == 2
    sub, pos = CorrelationProblem.build(
        z, "dcc", "normal", "composite-adjacent", ["a", "b", "c"]
    ).involving(0)
    assert sub.pairs.tolist() == [[0, 1]] and pos == 0 and sub.z.shape[1] == 2


def test_adcc_delta_is_largest_generalized_eigenvalue(z):
    problem = CorrelationProblem.build(z, "adcc", "normal", "full", ["a", "b", "c"])
    eig = np.linalg.eigvals(np.linalg.solve(problem.qbar, problem.nbar)).real.max()
    assert problem.delta == pytest.approx(eig, rel=1e-10)


def test_second_stage_hessian_matches_numerical_hessian_of_loglik(z):
    problem = CorrelationProblem.build(z, "dcc", "normal", "full", ["a", "b", "c"])
    theta = np.array([0.04, 0.9])
    a22 = second_stage_hessian(problem, theta)

    def mean_ll(th):
        return problem.loglik(th)[0].mean()

    h = 1e-4
    num = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h, np.eye(2)[j] * h
            num[i, j] = (
                mean_ll(theta + ei + ej)
                - mean_ll(theta + ei - ej)
                - mean_ll(theta - ei + ej)
                + mean_ll(theta - ei - ej)
            ) / (4 * h * h)
    # second differences of the likelihood with h = 1e-4: relative error ~1e-4
    np.testing.assert_allclose(a22, -num, rtol=1e-3)


@pytest.mark.parametrize("estimation", ["full", "composite-all"])
@pytest.mark.parametrize("dist", ["normal", "t"])
def test_cdcc_scores_include_the_moving_target(z, dist, estimation):
    """cDCC scores are the derivative of the likelihood with its target recomputed at theta."""
    problem = CorrelationProblem.build(z, "cdcc", dist, estimation, ["a", "b", "c"])
    theta = np.array([0.05, 0.9, 8.0]) if dist == "t" else np.array([0.05, 0.9])
    _, scores, ok = problem.loglik(theta, want_grad=True)
    assert ok
    numeric = np.empty(theta.size)
    for k in range(theta.size):
        h = 1e-6 * max(abs(theta[k]), 1.0)
        up, dn = theta.copy(), theta.copy()
        up[k] += h
        dn[k] -= h
        numeric[k] = (problem.loglik(up)[0].sum() - problem.loglik(dn)[0].sum()) / (2 * h)
    # central differences of a sum of ~10^3 terms: relative error ~1e-7
    np.testing.assert_allclose(scores.sum(axis=0), numeric, rtol=1e-5, atol=1e-4)
