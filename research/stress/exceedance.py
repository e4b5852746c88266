"""Exceedance correlations (Longin-Solnik 2001, Ang-Chen 2002) and their Gaussian benchmark."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable, Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
from scipy import integrate, special

from research._typing import Seed
from research.errors import InsufficientDataError, SpecificationError
from research.stress._bootstrap import bootstrap_band
from research.stress._returns import DEFAULT_MIN_OBS, window_returns
from research.stress.result import CorrelationBand, StressedCorrelation, build_result
from research.stress.windows import WindowLike

__all__ = [
    "DEFAULT_THRESHOLDS",
    "exceedance_correlation",
    "exceedance_curve",
    "gaussian_exceedance_correlation",
]

Tail = Literal["lower", "upper"]

#: Thresholds (in standard deviations) of the usual exceedance-correlation plot.
DEFAULT_THRESHOLDS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)

#: Fewest joint exceedances behind an exceedance correlation. With 20 points the standard
#: error of a correlation is still ~0.2; fewer makes the estimate meaningless.
DEFAULT_MIN_EXCEEDANCES = 20

# Absolute/relative error requested from scipy.integrate.quad for the truncated moments.
_QUAD_TOL = 1e-13
# Fast path: a fixed Gauss-Legendre rule on [theta, theta + 13]; it is used when the 200- and
# 400-node rules agree to 1e-12 (smooth integrands), otherwise adaptive quadrature takes over
# (e.g. rho near -1, where the region has almost no mass).
_GL_NODES = 200
_GL_SPAN = 13.0
_GL_AGREEMENT = 1e-12
_SQRT_2PI = np.sqrt(2.0 * np.pi)


def gaussian_exceedance_correlation(rho: float, threshold: float, tail: Tail = "lower") -> float:
    r"""Exceedance correlation of a standard bivariate normal with correlation ``rho``.

    .. math::

        \rho^{-}(\theta) = \operatorname{corr}(X, Y \mid X < -\theta, Y < -\theta), \qquad
        \rho^{+}(\theta) = \operatorname{corr}(X, Y \mid X > \theta, Y > \theta).

    Parameters
    ----------
    rho : float
        Correlation in [-1, 1].
    threshold : float
        :math:`\theta \ge 0` in standard deviations.
    tail : {"lower", "upper"}
        Joint losses or joint gains. By the symmetry of the normal both are equal.

    Returns
    -------
    float
        The benchmark; NaN when the region has (numerically) no mass, e.g. ``rho == -1``.

    Raises
    ------
    SpecificationError
        If ``rho`` is outside [-1, 1], ``threshold`` is negative or ``tail`` is unknown.

    Notes
    -----
    Numerically exact: the truncated moments are one-dimensional integrals over
    :math:`x > \theta` of :math:`\phi(x)` times the closed-form moments of
    :math:`Y \mid X = x \sim N(\rho x, 1 - \rho^2)` above :math:`\theta`, evaluated by
    Gauss-Legendre rules of 200 and 400 nodes when they agree to 1e-12, else by adaptive
    quadrature (:func:`scipy.integrate.quad_vec`) to 1e-13. The benchmark
    declines towards zero as :math:`\theta` grows for every :math:`|\rho| < 1`: normal
    returns have no tail dependence, so rising correlation in the tails of data is evidence
    against normality.

    References
    ----------
    Longin, F. and Solnik, B. (2001). Extreme correlation of international equity markets.
    Journal of Finance, 56(2), 649-676.
    Ang, A. and Chen, J. (2002). Asymmetric correlations of equity portfolios. Journal of
    Financial Economics, 63(3), 443-494.
    """
    _check_tail(tail)
    rho = float(rho)
    threshold = float(threshold)
    if not -1.0 <= rho <= 1.0:
        raise SpecificationError(f"rho must lie in [-1, 1], got {rho}")
    if not threshold >= 0.0:
        raise SpecificationError(f"threshold must be non-negative, got {threshold}")
    if rho == 1.0:
        return 1.0
    if rho == -1.0:
        return float("nan")
    q = np.sqrt(1.0 - rho * rho)
    h = threshold

    def moments(x: np.ndarray) -> np.ndarray:
        z = (h - rho * x) / q
        tail_prob = special.ndtr(-z)
        density = np.exp(-0.5 * z * z) / _SQRT_2PI
        mean_y = rho * x
        # E[Y 1{Y>h} | x] and E[Y^2 1{Y>h} | x] for Y | x ~ N(rho x, q^2).
        ey = mean_y * tail_prob + q * density
        eyy = mean_y**2 * tail_prob + 2 * mean_y * q * density + q * q * (z * density + tail_prob)
        return (
            np.exp(-0.5 * x * x)
            / _SQRT_2PI
            * np.array([tail_prob, x * tail_prob, x * x * tail_prob, ey, eyy, x * ey])
        )

    coarse = _correlation_from_moments(_gauss_legendre(moments, h, _GL_NODES))
    fine = _correlation_from_moments(_gauss_legendre(moments, h, 2 * _GL_NODES))
    if np.isfinite(fine) and abs(fine - coarse) <= _GL_AGREEMENT:
        return fine
    values, _ = integrate.quad_vec(moments, h, np.inf, epsabs=_QUAD_TOL, epsrel=_QUAD_TOL)
    return _correlation_from_moments(values)


def _gauss_legendre(function, lower: float, n_nodes: int) -> np.ndarray:
    """Gauss-Legendre rule on [lower, lower + _GL_SPAN] (the normal tail beyond is < 1e-36)."""
    nodes, weights = _legendre_rule(n_nodes)
    half = 0.5 * _GL_SPAN
    return function(half * nodes + lower + half) @ weights * half


@lru_cache(maxsize=4)
def _legendre_rule(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1] (computed once per size)."""
    return np.polynomial.legendre.leggauss(n_nodes)


