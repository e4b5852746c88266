"""Market data for revaluation: spot prices, carry, volatilities, a rate and a valuation date."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from research._typing import DateLike
from research.errors import DataError, UnknownUnderlyingError

__all__ = ["Market", "year_fraction"]

DAYS_PER_YEAR = 365.0
"""Day count of :func:`year_fraction` (ACT/365 fixed)."""


def year_fraction(start: DateLike, end: DateLike) -> float:
    """Year fraction between two dates, ACT/365 fixed.

    Parameters
    ----------
    start, end : date-like
        Anything :class:`pandas.Timestamp` accepts.

    Returns
    -------
    float
        ``(end - start).days / 365`` including fractions of a day; negative if ``end < start``.
    """
    delta = pd.Timestamp(end) - pd.Timestamp(start)
    return delta / pd.Timedelta(days=1) / DAYS_PER_YEAR


def _as_series(values: Mapping[str, float] | pd.Series | None, name: str) -> pd.Series:
    if values is None:
        return pd.Series(dtype=float, name=name)
    series = pd.Series(values, dtype=float, name=name)
    series.index = series.index.astype(object)
    return series


@dataclass(frozen=True)
class Market:
    """Market state used to value instruments.

    Parameters
    ----------
    spot : mapping or pandas.Series
        Spot (index) price per underlying, in the reporting currency (e.g. USD). Must be > 0.
    valuation_date : date-like
        The date at which instruments are valued; expiries given as dates are measured from it.
        It only matters for instruments whose expiry is a date (default 2026-01-01); expiries
        given as year fractions are already measured from the valuation date.
    volatility : mapping or pandas.Series, optional
        Annualised implied volatility per underlying as a decimal (0.6 = 60%), used by options
        that carry no volatility of their own. Must be > 0.
    rate : float
        Continuously compounded risk-free rate used for discounting option premia.
    carry : mapping or pandas.Series, optional
        Annualised continuously compounded cost of carry (basis) per underlying; the forward for
        expiry ``T`` is ``spot * exp(carry * T)``. Missing underlyings have zero carry.
    funding : mapping or pandas.Series, optional
        Perpetual funding per underlying accrued over the scenario's horizon (the MPOR), as a
        fraction of notional paid by a long (negative: longs receive), e.g. from
        :func:`research.portfolio.accrued_funding`. Perpetuals subtract it from a long's P&L;
        missing underlyings accrue no funding (stated in the perpetuals' docstrings).

    Raises
    ------
    DataError
        Non-positive or non-finite spot, negative or non-finite volatility, non-finite
        rate/carry/funding.

    Examples
    --------
    >>> m = Market(spot={"BTC": 60_000.0}, valuation_date="2026-01-02", volatility={"BTC": 0.6})
    >>> m.forward("BTC", 0.5)
    60000.0
    """

    spot: pd.Series
    valuation_date: pd.Timestamp = field(default_factory=lambda: pd.Timestamp("2026-01-01"))
    volatility: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    rate: float = 0.0
    carry: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    funding: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))

    def __post_init__(self) -> None:
        spot = _as_series(self.spot, "spot")
        vol = _as_series(self.volatility, "volatility")
        carry = _as_series(self.carry, "carry")
        funding = _as_series(self.funding, "funding")
        for label, value in funding.items():
            if not math.isfinite(value):
                raise DataError(f"funding of {label!r} is {value}; give a finite fraction")
        for label, value in spot.items():
            if not (math.isfinite(value) and value > 0):
                raise DataError(f"spot price of {label!r} is {value}; it must be finite and > 0")
        for label, value in vol.items():
            if not math.isfinite(value) or value < 0:
                raise DataError(
                    f"volatility of {label!r} is {value}; give an annualised decimal >= 0"
                )
        for label, value in carry.items():
            if not math.isfinite(value):
                raise DataError(f"carry of {label!r} is {value}; give a finite annual rate")
        if not math.isfinite(float(self.rate)):
            raise DataError(f"rate is {self.rate}; give a finite continuously compounded rate")
        object.__setattr__(self, "spot", spot)
        object.__setattr__(self, "volatility", vol)
        object.__setattr__(self, "carry", carry)
        # plain-dict copies for the per-instrument look-ups (a Series look-up costs ~10 us)
        object.__setattr__(self, "_spots", {k: float(v) for k, v in spot.items()})
        object.__setattr__(self, "_vols", {k: float(v) for k, v in vol.items()})
        object.__setattr__(self, "_carries", {k: float(v) for k, v in carry.items()})
        object.__setattr__(self, "funding", funding)
        object.__setattr__(self, "_fundings", {k: float(v) for k, v in funding.items()})
        object.__setattr__(self, "rate", float(self.rate))
        object.__setattr__(self, "valuation_date", pd.Timestamp(self.valuation_date))

    @property
    def underlyings(self) -> tuple[str, ...]:
        """Underlyings with a spot price, in the order given."""
        return tuple(self.spot.index)

    def spot_of(self, underlying: str) -> float:
        """Spot price of one underlying.

        Raises
        ------
        UnknownUnderlyingError
            If the market has no spot price for ``underlying``.
        """
        spot = self._spots.get(underlying)
        if spot is None:
            raise UnknownUnderlyingError(
                f"unknown underlying {underlying!r}: the market has spot prices for "
                f"{list(self.spot.index)}; add it to Market(spot=...)"
            )
        return spot

    def carry_of(self, underlying: str) -> float:
        """Annual cost of carry of one underlying (0 when not given)."""
        return self._carries.get(underlying, 0.0)

    def funding_of(self, underlying: str) -> float:
        """Funding a long pays over the horizon, as a fraction of notional (0 when not given)."""
        return self._fundings.get(underlying, 0.0)

    def volatility_of(self, underlying: str) -> float:
        """Implied volatility of one underlying.

        Raises
        ------
        DataError
            If the market has no volatility for ``underlying``.
        """
        self.spot_of(underlying)
        vol = self._vols.get(underlying)
        if vol is None:
            raise DataError(
                f"no volatility for underlying {underlying!r}; add it to Market(volatility=...) "
                "or give the option its own implied_vol"
            )
        return vol

    def forward(self, underlying: str, expiry: float) -> float:
        """Forward price ``spot * exp(carry * expiry)`` for a year fraction ``expiry``."""
        return self.spot_of(underlying) * float(np.exp(self.carry_of(underlying) * expiry))

    def time_to(self, expiry: float | DateLike) -> float:
        """Year fraction from the valuation date to ``expiry`` (year fractions pass through)."""
        if isinstance(expiry, int | float | np.floating | np.integer):
            return float(expiry)
        return year_fraction(self.valuation_date, expiry)
