"""Instruments: spot, linear and inverse perpetuals, dated futures and European options (Black-76).

Every instrument values **one unit** (one coin, one contract) in the reporting currency of the
:class:`~research.portfolio.Market` (e.g. USD) and revalues fully under scenario spot prices:
``pnl(market, new_spot, vol_shift)`` is the change in value of one long unit when the spot of its
underlying moves from ``market.spot_of(underlying)`` to ``new_spot`` and (options only) the
implied volatility moves by the absolute amount ``vol_shift``, all else (time, rate, carry) fixed.

Greeks are with respect to the spot of the underlying: ``delta`` in units of the underlying
(``dV/dS``), ``gamma = d2V/dS2``, ``vega = dV/dvol`` per 1.00 of volatility, ``theta = dV/dt``
per year of calendar time at fixed spot (negative for a long option without carry).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from research._typing import DateLike, Float64Array
from research.errors import DataError, ExpiredInstrumentError, SpecificationError
from research.portfolio import _black76
from research.portfolio.market import Market

__all__ = [
    "Instrument",
    "Spot",
    "LinearPerpetual",
    "InversePerpetual",
    "DatedFuture",
    "EuropeanOption",
    "Greeks",
]


@dataclass(frozen=True)
class Greeks:
    """Exposure of one long unit of an instrument.

    Attributes
    ----------
    notional : float
        Contract notional in the reporting currency (unsigned for one long unit).
    delta : float
        ``dV/dS`` in units of the underlying.
    gamma : float
        ``d2V/dS2``.
    vega : float
        ``dV/dvol`` per 1.00 (100 volatility points).
    theta : float
        ``dV/dt`` per year of calendar time, spot fixed.
    """

    notional: float
    delta: float
    gamma: float = 0.0
    vega: float = 0.0
    theta: float = 0.0


@runtime_checkable
class Instrument(Protocol):
    """What a portfolio needs from an instrument: its underlying, a label, P&L and Greeks."""

    underlying: str

    @property
    def label(self) -> str:
        """Human-readable identifier, unique within a book."""
        ...

    def pnl(
        self, market: Market, spot: Float64Array, vol_shift: Float64Array | float = 0.0
    ) -> Float64Array:
        """P&L of one long unit when the underlying moves to ``spot`` (vectorised)."""
        ...

    def greeks(self, market: Market) -> Greeks:
        """Notional and Greeks of one long unit."""
        ...


def _check_underlying(underlying: str) -> None:
    if not isinstance(underlying, str) or not underlying:
        raise SpecificationError(f"underlying must be a non-empty string, got {underlying!r}")


def _check_positive(value: float, what: str, label: str) -> None:
    if not (
        isinstance(value, int | float | np.floating | np.integer)
        and math.isfinite(value)
        and value > 0
    ):
        raise SpecificationError(f"{what} of {label} is {value!r}; it must be finite and > 0")


def _time_to_expiry(market: Market, expiry: float | DateLike, label: str) -> float:
    t = market.time_to(expiry)
    if not t > 0:
        raise ExpiredInstrumentError(
            f"{label} expires at {expiry} which is not after the valuation date "
            f"{market.valuation_date.date()} (T = {t:.6f} years); remove it or roll it"
        )
    return t


def _expiry_text(expiry: float | DateLike) -> str:
    if isinstance(expiry, int | float | np.floating | np.integer):
        return f"T={float(expiry):g}y"
    return str(pd.Timestamp(expiry).date())


@dataclass(frozen=True)
class Spot:
    """One unit of the underlying asset itself (e.g. 1 BTC), valued at the spot price.

    Parameters
    ----------
    underlying : str
        Underlying identifier as in :class:`~research.portfolio.Market`.
    name : str, optional
        Label; defaults to ``"<underlying> spot"``.
    """

    underlying: str
    name: str | None = None

    def __post_init__(self) -> None:
        _check_underlying(self.underlying)

    @property
    def label(self) -> str:
        """The name, or ``"<underlying> spot"``."""
        return self.name or f"{self.underlying} spot"

    def pnl(
        self, market: Market, spot: Float64Array, vol_shift: Float64Array | float = 0.0
    ) -> Float64Array:
        """``S' - S``."""
        return np.asarray(spot, dtype=float) - market.spot_of(self.underlying)

    def greeks(self, market: Market) -> Greeks:
        """Notional ``S``, delta 1."""
        return Greeks(notional=market.spot_of(self.underlying), delta=1.0)


