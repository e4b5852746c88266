r"""Units of returns: the package's one convention, its converters and a units guard.

**Convention.** Returns are **log returns in percent** (:func:`research.data.to_returns`,
``scale=100``): the scale ``arch`` models work best in, and what every stage takes by
default. A function that accepts other units says so with a ``units`` argument typed
:data:`ReturnUnits` (``"percent"`` or ``"decimal"``), never with a bare multiplier.
Prices, margins and notionals are money; risk weights and losses per unit of notional are
fractions (decimals). Every change of units goes through this module:

* :func:`to_decimal` and :func:`to_percent` rescale returns (``x / 100`` and ``x * 100``
  between percent and decimal; the identity within one unit);
* :func:`position_losses` turns log moves into the loss per unit of notional of a linear
  position, :math:`1 - e^{m}` for a long and :math:`e^{m} - 1` for a short, :math:`m` the
  move as a decimal (a 10% log fall, ``-10`` in percent, costs a long
  :math:`1 - e^{-0.1} = 0.0952` of its notional).

**Guard.** A frame of prices, or of decimal returns, passed where percent returns are
expected runs without any error through GARCH, DCC, calibration and the backtest and gives
answers that are wrong by orders of magnitude, so the entry points check it
(:func:`check_return_units`).
"""

from __future__ import annotations

from typing import Literal, TypeVar, get_args

import numpy as np
import pandas as pd

from research.errors import DataError, SpecificationError

__all__ = [
    "DECIMAL_MAX_DAILY_STD",
    "LEVEL_RATIO",
    "MIN_ROWS_FOR_UNITS",
    "PERCENT_MIN_DAILY_STD",
    "RETURN_UNITS",
    "ReturnUnits",
    "check_return_units",
    "position_losses",
    "to_decimal",
    "to_percent",
    "units_of_scale",
    "units_per_fraction",
    "validate_units",
]

ReturnUnits = Literal["percent", "decimal"]
"""Units of returns: ``"percent"`` (100 per unit of relative change) or ``"decimal"`` (1)."""
RETURN_UNITS: tuple[str, ...] = get_args(ReturnUnits)

_PER_FRACTION = {"percent": 100.0, "decimal": 1.0}

Values = TypeVar("Values", float, np.ndarray, pd.Series, pd.DataFrame)

MIN_ROWS_FOR_UNITS = 20
"""Fewest valid values of an asset before it is judged (20 positive returns in a row
have probability 1e-6 for a symmetric return distribution)."""

PERCENT_MIN_DAILY_STD = 0.1
"""Percent returns whose daily-equivalent standard deviation is below this for *every*
asset are taken to be decimals. Measured: the lowest 100-day rolling daily std of any
asset is 0.36 in sp500-nasdaq and 0.46 in sp500, the lowest full-sample one 1.20; the
hourly crypto file gives 0.17 per hour over 100 hours, 0.82 per day. Decimal returns of
the daily crypto file have std 0.030 (BTC) to 0.071 (DOGE)."""

DECIMAL_MAX_DAILY_STD = 0.5
"""Decimal returns whose daily-equivalent standard deviation is above this (50 % a day)
for *every* asset are taken to be percent (the sp500 assets in percent have 1.2 to 3.9)."""

LEVEL_RATIO = 3.0
"""An asset whose mean is more than this many standard deviations away from zero holds
levels, not returns (returns have ``|mean| / std`` below 0.04 in every bundled and
shared file)."""


def validate_units(units: object) -> ReturnUnits:
    """Return ``units`` if it is one of :data:`ReturnUnits`, else raise.

    Parameters
    ----------
    units : object
        The units to check.

    Returns
    -------
    {"percent", "decimal"}

    Raises
    ------
    SpecificationError
        For anything else, including a multiplier such as 100 or 1 (the message gives the
        name to use instead).
    """
    if isinstance(units, str) and units in RETURN_UNITS:
        return units  # type: ignore[return-value]
    hint = ""
    if isinstance(units, int | float) and not isinstance(units, bool):
        named = units_of_scale(float(units))
        if named is not None:
            hint = f" (a multiplier of {units:g} is units={named!r})"
    raise SpecificationError(f"units must be 'percent' or 'decimal', got {units!r}{hint}")


