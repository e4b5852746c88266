"""Expected-shortfall backtests: Acerbi-Szekely Z2 and McNeil-Frey exceedance residuals.

Losses are positive numbers (a loss of 3 is a move of -3 on a long position);
``var`` and ``es`` are the model's margin forecasts for the same days, also
positive. Both tests are one-sided: they reject when ES is *underestimated*.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from research._random import as_generator
from research._typing import ArrayLike1D, Float64Array1D, Seed
from research.backtest.coverage import SIZES, CoverageTest, check_level
from research.errors import DataError, InsufficientDataError, SpecificationError

__all__ = ["acerbi_szekely", "mcneil_frey"]

MIN_SIMULATIONS = 99
"""Fewer simulated statistics than this cannot resolve a p-value below 1%."""


def _as_float_array(values: ArrayLike1D, name: str) -> tuple[Float64Array1D, pd.Index | None]:
    index = values.index if isinstance(values, pd.Series) else None
    array = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {array.shape}")
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be numeric: {exc}") from exc
    bad = ~np.isfinite(array)
    if bad.any():
        where = index[int(np.argmax(bad))] if index is not None else int(np.argmax(bad))
        raise DataError(
            f"{name} has {int(bad.sum())} missing or infinite value(s), the first at {where}; "
            "drop the days without a forecast before testing"
        )
    return array, index


def _broadcast(values: ArrayLike1D, name: str, n_days: int) -> Float64Array1D:
    """Return a forecast given as a scalar or per day as an array of length ``n_days``."""
    array = _as_float_array(values, name)[0]
    if array.size not in (1, n_days):
        raise DataError(
            f"{name} has {array.size} values for {n_days} losses; give one per day or a scalar"
        )
    return np.ascontiguousarray(np.broadcast_to(array, (n_days,)))


def _align(
    losses: ArrayLike1D, var: ArrayLike1D, es: ArrayLike1D
) -> tuple[Float64Array1D, Float64Array1D, Float64Array1D]:
    if all(isinstance(x, pd.Series) for x in (losses, var, es)):
        if not (losses.index.equals(var.index) and losses.index.equals(es.index)):
            raise DataError(
                "losses, var and es have different indexes; align them on the same dates first"
            )
    loss = _as_float_array(losses, "losses")[0]
    if loss.size == 0:
        raise InsufficientDataError("losses is empty; an ES backtest needs at least one day")
    var_arr = _broadcast(var, "var", loss.size)
    es_arr = _broadcast(es, "es", loss.size)
    if (var_arr <= 0).any() or (es_arr <= 0).any():
        raise DataError("var and es must be positive loss thresholds")
    if (es_arr < var_arr).any():
        first = int(np.argmax(es_arr < var_arr))
        raise DataError(
            f"es is below var on day {first}; expected shortfall must be at least the VaR "
            "at the same level"
        )
    return np.ascontiguousarray(loss), np.ascontiguousarray(var_arr), np.ascontiguousarray(es_arr)


def _standard_distribution(distribution: str | stats.rv_continuous) -> object:
    if isinstance(distribution, str):
        if distribution != "normal":
            raise SpecificationError(
                f"distribution must be 'normal' or a frozen scipy.stats distribution, "
                f"got {distribution!r}"
            )
        return stats.norm()
    if not all(hasattr(distribution, attr) for attr in ("ppf", "rvs")):
        raise SpecificationError(
            "distribution must be 'normal' or a frozen scipy.stats distribution with ppf and rvs"
        )
    return distribution


def _z2(loss: np.ndarray, var: np.ndarray, es: np.ndarray, alpha: float) -> np.ndarray:
    """Z2 along the last axis; ``loss`` may carry leading simulation axes."""
    exceed = loss > var
    n_days = loss.shape[-1]
    return 1.0 - np.sum(np.where(exceed, loss / es, 0.0), axis=-1) / (n_days * alpha)


def acerbi_szekely(
    losses: ArrayLike1D,
    var: ArrayLike1D,
    es: ArrayLike1D,
    level: float = 0.975,
    distribution: str | stats.rv_continuous = "normal",
    n_simulations: int = 10_000,
    seed: Seed = None,
    size: float = 0.05,
) -> CoverageTest:
    r"""Acerbi-Szekely (2014) Z2 test of expected shortfall with simulated critical values.

    Parameters
    ----------
    losses : Series or array, shape (n_days,)
        Realized losses (positive = loss).
    var, es : Series, array or scalar
        The model's VaR and ES forecasts at ``level`` for the same days (positive).
    level : float, default 0.975
        Confidence level of VaR and ES.
    distribution : "normal" or frozen scipy.stats distribution
        The model's standardized loss distribution :math:`F`: under the null
        :math:`L_t = s_t Z_t` with :math:`Z_t \sim F` iid and scale
        :math:`s_t = \text{VaR}_t / F^{-1}(\text{level})`.
    n_simulations : int, default 10000
        Number of samples of :math:`L` simulated under the null.
    seed : int, numpy.random.Generator or None
        Seed of the simulation.
    size : float, default 0.05
        Test size for the recorded decision.

    Returns
    -------
    CoverageTest
        ``statistic`` is :math:`Z_2` (0 in expectation under the null, negative
        when ES is underestimated), ``pvalue`` the simulated left-tail p-value.

    Raises
    ------
    DataError
        Misaligned, non-finite or non-positive inputs, or ES below VaR.
    InsufficientDataError
        No losses.
    SpecificationError
        Bad ``level``, ``size``, ``distribution`` or ``n_simulations``.

    Notes
    -----
    With :math:`\alpha = 1 - \text{level}` and :math:`I_t = 1\{L_t > \text{VaR}_t\}`,

    .. math::

        Z_2 = 1 - \frac{1}{T\alpha} \sum_{t=1}^{T} \frac{L_t I_t}{\text{ES}_t}.

    The p-value is :math:`(1 + \#\{Z_2^* \le Z_2\}) / (M + 1)` over :math:`M`
    statistics :math:`Z_2^*` computed on losses simulated from the model.

    References
    ----------
    Acerbi, C. and Szekely, B. (2014). Backtesting expected shortfall. *Risk*, 27(11).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> from research.backtest import acerbi_szekely
    >>> losses = np.random.default_rng(0).standard_normal(250)
    >>> var, es = stats.norm.ppf(0.975), stats.norm.pdf(stats.norm.ppf(0.975)) / 0.025
    >>> acerbi_szekely(losses, var, es, seed=0).reject()
    False
    """
    level = check_level(level)
    size = check_level(size, "size")
    if int(n_simulations) != n_simulations or n_simulations < MIN_SIMULATIONS:
        raise SpecificationError(
            f"n_simulations must be an integer of at least {MIN_SIMULATIONS}, got {n_simulations}"
        )
    dist = _standard_distribution(distribution)
    loss, var_arr, es_arr = _align(losses, var, es)
    alpha = 1.0 - level
    statistic = float(_z2(loss, var_arr, es_arr, alpha))
    quantile = float(dist.ppf(level))
    if not quantile > 0.0:
        raise SpecificationError(
            f"the {level:g}-quantile of the standardized distribution is {quantile:g}; it must be "
            "positive (a loss) to scale the simulated losses from VaR"
        )
    scale = var_arr / quantile
    rng = as_generator(seed)
    n_days = loss.size
    simulated = np.empty(int(n_simulations))
    chunk = max(1, 2_000_000 // n_days)
    for start in range(0, simulated.size, chunk):
        stop = min(start + chunk, simulated.size)
        draws = np.asarray(dist.rvs(size=(stop - start, n_days), random_state=rng)) * scale
        simulated[start:stop] = _z2(draws, var_arr, es_arr, alpha)
    pvalue = (1.0 + np.count_nonzero(simulated <= statistic)) / (simulated.size + 1.0)
    return CoverageTest(
        name="Acerbi-Szekely Z2",
        statistic=statistic,
        pvalue=float(pvalue),
        df=None,
        null=f"ES at level {level:g} is correctly specified (E[Z2] = 0)",
        alternative="ES is underestimated (Z2 < 0)",
        exceptions=int(np.count_nonzero(loss > var_arr)),
        observations=int(n_days),
        level=level,
        size=size,
        distribution=f"simulated ({simulated.size} draws)",
        critical_values={f"{a:.0%}": float(np.quantile(simulated, a)) for a in SIZES},
    )


def mcneil_frey(
    losses: ArrayLike1D,
    var: ArrayLike1D,
    es: ArrayLike1D,
    level: float = 0.975,
    scale: ArrayLike1D | None = None,
    n_bootstrap: int = 9_999,
    seed: Seed = None,
    size: float = 0.05,
    alternative: Literal["greater", "two-sided"] = "greater",
) -> CoverageTest:
    r"""McNeil-Frey (2000) exceedance-residual test of expected shortfall, bootstrap p-value.

    Parameters
    ----------
    losses : Series or array, shape (n_days,)
        Realized losses (positive = loss).
    var, es : Series, array or scalar
        The model's VaR and ES forecasts at ``level`` for the same days (positive).
    level : float, default 0.975
        Confidence level of VaR and ES.
    scale : Series, array or scalar, optional
        Conditional volatility :math:`\sigma_t` used to standardize the residuals
        (McNeil-Frey); ``None`` tests the raw residuals :math:`L_t - \text{ES}_t`.
    n_bootstrap : int, default 9999
        Bootstrap resamples of the centred residuals.
    seed : int, numpy.random.Generator or None
        Seed of the bootstrap.
    size : float, default 0.05
        Test size for the recorded decision.
    alternative : {"greater", "two-sided"}, default "greater"
        "greater" rejects when ES is underestimated (residual mean above 0).

    Returns
    -------
    CoverageTest
        ``statistic`` is the t-statistic of the mean exceedance residual.

    Raises
    ------
    DataError
        Misaligned, non-finite or non-positive inputs, or ES below VaR.
    InsufficientDataError
        Fewer than two exceedances: the residual mean has no standard error.
    SpecificationError
        Bad ``level``, ``size``, ``alternative`` or ``n_bootstrap``.

    Notes
    -----
    On exceedance days :math:`r_t = (L_t - \text{ES}_t)/\sigma_t` has mean zero
    under the null. With :math:`t = \bar r / (s_r/\sqrt{n})`, the bootstrap
    resamples :math:`r_t - \bar r` (the null imposed) and the p-value is
    :math:`(1 + \#\{t^* \ge t\})/(B + 1)` (Efron and Tibshirani, 1993, §16.4).

    References
    ----------
    McNeil, A. J. and Frey, R. (2000). Estimation of tail-related risk measures
    for heteroscedastic financial time series: an extreme value approach.
    *Journal of Empirical Finance*, 7(3-4), 271-300.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> from research.backtest import mcneil_frey
    >>> losses = np.random.default_rng(1).standard_normal(1000)
    >>> var, es = stats.norm.ppf(0.975), stats.norm.pdf(stats.norm.ppf(0.975)) / 0.025
    >>> mcneil_frey(losses, var, es, seed=0).reject()
    False
    """
    level = check_level(level)
    size = check_level(size, "size")
    if alternative not in ("greater", "two-sided"):
        raise SpecificationError(
            f"alternative must be 'greater' or 'two-sided', got {alternative!r}"
        )
    if int(n_bootstrap) != n_bootstrap or n_bootstrap < MIN_SIMULATIONS:
        raise SpecificationError(
            f"n_bootstrap must be an integer of at least {MIN_SIMULATIONS}, got {n_bootstrap}"
        )
    loss, var_arr, es_arr = _align(losses, var, es)
    if scale is None:
        sigma = np.ones_like(loss)
    else:
        sigma = _broadcast(scale, "scale", loss.size)
        if (sigma <= 0).any():
            raise DataError("scale must be positive (a conditional volatility)")
    exceed = loss > var_arr
    n_exc = int(exceed.sum())
    if n_exc < 2:
        raise InsufficientDataError(
            f"mcneil_frey needs at least two exceedances of VaR, got {n_exc} in {loss.size} days; "
            "use a longer test period"
        )
    residuals = (loss[exceed] - es_arr[exceed]) / sigma[exceed]
    mean, sd = residuals.mean(), residuals.std(ddof=1)
    if sd == 0.0:
        raise InsufficientDataError(
            "all exceedance residuals are equal; their mean has no standard error"
        )
    statistic = float(mean / (sd / np.sqrt(n_exc)))
    rng = as_generator(seed)
    centred = residuals - mean
    draws = centred[rng.integers(0, n_exc, size=(int(n_bootstrap), n_exc))]
    boot_sd = draws.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        boot_t = draws.mean(axis=1) / (boot_sd / np.sqrt(n_exc))
    boot_t = np.where(boot_sd > 0, boot_t, 0.0)
    if alternative == "greater":
        critical = {f"{a:.0%}": float(np.quantile(boot_t, 1.0 - a)) for a in SIZES}
        extreme = np.count_nonzero(boot_t >= statistic)
        alt_text = "ES is underestimated (mean residual > 0)"
    else:
        critical = {f"{a:.0%}": float(np.quantile(np.abs(boot_t), 1.0 - a)) for a in SIZES}
        extreme = np.count_nonzero(np.abs(boot_t) >= abs(statistic))
        alt_text = "ES is misspecified (mean residual != 0)"
    pvalue = (1.0 + extreme) / (n_bootstrap + 1.0)
    return CoverageTest(
        name="McNeil-Frey exceedance residuals",
        statistic=statistic,
        pvalue=float(pvalue),
        df=None,
        null="exceedance residuals have mean zero",
        alternative=alt_text,
        exceptions=n_exc,
        observations=int(loss.size),
        level=level,
        size=size,
        distribution=f"bootstrap ({int(n_bootstrap)} resamples)",
        critical_values=critical,
    )