@dataclass(frozen=True)
class LinearPerpetual:
    """USD-margined (linear) perpetual swap marked to the spot index.

    Parameters
    ----------
    underlying : str
        Underlying identifier.
    contract_size : float
        Units of the underlying per contract (> 0).
    name : str, optional
        Label; defaults to ``"<underlying> linear perp"``.

    Notes
    -----
    P&L of one long contract: ``contract_size * (S' - S - S f)`` with ``f`` the funding a
    long pays over the scenario's horizon as a fraction of notional
    (:meth:`Market.funding_of`, from :func:`accrued_funding`; zero when the market gives
    none).
    """

    underlying: str
    contract_size: float = 1.0
    name: str | None = None

    def __post_init__(self) -> None:
        _check_underlying(self.underlying)
        _check_positive(self.contract_size, "contract_size", self.label)

    @property
    def label(self) -> str:
        """The name, or ``"<underlying> linear perp"``."""
        return self.name or f"{self.underlying} linear perp"

    def pnl(
        self, market: Market, spot: Float64Array, vol_shift: Float64Array | float = 0.0
    ) -> Float64Array:
        """``contract_size * (S' - S - S f)``, ``f`` the funding a long pays over the horizon."""
        start = market.spot_of(self.underlying)
        paid = start * market.funding_of(self.underlying)
        return self.contract_size * (np.asarray(spot, dtype=float) - start - paid)

    def greeks(self, market: Market) -> Greeks:
        """Notional ``contract_size * S``, delta ``contract_size``."""
        return Greeks(
            notional=self.contract_size * market.spot_of(self.underlying), delta=self.contract_size
        )


@dataclass(frozen=True)
class InversePerpetual:
    r"""Coin-margined (inverse) perpetual: fixed USD contract value, P&L settled in the coin.

    Parameters
    ----------
    underlying : str
        Underlying coin (e.g. ``"BTC"``), quoted in the reporting currency.
    contract_value : float
        USD value of one contract (> 0), e.g. 100.
    name : str, optional
        Label; defaults to ``"<underlying> inverse perp"``.

    Notes
    -----
    A long of ``N = contract_value`` USD opened at ``S`` and marked at ``S'`` earns, in coin,

    .. math:: \mathrm{PnL}_{coin} = N \left(\frac{1}{S} - \frac{1}{S'}\right),

    which is concave in ``S'`` (a long loses without bound in coin as ``S' -> 0``; a short's coin
    gain is unbounded). :meth:`pnl` converts the coin P&L to the reporting currency at the
    scenario price, ``PnL_coin * S' = N (S'/S - 1)``, less the funding a long pays over the
    horizon, ``N f`` (:meth:`Market.funding_of`; zero when the market gives none): in USD the
    contract is linear with delta ``N / S`` coins. The non-linearity of a coin-margined account
    therefore sits in its coin collateral, whose USD value moves with ``S'``; value the
    collateral along the same scenario when simulating accounts. The notional is ``N`` USD
    whatever the price.
    """

    underlying: str
    contract_value: float = 100.0
    name: str | None = None

    def __post_init__(self) -> None:
        _check_underlying(self.underlying)
        _check_positive(self.contract_value, "contract_value", self.label)

    @property
    def label(self) -> str:
        """The name, or ``"<underlying> inverse perp"``."""
        return self.name or f"{self.underlying} inverse perp"

    def pnl_coin(self, market: Market, spot: Float64Array) -> Float64Array:
        """P&L of one long contract in the coin: ``N (1/S - 1/S')``."""
        spot = np.asarray(spot, dtype=float)
        return self.contract_value * (1.0 / market.spot_of(self.underlying) - 1.0 / spot)

    def pnl(
        self, market: Market, spot: Float64Array, vol_shift: Float64Array | float = 0.0
    ) -> Float64Array:
        """Coin P&L at the scenario price less funding: ``N (S'/S - 1) - N f``."""
        spot = np.asarray(spot, dtype=float)
        paid = self.contract_value * market.funding_of(self.underlying)
        return self.pnl_coin(market, spot) * spot - paid

    def greeks(self, market: Market) -> Greeks:
        """Notional ``N`` USD, delta ``N / S`` coins."""
        return Greeks(
            notional=self.contract_value,
            delta=self.contract_value / market.spot_of(self.underlying),
        )


