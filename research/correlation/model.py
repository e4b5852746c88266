r"""The DCC-family estimator: univariate stage, then correlation dynamics by (quasi) ML."""

from __future__ import annotations

import dataclasses
import hashlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeResult, minimize

from research._threads import run_row_blocks
from research._typing import Float64Array1D, Float64Array2D
from research.correlation._likelihood import TARGETS, CorrelationProblem
from research.correlation.covariance import two_step_covariance
from research.correlation.results import DCCResult
from research.errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    InsufficientDataError,
    SpecificationError,
)
from research.volatility import UnivariateFits, UnivariateSpec, univariate_stage

__all__ = ["DCC", "KINDS", "DISTRIBUTIONS", "ESTIMATIONS", "MIN_OBS_PER_ASSET", "TARGETS"]

KINDS = ("dcc", "cdcc", "adcc", "ccc")
DISTRIBUTIONS = ("normal", "t")
ESTIMATIONS = ("full", "composite-adjacent", "composite-all")
#: The full likelihood needs T >= MIN_OBS_PER_ASSET * N observations (Qbar has N(N-1)/2
#: free elements estimated from T outer products).
MIN_OBS_PER_ASSET = 10
#: Margin kept from the stationarity boundary a + b (+ delta g) < 1.
STATIONARITY_MARGIN = 1e-6
#: Bounds of the Student-t degrees of freedom.
NU_BOUNDS = (2.05, 500.0)
#: Start grid of the dynamics parameters.
GRID_A = (0.005, 0.02, 0.05, 0.1)
GRID_B = (0.8, 0.9, 0.95, 0.98)
GRID_G = (0.0, 0.02)
GRID_NU = (6.0, 12.0)
#: Composite problems with more pairs rank their start grid on adjacent pairs only.
GRID_SCREEN_PAIRS = 200
#: Relative tolerance on the (per-observation) objective for SLSQP.
FTOL = 1e-12
#: A converged solution whose interior gradient (per observation) exceeds this is doubtful
#: (at FTOL the optimizer stops with per-observation gradients of order 1e-5).
GRADIENT_TOLERANCE = 1e-4


