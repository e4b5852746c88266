"""Compiled DCC kernels against plain-Python loops, scipy densities and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import approx_fprime

from research.correlation import _kernels as kern

#: Same arithmetic in a different order: agreement to rounding.
IDENTITY_TOL = 1e-10
#: Forward differences with step 1e-6 on sums of ~10^3 terms: relative error ~1e-4.
FD_RTOL = 2e-4
PARAMS = {"a": 0.05, "b": 0.9, "g": 0.03, "nu": 7.0}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(42)
    corr = np.array(
        [[1, 0.3, 0.2, 0.1], [0.3, 1, 0.4, 0.2], [0.2, 0.4, 1, 0.3], [0.1, 0.2, 0.3, 1.0]]
    )
    z = rng.standard_normal((250, 4)) @ np.linalg.cholesky(corr).T
    z = np.ascontiguousarray(z)
    qbar = np.corrcoef(z.T)
    neg = np.minimum(z, 0)
    nbar = neg.T @ neg / len(z)
    return z, qbar, nbar


def naive_q_path(z, a, b, g, qbar, nbar, kind):
    q = qbar.copy()
    out = [q.copy()]
    for zt in z:
        if kind == "ccc":
            q = qbar.copy()
        else:
            e = zt * np.sqrt(np.diag(q)) if kind == "cdcc" else zt
            n = np.minimum(zt, 0)
            new = (1 - a - b) * qbar + a * np.outer(e, e) + b * q
            if kind == "adcc":
                new += g * (np.outer(n, n) - nbar)
            q = new
        out.append(q.copy())
    return np.array(out)


def naive_loglik(z, qpath, dist, nu):
    ll = []
    n = z.shape[1]
    for zt, q in zip(z, qpath[:-1], strict=False):
        d = np.sqrt(np.diag(q))
        r = q / np.outer(d, d)
        if dist == "normal":
            logf = stats.multivariate_normal(np.zeros(n), r).logpdf(zt)
        else:
            logf = stats.multivariate_t(np.zeros(n), r * (nu - 2) / nu, df=nu).logpdf(zt)
        ll.append(logf - stats.norm.logpdf(zt).sum())
    return np.array(ll)


def naive_cdcc_target(z, a, b):
    t_obs, n = z.shape
    zs = np.empty_like(z)
    for i in range(n):
        q = 1.0
        for t in range(t_obs):
            zs[t, i] = z[t, i] * np.sqrt(q)
            q = (1 - a - b) + a * zs[t, i] ** 2 + b * q
    s = zs.T @ zs / t_obs
    d = np.sqrt(np.diag(s))
    return s / np.outer(d, d)


@pytest.mark.parametrize("kind", ["dcc", "cdcc", "adcc", "ccc"])
def test_q_path_matches_plain_loop(data, kind):
    z, qbar, nbar = data
    a, b, g = PARAMS["a"], PARAMS["b"], PARAMS["g"]
    fast = kern.dcc_q_path(z, a, b, g, qbar, nbar, kern.KIND_CODES[kind])
    slow = naive_q_path(z, a, b, g, qbar, nbar, kind)
    assert fast.shape == (len(z) + 1, 4, 4)
    np.testing.assert_allclose(fast, slow, atol=IDENTITY_TOL, rtol=0)
    np.testing.assert_array_equal(fast[0], qbar)


def test_kind_codes_contract():
    assert kern.KIND_CODES == {"dcc": 0, "cdcc": 1, "adcc": 2, "ccc": 3}


@pytest.mark.parametrize("dist", ["normal", "t"])
@pytest.mark.parametrize("kind", ["dcc", "cdcc", "adcc", "ccc"])
def test_loglik_matches_scipy_densities(data, kind, dist):
    z, qbar, nbar = data
    a, b, g, nu = PARAMS["a"], PARAMS["b"], PARAMS["g"], PARAMS["nu"]
    c, dc = kern.t_constants(nu, 4)
    ll, _, ok = kern.correlation_loglik(
        z, a, b, g, qbar, nbar, kern.KIND_CODES[kind], kern.DIST_CODES[dist], nu, c, dc, False
    )
    assert ok
    slow = naive_loglik(z, naive_q_path(z, a, b, g, qbar, nbar, kind), dist, nu)
    np.testing.assert_allclose(ll, slow, atol=1e-9, rtol=0)


def test_t_constants_derivative():
    c, dc = kern.t_constants(7.0, 5)
    h = 1e-6
    numeric = (kern.t_constants(7.0 + h, 5)[0] - kern.t_constants(7.0 - h, 5)[0]) / (2 * h)
    assert dc == pytest.approx(numeric, rel=1e-7)


def test_cdcc_target_matches_plain_loop(data):
    z, _, _ = data
    np.testing.assert_allclose(
        kern.cdcc_target(z, 0.05, 0.9), naive_cdcc_target(z, 0.05, 0.9), atol=IDENTITY_TOL
    )


def test_cdcc_target_gradient_matches_central_differences(data):
    z, _, _ = data
    a, b, h = 0.05, 0.9, 1e-6
    target, gradient = kern.cdcc_target_gradient(z, a, b)
    np.testing.assert_allclose(target, naive_cdcc_target(z, a, b), atol=IDENTITY_TOL)
    for k, step in enumerate([(h, 0.0), (0.0, h)]):
        up = naive_cdcc_target(z, a + step[0], b + step[1])
        dn = naive_cdcc_target(z, a - step[0], b - step[1])
        # central differences of O(1) entries with step 1e-6: error ~1e-9
        np.testing.assert_allclose(gradient[k], (up - dn) / (2 * h), atol=1e-7)
    assert np.abs(gradient[:2]).max() > 1e-2  # the target really moves with (a, b)
    np.testing.assert_array_equal(gradient[2], 0.0)
    np.testing.assert_allclose(np.diagonal(gradient, axis1=1, axis2=2), 0.0, atol=1e-14)


def _theta_loglik(z, qbar, nbar, kind, dist, composite, pairs):
    def f(theta):
        a, b, g, nu = theta
        c, dc = kern.t_constants(nu, 2 if composite else z.shape[1])
        args = (z, a, b, g, qbar, nbar, kern.KIND_CODES[kind], kern.DIST_CODES[dist], nu, c, dc)
        if composite:
            return kern.composite_loglik(*args, True, pairs)
        return kern.correlation_loglik(*args, True)

    return f


@pytest.mark.parametrize("composite", [False, True], ids=["full", "composite"])
@pytest.mark.parametrize("dist", ["normal", "t"])
@pytest.mark.parametrize("kind", ["dcc", "cdcc", "adcc", "ccc"])
def test_analytic_scores_match_finite_differences(data, kind, dist, composite):
    z, qbar, nbar = data
    pairs = np.array([(i, j) for i in range(4) for j in range(i + 1, 4)], dtype=np.int64)
    f = _theta_loglik(z, qbar, nbar, kind, dist, composite, pairs)
    theta = np.array([PARAMS["a"], PARAMS["b"], PARAMS["g"], PARAMS["nu"]])
    _, scores, ok = f(theta)
    assert ok
    numeric = approx_fprime(theta, lambda x: f(x)[0].sum(), 1e-6)
    used = [0, 1] if kind in ("dcc", "cdcc") else [0, 1, 2] if kind == "adcc" else []
    if dist == "t":
        used.append(3)
    np.testing.assert_allclose(scores.sum(axis=0)[used], numeric[used], rtol=FD_RTOL, atol=1e-3)


@pytest.mark.parametrize("kind", ["dcc", "cdcc", "adcc", "ccc"])
def test_composite_is_sum_of_bivariate_full_likelihoods(data, kind):
    z, qbar, nbar = data
    pairs = np.array([(0, 1), (1, 2), (0, 3)], dtype=np.int64)
    a, b, g = PARAMS["a"], PARAMS["b"], PARAMS["g"]
    code = kern.KIND_CODES[kind]
    total = np.zeros(len(z))
    for i, j in pairs:
        idx = [i, j]
        zp = np.ascontiguousarray(z[:, idx])
        total += kern.correlation_loglik(
            zp,
            a,
            b,
            g,
            qbar[np.ix_(idx, idx)].copy(),
            nbar[np.ix_(idx, idx)].copy(),
            code,
            0,
            0.0,
            0.0,
            0.0,
            False,
        )[0]
    comp = kern.composite_loglik(z, a, b, g, qbar, nbar, code, 0, 0.0, 0.0, 0.0, False, pairs)[0]
    np.testing.assert_allclose(comp, total, atol=IDENTITY_TOL)


def test_parallel_and_serial_composite_agree(data, monkeypatch):
    z, qbar, nbar = data
    pairs = np.array([(i, j) for i in range(4) for j in range(i + 1, 4)], dtype=np.int64)
    args = (z, 0.05, 0.9, 0.03, qbar, nbar, 2, 1, 7.0, *kern.t_constants(7.0, 2), True, pairs)
    serial = kern.composite_loglik(*args)
    monkeypatch.setattr(kern, "PARALLEL_MIN_WORK", 0)  # pairs in chunks on threads
    parallel = kern.composite_loglik(*args)
    np.testing.assert_allclose(serial[0], parallel[0], atol=IDENTITY_TOL)
    np.testing.assert_allclose(serial[1], parallel[1], atol=IDENTITY_TOL)
    assert serial[2] and parallel[2]


def test_non_positive_definite_path_is_flagged():
    z = np.ascontiguousarray(np.tile([[3.0, -3.0]], (50, 1)))
    qbar = np.array([[1.0, 0.99], [0.99, 1.0]])
    _, _, ok = kern.correlation_loglik(
        z, 0.0, 0.0, 0.0, qbar * np.array([[1, 1.02], [1.02, 1]]), qbar, 3, 0, 0.0, 0.0, 0.0, False
    )
    assert not ok