@dataclass(frozen=True)
class DatedFuture:
    """Linear future on the forward price of an underlying, expiring at ``expiry``.

    Parameters
    ----------
    underlying : str
        Underlying identifier.
    expiry : float or date-like
        Year fraction from the valuation date, or an expiry date (ACT/365 from the valuation date).
    contract_size : float
        Units of the underlying per contract (> 0).
    name : str, optional
        Label; defaults to ``"<underlying> future <expiry>"``.

    Notes
    -----
    The futures price is the forward ``F = S exp(b T)`` with the market's carry ``b``; one long
    contract earns ``contract_size (F' - F) = contract_size (S' - S) exp(b T)``.
    """

    underlying: str
    expiry: float | DateLike
    contract_size: float = 1.0
    name: str | None = None

    def __post_init__(self) -> None:
        _check_underlying(self.underlying)
        _check_positive(self.contract_size, "contract_size", self.label)

    @property
    def label(self) -> str:
        """The name, or ``"<underlying> future <expiry>"``."""
        return self.name or f"{self.underlying} future {_expiry_text(self.expiry)}"

    def _growth(self, market: Market) -> float:
        t = _time_to_expiry(market, self.expiry, self.label)
        return float(np.exp(market.carry_of(self.underlying) * t))

    def pnl(
        self, market: Market, spot: Float64Array, vol_shift: Float64Array | float = 0.0
    ) -> Float64Array:
        """``contract_size (S' - S) exp(b T)``."""
        growth = self._growth(market)
        return (
            self.contract_size
            * growth
            * (np.asarray(spot, dtype=float) - market.spot_of(self.underlying))
        )

    def greeks(self, market: Market) -> Greeks:
        """Notional ``contract_size F``, delta ``contract_size exp(bT)``, theta ``-b F``."""
        growth = self._growth(market)
        spot = market.spot_of(self.underlying)
        return Greeks(
            notional=self.contract_size * spot * growth,
            delta=self.contract_size * growth,
            theta=-self.contract_size * market.carry_of(self.underlying) * spot * growth,
        )


