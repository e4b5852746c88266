r"""The package's one GARCH(1,1) filter and estimator (compiled, matches ``arch``).

Model: constant mean, GARCH(1,1) variance, normal or standardized Student-t errors,

.. math::

    r_t = \mu + \epsilon_t, \qquad
    \sigma^2_t = \omega + \alpha \epsilon^2_{t-1} + \beta \sigma^2_{t-1}.

Everything that decides where the optimizer lands is ``arch``'s (``arch.univariate``,
``GARCH`` / ``ConstantMean`` / ``Normal`` / ``StudentsT``), so the estimates are ``arch``'s:

* **backcast**: :math:`\sigma^2_0` term is :math:`\sum_i w_i \epsilon^2_i` over the first
  :math:`\tau = \min(75, T)` residuals at the starting mean, with :math:`w_i \propto 0.94^i`
  (:func:`backcast`); the first variance is :math:`\omega + (\alpha + \beta)` backcast;
* **variance bounds**: every :math:`\sigma^2_t` is clipped below at
  :math:`\max(\mathrm{EWMA}_t / 10^6, \mathrm{var}/10^8)` and damped logarithmically above an
  upper bound (:func:`variance_bounds`, ``arch``'s ``bounds_check``);
* **parameter bounds and constraints**: :math:`\omega \in [10^{-8} v, 10 v]` with :math:`v`
  the mean squared residual, :math:`\alpha, \beta \in [0, 1]`, :math:`\alpha + \beta \le 1`,
  :math:`\nu \in [2.05, 500]`; the linear constraints get their exact Jacobian;
* **starting values**: the sample mean; ``arch``'s grid of 16 (alpha, persistence) pairs, the
  one with the highest Gaussian likelihood; :math:`\nu` from the kurtosis of the residuals
  standardized by that start;
* **likelihood** and **optimizer**: the same log-likelihood summed over observations,
  minimized by SLSQP with its default tolerance, but with the analytic gradient (the
  derivative of the recursion, including the bounds) computed in the same compiled pass.

This module is the package's one GARCH(1,1) filter: :func:`garch11_variance` and the
likelihood pass of :func:`fit_garch11` run the same bounded recursion, and the DCC univariate
stage (:func:`research.volatility.fit_univariate`, ``engine="auto"``/``"fast"``) and the
backtest's rolling FHS refits (:class:`research.backtest.RollingFHS`) call
:func:`fit_garch11`. (The variance bounds use ``arch``'s own 0.94 EWMA seeded by its
backcast; that is part of ``arch``'s estimator, not a volatility estimate, and is not
:func:`research.volatility.ewma.ewma_volatility`.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numba import njit
from scipy.optimize import minimize

from research._typing import Float64Array1D, Float64Array2D
from research.errors import DataError, SpecificationError

__all__ = [
    "BACKCAST_DECAY",
    "BACKCAST_WINDOW",
    "GarchDistribution",
    "Garch11Fit",
    "backcast",
    "fit_garch11",
    "garch11_filter",
    "garch11_variance",
    "variance_bounds",
]

GarchDistribution = Literal["normal", "t"]

#: Observations in ``arch``'s backcast and variance-bound start (``tau = min(75, T)``).
BACKCAST_WINDOW = 75
#: Decay of ``arch``'s backcast weights and of its EWMA variance bounds.
BACKCAST_DECAY = 0.94
#: ``arch``'s bounds on the Student-t degrees of freedom.
NU_BOUNDS = (2.05, 500.0)
#: ``arch``'s grid of starting ARCH coefficients and persistences (GARCH.starting_values).
_START_ALPHAS = (0.01, 0.05, 0.1, 0.2)
_START_PERSISTENCES = (0.5, 0.7, 0.9, 0.98)
_LOG_2PI = math.log(2.0 * math.pi)


def _weights(n: int) -> Float64Array1D:
    tau = min(BACKCAST_WINDOW, n)
    w = BACKCAST_DECAY ** np.arange(tau)
    return w / sum(w)


def backcast(resids: Float64Array1D) -> float:
    r"""``arch``'s backcast of the squared residuals (the recursion's pre-sample variance).

    Parameters
    ----------
    resids : ndarray, shape (T,)
        Residuals at the starting mean.

    Returns
    -------
    float
        :math:`\sum_{i<\tau} w_i \epsilon_i^2`, :math:`w_i \propto 0.94^i`,
        :math:`\tau = \min(75, T)`.
    """
    w = _weights(resids.shape[0])
    return float(np.sum((np.absolute(resids[: w.size]) ** 2.0) * w))


@njit(cache=True)
def _ewma_bound(resids: np.ndarray, start: float, decay: float) -> np.ndarray:  # pragma: no cover
    out = np.empty(resids.size)
    s2 = start
    for t in range(resids.size):
        if t > 0:
            s2 = (1.0 - decay) * resids[t - 1] ** 2 + decay * s2
        else:
            s2 = (1.0 - decay) * start + decay * start
        out[t] = s2
    return out


def variance_bounds(resids: Float64Array1D) -> Float64Array2D:
    r"""``arch``'s loose lower and upper bounds on each conditional variance.

    Parameters
    ----------
    resids : ndarray, shape (T,)
        Residuals at the starting mean.

    Returns
    -------
    ndarray, shape (T, 2)
        Lower and upper bound of :math:`\sigma^2_t` (``VolatilityProcess.variance_bounds``).
    """
    w = _weights(resids.shape[0])
    ewma = _ewma_bound(resids, float(w.dot(resids[: w.size] ** 2.0)), BACKCAST_DECAY)
    bounds = np.vstack((ewma / 1e6, ewma * 1e6)).T
    lower = float(np.var(resids)) / 1e8
    min_upper = 1 + float(np.max(resids**2.0))
    upper = 1e7 * min_upper
    bounds[bounds[:, 0] < lower, 0] = lower
    bounds[bounds[:, 1] < min_upper, 1] = min_upper
    bounds[bounds[:, 1] > upper, 1] = upper
    return np.ascontiguousarray(bounds)


@njit(cache=True)
def _bounded(s2: float, lo: float, hi: float) -> tuple[float, float]:  # pragma: no cover
    """``arch``'s bounds_check and the derivative factor of the bounded value."""
    if s2 < lo:
        return lo, 0.0
    if s2 > hi:
        if np.isinf(s2):
            return hi + 1000.0, 0.0
        return hi + math.log(s2 / hi), 1.0 / s2
    return s2, 1.0


