"""Two-step-corrected sandwich covariance of the second-stage (correlation) parameters.

With univariate parameters phi (first stage) and correlation parameters psi (second
stage), scores s1_t(phi) and s2_t(phi, psi), and the negative mean derivatives
A11 = -E[d s1 / d phi'], A21 = -E[d s2 / d phi'], A22 = -E[d s2 / d psi'], the
second-stage estimator satisfies

    psi_hat - psi ~ A22^{-1} mean(g_t),   g_t = s2_t - A21 A11^{-1} s1_t,

so Var(psi_hat) = A22^{-1} Cov(g_t) A22^{-1}' / T (Engle and Sheppard 2001; Engle 2002,
Newey and McFadden 1994 Thm 6.1). The first stage is block diagonal (one model per
asset). A21 is computed by perturbing each asset's standardized residuals along their
Jacobian in that asset's parameters and recomputing the correlation target, so the
dependence of Qbar on phi is included; the sampling error of Qbar itself as a moment
estimator is not (as in rmgarch).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from research._typing import Float64Array1D, Float64Array2D
from research.correlation._likelihood import CorrelationProblem
from research.volatility import UnivariateFits
from research.volatility.derivatives import univariate_derivatives

__all__ = ["two_step_covariance", "second_stage_hessian"]

#: Relative step of the numerical derivatives of the mean second-stage score.
_STEP = 1e-5
#: Threads for the per-asset first-stage corrections (the kernels release the GIL).
_THREADS = max(1, min(2, os.cpu_count() or 1))


def _mean_score(problem: CorrelationProblem, theta: Float64Array1D) -> Float64Array1D:
    return problem.loglik(theta, want_grad=True)[1].mean(axis=0)


def second_stage_hessian(problem: CorrelationProblem, theta: Float64Array1D) -> Float64Array2D:
    """A22: minus the mean derivative of the second-stage scores (central differences).

    Parameters
    ----------
    problem : CorrelationProblem
        The estimation problem.
    theta : ndarray, shape (K,)
        Second-stage parameters.

    Returns
    -------
    ndarray, shape (K, K)
        Symmetrized.
    """
    k = theta.shape[0]
    out = np.empty((k, k))
    for j in range(k):
        h = _STEP * max(abs(theta[j]), 0.01)
        up = theta.copy()
        dn = theta.copy()
        up[j] += h
        dn[j] -= h
        out[:, j] = -(_mean_score(problem, up) - _mean_score(problem, dn)) / (2 * h)
    return 0.5 * (out + out.T)


def two_step_covariance(
    problem: CorrelationProblem,
    theta: Float64Array1D,
    univariate: UnivariateFits,
) -> tuple[Float64Array2D, tuple[str, ...]]:
    """Covariance of the second-stage parameters corrected for first-stage estimation.

    Parameters
    ----------
    problem : CorrelationProblem
        The estimation problem (full or composite likelihood).
    theta : ndarray, shape (K,)
        Second-stage estimates.
    univariate : UnivariateFits
        First-stage fits; without ``arch`` results (user-supplied residuals) the
        correction is skipped and a note is returned.

    Returns
    -------
    cov : ndarray, shape (K, K)
        Parameter covariance.
    notes : tuple of str
        Caveats to record on the result.
    """
    theta = np.asarray(theta, dtype=float)
    z = problem.z
    t_obs = z.shape[0]
    _, s2, _ = problem.loglik(theta, want_grad=True)
    base = s2.mean(axis=0)
    a22 = second_stage_hessian(problem, theta)
    g = s2.copy()
    notes: list[str] = []
    if univariate.results:

        def correction(item: tuple[int, str]) -> Float64Array2D:
            i, asset = item
            deriv = univariate_derivatives(univariate.results[asset])
            s1 = deriv.scores[-t_obs:]
            jac = deriv.z_jacobian[-t_obs:]
            params = univariate.results[asset].params.to_numpy(dtype=float)
            # only the pairs that involve asset i move when its residuals move
            local, pos = (problem, i) if problem.pairs is None else problem.involving(i)
            local_base = base if problem.pairs is None else _mean_score(local, theta)
            a21 = np.empty((theta.shape[0], s1.shape[1]))
            for m in range(s1.shape[1]):
                h = _STEP * max(abs(params[m]), 0.1)
                perturbed = local.with_column(pos, z[:, i] + h * jac[:, m])
                a21[:, m] = -(_mean_score(perturbed, theta) - local_base) / h
            return s1 @ np.linalg.solve(-deriv.hessian.T, a21.T)

        items = list(enumerate(univariate.assets))
        with ThreadPoolExecutor(max_workers=min(_THREADS, len(items))) as pool:
            for term in pool.map(correction, items):
                g -= term
    else:
        notes.append(
            "standard errors ignore first-stage estimation error "
            "(standardized residuals were supplied without arch results)"
        )
    meat = np.cov(g.T, ddof=0).reshape(theta.shape[0], theta.shape[0])
    a22_inv = np.linalg.inv(a22)
    cov = a22_inv @ meat @ a22_inv.T / t_obs
    return 0.5 * (cov + cov.T), tuple(notes)