def _correlation_from_moments(values: np.ndarray) -> float:
    """Correlation from the truncated moments (mass, Ex, Exx, Ey, Eyy, Exy) (unnormalized)."""
    mass, mx, mxx, my, myy, mxy = values
    if not mass > 0.0:
        return float("nan")
    var_x = mxx / mass - (mx / mass) ** 2
    var_y = myy / mass - (my / mass) ** 2
    cov = mxy / mass - (mx / mass) * (my / mass)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(cov / np.sqrt(var_x * var_y))


def exceedance_correlation(
    returns: pd.DataFrame,
    threshold: float = 1.0,
    *,
    tail: Tail = "lower",
    window: WindowLike = None,
    standardize: bool = True,
    min_exceedances: int = DEFAULT_MIN_EXCEEDANCES,
    n_boot: int = 0,
    level: float = 0.90,
    block_length: int = 1,
    seed: Seed = None,
) -> StressedCorrelation:
    """Pairwise exceedance-correlation matrix at one threshold.

    For each pair the correlation is computed on the dates where both standardized
    returns are below ``-threshold`` (lower tail) or above ``threshold`` (upper tail).

    Parameters
    ----------
    returns : pandas.DataFrame
        Date x asset returns; standardized residuals of a univariate GARCH fit remove the
        volatility clustering that otherwise inflates tail co-movement.
    threshold : float
        Threshold in standard deviations (>= 0).
    tail : {"lower", "upper"}
        Joint losses (the stress case) or joint gains.
    window : StressWindow, sequence of StressWindow (union), (start, end) or None
        Sample to use.
    standardize : bool
        Standardize each asset by its window mean and standard deviation first.
    min_exceedances : int
        Fewest joint exceedances per pair.
    n_boot, level, block_length, seed
        Bootstrap band, as in :func:`~research.stress.sample_correlation`.

    Returns
    -------
    StressedCorrelation
        ``method="exceedance-<tail>"``; ``info`` holds ``threshold``, ``tail``,
        ``exceedances`` (DataFrame of joint exceedance counts) and ``gaussian`` (DataFrame
        of the bivariate-normal benchmark at each pair's window correlation).

    Raises
    ------
    InsufficientDataError
        If a pair has fewer than ``min_exceedances`` joint exceedances (the message names
        the pair and suggests a lower threshold).
    SpecificationError
        Invalid threshold or tail.
    DataError
        As for :func:`~research.stress.sample_correlation`.

    Warns
    -----
    PSDRepairWarning
        Pairwise estimates on different subsamples need not form a PSD matrix; it is then
        repaired.
    """
    _check_tail(tail)
    if not threshold >= 0.0:
        raise SpecificationError(f"threshold must be non-negative, got {threshold}")
    data = window_returns(returns, window, min_obs=max(min_exceedances, DEFAULT_MIN_OBS))
    values = _standardize(data.values) if standardize else data.values
    matrix, counts = _exceedance_matrix(values, threshold, tail, 2)
    short = np.argwhere(np.triu((counts < min_exceedances) | np.isnan(matrix), 1))
    if len(short):
        i, j = short[0]
        raise InsufficientDataError(
            f"only {counts[i, j]} joint {tail}-tail exceedances beyond {threshold} sd for "
            f"({data.labels[i]!r}, {data.labels[j]!r}) ({len(short)} pairs below "
            f"min_exceedances={min_exceedances}); lower the threshold or use a longer sample"
        )
    labels = data.labels
    full_corr = np.corrcoef(values, rowvar=False)
    gaussian = np.ones_like(full_corr)
    for i, j in zip(*np.triu_indices(len(labels), 1), strict=True):
        gaussian[i, j] = gaussian[j, i] = gaussian_exceedance_correlation(
            float(np.clip(full_corr[i, j], -1.0, 1.0)), threshold, tail
        )
    band = None
    if n_boot:

        def statistic(sample: np.ndarray) -> np.ndarray:
            z = _standardize(sample) if standardize else sample
            corr, cnt = _exceedance_matrix(z, threshold, tail, 3)
            corr[cnt < 3] = np.nan
            return corr

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lower, upper, valid = bootstrap_band(
                data.values,
                statistic,
                n_boot=n_boot,
                level=level,
                block_length=block_length,
                seed=seed,
            )
        band = CorrelationBand(
            lower=pd.DataFrame(lower, index=labels, columns=labels),
            upper=pd.DataFrame(upper, index=labels, columns=labels),
            level=level,
            method="bootstrap",
            n_samples=valid,
        )
    return build_result(
        matrix,
        labels,
        method=f"exceedance-{tail}",
        window=data.window,
        dates=data.frame.index,
        nobs=len(values),
        band=band,
        dropped=data.dropped,
        info={
            "threshold": float(threshold),
            "tail": tail,
            "standardize": standardize,
            "exceedances": pd.DataFrame(counts, index=labels, columns=labels),
            "gaussian": pd.DataFrame(gaussian, index=labels, columns=labels),
        },
        notes=data.notes,
    )


