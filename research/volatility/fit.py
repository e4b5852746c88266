"""Fit the univariate stage: one volatility model per asset, collected in :class:`UnivariateFits`.

The constant-mean GARCH(1,1) with normal or Student-t errors is estimated by the compiled
:func:`research.volatility.garch.fit_garch11` (``engine="auto"`` or ``"fast"`` in
:class:`UnivariateSpec`), every other specification by ``arch``. Either way each asset's
result is an ``arch`` ``ARCHModelResult`` (the fast engine's is built on the same ``arch``
model at its estimates), so forecasts, simulation, rolling filters and standard errors read
the same object.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from arch.univariate.base import ARCHModelResult
from scipy.optimize import OptimizeResult

from research.data.timeindex import check_time_index
from research.data.units import check_return_units
from research.errors import (
    ConvergenceWarning,
    DataError,
    InsufficientDataError,
    ResearchWarning,
)
from research.volatility.garch import Garch11Fit, fit_garch11
from research.volatility.spec import UnivariateSpec

__all__ = [
    "ArchResults",
    "UnivariateFits",
    "fit_univariate",
    "univariate_stage",
    "validate_returns",
    "MIN_OBSERVATIONS",
]

#: Fewest observations per asset for a univariate volatility fit.
MIN_OBSERVATIONS = 100


def validate_returns(returns: pd.DataFrame, *, check_units: bool = True) -> pd.DataFrame:
    """Check a wide frame of returns and return it as float64.

    The index is checked by :func:`research.data.check_time_index` (the package's one
    time-series check) and the values by :func:`research.data.check_return_units`.

    Parameters
    ----------
    returns : pandas.DataFrame, shape (T, N)
        Returns (in percent), one column per asset, indexed by sorted unique dates
        (naive) or UTC timestamps.
    check_units : bool
        Refuse prices given as returns and decimal returns (every asset's daily standard
        deviation below 0.1); ``False`` skips that check for data known to be right.

    Returns
    -------
    pandas.DataFrame
        The same values as float64.

    Raises
    ------
    DataError
        If ``returns`` is not a DataFrame, its index is not a sorted, unique
        DatetimeIndex following the time-zone policy (the message names the first
        offending stamp), it has duplicate or no columns, non-numeric values, an all-NaN
        or constant column, or a missing value inside the sample (the message names the
        assets and the first date; align or drop rows first, for example with
        ``returns.dropna()``, so that nothing is dropped silently), or it fails the units
        guard.
    InsufficientDataError
        If there are fewer than :data:`MIN_OBSERVATIONS` rows.
    """
    if not isinstance(returns, pd.DataFrame):
        raise DataError(
            f"returns must be a pandas DataFrame (dates x assets), got {type(returns).__name__}"
        )
    if returns.shape[1] == 0:
        raise DataError("returns has no columns; pass one column of returns per asset")
    check_time_index(returns, what="returns")
    if returns.columns.has_duplicates:
        dup = returns.columns[returns.columns.duplicated()].tolist()
        raise DataError(f"duplicate asset columns {dup}; give every asset a unique name")
    try:
        values = returns.astype("float64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"returns must be numeric: {exc}") from exc
    arr = values.to_numpy()
    if np.isinf(arr).any():
        col = values.columns[np.isinf(arr).any(axis=0)].tolist()
        raise DataError(f"infinite returns in assets {col}; check the price data")
    all_nan = values.columns[np.isnan(arr).all(axis=0)].tolist()
    if all_nan:
        raise DataError(f"assets {all_nan} have no data (all NaN); drop these columns")
    missing = np.isnan(arr)
    if missing.any():
        cols = values.columns[missing.any(axis=0)].tolist()
        first = values.index[missing.any(axis=1)][0]
        raise DataError(
            f"{int(missing.sum())} missing returns in assets {cols} (first at {first}); "
            "align the calendars or drop those rows (e.g. returns.dropna()) before fitting"
        )
    if len(values) < MIN_OBSERVATIONS:
        raise InsufficientDataError(
            f"{len(values)} observations; at least {MIN_OBSERVATIONS} are needed per asset"
        )
    std = arr.std(axis=0)
    constant = values.columns[~(std > 0)].tolist()
    if constant:
        raise DataError(
            f"assets {constant} have constant returns (no variance); drop these columns"
        )
    if check_units:
        check_return_units(values, "percent")
    return values


@dataclass(frozen=True)
class UnivariateFits:
    """Results of the univariate stage, one volatility model per asset.

    Parameters
    ----------
    sigma : pandas.DataFrame, shape (T, N)
        Conditional volatilities sigma_t (same units as the returns).
    std_resid : pandas.DataFrame, shape (T, N)
        Standardized residuals z_t = (r_t - mu_t) / sigma_t.
    params : pandas.DataFrame
        Parameters, one row per asset (empty when built from arrays).
    loglikelihoods : pandas.Series
        Log-likelihood of each asset's model (NaN when unknown).
    converged : pandas.Series of bool
        Optimizer convergence flag of each asset.
    results : mapping of str to arch ARCHModelResult
        The ``arch`` results (empty when built from arrays; for the compiled engine they
        are built on first access, see :class:`ArchResults`).
    spec : UnivariateSpec or None
        The specification that produced the fits (``None`` when built from arrays).
    warnings : tuple of str
        Warnings raised during the fits, prefixed with the asset.
    dropped : int, default 0
        Leading rows without a standardized residual (e.g. AR lags), dropped for all assets.

    See Also
    --------
    fit_univariate : builds this object from returns.
    """

    sigma: pd.DataFrame
    std_resid: pd.DataFrame
    params: pd.DataFrame
    loglikelihoods: pd.Series
    converged: pd.Series
    results: Mapping[str, ARCHModelResult] = field(default_factory=dict)
    spec: UnivariateSpec | None = None
    warnings: tuple[str, ...] = ()
    dropped: int = 0

    @property
    def assets(self) -> list[str]:
        """Asset names in column order."""
        return [str(c) for c in self.std_resid.columns]

    @property
    def loglikelihood(self) -> float:
        """Sum of the per-asset log-likelihoods (NaN when unknown)."""
        return float(self.loglikelihoods.sum(min_count=len(self.loglikelihoods)))

    @property
    def nobs(self) -> int:
        """Number of observations with a standardized residual."""
        return int(self.std_resid.shape[0])

    @property
    def n_params(self) -> int:
        """Total number of univariate parameters."""
        return int(self.params.notna().to_numpy().sum())

    @classmethod
    def from_arrays(
        cls,
        std_resid: pd.DataFrame,
        sigma: pd.DataFrame | None = None,
        loglikelihoods: pd.Series | None = None,
    ) -> UnivariateFits:
        """Wrap standardized residuals (and volatilities) computed elsewhere.

        Parameters
        ----------
        std_resid : pandas.DataFrame, shape (T, N)
            Standardized residuals, one column per asset.
        sigma : pandas.DataFrame, optional
            Conditional volatilities with the same labels; ones when omitted (the
            covariance path then equals the correlation path).
        loglikelihoods : pandas.Series, optional
            Univariate log-likelihoods per asset; NaN when omitted.

        Returns
        -------
        UnivariateFits
            Without ``arch`` results; two-step standard errors then ignore the
            first-stage estimation error (recorded as a warning by the DCC fit).

        Raises
        ------
        DataError
            If the inputs are malformed (including an index that is not sorted, unique
            dates), misaligned, or ``sigma`` is not positive.
        """
        z = validate_returns(std_resid, check_units=False)
        if sigma is None:
            sig = pd.DataFrame(1.0, index=z.index, columns=z.columns)
        else:
            if not isinstance(sigma, pd.DataFrame):
                raise DataError("sigma must be a DataFrame with the labels of std_resid")
            if not (sigma.index.equals(z.index) and sigma.columns.equals(z.columns)):
                raise DataError("sigma and std_resid must have the same index and columns")
            sig = sigma.astype("float64")
            if not (sig.to_numpy() > 0).all():
                raise DataError("sigma must be strictly positive and have no missing values")
        ll = (
            pd.Series(np.nan, index=z.columns, dtype=float)
            if loglikelihoods is None
            else pd.Series(loglikelihoods, dtype=float).reindex(z.columns)
        )
        return cls(
            sigma=sig,
            std_resid=z,
            params=pd.DataFrame(index=z.columns),
            loglikelihoods=ll,
            converged=pd.Series(True, index=z.columns),
        )

    def summary(self) -> pd.DataFrame:
        """Parameters, log-likelihood and convergence flag per asset.

        Returns
        -------
        pandas.DataFrame
            One row per asset.
        """
        out = self.params.copy()
        out["loglikelihood"] = self.loglikelihoods
        out["converged"] = self.converged
        return out


def _generic_names(params: pd.Series, asset: str) -> pd.Series:
    """Rename arch's asset-specific lag names (``AAPL[1]``) to ``ar[1]``."""
    prefix = f"{asset}["
    return params.rename(
        lambda name: "ar[" + name[len(prefix) :] if name.startswith(prefix) else name
    )


