r"""Hyperliquid-style cross margin: leverage initial margin, tiered maintenance, liquidation price.

Primary source: the Hyperliquid docs, "Liquidations"
(https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations), "Margining" and "Margin
tiers" (same site, ``trading/margining`` and ``trading/margin-tiers``). The maximum leverages
are a dated parameter set (:class:`~research.margin.venues.VenueParameters`, default
``hyperliquid_2026-12-04``; see its notes for what is and is not in the sources); results are
labelled "Hyperliquid-style".

Formulas (verbatim in the docs up to notation):

.. math::

    \text{IM} &= \frac{|q| P}{\text{leverage}}, \qquad
    \text{rate}_n = \frac{1}{2\, \text{max leverage}_n}, \\
    \text{MM} &= |q| P\, \text{rate}_n - d_n, \qquad
    d_0 = 0,\; d_n = d_{n-1} + B_n (\text{rate}_n - \text{rate}_{n-1}), \\
    P_\text{liq} &= P - s \frac{A}{|q|\,(1 - l s)}, \qquad l = \text{rate}

with tier ``n`` the highest whose notional lower bound ``B_n`` the position reaches, ``s = +1``
long / ``-1`` short and ``A`` the margin available (account value less maintenance margin in
cross margin). "The maintenance margin is currently set to half of the initial margin at max
leverage". Cross positions are liquidated when the account value falls below the total
maintenance margin.

:class:`HyperliquidEngine` margins a cross account: positions on one asset net (one position
per asset) and the requirement is the sum over assets. The initial margin uses the account's
leverage per asset when given, capped at the maximum leverage of the tier the position's
notional falls in (a modelling choice: the venue refuses such an order), else that maximum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from research._typing import Float64Array, Float64Array2D
from research.errors import ParameterError
from research.margin.venues._params import VenueEngine, VenueParameters, position_name
from research.portfolio import LinearPerpetual, Market, PortfolioBook

__all__ = [
    "DEFAULT_HYPERLIQUID_PARAMETERS",
    "HyperliquidEngine",
    "MarginTiers",
    "liquidation_price",
]

DEFAULT_HYPERLIQUID_PARAMETERS = "hyperliquid_2026-12-04"
"""Name of the shipped parameter set the engine uses by default."""


@dataclass(frozen=True)
class MarginTiers:
    """An asset's margin tiers: notional lower bounds and maximum leverages.

    Parameters
    ----------
    lower_bounds : tuple of float
        Notional (USD) from which each tier applies; the first is 0, then increasing.
    max_leverages : tuple of float
        Maximum leverage of each tier (>= 1), non-increasing.
    maintenance_fraction : float
        Maintenance margin rate as a share of the initial margin rate at maximum leverage
        (Hyperliquid: 0.5).

    Raises
    ------
    ParameterError
        Bounds not starting at 0 or not increasing, leverages below 1 or increasing, lengths
        that differ, a fraction outside (0, 1].

    Examples
    --------
    The docs' testnet DOGE tiers: 10x to 20k, 5x to 100k, 3x above.

    >>> doge = MarginTiers((0.0, 20_000.0, 100_000.0), (10.0, 5.0, 3.0))
    >>> float(doge.maintenance_margin(50_000.0))
    4000.0
    """

    lower_bounds: tuple[float, ...]
    max_leverages: tuple[float, ...]
    maintenance_fraction: float = 0.5

    def __post_init__(self) -> None:
        bounds = tuple(float(b) for b in self.lower_bounds)
        leverages = tuple(float(x) for x in self.max_leverages)
        if not bounds or len(bounds) != len(leverages):
            raise ParameterError(
                f"margin tiers need as many lower bounds as leverages (>= 1), got "
                f"{len(bounds)} and {len(leverages)}"
            )
        if bounds[0] != 0.0 or any(b <= a for a, b in zip(bounds, bounds[1:], strict=False)):
            raise ParameterError(
                f"tier lower bounds are {list(bounds)}; start at 0 and increase strictly"
            )
        if not all(np.isfinite(x) and x >= 1.0 for x in leverages) or any(
            b > a for a, b in zip(leverages, leverages[1:], strict=False)
        ):
            raise ParameterError(
                f"tier maximum leverages are {list(leverages)}; give values >= 1 that do not "
                "increase with the notional"
            )
        if not (0.0 < self.maintenance_fraction <= 1.0):
            raise ParameterError(
                f"maintenance fraction is {self.maintenance_fraction}; give a share in (0, 1]"
            )
        object.__setattr__(self, "lower_bounds", bounds)
        object.__setattr__(self, "max_leverages", leverages)

    @property
    def rates(self) -> Float64Array:
        """Maintenance margin rate of each tier: ``fraction / max leverage``."""
        return self.maintenance_fraction / np.array(self.max_leverages)

    @property
    def deductions(self) -> Float64Array:
        """Maintenance deduction of each tier (0, then ``d_{n-1} + B_n (rate_n - rate_{n-1})``)."""
        rates = self.rates
        steps = np.array(self.lower_bounds[1:]) * np.diff(rates)
        return np.concatenate([[0.0], np.cumsum(steps)])

    def tier(self, notional: float | Float64Array) -> np.ndarray:
        """Index of the tier of each notional (the last whose lower bound it reaches)."""
        return np.searchsorted(self.lower_bounds, np.asarray(notional, dtype=float), "right") - 1

    def maintenance_margin(self, notional: float | Float64Array) -> Float64Array:
        """``notional x rate_n - d_n`` for notionals >= 0 (continuous across tiers)."""
        n = np.asarray(notional, dtype=float)
        if len(self.lower_bounds) == 1:  # one tier: no deduction
            return n * self.rates[0]
        k = self.tier(n)
        return n * self.rates[k] - self.deductions[k]

    def initial_margin(
        self, notional: float | Float64Array, leverage: float | None = None
    ) -> Float64Array:
        """``notional / min(leverage, max leverage of the notional's tier)``."""
        n = np.asarray(notional, dtype=float)
        if len(self.max_leverages) == 1:
            cap = self.max_leverages[0]
            return n / (cap if leverage is None else min(leverage, cap))
        cap = np.array(self.max_leverages)[self.tier(n)]
        used = cap if leverage is None else np.minimum(leverage, cap)
        return n / used


def liquidation_price(
    price: float | Float64Array,
    side: int,
    margin_available: float | Float64Array,
    position_size: float | Float64Array,
    maintenance_leverage: float,
) -> Float64Array:
    r"""Hyperliquid's liquidation price of a position.

    .. math:: P_\text{liq} = P - s \frac{A}{|q|} \frac{1}{1 - l s}, \qquad l = 1 / L_m

    Parameters
    ----------
    price : float or ndarray
        Mark price ``P``.
    side : {1, -1}
        ``1`` long, ``-1`` short.
    margin_available : float or ndarray
        ``A``: account value less the maintenance margin (cross), or isolated margin less the
        maintenance margin (isolated).
    position_size : float or ndarray
        ``|q|`` in units of the asset (> 0).
    maintenance_leverage : float
        ``L_m = 1 / maintenance rate`` (twice the maximum leverage).

    Returns
    -------
    ndarray

    Raises
    ------
    ParameterError
        A side other than 1 or -1, or a maintenance leverage <= 1.

    Examples
    --------
    Long 1 BTC at 100,000 with 10,000 of isolated margin and 40x maximum leverage
    (maintenance margin 1.25%, 1,250):

    >>> round(float(liquidation_price(100_000.0, 1, 8_750.0, 1.0, 80.0)), 4)
    91139.2405
    """
    if side not in (1, -1):
        raise ParameterError(f"side is {side!r}; give 1 (long) or -1 (short)")
    if not maintenance_leverage > 1.0:
        raise ParameterError(f"maintenance leverage is {maintenance_leverage}; give > 1")
    rate = 1.0 / maintenance_leverage
    size = np.asarray(position_size, dtype=float)
    return np.asarray(price, dtype=float) - side * np.asarray(margin_available) / size / (
        1.0 - rate * side
    )


def _tiers(parameters: VenueParameters, asset: str, position: str) -> MarginTiers:
    entry = parameters.for_currency("assets", asset, position)
    rows = entry.get("tiers") if isinstance(entry, Mapping) else None
    if not isinstance(rows, list) or not rows:
        raise ParameterError(f"{parameters}: assets.{asset}.tiers must be a non-empty list")
    for k, row in enumerate(rows):
        if not isinstance(row, Mapping) or {"lower_bound", "max_leverage"} - set(row):
            raise ParameterError(
                f"{parameters}: assets.{asset}.tiers[{k}] needs lower_bound and max_leverage"
            )
    return MarginTiers(
        tuple(float(r["lower_bound"]) for r in rows),
        tuple(float(r["max_leverage"]) for r in rows),
        parameters.number("maintenance_fraction_of_initial", low=0.0, high=1.0, strict=True),
    )


@dataclass(frozen=True)
class _Prep:
    size: Float64Array  # units of the asset per contract, per instrument
    netting: Float64Array2D  # instruments x underlyings: units of the asset per contract
    column_underlying: np.ndarray  # underlying index of each instrument
    spot: Float64Array  # per underlying
    tiers: tuple[MarginTiers, ...]  # per underlying
    leverage: tuple[float | None, ...]  # per underlying
    # per underlying when every asset has one tier: the maintenance rate (maintenance) or the
    # leverage used (initial); None when some asset has several tiers
    flat: Float64Array | None
    underlyings: np.ndarray


@dataclass(frozen=True)
class HyperliquidEngine(VenueEngine):
    """Hyperliquid-style cross margin of perpetual positions.

    Parameters
    ----------
    parameters : VenueParameters
        A Hyperliquid-style set: ``maintenance_fraction_of_initial`` and per asset ``tiers``
        (``lower_bound``, ``max_leverage``); default the shipped ``hyperliquid_2026-12-04``.
    requirement : {"initial", "maintenance"}
        Initial margin (notional / leverage) or maintenance margin (tiered, with deductions).
    leverage : mapping, optional
        The account's leverage per asset (>= 1); the tier's maximum when left out.
    offset_policy : OffsetPolicy, optional
        Cap on the offset between isolated and cross margin.

    Notes
    -----
    Positions on one asset net (size ``q x contract_size``); the account requirement is the
    sum over assets of the tier formula of :class:`MarginTiers` at ``|net size| x price``. The
    isolated margin of a holding applies the same formula to the holding alone, so with tiers
    it is not proportional to the quantity. The driver is the asset with the largest
    requirement.

    Raises
    ------
    ParameterError
        Malformed tiers, a leverage below 1.
    UnknownUnderlyingError
        When margining: an asset the set does not list (the position is named).
    DataError
        When margining: an instrument other than a linear perpetual (the position is named).

    Examples
    --------
    >>> from research.portfolio import LinearPerpetual, Market, Portfolio, Position
    >>> btc = Portfolio([Position(LinearPerpetual("BTC"), 1.0)])
    >>> HyperliquidEngine(requirement="maintenance").margin(
    ...     btc, Market(spot={"BTC": 100_000.0})).cross
    1250.0
    """

    parameters: VenueParameters = field(
        default_factory=lambda: VenueParameters.load(DEFAULT_HYPERLIQUID_PARAMETERS)
    )
    leverage: Mapping[str, float] = field(default_factory=dict)
    name: ClassVar[str] = "Hyperliquid-style"
    supported: ClassVar[tuple[type, ...]] = (LinearPerpetual,)

    def __post_init__(self) -> None:
        super().__post_init__()
        assets = self.parameters.value("assets")
        if not isinstance(assets, Mapping) or not assets:
            raise ParameterError(f"{self.parameters}: assets must be a non-empty mapping")
        for asset in assets:
            _tiers(self.parameters, asset, asset)
        for asset, lev in self.leverage.items():
            if not (np.isfinite(lev) and lev >= 1.0):
                raise ParameterError(f"leverage of {asset!r} is {lev}; give a number >= 1")
        object.__setattr__(self, "leverage", {a: float(x) for a, x in self.leverage.items()})
        # tiers parsed once per asset (the set is frozen; MarginTiers are immutable)
        object.__setattr__(self, "_tier_cache", {})

    def settings(self) -> dict[str, Any]:
        """Return the set, the requirement and the account's leverages."""
        return {**super().settings(), "leverage": dict(self.leverage)}

    def tiers_of(self, asset: str, position: str = "") -> MarginTiers:
        """Return the margin tiers of an asset.

        Raises
        ------
        UnknownUnderlyingError
            The set does not list the asset.
        """
        cache: dict[str, MarginTiers] = self._tier_cache  # type: ignore[attr-defined]
        if asset not in cache:
            cache[asset] = _tiers(self.parameters, asset, position or asset)
        return cache[asset]

    def _venue_prepare(self, book: PortfolioBook, market: Market) -> _Prep:
        underlyings = book.underlyings
        index = {u: k for k, u in enumerate(underlyings)}
        first = {}
        for instrument in book.instruments:
            first.setdefault(instrument.underlying, instrument)
        tiers = tuple(self.tiers_of(u, position_name(first[u])) for u in underlyings)
        leverage = tuple(self.leverage.get(u) for u in underlyings)
        flat = None
        if all(len(t.lower_bounds) == 1 for t in tiers):
            flat = np.array(
                [
                    t.rates[0]
                    if self.requirement == "maintenance"
                    else (t.max_leverages[0] if lev is None else min(lev, t.max_leverages[0]))
                    for t, lev in zip(tiers, leverage, strict=True)
                ]
            )
        return _Prep(
            size=np.array([i.contract_size for i in book.instruments], dtype=float),
            netting=np.array([i.contract_size for i in book.instruments], dtype=float)[:, None]
            * book.underlying_matrix(),
            column_underlying=np.array([index[i.underlying] for i in book.instruments]),
            spot=np.array([market.spot_of(u) for u in underlyings]),
            tiers=tiers,
            leverage=leverage,
            flat=flat,
            underlyings=np.array(underlyings, dtype=object),
        )

    def _requirement(
        self, notional: Float64Array, tiers: MarginTiers, lev: float | None
    ) -> Float64Array:
        if self.requirement == "maintenance":
            return tiers.maintenance_margin(notional)
        return tiers.initial_margin(notional, lev)

    def _cross(self, q: Float64Array2D, prep: _Prep) -> tuple[Float64Array, np.ndarray]:
        notional = q @ prep.netting  # net size per asset
        np.abs(notional, out=notional)
        notional *= prep.spot
        if prep.flat is not None:  # one tier per asset: the tier formulas, all assets at once
            per_asset = self._flat(notional, prep.flat, out=notional)
        else:
            per_asset = np.column_stack(
                [
                    self._requirement(notional[:, k], prep.tiers[k], prep.leverage[k])
                    for k in range(len(prep.tiers))
                ]
            )
        return per_asset.sum(axis=1), prep.underlyings[np.argmax(per_asset, axis=1)]

    def _flat(
        self, notional: Float64Array2D, flat: Float64Array, out: Float64Array2D | None = None
    ) -> Float64Array2D:
        """One-tier requirement: ``notional x rate`` or ``notional / leverage`` (same bits).

        ``out`` (e.g. ``notional`` itself) receives the result instead of a new array.
        """
        if self.requirement == "maintenance":
            return np.multiply(notional, flat, out=out)
        return np.divide(notional, flat, out=out)

    def _isolated(self, q: Float64Array2D, prep: _Prep) -> Float64Array2D:
        if prep.flat is not None:  # the one-tier formula in place: no temporary of the book's size
            notional = q * prep.size
            np.abs(notional, out=notional)
            notional *= prep.spot[prep.column_underlying]
            return self._flat(notional, prep.flat[prep.column_underlying], out=notional)
        out = np.empty_like(q)
        for j, k in enumerate(prep.column_underlying):
            notional = np.abs(q[:, j] * prep.size[j]) * prep.spot[k]
            out[:, j] = self._requirement(notional, prep.tiers[k], prep.leverage[k])
        return out