def exceedance_curve(
    returns: pd.DataFrame,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    *,
    pairs: Iterable[tuple[Hashable, Hashable]] | None = None,
    window: WindowLike = None,
    standardize: bool = True,
    min_exceedances: int = DEFAULT_MIN_EXCEEDANCES,
) -> pd.DataFrame:
    """Exceedance correlations of asset pairs across thresholds and both tails.

    Parameters
    ----------
    returns : pandas.DataFrame
        Date x asset returns (or standardized residuals).
    thresholds : sequence of float
        Non-negative thresholds in standard deviations.
    pairs : iterable of (asset, asset), optional
        Pairs to compute (default: every pair).
    window : StressWindow, sequence of StressWindow (union), (start, end) or None
        Sample to use.
    standardize : bool
        Standardize each asset in the window first.
    min_exceedances : int
        Below this many joint exceedances the correlation is reported as NaN (the count
        stays in the table).

    Returns
    -------
    pandas.DataFrame
        One row per pair, tail and threshold with columns ``asset_1``, ``asset_2``,
        ``tail``, ``threshold``, ``signed_threshold`` (negative for the lower tail, for
        plotting), ``exceedances``, ``correlation`` and ``gaussian`` (the bivariate-normal
        benchmark at the pair's window correlation).

    Raises
    ------
    SpecificationError
        If a threshold is negative or a pair names an unknown asset.
    DataError, InsufficientDataError
        As for :func:`~research.stress.sample_correlation`.
    """
    thresholds = [float(t) for t in thresholds]
    if not thresholds or min(thresholds) < 0.0:
        raise SpecificationError(f"thresholds must be non-negative, got {thresholds}")
    data = window_returns(returns, window, min_obs=max(min_exceedances, DEFAULT_MIN_OBS))
    values = _standardize(data.values) if standardize else data.values
    labels = data.labels
    position = {label: k for k, label in enumerate(labels)}
    if pairs is None:
        index_pairs = list(zip(*np.triu_indices(len(labels), 1), strict=True))
    else:
        index_pairs = []
        for pair in pairs:
            unknown = [a for a in pair if a not in position]
            if unknown:
                raise SpecificationError(f"pair {pair!r} names unknown assets {unknown}")
            index_pairs.append((position[pair[0]], position[pair[1]]))
    full_corr = np.corrcoef(values, rowvar=False)
    rows = []
    for i, j in index_pairs:
        rho = float(np.clip(full_corr[i, j], -1.0, 1.0))
        for tail in ("lower", "upper"):
            for threshold in thresholds:
                corr, count = _pair_exceedance(values[:, i], values[:, j], threshold, tail)
                rows.append(
                    {
                        "asset_1": labels[i],
                        "asset_2": labels[j],
                        "tail": tail,
                        "threshold": threshold,
                        "signed_threshold": -threshold if tail == "lower" else threshold,
                        "exceedances": count,
                        "correlation": corr if count >= min_exceedances else np.nan,
                        "gaussian": gaussian_exceedance_correlation(rho, threshold, tail),
                    }
                )
    return pd.DataFrame(rows)