@dataclass(frozen=True)
class _AssetFit:
    """What the univariate stage reads from one asset's fit, from either engine."""

    sigma: np.ndarray
    resid: np.ndarray
    params: pd.Series
    loglikelihood: float
    flag: int


def _fit_arch(
    series: pd.Series, spec: UnivariateSpec, options: dict
) -> tuple[_AssetFit, ARCHModelResult]:
    """One asset through ``arch_model(...).fit``."""
    res = spec.build(series).fit(disp="off", options=options or None)
    out = _AssetFit(
        sigma=np.asarray(res.conditional_volatility, dtype=np.float64),
        resid=np.asarray(res.resid, dtype=np.float64),
        params=res.params,
        loglikelihood=float(res.loglikelihood),
        flag=int(res.convergence_flag),
    )
    return out, res


def _fit_fast(
    series: pd.Series, spec: UnivariateSpec, options: dict
) -> tuple[_AssetFit, Garch11Fit]:
    """One asset through the compiled GARCH(1,1)."""
    fit = fit_garch11(series.to_numpy(), spec.fast_distribution or "normal", **options)
    out = _AssetFit(
        sigma=np.sqrt(fit.variance),
        resid=series.to_numpy(dtype=np.float64) - fit.params[0],
        params=pd.Series(fit.params, index=fit.names),
        loglikelihood=fit.loglikelihood,
        flag=fit.status,
    )
    return out, fit


