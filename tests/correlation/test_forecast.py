"""Forecasts of the DCC family: exact one step, Engle-Sheppard multi-step, labelled output.

The fitted pieces (``qbar``, ``q_next``, univariate ``arch`` results) are built here from
seeded simulated data and a plain numpy reference recursion of the DCC / cDCC / ADCC / CCC
dynamics (written independently of the compiled kernels), so these tests do not depend on the
estimator.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
from arch import arch_model

from research.correlation._kernels import dcc_correlation_path, normalize_q
from research.correlation.forecast import (
    DCCForecast,
    forecast_correlation,
    forecast_covariance,
    forecast_dcc,
    horizon_labels,
    persistence,
    simulate_correlation_forecast,
    univariate_forecast,
)
from research.correlation.simulate import parametric_innovations
from research.errors import NotPositiveDefiniteError, SpecificationError

# identities (same arithmetic, different order of operations)
IDENTITY_TOL = 1e-12
# a mean over P equal values carries up to ~P * eps relative rounding (P = 500 here)
PATH_MEAN_TOL = 1e-10
KINDS = ["dcc", "cdcc", "adcc", "ccc"]
PARAMS = {
    "dcc": {"a": 0.05, "b": 0.90},
    "cdcc": {"a": 0.04, "b": 0.93},
    "adcc": {"a": 0.03, "b": 0.92, "g": 0.04},
    "ccc": {},
}


def reference_q_path(z, kind, params, qbar, nbar):
    """Plain numpy Q_1..Q_{T+1} (Q_1 = qbar)."""
    a, b, g = params.get("a", 0.0), params.get("b", 0.0), params.get("g", 0.0)
    q = qbar.copy()
    out = [q]
    for zt in z:
        if kind == "ccc":
            q = qbar.copy()
        else:
            e = zt * np.sqrt(np.diag(q)) if kind == "cdcc" else zt
            new = (1 - a - b) * qbar + a * np.outer(e, e) + b * q
            if kind == "adcc":
                n = np.minimum(zt, 0.0)
                new = new + g * (np.outer(n, n) - nbar)
            q = new
        out.append(q)
    return np.array(out)


def corr(q):
    d = np.sqrt(np.diag(q))
    return q / np.outer(d, d)


def fake_result(kind, n_assets=3, n_obs=800, seed=0):
    """A DCCResult-like namespace on seeded data with real arch GARCH(1,1) fits."""
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(0.5 * np.eye(n_assets) + 0.5)
    x = rng.standard_normal((n_obs, n_assets)) @ chol.T
    dates = pd.bdate_range("2015-01-01", periods=n_obs)
    assets = [f"A{i}" for i in range(n_assets)]
    returns = pd.DataFrame(x * 1.2 + 0.05, index=dates, columns=assets)
    fits = {
        a: arch_model(returns[a], mean="Constant", vol="GARCH", p=1, q=1).fit(disp="off")
        for a in assets
    }
    z = pd.DataFrame({a: fits[a].std_resid for a in assets})
    zz = z.to_numpy()
    qbar = zz.T @ zz / n_obs
    neg = np.minimum(zz, 0.0)
    nbar = neg.T @ neg / n_obs
    params = PARAMS[kind]
    q_path = reference_q_path(zz, kind, params, qbar, nbar)
    return types.SimpleNamespace(
        kind=kind,
        params=pd.Series(params, dtype=float),
        qbar=qbar,
        nbar=nbar if kind == "adcc" else None,
        q_next=q_path[-1],
        q_path=q_path,
        std_resid=z,
        univariate=types.SimpleNamespace(results=fits),
        assets=assets,
    )


@pytest.fixture(scope="module", params=KINDS)
def result(request):
    return fake_result(request.param)


def test_one_step_is_last_step_of_recursion(result):
    fc = forecast_dcc(result, horizon=1)
    expected = corr(result.q_path[-1])
    assert np.max(np.abs(fc.correlation_matrix(1).to_numpy() - expected)) < IDENTITY_TOL


def test_one_step_covariance_uses_arch_variance(result):
    fc = forecast_dcc(result, horizon=3)
    for k in range(1, 4):
        var = np.array(
            [
                r.forecast(horizon=3, reindex=False).variance.values[-1, k - 1]
                for r in result.univariate.results.values()
            ]
        )
        h = fc.covariance_matrix(k).to_numpy()
        r = fc.correlation_matrix(k).to_numpy()
        assert np.max(np.abs(np.diag(h) - var)) < IDENTITY_TOL
        assert np.max(np.abs(h - r * np.sqrt(np.outer(var, var)))) < IDENTITY_TOL


def test_multistep_converges_to_rbar(result):
    r, q = forecast_correlation(
        result.kind, dict(result.params), result.qbar, result.nbar, result.q_next, 3000
    )
    # (a + b)^2999 < 1e-60 for every kind here, so the last step is Rbar to rounding
    assert np.max(np.abs(r[-1] - corr(result.qbar))) < IDENTITY_TOL
    assert np.max(np.abs(q[-1] - result.qbar)) < IDENTITY_TOL


def test_engle_sheppard_hand_computed_value():
    qbar = np.array([[1.0, 0.3], [0.3, 1.0]])
    q_next = np.array([[1.44, 0.96], [0.96, 1.0]])  # R_{T+1} off-diagonal = 0.96 / 1.2 = 0.8
    r, _ = forecast_correlation("dcc", {"a": 0.1, "b": 0.8}, qbar, None, q_next, 3)
    # h = 3: phi^2 = 0.81; rho = 0.19 * 0.3 + 0.81 * 0.8 = 0.057 + 0.648 = 0.705
    assert r[0, 0, 1] == pytest.approx(0.8, abs=IDENTITY_TOL)
    assert r[1, 0, 1] == pytest.approx(0.1 * 0.3 + 0.9 * 0.8, abs=IDENTITY_TOL)
    assert r[2, 0, 1] == pytest.approx(0.705, abs=IDENTITY_TOL)
    assert np.allclose(np.diagonal(r, axis1=1, axis2=2), 1.0, atol=IDENTITY_TOL)


def test_adcc_decay_excludes_g_and_ccc_is_constant():
    assert persistence("adcc", {"a": 0.03, "b": 0.92, "g": 0.04}) == pytest.approx(0.95)
    assert persistence("ccc", {"a": 0.5, "b": 0.4}) == 0.0
    qbar = np.array([[1.0, 0.2], [0.2, 1.0]])
    q_next = np.array([[2.0, 1.0], [1.0, 1.0]])
    r, _ = forecast_correlation("ccc", {}, qbar, None, q_next, 4)
    assert np.max(np.abs(r - qbar)) < IDENTITY_TOL


def test_labels_and_summary(result):
    fc = forecast_dcc(result, horizon=5)
    assert isinstance(fc, DCCForecast)
    assert fc.horizon == 5 and fc.assets == result.assets
    assert list(fc.variance.index) == horizon_labels(5)
    assert fc.correlation.index.names == ["horizon", "asset"]
    assert fc.correlation.shape == (5 * 3, 3)
    assert fc.origin == result.std_resid.index[-1]
    summary = fc.summary()
    assert list(summary.index) == horizon_labels(5)
    with pytest.raises(SpecificationError):
        fc.correlation_matrix(6)


def test_simulation_method_matches_exact_first_step(result):
    analytic = forecast_dcc(result, horizon=2)
    sim = forecast_dcc(result, horizon=2, method="simulation", simulations=500, seed=3)
    assert sim.method == "simulation" and sim.simulations == 500
    # R_{T+1} and sigma_{T+1} are known at T: every path has them exactly
    diff_r = sim.correlation_matrix(1).to_numpy() - analytic.correlation_matrix(1).to_numpy()
    assert np.max(np.abs(diff_r)) < PATH_MEAN_TOL
    assert np.max(np.abs(sim.variance.iloc[0] - analytic.variance.iloc[0])) < PATH_MEAN_TOL


def test_forecast_covariance_shapes_and_errors():
    r = np.broadcast_to(np.eye(2), (3, 2, 2)).copy()
    h = forecast_covariance(r, np.full((3, 2), 4.0))
    assert np.allclose(h, 4.0 * r)
    with pytest.raises(SpecificationError):
        forecast_covariance(r, np.ones((2, 2)))
    with pytest.raises(SpecificationError):
        forecast_covariance(r, -np.ones((3, 2)))


def test_bad_input_errors(result):
    with pytest.raises(SpecificationError, match="unknown DCC kind"):
        forecast_correlation("bekk", {}, np.eye(2), None, np.eye(2), 1)
    with pytest.raises(SpecificationError, match="horizon"):
        forecast_dcc(result, horizon=0)
    with pytest.raises(SpecificationError, match="method"):
        forecast_dcc(result, horizon=1, method="bootstrap")
    with pytest.raises(SpecificationError, match="must be 2x2"):
        forecast_correlation("dcc", {"a": 0.1, "b": 0.8}, np.eye(2), None, np.eye(3), 1)
    with pytest.raises(NotPositiveDefiniteError):
        forecast_correlation("dcc", {"a": 0.1, "b": 0.8}, np.eye(2), None, -np.eye(2), 1)
    with pytest.raises(SpecificationError, match="lacks"):
        forecast_dcc(object(), horizon=1)


def test_egarch_needs_simulation():
    rng = np.random.default_rng(5)
    y = pd.Series(rng.standard_normal(600), index=pd.bdate_range("2020-01-01", periods=600))
    res = arch_model(y, vol="EGARCH", p=1, o=1, q=1).fit(disp="off")
    with pytest.raises(SpecificationError, match="method='simulation'"):
        univariate_forecast({"y": res}, horizon=3)
    mean, var = univariate_forecast({"y": res}, horizon=1)
    assert var.shape == (1, 1) and mean.index[0] == "h.1"


def test_one_step_is_the_path_kernels_normalisation_bit_for_bit():
    # before: forecast kept its own Q-to-R that forced the diagonal to 1.0, so R_{T+1} of a
    # forecast and of the correlation path kernel differed where sqrt(q_ii)^2 != q_ii (q = 2)
    qbar = np.array([[1.0, 0.3], [0.3, 1.0]])
    q_next = np.array([[2.0, 0.5], [0.5, 1.0]])
    r, _ = forecast_correlation("dcc", PARAMS["dcc"], qbar, None, q_next, 1)
    path = np.empty((1, 2, 2))
    state = q_next.copy()
    dcc_correlation_path(
        np.zeros((1, 2)), 0.05, 0.9, 0.0, qbar, np.zeros((2, 2)), 0, np.empty((0, 2)), state, path
    )
    np.testing.assert_array_equal(r[0], path[0])
    np.testing.assert_array_equal(r[0], normalize_q(q_next))


def test_normalize_q_is_the_whole_array_expression_for_stacks_and_float32():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 40, 4))
    q = np.einsum("kti,ktj->kij", x, x) + 0.1 * np.eye(4)
    d = np.sqrt(np.einsum("kii->ki", q))
    expected = q / (d[:, :, None] * d[:, None, :])
    np.testing.assert_array_equal(normalize_q(q), expected)
    np.testing.assert_array_equal(normalize_q(q[2]), expected[2])
    out32 = np.empty(q.shape, dtype=np.float32)
    assert normalize_q(q, out=out32) is out32
    np.testing.assert_array_equal(out32, expected.astype(np.float32))


# --- multi-step forecasts by simulation (ADCC beyond h = 1) -------------------------------

SIM_QBAR = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]])
SIM_NBAR = np.array([[0.5, 0.33, 0.25], [0.33, 0.5, 0.3], [0.25, 0.3, 0.5]])
#: Q_{T+1} with a unit diagonal: then R_{T+1} = Q_{T+1}, and without the a-term the Q
#: recursion stays on unit diagonals, where the Engle-Sheppard forecast is exact.
SIM_Q_NEXT = np.array([[1.0, 0.8, 0.2], [0.8, 1.0, 0.5], [0.2, 0.5, 1.0]])
#: Monte Carlo bound in standard errors for one entry (a few dozen entries per test).
MC_SE = 5.0


def negative_part_moment(r):
    """E[min(x,0) min(y,0)] for standard normals with correlation r (closed form).

    E[X Y 1{X<0, Y<0}] = (r (pi/2 + arcsin r) + sqrt(1 - r^2)) / (2 pi); 1/2 on the diagonal.
    """
    out = r * (np.pi / 2 + np.arcsin(np.clip(r, -1, 1))) + np.sqrt(np.clip(1 - r**2, 0, None))
    out = out / (2 * np.pi)
    np.fill_diagonal(out, 0.5)
    return out


@pytest.mark.parametrize("nu", [None, 7.0])
def test_simulated_adcc_forecast_is_exact_at_one_step(nu):
    params = {"a": 0.03, "b": 0.92, "g": 0.06}
    r, se = simulate_correlation_forecast(
        "adcc", params, SIM_QBAR, SIM_NBAR, SIM_Q_NEXT * 1.3, 4, 500, seed=0, nu=nu
    )
    exact, _ = forecast_correlation("adcc", params, SIM_QBAR, SIM_NBAR, SIM_Q_NEXT * 1.3, 1)
    np.testing.assert_allclose(r[0], exact[0], rtol=PATH_MEAN_TOL)
    assert np.all(se[0] == 0.0)
    assert np.all(se[1:][~np.eye(3, dtype=bool)[None].repeat(3, 0)] > 0)


def test_simulated_forecast_is_seeded_and_adcc_with_g_zero_is_dcc():
    dcc = {"a": 0.05, "b": 0.9}
    first = simulate_correlation_forecast("dcc", dcc, SIM_QBAR, None, SIM_Q_NEXT, 5, 300, 7)
    again = simulate_correlation_forecast("dcc", dcc, SIM_QBAR, None, SIM_Q_NEXT, 5, 300, 7)
    adcc = simulate_correlation_forecast(
        "adcc", {**dcc, "g": 0.0}, SIM_QBAR, SIM_NBAR, SIM_Q_NEXT, 5, 300, 7
    )
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[0], adcc[0])


def test_simulated_adcc_second_step_matches_numpy_and_closed_form():
    a, b, g = 0.04, 0.9, 0.08
    params = {"a": a, "b": b, "g": g}
    q1 = SIM_Q_NEXT * 1.2
    paths, seed = 40_000, 11
    r, _ = simulate_correlation_forecast("adcc", params, SIM_QBAR, SIM_NBAR, q1, 2, paths, seed)
    # independent numpy: the same draws, z_{T+1} = chol(R_{T+1}) e, then the ADCC update
    rng = np.random.default_rng(seed)
    e = np.concatenate(
        [parametric_innovations(rng, min(4096, paths - s), 2, 3) for s in range(0, paths, 4096)]
    )
    r1 = corr(q1)
    z = e[:, 0] @ np.linalg.cholesky(r1).T
    n = np.minimum(z, 0.0)
    q2 = (
        (1 - a - b) * SIM_QBAR
        - g * SIM_NBAR
        + a * np.einsum("pi,pj->pij", z, z)
        + g * np.einsum("pi,pj->pij", n, n)
        + b * q1
    )
    d = np.sqrt(np.einsum("pii->pi", q2))
    np.testing.assert_allclose(r[1], (q2 / d[:, :, None] / d[:, None, :]).mean(axis=0), rtol=1e-12)
    # E_T[Q_{T+2}] in closed form: E[z z'] = R_{T+1}, E[n n'] the normal orthant moment
    expected = (
        (1 - a - b) * SIM_QBAR - g * SIM_NBAR + a * r1 + g * negative_part_moment(r1) + b * q1
    )
    se = q2.std(axis=0, ddof=1) / np.sqrt(paths)
    assert np.all(np.abs(q2.mean(axis=0) - expected) <= MC_SE * se + 1e-15)


def test_simulated_forecast_converges_to_analytic_recursion_when_g_is_zero():
    """g = 0 is DCC; as a -> 0 the Engle-Sheppard recursion becomes exact (unit diagonals)."""
    horizon = 20
    iu = np.triu_indices(3, 1)
    for a, within in ((0.001, True), (0.05, False)):
        params = {"a": a, "b": 0.9, "g": 0.0}
        r, se = simulate_correlation_forecast(
            "adcc", params, SIM_QBAR, SIM_NBAR, SIM_Q_NEXT, horizon, 20_000, seed=3
        )
        analytic, _ = forecast_correlation("dcc", params, SIM_QBAR, None, SIM_Q_NEXT, horizon)
        gap = np.abs(r - analytic)[:, iu[0], iu[1]]
        bound = MC_SE * se[:, iu[0], iu[1]]
        if within:
            assert np.all(gap <= bound + IDENTITY_TOL)
        else:
            # a = 0.05: the approximation E[z z'] ~ E[Q] leaves a bias (about 0.007 at h = 20)
            # that 20,000 paths resolve: the simulation is not the analytic formula
            assert np.any(gap > bound)
            assert gap.max() < 0.02


def test_simulated_forecast_input_errors():
    with pytest.raises(SpecificationError, match="nbar"):
        simulate_correlation_forecast("adcc", {"a": 0.1, "b": 0.8}, SIM_QBAR, None, SIM_QBAR, 2)
    with pytest.raises(SpecificationError, match="simulations"):
        simulate_correlation_forecast("dcc", {"a": 0.1, "b": 0.8}, SIM_QBAR, None, SIM_QBAR, 2, 1)
    with pytest.raises(SpecificationError, match="nu"):
        simulate_correlation_forecast(
            "dcc", {"a": 0.1, "b": 0.8}, SIM_QBAR, None, SIM_QBAR, 2, 10, nu=2.0
        )