def _check_tail(tail: str) -> None:
    """Reject an unknown tail name."""
    if tail not in ("lower", "upper"):
        raise SpecificationError(f"tail must be 'lower' or 'upper', got {tail!r}")


def _standardize(values: np.ndarray) -> np.ndarray:
    """Column z-scores (sample standard deviation)."""
    return (values - values.mean(axis=0)) / values.std(axis=0, ddof=1)


def _exceed(values: np.ndarray, threshold: float, tail: str) -> np.ndarray:
    """Boolean exceedance indicator of each observation."""
    return values < -threshold if tail == "lower" else values > threshold


def _pair_exceedance(x: np.ndarray, y: np.ndarray, threshold: float, tail: str) -> tuple:
    """Correlation and count of the joint exceedances of one pair (NaN below 3 points)."""
    both = _exceed(x, threshold, tail) & _exceed(y, threshold, tail)
    count = int(both.sum())
    if count < 3:
        return float("nan"), count
    xs, ys = x[both], y[both]
    if np.ptp(xs) == 0.0 or np.ptp(ys) == 0.0:
        return float("nan"), count
    return float(np.corrcoef(xs, ys)[0, 1]), count


def _exceedance_matrix(
    values: np.ndarray, threshold: float, tail: str, min_count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise exceedance correlations and joint-exceedance counts."""
    n = values.shape[1]
    corr = np.eye(n)
    counts = np.zeros((n, n), dtype=int)
    exceed = _exceed(values, threshold, tail)
    counts_all = exceed.T.astype(int) @ exceed.astype(int)
    for i, j in zip(*np.triu_indices(n, 1), strict=True):
        counts[i, j] = counts[j, i] = counts_all[i, j]
        if counts_all[i, j] >= min_count:
            value, _ = _pair_exceedance(values[:, i], values[:, j], threshold, tail)
            corr[i, j] = corr[j, i] = value
        else:
            corr[i, j] = corr[j, i] = np.nan
    np.fill_diagonal(counts, exceed.sum(axis=0))
    return corr, counts