def units_per_fraction(units: ReturnUnits) -> float:
    """Return how many units of returns make one unit of relative change (100 or 1).

    Parameters
    ----------
    units : {"percent", "decimal"}
        Units of returns.

    Returns
    -------
    float
        100.0 for ``"percent"``, 1.0 for ``"decimal"``.

    Raises
    ------
    SpecificationError
        For unknown units.
    """
    return _PER_FRACTION[validate_units(units)]


def to_decimal(values: Values, units: ReturnUnits) -> Values:
    """Express returns given in ``units`` as decimals (fractions).

    Parameters
    ----------
    values : float, ndarray, pandas.Series or pandas.DataFrame
        Returns (or volatilities, moves) in ``units``.
    units : {"percent", "decimal"}
        Their units.

    Returns
    -------
    Same type as ``values``
        ``values / 100`` for percent, ``values / 1`` (the same numbers) for decimals.

    Raises
    ------
    SpecificationError
        For unknown units.

    Examples
    --------
    >>> to_decimal(10.0, "percent")
    0.1
    """
    return values / units_per_fraction(units)


def to_percent(values: Values, units: ReturnUnits) -> Values:
    """Express returns given in ``units`` in percent.

    Parameters
    ----------
    values : float, ndarray, pandas.Series or pandas.DataFrame
        Returns (or ratios) in ``units``.
    units : {"percent", "decimal"}
        Their units.

    Returns
    -------
    Same type as ``values``
        ``values * 100`` for decimals, ``values * 1`` (the same numbers) for percent.

    Raises
    ------
    SpecificationError
        For unknown units.

    Examples
    --------
    >>> to_percent(0.1, "decimal")
    10.0
    """
    return values * (_PER_FRACTION["percent"] / units_per_fraction(units))


def position_losses(
    moves: np.ndarray | float,
    side: Literal["long", "short"],
    units: ReturnUnits = "percent",
) -> np.ndarray:
    r"""Loss per unit of notional of a linear position when the price moves by log returns.

    Parameters
    ----------
    moves : array_like
        Log price moves (for example ``mpor``-day sums of daily log returns) in ``units``.
    side : {"long", "short"}
        The position.
    units : {"percent", "decimal"}, default "percent"
        Units of ``moves``.

    Returns
    -------
    ndarray
        :math:`1 - e^{m}` for a long and :math:`e^{m} - 1` for a short, with :math:`m` the
        move as a decimal (:func:`to_decimal`); positive values are losses, and a long never
        loses more than its notional.

    Raises
    ------
    SpecificationError
        A side other than ``"long"`` or ``"short"``, or unknown units.

    Examples
    --------
    >>> import numpy as np
    >>> position_losses(np.array([-10.0, 10.0]), "short").round(6).tolist()
    [-0.095163, 0.105171]
    """
    if side not in ("long", "short"):
        raise SpecificationError(f"side must be 'long' or 'short', got {side!r}")
    gains = np.expm1(to_decimal(np.asarray(moves, dtype=np.float64), units))
    return -gains if side == "long" else gains


def units_of_scale(scale: float) -> ReturnUnits | None:
    """Return the units of returns with a multiplier (100: percent, 1: decimal, else None).

    Parameters
    ----------
    scale : float
        Returns per unit of relative price change.

    Returns
    -------
    {"percent", "decimal"} or None
    """
    if scale == 100.0:
        return "percent"
    if scale == 1.0:
        return "decimal"
    return None