@dataclass(frozen=True)
class DCC:
    r"""Dynamic conditional correlation model (DCC, cDCC, ADCC or CCC).

    Two-step estimation: one volatility model per asset (the univariate stage,
    :func:`research.volatility.fit_univariate`), then the correlation dynamics by maximum
    likelihood on the standardized residuals with correlation targeting.

    Parameters
    ----------
    kind : {"dcc", "cdcc", "adcc", "ccc"}, default "dcc"
        ``dcc`` Engle (2002); ``cdcc`` Aielli (2013) corrected DCC; ``adcc`` asymmetric
        DCC of Cappiello, Engle and Sheppard (2006) with parameter ``g``; ``ccc``
        constant correlation (Bollerslev 1990).
    univariate : UnivariateSpec, default UnivariateSpec()
        The per-asset model (constant mean + GARCH(1,1) + normal), estimated by the
        package's compiled GARCH(1,1) (``arch``'s estimates, see
        :mod:`research.volatility.garch`) where it covers the specification and by
        ``arch`` otherwise; ``UnivariateSpec(engine="arch")`` asks for ``arch`` always.
    distribution : {"normal", "t"}, default "normal"
        Joint distribution of the standardized residuals; ``t`` adds the degrees of
        freedom ``nu`` (multivariate Student-t scaled to unit variance).
    estimation : {"full", "composite-adjacent", "composite-all"}, default "full"
        Full likelihood, or the composite likelihood of Engle, Shephard and Sheppard
        (2008) over adjacent pairs (i, i+1) or all pairs (for N in the hundreds).
    target : {"sample", "nonlinear_shrinkage"}, default "sample"
        Estimator of the correlation target :math:`\bar Q`: the sample correlation of
        :math:`z_t`, or the correlation matrix of the Ledoit-Wolf (2020) analytical nonlinear
        shrinkage of their covariance (:func:`research.correlation.covariance.nonlinear_shrinkage`),
        the large-N target of ARCHModels.jl's large-scale DCC; with N near T the sample
        target's eigenvalues are too dispersed, and with N > T it is singular. Not with
        ``kind="cdcc"``, whose target is Aielli's correction of the sample one.
    std_errors : bool, default True
        Compute two-step-corrected sandwich standard errors.
    starting_values : tuple of float, optional
        Extra start (in parameter order, e.g. ``(a, b)``) added to the start grid; it
        must satisfy the constraints.
    maxiter : int, default 200
        Maximum optimizer iterations.

    Notes
    -----
    With standardized residuals :math:`z_t` and target :math:`\bar Q` (the sample
    correlation of :math:`z_t`, or its nonlinear shrinkage: ``target``),

    .. math::

        Q_{t+1} = (1-a-b)\bar Q - g\bar N + a\,e_t e_t' + g\,n_t n_t' + b\,Q_t,\quad
        R_t = \mathrm{diag}(Q_t)^{-1/2} Q_t\,\mathrm{diag}(Q_t)^{-1/2},

    with :math:`e_t = z_t` (cDCC: :math:`\mathrm{diag}(Q_t)^{1/2} z_t` and an
    Aielli-corrected target), :math:`n_t = \min(z_t, 0)` and :math:`\bar N` its second
    moment (ADCC only). Constraints: :math:`a, b, g \ge 0` and
    :math:`a + b + \delta g < 1`, :math:`\delta` the largest eigenvalue of
    :math:`\bar Q^{-1/2}\bar N\bar Q^{-1/2}`.

    References
    ----------
    Engle, R. (2002). Dynamic conditional correlation. JBES 20(3).
    Aielli, G. P. (2013). Dynamic conditional correlation: on properties and
    estimation. JBES 31(3).
    Cappiello, L., Engle, R., Sheppard, K. (2006). Asymmetric dynamics in the
    correlations of global equity and bond returns. J. Fin. Econometrics 4(4).
    Engle, R., Shephard, N., Sheppard, K. (2008). Fitting vast dimensional time-varying
    covariance models. NYU Working Paper.
    Engle, R., Sheppard, K. (2001). Theoretical and empirical properties of dynamic
    conditional correlation multivariate GARCH. NBER WP 8554.

    Examples
    --------
    >>> import research  # doctest: +SKIP
    >>> prices = research.load_dataset("sp500")  # doctest: +SKIP
    >>> returns = research.to_returns(prices).iloc[-2500:, :5]  # doctest: +SKIP
    >>> res = research.DCC(kind="dcc").fit(returns)  # doctest: +SKIP
    >>> res.params  # doctest: +SKIP
    """

    kind: Literal["dcc", "cdcc", "adcc", "ccc"] = "dcc"
    univariate: UnivariateSpec = field(default_factory=UnivariateSpec)
    distribution: Literal["normal", "t"] = "normal"
    estimation: Literal["full", "composite-adjacent", "composite-all"] = "full"
    target: Literal["sample", "nonlinear_shrinkage"] = "sample"
    std_errors: bool = True
    starting_values: tuple[float, ...] | None = None
    maxiter: int = 200

    def __post_init__(self) -> None:
        for name, value, valid in (
            ("kind", self.kind, KINDS),
            ("distribution", self.distribution, DISTRIBUTIONS),
            ("estimation", self.estimation, ESTIMATIONS),
            ("target", self.target, TARGETS),
        ):
            if value not in valid:
                raise SpecificationError(
                    f"DCC {name}={value!r} is not valid; choose one of {', '.join(valid)}"
                )
        if self.kind == "cdcc" and self.target != "sample":
            raise SpecificationError(
                f"DCC target={self.target!r} does not apply to kind='cdcc' (its target is "
                "Aielli's correction of the sample one); use kind='dcc' or target='sample'"
            )
        if not isinstance(self.univariate, UnivariateSpec):
            raise SpecificationError(
                f"univariate must be a UnivariateSpec, got {type(self.univariate).__name__}"
            )
        if not isinstance(self.maxiter, int) or self.maxiter < 1:
            raise SpecificationError(f"maxiter must be a positive integer, got {self.maxiter!r}")
        if self.starting_values is not None:
            names = self.param_names
            if len(self.starting_values) != len(names):
                raise SpecificationError(
                    f"starting_values needs {len(names)} values ({', '.join(names)}), "
                    f"got {len(self.starting_values)}"
                )
            values = dict(zip(names, self.starting_values, strict=True))
            if any(values.get(p, 0.0) < 0 for p in ("a", "b", "g")):
                raise SpecificationError(f"starting_values must be non-negative, got {values}")
            if values.get("a", 0.0) + values.get("b", 0.0) >= 1.0:
                raise SpecificationError(
                    f"starting_values are non-stationary (a + b = "
                    f"{values.get('a', 0.0) + values.get('b', 0.0):.4f} >= 1); choose a + b < 1"
                )
            if "nu" in values and not NU_BOUNDS[0] < values["nu"] <= NU_BOUNDS[1]:
                raise SpecificationError(f"starting value nu={values['nu']} outside {NU_BOUNDS}")

    @property
    def param_names(self) -> list[str]:
        """Names of the correlation-stage parameters."""
        names = {"dcc": ["a", "b"], "cdcc": ["a", "b"], "adcc": ["a", "b", "g"], "ccc": []}
        return names[self.kind] + (["nu"] if self.distribution == "t" else [])

    def fit(
        self,
        returns: pd.DataFrame | None = None,
        *,
        univariate: UnivariateFits | None = None,
        check_units: bool = True,
    ) -> DCCResult:
        """Estimate the model.

        Parameters
        ----------
        returns : pandas.DataFrame, shape (T, N), optional
            Returns in percent, one column per asset, no missing values.
        univariate : UnivariateFits, optional
            A univariate stage already fitted (:func:`research.volatility.fit_univariate`)
            or built from user residuals (:meth:`UnivariateFits.from_arrays`); then
            ``returns`` is not needed and the univariate stage is not refitted.
        check_units : bool
            Refuse prices given as returns and decimal returns
            (:func:`research.data.check_return_units`); ``False`` skips that check.

        Returns
        -------
        DCCResult

        Raises
        ------
        DataError
            Bad returns (see :func:`research.volatility.validate_returns`: among others
            an index that is not sorted, unique dates, or returns that look like prices
            or decimals), or fewer than two assets.
        InsufficientDataError
            T < MIN_OBS_PER_ASSET * N for the full likelihood (use a composite one).
        NotPositiveDefiniteError
            Singular correlation target (collinear assets).
        SpecificationError
            Non-stationary starting values.
        ConvergenceError
            The optimizer failed from every start.
        """
        notes: list[str] = []
        univariate = univariate_stage(returns, univariate, self.univariate, check_units=check_units)
        notes.extend(univariate.warnings)
        zdf = univariate.std_resid
        assets = univariate.assets
        t_obs, n_assets = zdf.shape
        if n_assets < 2:
            raise DataError(f"a correlation model needs at least 2 assets, got {assets}")
        if self.estimation == "full" and t_obs < MIN_OBS_PER_ASSET * n_assets:
            raise InsufficientDataError(
                f"{t_obs} observations for {n_assets} assets; the full likelihood needs at "
                f"least {MIN_OBS_PER_ASSET * n_assets} (use estimation='composite-all' or "
                "fewer assets)"
            )
        problem = CorrelationProblem.build(
            zdf.to_numpy(dtype=np.float64),
            self.kind,
            self.distribution,
            self.estimation,
            assets,
            self.target,
        )
        theta, opt, converged, opt_notes = self._optimize(problem)
        notes.extend(opt_notes)
        param_cov = None
        if self.std_errors and theta.size:
            cov, cov_notes = two_step_covariance(problem, theta, univariate)
            notes.extend(cov_notes)
            param_cov = pd.DataFrame(cov, index=problem.param_names, columns=problem.param_names)
            if not np.all(np.diag(cov) > 0):
                notes.append("parameter covariance has non-positive variances (near a bound?)")
        for note in opt_notes:
            warnings.warn(note, ConvergenceWarning, stacklevel=2)
        return DCCResult.from_estimate(
            model=self,
            problem=problem,
            theta=theta,
            univariate=univariate,
            param_cov=param_cov,
            optimization=opt,
            converged=converged,
            warnings=tuple(notes),
            data_description=describe_data(univariate),
        )

    def _grid(self, problem: CorrelationProblem) -> list[Float64Array1D]:
        delta = problem.delta
        grid: list[Float64Array1D] = []
        dyn = (
            [()]
            if self.kind == "ccc"
            else [(a, b) for a in GRID_A for b in GRID_B if a + b < 1 - 1e-3]
        )
        for ab in dyn:
            for g in GRID_G if self.kind == "adcc" else (None,):
                if g is not None and sum(ab) + delta * g >= 1 - 1e-3:
                    continue
                for nu in GRID_NU if self.distribution == "t" else (None,):
                    point = list(ab) + ([g] if g is not None else []) + ([nu] if nu else [])
                    grid.append(np.array(point, dtype=float))
        if self.starting_values is not None:
            start = np.array(self.starting_values, dtype=float)
            if self.kind == "adcc":
                total = start[0] + start[1] + delta * start[2]
                if total >= 1:
                    raise SpecificationError(
                        f"starting_values are non-stationary: a + b + delta*g = {total:.4f} >= 1 "
                        f"(delta = {delta:.3f}); lower them"
                    )
            grid.insert(0, start)
        return grid

    def _optimize(
        self, problem: CorrelationProblem
    ) -> tuple[Float64Array1D, OptimizeResult | None, bool, list[str]]:
        names = problem.param_names
        if not names:
            return np.zeros(0), None, True, []
        t_obs = _scale(problem)
        delta = problem.delta

        def objective(theta: Float64Array1D) -> float:
            return _objective(problem, theta, t_obs)

        bounds = []
        for name in names:
            bounds.append(NU_BOUNDS if name == "nu" else (0.0, 1.0))
        weights = np.array([{"a": 1.0, "b": 1.0, "g": delta}.get(p, 0.0) for p in names])
        grid = self._grid(problem)
        screen = problem
        if problem.pairs is not None and problem.pairs.shape[0] > GRID_SCREEN_PAIRS:
            # rank the start grid on the cheap adjacent-pairs likelihood
            n = problem.z.shape[1]
            adjacent = np.column_stack([np.arange(n - 1), np.arange(1, n)]).astype(np.int64)
            screen = dataclasses.replace(problem, pairs=adjacent)
        values = _grid_values(screen, grid)
        order = np.argsort(values)
        notes: list[str] = []
        best: OptimizeResult | None = None

        def run(target: CorrelationProblem, x0: Float64Array1D) -> OptimizeResult:
            scale = _scale(target)
            # SLSQP works on y = theta / s, with s making the objective's curvature O(1)
            ll0, sc0, ok0 = target.loglik(x0, want_grad=True)
            s = _variable_scale(sc0, scale) if ok0 else np.ones_like(x0)
            y0 = x0 / s
            known = (
                {y0.tobytes(): (-float(ll0.sum()) / scale, -sc0.sum(axis=0) * s / scale)}
                if ok0
                else {}
            )

            def fun(y: Float64Array1D):
                if known:  # SLSQP's first call is at the start, evaluated above
                    cached = known.pop(np.asarray(y, dtype=float).tobytes(), None)
                    if cached is not None:
                        return cached
                theta = y * s
                ll, sc, ok = target.loglik(theta, want_grad=True)
                if not ok:
                    return 1e3, np.zeros_like(theta)
                return -float(ll.sum()) / scale, -sc.sum(axis=0) * s / scale

            scaled_constraints = (
                [
                    {
                        "type": "ineq",
                        "fun": lambda y: 1.0 - STATIONARITY_MARGIN - float(weights @ (y * s)),
                        "jac": lambda y: -weights * s,
                    }
                ]
                if weights.any()
                else []
            )
            opt = minimize(
                fun,
                y0,
                jac=True,
                method="SLSQP",
                bounds=[(lo / si, hi / si) for (lo, hi), si in zip(bounds, s, strict=True)],
                constraints=scaled_constraints,
                options={"ftol": FTOL, "maxiter": self.maxiter},
            )
            opt.x = np.asarray(opt.x, dtype=float) * s
            if opt.get("jac") is not None:
                opt.jac = np.asarray(opt.jac, dtype=float) / s
            opt.x0 = x0
            opt.variable_scale = s
            return opt

        starts = [grid[i] for i in order[:2]]
        if screen is not problem:
            # warm start: the adjacent-pairs estimate is close to the all-pairs one
            pre = run(screen, starts[0])
            if np.isfinite(pre.fun) and pre.fun < 1e3:
                starts.insert(0, np.asarray(pre.x, dtype=float))
        for x0 in starts[:2]:
            opt = run(problem, x0)
            if best is None or (np.isfinite(opt.fun) and opt.fun < best.fun):
                best = opt
            if opt.success:
                break
        assert best is not None
        theta = np.asarray(best.x, dtype=float)
        start_value = values[order[0]] if screen is problem else objective(grid[order[0]])
        if not np.isfinite(best.fun) or best.fun >= 1e3:
            raise ConvergenceError(
                f"{self.kind} optimizer failed from every start ({best.message}); the "
                "likelihood is not finite. Check the standardized residuals"
            )
        converged = bool(best.success)
        if not converged:
            if not best.fun < start_value and np.allclose(theta, best.x0):
                raise ConvergenceError(
                    f"{self.kind} optimizer did not move from its start values "
                    f"({best.message}); no usable estimate"
                )
            notes.append(
                f"{self.kind} optimizer did not converge ({best.message}); the estimate "
                "improves on the start grid but is doubtful"
            )
        else:
            grad = np.asarray(best.jac, dtype=float)  # gradient of the scaled objective
            lower = np.array([b[0] for b in bounds])
            interior = (theta > lower + 1e-6) & (weights @ theta < 1 - 1e-4)
            if np.any(np.abs(grad[interior]) > GRADIENT_TOLERANCE):
                converged = False
                notes.append(
                    f"{self.kind} optimizer stopped with gradient "
                    f"{np.round(grad, 6).tolist()}; the estimate is doubtful"
                )
        if weights.any() and weights @ theta > 1 - 1e-4:
            notes.append(boundary_note(dict(zip(names, theta, strict=True)), delta))
        best.start_grid = np.array(grid)
        best.start_values = values
        return theta, best, converged, notes