@njit(cache=True)
def _variance(
    mu: float, omega: float, alpha: float, beta: float, y: np.ndarray, bc: float, vb: np.ndarray
) -> np.ndarray:  # pragma: no cover
    n = y.size
    s2 = np.empty(n)
    prev_e2 = bc
    prev_s2 = bc
    for t in range(n):
        s2[t] = _bounded(omega + alpha * prev_e2 + beta * prev_s2, vb[t, 0], vb[t, 1])[0]
        e = y[t] - mu
        prev_e2 = e * e
        prev_s2 = s2[t]
    return s2


@njit(cache=True)
def _digamma(x: float) -> float:  # pragma: no cover
    """Digamma for x > 0: recurrence to x >= 6, then the asymptotic series (error < 1e-14)."""
    acc = 0.0
    while x < 6.0:
        acc -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    inner = 1.0 / 240 + f * (-1.0 / 132 + f * 691.0 / 32760)
    series = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * inner)))
    return acc + math.log(x) - 0.5 / x + series


@njit(cache=True)
def _negloglik(
    theta: np.ndarray, y: np.ndarray, bc: float, vb: np.ndarray, student: bool, grad: np.ndarray
) -> float:  # pragma: no cover
    """Negative log-likelihood and (into ``grad``) its gradient, one compiled pass."""
    mu, omega, alpha, beta = theta[0], theta[1], theta[2], theta[3]
    nu = theta[4] if student else 4.0
    half_nu1 = 0.5 * (nu + 1.0)
    inv_nu2 = 1.0 / (nu - 2.0)
    n = y.size
    d0 = 0.0  # d sigma2_{t} / d (mu, omega, alpha, beta), carried from t - 1
    d1 = 0.0
    d2 = 0.0
    d3 = 0.0
    g0 = 0.0
    g1 = 0.0
    g2 = 0.0
    g3 = 0.0
    g4 = 0.0
    ll = 0.0
    prev_e = 0.0
    prev_e2 = bc
    prev_s2 = bc
    for t in range(n):
        raw = omega + alpha * prev_e2 + beta * prev_s2
        if t == 0:
            n0, n1, n2, n3 = 0.0, 1.0, bc, bc
        else:
            n0 = -2.0 * alpha * prev_e + beta * d0
            n1 = 1.0 + beta * d1
            n2 = prev_e2 + beta * d2
            n3 = prev_s2 + beta * d3
        s2, f = _bounded(raw, vb[t, 0], vb[t, 1])
        d0, d1, d2, d3 = n0 * f, n1 * f, n2 * f, n3 * f
        e = y[t] - mu
        e2 = e * e
        inv = 1.0 / s2
        if student:
            q = e2 * inv * inv_nu2
            lq = math.log1p(q)
            r = half_nu1 / (1.0 + q)  # (nu + 1) / 2 / (1 + q)
            ll += -0.5 * math.log(s2) - half_nu1 * lq
            dlds = inv * (r * q - 0.5)
            g0 += 2.0 * r * e * inv * inv_nu2
            g4 += -0.5 * lq + r * q * inv_nu2
        else:
            ll += -0.5 * (math.log(s2) + e2 * inv)
            dlds = -0.5 * inv * (1.0 - e2 * inv)
            g0 += e * inv
        g0 += dlds * d0
        g1 += dlds * d1
        g2 += dlds * d2
        g3 += dlds * d3
        prev_e = e
        prev_e2 = e2
        prev_s2 = s2
    if student:
        const = math.lgamma(0.5 * (nu + 1.0)) - math.lgamma(0.5 * nu)
        const -= 0.5 * math.log(math.pi * (nu - 2.0))
        ll += n * const
        dconst = 0.5 * _digamma(0.5 * (nu + 1.0)) - 0.5 * _digamma(0.5 * nu)
        g4 += n * (dconst - 0.5 / (nu - 2.0))
        grad[4] = -g4
    else:
        ll -= 0.5 * n * _LOG_2PI
    grad[0] = -g0
    grad[1] = -g1
    grad[2] = -g2
    grad[3] = -g3
    return -ll


