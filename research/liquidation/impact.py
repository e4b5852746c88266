r"""Price-impact functions of cumulative liquidation flow, and the market of one asset.

Every impact function maps the step's *anchor* price (after the exogenous move) and the signed
cumulative liquidation flow ``c`` of the step (units; positive = net selling) to a book price
``G(anchor, c)``. Because the price depends on cumulative flow only, a cascade sliced into more
rounds ends at the same price (spec §3.2). The execution price of a batch that moves the flow
from ``c0`` to ``c1`` is the average of ``G`` along the flow,

.. math:: \bar P = \frac{1}{c_1 - c_0} \int_{c_0}^{c_1} G(\text{anchor}, c)\, dc,

which is the midpoint ``(P + P_new) / 2`` for linear impact (spec §3.1, the firesale model's
midpoint settlement).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import numpy as np

from research.errors import ParameterError

__all__ = [
    "AssetMarket",
    "ExponentialImpact",
    "ImpactModel",
    "LinearImpact",
    "SquareRootImpact",
]


def _positive(value: float, what: str) -> float:
    if not (math.isfinite(value) and value > 0):
        raise ParameterError(f"{what} is {value!r}; it must be finite and > 0")
    return float(value)


@runtime_checkable
class ImpactModel(Protocol):
    """What an impact function offers (all are frozen dataclasses)."""

    def price(self, anchor: float, flow: float) -> float:
        """Book price after cumulative signed flow ``flow`` (units) from ``anchor``."""
        ...

    def antiderivative(self, anchor: float, flow: float) -> float:
        """``int_0^flow G(anchor, c) dc``."""
        ...

    def flow_to(self, anchor: float, price: float) -> float:
        """Cumulative selling flow at which the book price reaches ``price`` (< anchor)."""
        ...

    def scaled(self, depth_mult: float) -> ImpactModel:
        """Return the same function with the book's depth multiplied by ``depth_mult``."""
        ...


@dataclass(frozen=True)
class LinearImpact:
    """Kyle-lambda impact ``G = anchor - lam * c`` (permanent, additive; spec §3.1).

    Parameters
    ----------
    lam : float
        Price move per unit of net flow (> 0).
    """

    lam: float

    def __post_init__(self) -> None:
        _positive(self.lam, "linear impact lam")

    @classmethod
    def from_depth(cls, depth_1pct_usd: float, price: float) -> LinearImpact:
        """Lambda of a uniform book with ``depth_1pct_usd`` of bids within 1% of ``price``.

        ``lam = 0.01 * price**2 / depth_1pct_usd`` (spec §3.1, derived).
        """
        _positive(depth_1pct_usd, "depth_1pct_usd")
        _positive(price, "price")
        return cls(0.01 * price * price / depth_1pct_usd)

    def price(self, anchor: float, flow: float) -> float:  # noqa: D102
        return anchor - self.lam * flow

    def antiderivative(self, anchor: float, flow: float) -> float:  # noqa: D102
        return anchor * flow - 0.5 * self.lam * flow * flow

    def flow_to(self, anchor: float, price: float) -> float:  # noqa: D102
        return (anchor - price) / self.lam

    def scaled(self, depth_mult: float) -> LinearImpact:  # noqa: D102
        return replace(self, lam=self.lam / _positive(depth_mult, "depth_mult"))


@dataclass(frozen=True)
class SquareRootImpact:
    r"""Square-root law on the step's cumulative flow (spec §3.2).

    ``G = anchor * (1 - sign(c) * Y * sigma * sqrt(|c| / volume))``.

    Parameters
    ----------
    volume : float
        Daily volume ``V`` in units (> 0).
    sigma : float
        Daily volatility as a fraction (> 0).
    prefactor : float
        ``Y``, of order 0.5-1.0 (default 1.0, [S8]).
    """

    volume: float
    sigma: float
    prefactor: float = 1.0

    def __post_init__(self) -> None:
        _positive(self.volume, "square-root impact volume")
        _positive(self.sigma, "square-root impact sigma")
        _positive(self.prefactor, "square-root impact prefactor")

    @property
    def _k(self) -> float:
        return self.prefactor * self.sigma / math.sqrt(self.volume)

    def price(self, anchor: float, flow: float) -> float:  # noqa: D102
        return anchor * (1.0 - self._k * math.copysign(math.sqrt(abs(flow)), flow))

    def antiderivative(self, anchor: float, flow: float) -> float:  # noqa: D102
        return anchor * (flow - self._k * (2.0 / 3.0) * abs(flow) ** 1.5)

    def flow_to(self, anchor: float, price: float) -> float:  # noqa: D102
        return ((1.0 - price / anchor) / self._k) ** 2

    def scaled(self, depth_mult: float) -> SquareRootImpact:  # noqa: D102
        return replace(self, volume=self.volume * _positive(depth_mult, "depth_mult"))


