"""Correlation stability between a calm and a stressed window: per-pair and whole-matrix tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from research._typing import ArrayLike1D, ArrayLike2D
from research.errors import InsufficientDataError, NotPositiveDefiniteError, SpecificationError
from research.stress._checks import check_correlation_frame, check_probability
from research.stress._returns import DEFAULT_MIN_OBS
from research.stress.estimators import sample_correlation
from research.stress.result import StressedCorrelation
from research.stress.windows import WindowLike, resolve_window, window_mask

__all__ = [
    "CorrelationStability",
    "EqualityTest",
    "correlation_stability",
    "fisher_z_test",
    "jennrich_test",
]

#: Default |correlation| below which an offset is treated as gone in stress.
DEFAULT_BREAK_THRESHOLD = 0.3


@dataclass(frozen=True)
class EqualityTest:
    """A test of equal correlation matrices.

    Attributes
    ----------
    statistic : float
        Test statistic.
    pvalue : float
        Asymptotic p-value.
    df : int
        Degrees of freedom of the reference chi-square.
    null : str
        The null hypothesis.
    """

    statistic: float
    pvalue: float
    df: int
    null: str

    def __str__(self) -> str:
        return f"{self.null}: chi2({self.df}) = {self.statistic:.4g}, p-value = {self.pvalue:.4g}"


def fisher_z_test(
    r1: ArrayLike1D | float, n1: int, r2: ArrayLike1D | float, n2: int
) -> tuple[np.ndarray | float, np.ndarray | float]:
    r"""Fisher z test of equal correlations in two independent samples.

    .. math::

        z = \frac{\operatorname{artanh} r_1 - \operatorname{artanh} r_2}
                 {\sqrt{1/(n_1 - 3) + 1/(n_2 - 3)}}

    Parameters
    ----------
    r1, r2 : float or array_like
        Correlations (same shape), in (-1, 1).
    n1, n2 : int
        Sample sizes (> 3).

    Returns
    -------
    z : float or numpy.ndarray
        Standard-normal statistic.
    pvalue : float or numpy.ndarray
        Two-sided p-value.

    Raises
    ------
    SpecificationError
        If a sample has 3 or fewer observations or a correlation is not in (-1, 1).

    Notes
    -----
    Assumes independent samples of iid bivariate normal data; volatility clustering makes
    the test over-reject, so read the p-values as a screen.
    """
    if min(n1, n2) <= 3:
        raise SpecificationError(f"Fisher's z test needs more than 3 observations, got {n1}, {n2}")
    a = np.asarray(r1, dtype=np.float64)
    b = np.asarray(r2, dtype=np.float64)
    if np.abs(a).max(initial=0.0) >= 1.0 or np.abs(b).max(initial=0.0) >= 1.0:
        raise SpecificationError("Fisher's z test needs correlations strictly inside (-1, 1)")
    z = (np.arctanh(a) - np.arctanh(b)) / np.sqrt(1.0 / (n1 - 3) + 1.0 / (n2 - 3))
    pvalue = 2.0 * stats.norm.sf(np.abs(z))
    if np.ndim(z) == 0:
        return float(z), float(pvalue)
    return z, pvalue


def jennrich_test(r1: ArrayLike2D, n1: int, r2: ArrayLike2D, n2: int) -> EqualityTest:
    r"""Jennrich (1970) chi-square test that two correlation matrices are equal.

    With :math:`\bar R = (n_1 R_1 + n_2 R_2)/(n_1 + n_2)`, :math:`c = n_1 n_2/(n_1 + n_2)`,
    :math:`Z = \sqrt{c}\,\bar R^{-1}(R_1 - R_2)` and :math:`S = I + \bar R \circ \bar R^{-1}`,

    .. math::

        \chi^2 = \tfrac12 \operatorname{tr}(Z^2)
                 - \operatorname{dg}(Z)^\top S^{-1} \operatorname{dg}(Z)
        \;\sim\; \chi^2_{p(p-1)/2}.

    Parameters
    ----------
    r1, r2 : array_like or pandas.DataFrame, shape (p, p)
        Sample correlation matrices (same asset order).
    n1, n2 : int
        Their sample sizes.

    Returns
    -------
    EqualityTest

    Raises
    ------
    DataError
        If an input is not a correlation matrix or the shapes differ.
    NotPositiveDefiniteError
        If the pooled matrix is singular.
    SpecificationError
        If a sample size is below 2.

    References
    ----------
    Jennrich, R. I. (1970). An asymptotic chi-square test for the equality of two
    correlation matrices. Journal of the American Statistical Association, 65(330), 904-912.
    """
    a = check_correlation_frame(r1, "r1").to_numpy()
    b = check_correlation_frame(r2, "r2").to_numpy()
    if a.shape != b.shape:
        raise SpecificationError(f"matrices differ in shape: {a.shape} vs {b.shape}")
    if min(n1, n2) < 2:
        raise SpecificationError(f"sample sizes must be at least 2, got {n1}, {n2}")
    p = a.shape[0]
    pooled = (n1 * a + n2 * b) / (n1 + n2)
    try:
        pooled_inv = np.linalg.inv(np.linalg.cholesky(pooled))
    except np.linalg.LinAlgError as exc:
        raise NotPositiveDefiniteError(
            "the pooled correlation matrix is singular; drop collinear assets before "
            "Jennrich's test"
        ) from exc
    pooled_inv = pooled_inv.T @ pooled_inv
    z = np.sqrt(n1 * n2 / (n1 + n2)) * pooled_inv @ (a - b)
    s = np.eye(p) + pooled * pooled_inv
    dz = np.diag(z)
    statistic = float(0.5 * np.trace(z @ z) - dz @ np.linalg.solve(s, dz))
    df = p * (p - 1) // 2
    return EqualityTest(
        statistic=statistic,
        pvalue=float(stats.chi2.sf(statistic, df)),
        df=df,
        null="equal correlation matrices (Jennrich 1970)",
    )


@dataclass(frozen=True)
class CorrelationStability:
    """Calm-versus-stress comparison of correlations.

    Attributes
    ----------
    pairs : pandas.DataFrame
        One row per pair: ``asset_1``, ``asset_2``, ``calm``, ``stress``, ``change``,
        ``z``, ``pvalue`` (Fisher z), ``significant``, ``sign_change``,
        ``below_threshold`` and ``breaks`` (sign change or fall below the threshold).
    jennrich : EqualityTest
        Whole-matrix test of equal correlations.
    calm, stress : StressedCorrelation
        The two sample estimates.
    threshold : float
        Offset threshold used by ``below_threshold``.
    level : float
        Confidence level of ``significant``.
    """

    pairs: pd.DataFrame
    jennrich: EqualityTest
    calm: StressedCorrelation
    stress: StressedCorrelation
    threshold: float
    level: float

    @property
    def breaks(self) -> pd.DataFrame:
        """Rows of :attr:`pairs` whose correlation breaks in stress."""
        return self.pairs.loc[self.pairs["breaks"]].reset_index(drop=True)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Warnings of the two estimates."""
        return self.calm.warnings + self.stress.warnings

    def summary(self) -> pd.Series:
        """Headline numbers.

        Returns
        -------
        pandas.Series
            Pair counts (total, significant changes, breaks), mean change, Jennrich test.
        """
        return pd.Series(
            {
                "pairs": len(self.pairs),
                "mean_change": float(self.pairs["change"].mean()),
                f"significant_at_{self.level:.0%}": int(self.pairs["significant"].sum()),
                "breaks": int(self.pairs["breaks"].sum()),
                "jennrich_statistic": self.jennrich.statistic,
                "jennrich_df": self.jennrich.df,
                "jennrich_pvalue": self.jennrich.pvalue,
                "calm_nobs": self.calm.nobs,
                "stress_nobs": self.stress.nobs,
            },
            name="correlation stability",
            dtype=object,
        )