@njit(cache=True)
def _grid_loglik(
    mu: float,
    omega: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    y: np.ndarray,
    bc: float,
    vb: np.ndarray,
) -> np.ndarray:  # pragma: no cover
    """Gaussian log-likelihoods of several GARCH(1,1) parameter vectors in one pass."""
    k = omega.size
    ll = np.zeros(k)
    prev_s2 = np.full(k, bc)
    prev_e2 = bc
    for t in range(y.size):
        e = y[t] - mu
        e2 = e * e
        for j in range(k):
            s2 = _bounded(omega[j] + alpha[j] * prev_e2 + beta[j] * prev_s2[j], vb[t, 0], vb[t, 1])[
                0
            ]
            ll[j] += -0.5 * (math.log(s2) + e2 / s2)
            prev_s2[j] = s2
        prev_e2 = e2
    return ll - 0.5 * y.size * _LOG_2PI


def _starting_variance(y: Float64Array1D, mu: float, bc: float, vb: Float64Array2D) -> np.ndarray:
    """``arch``'s GARCH(1,1) start: the best of its grid by Gaussian likelihood (first best)."""
    target = float(np.mean((y - mu) ** 2))
    grid = np.array(
        [
            [(1.0 - persistence) * target, alpha, persistence - alpha]
            for alpha in _START_ALPHAS
            for persistence in _START_PERSISTENCES
        ]
    )
    ll = _grid_loglik(mu, grid[:, 0], grid[:, 1], grid[:, 2], y, bc, vb)
    return grid[int(np.argmax(ll))].copy()


def _starting_nu(z: Float64Array1D) -> float:
    """``arch``'s Student-t start: from the (non-excess) kurtosis of ``z``."""
    c = z - z.mean()
    k = float(np.mean(c**4) / np.mean(c**2) ** 2)
    return max((4.0 * k - 6.0) / (k - 3.0) if k > 3.75 else 12.0, 4.0)


def _valid_start(
    values: Float64Array1D, bounds: list[tuple[float, float]], a: np.ndarray, b: np.ndarray
) -> np.ndarray | None:
    """``values`` as a start if they satisfy the bounds and constraints (``arch``'s check)."""
    sv = np.asarray(values, dtype=np.float64).ravel()
    if sv.size != len(bounds):
        return None
    inside = all(lo <= x <= hi for x, (lo, hi) in zip(sv, bounds, strict=True))
    return sv.copy() if inside and bool((a @ sv - b >= 0).all()) else None


