"""Numerical derivatives of a fitted ``arch`` model, used by the two-step standard errors.

The univariate log-likelihood and the standardized residuals are re-evaluated through
the model's own variance recursion with the backcast and variance bounds that ``arch``
uses when it computes its parameter covariance, so the derivatives are those of the
objective that was maximized.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from arch.univariate.base import ARCHModelResult
from statsmodels.tools.numdiff import approx_hess

from research._typing import Float64Array1D, Float64Array2D

__all__ = ["UnivariateDerivatives", "univariate_derivatives", "std_resid_at"]

#: Relative step of the central differences (about the cube root of machine epsilon).
_STEP = 6e-6


@dataclass(frozen=True)
class UnivariateDerivatives:
    """Per-observation scores, mean Hessian and standardized-residual Jacobian of one asset.

    Parameters
    ----------
    scores : ndarray, shape (T, k)
        Derivatives of each observation's log-likelihood in the k parameters.
    hessian : ndarray, shape (k, k)
        Mean (over observations) Hessian of the log-likelihood.
    z_jacobian : ndarray, shape (T, k)
        Derivatives of the standardized residuals z_t in the parameters.
    """

    scores: Float64Array2D
    hessian: Float64Array2D
    z_jacobian: Float64Array2D


def _objective(result: ARCHModelResult):
    model = result.model
    resids = model.resids(model.starting_values())
    backcast = model._backcast
    if backcast is None:
        backcast = model.volatility.backcast(resids)
    var_bounds = model.volatility.variance_bounds(resids)
    return model, backcast, var_bounds


def std_resid_at(result: ARCHModelResult, params: Float64Array1D) -> Float64Array1D:
    """Standardized residuals of a fitted model re-evaluated at other parameters.

    Parameters
    ----------
    result : arch ARCHModelResult
        A fitted model.
    params : ndarray, shape (k,)
        Parameters in the order of ``result.params``.

    Returns
    -------
    ndarray
        z_t for the observations the model uses (leading lags excluded).
    """
    model, backcast, var_bounds = _objective(result)
    mp, vp, _ = model._parse_parameters(params)
    resids = model.resids(mp)
    sigma2 = np.zeros(resids.shape[0])
    sigma2 = model.volatility.compute_variance(vp, resids, sigma2, backcast, var_bounds)
    return resids / np.sqrt(sigma2)


def univariate_derivatives(result: ARCHModelResult) -> UnivariateDerivatives:
    """Scores, Hessian and standardized-residual Jacobian of a fitted ``arch`` model.

    Parameters
    ----------
    result : arch ARCHModelResult
        A fitted model.

    Returns
    -------
    UnivariateDerivatives
        Central-difference derivatives at ``result.params``.
    """
    model, backcast, var_bounds = _objective(result)
    params = result.params.to_numpy(dtype=float)
    n_obs = model.resids(model._parse_parameters(params)[0]).shape[0]

    def loglik_t(x: Float64Array1D) -> Float64Array1D:
        sigma2 = np.zeros(n_obs)
        return -np.asarray(
            model._loglikelihood(x, sigma2, backcast, var_bounds, individual=True), dtype=float
        )

    def loglik(x: Float64Array1D) -> float:
        return float(loglik_t(x).sum())

    k = params.shape[0]
    scores = np.empty((n_obs, k))
    z_jac = np.empty((n_obs, k))
    for j in range(k):
        h = _STEP * max(abs(params[j]), 0.1)
        up = params.copy()
        dn = params.copy()
        up[j] += h
        dn[j] -= h
        scores[:, j] = (loglik_t(up) - loglik_t(dn)) / (2 * h)
        z_jac[:, j] = (std_resid_at(result, up) - std_resid_at(result, dn)) / (2 * h)
    hessian = approx_hess(params, loglik) / n_obs
    return UnivariateDerivatives(scores=scores, hessian=hessian, z_jacobian=z_jac)