@dataclass(frozen=True)
class ExponentialImpact:
    r"""Exponential impact ``G = anchor * exp(-beta * c / reference)`` (spec §3.3, [S1]).

    Parameters
    ----------
    beta : float
        Decay per unit of ``c / reference``; :meth:`from_drop` gives the firesale repository's
        ``beta = -ln(1 - pi) / 0.05``.
    reference : float
        Reference size ``Q_ref`` in units (e.g. the market size).
    """

    beta: float
    reference: float

    def __post_init__(self) -> None:
        _positive(self.beta, "exponential impact beta")
        _positive(self.reference, "exponential impact reference")

    @classmethod
    def from_drop(
        cls, drop: float, reference: float, sold_share: float = 0.05
    ) -> ExponentialImpact:
        """Beta such that selling ``sold_share`` of ``reference`` drops the price by ``drop``."""
        if not 0.0 < drop < 1.0:
            raise ParameterError(f"drop is {drop!r}; give a fraction in (0, 1)")
        return cls(-math.log1p(-drop) / _positive(sold_share, "sold_share"), reference)

    def price(self, anchor: float, flow: float) -> float:  # noqa: D102
        return anchor * math.exp(-self.beta * flow / self.reference)

    def antiderivative(self, anchor: float, flow: float) -> float:  # noqa: D102
        return anchor * self.reference / self.beta * -math.expm1(-self.beta * flow / self.reference)

    def flow_to(self, anchor: float, price: float) -> float:  # noqa: D102
        return -self.reference / self.beta * math.log(price / anchor)

    def scaled(self, depth_mult: float) -> ExponentialImpact:  # noqa: D102
        return replace(self, reference=self.reference * _positive(depth_mult, "depth_mult"))


@dataclass(frozen=True)
class AssetMarket:
    """The book of one asset: its price, impact function and how impact decays.

    Parameters
    ----------
    price : float
        Initial book (= mark) price (> 0).
    impact : ImpactModel or None
        Impact of liquidation flow; ``None`` switches impact off (replay mode: the path's prices
        already contain the realised cascade, spec §5).
    depth_mult : float
        Stress multiplier of the book's depth (0.1 = a 90% collapse, spec §3.4).
    gamma_perm : float
        Share of a step's impact that is permanent (default 1).
    kappa : float
        Share of the remaining temporary impact that decays per step (default 1).
    price_floor : float, optional
        Lowest book price impact may reach; default ``1e-6`` x the step's anchor price. A
        round whose impact would cross it is floored and flagged on the result.
    """

    price: float
    impact: ImpactModel | None = None
    depth_mult: float = 1.0
    gamma_perm: float = 1.0
    kappa: float = 1.0
    price_floor: float | None = None

    def __post_init__(self) -> None:
        _positive(self.price, "market price")
        _positive(self.depth_mult, "depth_mult")
        for name in ("gamma_perm", "kappa"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ParameterError(f"{name} is {value!r}; give a share in [0, 1]")
        if self.price_floor is not None and not (
            math.isfinite(self.price_floor) and 0 < self.price_floor
        ):
            raise ParameterError(f"price_floor is {self.price_floor!r}; give a price > 0")
        if self.impact is not None and not isinstance(self.impact, ImpactModel):
            raise ParameterError(
                f"impact must be an ImpactModel (LinearImpact, SquareRootImpact, "
                f"ExponentialImpact) or None, got {type(self.impact).__name__}"
            )

    @property
    def effective_impact(self) -> ImpactModel | None:
        """The impact function with the depth multiplier applied."""
        if self.impact is None or self.depth_mult == 1.0:
            return self.impact
        return self.impact.scaled(self.depth_mult)


def execute(
    impact: ImpactModel | None, anchor: float, c0: float, c1: float, floor: float
) -> tuple[float, float, bool]:
    """Execute flow ``c0 -> c1`` on one book: new price, average price, floor flag.

    Parameters
    ----------
    impact : ImpactModel or None
        ``None``: no impact, every fill at the current price.
    anchor : float
        The step's price before any liquidation flow.
    c0, c1 : float
        Cumulative signed flow before and after the batch.
    floor : float
        Lowest admissible price; selling past it fills at the floor (flagged).

    Returns
    -------
    tuple of (float, float, bool)
        ``(new price, execution price, floored)``.
    """
    if impact is None:
        return anchor, anchor, False
    p1 = impact.price(anchor, c1)
    if c1 == c0:
        p0 = impact.price(anchor, c0)
        return max(p0, floor), max(p0, floor), p0 < floor
    if p1 >= floor:
        avg = (impact.antiderivative(anchor, c1) - impact.antiderivative(anchor, c0)) / (c1 - c0)
        return p1, avg, False
    # selling through the floor: the book fills at G down to the floor, then at the floor
    c_star = max(impact.flow_to(anchor, floor), c0)
    part = impact.antiderivative(anchor, c_star) - impact.antiderivative(anchor, c0)
    avg = (part + floor * (c1 - c_star)) / (c1 - c0)
    return floor, float(np.clip(avg, floor, None)), True
