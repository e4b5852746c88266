"""DCC estimator: specification checks, bad input, convergence handling, result API."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from research.correlation import DCC, DCCResult, lr_test
from research.correlation._likelihood import CorrelationProblem
from research.correlation.model import NU_BOUNDS, _variable_scale
from research.errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    InsufficientDataError,
    NotPositiveDefiniteError,
    SpecificationError,
)
from research.volatility import UnivariateFits, fit_univariate

_spec = importlib.util.spec_from_file_location(
    "_dcc_simulator", Path(__file__).with_name("_dcc_simulator.py")
)
_sim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sim)

#: Identities computed two ways from the same numbers.
IDENTITY_TOL = 1e-10


@pytest.fixture(scope="module")
def returns():
    return _sim.simulate_dcc_garch("dcc", {"a": 0.05, "b": 0.9}, 4, 1200, seed=3)


@pytest.fixture(scope="module")
def univariate(returns):
    return fit_univariate(returns)


@pytest.fixture(scope="module")
def res(univariate):
    return DCC().fit(univariate=univariate)


@pytest.fixture(scope="module")
def res_ccc(univariate):
    return DCC(kind="ccc").fit(univariate=univariate)


@pytest.fixture(scope="module")
def res_adcc(univariate):
    return DCC(kind="adcc").fit(univariate=univariate)


# ----- specification ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "bekk"}, "dcc, cdcc, adcc, ccc"),
        ({"distribution": "skewt"}, "normal, t"),
        ({"estimation": "pairwise"}, "full, composite-adjacent, composite-all"),
        ({"univariate": "GARCH"}, "UnivariateSpec"),
        ({"maxiter": 0}, "maxiter"),
        ({"starting_values": (0.1,)}, "needs 2 values"),
        ({"starting_values": (0.2, 0.85)}, "non-stationary"),
        ({"starting_values": (-0.1, 0.5)}, "non-negative"),
        ({"distribution": "t", "starting_values": (0.02, 0.9, 1.5)}, "nu"),
    ],
)
def test_invalid_specification(kwargs, match):
    with pytest.raises(SpecificationError, match=match):
        DCC(**kwargs)


def test_replace_revalidates():
    with pytest.raises(SpecificationError):
        dataclasses.replace(DCC(), kind="nope")


@pytest.mark.parametrize(
    "kind, dist, names",
    [
        ("dcc", "normal", ["a", "b"]),
        ("cdcc", "t", ["a", "b", "nu"]),
        ("adcc", "normal", ["a", "b", "g"]),
        ("ccc", "t", ["nu"]),
    ],
)
def test_param_names(kind, dist, names):
    assert DCC(kind=kind, distribution=dist).param_names == names


def test_adcc_nonstationary_start_raises(univariate):
    with pytest.raises(SpecificationError, match="delta"):
        DCC(kind="adcc", starting_values=(0.05, 0.9, 0.5)).fit(univariate=univariate)


# ----- bad input -------------------------------------------------------------------------
def test_too_few_observations_per_asset():
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        rng.standard_normal((120, 15)),
        index=pd.bdate_range("2020-01-01", periods=120),
        columns=[f"x{i}" for i in range(15)],
    )
    with pytest.raises(InsufficientDataError, match="at least 150"):
        DCC(std_errors=False).fit(data)


def test_one_asset_is_rejected(returns):
    with pytest.raises(DataError, match="at least 2 assets"):
        DCC().fit(returns.iloc[:, :1])


def test_missing_values_raise_with_location(returns):
    bad = returns.copy()
    bad.iloc[100, 2] = np.nan
    with pytest.raises(DataError, match="A2"):
        DCC().fit(bad)


def test_constant_column_raises(returns):
    with pytest.raises(DataError, match="constant"):
        DCC().fit(returns.assign(A1=0.0))


def test_collinear_assets_give_singular_target(univariate):
    z = univariate.std_resid.assign(COPY=univariate.std_resid["A0"])
    with pytest.raises(NotPositiveDefiniteError, match="'A0' and 'COPY'"):
        DCC().fit(univariate=UnivariateFits.from_arrays(z))


def test_needs_returns_or_univariate():
    with pytest.raises(DataError, match="pass returns"):
        DCC().fit()


# ----- convergence -----------------------------------------------------------------------
def test_iteration_limit_is_flagged_and_recorded(univariate):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = DCC(maxiter=1, std_errors=False).fit(univariate=univariate)
    assert not res.converged
    assert any("did not converge" in w for w in res.warnings)
    assert "did not converge" in str(res)


def test_failed_likelihood_raises_convergence_error(univariate, monkeypatch):
    def broken(self, theta, want_grad=False, full=None):
        t = self.z.shape[0]
        return np.zeros(t), np.zeros((t, len(theta))), False

    monkeypatch.setattr(CorrelationProblem, "loglik", broken)
    with pytest.raises(ConvergenceError, match="not finite"):
        DCC(std_errors=False).fit(univariate=univariate)


def test_start_grid_is_recorded(res):
    grid = res.optimization.start_grid
    assert grid.shape[0] >= 10 and grid.shape[1] == 2
    assert res.optimization.fun <= res.optimization.start_values.min()


def test_variable_scale_gives_unit_outer_product_diagonal():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((500, 3)) * np.array([40.0, 3.0, 0.0])
    scale = _variable_scale(scores, 500)
    scaled = scores[:, :2] * scale[:2]
    np.testing.assert_allclose(np.einsum("tk,tk->k", scaled, scaled) / 500, 1.0, rtol=1e-12)
    assert scale[2] == 1.0  # a parameter without score information is left unscaled


@pytest.mark.parametrize(
    "kind, dist", [("dcc", "normal"), ("cdcc", "normal"), ("adcc", "normal"), ("dcc", "t")]
)
def test_scaled_optimizer_reaches_the_unscaled_optimum(univariate, kind, dist):
    """The variable scaling changes the optimizer's path, not the maximum it finds."""
    res = DCC(kind=kind, distribution=dist, std_errors=False).fit(univariate=univariate)
    problem = res.problem
    t_obs = problem.z.shape[0]

    def fun(theta):
        ll, sc, _ = problem.loglik(theta, want_grad=True)
        return -ll.sum() / t_obs, -sc.sum(axis=0) / t_obs

    names = problem.param_names
    weights = np.array([{"a": 1.0, "b": 1.0, "g": problem.delta}.get(p, 0.0) for p in names])
    plain = minimize(
        fun,
        res.optimization.x0,
        jac=True,
        method="SLSQP",
        bounds=[NU_BOUNDS if p == "nu" else (0.0, 1.0) for p in names],
        constraints=[{"type": "ineq", "fun": lambda th: 1 - 1e-6 - weights @ th}],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    assert plain.success
    assert res.loglikelihood_correlation >= -plain.fun * t_obs - 1e-6
    np.testing.assert_allclose(res.params.to_numpy(), plain.x, rtol=1e-4, atol=1e-6)


# ----- result ----------------------------------------------------------------------------
def test_result_is_immutable(res):
    assert isinstance(res, DCCResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.converged = False


def test_contract_attributes(res, returns):
    assert res.kind == "dcc" and res.distribution == "normal"
    assert res.assets == list(returns.columns)
    assert res.qbar.shape == (4, 4) and res.nbar is None
    assert res.q_next.shape == (4, 4)
    assert res.q_path.shape == (1201, 4, 4)
    assert res.std_resid.shape == (1200, 4)
    assert set(res.univariate.results) == set(returns.columns)


def test_inference_identities(res):
    np.testing.assert_allclose(res.tstats, res.params / res.std_errors, rtol=IDENTITY_TOL)
    ci = res.conf_int(0.9)
    np.testing.assert_allclose(ci["upper"] - res.params, 1.6448536269514722 * res.std_errors)
    assert ((res.pvalues >= 0) & (res.pvalues <= 1)).all()
    with pytest.raises(SpecificationError):
        res.conf_int(1.5)


def test_information_criteria(res):
    k = 4 * 4 + 2
    assert res.n_params == k
    assert res.aic == pytest.approx(-2 * res.loglikelihood + 2 * k)
    assert res.bic == pytest.approx(-2 * res.loglikelihood + np.log(1200) * k)
    assert res.loglikelihood == pytest.approx(
        res.univariate.loglikelihood + res.loglikelihood_correlation
    )


def test_correlation_frame(res):
    corr = res.correlation
    assert corr.shape == (1200 * 4, 4)
    assert corr.index.names == ["date", "asset"]
    day = corr.loc[res.std_resid.index[40]].to_numpy()
    np.testing.assert_allclose(np.diag(day), 1.0, atol=IDENTITY_TOL)
    np.testing.assert_allclose(day, day.T, atol=IDENTITY_TOL)
    assert np.linalg.eigvalsh(day)[0] > 0
    q = res.q_path[40]
    d = np.sqrt(np.diag(q))
    np.testing.assert_allclose(day, q / np.outer(d, d), atol=IDENTITY_TOL)


def test_covariance_is_d_r_d(res):
    date = res.std_resid.index[100]
    h = res.covariance.loc[date].to_numpy()
    r = res.correlation.loc[date].to_numpy()
    s = res.univariate.sigma.loc[date].to_numpy()
    np.testing.assert_allclose(h, r * np.outer(s, s), atol=IDENTITY_TOL)


def test_correlation_pair(res):
    pair = res.correlation_pair("A0", "A2")
    assert pair.iloc[7] == pytest.approx(res.correlation_array[7, 0, 2])


def test_summary_renders(res):
    smry = res.summary()
    text = smry.as_text()
    assert "Correlation dynamics" in text and "Univariate model: A3" in text
    assert "two-step" in text
    assert "<table" in res._repr_html_()
    assert "tabular" in smry.as_latex()


def test_data_description(res, returns):
    desc = res.data_description
    assert desc["assets"] == list(returns.columns)
    assert desc["first_date"] == returns.index[0]
    assert desc["nobs"] == 1200 and desc["dropped_rows"] == 0
    assert len(desc["std_resid_sha256"]) == 16


# ----- fix -------------------------------------------------------------------------------
def test_fix_at_estimates_reproduces_likelihood(res):
    fixed = res.fix(res.params)
    assert fixed.loglikelihood_correlation == pytest.approx(
        res.loglikelihood_correlation, abs=IDENTITY_TOL
    )
    assert fixed.param_cov is None and fixed.std_errors.isna().all()


def test_fix_at_stressed_params_lowers_likelihood(res):
    stressed = res.fix({"a": 0.15, "b": 0.8})
    assert stressed.loglikelihood_correlation < res.loglikelihood_correlation
    assert any("fixed" in w for w in stressed.warnings)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"a": 0.5, "b": 0.6}, "non-stationary"),
        ({"a": 0.1}, "exactly the parameters"),
        ({"a": -0.1, "b": 0.5}, "non-negative"),
    ],
)
def test_fix_rejects_invalid(res, params, match):
    with pytest.raises(SpecificationError, match=match):
        res.fix(params)