def boundary_note(params: Mapping[str, float], delta: float) -> str:
    r"""Say that an estimate sits on the stationarity boundary, naming the quantity checked.

    The condition is :math:`a + b < 1` for DCC and cDCC and :math:`a + b + \delta g < 1`
    for ADCC, with :math:`\delta` the largest eigenvalue of
    :math:`\bar Q^{-1/2}\bar N\bar Q^{-1/2}` (:math:`\delta = 1/2` for symmetric
    innovations, where the condition reads :math:`a + b + g/2 < 1`).

    Parameters
    ----------
    params : mapping of str to float
        The estimate: ``a``, ``b`` and, for ADCC, ``g``.
    delta : float
        The asymmetry weight :math:`\delta` (unused without ``g``).

    Returns
    -------
    str
        For ADCC the message states ``a + b + delta*g`` under that name, then ``a + b``,
        ``delta`` and ``g`` separately.

    Examples
    --------
    >>> boundary_note({"a": 0.05, "b": 0.942, "g": 0.016}, 0.5)  # doctest: +NORMALIZE_WHITESPACE
    'estimate on the stationarity boundary a + b + delta*g < 1: a + b + delta*g = 1.000000
    (a + b = 0.992000, delta = 0.5000, g = 0.016000); the correlation process is
    near-integrated'
    """
    a_plus_b = float(params["a"]) + float(params["b"])
    if "g" in params:
        g = float(params["g"])
        total = a_plus_b + delta * g
        quantity = (
            f"a + b + delta*g < 1: a + b + delta*g = {total:.6f} (a + b = {a_plus_b:.6f}, "
            f"delta = {delta:.4f}, g = {g:.6f})"
        )
    else:
        quantity = f"a + b < 1: a + b = {a_plus_b:.6f}"
    return (
        f"estimate on the stationarity boundary {quantity}; the correlation process is "
        "near-integrated"
    )