@dataclass(frozen=True)
class EuropeanOption:
    r"""European call or put on the forward of an underlying, priced with Black (1976).

    Parameters
    ----------
    underlying : str
        Underlying identifier.
    strike : float
        Strike price (> 0).
    expiry : float or date-like
        Year fraction from the valuation date, or an expiry date (ACT/365).
    kind : {"call", "put"}
        Option type.
    contract_size : float
        Units of the underlying per contract (> 0).
    implied_vol : float, optional
        Annualised implied volatility (decimal). Defaults to the market volatility of the
        underlying.
    name : str, optional
        Label; defaults to ``"<underlying> <kind> K=<strike> <expiry>"``.

    Notes
    -----
    With forward ``F = S exp(bT)``, discount rate ``r`` and volatility ``sigma``:

    .. math::

        V = e^{-rT}\,[F N(d_1) - K N(d_2)] \;\text{(call)},\quad
        V = e^{-rT}\,[K N(-d_2) - F N(-d_1)] \;\text{(put)},\quad
        d_{1,2} = \frac{\ln(F/K) \pm \sigma^2 T/2}{\sigma\sqrt{T}}.

    Put-call parity: ``C - P = exp(-rT) (F - K)``.
    Scenario volatility shifts are absolute (``sigma + shift``); a shifted volatility below zero
    raises :class:`~research.errors.DataError`.

    References
    ----------
    Black, F. (1976). The pricing of commodity contracts. *Journal of Financial
    Economics*, 3, 167-179.
    """

    underlying: str
    strike: float
    expiry: float | DateLike
    kind: Literal["call", "put"] = "call"
    contract_size: float = 1.0
    implied_vol: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _check_underlying(self.underlying)
        if self.kind not in ("call", "put"):
            raise SpecificationError(f"option kind must be 'call' or 'put', got {self.kind!r}")
        _check_positive(self.strike, "strike", self.label)
        _check_positive(self.contract_size, "contract_size", self.label)
        if self.implied_vol is not None and not (
            math.isfinite(self.implied_vol) and self.implied_vol >= 0
        ):
            raise DataError(
                f"implied_vol of {self.label} is {self.implied_vol}; it must be a "
                "finite annualised decimal >= 0"
            )

    @property
    def label(self) -> str:
        """The name, or ``"<underlying> <kind> K=<strike> <expiry>"``."""
        return self.name or (
            f"{self.underlying} {self.kind} K={self.strike:g} {_expiry_text(self.expiry)}"
        )

    def _inputs(self, market: Market) -> tuple[float, float, float, float]:
        t = _time_to_expiry(market, self.expiry, self.label)
        vol = (
            self.implied_vol
            if self.implied_vol is not None
            else market.volatility_of(self.underlying)
        )
        growth = float(np.exp(market.carry_of(self.underlying) * t))
        return t, vol, growth, market.spot_of(self.underlying)

    def value(
        self,
        market: Market,
        spot: Float64Array | float | None = None,
        vol_shift: Float64Array | float = 0.0,
    ) -> Float64Array:
        """Premium of one contract at ``spot`` (default: the market spot) and shifted volatility.

        Raises
        ------
        DataError
            If ``vol + vol_shift`` is negative.
        ExpiredInstrumentError
            If the option has expired at the valuation date.
        """
        t, vol, growth, s0 = self._inputs(market)
        spot = s0 if spot is None else np.asarray(spot, dtype=float)
        shifted = vol + np.asarray(vol_shift, dtype=float)
        if np.any(shifted < 0):
            raise DataError(
                f"a volatility shift takes {self.label} to a negative volatility "
                f"(min {np.min(shifted):.4f}); shrink the downward volatility shift"
            )
        return self.contract_size * _black76.price(
            spot * growth, self.strike, t, shifted, market.rate, self.kind == "call"
        )

    def pnl(
        self, market: Market, spot: Float64Array, vol_shift: Float64Array | float = 0.0
    ) -> Float64Array:
        """Full revaluation ``V(S', sigma + shift) - V(S, sigma)``."""
        return self.value(market, spot, vol_shift) - self.value(market)

    def greeks(self, market: Market) -> Greeks:
        """Notional ``contract_size F`` and spot Greeks from the Black-76 forward Greeks."""
        t, vol, growth, s0 = self._inputs(market)
        fwd = s0 * growth
        r, b = market.rate, market.carry_of(self.underlying)
        is_call = self.kind == "call"
        delta_f, gamma_f, vega, dv_dt = (
            float(g) for g in _black76.greeks(fwd, self.strike, t, vol, r, is_call)
        )
        cs = self.contract_size
        return Greeks(
            notional=cs * fwd,
            delta=cs * delta_f * growth,
            gamma=cs * gamma_f * growth * growth,
            vega=cs * vega,
            # calendar time shortens T at fixed spot; the forward drifts by -b F per year
            theta=-cs * (dv_dt + delta_f * b * fwd),
        )