# ----- user residuals, kinds -------------------------------------------------------------
def test_user_residuals_skip_first_stage_correction(univariate):
    wrapped = UnivariateFits.from_arrays(univariate.std_resid, univariate.sigma)
    res = DCC().fit(univariate=wrapped)
    assert any("ignore first-stage" in w for w in res.warnings)
    full = DCC().fit(univariate=univariate)
    assert res.params.to_numpy() == pytest.approx(full.params.to_numpy(), abs=1e-8)


def test_ccc_has_constant_correlation(res_ccc):
    assert res_ccc.params.empty
    np.testing.assert_allclose(res_ccc.correlation_array[0], res_ccc.correlation_array[-1])
    np.testing.assert_allclose(res_ccc.correlation_array[5], res_ccc.qbar, atol=IDENTITY_TOL)


def test_adcc_exposes_nbar(res_adcc):
    assert res_adcc.nbar.shape == (4, 4)
    assert list(res_adcc.params.index) == ["a", "b", "g"]


def test_composite_objective_differs_from_full_likelihood(univariate):
    res = DCC(estimation="composite-adjacent").fit(univariate=univariate)
    assert res.objective != pytest.approx(res.loglikelihood_correlation)
    assert res.std_errors.notna().all()


# ----- likelihood-ratio tests ------------------------------------------------------------
def test_lr_test_dcc_vs_ccc(res, res_ccc):
    out = lr_test(res_ccc, res)
    assert out.df == 2
    assert out.statistic == pytest.approx(
        2 * (res.loglikelihood_correlation - res_ccc.loglikelihood_correlation)
    )
    assert out.pvalue < 1e-6  # the data are simulated with a = 0.05, b = 0.9
    assert "unidentified" in str(out)


