r"""Rolling out-of-sample one-step forecasts of a DCC-family model, for backtests.

Every ``refit_every`` days the model is re-estimated on the window that ends the day before
(warm-started from the previous parameters when the estimator accepts ``starting_values``).
Between refits the parameters stay fixed and the model is only *filtered*: each asset's
``arch`` model, rebuilt on the data through the block, gives one-step mean and variance
forecasts with the fitted parameters, and the quasi-correlation recursion continues from the
window's residuals through the new ones. The forecast for date :math:`t` uses data through
:math:`t-1` only.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from research._typing import DateLike
from research.correlation._kernels import dcc_correlation_path, dcc_q_last
from research.correlation.forecast import dcc_state
from research.data import check_time_index
from research.errors import (
    ConvergenceWarning,
    InsufficientDataError,
    ResearchWarning,
    SpecificationError,
)

__all__ = ["RollingForecast", "rolling_forecast"]


def _rebuild_arch_model(model: Any, y: pd.Series) -> Any:
    """Build the same ``arch`` mean / volatility / distribution specification on new data."""
    from arch.univariate import ConstantMean, ZeroMean

    kind = type(model)
    if kind not in (ConstantMean, ZeroMean):
        raise SpecificationError(
            f"rolling filtering supports constant- and zero-mean arch models (any volatility "
            f"process and distribution); got mean model {kind.__name__}"
        )
    return kind(
        y,
        hold_back=getattr(model, "_hold_back", None) or None,
        volatility=copy.deepcopy(model.volatility),
        distribution=copy.deepcopy(model.distribution),
        rescale=False,
    )


def _univariate_one_step(
    res: Any, y: pd.Series, first_origin: int, spec: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """One-step mean and variance forecasts for origins ``first_origin .. len(y) - 2``.

    Element ``k`` is the forecast of ``y[first_origin + 1 + k]`` from data through
    ``y[first_origin + k]``, with the fitted parameters of ``res``. The model on the new
    data comes from ``spec.build`` (a ``UnivariateSpec``) when given, else it is rebuilt
    from ``res.model``.
    """
    scale = float(getattr(res, "scale", 1.0) or 1.0)
    if spec is not None and hasattr(spec, "build"):
        model = spec.build(y * scale)
    else:
        model = _rebuild_arch_model(res.model, y * scale)
    fc = model.forecast(res.params, horizon=1, start=first_origin, reindex=False)
    mean = np.asarray(fc.mean.values[:-1, 0], dtype=np.float64) / scale
    var = np.asarray(fc.variance.values[:-1, 0], dtype=np.float64) / scale**2
    return mean, var


def _warm_start_mode(model: Any) -> str | None:
    """How ``model`` takes starting values: a dataclass field, a ``fit`` keyword, or not."""
    if dataclasses.is_dataclass(model) and any(
        f.name == "starting_values" for f in dataclasses.fields(model)
    ):
        return "field"
    try:
        params = inspect.signature(model.fit).parameters
    except (TypeError, ValueError):
        return None
    if "starting_values" in params:
        return "keyword"
    return None


def _refit(model: Any, data: pd.DataFrame, mode: str | None, previous: pd.Series | None) -> Any:
    if mode is None or previous is None or previous.empty:
        return model.fit(data)
    if mode == "field":
        names = list(getattr(model, "param_names", previous.index))
        start = tuple(float(previous[name]) for name in names)
        return dataclasses.replace(model, starting_values=start).fit(data)
    return model.fit(data, starting_values=previous)


def _stack(arr: np.ndarray, dates: pd.Index, assets: Sequence[str]) -> pd.DataFrame:
    t, n, _ = arr.shape
    index = pd.MultiIndex.from_product([dates, list(assets)], names=["date", "asset"])
    return pd.DataFrame(arr.reshape(t * n, n), index=index, columns=pd.Index(assets, name="asset"))


@dataclass(frozen=True)
class RollingForecast:
    r"""One-step-ahead out-of-sample forecasts from rolling refits.

    Attributes
    ----------
    correlation : pandas.DataFrame
        ``(date, asset) x asset``: :math:`R_t` forecast with data through :math:`t-1`.
    covariance : pandas.DataFrame
        ``(date, asset) x asset``: :math:`H_t = D_t R_t D_t`.
    variance, mean : pandas.DataFrame
        ``date x asset`` univariate one-step forecasts.
    std_resid : pandas.DataFrame
        ``date x asset`` realized standardized residuals :math:`(r_t - \mu_t)/\sigma_t`.
    params : pandas.DataFrame
        ``refit date x parameter``: the parameters used from that date on.
    windows : pandas.DataFrame
        ``refit date x [first, last, nobs, converged]``: each estimation window.
    kind : str
        Model kind.
    warm_start : bool
        Whether refits were started from the previous parameters.
    warnings : tuple of str
        Warnings raised by the refits (also emitted).
    """

    correlation: pd.DataFrame
    covariance: pd.DataFrame
    variance: pd.DataFrame
    mean: pd.DataFrame
    std_resid: pd.DataFrame
    params: pd.DataFrame
    windows: pd.DataFrame
    kind: str
    warm_start: bool
    warnings: tuple[str, ...] = field(default=())

    @property
    def dates(self) -> pd.DatetimeIndex:
        """Forecast dates."""
        return pd.DatetimeIndex(self.variance.index)

    @property
    def assets(self) -> list[str]:
        """Asset labels."""
        return [str(c) for c in self.variance.columns]

    def correlation_at(self, date: DateLike) -> pd.DataFrame:
        """Return the ``asset x asset`` correlation forecast for ``date``.

        Parameters
        ----------
        date : date-like
            A forecast date.

        Returns
        -------
        pandas.DataFrame
        """
        return self.correlation.xs(pd.Timestamp(date), level="date")

    def covariance_at(self, date: DateLike) -> pd.DataFrame:
        """Return the ``asset x asset`` covariance forecast for ``date``.

        Parameters
        ----------
        date : date-like
            A forecast date.

        Returns
        -------
        pandas.DataFrame
        """
        return self.covariance.xs(pd.Timestamp(date), level="date")

    def summary(self) -> pd.DataFrame:
        """One row per refit: parameters, window, convergence and mean forecast correlation.

        Returns
        -------
        pandas.DataFrame
            Indexed by refit date.
        """
        n = len(self.assets)
        iu = np.triu_indices(n, 1)
        r = self.correlation.to_numpy().reshape(len(self.dates), n, n)[:, iu[0], iu[1]]
        mean_r = pd.Series(r.mean(axis=1) if r.size else np.nan, index=self.dates)
        block = np.searchsorted(self.params.index, self.dates, side="right") - 1
        out = pd.concat([self.params, self.windows], axis=1)
        out["mean correlation"] = mean_r.groupby(self.params.index[block]).mean()
        return out

    def portfolio_variance(self, weights: Mapping[str, float] | Sequence[float]) -> pd.Series:
        """Forecast variance :math:`w' H_t w` of a fixed-weight portfolio for every date.

        Parameters
        ----------
        weights : mapping asset -> weight, or sequence in asset order

        Returns
        -------
        pandas.Series
            Indexed by forecast date.
        """
        assets = self.assets
        if isinstance(weights, Mapping):
            unknown = set(weights) - set(assets)
            if unknown:
                raise SpecificationError(f"unknown assets in weights: {sorted(unknown)}")
            w = np.array([float(weights.get(a, 0.0)) for a in assets])
        else:
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != (len(assets),):
                raise SpecificationError(f"weights must have {len(assets)} entries")
        h = self.covariance.to_numpy().reshape(len(self.dates), len(assets), len(assets))
        return pd.Series(np.einsum("i,tij,j->t", w, h, w), index=self.dates, name="variance")


def rolling_forecast(
    returns: pd.DataFrame,
    model: Any,
    refit_every: int = 20,
    window: int | None = 1000,
    start: int | DateLike | None = None,
    end: DateLike | None = None,
    warm_start: bool = True,
) -> RollingForecast:
    r"""One-step-ahead forecasts of :math:`R_t` and :math:`H_t` with periodic refits.

    Parameters
    ----------
    returns : pandas.DataFrame
        ``date x asset`` returns (no NaN), the data the model is fitted on.
    model : DCC estimator
        Anything with ``fit(returns) -> DCCResult`` (see
        :func:`research.correlation.forecast.dcc_state` for the result attributes used).
        Warm starts: a dataclass estimator with a ``starting_values`` field (such as
        :class:`research.correlation.DCC`) is refitted as
        ``dataclasses.replace(model, starting_values=previous)``; otherwise
        ``fit(returns, starting_values=previous_params)`` is used when ``fit`` accepts it.
    refit_every : int
        Days between refits (``k``); between refits the parameters are held fixed.
    window : int or None
        Length of the rolling estimation window; ``None`` for an expanding window from the
        first row.
    start : int, date-like or None
        First forecast date (or its row position). Default: row ``window`` (the first date
        with a full window).
    end : date-like or None
        Last forecast date (default: the last row).
    warm_start : bool
        Start each refit from the previous parameters.

    Returns
    -------
    RollingForecast

    Raises
    ------
    SpecificationError
        Bad ``refit_every`` / ``window`` / ``start``, or a univariate model that cannot be
        re-built on new data (with a ``UnivariateSpec`` on ``result.univariate.spec`` every
        ``arch`` model can; without one, constant- and zero-mean models only).
    InsufficientDataError
        The first window is shorter than 100 rows.
    DataError
        Dates that are not sorted and unique (:func:`research.data.check_time_index`).

    Notes
    -----
    No look-ahead: the refit for a block starting at row :math:`t_0` uses rows
    :math:`[t_0 - w, t_0)`; inside the block the forecast of row :math:`t` uses the fitted
    parameters and rows through :math:`t-1`. Changing data after :math:`t` changes no
    forecast for dates :math:`\le t`. (``arch``'s variance clipping bounds use the whole
    series it is given, but bind only in degenerate data.)

    Examples
    --------
    >>> model = DCC(kind="dcc")  # doctest: +SKIP
    >>> roll = rolling_forecast(returns, model, refit_every=20, window=1000)  # doctest: +SKIP
    >>> roll.portfolio_variance([0.5, 0.5])  # doctest: +SKIP
    """
    if not isinstance(returns, pd.DataFrame):
        raise SpecificationError("returns must be a date x asset DataFrame")
    check_time_index(returns, what="returns")
    if returns.isna().to_numpy().any():
        col = returns.columns[returns.isna().any().to_numpy()][0]
        first = returns.index[returns[col].isna().to_numpy()][0]
        raise SpecificationError(
            f"returns contain NaN (first in {col!r} on {first}); drop or fill them first"
        )
    if not isinstance(refit_every, int | np.integer) or refit_every < 1:
        raise SpecificationError(f"refit_every must be a positive integer, got {refit_every!r}")
    if window is not None and (not isinstance(window, int | np.integer) or window < 1):
        raise SpecificationError(f"window must be a positive integer or None, got {window!r}")
    n_obs = len(returns)
    if start is None:
        if window is None:
            raise SpecificationError("an expanding window needs an explicit start")
        first = int(window)
    elif isinstance(start, int | np.integer):
        first = int(start)
    else:
        first = int(returns.index.searchsorted(pd.Timestamp(start)))
    last = n_obs if end is None else int(returns.index.searchsorted(pd.Timestamp(end), "right"))
    if not 0 < first < last <= n_obs:
        raise SpecificationError(
            f"no forecast dates: start row {first}, end row {last}, {n_obs} rows available"
        )
    lo_first = 0 if window is None else first - int(window)
    if lo_first < 0 or first - lo_first < 100:
        raise InsufficientDataError(
            f"the first estimation window has {first - max(lo_first, 0)} rows (needs >= 100 "
            f"and a full window of {window}); start later or shorten the window"
        )
    mode = _warm_start_mode(model) if warm_start else None
    use_warm = mode is not None
    notes: list[str] = []
    if warm_start and not use_warm:
        notes.append(f"{type(model).__name__} takes no starting_values; every refit starts cold")
        warnings.warn(notes[-1], ResearchWarning, stacklevel=2)
    assets = [str(c) for c in returns.columns]
    n = len(assets)
    blocks = range(first, last, int(refit_every))
    out_r, out_var, out_mean, out_z = [], [], [], []
    param_rows, window_rows = {}, {}
    kind = None
    previous = None
    for t0 in blocks:
        t1 = min(t0 + int(refit_every), last)
        lo = 0 if window is None else t0 - int(window)
        fit_data = returns.iloc[lo:t0]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = _refit(model, fit_data, mode, previous)
        for w in caught:
            msg = f"refit at {returns.index[t0]}: {w.message}"
            notes.append(msg)
            warnings.warn(msg, w.category, stacklevel=2)
        state = dcc_state(result)
        spec = getattr(result.univariate, "spec", None)
        if list(state.assets) != assets:
            raise SpecificationError(
                f"the fitted model's assets {list(state.assets)} differ from the columns {assets}"
            )
        kind = state.kind
        previous = pd.Series(result.params, dtype=float)
        param_rows[returns.index[t0]] = previous
        converged = bool(getattr(result, "converged", True))
        if not converged:
            msg = f"refit at {returns.index[t0]} did not converge; its parameters are used anyway"
            notes.append(msg)
            warnings.warn(msg, ConvergenceWarning, stacklevel=2)
        window_rows[returns.index[t0]] = {
            "first": returns.index[lo],
            "last": returns.index[t0 - 1],
            "nobs": t0 - lo,
            "converged": converged,
        }
        # univariate one-step forecasts for rows t0 .. t1-1 from data through the block
        block = returns.iloc[lo:t1]
        mean = np.empty((t1 - t0, n))
        var = np.empty((t1 - t0, n))
        for i, asset in enumerate(assets):
            m_i, v_i = _univariate_one_step(
                state.univariate[asset], block[asset], t0 - 1 - lo, spec
            )
            mean[:, i], var[:, i] = m_i, v_i
        z_block = (returns.iloc[t0:t1].to_numpy() - mean) / np.sqrt(var)
        # continue the quasi-correlation recursion from the window's Q_{T+1} through the block
        dynamics = (state.a, state.b, state.g, state.qbar, state.nbar, state.kind_code)
        q = dcc_q_last(np.ascontiguousarray(state.std_resid.to_numpy(dtype=np.float64)), *dynamics)
        r_block = np.empty((t1 - t0, n, n))
        dcc_correlation_path(np.ascontiguousarray(z_block), *dynamics, np.empty((0, n)), q, r_block)
        out_r.append(r_block)
        out_var.append(var)
        out_mean.append(mean)
        out_z.append(z_block)
    dates = returns.index[first:last]
    r = np.concatenate(out_r)
    var = np.concatenate(out_var)
    s = np.sqrt(var)
    h = r * s[:, :, None] * s[:, None, :]
    frame = lambda x: pd.DataFrame(x, index=dates, columns=pd.Index(assets, name="asset"))  # noqa: E731
    params = pd.DataFrame.from_dict(param_rows, orient="index")
    params.index.name = "refit"
    windows = pd.DataFrame.from_dict(window_rows, orient="index")
    windows.index.name = "refit"
    return RollingForecast(
        correlation=_stack(r, dates, assets),
        covariance=_stack(h, dates, assets),
        variance=frame(var),
        mean=frame(np.concatenate(out_mean)),
        std_resid=frame(np.concatenate(out_z)),
        params=params,
        windows=windows,
        kind=str(kind),
        warm_start=use_warm,
        warnings=tuple(notes),
    )
