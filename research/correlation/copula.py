r"""Copula-DCC: DCC dynamics in a Gaussian or Student-t copula, and its tail dependence.

rmgarch's ``cgarch`` family in the package's two-step form. The univariate stage's
standardized residuals :math:`z_{it}` become uniforms :math:`u_{it}` (``"parametric"``: the
fitted innovation distribution's CDF, :math:`\Phi(z_{it})` for the normal GARCH the package
fits by default; ``"empirical"``: ranks :math:`r_{it} / (T + 1)`), the uniforms become copula
residuals

.. math::

    y_{it} = F_\nu^{-1}(u_{it}) \quad\text{(unit-variance Student-t quantile; }
    \Phi^{-1}(u_{it})\text{ for the Gaussian copula)},

and a DCC / cDCC / ADCC recursion on :math:`y_t` (correlation targeting on :math:`y`) gives
:math:`R_t`. The copula log-likelihood is the joint density of :math:`y_t` over the product of
its margins,

.. math::

    \ell = \sum_t \Bigl[\log f_\nu(y_t; R_t) - \sum_i \log f_\nu(y_{it})\Bigr],

with :math:`f_\nu(\cdot; R)` the unit-variance multivariate Student-t density (the Gaussian
copula: the normal one), maximised over the dynamics and :math:`\nu` jointly; :math:`y`
depends on :math:`\nu`, so the target is recomputed with it. The scaling of the quantiles
cancels in the copula density; it matters for the recursion, whose target is a correlation
matrix, so the quantiles are scaled to unit variance as rmgarch does.

The **tail-dependence coefficient** of a t copula with correlation :math:`\rho` is

.. math::

    \lambda = 2\,t_{\nu+1}\Bigl(-\sqrt{(\nu + 1)(1 - \rho) / (1 + \rho)}\Bigr),

the limit of :math:`P(U_i < q \mid U_j < q)` as :math:`q \to 0`: the chance that one leg
crashes given the other does. A Gaussian copula has :math:`\lambda = 0` at any
:math:`\rho < 1`; with :math:`\nu = 5` a correlation of 0.8 has :math:`\lambda \approx 0.45`.
It is the quantity an offset needs in a crash.

References
----------
Patton, A. (2006). Modelling asymmetric exchange rate dependence. International Economic
Review 47(2).
Ghalanos, A. (2022). rmgarch: Multivariate GARCH models, the ``cgarch`` vignette.
Demarta, S., McNeil, A. (2005). The t copula and related copulas. International Statistical
Review 73(1).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special
from scipy.optimize import minimize

from research._threads import single_threaded_blas
from research._typing import Float64Array1D, Float64Array2D
from research.correlation import _kernels as kern
from research.correlation._likelihood import CorrelationProblem
from research.errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    InsufficientDataError,
    SpecificationError,
)
from research.volatility import UnivariateFits, UnivariateSpec, univariate_stage

__all__ = [
    "CopulaDCC",
    "CopulaDCCResult",
    "copula_residuals",
    "student_quantiles",
    "tail_dependence",
]

Copula = Literal["gaussian", "t"]
Transform = Literal["parametric", "empirical"]
Dynamics = Literal["dcc", "cdcc", "adcc"]

NU_BOUNDS = (2.1, 200.0)
"""Degrees of freedom searched for the t copula."""
MIN_OBS_PER_ASSET = 10
STATIONARITY_MARGIN = 1e-6
_STARTS_AB = ((0.01, 0.97), (0.03, 0.94), (0.06, 0.88))
_STARTS_NU = (5.0, 10.0, 30.0)
_KEPT_PROBLEMS = 4
_NU_STEP = 1e-7
_LOG_2PI = math.log(2.0 * math.pi)
_QUANTILE_STEPS = ((5.0, 0.01), (math.inf, 0.02))
"""Grid step of the t quantile interpolation below each ``nu`` (heavier tails: finer)."""
_QUANTILE_XMAX = 8.3


def tail_dependence(rho: float | np.ndarray, nu: float) -> float | np.ndarray:
    r"""Tail-dependence coefficient of a Student-t copula.

    Parameters
    ----------
    rho : float or ndarray
        Correlation(s) in [-1, 1].
    nu : float
        Degrees of freedom (> 0); ``inf`` gives the Gaussian copula's 0 (1 at ``rho = 1``).

    Returns
    -------
    float or ndarray
        :math:`\lambda = 2 t_{\nu+1}(-\sqrt{(\nu+1)(1-\rho)/(1+\rho)})`, in [0, 1].

    Raises
    ------
    SpecificationError
        ``nu`` not positive, or a correlation outside [-1, 1].

    Examples
    --------
    >>> round(float(tail_dependence(0.8, 5.0)), 3)
    0.445
    """
    r = np.asarray(rho, dtype=float)
    if not (nu > 0):
        raise SpecificationError(f"nu must be positive, got {nu!r}")
    if np.any(~np.isfinite(r)) or np.any(np.abs(r) > 1.0):
        raise SpecificationError("correlations must be finite and in [-1, 1]")
    if math.isinf(nu):
        out = np.where(r >= 1.0, 1.0, 0.0)
    else:
        with np.errstate(divide="ignore"):
            x = -np.sqrt((nu + 1.0) * (1.0 - r) / np.maximum(1.0 + r, 0.0))
        out = 2.0 * special.stdtr(nu + 1.0, x)
    return float(out) if np.ndim(rho) == 0 else out


def copula_residuals(
    uniforms: Float64Array2D,
    copula: Copula,
    nu: float = math.inf,
    normal_scores: Float64Array2D | None = None,
) -> Float64Array2D:
    r"""Unit-variance copula residuals of uniforms (normal or Student-t quantiles).

    Parameters
    ----------
    uniforms : ndarray, shape (T, N)
        Values in (0, 1).
    copula : {"gaussian", "t"}
        Which quantile function.
    nu : float
        Degrees of freedom of the t copula (> 2).
    normal_scores : ndarray, shape (T, N), optional
        :math:`\Phi^{-1}(u)` when the caller has it (it does not depend on ``nu``).

    Returns
    -------
    ndarray, shape (T, N)
    """
    if copula == "gaussian":
        return special.ndtri(uniforms) if normal_scores is None else normal_scores
    return student_quantiles(uniforms, nu, normal_scores) * math.sqrt((nu - 2.0) / nu)


def student_quantiles(
    uniforms: Float64Array2D, nu: float, normal_scores: Float64Array2D | None = None
) -> Float64Array2D:
    r"""Student-t quantiles :math:`t_\nu^{-1}(u)` at the precision of ``scipy.special.stdtrit``.

    With :math:`x = \Phi^{-1}(u)` the quantile :math:`g(x) = t_\nu^{-1}(\Phi(x))` is odd and
    smooth in :math:`x`. It is interpolated by quintic Hermite polynomials on a grid of step
    0.01 (:math:`\nu < 5`) or 0.02 over :math:`|x| \le \max |x|` (at most 8.3, :math:`u` down to
    :math:`5 \times 10^{-17}`), whose node values are ``stdtrit``'s (lower tail, no
    rounding of :math:`1 - u`) and whose derivatives are exact:
    :math:`g' = \phi(x) / f_\nu(g)`,
    :math:`g'' = -x g' + (\nu + 1) g g'^2 / (\nu + g^2)`. At most ~830 ``stdtrit`` calls
    replace one per value. For :math:`\nu \ge 2.1` (the copula's range) the result is
    within :math:`5 \times 10^{-13}` (relative, or absolute below 1) of ``stdtrit``; in the
    Cauchy tail (:math:`\nu = 1`, quantiles near :math:`10^{16}`) within
    :math:`10^{-11}`; tests/correlation/test_copula_quantiles.py pins both and the closed
    forms at :math:`\nu = 1, 2, 4` (near the median, where ``stdtrit`` loses ~1e-11
    absolute, the interpolation is the more accurate). Values off the grid, and non-finite
    ones, go to ``stdtrit`` directly: the uniform itself, or with ``normal_scores`` the lower
    tail of the score (:math:`g(x) = -g(-x)`, no rounding of :math:`1 - u`).

    Parameters
    ----------
    uniforms : ndarray
        Values in (0, 1).
    nu : float
        Degrees of freedom (> 0).
    normal_scores : ndarray, optional
        :math:`\Phi^{-1}(u)`, same shape, when the caller has it (it does not depend on
        ``nu``).

    Returns
    -------
    ndarray
        The quantiles, same shape as ``uniforms``.
    """
    u = np.asarray(uniforms, dtype=np.float64)
    x = np.ascontiguousarray(
        special.ndtri(u) if normal_scores is None else normal_scores, dtype=np.float64
    ).ravel()
    inside = np.abs(x) <= _QUANTILE_XMAX
    everywhere = bool(inside.all())
    on_grid = x if everywhere else np.ascontiguousarray(x[inside])
    out = np.empty(x.shape)
    if on_grid.size:
        top = float(np.abs(on_grid).max())
        values = out if everywhere else np.empty(on_grid.shape)
        step = next(step for below, step in _QUANTILE_STEPS if nu < below)
        nodes = _quantile_nodes(float(nu), top, step)
        kern.odd_quintic_hermite(on_grid, step, *nodes, values)
        if not everywhere:
            out[inside] = values
    if not everywhere and normal_scores is None:
        out[~inside] = special.stdtrit(nu, u.ravel()[~inside])
    elif not everywhere:  # from the exact scores: odd symmetry, the lower tail, no 1 - u
        far = x[~inside]
        out[~inside] = -np.sign(far) * special.stdtrit(nu, special.ndtr(-np.abs(far)))
    return out.reshape(u.shape)


def _quantile_nodes(
    nu: float, top: float, step: float
) -> tuple[Float64Array1D, Float64Array1D, Float64Array1D]:
    """Return the t quantile and its first two derivatives in ``x`` at the nodes to ``top``."""
    x = np.arange(math.ceil(top / step) + 2) * step
    g = -special.stdtrit(nu, special.ndtr(-x))  # the lower tail: no rounding of 1 - u
    log_density = (
        special.gammaln(0.5 * (nu + 1.0))
        - special.gammaln(0.5 * nu)
        - 0.5 * math.log(nu * math.pi)
        - 0.5 * (nu + 1.0) * np.log1p(g * g / nu)
    )
    dg = np.exp(-0.5 * (x * x + _LOG_2PI) - log_density)
    d2g = -x * dg + (nu + 1.0) * g * dg * dg / (nu + g * g)
    return g, dg, d2g


def _uniforms(
    z: pd.DataFrame, transform: Transform, fits: UnivariateFits
) -> tuple[Float64Array2D, Float64Array2D | None]:
    r"""Return the uniforms and, for the parametric transform, their exact normal scores.

    Under normal innovations the normal score of :math:`u = \Phi(z)` is :math:`z` itself: the
    copula residuals are computed from it, never from a rounded or bounded ``u`` (which would
    pull residuals beyond about 7 in; :math:`1 - u` has no digits left there). The uniforms
    are bounded away from 0 and 1 for display only.
    """
    if transform == "empirical":
        return z.rank(axis=0, method="average").to_numpy() / (len(z) + 1.0), None
    dist = fits.spec.dist if fits.spec is not None else "normal"
    if dist != "normal":
        raise SpecificationError(
            f"the parametric transform covers normal innovations; the univariate stage uses "
            f"{dist!r}: use transform='empirical'"
        )
    scores = np.ascontiguousarray(z.to_numpy(dtype=np.float64))
    return np.clip(special.ndtr(scores), 1e-12, 1.0 - 1e-12), scores


@dataclass(frozen=True, eq=False)
class _Copula:
    """The copula likelihood of one sample of uniforms, with one problem per nu (cached)."""

    uniforms: Float64Array2D
    copula: Copula
    kind: Dynamics
    assets: tuple[str, ...]
    scores: Float64Array2D | None = None  # exact normal scores (parametric transform)
    _problems: dict[float, CorrelationProblem] = field(default_factory=dict, repr=False)
    _normal_scores: list[Float64Array2D] = field(default_factory=list, repr=False)
    _margins: dict[float, Float64Array1D] = field(default_factory=dict, repr=False)

    def problem(self, nu: float) -> CorrelationProblem:
        """Return the correlation problem on the copula residuals of ``nu`` (kept for reuse)."""
        if nu not in self._problems:
            if len(self._problems) >= _KEPT_PROBLEMS:
                oldest = next(iter(self._problems))
                self._problems.pop(oldest)
                self._margins.pop(oldest, None)
            if not self._normal_scores:
                scores = self.scores if self.scores is not None else special.ndtri(self.uniforms)
                self._normal_scores.append(scores)
            y = copula_residuals(self.uniforms, self.copula, nu, self._normal_scores[0])
            distribution = "t" if self.copula == "t" else "normal"
            self._problems[nu] = CorrelationProblem.build(
                y, self.kind, distribution, "full", list(self.assets)
            )
            if self.copula == "t":
                self._margins[nu] = _margin_difference(self._problems[nu].z, nu)
        return self._problems[nu]

    def names(self) -> list[str]:
        dynamics = ["a", "b", "g"] if self.kind == "adcc" else ["a", "b"]
        return dynamics + (["nu"] if self.copula == "t" else [])

    def split(self, theta: Float64Array1D) -> tuple[Float64Array1D, float]:
        if self.copula == "t":
            return np.asarray(theta[:-1], dtype=float), float(theta[-1])
        return np.asarray(theta, dtype=float), math.inf

    def loglik(
        self, theta: Float64Array1D, want_grad: bool = False
    ) -> tuple[Float64Array1D, Float64Array1D]:
        """Per-observation copula log-likelihood and, with ``want_grad``, its gradient.

        The gradient in the dynamics is analytic (the correlation stage's scores, ``y``
        fixed); in ``nu``, on which ``y`` depends, a forward difference
        (:meth:`nu_derivative`). Outside the admissible region the log-likelihood is
        ``-inf``.
        """
        ll, gradient = self.dynamics_terms(theta, want_grad)
        if want_grad and self.copula == "t" and np.all(np.isfinite(ll)):
            gradient[-1] = self.nu_derivative(theta, float(ll.sum()))
        return ll, gradient

    def dynamics_terms(
        self, theta: Float64Array1D, want_grad: bool
    ) -> tuple[Float64Array1D, Float64Array1D]:
        """Per-observation log-likelihood and its analytic gradient in the dynamics only."""
        dynamics, nu = self.split(theta)
        problem = self.problem(nu)
        ll, scores, ok = problem.loglik(
            np.append(dynamics, nu) if self.copula == "t" else dynamics, want_grad, full=True
        )
        if self.copula == "t":
            # the problem's t likelihood is log f_nu(y; R) - sum log phi(y_i) (the package's
            # correlation convention); the copula replaces the normal margins by t ones
            ll = ll + self._margins[nu]
        gradient = np.zeros(len(theta))
        if not (ok and np.all(np.isfinite(ll))):
            return np.full(len(ll), -np.inf), gradient
        if want_grad:
            gradient[: len(dynamics)] = scores[:, : len(dynamics)].sum(axis=0)
        return ll, gradient

    def nu_derivative(self, theta: Float64Array1D, total: float) -> float:
        """Forward difference in ``nu`` of the total log-likelihood ``total`` at ``theta``.

        Relative step 1e-7: one more likelihood, with a truncation error below the
        optimizer's tolerance.
        """
        dynamics, nu = self.split(theta)
        h = _NU_STEP * nu
        up, _ = self.dynamics_terms(np.append(dynamics, nu + h), False)
        return (float(up.sum()) - total) / h


def _margin_difference(y: Float64Array2D, nu: float) -> Float64Array1D:
    r"""Per day, :math:`\sum_i [\log\phi(y_i) - \log f_\nu(y_i)]` for unit-variance t margins."""
    scale2 = nu / (nu - 2.0)
    log_t = (
        special.gammaln(0.5 * (nu + 1.0))
        - special.gammaln(0.5 * nu)
        - 0.5 * math.log(math.pi * (nu - 2.0))
        - 0.5 * (nu + 1.0) * np.log1p(y * y * scale2 / nu)
    )
    log_normal = -0.5 * (_LOG_2PI + y * y)
    return (log_normal - log_t).sum(axis=1)


@dataclass(frozen=True, eq=False)
class CopulaDCCResult:
    """A fitted copula-DCC model.

    Attributes
    ----------
    model : CopulaDCC
        The specification.
    params : pandas.Series
        Dynamics (``a``, ``b``, ADCC's ``g``) and, for the t copula, ``nu``.
    loglikelihood_copula : float
        Copula log-likelihood at the estimate.
    correlation_array : ndarray, shape (T, N, N)
        Conditional copula correlations :math:`R_t`, from the data before each date.
    forecast : pandas.DataFrame
        :math:`R_{T+1}`, the one-step-ahead copula correlation.
    dates : pandas.DatetimeIndex
        The sample's dates.
    univariate : UnivariateFits
        The univariate stage.
    converged : bool
        Whether the optimizer reported success.
    warnings : tuple of str
        What the fit noticed.
    """

    model: CopulaDCC
    params: pd.Series
    loglikelihood_copula: float
    correlation_array: np.ndarray
    forecast: pd.DataFrame
    dates: pd.DatetimeIndex
    univariate: UnivariateFits
    converged: bool
    warnings: tuple[str, ...] = field(default=())

    @property
    def assets(self) -> list[str]:
        """Asset names."""
        return list(self.univariate.assets)

    @property
    def nu(self) -> float:
        """Degrees of freedom of the copula (``inf`` for the Gaussian copula)."""
        return float(self.params["nu"]) if "nu" in self.params else math.inf

    def correlation_pair(self, first: str, second: str) -> pd.Series:
        """Conditional copula correlation of one pair, by date.

        Raises
        ------
        DataError
            An unknown asset, or a pair of one asset with itself.
        """
        i, j = self._pair(first, second)
        return pd.Series(
            self.correlation_array[:, i, j], index=self.dates, name=f"{first}/{second}"
        )

    def tail_dependence(self, first: str, second: str) -> pd.Series:
        """Path of the pair's lower (= upper) tail-dependence coefficient (:func:`tail_dependence`).

        Zero throughout for the Gaussian copula.
        """
        rho = self.correlation_pair(first, second)
        values = tail_dependence(np.clip(rho.to_numpy(), -1.0, 1.0), self.nu)
        return pd.Series(values, index=self.dates, name=f"{first}/{second}")

    def summary(self) -> pd.DataFrame:
        """Parameters and fit statistics."""
        table = pd.DataFrame({"estimate": self.params})
        table.loc["copula log-likelihood", "estimate"] = self.loglikelihood_copula
        return table

    def _pair(self, first: str, second: str) -> tuple[int, int]:
        unknown = [a for a in (first, second) if a not in self.assets]
        if unknown:
            raise DataError(f"unknown asset(s) {unknown}; the model has {self.assets}")
        if first == second:
            raise DataError(f"a pair needs two assets, got {first!r} twice")
        return self.assets.index(first), self.assets.index(second)

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return (
            f"CopulaDCCResult({self.model.copula} copula, {self.model.kind}: {values}; "
            f"assets={len(self.assets)}, nobs={len(self.dates)})"
        )


@dataclass(frozen=True)
class CopulaDCC:
    """DCC-family dynamics in a Gaussian or Student-t copula (rmgarch's ``cgarch``).

    Parameters
    ----------
    copula : {"t", "gaussian"}, default "t"
        The copula.
    kind : {"dcc", "cdcc", "adcc"}, default "dcc"
        The correlation dynamics (see :class:`DCC`).
    transform : {"parametric", "empirical"}, default "parametric"
        Residuals to uniforms through the univariate stage's innovation CDF, or through ranks.
    univariate : UnivariateSpec, default UnivariateSpec()
        The per-asset volatility model.
    maxiter : int, default 200
        Maximum optimizer iterations.

    Examples
    --------
    >>> import research  # doctest: +SKIP
    >>> from research.correlation import CopulaDCC  # doctest: +SKIP
    >>> prices = research.load_dataset("sp500")  # doctest: +SKIP
    >>> returns = research.to_returns(prices).iloc[-2500:, :5]  # doctest: +SKIP
    >>> res = CopulaDCC(copula="t").fit(returns)  # doctest: +SKIP
    >>> res.tail_dependence("XOM", "CVX").plot()  # doctest: +SKIP
    """

    copula: Copula = "t"
    kind: Dynamics = "dcc"
    transform: Transform = "parametric"
    univariate: UnivariateSpec = field(default_factory=UnivariateSpec)
    maxiter: int = 200

    def __post_init__(self) -> None:
        for name, value, valid in (
            ("copula", self.copula, ("t", "gaussian")),
            ("kind", self.kind, ("dcc", "cdcc", "adcc")),
            ("transform", self.transform, ("parametric", "empirical")),
        ):
            if value not in valid:
                raise SpecificationError(
                    f"CopulaDCC {name}={value!r} is not valid; choose one of {', '.join(valid)}"
                )

    def fit(
        self,
        returns: pd.DataFrame | None = None,
        *,
        univariate: UnivariateFits | None = None,
        check_units: bool = True,
    ) -> CopulaDCCResult:
        """Estimate the copula dynamics (and ``nu``) by maximum likelihood.

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
        CopulaDCCResult

        Raises
        ------
        DataError
            Bad returns, or fewer than two assets.
        InsufficientDataError
            Fewer than ``10 N`` observations.
        SpecificationError
            A parametric transform of non-normal innovations.
        ConvergenceError
            No admissible start.
        """
        univariate = univariate_stage(returns, univariate, self.univariate, check_units=check_units)
        zdf = univariate.std_resid
        t_obs, n = zdf.shape
        if n < 2:
            raise DataError(f"a copula needs at least 2 assets, got {list(zdf.columns)}")
        if t_obs < MIN_OBS_PER_ASSET * n:
            raise InsufficientDataError(
                f"{t_obs} observations for {n} assets; copula-DCC needs at least "
                f"{MIN_OBS_PER_ASSET * n}"
            )
        uniforms, scores = _uniforms(zdf, self.transform, univariate)
        model = _Copula(
            np.ascontiguousarray(uniforms), self.copula, self.kind, tuple(univariate.assets), scores
        )
        with single_threaded_blas():  # one small product per nu: threads only contend
            theta, converged, message = self._optimize(model, t_obs)
        notes = list(univariate.warnings)
        if not converged:
            notes.append(f"copula-DCC optimizer did not converge ({message})")
            warnings.warn(notes[-1], ConvergenceWarning, stacklevel=2)
        dynamics, nu = model.split(theta)
        problem = model.problem(nu)
        loglik = float(model.loglik(theta)[0].sum())
        a, b, g = (
            float(dynamics[0]),
            float(dynamics[1]),
            float(dynamics[2]) if len(dynamics) > 2 else 0.0,
        )
        qbar, nbar = problem.targets(np.append(dynamics, nu) if self.copula == "t" else dynamics)
        paths = np.empty((t_obs, n, n))
        q = qbar.copy()
        kern.dcc_correlation_path(
            problem.z, a, b, g, qbar, nbar, kern.KIND_CODES[self.kind], np.empty((0, n)), q, paths
        )
        forecast = kern.normalize_q(q)
        assets = list(univariate.assets)
        return CopulaDCCResult(
            model=self,
            params=pd.Series(theta, index=model.names()),
            loglikelihood_copula=loglik,
            correlation_array=paths,
            forecast=pd.DataFrame(forecast, index=assets, columns=assets),
            dates=pd.DatetimeIndex(zdf.index),
            univariate=univariate,
            converged=converged,
            warnings=tuple(notes),
        )

    def _optimize(self, model: _Copula, t_obs: int) -> tuple[Float64Array1D, bool, str]:
        """Maximise the copula likelihood; the t copula's ``nu`` is searched as ``1 / nu``.

        The inverse degrees of freedom puts the Gaussian limit at 0 and keeps the variable on
        the scale of ``a`` and ``b`` (``nu`` itself runs to the hundreds), which the optimizer
        needs far fewer steps for.
        """
        names = model.names()
        t_copula = self.copula == "t"

        def theta_of(x: Float64Array1D) -> Float64Array1D:
            return np.append(x[:-1], 1.0 / x[-1]) if t_copula else np.asarray(x, dtype=float)

        def admissible(theta: Float64Array1D) -> bool:
            values = dict(zip(names, theta, strict=True))
            if min(values["a"], values["b"], values.get("g", 0.0)) < 0.0:
                return False
            return "nu" not in values or NU_BOUNDS[0] <= values["nu"] <= NU_BOUNDS[1]

        memo: dict[bytes, tuple[float, Float64Array1D | None, bool]] = {}

        def evaluate(
            x: Float64Array1D, scores: bool = True
        ) -> tuple[float, Float64Array1D | None, bool]:
            """Objective, its gradient in the dynamics, and whether the point is admissible.

            Each point's likelihood is computed once, with the dynamics' scores (they cost
            little beside the recursion, and SLSQP asks for the gradient at most points);
            ``scores=False`` (the starting values) leaves the gradient out.
            """
            key = np.asarray(x, dtype=float).tobytes()
            if key not in memo or (scores and memo[key][1] is None):
                theta = theta_of(x)
                if not admissible(theta):
                    memo[key] = (1e10, np.zeros(len(theta)), False)
                else:
                    ll, gradient = model.dynamics_terms(theta, want_grad=scores)
                    value = -float(ll.sum()) / t_obs
                    finite = math.isfinite(value)
                    memo[key] = (
                        value if finite else 1e10,
                        -gradient / t_obs if scores else None,
                        finite,
                    )
            return memo[key]

        def objective(x: Float64Array1D) -> float:
            return evaluate(x)[0]

        def jacobian(x: Float64Array1D) -> Float64Array1D:
            value, scores, finite = evaluate(x)
            assert scores is not None
            gradient = scores.copy()
            if t_copula and finite:
                theta = theta_of(x)
                d_nu = -model.nu_derivative(theta, -value * t_obs) / t_obs
                gradient[-1] = d_nu * -(theta[-1] ** 2)  # d/d(1/nu) = -nu^2 d/dnu
            return gradient

        starts = []
        for a, b in _STARTS_AB:
            base = [a, b] + ([0.01] if self.kind == "adcc" else [])
            nus = _STARTS_NU if t_copula else (None,)
            starts += [np.array(base + ([1.0 / nu] if nu is not None else [])) for nu in nus]
        x0 = min(starts, key=lambda x: evaluate(x, scores=False)[0])
        if evaluate(x0, scores=False)[0] >= 1e10:
            raise ConvergenceError("copula-DCC: no admissible start")
        delta = model.problem(float(theta_of(x0)[-1]) if t_copula else math.inf).delta

        def stationarity(x: Float64Array1D) -> float:
            g = x[2] if self.kind == "adcc" else 0.0
            return 1.0 - STATIONARITY_MARGIN - x[0] - x[1] - delta * g

        def stationarity_jacobian(x: Float64Array1D) -> Float64Array1D:
            row = np.zeros(len(x))
            row[:2] = -1.0
            if self.kind == "adcc":
                row[2] = -delta
            return row

        bounds = [(0.0, 1.0)] * (3 if self.kind == "adcc" else 2)
        if t_copula:
            bounds.append((1.0 / NU_BOUNDS[1], 1.0 / NU_BOUNDS[0]))
        result = minimize(
            objective,
            x0,
            jac=jacobian,
            method="SLSQP",
            bounds=bounds,
            constraints=[{"type": "ineq", "fun": stationarity, "jac": stationarity_jacobian}],
            options={"maxiter": self.maxiter, "ftol": 1e-10},
        )
        x = np.asarray(result.x, dtype=float)
        if objective(x) > objective(x0):
            return theta_of(x0), False, f"ended above its start: {result.message}"
        return theta_of(x), bool(result.success), str(result.message)
