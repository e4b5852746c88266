"""Correlation estimators over a window: sample, EWMA, shrinkage, and the stressed/current blend."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from research._typing import Seed
from research.errors import SpecificationError
from research.stress._bootstrap import bootstrap_band
from research.stress._checks import check_correlation_frame, check_probability, check_same_labels
from research.stress._returns import DEFAULT_MIN_OBS, window_returns
from research.stress.result import CorrelationBand, StressedCorrelation, build_result
from research.stress.windows import WindowLike

__all__ = [
    "EMIR_STRESSED_WEIGHT",
    "RISKMETRICS_DECAY",
    "blend_correlation",
    "ewma_correlation",
    "sample_correlation",
    "shrunk_correlation",
]

#: RiskMetrics (1996) decay factor for daily data.
RISKMETRICS_DECAY = 0.94

#: EMIR RTS (Commission Delegated Regulation (EU) No 153/2013, Art. 28(1)(b)): an
#: anti-procyclicality option that gives stressed observations at least 25% weight.
EMIR_STRESSED_WEIGHT = 0.25


def _corrcoef(values: np.ndarray) -> np.ndarray:
    """Pearson correlation of the columns (NaN for a constant column in a resample)."""
    centered = values - values.mean(axis=0)
    cov = centered.T @ centered
    scale = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        return cov / np.outer(scale, scale)


def sample_correlation(
    returns: pd.DataFrame,
    window: WindowLike = None,
    *,
    min_obs: int = DEFAULT_MIN_OBS,
    n_boot: int = 0,
    level: float = 0.90,
    block_length: int = 1,
    seed: Seed = None,
) -> StressedCorrelation:
    """Pearson correlation of returns in a window, with an optional bootstrap band.

    Parameters
    ----------
    returns : pandas.DataFrame
        Date x asset returns (e.g. ``research.data.to_returns(prices)``).
    window : StressWindow, sequence of StressWindow (union), (start, end) or None
        Window to estimate in (None: whole sample).
    min_obs : int
        Fewest complete observations accepted.
    n_boot : int
        Bootstrap replications for the band (0: no band; at least 100 otherwise).
    level : float
        Two-sided coverage of the band.
    block_length : int
        Circular-block length of the bootstrap (1: iid rows).
    seed : int, Generator or None
        Seed of the bootstrap.

    Returns
    -------
    StressedCorrelation
        ``method="sample"``.

    Raises
    ------
    DataError
        Window outside the data, infinite or constant returns.
    InsufficientDataError
        Fewer than ``min_obs`` complete rows in the window.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from research.stress import sample_correlation
    >>> rng = np.random.default_rng(0)
    >>> index = pd.bdate_range("2020-01-01", periods=250)
    >>> r = pd.DataFrame(rng.standard_normal((250, 3)), index=index, columns=list("abc"))
    >>> est = sample_correlation(r, ("2020-03-01", "2020-06-30"), n_boot=200, seed=0)
    >>> est.matrix.shape, est.nobs
    ((3, 3), 87)
    """
    data = window_returns(returns, window, min_obs=min_obs)
    band = None
    if n_boot:
        lower, upper, valid = bootstrap_band(
            data.values,
            _corrcoef,
            n_boot=n_boot,
            level=level,
            block_length=block_length,
            seed=seed,
        )
        band = CorrelationBand(
            lower=pd.DataFrame(lower, index=data.labels, columns=data.labels),
            upper=pd.DataFrame(upper, index=data.labels, columns=data.labels),
            level=level,
            method="bootstrap",
            n_samples=valid,
        )
    return build_result(
        _corrcoef(data.values),
        data.labels,
        method="sample",
        window=data.window,
        dates=data.frame.index,
        nobs=len(data.values),
        band=band,
        dropped=data.dropped,
        info={"block_length": block_length} if n_boot else {},
        notes=data.notes,
    )


def ewma_correlation(
    returns: pd.DataFrame,
    window: WindowLike = None,
    *,
    decay: float = RISKMETRICS_DECAY,
    demean: bool = False,
    min_obs: int = DEFAULT_MIN_OBS,
) -> StressedCorrelation:
    r"""Exponentially weighted correlation at the last date of a window (RiskMetrics).

    Parameters
    ----------
    returns : pandas.DataFrame
        Date x asset returns.
    window : StressWindow, sequence of StressWindow (union), (start, end) or None
        Rows used; the estimate refers to the last date in it.
    decay : float
        :math:`\lambda \in (0, 1)`; 0.94 is RiskMetrics' daily value.
    demean : bool
        Subtract the exponentially weighted mean (RiskMetrics assumes a zero mean).
    min_obs : int
        Fewest complete observations accepted.

    Returns
    -------
    StressedCorrelation
        ``method="ewma"``; ``info`` holds ``decay`` and the effective number of
        observations :math:`(\sum w)^2 / \sum w^2`.

    Raises
    ------
    SpecificationError
        If ``decay`` is not in (0, 1).
    DataError, InsufficientDataError
        As for :func:`sample_correlation`.

    Notes
    -----
    With weights :math:`w_s = \lambda^{T-1-s}` normalized to sum to one,
    :math:`\Sigma_T = \sum_s w_s (r_s - \mu)(r_s - \mu)^\top`, the finite-sample form of
    the recursion :math:`\Sigma_t = \lambda\Sigma_{t-1} + (1-\lambda) r_t r_t^\top`. A
    weighted sum of outer products is positive semi-definite, so no repair is needed.

    References
    ----------
    J.P. Morgan/Reuters (1996). RiskMetrics - Technical Document, 4th edition.
    """
    decay = check_probability(decay, "decay")
    data = window_returns(returns, window, min_obs=min_obs)
    n_obs = len(data.values)
    weights = decay ** np.arange(n_obs - 1, -1, -1, dtype=np.float64)
    weights /= weights.sum()
    values = data.values
    if demean:
        values = values - weights @ values
    cov = (values * weights[:, None]).T @ values
    scale = np.sqrt(np.diag(cov))
    return build_result(
        cov / np.outer(scale, scale),
        data.labels,
        method="ewma",
        window=data.window,
        dates=data.frame.index,
        nobs=n_obs,
        dropped=data.dropped,
        info={
            "decay": decay,
            "demean": demean,
            "effective_nobs": float(1.0 / np.sum(weights**2)),
        },
        notes=data.notes,
    )


def shrunk_correlation(
    returns: pd.DataFrame,
    window: WindowLike = None,
    *,
    method: Literal["ledoit_wolf", "oas"] = "ledoit_wolf",
    min_obs: int = DEFAULT_MIN_OBS,
) -> StressedCorrelation:
    r"""Shrinkage correlation (Ledoit-Wolf or OAS from scikit-learn) in a window.

    The returns are standardized in the window and the scikit-learn estimator shrinks their
    sample correlation :math:`R` towards the identity:
    :math:`(1 - s) R + s I` with the estimated intensity :math:`s`.

    Parameters
    ----------
    returns : pandas.DataFrame
        Date x asset returns.
    window : StressWindow, sequence of StressWindow (union), (start, end) or None
        Window to estimate in.
    method : {"ledoit_wolf", "oas"}
        :class:`sklearn.covariance.LedoitWolf` or :class:`sklearn.covariance.OAS`.
    min_obs : int
        Fewest complete observations accepted.

    Returns
    -------
    StressedCorrelation
        ``method="ledoit_wolf"`` or ``"oas"``; ``info["shrinkage"]`` is :math:`s`.

    Raises
    ------
    SpecificationError
        If ``method`` is unknown.
    DataError, InsufficientDataError
        As for :func:`sample_correlation`.

    References
    ----------
    Ledoit, O. and Wolf, M. (2004). A well-conditioned estimator for large-dimensional
    covariance matrices. Journal of Multivariate Analysis, 88(2), 365-411.
    Chen, Y., Wiesel, A., Eldar, Y. C. and Hero, A. O. (2010). Shrinkage algorithms for MMSE
    covariance estimation. IEEE Transactions on Signal Processing, 58(10), 5016-5029.
    """
    from sklearn.covariance import OAS, LedoitWolf

    estimators = {"ledoit_wolf": LedoitWolf, "oas": OAS}
    if method not in estimators:
        raise SpecificationError(f"method must be one of {sorted(estimators)}, got {method!r}")
    data = window_returns(returns, window, min_obs=min_obs)
    values = data.values
    standardized = (values - values.mean(axis=0)) / values.std(axis=0)
    fitted = estimators[method](assume_centered=True).fit(standardized)
    cov = fitted.covariance_
    scale = np.sqrt(np.diag(cov))
    return build_result(
        cov / np.outer(scale, scale),
        data.labels,
        method=method,
        window=data.window,
        dates=data.frame.index,
        nobs=len(values),
        dropped=data.dropped,
        info={"shrinkage": float(fitted.shrinkage_)},
        notes=data.notes,
    )


def blend_correlation(
    stressed: StressedCorrelation | pd.DataFrame,
    current: StressedCorrelation | pd.DataFrame,
    weight: float = EMIR_STRESSED_WEIGHT,
) -> StressedCorrelation:
    r"""Blend a stressed and a current correlation matrix: :math:`w R_s + (1 - w) R_c`.

    Parameters
    ----------
    stressed : StressedCorrelation or pandas.DataFrame
        Stressed correlation matrix.
    current : StressedCorrelation or pandas.DataFrame
        Current (e.g. EWMA or recent-window) correlation matrix, same assets in any order.
    weight : float
        Weight :math:`w \in [0, 1]` on the stressed matrix. The default 0.25 is EMIR's
        stressed-observation weight (:data:`EMIR_STRESSED_WEIGHT`).

    Returns
    -------
    StressedCorrelation
        ``method="blend"``, in the stressed matrix's asset order; ``info`` holds the
        weight and the two components' methods. ``nobs`` is 0 (a combination of
        estimates, see the components for their samples).

    Raises
    ------
    DataError
        If an input is not a correlation matrix or the assets differ.
    SpecificationError
        If ``weight`` is outside [0, 1].

    Notes
    -----
    A convex combination of correlation matrices is a correlation matrix, so no repair
    is needed.
    """
    weight = check_probability(weight, "weight", open_interval=False)
    frames = [_as_matrix(stressed, "stressed"), _as_matrix(current, "current")]
    labels = check_same_labels(frames, ["stressed", "current"])
    blended = (
        weight * frames[0].to_numpy() + (1.0 - weight) * frames[1].loc[labels, labels].to_numpy()
    )
    window = stressed.window if isinstance(stressed, StressedCorrelation) else None
    return build_result(
        blended,
        labels,
        method="blend",
        window=window,
        dates=None,
        nobs=0,
        info={
            "weight": weight,
            "stressed_method": _method(stressed),
            "current_method": _method(current),
        },
    )


def _as_matrix(value: StressedCorrelation | pd.DataFrame, name: str) -> pd.DataFrame:
    """Return the matrix of a result, or check a bare correlation DataFrame."""
    if isinstance(value, StressedCorrelation):
        return value.matrix
    return check_correlation_frame(value, name)


def _method(value: StressedCorrelation | pd.DataFrame) -> str:
    """Estimator name of a component (``"given"`` for a bare matrix)."""
    return value.method if isinstance(value, StressedCorrelation) else "given"