def _arch_result(series: pd.Series, spec: UnivariateSpec, fit: Garch11Fit) -> ARCHModelResult:
    """Return a compiled fit as ``arch``'s result object.

    The result holds the ``arch`` model of ``spec`` on ``series`` in the state ``arch``'s own
    ``fit`` leaves it (sample set, the same backcast and variance bounds), so its parameter
    covariance, forecasts and simulations are ``arch``'s at these estimates.
    """
    model = spec.build(series)
    model._adjust_sample(None, None)  # what arch's fit does first (private arch API)
    model._backcast = fit.backcast
    model._var_bounds = fit.variance_bounds
    optim = OptimizeResult(
        x=fit.params,
        fun=-fit.loglikelihood,
        status=fit.status,
        success=fit.converged,
        message=fit.message,
        nit=fit.iterations,
    )
    return ARCHModelResult(
        params=fit.params,
        param_cov=None,
        r2=0.0,
        resid=series.to_numpy(dtype=np.float64) - fit.params[0],
        volatility=np.sqrt(fit.variance),
        cov_type="robust",
        dep_var=series,
        names=fit.names,
        loglikelihood=fit.loglikelihood,
        is_pandas=True,
        optim_output=optim,
        fit_start=0,
        fit_stop=int(series.shape[0]),
        model=model,
    )


class ArchResults(Mapping[str, ARCHModelResult]):
    """``arch`` result objects of compiled GARCH(1,1) fits, built on first access.

    A read-only mapping asset -> ``ARCHModelResult`` (what ``arch``'s own ``fit`` returns,
    at the compiled estimates); building one costs about as much as the fit itself, so
    a DCC fit that never reads them (no standard errors, no forecast) does not pay for it.

    Parameters
    ----------
    fits : mapping of str to (pandas.Series, UnivariateSpec, Garch11Fit)
        Each asset's returns, specification and compiled fit.
    """

    def __init__(self, fits: Mapping[str, tuple[pd.Series, UnivariateSpec, Garch11Fit]]):
        self._fits = dict(fits)
        self._built: dict[str, ARCHModelResult] = {}

    def __getitem__(self, asset: str) -> ARCHModelResult:
        if asset not in self._built:
            self._built[asset] = _arch_result(*self._fits[asset])
        return self._built[asset]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fits)

    def __len__(self) -> int:
        return len(self._fits)

    def __repr__(self) -> str:
        return f"ArchResults({list(self._fits)})"


