r"""Realized DCC: daily realized correlations from intraday returns drive the DCC recursion.

A DCC on daily closes updates its correlation with one outer product :math:`z_t z_t'` a day,
so a crash day moves it by a few percent at most. The intraday bars of the same day measure
that day's correlation far more precisely: the realized covariance

.. math::

    RV_t = \sum_{j=1}^{M} r_{t,j} r_{t,j}', \qquad RC_t = \mathrm{diag}(RV_t)^{-1/2}\, RV_t\,
    \mathrm{diag}(RV_t)^{-1/2},

with :math:`r_{t,j}` the :math:`M` intraday log returns of UTC day :math:`t`. The realized DCC
(the DCC with realized inputs of Sheppard's MFE toolbox, a HEAVY-type update for the
correlation) replaces :math:`z_t z_t'` by :math:`RC_t`:

.. math::

    Q_{t+1} = (1-a-b)\bar Q + a\,RC_t + b\,Q_t,\qquad Q_1 = \bar Q,\qquad
    R_t = \mathrm{diag}(Q_t)^{-1/2} Q_t\,\mathrm{diag}(Q_t)^{-1/2},

with the target :math:`\bar Q = T^{-1}\sum_t RC_t` (correlation targeting on the realized
measure) and :math:`a, b \ge 0`, :math:`a + b < 1`. The parameters are estimated by Gaussian
QML on the daily standardized residuals :math:`z_t` (the univariate stage on the daily sums
of the intraday returns), with the per-day correlation log-likelihood of the DCC family
:math:`-\tfrac12(\log|R_t| + z_t'R_t^{-1}z_t - z_t'z_t)`.

**24/7 markets.** A crypto day has no overnight gap: the day's bars cover 00:00 to 24:00 UTC
and their log returns add up to the close-to-close daily return (the first bar's return runs
from the previous day's last close). No overnight return has to be added or scaled, unlike an
exchange-traded stock. A bar belongs to the UTC day of its label, which must be the bar's
*start* (the open time, as :func:`research.read_prices` gives for the shared hourly file);
days with fewer bars than a full day (the first and last day of a file) are dropped with a
:class:`~research.errors.DataQualityWarning` naming them.

**Timing.** :attr:`RealizedDCCResult.correlation` is :math:`R_t`, known at the start of day
:math:`t` (the one in the likelihood); :attr:`RealizedDCCResult.correlation_close` is
:math:`R_{t+1}`, the estimate at the close of day :math:`t`, which already contains that day's
realized correlation: this is the path that reacts within a crash day.

References
----------
Engle, R. (2002). Dynamic conditional correlation. JBES 20(3).
Shephard, N., Sheppard, K. (2010). Realising the future: forecasting with high-frequency-based
volatility (HEAVY) models. J. Applied Econometrics 25(2).
Noureldin, D., Shephard, N., Sheppard, K. (2012). Multivariate high-frequency-based
volatility (HEAVY) models. J. Applied Econometrics 27(6).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.signal import lfilter

from research._threads import single_threaded_blas
from research._typing import Float64Array1D, Float64Array2D, Float64Array3D
from research.correlation._kernels import normalize_q
from research.correlation._likelihood import check_positive_definite
from research.errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    DataQualityWarning,
    InsufficientDataError,
    SpecificationError,
)
from research.volatility import UnivariateFits, UnivariateSpec, fit_univariate

__all__ = [
    "RealizedDCC",
    "RealizedDCCResult",
    "daily_sums",
    "realized_correlation",
    "realized_covariance",
    "realized_dcc_loglik",
    "realized_q_path",
    "sandwich_std_errors",
]

#: Margin kept from the stationarity boundary a + b < 1.
STATIONARITY_MARGIN = 1e-6
#: Start grid of (a, b): realized inputs carry much more information than z z', so a is larger
#: than in a daily DCC.
GRID_A = (0.02, 0.05, 0.1, 0.2, 0.4)
GRID_B = (0.5, 0.7, 0.85, 0.95)
#: Relative tolerance of SLSQP on the per-day objective.
FTOL = 1e-12
#: Step of the central-difference Hessian behind the standard errors.
HESSIAN_STEP = 1e-5
#: Fewest complete days accepted by the fit.
MIN_DAYS = 30


def _complete_days(returns: pd.DataFrame, bars_per_day: int | None) -> pd.DataFrame:
    """Validate intraday returns and keep the UTC days that have every bar."""
    if not isinstance(returns, pd.DataFrame) or not isinstance(returns.index, pd.DatetimeIndex):
        raise DataError("intraday returns must be a DataFrame with a DatetimeIndex")
    if returns.shape[0] == 0 or returns.shape[1] == 0:
        raise DataError("intraday returns are empty")
    if not returns.index.is_monotonic_increasing or returns.index.has_duplicates:
        raise DataError("the intraday index must be sorted with unique timestamps")
    values = returns.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        rows, cols = np.nonzero(~np.isfinite(values))
        raise DataError(
            f"{rows.size} missing or infinite intraday returns, first for asset "
            f"{returns.columns[cols[0]]!r} at {returns.index[rows[0]]}; align the panel or "
            "drop those bars first"
        )
    index = returns.index
    if index.tz is not None:
        index = index.tz_convert("UTC")
    day = index.floor("D")
    if bars_per_day is None:
        spacing = pd.Series(index).diff().median()
        if pd.isna(spacing) or spacing <= pd.Timedelta(0) or pd.Timedelta("1D") % spacing:
            raise SpecificationError(
                f"cannot infer bars per day from the median spacing {spacing}; pass bars_per_day"
            )
        bars_per_day = int(pd.Timedelta("1D") / spacing)
    if not isinstance(bars_per_day, int) or bars_per_day < 1:
        raise SpecificationError(f"bars_per_day must be a positive integer, got {bars_per_day!r}")
    counts = pd.Series(1, index=day).groupby(level=0).sum()
    short = counts.index[counts != bars_per_day]
    if len(short):
        warnings.warn(
            f"{len(short)} UTC day(s) without {bars_per_day} bars dropped from the realized "
            f"measures: {', '.join(str(d.date()) for d in short[:5])}"
            f"{' ...' if len(short) > 5 else ''}",
            DataQualityWarning,
            stacklevel=3,
        )
    keep = ~day.isin(short)
    out = returns.loc[keep].copy()
    out.index = day[keep]
    out.index.name = "date"
    return out


def realized_covariance(returns: pd.DataFrame, *, bars_per_day: int | None = None) -> pd.DataFrame:
    r"""Daily realized covariances: the sum of intraday return outer products per UTC day.

    Parameters
    ----------
    returns : pandas.DataFrame
        Intraday log returns (percent), one column per asset, indexed by each bar's start
        time (tz-aware, converted to UTC, or naive read as UTC).
    bars_per_day : int, optional
        Bars in a full day; by default one day over the median spacing (24 for hourly bars).

    Returns
    -------
    pandas.DataFrame
        ``(date, asset) x asset``: :math:`RV_t = \sum_j r_{t,j} r_{t,j}'` for each complete
        UTC day (see the module notes on the 24/7 treatment).

    Raises
    ------
    DataError
        Not a DataFrame with a sorted, unique DatetimeIndex, or missing values.
    SpecificationError
        ``bars_per_day`` cannot be inferred or is not a positive integer.

    Warns
    -----
    DataQualityWarning
        Days with fewer (or more) bars than a full day are dropped and named.

    Examples
    --------
    >>> idx = pd.date_range("2025-10-10", periods=48, freq="h", tz="UTC")
    >>> r = pd.DataFrame(np.ones((48, 2)), index=idx, columns=["BTC", "ETH"])
    >>> realized_covariance(r).loc["2025-10-10"].to_numpy()
    array([[24., 24.],
           [24., 24.]])
    """
    return _realized_from_days(_complete_days(returns, bars_per_day))


def _realized_from_days(days: pd.DataFrame) -> pd.DataFrame:
    x = days.to_numpy(dtype=np.float64)
    labels, start = np.unique(days.index.to_numpy(), return_index=True)
    n = x.shape[1]
    outer = np.einsum("ti,tj->tij", x, x)
    rv = np.add.reduceat(outer, start, axis=0) if len(start) else np.empty((0, n, n))
    return _stack(rv, pd.DatetimeIndex(labels, tz=days.index.tz), list(days.columns))


def realized_correlation(covariance: pd.DataFrame) -> pd.DataFrame:
    r"""Correlation form :math:`RC_t` of stacked realized covariances.

    Parameters
    ----------
    covariance : pandas.DataFrame
        ``(date, asset) x asset`` from :func:`realized_covariance`.

    Returns
    -------
    pandas.DataFrame
        Same labels, unit diagonal.

    Raises
    ------
    DataError
        A day with a zero realized variance (an asset that did not move all day).
    """
    rv, dates, assets = _unstack(covariance)
    diag = np.diagonal(rv, axis1=1, axis2=2)
    if not np.all(diag > 0):
        t, i = np.argwhere(~(diag > 0))[0]
        raise DataError(
            f"asset {assets[i]!r} has zero realized variance on {dates[t]}; its correlation "
            "that day is undefined"
        )
    return _stack(normalize_q(rv), dates, assets)


def daily_sums(returns: pd.DataFrame, *, bars_per_day: int | None = None) -> pd.DataFrame:
    """Daily log returns as the sum of each complete UTC day's intraday log returns.

    Parameters
    ----------
    returns : pandas.DataFrame
        Intraday log returns, as for :func:`realized_covariance`.
    bars_per_day : int, optional
        Bars in a full day (inferred by default).

    Returns
    -------
    pandas.DataFrame
        ``date x asset``, the days of :func:`realized_covariance`.
    """
    return _sums_from_days(_complete_days(returns, bars_per_day))


def _sums_from_days(days: pd.DataFrame) -> pd.DataFrame:
    out = days.groupby(level=0).sum()
    out.columns.name = "asset"
    return out


def _stack(arr: Float64Array3D, dates: pd.DatetimeIndex, assets: list) -> pd.DataFrame:
    t, n, _ = arr.shape
    index = pd.MultiIndex.from_arrays(
        [np.repeat(dates, n), np.tile(np.asarray(assets, dtype=object), t)],
        names=["date", "asset"],
    )
    return pd.DataFrame(arr.reshape(t * n, n), index=index, columns=pd.Index(assets, name="asset"))


def _unstack(frame: pd.DataFrame) -> tuple[Float64Array3D, pd.DatetimeIndex, list]:
    if not isinstance(frame, pd.DataFrame) or frame.index.nlevels != 2:
        raise DataError("expected a (date, asset) x asset frame from realized_covariance")
    assets = list(frame.columns)
    n = len(assets)
    dates = pd.DatetimeIndex(frame.index.get_level_values(0)[::n])
    if frame.shape[0] != n * len(dates) or list(frame.index.get_level_values(1)[:n]) != assets:
        raise DataError("each date must hold one row per asset, in the column order")
    arr = np.ascontiguousarray(frame.to_numpy(dtype=np.float64).reshape(len(dates), n, n))
    if not np.all(np.isfinite(arr)):
        raise DataError("realized measures contain NaN or infinite values")
    return arr, dates, assets


def realized_q_path(rc: Float64Array3D, a: float, b: float, qbar: Float64Array2D) -> Float64Array3D:
    r"""Quasi-correlations :math:`Q_1, \dots, Q_{T+1}` of the realized DCC recursion.

    Parameters
    ----------
    rc : ndarray, shape (T, N, N)
        Realized correlations :math:`RC_1, \dots, RC_T`.
    a, b : float
        Parameters.
    qbar : ndarray, shape (N, N)
        Target.

    Returns
    -------
    ndarray, shape (T + 1, N, N)
        ``Q[0] = qbar`` and ``Q[t + 1] = (1 - a - b) qbar + a rc[t] + b Q[t]``.
    """
    t_obs = rc.shape[0]
    drive = (1.0 - a - b) * qbar[None] + a * rc
    q = np.empty((t_obs + 1,) + qbar.shape)
    q[0] = qbar
    q[1:], _ = lfilter([1.0], [1.0, -b], drive, axis=0, zi=(b * qbar)[None])
    return q


def realized_dcc_loglik(
    z: Float64Array2D, rc: Float64Array3D, a: float, b: float, qbar: Float64Array2D
) -> Float64Array1D:
    r"""Per-day correlation log-likelihood of the realized DCC.

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Daily standardized residuals.
    rc : ndarray, shape (T, N, N)
        Realized correlations of the same days.
    a, b : float
        Parameters.
    qbar : ndarray, shape (N, N)
        Target.

    Returns
    -------
    ndarray, shape (T,)
        :math:`-\tfrac12(\log|R_t| + z_t'R_t^{-1}z_t - z_t'z_t)`; ``-inf`` where
        :math:`R_t` is not positive definite.
    """
    return _loglik_and_scores(z, rc, a, b, qbar, want_scores=False)[0]


def _loglik_and_scores(
    z: Float64Array2D,
    rc: Float64Array3D,
    a: float,
    b: float,
    qbar: Float64Array2D,
    want_scores: bool = True,
) -> tuple[Float64Array1D, Float64Array2D | None]:
    r"""Per-day log-likelihood and, optionally, its analytic scores in (a, b).

    With :math:`G_t = -\tfrac12(R_t^{-1} - w_t w_t')`, :math:`w_t = R_t^{-1} z_t`, and
    :math:`S_{ij} = \sqrt{q_{ii} q_{jj}}`, the chain rule through the normalization gives
    :math:`\partial\ell_t = \langle G_t \oslash S_t, \partial Q_t\rangle -
    \sum_i (\partial q_{ii,t} / q_{ii,t}) \sum_j G_{ij,t} R_{ij,t}`, and
    :math:`\partial Q_{t+1}/\partial a = RC_t - \bar Q + b\,\partial Q_t/\partial a`,
    :math:`\partial Q_{t+1}/\partial b = Q_t - \bar Q + b\,\partial Q_t/\partial b`,
    :math:`\partial Q_1 = 0`.
    """
    q = realized_q_path(rc, a, b, qbar)[:-1]
    r = normalize_q(q)
    try:
        low = np.linalg.cholesky(r)
    except np.linalg.LinAlgError:
        return np.full(z.shape[0], -np.inf), None
    linv = np.linalg.inv(low)
    u = (linv @ z[:, :, None])[:, :, 0]
    logdet = 2.0 * np.log(np.diagonal(low, axis1=1, axis2=2)).sum(axis=1)
    ll = -0.5 * (logdet + np.einsum("ti,ti->t", u, u) - np.einsum("ti,ti->t", z, z))
    if not want_scores:
        return ll, None
    linv_t = linv.transpose(0, 2, 1)
    w = linv_t @ u[:, :, None]
    g = -0.5 * (linv_t @ linv - w * w.transpose(0, 2, 1))
    diag = np.diagonal(q, axis1=1, axis2=2)
    gs = g / np.sqrt(diag[:, :, None] * diag[:, None, :])
    row = np.einsum("tij,tij->ti", g, r) / diag
    scores = np.empty((z.shape[0], 2))
    for k, drive in enumerate((rc - qbar[None], q - qbar[None])):
        dq = np.zeros_like(q)
        dq[1:] = lfilter([1.0], [1.0, -b], drive[:-1], axis=0)
        scores[:, k] = np.einsum("tij,tij->t", gs, dq) - np.einsum(
            "ti,ti->t", row, np.diagonal(dq, axis1=1, axis2=2)
        )
    return ll, scores


@dataclass(frozen=True)
class RealizedDCCResult:
    """A fitted realized DCC (immutable).

    Attributes
    ----------
    params : pandas.Series
        ``a`` (weight of the realized correlation) and ``b`` (persistence).
    std_errors : pandas.Series
        QML sandwich standard errors (NaN for an estimate on a bound); they treat the
        standardized residuals and the target as known (no two-step correction).
    loglikelihood : float
        Correlation log-likelihood at the estimate (the univariate part excluded).
    qbar : pandas.DataFrame
        Target: the mean realized correlation.
    correlation : pandas.DataFrame
        ``(date, asset) x asset``: :math:`R_t`, known at the start of day ``t``.
    correlation_close : pandas.DataFrame
        ``(date, asset) x asset``: :math:`R_{t+1}`, the estimate at the close of day ``t``
        (with that day's realized correlation in it).
    univariate : UnivariateFits
        The daily univariate stage.
    converged : bool
        Optimizer success.
    warnings : tuple of str
        Notes from the fit.
    """

    params: pd.Series
    std_errors: pd.Series
    loglikelihood: float
    qbar: pd.DataFrame
    correlation: pd.DataFrame
    correlation_close: pd.DataFrame
    univariate: UnivariateFits = field(repr=False)
    converged: bool = True
    warnings: tuple[str, ...] = ()

    def pair(self, first: str, second: str, *, close: bool = True) -> pd.Series:
        """Correlation path of one pair.

        Parameters
        ----------
        first, second : str
            Asset labels.
        close : bool, default True
            The close-of-day path (:attr:`correlation_close`); ``False`` gives :math:`R_t`.

        Returns
        -------
        pandas.Series
            Indexed by date.
        """
        frame = self.correlation_close if close else self.correlation
        for asset in (first, second):
            if asset not in frame.columns:
                raise SpecificationError(f"unknown asset {asset!r}; have {list(frame.columns)}")
        out = frame[second].xs(first, level="asset")
        out.name = f"{first}-{second}"
        return out

    def summary(self) -> pd.DataFrame:
        """Parameters, log-likelihood, days and convergence as a one-column table.

        Returns
        -------
        pandas.DataFrame
        """
        rows = {
            "a": float(self.params["a"]),
            "std error a": float(self.std_errors["a"]),
            "b": float(self.params["b"]),
            "std error b": float(self.std_errors["b"]),
            "loglikelihood (correlation)": self.loglikelihood,
            "days": int(self.univariate.std_resid.shape[0]),
            "converged": self.converged,
        }
        return pd.DataFrame({"realized DCC": pd.Series(rows, dtype=object)})


@dataclass(frozen=True)
class RealizedDCC:
    """DCC driven by daily realized correlations from intraday returns.

    Parameters
    ----------
    univariate : UnivariateSpec, default UnivariateSpec()
        Model of each asset's *daily* returns (the sums of the intraday returns).
    bars_per_day : int, optional
        Bars in a full UTC day; inferred from the spacing by default.
    maxiter : int, default 200
        Optimizer iterations.

    Notes
    -----
    See the module docstring for the recursion, the target, the likelihood and the 24/7
    treatment. Standard errors are not computed.

    Examples
    --------
    >>> import research  # doctest: +SKIP
    >>> hourly = research.to_returns(research.read_prices("crypto_perp_hourly_binance.csv"),
    ...                              missing="propagate").dropna()  # doctest: +SKIP
    >>> res = RealizedDCC().fit(hourly)  # doctest: +SKIP
    >>> res.pair("BTC", "ETH").loc["2025-10-08":"2025-10-12"]  # doctest: +SKIP
    """

    univariate: UnivariateSpec = field(default_factory=UnivariateSpec)
    bars_per_day: int | None = None
    maxiter: int = 200

    def __post_init__(self) -> None:
        if not isinstance(self.univariate, UnivariateSpec):
            raise SpecificationError(
                f"univariate must be a UnivariateSpec, got {type(self.univariate).__name__}"
            )
        if not isinstance(self.maxiter, int) or self.maxiter < 1:
            raise SpecificationError(f"maxiter must be a positive integer, got {self.maxiter!r}")

    def fit(
        self, intraday: pd.DataFrame, *, univariate: UnivariateFits | None = None
    ) -> RealizedDCCResult:
        """Estimate the realized DCC.

        Parameters
        ----------
        intraday : pandas.DataFrame
            Intraday log returns in percent, indexed by bar start (see
            :func:`realized_covariance`).
        univariate : UnivariateFits, optional
            A daily univariate stage already fitted, on the complete days of ``intraday``
            (same dates and assets); by default fitted here on :func:`daily_sums`.

        Returns
        -------
        RealizedDCCResult

        Raises
        ------
        DataError
            Bad intraday returns, fewer than two assets, or a univariate stage whose days or
            assets differ from the realized measures.
        InsufficientDataError
            Fewer than ``MIN_DAYS`` complete days.
        ConvergenceError
            The likelihood is not finite at any start point.
        """
        days = _complete_days(intraday, self.bars_per_day)
        rc_frame = realized_correlation(_realized_from_days(days))
        rc, dates, assets = _unstack(rc_frame)
        if len(assets) < 2:
            raise DataError(f"a correlation model needs at least 2 assets, got {assets}")
        if len(dates) < MIN_DAYS:
            raise InsufficientDataError(
                f"{len(dates)} complete days of intraday data; the realized DCC needs at least "
                f"{MIN_DAYS}"
            )
        if univariate is None:
            univariate = fit_univariate(_sums_from_days(days), self.univariate, check_units=False)
        elif not isinstance(univariate, UnivariateFits):
            raise DataError("univariate must be a UnivariateFits")
        zdf = univariate.std_resid
        if list(zdf.columns) != assets or not pd.DatetimeIndex(zdf.index).equals(dates):
            raise DataError(
                "the univariate stage must cover the complete days and assets of the intraday "
                f"returns ({len(dates)} days, {assets})"
            )
        z = np.ascontiguousarray(zdf.to_numpy(dtype=np.float64))
        qbar = rc.mean(axis=0)
        check_positive_definite(qbar, assets, "the realized correlation target Qbar")
        with single_threaded_blas():  # many tiny products: threads only contend
            theta, converged, message = _estimate(z, rc, qbar, self.maxiter)
        notes = list(univariate.warnings)
        if not converged:
            note = f"realized DCC optimizer did not converge ({message}); the estimate is doubtful"
            notes.append(note)
            warnings.warn(note, ConvergenceWarning, stacklevel=2)
        a, b = theta
        with single_threaded_blas():
            se = sandwich_std_errors(z, rc, qbar, a, b)
        if not np.all(np.isfinite(se)):
            notes.append(
                "standard errors not computed: the estimate is on a bound (a = 0, b = 0 or "
                "a + b = 1), where the QML sandwich does not apply"
            )
        q = realized_q_path(rc, a, b, qbar)
        r = normalize_q(q)
        return RealizedDCCResult(
            params=pd.Series({"a": a, "b": b}, name="params"),
            std_errors=pd.Series({"a": se[0], "b": se[1]}, name="std_errors"),
            loglikelihood=float(realized_dcc_loglik(z, rc, a, b, qbar).sum()),
            qbar=pd.DataFrame(
                qbar, index=pd.Index(assets, name="asset"), columns=pd.Index(assets, name="asset")
            ),
            correlation=_stack(r[:-1], dates, assets),
            correlation_close=_stack(r[1:], dates, assets),
            univariate=univariate,
            converged=converged,
            warnings=tuple(notes),
        )


def sandwich_std_errors(
    z: Float64Array2D, rc: Float64Array3D, qbar: Float64Array2D, a: float, b: float
) -> Float64Array1D:
    r"""QML sandwich standard errors of (a, b): :math:`H^{-1} J H^{-1}`.

    :math:`J = \sum_t s_t s_t'` from the analytic scores, :math:`H` the central difference
    (step :data:`HESSIAN_STEP`) of the summed analytic scores.

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Daily standardized residuals.
    rc : ndarray, shape (T, N, N)
        Realized correlations.
    qbar : ndarray, shape (N, N)
        Target.
    a, b : float
        The estimate.

    Returns
    -------
    ndarray, shape (2,)
        NaN when the estimate is within :data:`HESSIAN_STEP` of a bound or the Hessian is
        not negative definite.
    """
    theta = np.array([a, b])
    if min(a, b) <= HESSIAN_STEP or a + b >= 1.0 - HESSIAN_STEP:
        return np.full(2, np.nan)
    _, scores = _loglik_and_scores(z, rc, a, b, qbar)
    assert scores is not None
    hessian = np.empty((2, 2))
    for k in range(2):
        step = np.zeros(2)
        step[k] = HESSIAN_STEP
        _, up = _loglik_and_scores(z, rc, *(theta + step), qbar)
        _, down = _loglik_and_scores(z, rc, *(theta - step), qbar)
        if up is None or down is None:
            return np.full(2, np.nan)
        hessian[:, k] = (up.sum(axis=0) - down.sum(axis=0)) / (2 * HESSIAN_STEP)
    hessian = (hessian + hessian.T) / 2
    if not np.all(np.linalg.eigvalsh(hessian) < 0):
        return np.full(2, np.nan)
    inv = np.linalg.inv(hessian)
    cov = inv @ (scores.T @ scores) @ inv
    return np.sqrt(np.diag(cov))


def _estimate(
    z: Float64Array2D, rc: Float64Array3D, qbar: Float64Array2D, maxiter: int
) -> tuple[tuple[float, float], bool, str]:
    t_obs = z.shape[0]

    def objective(theta: Float64Array1D) -> float:
        ll = realized_dcc_loglik(z, rc, float(theta[0]), float(theta[1]), qbar)
        total = float(ll.sum())
        return -total / t_obs if np.isfinite(total) else 1e3

    def objective_and_gradient(theta: Float64Array1D) -> tuple[float, Float64Array1D]:
        ll, scores = _loglik_and_scores(z, rc, float(theta[0]), float(theta[1]), qbar)
        total = float(ll.sum())
        if scores is None or not np.isfinite(total):
            return 1e3, np.zeros(2)
        return -total / t_obs, -scores.sum(axis=0) / t_obs

    grid = [np.array([a, b]) for a in GRID_A for b in GRID_B if a + b < 1 - 1e-3]
    values = [objective(x) for x in grid]
    start = grid[int(np.argmin(values))]
    if not min(values) < 1e3:
        raise ConvergenceError(
            "the realized DCC likelihood is not finite at any start point; check the "
            "standardized residuals and realized correlations"
        )
    opt = minimize(
        objective_and_gradient,
        start,
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0), (0.0, 1.0)],
        constraints=[{"type": "ineq", "fun": lambda x: 1.0 - STATIONARITY_MARGIN - x[0] - x[1]}],
        options={"ftol": FTOL, "maxiter": maxiter},
    )
    theta = np.asarray(opt.x, dtype=float)
    return (float(theta[0]), float(theta[1])), bool(opt.success), str(opt.message)
