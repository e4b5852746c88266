r"""Dynamic equicorrelation (DECO) of Engle and Kelly (2012).

One correlation for the whole panel, every day: the average pairwise correlation of a cDCC
model, used as the correlation of every pair. DECO answers "how correlated is the market
today" with one number whose likelihood has a closed form, so it scales to hundreds of
assets, and it is the market-wide index of correlations rising (or breaking) in stress.

With standardized residuals :math:`z_t` (the univariate stage), the cDCC recursion of
Aielli (2013)

.. math::

    Q_{t+1} = (1 - a - b)\,\bar Q + a\,e_t e_t' + b\,Q_t, \qquad
    e_t = \mathrm{diag}(Q_t)^{1/2} z_t,

with the Aielli-corrected target :math:`\bar Q` (:func:`research.correlation._kernels.cdcc_target`)
gives :math:`R^{C}_t = \mathrm{diag}(Q_t)^{-1/2} Q_t\,\mathrm{diag}(Q_t)^{-1/2}`, and DECO
takes the mean of its off-diagonal entries

.. math::

    \rho_t = \frac{1}{N(N-1)} \sum_{i \ne j} R^{C}_{ij,t}, \qquad
    R_t = (1 - \rho_t) I_N + \rho_t\,\iota\iota'.

The equicorrelation matrix has :math:`|R_t| = (1-\rho_t)^{N-1}(1 + (N-1)\rho_t)` and
:math:`R_t^{-1} = \frac{1}{1-\rho_t}\bigl(I_N - \frac{\rho_t}{1 + (N-1)\rho_t}\iota\iota'\bigr)`,
so the correlation log-likelihood (the package's convention, as :class:`DCC`'s
``loglikelihood_correlation``)

.. math::

    \ell = -\tfrac12 \sum_t \Bigl[(N-1)\log(1-\rho_t) + \log(1 + (N-1)\rho_t)
        + \frac{1}{1-\rho_t}\Bigl(z_t'z_t - \frac{\rho_t (\iota' z_t)^2}{1 + (N-1)\rho_t}\Bigr)
        - z_t'z_t\Bigr]

costs :math:`O(N)` per day once :math:`\rho_t` is known; the recursion that gives
:math:`\rho_t` costs :math:`O(N^2)` per day and stores no path of matrices. For ``N = 2``
DECO is the cDCC model itself (one pair: its correlation is the mean).

References
----------
Engle, R., Kelly, B. (2012). Dynamic equicorrelation. Journal of Business & Economic
Statistics 30(2), 212-228.
Aielli, G. P. (2013). Dynamic conditional correlation: on properties and estimation.
Journal of Business & Economic Statistics 31(3), 282-299.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numba as nb
import numpy as np
import pandas as pd
from scipy.optimize import minimize

from research._threads import single_threaded_blas
from research._typing import Float64Array1D, Float64Array2D
from research.correlation._kernels import cdcc_target
from research.errors import ConvergenceError, ConvergenceWarning, DataError, InsufficientDataError
from research.volatility import UnivariateFits, UnivariateSpec, univariate_stage

__all__ = ["DECO", "DECOResult", "deco_loglik", "equicorrelation_path"]

MIN_OBS = 100
"""Fewest observations a DECO fit accepts (two parameters; the target needs a sample)."""
STARTS = ((0.01, 0.98), (0.03, 0.95), (0.05, 0.90), (0.10, 0.85))
"""Start points ``(a, b)``; the optimizer starts from the one with the highest likelihood."""
STATIONARITY_MARGIN = 1e-6
"""``a + b`` is kept at most ``1 - STATIONARITY_MARGIN``."""


@nb.njit(cache=True, nogil=True, fastmath=True)
def _equicorrelation(z, a, b, qbar):
    """rho_1 .. rho_{T+1} of the cDCC recursion, in one pass over the lower triangle per day.

    Each entry of Q_t is read once: it adds to the day's correlation sum and is overwritten in
    place by its Q_{t+1} value (the update of entry (i, j) needs only entry (i, j), the
    residuals and the diagonal of Q_t, read before the pass). The row sums let the compiler
    vectorize the inner loop (``fastmath``: the sum's order may differ in the last bits).
    """
    t_obs, n = z.shape
    rho = np.empty(t_obs + 1)
    q = np.empty((n, n))
    for i in range(n):
        for j in range(i + 1):
            q[i, j] = qbar[i, j]
    c = 1.0 - a - b
    inv = np.empty(n)
    e = np.empty(n)
    pairs = n * (n - 1) / 2.0
    for t in range(t_obs + 1):
        for i in range(n):
            root = math.sqrt(q[i, i])
            inv[i] = 1.0 / root
            e[i] = z[t, i] * root if t < t_obs else 0.0
        s = 0.0
        for i in range(n):
            ei = a * e[i]
            row = q[i]
            target = qbar[i]
            r = 0.0
            for j in range(i):
                r += row[j] * inv[j]
                row[j] = c * target[j] + ei * e[j] + b * row[j]
            s += r * inv[i]
            row[i] = c * target[i] + ei * e[i] + b * row[i]
        rho[t] = s / pairs
    return rho


def equicorrelation_path(z: Float64Array2D, a: float, b: float) -> Float64Array1D:
    r"""Equicorrelation :math:`\rho_1, \dots, \rho_{T+1}` of DECO at ``(a, b)``.

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Standardized residuals, N >= 2.
    a, b : float
        News and persistence parameters, ``a, b >= 0``, ``a + b < 1``.

    Returns
    -------
    ndarray, shape (T + 1,)
        ``rho[t]`` is the correlation of observation ``t`` (0-based) from the data before
        it; ``rho[T]`` is the one-step-ahead forecast.
    """
    z = np.ascontiguousarray(z, dtype=np.float64)
    return _equicorrelation(z, float(a), float(b), cdcc_target(z, a, b))


def _loglik_terms(z: Float64Array2D, rho: Float64Array1D) -> Float64Array1D:
    n = z.shape[1]
    r = rho[: z.shape[0]]
    zz = np.einsum("ij,ij->i", z, z)
    sz = z.sum(axis=1)
    spread = 1.0 + (n - 1) * r
    with np.errstate(divide="ignore", invalid="ignore"):
        logdet = (n - 1) * np.log1p(-r) + np.log(spread)
        quad = (zz - r * sz * sz / spread) / (1.0 - r)
    return -0.5 * (logdet + quad - zz)


def deco_loglik(z: Float64Array2D, a: float, b: float) -> Float64Array1D:
    """Per-observation DECO correlation log-likelihood at ``(a, b)``.

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Standardized residuals.
    a, b : float
        DECO parameters.

    Returns
    -------
    ndarray, shape (T,)
        Log-likelihood contributions (``-inf`` where the equicorrelation leaves
        ``(-1/(N-1), 1)``, which the cDCC recursion does not do for admissible
        parameters).
    """
    z = np.ascontiguousarray(z, dtype=np.float64)
    out = _loglik_terms(z, equicorrelation_path(z, a, b))
    return np.where(np.isfinite(out), out, -np.inf)


@dataclass(frozen=True)
class DECOResult:
    r"""A fitted DECO model.

    Attributes
    ----------
    params : pandas.Series
        ``a`` and ``b``.
    std_errors : pandas.Series
        Standard errors from the inverse Hessian of the correlation log-likelihood (the
        univariate stage taken as known; NaN where the Hessian is not negative definite).
    loglikelihood_correlation : float
        Correlation log-likelihood at the estimate.
    equicorrelation : pandas.Series
        :math:`\rho_t` on each date of the sample, from the data before it (the forecast for
        the day after the sample is :attr:`forecast`).
    forecast : float
        One-step-ahead equicorrelation.
    univariate : UnivariateFits
        The univariate stage.
    converged : bool
        Whether the optimizer reported success.
    warnings : tuple of str
        What the fit noticed (optimizer messages, boundary estimates).
    """

    params: pd.Series
    std_errors: pd.Series
    loglikelihood_correlation: float
    equicorrelation: pd.Series
    forecast: float
    univariate: UnivariateFits
    converged: bool
    warnings: tuple[str, ...] = field(default=())

    @property
    def nobs(self) -> int:
        """Number of observations."""
        return len(self.equicorrelation)

    @property
    def assets(self) -> list[str]:
        """Asset names."""
        return list(self.univariate.assets)

    @property
    def half_life(self) -> float:
        """Days for a shock to the equicorrelation to halve: ``log 0.5 / log(a + b)``."""
        persistence = float(self.params["a"] + self.params["b"])
        return math.log(0.5) / math.log(persistence) if 0.0 < persistence < 1.0 else math.inf

    def correlation(self, date: Any = None) -> pd.DataFrame:
        r"""Equicorrelation matrix of one date (default: the one-step-ahead forecast).

        Parameters
        ----------
        date : date-like, optional
            A date of the sample.

        Returns
        -------
        pandas.DataFrame
            N x N, ones on the diagonal and :math:`\rho_t` elsewhere.

        Raises
        ------
        DataError
            A date outside the sample.
        """
        if date is None:
            rho = self.forecast
        else:
            stamp = pd.Timestamp(date)
            if stamp not in self.equicorrelation.index:
                raise DataError(
                    f"{stamp} is not a date of the DECO sample "
                    f"({self.equicorrelation.index[0]} to {self.equicorrelation.index[-1]})"
                )
            rho = float(self.equicorrelation.loc[stamp])
        n = len(self.assets)
        matrix = np.full((n, n), rho)
        np.fill_diagonal(matrix, 1.0)
        return pd.DataFrame(matrix, index=self.assets, columns=self.assets)

    def summary(self) -> pd.DataFrame:
        """Parameters, standard errors and fit statistics as one table."""
        table = pd.DataFrame({"estimate": self.params, "std_error": self.std_errors})
        table.loc["half-life (days)", "estimate"] = self.half_life
        table.loc["mean equicorrelation", "estimate"] = float(self.equicorrelation.mean())
        table.loc["forecast equicorrelation", "estimate"] = self.forecast
        table.loc["correlation log-likelihood", "estimate"] = self.loglikelihood_correlation
        return table

    def __repr__(self) -> str:
        return (
            f"DECOResult(a={self.params['a']:.4f}, b={self.params['b']:.4f}, "
            f"assets={len(self.assets)}, nobs={self.nobs}, converged={self.converged})"
        )


@dataclass(frozen=True)
class DECO:
    """Dynamic equicorrelation model (Engle and Kelly 2012) on the cDCC recursion.

    Parameters
    ----------
    univariate : UnivariateSpec, default UnivariateSpec()
        The per-asset volatility model (as in :class:`DCC`).
    maxiter : int, default 200
        Maximum optimizer iterations.

    Examples
    --------
    >>> import research  # doctest: +SKIP
    >>> from research.correlation import DECO  # doctest: +SKIP
    >>> returns = research.to_returns(research.load_dataset("sp500"))  # doctest: +SKIP
    >>> res = DECO().fit(returns.iloc[-2500:])  # doctest: +SKIP
    >>> res.equicorrelation.plot()  # doctest: +SKIP
    """

    univariate: UnivariateSpec = field(default_factory=UnivariateSpec)
    maxiter: int = 200

    def fit(
        self,
        returns: pd.DataFrame | None = None,
        *,
        univariate: UnivariateFits | None = None,
        check_units: bool = True,
    ) -> DECOResult:
        """Estimate ``a`` and ``b`` by maximum likelihood on the standardized residuals.

        Parameters
        ----------
        returns : pandas.DataFrame, shape (T, N), optional
            Returns in percent, one column per asset, no missing values.
        univariate : UnivariateFits, optional
            A univariate stage already fitted; then ``returns`` is not needed.
        check_units : bool
            Refuse prices and decimal returns (:func:`research.data.check_return_units`).

        Returns
        -------
        DECOResult

        Raises
        ------
        DataError
            Bad returns, or fewer than two assets.
        InsufficientDataError
            Fewer than :data:`MIN_OBS` observations.
        ConvergenceError
            The optimizer failed from its start.
        """
        univariate = univariate_stage(returns, univariate, self.univariate, check_units=check_units)
        zdf = univariate.std_resid
        t_obs, n = zdf.shape
        if n < 2:
            raise DataError(f"DECO needs at least 2 assets, got {list(zdf.columns)}")
        if t_obs < MIN_OBS:
            raise InsufficientDataError(f"DECO needs at least {MIN_OBS} observations, got {t_obs}")
        z = np.ascontiguousarray(zdf.to_numpy(dtype=np.float64))
        notes = list(univariate.warnings)
        with single_threaded_blas():  # one small product per evaluation: threads only contend
            theta, converged, message = self._optimize(z)
            std_errors = _std_errors(z, theta)
        if not converged:
            notes.append(f"DECO optimizer did not converge ({message})")
        if theta[0] + theta[1] > 1.0 - 1e-4:
            notes.append(
                f"a + b = {theta[0] + theta[1]:.6f} is at the stationarity boundary: the "
                "equicorrelation is close to a unit root"
            )
        for note in notes[len(univariate.warnings) :]:
            warnings.warn(note, ConvergenceWarning, stacklevel=2)
        rho = equicorrelation_path(z, *theta)
        loglik = float(_loglik_terms(z, rho).sum())
        names = ["a", "b"]
        return DECOResult(
            params=pd.Series(theta, index=names),
            std_errors=pd.Series(std_errors, index=names),
            loglikelihood_correlation=loglik,
            equicorrelation=pd.Series(rho[:t_obs], index=zdf.index, name="equicorrelation"),
            forecast=float(rho[t_obs]),
            univariate=univariate,
            converged=converged,
            warnings=tuple(notes),
        )

    def _optimize(self, z: Float64Array2D) -> tuple[Float64Array1D, bool, str]:
        t_obs = z.shape[0]

        def objective(theta: Float64Array1D) -> float:
            a, b = float(theta[0]), float(theta[1])
            if a < 0.0 or b < 0.0 or a + b >= 1.0:
                return 1e10
            value = -float(_loglik_terms(z, equicorrelation_path(z, a, b)).sum()) / t_obs
            return value if math.isfinite(value) else 1e10

        x0 = min((np.array(start) for start in STARTS), key=objective)
        result = minimize(
            objective,
            x0,
            method="SLSQP",
            bounds=[(0.0, 1.0), (0.0, 1.0)],
            constraints=[
                {"type": "ineq", "fun": lambda x: 1.0 - STATIONARITY_MARGIN - x[0] - x[1]}
            ],
            options={"maxiter": self.maxiter, "ftol": 1e-10},
        )
        theta = np.clip(result.x, 0.0, 1.0)
        if not np.isfinite(objective(theta)) or objective(theta) >= 1e10:
            raise ConvergenceError(f"DECO optimizer failed ({result.message})")
        if objective(theta) > objective(x0):
            return x0, False, f"ended above its start: {result.message}"
        return theta, bool(result.success), str(result.message)


def _std_errors(z: Float64Array2D, theta: Float64Array1D) -> Float64Array1D:
    """Square roots of the diagonal of the inverse negative Hessian (central differences)."""
    h = 1e-4
    if not ((theta - h > 0).all() and theta.sum() + 2 * h < 1.0):
        return np.full(2, np.nan)

    def ll(da: float, db: float) -> float:
        return float(deco_loglik(z, theta[0] + da, theta[1] + db).sum())

    centre = ll(0.0, 0.0)
    cross = (ll(h, h) - ll(h, -h) - ll(-h, h) + ll(-h, -h)) / (4 * h * h)
    hess = np.array(
        [
            [(ll(h, 0.0) - 2 * centre + ll(-h, 0.0)) / (h * h), cross],
            [cross, (ll(0.0, h) - 2 * centre + ll(0.0, -h)) / (h * h)],
        ]
    )
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        return np.full(2, np.nan)
    diag = np.diag(cov)
    return np.where(diag > 0, np.sqrt(np.abs(diag)), np.nan)
