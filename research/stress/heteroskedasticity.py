"""Volatility-conditioning corrections: Forbes-Rigobon adjustment and Loretan-English benchmark.

Correlation measured in a high-volatility window is biased upwards even if the underlying
relationship is unchanged. Forbes and Rigobon (2002) remove that bias from a stressed
estimate; Loretan and English (2000) give the correlation that the volatility change alone
would produce from a calm estimate. The two maps are inverse to each other.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from research._typing import ArrayLike1D
from research.errors import DataError, SpecificationError
from research.stress._returns import DEFAULT_MIN_OBS, window_returns
from research.stress.result import StressedCorrelation, build_result
from research.stress.windows import WindowLike, resolve_window, window_mask

__all__ = [
    "forbes_rigobon",
    "forbes_rigobon_correlation",
    "loretan_english",
    "loretan_english_correlation",
]


def forbes_rigobon(rho: ArrayLike1D | float, delta: float) -> np.ndarray | float:
    r"""Forbes-Rigobon heteroskedasticity-adjusted ("unconditional") correlation.

    .. math:: \rho^{*} = \frac{\rho}{\sqrt{1 + \delta\,(1 - \rho^{2})}}

    Parameters
    ----------
    rho : float or array_like
        Correlation measured in the high-volatility (stress) period, in [-1, 1].
    delta : float
        Relative increase of the conditioning (source) variable's variance:
        :math:`\delta = \sigma^2_{\text{stress}} / \sigma^2_{\text{calm}} - 1 > -1`.

    Returns
    -------
    float or numpy.ndarray
        Adjusted correlation, same shape as ``rho``.

    Raises
    ------
    SpecificationError
        If a correlation is outside [-1, 1] or ``delta <= -1``.

    References
    ----------
    Forbes, K. J. and Rigobon, R. (2002). No contagion, only interdependence: measuring
    stock market comovements. Journal of Finance, 57(5), 2223-2261.

    Examples
    --------
    >>> from research.stress import forbes_rigobon
    >>> round(forbes_rigobon(0.5, 3.0), 6)
    0.27735
    """
    values = _check_rho(rho)
    delta = float(delta)
    if not delta > -1.0:
        raise SpecificationError(f"delta must exceed -1 (a variance ratio minus one), got {delta}")
    adjusted = values / np.sqrt(1.0 + delta * (1.0 - values**2))
    return float(adjusted) if np.ndim(adjusted) == 0 else adjusted


def loretan_english(rho: ArrayLike1D | float, variance_ratio: float) -> np.ndarray | float:
    r"""Loretan-English conditional correlation implied by a change of volatility alone.

    .. math::

        \rho_A = \rho\,\left[\rho^{2} + (1 - \rho^{2})\,
        \frac{\operatorname{Var}(x)}{\operatorname{Var}(x \mid A)}\right]^{-1/2}

    Parameters
    ----------
    rho : float or array_like
        Correlation in the reference (calm) sample, in [-1, 1].
    variance_ratio : float
        :math:`\operatorname{Var}(x \mid A) / \operatorname{Var}(x) > 0`: the
        conditioning variable's variance in the subsample A (the stress window) over its
        reference variance (> 1 in stress).

    Returns
    -------
    float or numpy.ndarray
        Correlation expected in A if the underlying relation is unchanged.

    Raises
    ------
    SpecificationError
        If a correlation is outside [-1, 1] or ``variance_ratio <= 0``.

    Notes
    -----
    ``loretan_english(forbes_rigobon(r, d), 1 + d) == r``: the Forbes-Rigobon adjustment
    undoes exactly the bias that this formula predicts.

    References
    ----------
    Loretan, M. and English, W. B. (2000). Evaluating "correlation breakdowns" during periods
    of market volatility. BIS Conference Papers 8, 214-231 (also Federal Reserve Board
    International Finance Discussion Paper 658).

    Examples
    --------
    >>> from research.stress import loretan_english
    >>> round(loretan_english(0.5, 4.0), 6)
    0.755929
    """
    values = _check_rho(rho)
    variance_ratio = float(variance_ratio)
    if not variance_ratio > 0.0:
        raise SpecificationError(f"variance_ratio must be positive, got {variance_ratio}")
    conditional = values / np.sqrt(values**2 + (1.0 - values**2) / variance_ratio)
    return float(conditional) if np.ndim(conditional) == 0 else conditional


def forbes_rigobon_correlation(
    returns: pd.DataFrame,
    stress: WindowLike,
    calm: WindowLike = None,
    *,
    source: Hashable | None = None,
    min_obs: int = DEFAULT_MIN_OBS,
) -> StressedCorrelation:
    """Stress-window correlation with the Forbes-Rigobon volatility bias removed.

    Parameters
    ----------
    returns : pandas.DataFrame
        Date x asset returns.
    stress : StressWindow, sequence of StressWindow or (start, end)
        High-volatility window whose correlation is adjusted.
    calm : StressWindow, (start, end) or None
        Reference window for the variance ratio (None: every date outside ``stress``).
    source : asset label, optional
        Conditioning variable whose variance defines delta (Forbes and Rigobon use the
        crisis-origin market). Default: the equal-weight portfolio of all assets, the common
        factor of the panel.
    min_obs : int
        Fewest complete observations in each window.

    Returns
    -------
    StressedCorrelation
        ``method="forbes-rigobon"``; ``info`` holds ``delta``, ``source``, ``calm_nobs``
        and the unadjusted ``stressed`` matrix.

    Raises
    ------
    DataError
        Unknown source or windows outside the data; ``InsufficientDataError`` for short
        windows.

    Warns
    -----
    PSDRepairWarning
        The entry-wise adjustment need not preserve positive semi-definiteness.

    Notes
    -----
    One delta is applied to every pair, which is exact for pairs that include the source
    and an approximation for the others.
    """
    stressed, calm_data, ratio, label = _windows_and_ratio(returns, stress, calm, source, min_obs)
    raw = stressed.matrix.to_numpy()
    adjusted = forbes_rigobon(np.clip(raw, -1.0, 1.0), ratio - 1.0)
    return build_result(
        np.asarray(adjusted),
        stressed.assets,
        method="forbes-rigobon",
        window=stressed.window,
        dates=pd.DatetimeIndex([stressed.start, stressed.end]),
        nobs=stressed.nobs,
        dropped=stressed.dropped,
        info={
            "delta": ratio - 1.0,
            "source": label,
            "calm_nobs": len(calm_data),
            "stressed": stressed.matrix,
        },
        notes=stressed.warnings,
    )


def loretan_english_correlation(
    returns: pd.DataFrame,
    stress: WindowLike,
    calm: WindowLike = None,
    *,
    source: Hashable | None = None,
    min_obs: int = DEFAULT_MIN_OBS,
) -> StressedCorrelation:
    """Correlation the stress window would show from its higher volatility alone.

    The calm-window correlation is mapped through :func:`loretan_english` with the
    source's variance ratio (stress over calm). Observed stressed correlations above this
    benchmark indicate a genuine rise in dependence, not just a volatility effect.

    Parameters
    ----------
    returns : pandas.DataFrame
        Date x asset returns.
    stress : StressWindow, sequence of StressWindow or (start, end)
        High-volatility window.
    calm : StressWindow, (start, end) or None
        Reference window (None: every date outside ``stress``).
    source : asset label, optional
        Conditioning variable (default: the equal-weight portfolio).
    min_obs : int
        Fewest complete observations in each window.

    Returns
    -------
    StressedCorrelation
        ``method="loretan-english"`` with dates/nobs of the calm window; ``info`` holds
        ``variance_ratio``, ``source`` and the ``observed`` stress-window matrix.

    Raises
    ------
    DataError
        Unknown source or windows outside the data; ``InsufficientDataError`` for short
        windows.

    Warns
    -----
    PSDRepairWarning
        The entry-wise map need not preserve positive semi-definiteness.
    """
    stressed, calm_data, ratio, label = _windows_and_ratio(returns, stress, calm, source, min_obs)
    calm_corr = np.clip(np.corrcoef(calm_data.to_numpy(), rowvar=False), -1.0, 1.0)
    implied = loretan_english(calm_corr, ratio)
    return build_result(
        np.asarray(implied),
        stressed.assets,
        method="loretan-english",
        window=stressed.window,
        dates=calm_data.index,
        nobs=len(calm_data),
        info={"variance_ratio": ratio, "source": label, "observed": stressed.matrix},
        notes=stressed.warnings,
    )


def _windows_and_ratio(
    returns: pd.DataFrame,
    stress: WindowLike,
    calm: WindowLike,
    source: Hashable | None,
    min_obs: int,
) -> tuple[StressedCorrelation, pd.DataFrame, float, str]:
    """Stress-window sample correlation, calm rows, variance ratio and source label."""
    from research.stress.estimators import sample_correlation

    stress_window = resolve_window(stress, "stress")
    if stress_window is None:
        raise SpecificationError("a stress window is required")
    stressed = sample_correlation(returns, stress_window, min_obs=min_obs)
    if calm is None:
        outside = ~window_mask(returns.index, stress_window)
        calm_data = window_returns(returns.loc[outside], None, min_obs=min_obs).frame
    else:
        calm_data = window_returns(returns, calm, min_obs=min_obs).frame
    stress_data = returns.loc[window_mask(returns.index, stress_window)].dropna()
    if source is None:
        label = "equal-weight portfolio"
        stress_series = stress_data.mean(axis=1)
        calm_series = calm_data.mean(axis=1)
    else:
        if source not in returns.columns:
            raise DataError(
                f"source {source!r} is not an asset of the panel {list(returns.columns)}"
            )
        label = str(source)
        stress_series = stress_data[source]
        calm_series = calm_data[source]
    ratio = float(stress_series.var() / calm_series.var())
    if not np.isfinite(ratio) or ratio <= 0.0:
        raise DataError(f"variance ratio of {label} is {ratio}; the calm window has no variance")
    return stressed, calm_data, ratio, label


def _check_rho(rho: ArrayLike1D | float) -> np.ndarray:
    """Correlations as a float array, checked to lie in [-1, 1]."""
    values = np.asarray(rho, dtype=np.float64)
    if not np.all(np.isfinite(values)) or np.abs(values).max(initial=0.0) > 1.0:
        raise SpecificationError("correlations must be finite and lie in [-1, 1]")
    return values