def correlation_stability(
    returns: pd.DataFrame,
    calm: WindowLike,
    stress: WindowLike,
    *,
    threshold: float = DEFAULT_BREAK_THRESHOLD,
    level: float = 0.95,
    min_obs: int = DEFAULT_MIN_OBS,
) -> CorrelationStability:
    """Compare every pair's correlation between a calm and a stress window.

    A pair *breaks* when its correlation changes sign, or its absolute value falls below
    ``threshold`` in stress while it was at least ``threshold`` in the calm window (the
    offset it supported is gone).

    Parameters
    ----------
    returns : pandas.DataFrame
        Date x asset returns.
    calm : StressWindow, sequence of StressWindow, (start, end) or None
        Calm window (None: every date outside ``stress``). It should not overlap
        ``stress``: the tests assume independent samples.
    stress : StressWindow, sequence of StressWindow (union) or (start, end)
        Stress window(s).
    threshold : float
        Absolute correlation that still supports an offset, in [0, 1].
    level : float
        Confidence level for ``significant`` (Fisher z p-value below ``1 - level``).
    min_obs : int
        Fewest complete observations per window.

    Returns
    -------
    CorrelationStability
        ``stress.window`` records the stress window(s); a calm estimate built from
        the complement has ``window=None`` (its dates are in ``start``/``end``).

    Raises
    ------
    InsufficientDataError
        If a window has 3 or fewer observations (or fewer than ``min_obs``).
    SpecificationError
        If ``threshold`` or ``level`` is out of range.
    DataError
        As for :func:`~research.stress.sample_correlation`.
    """
    threshold = check_probability(threshold, "threshold", open_interval=False)
    level = check_probability(level, "level")
    stress_est = sample_correlation(returns, stress, min_obs=min_obs)
    if calm is None:
        outside = ~window_mask(returns.index, resolve_window(stress))
        calm_est = sample_correlation(returns.loc[outside], min_obs=min_obs)
    else:
        calm_est = sample_correlation(returns, calm, min_obs=min_obs)
    if min(calm_est.nobs, stress_est.nobs) <= 3:
        raise InsufficientDataError("each window needs more than 3 observations")
    labels = calm_est.assets
    i, j = np.triu_indices(len(labels), 1)
    calm_values = calm_est.matrix.to_numpy()[i, j]
    stress_values = stress_est.matrix.loc[labels, labels].to_numpy()[i, j]
    bound = np.nextafter(1.0, 0.0)
    z, pvalue = fisher_z_test(
        np.clip(calm_values, -bound, bound),
        calm_est.nobs,
        np.clip(stress_values, -bound, bound),
        stress_est.nobs,
    )
    z = -np.atleast_1d(z)
    pvalue = np.atleast_1d(pvalue)
    sign_change = calm_values * stress_values < 0.0
    below = (np.abs(stress_values) < threshold) & (np.abs(calm_values) >= threshold)
    pairs = pd.DataFrame(
        {
            "asset_1": [labels[k] for k in i],
            "asset_2": [labels[k] for k in j],
            "calm": calm_values,
            "stress": stress_values,
            "change": stress_values - calm_values,
            "z": z,
            "pvalue": pvalue,
            "significant": pvalue < 1.0 - level,
            "sign_change": sign_change,
            "below_threshold": below,
            "breaks": sign_change | below,
        }
    )
    return CorrelationStability(
        pairs=pairs,
        jennrich=jennrich_test(
            calm_est.matrix,
            calm_est.nobs,
            stress_est.matrix.loc[labels, labels],
            stress_est.nobs,
        ),
        calm=calm_est,
        stress=stress_est,
        threshold=threshold,
        level=level,
    )