def _grid_values(problem: CorrelationProblem, grid: list[Float64Array1D]) -> Float64Array1D:
    """Objective at every start point; full likelihoods on one thread per core.

    The full-likelihood kernel is serial and releases the GIL, so start points evaluate in
    parallel threads. A composite likelihood spreads its own pairs over threads when it is
    large enough, so its start points are evaluated in turn.
    """
    values = np.empty(len(grid))
    scale = _scale(problem)

    def work(start: int, stop: int, _scratch: dict) -> None:
        for k in range(start, stop):
            values[k] = _objective(problem, grid[k], scale)

    run_row_blocks(len(grid), 1, work, parallel=problem.pairs is None)
    return values


def _scale(problem: CorrelationProblem) -> int:
    """Observations (pair-observations for composite likelihoods) that normalize the objective.

    With the objective per (pair-)observation, FTOL means the same relative precision for
    every estimation method.
    """
    return problem.z.shape[0] * (1 if problem.pairs is None else problem.pairs.shape[0])


def _variable_scale(scores: Float64Array2D, normalization: int) -> Float64Array1D:
    r"""Scale :math:`s_k` of each parameter for the optimizer, from scores at the start.

    With :math:`S` the normalization of the objective (:func:`_scale`) and
    :math:`s_k = (\sum_t g_{tk}^2 / S)^{-1/2}` from the per-observation scores
    :math:`g_t`, the outer-product estimate of the objective's Hessian in
    :math:`y = \theta / s` has a unit diagonal; SLSQP, which starts from an identity
    Hessian, then needs about half the iterations. A non-finite or zero scale falls
    back to 1 (that parameter is not scaled).

    Parameters
    ----------
    scores : ndarray, shape (T, K)
        Per-observation scores at the starting values.
    normalization : int
        :math:`S`, the divisor of the objective.

    Returns
    -------
    ndarray, shape (K,)
    """
    curvature = np.einsum("tk,tk->k", scores, scores) / normalization
    with np.errstate(divide="ignore"):
        scale = 1.0 / np.sqrt(curvature)
    return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)


def _objective(problem: CorrelationProblem, theta: Float64Array1D, t_obs: int) -> float:
    ll, _, ok = problem.loglik(theta)
    return -float(ll.sum()) / t_obs if ok else 1e3


def describe_data(univariate: UnivariateFits) -> dict[str, object]:
    """Assets, first/last date, observations and a hash of the standardized residuals.

    Parameters
    ----------
    univariate : UnivariateFits
        The first stage.

    Returns
    -------
    dict
    """
    z = univariate.std_resid
    digest = hashlib.sha256(np.ascontiguousarray(z.to_numpy(dtype=np.float64)).tobytes())
    return {
        "assets": univariate.assets,
        "first_date": z.index[0],
        "last_date": z.index[-1],
        "nobs": int(z.shape[0]),
        "dropped_rows": int(univariate.dropped),
        "std_resid_sha256": digest.hexdigest()[:16],
    }