@dataclass(frozen=True)
class Garch11Fit:
    r"""One constant-mean GARCH(1,1) estimate.

    Attributes
    ----------
    params : ndarray, shape (4,) or (5,)
        ``(mu, omega, alpha, beta)`` and ``nu`` for Student-t errors (``arch``'s order).
    variance : ndarray, shape (T,)
        In-sample conditional variances :math:`\sigma^2_t`.
    loglikelihood : float
        Log-likelihood at ``params``.
    converged : bool
        SLSQP's success flag.
    status : int
        SLSQP's exit code (0 on success; ``arch``'s ``convergence_flag``).
    message : str
        SLSQP's message.
    iterations : int
        SLSQP iterations.
    backcast : float
        The recursion's pre-sample value (:func:`backcast` at the starting mean).
    variance_bounds : ndarray, shape (T, 2)
        The bounds of every :math:`\sigma^2_t` (:func:`variance_bounds` at the starting mean).
    """

    params: Float64Array1D
    variance: Float64Array1D
    loglikelihood: float
    converged: bool
    status: int
    message: str
    iterations: int
    backcast: float
    variance_bounds: Float64Array2D

    @property
    def names(self) -> list[str]:
        """Parameter names as ``arch`` gives them."""
        names = ["mu", "omega", "alpha[1]", "beta[1]"]
        return [*names, "nu"] if self.params.size == 5 else names


def _check_series(returns: Float64Array1D) -> np.ndarray:
    y = np.ascontiguousarray(returns, dtype=np.float64)
    if y.ndim != 1 or y.size < 2:
        raise DataError(f"GARCH(1,1) needs a 1-d series of returns, got shape {y.shape}")
    if not np.isfinite(y).all():
        raise DataError("GARCH(1,1) returns contain NaN or infinite values; drop them first")
    if not y.var() > 0:
        raise DataError("GARCH(1,1) returns are constant (no variance); cannot fit")
    return y


def garch11_variance(
    params: Float64Array1D, returns: Float64Array1D, *, start_mean: float | None = None
) -> Float64Array1D:
    r"""Filter conditional variances of a constant-mean GARCH(1,1) with ``arch``'s start.

    Parameters
    ----------
    params : array-like
        ``(mu, omega, alpha, beta)`` (a trailing ``nu`` is ignored).
    returns : ndarray, shape (T,)
        Returns in the units the parameters were estimated in.
    start_mean : float, optional
        Mean of the residuals that set the backcast and variance bounds; the sample mean
        (``arch``'s starting value, what an estimate on ``returns`` used) by default.

    Returns
    -------
    ndarray, shape (T,)
        :math:`\sigma^2_t`, the same values ``arch``'s ``conditional_volatility ** 2``.
    """
    y = _check_series(returns)
    mu, omega, alpha, beta = (float(v) for v in np.asarray(params, dtype=float)[:4])
    m0 = float(y.mean()) if start_mean is None else float(start_mean)
    resids = y - m0
    return _variance(mu, omega, alpha, beta, y, backcast(resids), variance_bounds(resids))


def garch11_filter(
    returns: Float64Array1D | Float64Array2D,
    params: Float64Array1D | Float64Array2D,
    start: float | Float64Array1D,
) -> Float64Array1D | Float64Array2D:
    r"""Roll fitted GARCH(1,1) variances forward over new returns, parameters held fixed.

    .. math:: \sigma^2_{t+1} = \omega + \alpha (r_t - \mu)^2 + \beta \sigma^2_t,

    from a known :math:`\sigma^2` (e.g. the one-step forecast at the end of a fit window):
    the out-of-sample filter of a rolling refit. Unlike the in-sample pass of
    :func:`garch11_variance` it applies no variance bounds: those belong to ``arch``'s
    estimator, which sets them from the fit window.

    Parameters
    ----------
    returns : ndarray, shape (m,) or (m, n_assets)
        The new returns, in order, in the units the parameters were estimated in.
    params : array-like, shape (4,) or (n_assets, 4)
        ``(mu, omega, alpha, beta)`` per asset (a trailing ``nu`` column is ignored).
    start : float or ndarray of shape (n_assets,)
        :math:`\sigma^2` of the first new return's day.

    Returns
    -------
    ndarray, shape (m + 1,) or (m + 1, n_assets)
        Row 0 is ``start``, row ``i`` the variance after the ``i``-th new return (one step
        ahead of it); a variance uses returns up to its row only.

    Raises
    ------
    DataError
        If ``params`` and ``start`` do not match the returns' assets.

    Examples
    --------
    >>> garch11_filter([1.0, -1.0], [0.0, 0.1, 0.1, 0.8], 1.0).tolist()
    [1.0, 1.0, 1.0]
    """
    one = np.ndim(returns) <= 1
    theta = np.atleast_2d(np.asarray(params, dtype=np.float64))[:, :4]
    r = np.asarray(returns, dtype=np.float64)
    n_assets = 1 if one else r.shape[1]
    if theta.shape != (n_assets, 4) or np.ndim(start) > 1 or np.size(start) not in (1, n_assets):
        raise DataError(
            f"params of shape {theta.shape} and start of shape {np.shape(start)}; give "
            f"(mu, omega, alpha, beta) and a start variance for each of the {n_assets} assets"
        )
    r = r.reshape(-1, n_assets)
    s2 = np.array(np.broadcast_to(np.asarray(start, dtype=np.float64), (n_assets,)))
    mu, omega, alpha, beta = theta.T
    out = np.empty((r.shape[0] + 1, r.shape[1]))
    out[0] = s2
    for i, row in enumerate(r):
        s2 = omega + alpha * (row - mu) ** 2 + beta * s2
        out[i + 1] = s2
    return out[:, 0] if one else out


