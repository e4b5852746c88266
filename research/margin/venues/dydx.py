r"""dYdX v4-style liquidity tiers: per-market linear margin with open-interest scaling.

Primary source: ``dydxprotocol/v4-chain`` (``protocol/x/perpetuals/types/liquidity_tier.go``,
``protocol/x/perpetuals/lib/lib.go``, ``protocol/lib/margin/risk.go``), read at commit
``84d4664bae71e3a077adaac67fb77ad19cd28d30`` (2026-03-05); the genesis tiers come from
``protocol/testing/genesis.sh`` (= ``protocol/scripts/genesis/sample_pregenesis.json``).
Production tiers are set by governance and change (e.g. PR #2431, Oct 2024): the tiers used
here are a dated parameter set, and results are labelled "dYdX-style", not "dYdX".

The integer functions reproduce the chain's arithmetic in quote quantums (1 USDC = 1e6
quantums), with its rounding, and are pinned to the chain's own unit tests
(``liquidity_tier_test.go``) exactly:

.. math::

    \text{IMF}_\text{ppm}(OI) &= b + \Big\lfloor \frac{(10^6 - b)(OI - L)}{U - L} \Big\rfloor
        \quad (L < OI < U)\\
    \text{IMR} &= \Big\lceil \frac{N \max(\text{IMF}_\text{ppm}(OI), c)}{10^6} \Big\rceil, \qquad
    \text{MMR} = \Big\lceil \frac{\lceil N b / 10^6 \rceil\, m}{10^6} \Big\rceil

(``b`` if ``U = 0`` or ``OI <= L``; ``10^6`` from ``OI >= U``) with ``N`` the position's
notional, ``b`` the tier's base initial-margin ppm, ``m`` its maintenance fraction ppm, ``c``
an account's custom IMF (0 = none), ``L``/``U`` the tier's open interest caps and ``OI`` the
market's open notional (open interest x oracle price). The maintenance margin uses the *base*
IMF, never the open-interest-scaled one.

:class:`DydxEngine` applies the same fractions to a :class:`~research.portfolio.PortfolioBook`
in floating point (USD, not quantums; the chain's last-quantum rounding, at most 1e-6 USD per
position, is not applied): a subaccount is cross-margined, so positions in one market net,
and the account requirement is the sum over markets of ``|net notional| x fraction``.
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
    "DEFAULT_DYDX_PARAMETERS",
    "PPM",
    "LiquidityTier",
    "DydxEngine",
    "adjusted_initial_margin_ppm",
    "liquidity_tiers",
    "initial_margin_quote_quantums",
    "maintenance_margin_ppm",
    "maintenance_margin_quote_quantums",
]

DEFAULT_DYDX_PARAMETERS = "dydx_2026-03-05"
"""Name of the shipped parameter set (the v4-chain genesis tiers) the engine uses by default."""

PPM = 1_000_000
"""Parts per million: fractions on the chain are integers in ppm (20_000 = 2%)."""

QUANTUMS_PER_USDC = 1_000_000
"""Quote quantums per USDC (USDC has 6 decimals on dYdX v4)."""


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


@dataclass(frozen=True)
class LiquidityTier:
    """One dYdX v4 liquidity tier (``LiquidityTier`` of ``x/perpetuals``).

    Parameters
    ----------
    id : int
        Tier id.
    name : str
        Tier name (``"Large-Cap"``, ...).
    initial_margin_ppm : int
        Base initial-margin fraction in ppm (<= 1_000_000).
    maintenance_fraction_ppm : int
        Maintenance margin as a fraction of the initial margin, in ppm (<= 1_000_000).
    impact_notional : int
        Impact notional in quote quantums (> 0; used by the chain for premium sampling).
    open_interest_lower_cap, open_interest_upper_cap : int
        Open-notional caps in quote quantums between which the IMF rises linearly to 100%;
        an upper cap of 0 switches the scaling off.

    Raises
    ------
    ParameterError
        The chain's ``Validate`` rules: initial margin or maintenance fraction above 1_000_000
        ppm, a zero impact notional, a lower cap above the upper cap; or a negative or
        non-integer value. The message names the tier and the field.
    """

    id: int
    name: str
    initial_margin_ppm: int
    maintenance_fraction_ppm: int
    impact_notional: int = 1
    open_interest_lower_cap: int = 0
    open_interest_upper_cap: int = 0

    def __post_init__(self) -> None:
        for field_name in (
            "initial_margin_ppm",
            "maintenance_fraction_ppm",
            "impact_notional",
            "open_interest_lower_cap",
            "open_interest_upper_cap",
        ):
            value = getattr(self, field_name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ParameterError(
                    f"liquidity tier {self.id} ({self.name}): {field_name} is {value!r}; "
                    "give a non-negative integer (ppm or quote quantums)"
                )
        if self.initial_margin_ppm > PPM:
            raise ParameterError(
                f"liquidity tier {self.id} ({self.name}): initial_margin_ppm "
                f"{self.initial_margin_ppm} exceeds {PPM} (100%)"
            )
        if self.maintenance_fraction_ppm > PPM:
            raise ParameterError(
                f"liquidity tier {self.id} ({self.name}): maintenance_fraction_ppm "
                f"{self.maintenance_fraction_ppm} exceeds {PPM} (100%)"
            )
        if self.impact_notional == 0:
            raise ParameterError(
                f"liquidity tier {self.id} ({self.name}): impact_notional is 0; give > 0"
            )
        if self.open_interest_lower_cap > self.open_interest_upper_cap:
            raise ParameterError(
                f"liquidity tier {self.id} ({self.name}): open_interest_lower_cap "
                f"{self.open_interest_lower_cap} is above open_interest_upper_cap "
                f"{self.open_interest_upper_cap}"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> LiquidityTier:
        """Build a tier from plain data (the keys are the field names).

        Raises
        ------
        ParameterError
            A missing or unknown field (named), or a value the tier refuses.
        """
        fields = (
            "id",
            "name",
            "initial_margin_ppm",
            "maintenance_fraction_ppm",
            "impact_notional",
            "open_interest_lower_cap",
            "open_interest_upper_cap",
        )
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ParameterError(f"liquidity tier has unknown fields {unknown}; known: {fields}")
        missing = [f for f in fields[:4] if f not in values]
        if missing:
            raise ParameterError(f"liquidity tier {dict(values)!r} is missing {missing}")
        return cls(**dict(values))

    def to_dict(self) -> dict[str, Any]:
        """Return the tier as plain data."""
        return {
            "id": self.id,
            "name": self.name,
            "initial_margin_ppm": self.initial_margin_ppm,
            "maintenance_fraction_ppm": self.maintenance_fraction_ppm,
            "impact_notional": self.impact_notional,
            "open_interest_lower_cap": self.open_interest_lower_cap,
            "open_interest_upper_cap": self.open_interest_upper_cap,
        }


def _check_quantums(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ParameterError(f"{what} is {value!r}; give a non-negative integer of quote quantums")
    return int(value)


def adjusted_initial_margin_ppm(tier: LiquidityTier, open_interest: int) -> int:
    """Open-interest-scaled initial-margin fraction (``GetAdjustedInitialMarginPpm``).

    Parameters
    ----------
    tier : LiquidityTier
        The market's tier.
    open_interest : int
        The market's open notional in quote quantums.

    Returns
    -------
    int
        IMF in ppm: the base below the lower cap (or with scaling off), 1_000_000 from the
        upper cap, linear in between with the increase rounded down.
    """
    oi = _check_quantums(open_interest, "open interest")
    lower, upper = tier.open_interest_lower_cap, tier.open_interest_upper_cap
    if upper == 0 or oi <= lower:
        return tier.initial_margin_ppm
    if oi >= upper:
        return PPM
    increase = (PPM - tier.initial_margin_ppm) * (oi - lower) // (upper - lower)
    return tier.initial_margin_ppm + increase


def initial_margin_quote_quantums(
    tier: LiquidityTier, notional: int, open_interest: int = 0, custom_imf_ppm: int = 0
) -> int:
    """Return the initial margin of a position in quote quantums.

    The chain's ``GetInitialMarginQuoteQuantums``.

    Parameters
    ----------
    tier : LiquidityTier
        The market's tier.
    notional : int
        ``|size| x oracle price`` of the position in quote quantums.
    open_interest : int
        The market's open notional in quote quantums (0: base IMF).
    custom_imf_ppm : int
        An account's configured IMF in ppm (from its chosen leverage); 0 means none. It only
        ever raises the requirement.

    Returns
    -------
    int
        ``ceil(notional x max(IMF(OI), custom) / 1e6)``.
    """
    n = _check_quantums(notional, "notional")
    custom = _check_quantums(custom_imf_ppm, "custom IMF ppm")
    imf = max(adjusted_initial_margin_ppm(tier, open_interest), custom)
    return _ceil_div(n * imf, PPM)


def maintenance_margin_ppm(tier: LiquidityTier) -> int:
    """Maintenance-margin fraction in ppm: ``floor(initial ppm x maintenance fraction / 1e6)``."""
    return tier.initial_margin_ppm * tier.maintenance_fraction_ppm // PPM


def maintenance_margin_quote_quantums(tier: LiquidityTier, notional: int) -> int:
    """Return the maintenance margin of a position in quote quantums.

    As ``GetMarginRequirementsInQuoteQuantums`` computes it: the base initial margin (open
    interest 0, no custom IMF), rounded up, times the maintenance fraction, rounded up again.
    """
    base = initial_margin_quote_quantums(tier, notional)
    return _ceil_div(base * tier.maintenance_fraction_ppm, PPM)


def liquidity_tiers(parameters: VenueParameters) -> dict[int, LiquidityTier]:
    """Return the liquidity tiers of a dYdX-style parameter set, by id.

    Raises
    ------
    ParameterError
        A missing ``tiers`` list, a malformed tier or a repeated id.
    """
    entries = parameters.value("tiers")
    if not isinstance(entries, list) or not entries:
        raise ParameterError(f"{parameters}: tiers must be a non-empty list of liquidity tiers")
    tiers: dict[int, LiquidityTier] = {}
    for k, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ParameterError(f"{parameters}: tiers[{k}] must be a mapping")
        tier = LiquidityTier.from_dict(entry)
        if tier.id in tiers:
            raise ParameterError(f"{parameters}: tiers[{k}] repeats tier id {tier.id}")
        tiers[tier.id] = tier
    return tiers


@dataclass(frozen=True)
class _Prep:
    netting: Float64Array2D  # instruments x underlyings: units of the underlying per contract
    per_unit: Float64Array  # margin per unit of the underlying (price x fraction), per underlying
    per_contract: Float64Array  # margin of one contract held alone, per instrument
    underlyings: np.ndarray


@dataclass(frozen=True)
class DydxEngine(VenueEngine):
    """dYdX v4-style margin of a cross subaccount: per-market fractions by liquidity tier.

    Parameters
    ----------
    parameters : VenueParameters
        A dYdX-style set: ``tiers`` (list of :class:`LiquidityTier` fields) and ``markets``
        (underlying -> tier id); default the shipped genesis set ``dydx_2026-03-05``.
    requirement : {"initial", "maintenance"}
        Initial (open-interest-scaled) or maintenance (base IMF x maintenance fraction).
    market_tiers : mapping, optional
        Tier id of an underlying, over the set's ``markets`` (e.g. ``{"XRP": 1}``).
    open_interest : mapping, optional
        Open notional of each market in USD (open interest x oracle price); 0 when left out.
        It scales the initial margin only.
    offset_policy : OffsetPolicy, optional
        Cap on the offset between isolated and cross margin.

    Notes
    -----
    Positions on one underlying net (a subaccount holds one position per market; contracts
    count by their size in the underlying), and the account requirement is
    ``sum_u |net size_u| S_u f_u`` with ``f_u = IMF_ppm(OI_u) / 1e6`` (initial; the integer
    :func:`adjusted_initial_margin_ppm`) or ``b_u m_u / 1e12`` (maintenance). Markets do not
    offset one another: the cross margin differs from the sum of isolated margins only by the
    netting within a market. The driver is the market with the largest requirement.

    Raises
    ------
    ParameterError
        A malformed tier, a market mapped to an unknown tier, a negative open interest.
    UnknownUnderlyingError
        When margining: an underlying with no tier (the position is named).
    DataError
        When margining: an instrument other than a linear perpetual (the position is named).

    Examples
    --------
    >>> from research.portfolio import LinearPerpetual, Market, Portfolio, Position
    >>> btc = Portfolio([Position(LinearPerpetual("BTC"), 2.0)])
    >>> round(DydxEngine().margin(btc, Market(spot={"BTC": 50_000.0})).cross, 9)
    2000.0
    """

    parameters: VenueParameters = field(
        default_factory=lambda: VenueParameters.load(DEFAULT_DYDX_PARAMETERS)
    )
    market_tiers: Mapping[str, int] = field(default_factory=dict)
    open_interest: Mapping[str, float] = field(default_factory=dict)
    name: ClassVar[str] = "dYdX-style"
    supported: ClassVar[tuple[type, ...]] = (LinearPerpetual,)

    def __post_init__(self) -> None:
        super().__post_init__()
        tiers = liquidity_tiers(self.parameters)
        markets = self.parameters.value("markets")
        if not isinstance(markets, Mapping):
            raise ParameterError(f"{self.parameters}: markets must map underlyings to tier ids")
        markets = {**markets, **self.market_tiers}
        for u, tier in markets.items():
            if tier not in tiers:
                raise ParameterError(
                    f"{self.parameters}: market {u!r} is in tier {tier!r}, which is not one of "
                    f"the set's tiers {sorted(tiers)}"
                )
        for u, oi in self.open_interest.items():
            if not (np.isfinite(oi) and oi >= 0):
                raise ParameterError(f"open interest of {u!r} is {oi}; give a USD amount >= 0")
        object.__setattr__(self, "market_tiers", dict(self.market_tiers))
        object.__setattr__(self, "open_interest", dict(self.open_interest))
        object.__setattr__(self, "_tiers", tiers)  # parsed once: the set is frozen

    def settings(self) -> dict[str, Any]:
        """Return the set, the requirement, and the market tiers and open interest given."""
        return {
            **super().settings(),
            "market_tiers": dict(self.market_tiers),
            "open_interest": dict(self.open_interest),
        }

    def tier_of(self, underlying: str, position: str = "") -> LiquidityTier:
        """Return the liquidity tier of an underlying's market.

        Raises
        ------
        UnknownUnderlyingError
            The underlying has no tier in the set or in ``market_tiers``.
        """
        tiers: dict[int, LiquidityTier] = self._tiers  # type: ignore[attr-defined]
        if underlying in self.market_tiers:
            return tiers[self.market_tiers[underlying]]
        return tiers[self.parameters.for_currency("markets", underlying, position or underlying)]

    def _fraction(self, tier: LiquidityTier, underlying: str) -> float:
        if self.requirement == "maintenance":
            return tier.initial_margin_ppm * tier.maintenance_fraction_ppm / PPM**2
        oi = round(self.open_interest.get(underlying, 0.0) * QUANTUMS_PER_USDC)
        return adjusted_initial_margin_ppm(tier, oi) / PPM

    def _venue_prepare(self, book: PortfolioBook, market: Market) -> _Prep:
        underlyings = book.underlyings
        first = {}
        for instrument in book.instruments:
            first.setdefault(instrument.underlying, instrument)
        fraction = np.array(
            [self._fraction(self.tier_of(u, position_name(first[u])), u) for u in underlyings]
        )
        size = np.array([i.contract_size for i in book.instruments], dtype=float)
        per_unit = np.array([market.spot_of(u) for u in underlyings]) * fraction
        on = [underlyings.index(i.underlying) for i in book.instruments]
        return _Prep(
            netting=size[:, None] * book.underlying_matrix(),
            per_unit=per_unit,
            per_contract=size * per_unit[on],
            underlyings=np.array(underlyings, dtype=object),
        )

    def _isolated(self, q: Float64Array2D, prep: _Prep) -> Float64Array2D:
        """Margin of each holding alone: ``|q| x contract size x price x fraction``.

        A holding alone is its market's whole position, charged the same long or short.
        """
        out = np.abs(q)
        out *= prep.per_contract
        return out

    def _cross(self, q: Float64Array2D, prep: _Prep) -> tuple[Float64Array, np.ndarray]:
        per_market = q @ prep.netting  # net size per market
        np.abs(per_market, out=per_market)
        per_market *= prep.per_unit
        return per_market.sum(axis=1), prep.underlyings[np.argmax(per_market, axis=1)]