def fit_univariate(
    returns: pd.DataFrame, spec: UnivariateSpec | None = None, *, check_units: bool = True
) -> UnivariateFits:
    """Fit one volatility model per asset (compiled GARCH(1,1) or ``arch``).

    Parameters
    ----------
    returns : pandas.DataFrame, shape (T, N)
        Returns in percent (see :func:`research.data.to_returns`), no missing values,
        indexed by sorted unique dates.
    spec : UnivariateSpec, optional
        The model of every asset; constant mean + GARCH(1,1) + normal by default. Its
        ``engine`` chooses the compiled GARCH(1,1) or ``arch`` (the compiled one by default
        where it covers the specification).
    check_units : bool
        Run the units guard of :func:`validate_returns`.

    Returns
    -------
    UnivariateFits
        Volatilities, standardized residuals, parameters, log-likelihoods, convergence
        flags and the ``arch`` results (from either engine). Warnings (also re-emitted) are
        recorded per asset.

    Raises
    ------
    DataError, InsufficientDataError
        See :func:`validate_returns`.

    Examples
    --------
    >>> from research.data import load_dataset, to_returns  # doctest: +SKIP
    >>> fits = fit_univariate(to_returns(load_dataset("sp500")).iloc[-1000:, :3])  # doctest: +SKIP
    >>> fits.params.round(3)  # doctest: +SKIP
    """
    spec = UnivariateSpec() if spec is None else spec
    values = validate_returns(returns, check_units=check_units)
    fast = spec.uses_fast_engine
    fit_one = _fit_fast if fast else _fit_arch
    fits: dict[str, _AssetFit] = {}
    raw: dict[str, Any] = {}
    notes: list[str] = []
    options = dict(spec.options)
    for asset in values.columns:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out, res = fit_one(values[asset], spec, options)
        for w in caught:
            notes.append(f"{asset}: {w.category.__name__}: {w.message}")
        if out.flag != 0:
            notes.append(
                f"{asset}: univariate optimizer did not converge "
                f"(flag {out.flag}); inspect fits.results[{asset!r}]"
            )
        fits[str(asset)] = out
        raw[str(asset)] = (values[asset], spec, res) if fast else res
    results = ArchResults(raw) if fast else raw
    sigma_values = np.column_stack([f.sigma for f in fits.values()])
    z_values = np.column_stack([f.resid for f in fits.values()]) / sigma_values
    z = pd.DataFrame(z_values, index=values.index, columns=list(fits))
    sigma = pd.DataFrame(sigma_values, index=values.index, columns=list(fits))
    keep = ~np.isnan(z_values).any(axis=1)
    dropped = int((~keep).sum())
    if dropped:
        first_valid = int(np.argmax(keep))
        if keep[first_valid:].all():
            notes.append(
                f"{dropped} leading rows have no standardized residual (mean-model lags) "
                "and are dropped for all assets"
            )
        else:
            raise DataError(
                "standardized residuals are missing inside the sample; "
                "check the univariate specification"
            )
    if dropped:
        z = z.loc[keep]
        sigma = sigma.loc[keep]
    params = pd.DataFrame([_generic_names(f.params, a) for a, f in fits.items()], index=list(fits))
    params.index.name = "asset"
    ll = pd.Series({a: f.loglikelihood for a, f in fits.items()}, dtype=float)
    conv = pd.Series({a: f.flag == 0 for a, f in fits.items()}, dtype=bool)
    for note in notes:
        category = ConvergenceWarning if "converge" in note else ResearchWarning
        warnings.warn(note, category, stacklevel=2)
    return UnivariateFits(
        sigma=sigma,
        std_resid=z,
        params=params,
        loglikelihoods=ll,
        converged=conv,
        results=results,
        spec=spec,
        warnings=tuple(notes),
        dropped=dropped,
    )


def univariate_stage(
    returns: pd.DataFrame | None,
    univariate: UnivariateFits | None,
    spec: UnivariateSpec,
    *,
    check_units: bool = True,
) -> UnivariateFits:
    """Return the univariate stage a correlation model runs on: given, or fitted to returns.

    Parameters
    ----------
    returns : pandas.DataFrame or None
        Returns in percent (fitted with ``spec`` when ``univariate`` is None).
    univariate : UnivariateFits or None
        A univariate stage already fitted; it is used as is.
    spec : UnivariateSpec
        The per-asset model for ``returns``.
    check_units : bool
        Refuse prices and decimal returns (:func:`research.data.check_return_units`).

    Returns
    -------
    UnivariateFits

    Raises
    ------
    DataError
        Neither returns nor a univariate stage, or a ``univariate`` of another type.
    """
    if univariate is None:
        if returns is None:
            raise DataError("pass returns, or a fitted univariate stage via univariate=")
        return fit_univariate(returns, spec, check_units=check_units)
    if not isinstance(univariate, UnivariateFits):
        raise DataError("univariate must be a UnivariateFits")
    return univariate