def fit_garch11(
    returns: Float64Array1D,
    dist: GarchDistribution = "normal",
    *,
    starting_values: Float64Array1D | None = None,
    maxiter: int = 100,
    ftol: float = 1e-6,
) -> Garch11Fit:
    """Estimate a constant-mean GARCH(1,1) by maximum likelihood, as ``arch`` does.

    Parameters
    ----------
    returns : ndarray, shape (T,)
        Returns (percent), no missing values.
    dist : {"normal", "t"}
        Error distribution (``"t"``: standardized Student-t, ``arch``'s ``StudentsT``).
    starting_values : array-like, optional
        ``(mu, omega, alpha, beta[, nu])`` to start from (e.g. the previous refit's estimate
        in a rolling backtest); as in ``arch``, ignored in favour of the default start when
        it violates a bound or constraint (``omega``'s bounds move with the window).
    maxiter, ftol : int, float
        SLSQP options (``arch``'s defaults).

    Returns
    -------
    Garch11Fit
        Estimates equal to ``arch_model(returns, rescale=False, dist=...).fit()`` (to the
        optimizer's tolerance, about 1e-6 on the bundled equities).

    Raises
    ------
    DataError
        If ``returns`` is not a finite 1-d series with variance.
    SpecificationError
        If ``dist`` is neither ``"normal"`` nor ``"t"``.
    """
    if dist not in ("normal", "t"):
        raise SpecificationError(f"fit_garch11 dist must be 'normal' or 't', got {dist!r}")
    y = _check_series(returns)
    student = dist == "t"
    mu0 = float(y.mean())
    resids = y - mu0
    bc = backcast(resids)
    vb = variance_bounds(resids)
    v = float(np.mean(resids**2))
    bounds = [(-np.inf, np.inf), (1e-8 * v, 10.0 * v), (0.0, 1.0), (0.0, 1.0)]
    a = np.zeros((4, 4))
    a[0:3, 1:4] = np.eye(3)
    a[3, 2:4] = -1.0
    b = np.array([0.0, 0.0, 0.0, -1.0])
    if student:
        bounds.append(NU_BOUNDS)
        a = np.vstack((np.c_[a, np.zeros(4)], [[0, 0, 0, 0, 1.0], [0, 0, 0, 0, -1.0]]))
        b = np.r_[b, NU_BOUNDS[0], -NU_BOUNDS[1]]
    theta0 = None if starting_values is None else _valid_start(starting_values, bounds, a, b)
    if theta0 is None:
        sv = _starting_variance(y, mu0, bc, vb)
        theta0 = np.r_[mu0, sv]
        if student:
            z = resids / np.sqrt(_variance(mu0, sv[0], sv[1], sv[2], y, bc, vb))
            theta0 = np.r_[theta0, _starting_nu(z)]
    grad = np.zeros(theta0.size)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value = _negloglik(theta, y, bc, vb, student, grad)
        return value, grad.copy()

    constraint = {"type": "ineq", "fun": lambda x: a @ x - b, "jac": lambda x: a}
    opt = minimize(
        objective,
        theta0,
        jac=True,
        method="SLSQP",
        bounds=bounds,
        constraints=constraint,
        options={"maxiter": maxiter, "ftol": ftol},
    )
    params = np.asarray(opt.x, dtype=np.float64)
    variance = _variance(params[0], params[1], params[2], params[3], y, bc, vb)
    value = _negloglik(params, y, bc, vb, student, np.zeros(params.size))
    return Garch11Fit(
        params=params,
        variance=variance,
        loglikelihood=-float(value),
        converged=bool(opt.success),
        status=int(opt.status),
        message=str(opt.message),
        iterations=int(opt.nit),
        backcast=bc,
        variance_bounds=vb,
    )
