"""Simulation of the DCC family: kernel vs a naive loop, exactness, Monte Carlo checks, FHS.

Fitted pieces come from seeded simulated data, real ``arch`` GARCH fits and a plain numpy
reference recursion (independent of the compiled kernels), so the tests do not depend on the
estimator.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
from arch import arch_model

from research.correlation._kernels import dcc_q_path
from research.correlation.forecast import dcc_state, forecast_dcc
from research.correlation.simulate import (
    DCCSimulation,
    decorrelate_residuals,
    simulate_correlation_paths,
    simulate_dcc,
    simulate_univariate,
)
from research.errors import NotPositiveDefiniteError, SpecificationError

# identities (same arithmetic, different order of operations)
IDENTITY_TOL = 1e-12
# z -> e -> z round trip through a triangular solve of a 4x4 correlation matrix
ROUND_TRIP_TOL = 1e-10
# Monte Carlo checks: |estimate - truth| <= 5 standard errors (false alarm ~ 6e-7 per check)
MC_SIGMAS = 5.0
KINDS = ["dcc", "cdcc", "adcc", "ccc"]
PARAMS = {
    "dcc": {"a": 0.05, "b": 0.90},
    "cdcc": {"a": 0.04, "b": 0.93},
    "adcc": {"a": 0.03, "b": 0.92, "g": 0.04},
    "ccc": {},
}


def reference_update(q, zt, kind, params, qbar, nbar):
    a, b, g = params.get("a", 0.0), params.get("b", 0.0), params.get("g", 0.0)
    if kind == "ccc":
        return qbar.copy()
    e = zt * np.sqrt(np.diag(q)) if kind == "cdcc" else zt
    new = (1 - a - b) * qbar + a * np.outer(e, e) + b * q
    if kind == "adcc":
        n = np.minimum(zt, 0.0)
        new = new + g * (np.outer(n, n) - nbar)
    return new


def corr(q):
    d = np.sqrt(np.diag(q))
    return q / np.outer(d, d)


def fake_result(kind, n_assets=4, n_obs=800, seed=0, vol="GARCH", nu=None):
    """A DCCResult-like namespace on seeded data with real arch fits."""
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(0.4 * np.eye(n_assets) + 0.6)
    x = rng.standard_normal((n_obs, n_assets)) @ chol.T
    dates = pd.bdate_range("2015-01-01", periods=n_obs)
    assets = [f"A{i}" for i in range(n_assets)]
    returns = pd.DataFrame(x * 1.2 + 0.05, index=dates, columns=assets)
    o = 1 if vol in ("GJR", "EGARCH") else 0
    fits = {
        a: arch_model(returns[a], vol="GARCH" if vol == "GJR" else vol, p=1, o=o, q=1).fit(
            disp="off"
        )
        for a in assets
    }
    z = pd.DataFrame({a: fits[a].std_resid for a in assets})
    zz = z.to_numpy()
    qbar = zz.T @ zz / n_obs
    neg = np.minimum(zz, 0.0)
    nbar = neg.T @ neg / n_obs
    params = dict(PARAMS[kind])
    q = qbar.copy()
    for zt in zz:
        q = reference_update(q, zt, kind, params, qbar, nbar)
    if nu is not None:
        params["nu"] = nu
    return types.SimpleNamespace(
        kind=kind,
        params=pd.Series(params, dtype=float),
        qbar=qbar,
        nbar=nbar if kind == "adcc" else None,
        q_next=q,
        std_resid=z,
        univariate=types.SimpleNamespace(results=fits),
    )


@pytest.fixture(scope="module", params=KINDS)
def result(request):
    return fake_result(request.param)


def test_kernel_matches_naive_loop(result):
    state = dcc_state(result)
    rng = np.random.default_rng(11)
    e = rng.standard_normal((7, 5, 4))
    z, r = simulate_correlation_paths(
        state.kind, state.params, state.qbar, state.nbar, state.q_next, e, True
    )
    for p in range(7):
        q = state.q_next.copy() if state.kind != "ccc" else state.qbar.copy()
        for k in range(5):
            rk = corr(q)
            zk = np.linalg.cholesky(rk) @ e[p, k]
            assert np.max(np.abs(r[p, k] - rk)) < IDENTITY_TOL
            assert np.max(np.abs(z[p, k] - zk)) < IDENTITY_TOL
            q = reference_update(q, zk, state.kind, state.params, state.qbar, state.nbar)


def test_first_step_is_exact_one_step_correlation(result):
    sim = simulate_dcc(result, horizon=3, paths=200, seed=0, store_correlation=True)
    exact = forecast_dcc(result, horizon=1).correlation_matrix(1).to_numpy()
    assert np.max(np.abs(sim.correlation[:, 0] - exact)) < IDENTITY_TOL
    assert np.max(np.abs(sim.correlation.mean(axis=0)[0] - exact)) < 1e-10  # mean of 200 equal
    # every R is a correlation matrix
    assert np.allclose(np.diagonal(sim.correlation, axis1=2, axis2=3), 1.0)


def test_reproducible_and_seed_dependent(result):
    a = simulate_dcc(result, horizon=4, paths=300, method="parametric", seed=42)
    b = simulate_dcc(result, horizon=4, paths=300, method="parametric", seed=42)
    c = simulate_dcc(result, horizon=4, paths=300, method="parametric", seed=43)
    assert np.array_equal(a.returns, b.returns)
    assert not np.allclose(a.returns, c.returns)
    f1 = simulate_dcc(result, horizon=4, paths=300, method="fhs", seed=np.random.default_rng(7))
    f2 = simulate_dcc(result, horizon=4, paths=300, method="fhs", seed=np.random.default_rng(7))
    assert np.array_equal(f1.returns, f2.returns) and f1.seed is None and a.seed == 42


def test_one_step_covariance_within_monte_carlo_error():
    res = fake_result("dcc", seed=1)
    paths = 40_000
    sim = simulate_dcc(res, horizon=1, paths=paths, method="parametric", seed=5)
    h = forecast_dcc(res, horizon=1).covariance_matrix(1).to_numpy()
    x = sim.returns[:, 0, :]
    sample = np.cov(x, rowvar=False)
    # Gaussian: Var(s_ij) = (h_ii h_jj + h_ij^2) / P
    se = np.sqrt((np.outer(np.diag(h), np.diag(h)) + h**2) / paths)
    assert np.all(np.abs(sample - h) <= MC_SIGMAS * se)
    # and the mean is the arch mean forecast mu (se = sqrt(h_ii / P))
    mu = np.array([r.params["mu"] for r in res.univariate.results.values()])
    assert np.all(np.abs(x.mean(axis=0) - mu) <= MC_SIGMAS * np.sqrt(np.diag(h) / paths))


def test_student_t_innovations_have_t_kurtosis():
    nu = 10.0
    res = fake_result("dcc", seed=2, nu=nu)
    sim = simulate_dcc(res, horizon=2, paths=50_000, method="parametric", seed=9)
    assert sim.distribution == "t"
    z = sim.std_resid[:, 0, 0]
    excess = np.mean(z**4) / np.mean(z**2) ** 2 - 3.0
    # t(10): excess kurtosis 6 / (nu - 4) = 1; the sample estimate has sd ~ 0.1 at this
    # size (finite 8th moment), so 0.5 is 5 sd; the Gaussian value 0 is excluded
    assert abs(excess - 6.0 / (nu - 4.0)) < 0.5
    assert abs(np.var(z) - 1.0) < MC_SIGMAS * np.sqrt(np.mean(z**4) / z.size)


def test_fhs_draws_only_observed_residual_vectors(result):
    sim = simulate_dcc(result, horizon=3, paths=500, method="fhs", seed=4)
    assert sim.draw_index.shape == (500, 3) and sim.distribution == "empirical"
    state = dcc_state(result)
    history = decorrelate_residuals(state)
    # re-correlating each historical e_t with its own R_t gives z_t back
    zz = state.std_resid.to_numpy()
    q = dcc_q_path(
        np.ascontiguousarray(zz), state.a, state.b, state.g, state.qbar, state.nbar, state.kind_code
    )[:-1]
    back = np.einsum("tij,tj->ti", np.linalg.cholesky(np.array([corr(m) for m in q])), history)
    assert np.max(np.abs(back - zz)) < ROUND_TRIP_TOL
    # the first simulated day uses R_{T+1}: z = chol(R_{T+1}) e_drawn
    low = np.linalg.cholesky(corr(state.q_next))
    drawn = history[sim.draw_index[:, 0]]
    assert np.max(np.abs(sim.std_resid[:, 0] - drawn @ low.T)) < ROUND_TRIP_TOL


def test_fhs_under_ccc_reproduces_historical_days():
    res = fake_result("ccc", seed=3)
    sim = simulate_dcc(res, horizon=5, paths=400, method="fhs", seed=8)
    observed = res.std_resid.to_numpy()[sim.draw_index]
    assert np.max(np.abs(sim.std_resid - observed)) < ROUND_TRIP_TOL


def test_fast_garch_equals_arch_path_by_path(result):
    fast = simulate_dcc(result, horizon=6, paths=300, seed=12, univariate_engine="fast")
    slow = simulate_dcc(result, horizon=6, paths=300, seed=12, univariate_engine="arch")
    assert fast.univariate_engine == "fast" and slow.univariate_engine == "arch"
    assert np.max(np.abs(fast.returns - slow.returns)) < IDENTITY_TOL
    assert np.max(np.abs(fast.variance - slow.variance)) < IDENTITY_TOL


def test_any_arch_model_goes_through_arch():
    res = fake_result("dcc", seed=6, vol="GJR")
    sim = simulate_dcc(res, horizon=3, paths=100, seed=1)
    assert sim.univariate_engine == "arch"
    # first-day variance is the GJR one-step forecast, known at T
    for i, fit in enumerate(res.univariate.results.values()):
        v1 = fit.forecast(horizon=1, reindex=False).variance.values[-1, 0]
        assert np.max(np.abs(sim.variance[:, 0, i] - v1)) < IDENTITY_TOL * 10
    with pytest.raises(SpecificationError, match="engine='fast'"):
        simulate_dcc(res, horizon=3, paths=10, seed=1, univariate_engine="fast")


def test_result_object_helpers(result):
    sim = simulate_dcc(result, horizon=4, paths=250, seed=2, store_correlation=True)
    assert isinstance(sim, DCCSimulation)
    assert (sim.paths, sim.horizon, sim.n_assets) == (250, 4, 4)
    cum = sim.cumulative_returns
    assert np.allclose(cum.to_numpy(), sim.returns.sum(axis=1))
    assert list(cum.columns) == list(result.std_resid.columns)
    port = sim.portfolio_returns({"A0": 1.0, "A1": -1.0})
    assert np.allclose(port["h.4"], cum["A0"] - cum["A1"])
    fan = sim.correlation_quantiles("A0", "A1", levels=(0.1, 0.5, 0.9))
    assert fan.shape == (4, 3) and (fan[0.1] <= fan[0.9]).all()
    cov = sim.covariance
    assert np.allclose(np.diagonal(cov, axis1=2, axis2=3), sim.variance)
    assert sim.summary().shape == (4, 4)
    with pytest.raises(ValueError):
        sim.returns[0, 0, 0] = 1.0  # results are values
    nocorr = simulate_dcc(result, horizon=2, paths=10, seed=2)
    with pytest.raises(SpecificationError, match="store_correlation"):
        _ = nocorr.covariance


def test_bad_input(result):
    with pytest.raises(SpecificationError, match="paths"):
        simulate_dcc(result, horizon=2, paths=0)
    with pytest.raises(SpecificationError, match="horizon"):
        simulate_dcc(result, horizon=0, paths=10)
    with pytest.raises(SpecificationError, match="method"):
        simulate_dcc(result, horizon=1, paths=10, method="bootstrap")
    with pytest.raises(SpecificationError, match="innovations"):
        simulate_correlation_paths(
            "dcc", {"a": 0.1, "b": 0.8}, np.eye(2), None, np.eye(2), np.zeros((3, 2, 3))
        )
    with pytest.raises(SpecificationError, match="std_resid"):
        simulate_univariate(result.univariate.results, np.zeros((3, 2, 1)))


def test_invalid_parameters_are_reported():
    # a + b > 1 with a large shock drives Q far from the target; with b < 0 the update can
    # leave the positive-definite cone, which must raise rather than return garbage
    qbar = np.array([[1.0, 0.9], [0.9, 1.0]])
    e = np.tile(np.array([3.0, -3.0]), (1, 4, 1))
    with pytest.raises(NotPositiveDefiniteError, match="not positive definite"):
        simulate_correlation_paths("dcc", {"a": 0.9, "b": -0.9}, qbar, None, qbar, e)


def test_mixed_univariate_models_use_fast_and_arch_engines():
    res = fake_result("dcc", seed=7)
    gjr = fake_result("dcc", seed=7, vol="GJR").univariate.results
    mixed = dict(res.univariate.results)
    mixed["A2"] = gjr["A2"]
    z = np.random.default_rng(4).standard_normal((50, 3, 4))
    ret, var, engine = simulate_univariate(mixed, z)
    assert engine == "mixed"
    ret_arch, var_arch, engine_arch = simulate_univariate(mixed, z, engine="arch")
    assert engine_arch == "arch"
    assert np.max(np.abs(ret - ret_arch)) < IDENTITY_TOL
    assert np.max(np.abs(var - var_arch)) < IDENTITY_TOL


def test_simulation_repr_is_a_one_line_description():
    import numpy as np

    from research.correlation.simulate import DCCSimulation

    zeros = np.zeros((3, 2, 1))
    sim = DCCSimulation(zeros, zeros, zeros, None, ("A",), "dcc", "fhs", "empirical", 0)
    assert repr(sim) == (
        "DCCSimulation(kind='dcc', method='fhs', distribution='empirical', paths=3, horizon=2, "
        "assets=1, origin=None, seed=0)"
    )