def test_lr_test_adcc_vs_dcc(res, res_adcc):
    out = lr_test(res, res_adcc)
    assert out.df == 1
    assert 0 <= out.pvalue <= 1


def test_lr_test_rejects_non_nested_or_different_data(res, res_ccc, res_adcc, returns):
    with pytest.raises(SpecificationError, match="not nested"):
        lr_test(res_adcc, res)
    other = DCC(kind="ccc").fit(returns.iloc[100:])
    with pytest.raises(SpecificationError, match="different data"):
        lr_test(other, res)


# ----- forecast / simulate delegation ----------------------------------------------------
def test_forecast_delegates(res):
    fc = res.forecast(horizon=3)
    assert fc.correlation.shape[0] == 3 * 4


def test_simulate_is_reproducible(res):
    first = res.simulate(horizon=2, paths=50, method="fhs", seed=1)
    second = res.simulate(horizon=2, paths=50, method="fhs", seed=1)
    np.testing.assert_array_equal(first.returns, second.returns)


def test_composite_std_errors_use_only_affected_pairs(univariate, monkeypatch):
    # the first-stage correction perturbs one asset at a time; restricting the composite
    # score to the pairs containing that asset must give the same standard errors
    fast = DCC(estimation="composite-all").fit(univariate=univariate).std_errors
    monkeypatch.setattr(CorrelationProblem, "involving", lambda self, i: (self, i))
    slow = DCC(estimation="composite-all").fit(univariate=univariate).std_errors
    np.testing.assert_allclose(fast, slow, rtol=1e-8)
