"""Covariance estimators of the correlation stage: the parameters' and the target's.

**Parameters.** Two-step-corrected sandwich covariance of the second-stage (correlation)
parameters.

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
estimator is not (as in rmgarch). With the nonlinear-shrinkage target every entry of the
target depends on every asset's residuals, so the correction perturbs the full problem.

**Target.** :func:`nonlinear_shrinkage` is the analytical nonlinear shrinkage of Ledoit and
Wolf (2020), the large-N correlation target of ``DCC(target="nonlinear_shrinkage")`` (as in
ARCHModels.jl's large-scale DCC).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from research._typing import Float64Array1D, Float64Array2D
from research.errors import DataError, InsufficientDataError
from research.volatility import UnivariateFits
from research.volatility.derivatives import univariate_derivatives

if TYPE_CHECKING:
    from research.correlation._likelihood import CorrelationProblem

__all__ = ["nonlinear_shrinkage", "two_step_covariance", "second_stage_hessian"]

#: Fewest effective observations of the nonlinear shrinkage (its bandwidth ``n^(-1/3)`` must
#: stay below ``1 / sqrt(5)`` when there are more variables than observations).
MIN_SHRINKAGE_OBS = 12

#: Relative step of the numerical derivatives of the mean second-stage score.
_STEP = 1e-5
#: Threads for the per-asset first-stage corrections (the kernels release the GIL).
_THREADS = max(1, min(2, os.cpu_count() or 1))


def nonlinear_shrinkage(x: Float64Array2D, demean: bool = True) -> Float64Array2D:
    r"""Analytical nonlinear shrinkage of a covariance matrix (Ledoit and Wolf 2020).

    The sample covariance :math:`S = X'X / n` keeps its eigenvectors :math:`u_i`; each
    eigenvalue :math:`\lambda_i` becomes the asymptotically optimal (Frobenius, rotation-
    equivariant) value

    .. math::

        \tilde d_i = \frac{\lambda_i}{(\pi c \lambda_i \tilde f(\lambda_i))^2
            + (1 - c - \pi c \lambda_i \mathcal{H}\tilde f(\lambda_i))^2},
            \qquad c = p / n,

    with :math:`\tilde f` a kernel estimate of the limiting density of the sample eigenvalues
    (Epanechnikov kernel, variable bandwidth :math:`h \lambda_j`, :math:`h = n^{-1/3}`) and
    :math:`\mathcal{H}\tilde f` its Hilbert transform, both in closed form. With more
    variables than observations (:math:`p > n`) the :math:`p - n` null eigenvalues get the
    paper's common value :math:`\tilde d_0` and the others
    :math:`\lambda_i / (\pi^2 \lambda_i^2 (\tilde f^2 + \mathcal{H}\tilde f^2))`.
    This is the paper's ``analytical_shrinkage`` code, line by line.

    Parameters
    ----------
    x : ndarray, shape (n, p)
        Observations in rows.
    demean : bool, default True
        Subtract the column means and count ``n - 1`` effective observations (the paper's
        default); ``False`` shrinks :math:`X'X / n` as given (ARCHModels.jl's target of
        standardized residuals).

    Returns
    -------
    ndarray, shape (p, p)
        The shrunk covariance matrix (symmetric positive definite).

    Raises
    ------
    DataError
        Missing or infinite values, or fewer than 2 dimensions.
    InsufficientDataError
        Fewer than ``MIN_SHRINKAGE_OBS`` effective observations, or a sample covariance
        without a positive eigenvalue.

    References
    ----------
    Ledoit, O., Wolf, M. (2020). Analytical nonlinear shrinkage of large-dimensional
    covariance matrices. Annals of Statistics 48(5), 3043-3065.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((200, 100))
    >>> s = nonlinear_shrinkage(x)
    >>> bool(np.linalg.eigvalsh(s)[0] > np.linalg.eigvalsh(np.cov(x.T))[0])
    True
    """
    data = np.asarray(x, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] < 2:
        raise DataError(f"nonlinear shrinkage needs an (n, p) array with p >= 2, got {data.shape}")
    if not np.all(np.isfinite(data)):
        raise DataError("nonlinear shrinkage needs finite values; drop or fill the missing ones")
    n, p = data.shape
    if demean:
        data = data - data.mean(axis=0)
        n -= 1
    if n < MIN_SHRINKAGE_OBS:
        raise InsufficientDataError(
            f"{n} effective observations for nonlinear shrinkage; at least {MIN_SHRINKAGE_OBS} "
            "are needed"
        )
    lam, u = np.linalg.eigh(data.T @ data / n)  # ascending
    lam = lam[max(0, p - n) :]  # the min(p, n) eigenvalues that can be positive
    if not lam[0] > 0:
        raise InsufficientDataError(
            "the sample covariance has a zero eigenvalue among its leading min(n, p); nonlinear "
            "shrinkage needs columns that are not collinear"
        )
    h = n ** (-1.0 / 3.0)
    band = h * lam[None, :]  # bandwidth of kernel j, the same in every row i
    d = (lam[:, None] - lam[None, :]) / band
    root5 = math.sqrt(5.0)
    f = (0.75 / root5) * np.mean(np.maximum(1.0 - d * d / 5.0, 0.0) / band, axis=1)
    with np.errstate(divide="ignore"):
        hilbert = (-0.3 / math.pi) * d + (0.75 / root5 / math.pi) * (1.0 - d * d / 5.0) * np.log(
            np.abs((root5 - d) / (root5 + d))
        )
    edge = np.abs(d) == root5
    hilbert[edge] = (-0.3 / math.pi) * d[edge]
    hf = np.mean(hilbert / band, axis=1)
    if p <= n:
        c = p / n
        dtilde = lam / ((math.pi * c * lam * f) ** 2 + (1.0 - c - math.pi * c * lam * hf) ** 2)
    else:
        hf0 = (
            (1.0 / math.pi)
            * (
                0.3 / h**2
                + 0.75
                / root5
                / h
                * (1.0 - 0.2 / h**2)
                * math.log((1.0 + root5 * h) / (1.0 - root5 * h))
            )
            * float(np.mean(1.0 / lam))
        )
        d0 = 1.0 / (math.pi * (p - n) / n * hf0)
        d1 = lam / (math.pi**2 * lam**2 * (f**2 + hf**2))
        dtilde = np.concatenate([np.full(p - n, d0), d1])
    out = (u * dtilde) @ u.T
    return 0.5 * (out + out.T)


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
            # only the pairs that involve asset i move when its residuals move (a shrinkage
            # target moves as a whole)
            whole = problem.pairs is None or problem.target != "sample"
            local, pos = (problem, i) if whole else problem.involving(i)
            local_base = base if whole else _mean_score(local, theta)
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
