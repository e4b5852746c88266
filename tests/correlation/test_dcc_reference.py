"""DCC(1,1)-GARCH(1,1) on the bundled S&P 500 data against the reference fits.

References (``tests/reference/sp500_dcc/values.json``, README there):

* Python reference (issue 3): arch univariate fits, Gaussian DCC with Qbar = sample
  correlation of the standardized residuals (``numpy.corrcoef``, mean-centred) and Q_1 = Qbar.
  That is exactly our estimator, so N=5 is pinned to the precision of the quoted digits.
* R rmgarch: its own rugarch univariate fits initialise the variance recursion with the
  full-sample variance instead of arch's backcast, and it targets the sample covariance;
  parameters therefore agree to 1e-3 only, and its numerical-Hessian standard errors to
  about 10 % (ours are the two-step sandwich).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from research.correlation import DCC
from research.data import load_dataset, to_returns

_READER = Path(__file__).resolve().parents[1] / "reference" / "sp500_dcc" / "read_reference.py"
_spec = importlib.util.spec_from_file_location("read_reference", _READER)
read_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(read_reference)
REF = read_reference.load_values()

#: Reference parameters are quoted to 6 decimals; our optimum must round to them (±1e-5
#: allows the last quoted digit plus the optimizer's flat direction along a + b).
PARAM_TOL_N5 = 1e-5
#: Log-likelihoods quoted to 2 (total) and 3 (correlation) decimals.
TOTAL_LL_TOL = 0.005
CORR_LL_TOL = 0.0005
#: First-asset GARCH parameters quoted to 5 decimals.
GARCH_TOL = 5e-6
#: N=20: univariate optima of flat assets move across arch/scipy versions (README), which
#: moves the correlation log-likelihood by ~0.07 and a, b by a few 1e-6.
PARAM_TOL_N20 = 1e-5
LL_TOL_N20 = 0.1
#: rmgarch agreement asked by the issue.
RMGARCH_PARAM_TOL = 1e-3
#: rmgarch standard errors (two decimals of precision quoted) vs our sandwich: 15 %.
RMGARCH_SE_RTOL = 0.15


@pytest.fixture(scope="module")
def returns():
    return to_returns(load_dataset("sp500")).iloc[-2500:]


@pytest.fixture(scope="module")
def fit5(returns):
    return DCC(kind="dcc").fit(returns.iloc[:, :5])


@pytest.fixture(scope="module")
def fit20(returns):
    return DCC(kind="dcc", std_errors=False).fit(returns)


def test_sample_matches_reference(returns):
    assert str(returns.index[0].date()) == REF["data"]["first_date"]
    assert str(returns.index[-1].date()) == REF["data"]["last_date"]
    assert list(returns.columns[:5]) == REF["python"]["N5"]["assets"]


@pytest.mark.parametrize("name", ["a", "b"])
def test_params_n5(fit5, name):
    assert fit5.params[name] == pytest.approx(REF["python"]["N5"][name], abs=PARAM_TOL_N5)


def test_loglikelihood_n5(fit5):
    assert fit5.loglikelihood == pytest.approx(
        REF["python"]["N5"]["loglikelihood"], abs=TOTAL_LL_TOL
    )


def test_correlation_loglikelihood_n5(fit5):
    ref = REF["python"]["N5"]["loglikelihood_correlation"]
    assert fit5.loglikelihood_correlation == pytest.approx(ref, abs=CORR_LL_TOL)


@pytest.mark.parametrize("name", ["mu", "omega", "alpha[1]", "beta[1]"])
def test_first_asset_garch(fit5, name):
    ref = REF["python"]["N5"]["first_asset_garch"][name]
    assert fit5.univariate.params.loc["AAPL", name] == pytest.approx(ref, abs=GARCH_TOL)


@pytest.mark.parametrize("name", ["a", "b"])
def test_params_n20(fit20, name):
    assert fit20.params[name] == pytest.approx(REF["python"]["N20"][name], abs=PARAM_TOL_N20)


@pytest.mark.parametrize("which", ["loglikelihood", "loglikelihood_correlation"])
def test_loglikelihoods_n20(fit20, which):
    assert getattr(fit20, which) == pytest.approx(REF["python"]["N20"][which], abs=LL_TOL_N20)


@pytest.mark.parametrize("case", ["N5", "N20"])
@pytest.mark.parametrize("name", ["a", "b"])
def test_params_close_to_rmgarch(fit5, fit20, case, name):
    res = fit5 if case == "N5" else fit20
    assert abs(res.params[name] - REF["rmgarch"][case][name]) < RMGARCH_PARAM_TOL


@pytest.mark.parametrize("name", ["a", "b"])
def test_std_errors_close_to_rmgarch(fit5, name):
    ref = REF["rmgarch"]["N5"][f"se_{name}"]
    assert fit5.std_errors[name] == pytest.approx(ref, rel=RMGARCH_SE_RTOL)


def test_converged_without_warnings(fit5, fit20):
    for res in (fit5, fit20):
        assert res.converged
        assert res.warnings == ()
        assert res.optimization.success


def test_q_next_is_last_recursion_step(fit5):
    z = fit5.std_resid.to_numpy()[-1]
    a, b = fit5.params["a"], fit5.params["b"]
    q_t = fit5.q_path[-2]
    expected = (1 - a - b) * fit5.qbar + a * np.outer(z, z) + b * q_t
    np.testing.assert_allclose(fit5.q_next, expected, atol=1e-12)


#: generate.py is an independent naive implementation (numpy slogdet/solve + Nelder-Mead):
#: the same likelihood, so on the same residuals our maximum must be at least as high as the
#: peer's likelihood at the peer's (a, b), up to our optimizer's stopping tolerance, and the
#: parameters agree to the optimizers' precision (1e-4 relative, STYLE 4.4).
GENERATED = read_reference.load_generated()
OPTIMIZER_LL_SLACK = 1e-6
INDEPENDENT_PARAM_RTOL = 1e-4
#: Across machines (generated.json vs this run): Nelder-Mead in the peer stops up to ~2e-3
#: below the maximum at N=20 (ours is higher), and the residuals themselves differ slightly.
INDEPENDENT_LL_TOL = 5e-3
#: arch stops SLSQP at its default ftol of 1e-6 on each asset's negative log-likelihood, and
#: its optimum moves in the 8th digit of the parameters between machines (BLAS, CPU): a sum
#: of N univariate log-likelihoods reproduces across machines to N x 1e-6, not better.
ARCH_LL_TOL_PER_ASSET = 1e-6

_GENERATOR = _READER.with_name("generate.py")
_gen_spec = importlib.util.spec_from_file_location("generate", _GENERATOR)
generate = importlib.util.module_from_spec(_gen_spec)
_gen_spec.loader.exec_module(generate)


@pytest.mark.parametrize("case", ["N5", "N20"])
def test_peer_likelihood_is_ours_on_the_same_residuals(fit5, fit20, case):
    res = fit5 if case == "N5" else fit20
    z = res.std_resid.to_numpy()
    ours = generate.dcc_loglik(np.array([res.params["a"], res.params["b"]]), z, res.qbar)
    assert ours == pytest.approx(res.loglikelihood_correlation, abs=1e-8)


@pytest.mark.skipif(GENERATED is None, reason="run tests/reference/sp500_dcc/generate.py first")
@pytest.mark.parametrize("case", ["N5", "N20"])
def test_loglikelihood_at_least_independent_peer(fit5, fit20, case):
    res = fit5 if case == "N5" else fit20
    gen = GENERATED[case]
    peer_point = np.array([gen["a"], gen["b"]])
    peer_on_our_residuals = generate.dcc_loglik(peer_point, res.std_resid.to_numpy(), res.qbar)
    assert res.loglikelihood_correlation >= peer_on_our_residuals - OPTIMIZER_LL_SLACK
    assert res.loglikelihood_correlation == pytest.approx(
        gen["loglikelihood_correlation"], abs=INDEPENDENT_LL_TOL
    )
    n_assets = res.std_resid.shape[1]
    assert res.univariate.loglikelihood == pytest.approx(
        gen["loglikelihood_univariate"], abs=n_assets * ARCH_LL_TOL_PER_ASSET
    )


@pytest.mark.skipif(GENERATED is None, reason="run tests/reference/sp500_dcc/generate.py first")
@pytest.mark.parametrize("case", ["N5", "N20"])
@pytest.mark.parametrize("name", ["a", "b"])
def test_params_match_independent_peer(fit5, fit20, case, name):
    res = fit5 if case == "N5" else fit20
    assert res.params[name] == pytest.approx(GENERATED[case][name], rel=INDEPENDENT_PARAM_RTOL)
