"""Immutable result of a DCC-family fit: parameters, inference, paths and summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import DTypeLike
from scipy import stats
from scipy.optimize import OptimizeResult
from statsmodels.iolib.summary import Summary
from statsmodels.iolib.table import SimpleTable
from statsmodels.iolib.tableformatting import fmt_2cols

from research._typing import Float64Array1D, Float64Array2D, Float64Array3D, Seed
from research.correlation import _kernels as kern
from research.correlation._likelihood import CorrelationProblem
from research.errors import SpecificationError
from research.volatility import UnivariateFits

if TYPE_CHECKING:
    from research.correlation.forecast import DCCForecast
    from research.correlation.model import DCC
    from research.correlation.simulate import DCCSimulation

__all__ = ["DCCResult"]


def _stack(arr: np.ndarray, index: pd.Index, assets: list[str]) -> pd.DataFrame:
    """(T, N, N) paths as a (date, asset) x asset frame over the same memory (no copy)."""
    t_obs, n, _ = arr.shape
    mi = pd.MultiIndex.from_product([index, assets], names=["date", "asset"])
    return pd.DataFrame(
        arr.reshape(t_obs * n, n), index=mi, columns=pd.Index(assets, name=None), copy=False
    )


def _path_dtype(dtype: DTypeLike) -> np.dtype:
    kind = np.dtype(dtype)
    if kind not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise SpecificationError(f"dtype must be float64 or float32, got {kind}")
    return kind


@dataclass(frozen=True, eq=False)
class DCCResult:
    """Result of :meth:`research.correlation.DCC.fit` (or :meth:`DCCResult.fix`).

    Parameters
    ----------
    model : DCC
        The estimator specification.
    params : pandas.Series
        Correlation-stage parameters ``a``, ``b`` (``g`` for ADCC, ``nu`` for Student-t).
    param_cov : pandas.DataFrame or None
        Two-step-corrected sandwich covariance of ``params`` (None without inference).
    loglikelihood_correlation : float
        Second-stage (correlation) log-likelihood of the full model at ``params``.
    objective : float
        Value of the maximized objective (the composite log-likelihood for composite
        estimation; equals ``loglikelihood_correlation`` otherwise).
    univariate : UnivariateFits
        The first stage (per-asset ``arch`` results, sigma_t, standardized residuals).
    qbar : ndarray, shape (N, N)
        Intercept target (cDCC: Aielli-corrected at ``params``).
    nbar : ndarray, shape (N, N) or None
        Target of the negative parts (ADCC only).
    q_next : ndarray, shape (N, N)
        Q_{T+1}, the one-step-ahead quasi-correlation matrix from data through T.
    optimization : scipy.optimize.OptimizeResult or None
        Optimizer output (with ``start_grid`` and ``start_values``); None when fixed.
    converged : bool
        Optimizer convergence and gradient check passed.
    warnings : tuple of str
        Every warning raised while fitting.
    data_description : dict
        Assets, first/last date, observations, dropped rows and a data hash.
    problem : CorrelationProblem
        The estimation problem (for :meth:`fix`).
    """

    model: DCC
    params: pd.Series
    param_cov: pd.DataFrame | None
    loglikelihood_correlation: float
    objective: float
    univariate: UnivariateFits
    qbar: Float64Array2D
    nbar: Float64Array2D | None
    q_next: Float64Array2D = field(repr=False)
    optimization: OptimizeResult | None = field(repr=False)
    converged: bool
    warnings: tuple[str, ...]
    data_description: dict[str, Any]
    problem: CorrelationProblem = field(repr=False)

    @classmethod
    def from_estimate(
        cls,
        model: DCC,
        problem: CorrelationProblem,
        theta: Float64Array1D,
        univariate: UnivariateFits,
        param_cov: pd.DataFrame | None,
        optimization: OptimizeResult | None,
        converged: bool,
        warnings: tuple[str, ...],
        data_description: dict[str, Any],
    ) -> DCCResult:
        """Evaluate paths and likelihoods at ``theta`` and build the result.

        Parameters
        ----------
        model : DCC
            Specification.
        problem : CorrelationProblem
            Estimation problem.
        theta : ndarray
            Parameters in ``problem.param_names`` order.
        univariate : UnivariateFits
            First stage.
        param_cov : pandas.DataFrame or None
            Parameter covariance.
        optimization : OptimizeResult or None
            Optimizer output.
        converged : bool
            Convergence flag.
        warnings : tuple of str
            Recorded warnings.
        data_description : dict
            Data provenance.

        Returns
        -------
        DCCResult
        """
        theta = np.asarray(theta, dtype=float)
        a, b, g, _ = problem.unpack(theta)
        qbar, nbar = problem.targets(theta)
        q_next = kern.dcc_q_last(problem.z, a, b, g, qbar, nbar, kern.KIND_CODES[problem.kind])
        ll_full = float(problem.loglik(theta, full=True)[0].sum())
        objective = ll_full if problem.pairs is None else float(problem.loglik(theta)[0].sum())
        return cls(
            model=model,
            params=pd.Series(theta, index=problem.param_names, dtype=float, name="params"),
            param_cov=param_cov,
            loglikelihood_correlation=ll_full,
            objective=objective,
            univariate=univariate,
            qbar=qbar,
            nbar=nbar if problem.kind == "adcc" else None,
            q_next=q_next,
            optimization=optimization,
            converged=converged,
            warnings=warnings,
            data_description=data_description,
            problem=problem,
        )

    # ----- specification -------------------------------------------------------------
    @property
    def kind(self) -> str:
        """Model kind: ``dcc``, ``cdcc``, ``adcc`` or ``ccc``."""
        return self.model.kind

    @property
    def distribution(self) -> str:
        """Innovation distribution: ``normal`` or ``t``."""
        return self.model.distribution

    @property
    def assets(self) -> list[str]:
        """Asset names."""
        return self.univariate.assets

    @property
    def nobs(self) -> int:
        """Number of observations used by the correlation stage."""
        return int(self.std_resid.shape[0])

    @property
    def std_resid(self) -> pd.DataFrame:
        """Standardized residuals z_t (T x N)."""
        return self.univariate.std_resid

    @cached_property
    def q_path(self) -> Float64Array3D:
        """Quasi-correlations Q_1 .. Q_{T+1}, shape (T + 1, N, N) (computed on first use).

        The correlation and covariance paths do not use it (they never store Q).
        """
        a, b, g, _ = self.problem.unpack(self.params.to_numpy())
        nbar = self.nbar if self.nbar is not None else np.zeros_like(self.qbar)
        return kern.dcc_q_path(self.problem.z, a, b, g, self.qbar, nbar, kern.KIND_CODES[self.kind])

    # ----- inference -----------------------------------------------------------------
    @property
    def std_errors(self) -> pd.Series:
        """Standard errors (NaN when not computed)."""
        if self.param_cov is None:
            return pd.Series(np.nan, index=self.params.index, name="std_errors")
        var = np.diag(self.param_cov.to_numpy())
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.where(var > 0, var, np.nan))
        return pd.Series(se, index=self.params.index, name="std_errors")

    @property
    def tstats(self) -> pd.Series:
        """t-statistics params / std_errors."""
        return (self.params / self.std_errors).rename("tstats")

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided normal p-values of the t-statistics."""
        return pd.Series(
            2 * stats.norm.sf(np.abs(self.tstats.to_numpy())),
            index=self.params.index,
            name="pvalues",
        )

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Return normal confidence intervals of the parameters.

        Parameters
        ----------
        level : float, default 0.95
            Coverage probability in (0, 1).

        Returns
        -------
        pandas.DataFrame
            Columns ``lower`` and ``upper``.
        """
        if not 0 < level < 1:
            raise SpecificationError(f"level must lie in (0, 1), got {level}")
        q = stats.norm.ppf(0.5 + level / 2)
        se = self.std_errors
        return pd.DataFrame({"lower": self.params - q * se, "upper": self.params + q * se})

    # ----- likelihood ----------------------------------------------------------------
    @property
    def loglikelihood(self) -> float:
        """Total log-likelihood: univariate stage + correlation stage."""
        return float(self.univariate.loglikelihood + self.loglikelihood_correlation)

    @property
    def n_params(self) -> int:
        """Univariate plus correlation parameters (the target Qbar is not counted)."""
        return int(self.univariate.n_params + self.params.size)

    @property
    def aic(self) -> float:
        """Akaike information criterion from the total log-likelihood."""
        return float(-2 * self.loglikelihood + 2 * self.n_params)

    @property
    def bic(self) -> float:
        """Schwarz criterion from the total log-likelihood."""
        return float(-2 * self.loglikelihood + np.log(self.nobs) * self.n_params)

    # ----- paths ---------------------------------------------------------------------
    def _path(
        self,
        sigma: Float64Array2D | None,
        dtype: DTypeLike,
        assets: tuple[int, ...] | None = None,
    ) -> np.ndarray:
        """R_1 .. R_T (``sigma`` None) or H_1 .. H_T, written straight into the output.

        ``assets`` restricts the path to those assets' block (their own recursion).
        """
        a, b, g, _ = self.problem.unpack(self.params.to_numpy())
        z, qbar = self.problem.z, self.qbar
        nbar = self.nbar if self.nbar is not None else np.zeros_like(qbar)
        if assets is not None:
            idx = np.array(assets)
            z = np.ascontiguousarray(z[:, idx])
            qbar = np.ascontiguousarray(qbar[np.ix_(idx, idx)])
            nbar = np.ascontiguousarray(nbar[np.ix_(idx, idx)])
        t_obs, n = z.shape
        out = np.empty((t_obs, n, n), dtype=_path_dtype(dtype))
        scale = np.empty((0, n)) if sigma is None else np.ascontiguousarray(sigma, dtype=float)
        q = np.array(qbar, dtype=np.float64, order="C")
        kern.dcc_correlation_path(z, a, b, g, qbar, nbar, kern.KIND_CODES[self.kind], scale, q, out)
        return out

    def correlation_path(self, dtype: DTypeLike = np.float64) -> np.ndarray:
        """Conditional correlations R_1 .. R_T as a new array of shape (T, N, N).

        Parameters
        ----------
        dtype : {numpy.float64, numpy.float32}, default float64
            Precision of the output; float32 halves the memory (values are computed in
            float64 and rounded once).

        Returns
        -------
        ndarray, shape (T, N, N)
            Peak memory is this array plus O(N^2): the Q path is not stored.

        Raises
        ------
        SpecificationError
            A dtype other than float64 or float32.
        """
        return self._path(None, dtype)

    def covariance_path(self, dtype: DTypeLike = np.float64) -> np.ndarray:
        """Conditional covariances H_t = D_t R_t D_t, t = 1 .. T, as a new (T, N, N) array.

        Parameters
        ----------
        dtype : {numpy.float64, numpy.float32}, default float64
            Precision of the output (computed in float64, rounded once).

        Returns
        -------
        ndarray, shape (T, N, N)
            Peak memory is this array plus O(N^2).

        Raises
        ------
        SpecificationError
            A dtype other than float64 or float32.
        """
        return self._path(self.univariate.sigma.to_numpy(dtype=float), dtype)

    @cached_property
    def correlation_array(self) -> Float64Array3D:
        """Conditional correlations R_1 .. R_T as a read-only array of shape (T, N, N).

        Computed once and shared with :attr:`correlation` (the frame is a view of it); use
        :meth:`correlation_path` for a writable copy or float32.
        """
        out = self.correlation_path()
        out.flags.writeable = False
        return out

    @cached_property
    def correlation(self) -> pd.DataFrame:
        """Conditional correlations, MultiIndex (date, asset) x asset.

        A view of :attr:`correlation_array` (no second copy of the path).
        """
        return _stack(self.correlation_array, self.std_resid.index, self.assets)

    @cached_property
    def covariance(self) -> pd.DataFrame:
        """Conditional covariances H_t = D_t R_t D_t, MultiIndex (date, asset) x asset."""
        return _stack(self.covariance_path(), self.std_resid.index, self.assets)

    def correlation_pair(self, first: str, second: str) -> pd.Series:
        """Conditional correlation path of one pair of assets.

        Parameters
        ----------
        first, second : str
            Asset names.

        Returns
        -------
        pandas.Series
            Indexed by date.

        Raises
        ------
        SpecificationError
            An asset that is not in the result.

        Notes
        -----
        Entry (i, j) of the recursion involves only assets i and j, so unless
        :attr:`correlation_array` is already computed, the pair's own 2 x 2 recursion gives the
        same values with O(T) memory.
        """
        unknown = [a for a in (first, second) if a not in self.assets]
        if unknown:
            raise SpecificationError(f"unknown assets {unknown}; the result has {self.assets}")
        i, j = self.assets.index(first), self.assets.index(second)
        if "correlation_array" in self.__dict__:
            values = self.correlation_array[:, i, j]
        else:
            # in increasing order, so that each product is formed as in the full recursion
            values = self._path(None, np.float64, (min(i, j), max(i, j)))[:, 0, 1]
        return pd.Series(values, index=self.std_resid.index, name=f"{first}/{second}")

    # ----- evaluation at other parameters --------------------------------------------
    def fix(self, params: pd.Series | dict[str, float]) -> DCCResult:
        """Evaluate the model at given (e.g. stressed) parameters, without inference.

        Parameters
        ----------
        params : pandas.Series or dict
            Values for every name in ``self.params.index``.

        Returns
        -------
        DCCResult
            Same data and univariate stage; ``param_cov`` and ``optimization`` are None.

        Raises
        ------
        SpecificationError
            Missing or extra names, negative values or a non-stationary combination.
        """
        given = dict(params)
        names = list(self.params.index)
        if set(given) != set(names):
            raise SpecificationError(f"fix needs exactly the parameters {names}, got {list(given)}")
        theta = np.array([float(given[p]) for p in names])
        weights = {"a": 1.0, "b": 1.0, "g": self.problem.delta}
        if any(given.get(p, 0.0) < 0 for p in ("a", "b", "g")):
            raise SpecificationError(f"parameters must be non-negative, got {given}")
        total = sum(weights[p] * given[p] for p in ("a", "b", "g") if p in given)
        if total >= 1:
            raise SpecificationError(
                f"non-stationary parameters: a + b (+ delta g) = {total:.6f} >= 1"
            )
        if "nu" in given and not given["nu"] > 2:
            raise SpecificationError(f"nu must exceed 2, got {given['nu']}")
        return DCCResult.from_estimate(
            model=self.model,
            problem=self.problem,
            theta=theta,
            univariate=self.univariate,
            param_cov=None,
            optimization=None,
            converged=True,
            warnings=(*self.warnings, f"parameters fixed at {given} (no estimation)"),
            data_description=self.data_description,
        )

    # ----- forecasts and simulation (research.correlation.forecast / simulate) -------
    def forecast(
        self,
        horizon: int = 1,
        method: Literal["analytic", "simulation"] = "analytic",
        simulations: int = 1000,
        seed: Seed = None,
    ) -> DCCForecast:
        """Forecast correlations and covariances (see :func:`forecast.forecast_dcc`).

        Parameters
        ----------
        horizon : int, default 1
            Steps ahead.
        method : {"analytic", "simulation"}, default "analytic"
            Exact one step and the Engle-Sheppard approximation beyond, or simulation.
        simulations : int, default 1000
            Paths for ``method="simulation"``.
        seed : int, numpy.random.Generator or None
            Seed for ``method="simulation"``.

        Returns
        -------
        DCCForecast
        """
        from research.correlation.forecast import forecast_dcc

        return forecast_dcc(
            self, horizon=horizon, method=method, simulations=simulations, seed=seed
        )

    def simulate(
        self,
        horizon: int = 1,
        paths: int = 1000,
        method: Literal["parametric", "fhs"] = "parametric",
        seed: Seed = None,
        **kwargs: Any,
    ) -> DCCSimulation:
        """Simulate return paths (see :func:`simulate.simulate_dcc`).

        Parameters
        ----------
        horizon : int, default 1
            Days per path.
        paths : int, default 1000
            Number of paths.
        method : {"parametric", "fhs"}, default "parametric"
            Parametric innovations or filtered historical simulation.
        seed : int, numpy.random.Generator or None
            Randomness (an integer reproduces the paths).
        **kwargs
            Passed to :func:`research.correlation.simulate.simulate_dcc`.

        Returns
        -------
        DCCSimulation
        """
        from research.correlation.simulate import simulate_dcc

        return simulate_dcc(self, horizon=horizon, paths=paths, method=method, seed=seed, **kwargs)

    # ----- presentation --------------------------------------------------------------
    def _param_table(self, params: pd.Series, se: pd.Series, title: str) -> SimpleTable:
        t = params / se
        p = 2 * stats.norm.sf(np.abs(t.to_numpy(dtype=float)))
        lo = params - 1.96 * se
        hi = params + 1.96 * se
        rows = [
            [
                f"{params[k]:.4f}",
                f"{se[k]:.4f}",
                f"{t[k]:.3f}",
                f"{p[i]:.3f}",
                f"[{lo[k]:.3f}, {hi[k]:.3f}]",
            ]
            for i, k in enumerate(params.index)
        ]
        return SimpleTable(
            rows,
            headers=["coef", "std err", "t", "P>|t|", "95.0% Conf. Int."],
            stubs=[str(k) for k in params.index],
            title=title,
        )

    def summary(self) -> Summary:
        """Tables of the fit: model, one per asset's univariate model, correlation stage.

        Returns
        -------
        statsmodels.iolib.summary.Summary
            Renders as text, HTML and LaTeX.
        """
        smry = Summary()
        first = self.data_description.get("first_date")
        last = self.data_description.get("last_date")
        spec = self.model.univariate
        left = [
            ("Model:", self.kind.upper()),
            ("Distribution:", self.distribution),
            ("Estimation:", self.model.estimation),
            (
                "Univariate:",
                f"{spec.mean} mean, {spec.vol}({spec.p},{spec.o},{spec.q}), {spec.dist}",
            ),
            ("Assets:", str(len(self.assets))),
        ]
        right = [
            ("Log-likelihood:", f"{self.loglikelihood:,.3f}"),
            ("Correlation LL:", f"{self.loglikelihood_correlation:,.3f}"),
            ("AIC:", f"{self.aic:,.2f}"),
            ("BIC:", f"{self.bic:,.2f}"),
            ("No. Observations:", str(self.nobs)),
        ]
        left.append(("Sample:", f"{pd.Timestamp(first).date() if first is not None else ''}"))
        right.append(("", f"- {pd.Timestamp(last).date() if last is not None else ''}"))
        rows = [[lk, lv, rk, rv] for (lk, lv), (rk, rv) in zip(left, right, strict=True)]
        smry.tables.append(
            SimpleTable(rows, txt_fmt=fmt_2cols, title=f"{self.kind.upper()} Model Results")
        )
        for asset, res in self.univariate.results.items():
            smry.tables.append(
                self._param_table(res.params, res.std_err, f"Univariate model: {asset}")
            )
        if self.params.size:
            smry.tables.append(
                self._param_table(self.params, self.std_errors, "Correlation dynamics")
            )
        notes = []
        if self.param_cov is not None:
            notes.append("Standard errors: two-step-corrected sandwich (Engle-Sheppard).")
        if not self.converged:
            notes.append("WARNING: the optimizer did not converge; estimates are doubtful.")
        notes.extend(f"Warning: {w}" for w in self.warnings)
        if notes:
            smry.add_extra_txt(notes)
        return smry

    def __str__(self) -> str:
        return self.summary().as_text()

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        return self.summary().as_html()