def check_return_units(
    returns: pd.DataFrame | pd.Series,
    units: ReturnUnits | None = "percent",
    *,
    what: str = "returns",
) -> None:
    """Refuse obvious prices-as-returns and returns in the wrong scale.

    Rules (each on the assets with at least :data:`MIN_ROWS_FOR_UNITS` finite values;
    shorter samples are not judged):

    * **prices, not returns**: an asset with no value at or below zero, or whose mean is
      more than :data:`LEVEL_RATIO` standard deviations from zero;
    * **decimals where percent is expected** (``units="percent"``): every asset's
      daily-equivalent standard deviation is below :data:`PERCENT_MIN_DAILY_STD` (0.1);
    * **percent where decimals are expected** (``units="decimal"``): every asset's
      daily-equivalent standard deviation is above :data:`DECIMAL_MAX_DAILY_STD` (0.5).

    Constant assets (zero standard deviation) say nothing about the scale and are left
    to the caller's own checks. The daily-equivalent standard deviation scales each
    asset's standard deviation by ``sqrt(1 day / median spacing)``, so hourly or weekly
    returns are judged like daily ones (other indexes than a DatetimeIndex count as
    daily).

    Parameters
    ----------
    returns : pandas.DataFrame or pandas.Series
        Returns, one column per asset (NaN allowed; sorted index, see
        :func:`research.data.check_time_index`).
    units : {"percent", "decimal"} or None
        The units the caller expects. ``None`` skips every rule (for data the user
        knows to be right, e.g. a stablecoin or a money-market fund in percent).
    what : str
        What the data are, for messages.

    Raises
    ------
    DataError
        When a rule fires; the message names the asset and the statistic, and says how
        to convert or how to skip the check.
    SpecificationError
        For an unknown ``units``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> idx = pd.bdate_range("2024-01-01", periods=250)
    >>> r = pd.DataFrame({"A": np.random.default_rng(0).normal(0, 0.01, 250)}, index=idx)
    >>> check_return_units(r * 100)  # percent: accepted
    >>> check_return_units(r)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    research.errors.DataError: returns look like decimals, not percent: ...
    """
    if units is None:
        return
    validate_units(units)
    frame = returns.to_frame() if isinstance(returns, pd.Series) else returns
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(values)
    counts = finite.sum(axis=0)
    judged = np.flatnonzero(counts >= MIN_ROWS_FOR_UNITS)
    if len(judged) == 0:
        return
    assets = [frame.columns[j] for j in judged]
    data = np.where(finite, values, np.nan)[:, judged]
    mean = np.nanmean(data, axis=0)
    std = np.nanstd(data, axis=0, ddof=1)
    minimum = np.nanmin(data, axis=0)
    skip = f"; if they really are returns in {units}, pass check_units=False"
    for k, asset in enumerate(assets):
        if minimum[k] > 0 or abs(mean[k]) > LEVEL_RATIO * std[k]:
            reason = (
                f"all {int(counts[judged[k]])} values are positive"
                if minimum[k] > 0
                else f"mean {mean[k]:.4g} is {abs(mean[k]) / std[k]:.0f} standard deviations "
                "from zero"
            )
            raise DataError(
                f"{what} look like prices (levels), not returns: asset {asset!r}: {reason}; "
                f"convert prices with research.data.to_returns(prices){skip}"
            )
    moving = std > 0
    if not moving.any():
        return
    assets = [a for a, keep in zip(assets, moving, strict=True) if keep]
    daily = std[moving] * _daily_factor(frame.index)
    if units == "percent" and bool(np.all(daily < PERCENT_MIN_DAILY_STD)):
        k = int(np.argmax(daily))
        raise DataError(
            f"{what} look like decimals, not percent: every asset's daily standard deviation "
            f"is below {PERCENT_MIN_DAILY_STD} (largest {daily[k]:.3g}, asset {assets[k]!r}); "
            f"multiply by 100 or compute them with research.data.to_returns(prices){skip}"
        )
    if units == "decimal" and bool(np.all(daily > DECIMAL_MAX_DAILY_STD)):
        k = int(np.argmin(daily))
        raise DataError(
            f"{what} look like percent, not decimals: every asset's daily standard deviation "
            f"is above {DECIMAL_MAX_DAILY_STD} (smallest {daily[k]:.3g}, asset {assets[k]!r}); "
            f"divide by 100 or pass percent returns with units/scale 100{skip}"
        )


def _daily_factor(index: pd.Index) -> float:
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return 1.0
    spacing = pd.Series(index[1:] - index[:-1]).median()
    if not spacing > pd.Timedelta(0):
        return 1.0
    return float(np.sqrt(pd.Timedelta(days=1) / spacing))
