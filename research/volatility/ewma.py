r"""The package's one EWMA (RiskMetrics) volatility.

.. math::

    \sigma^2_0 = \frac{1}{k} \sum_{i<k} r_i^2, \qquad
    \sigma^2_{t+1} = \lambda \sigma^2_t + (1 - \lambda) r_t^2,

with :math:`\lambda` the ``decay`` (0.94 in RiskMetrics, 1996) and the recursion **seeded with
the mean square of the first** :math:`k` = :data:`EWMA_SEED_OBSERVATIONS` **returns** (all of
them when there are fewer): zero-mean, like the recursion itself. :math:`\sigma_t` uses
returns up to :math:`t - 1` only; :math:`\sigma_{T+1}` is the one-step forecast.

Every stage that filters by EWMA calls :func:`ewma_volatility`: filtered historical
simulation (:mod:`research.margin.fhs`), the risk-weight calibration's ``filter="ewma"``
(:mod:`research.calibration.risk_weights`, whose setting is named ``ewma_lambda``) and the
backtest's rolling FHS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.errors import DataError, ParameterError

__all__ = [
    "EWMA_SEED_OBSERVATIONS",
    "RISKMETRICS_DECAY",
    "ewma_variance",
    "ewma_volatility",
    "finite_values",
]

#: Returns whose mean square seeds the recursion (RiskMetrics practice).
EWMA_SEED_OBSERVATIONS = 30
#: RiskMetrics (1996) decay for daily data.
RISKMETRICS_DECAY = 0.94


def _check_decay(decay: float) -> float:
    try:
        value = float(decay)
    except (TypeError, ValueError):
        value = np.nan
    if not 0.0 < value < 1.0:
        raise ParameterError(f"EWMA decay is {decay!r}; give lambda in (0, 1), e.g. 0.94")
    return value


def ewma_variance(
    returns: np.ndarray,
    decay: float = RISKMETRICS_DECAY,
    *,
    start: float | np.ndarray | None = None,
) -> np.ndarray:
    r"""EWMA variances of the columns of an array (numpy core of :func:`ewma_volatility`).

    Parameters
    ----------
    returns : ndarray, shape (T,) or (T, N)
        Finite returns.
    decay : float
        :math:`\lambda` in (0, 1).
    start : float or ndarray of shape (N,), optional
        :math:`\sigma^2_0`, e.g. the forecast at the end of an earlier window when the
        filter runs on over new returns; by default the mean square of the first
        :data:`EWMA_SEED_OBSERVATIONS` returns.

    Returns
    -------
    ndarray, shape (T + 1,) or (T + 1, N)
        Row ``t`` is :math:`\sigma^2_t` (returns up to ``t - 1``); the last row is the
        one-step forecast. Overflowing squares give ``inf`` (checked by the caller).

    Raises
    ------
    ParameterError
        If ``decay`` is not in (0, 1).
    """
    decay = _check_decay(decay)
    r = np.asarray(returns, dtype=np.float64)
    var = np.empty((r.shape[0] + 1, *r.shape[1:]))
    with np.errstate(over="ignore"):
        var[0] = np.mean(r[:EWMA_SEED_OBSERVATIONS] ** 2, axis=0) if start is None else start
        for t in range(r.shape[0]):
            var[t + 1] = decay * var[t] + (1.0 - decay) * r[t] ** 2
    return var


def finite_values(frame: pd.DataFrame, what: str) -> np.ndarray:
    """Return a date x asset frame's values as floats, refusing any value that is not finite.

    Parameters
    ----------
    frame : pandas.DataFrame
        Dates x assets (returns, volatilities).
    what : str
        What one value is, for the message (``"return"``, ``"volatility"``).

    Returns
    -------
    numpy.ndarray
        ``frame.to_numpy(dtype=float)``.

    Raises
    ------
    DataError
        Naming the first (asset, date) that is NaN or infinite and the count of such values.
    """
    values = frame.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        t, k = np.argwhere(bad)[0]
        raise DataError(
            f"{what} of {frame.columns[k]!r} on {frame.index[t]} is {values[t, k]} "
            f"({int(bad.sum())} non-finite in all); drop or repair those dates first"
        )
    return values


def ewma_volatility(
    returns: pd.DataFrame | pd.Series, decay: float = RISKMETRICS_DECAY
) -> tuple[pd.DataFrame | pd.Series, pd.Series | float]:
    r"""EWMA (RiskMetrics) volatility known before each return, and the one-step forecast.

    Parameters
    ----------
    returns : pandas.DataFrame or pandas.Series
        Date x asset returns (or one asset's) without missing values.
    decay : float
        :math:`\lambda` in :math:`\sigma^2_t = \lambda \sigma^2_{t-1} + (1-\lambda) r^2_{t-1}`,
        in (0, 1).

    Returns
    -------
    sigma : pandas.DataFrame or pandas.Series
        :math:`\sigma_t` (same labels as ``returns``) from returns up to ``t - 1`` only; the
        recursion starts at the mean square of the first :data:`EWMA_SEED_OBSERVATIONS`
        returns (or all, if fewer).
    forecast : pandas.Series or float
        :math:`\sigma_{T+1}`: per asset (a Series named ``"current_volatility"``) for a
        DataFrame, a float for a Series.

    Raises
    ------
    ParameterError
        If ``decay`` is not in (0, 1).
    DataError
        If ``returns`` is empty or not pandas, a return is not finite, or so large that its
        square overflows (e.g. 1e300); the asset and date are named.

    Examples
    --------
    >>> import pandas as pd
    >>> sigma, forecast = ewma_volatility(pd.Series([1.0, -1.0, 1.0, -1.0]))
    >>> round(forecast, 6)
    1.0
    """
    decay = _check_decay(decay)
    if isinstance(returns, pd.Series):
        sigma, forecast = ewma_volatility(returns.to_frame(), decay)
        return sigma.iloc[:, 0].rename(returns.name), float(forecast.iloc[0])
    if not isinstance(returns, pd.DataFrame):
        raise DataError(
            f"returns must be a pandas DataFrame or Series, got {type(returns).__name__}"
        )
    if returns.shape[0] == 0:
        raise DataError("returns are empty; the EWMA filter needs at least one return")
    r = finite_values(returns, "return")
    var = ewma_variance(r, decay)
    if not np.isfinite(var).all():
        k = int(np.argmax(~np.isfinite(var).all(axis=0)))
        t = int(np.argmax(np.abs(r[:, k])))
        raise DataError(
            f"the EWMA variance of {returns.columns[k]!r} overflows: its return on "
            f"{returns.index[t]} is {r[t, k]:.6g}; check the returns' units (percent or decimal)"
        )
    sigma = np.sqrt(var)
    return (
        pd.DataFrame(sigma[:-1], index=returns.index, columns=returns.columns),
        pd.Series(sigma[-1], index=returns.columns, name="current_volatility"),
    )
