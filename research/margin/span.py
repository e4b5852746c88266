"""Scenario-grid (SPAN-style) engine: 16-scenario risk arrays and intra/inter-commodity spreads.

The engine reproduces CME's published spread examples (spec ``../shared/research/venues.md``
section 5, source https://cmegroup.com/clearing/margins/spread-calc.html): EX-SPAN-1, the
inter-commodity credit of a 2:1 corn/soybean spread at 55% applied to each leg's margin
(6,000 outright, 3,300 credit, 2,700 charged), with ``SpreadCredit(basis="each leg")``; and
EX-SPAN-2, intra-commodity (calendar) spreads charged the difference of the months' outright
margins (the grid moves every month of an underlying together) plus the tier pair's charge,
with :class:`IntraSpread`. The extreme scenarios' size (CME 3x, NSCCL 2x the price scan range;
the sources disagree) and their 35% cover are the parameters ``extreme_multiple`` and
``extreme_fraction``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D
from research.errors import ParameterError
from research.margin._checks import book_exposures
from research.margin._engine import BookEngine, per_underlying
from research.margin.offsets import OffsetPolicy
from research.portfolio import Market, PortfolioBook, Scenarios, unit_pnl

__all__ = ["IntraSpread", "ScenarioGridEngine", "SpreadCredit", "risk_array_grid"]

N_SCENARIOS = 16


def risk_array_grid(extreme_multiple: float = 2.0, extreme_fraction: float = 0.35) -> pd.DataFrame:
    """Tabulate the 16 SPAN scenarios as multiples of the scan ranges, with their weights.

    Parameters
    ----------
    extreme_multiple : float
        Size of the two extreme price moves in price scan ranges (SPAN: 2 or 3).
    extreme_fraction : float
        Share of the extreme-move loss that counts (SPAN: 0.35).

    Returns
    -------
    pandas.DataFrame
        Index 1..16; columns ``price`` (multiple of the price scan range), ``vol`` (multiple of
        the volatility scan range), ``weight``. Scenarios 1-14: price 0, +-1/3, +-2/3, +-1 each
        with volatility up then down; 15-16: +- ``extreme_multiple`` with unchanged volatility,
        weighted by ``extreme_fraction``.
    """
    rows = []
    for price in (0.0, 1 / 3, -1 / 3, 2 / 3, -2 / 3, 1.0, -1.0):
        rows += [(price, 1.0, 1.0), (price, -1.0, 1.0)]
    rows += [(extreme_multiple, 0.0, extreme_fraction), (-extreme_multiple, 0.0, extreme_fraction)]
    return pd.DataFrame(
        rows,
        columns=["price", "vol", "weight"],
        index=pd.RangeIndex(1, N_SCENARIOS + 1, name="scenario"),
    )


@dataclass(frozen=True)
class SpreadCredit:
    """SPAN inter-commodity spread credit: a rate applied to the legs' margins.

    With ``basis="smaller leg"`` (the default) a spread of matched legs with scan risks
    ``R_a, R_b`` is charged ``R_a + R_b - rate * min(R_a, R_b)``; with ``basis="each leg"``
    (CME's published corn/soybean example, EX-SPAN-1: "3500 * 0.55 + 2500 * 0.55 = $3300") it
    is charged ``(1 - rate)(R_a + R_b)``, which is the package's offset credit ``c``
    (calibration, :class:`~research.margin.ParameterSetEngine`) with ``c = rate``. The two
    bases agree when ``rate_smaller = c (R_a + R_b) / min(R_a, R_b)``
    (:func:`research.margin.spread_rate`; :func:`research.margin.spread_credit` builds the
    equivalent smaller-leg spread of a credited pair).

    Parameters
    ----------
    leg_a, leg_b : str
        The two underlyings.
    rate : float
        SPAN spread rate in [0, 1] applied to the smaller leg's scan risk.
    delta_ratio_a, delta_ratio_b : float
        Deltas (units of each underlying) that make one spread, e.g. 1 BTC against 20 ETH.
    priority : int
        Lower values are applied first (ties keep the given order).
    basis : {"smaller leg", "each leg"}
        Which margins the rate applies to (see above).
    """

    leg_a: str
    leg_b: str
    rate: float
    delta_ratio_a: float = 1.0
    delta_ratio_b: float = 1.0
    priority: int = 0
    basis: Literal["smaller leg", "each leg"] = "smaller leg"

    def __post_init__(self) -> None:
        if self.leg_a == self.leg_b:
            raise ParameterError(f"a spread needs two different underlyings, got {self.leg_a!r}")
        if self.basis not in ("smaller leg", "each leg"):
            raise ParameterError(
                f"basis of the {self.leg_a}/{self.leg_b} spread is {self.basis!r}; give "
                "'smaller leg' or 'each leg'"
            )
        if not (math.isfinite(self.rate) and 0.0 <= self.rate <= 1.0):
            raise ParameterError(
                f"credit rate of {self.leg_a}/{self.leg_b} is {self.rate}; give a share in [0, 1]"
            )
        for ratio in (self.delta_ratio_a, self.delta_ratio_b):
            if not (math.isfinite(ratio) and ratio > 0):
                raise ParameterError(f"delta ratios of {self.leg_a}/{self.leg_b} must be > 0")


@dataclass(frozen=True)
class IntraSpread:
    """SPAN intra-commodity (calendar) spread charge between two instruments of one underlying.

    The grid moves every instrument on an underlying together, so a long month against a short
    month is charged only the difference of their risk arrays; SPAN adds a charge per spread
    formed between the two tiers (months). A spread is one long unit of one leg against one
    short unit of the other (either way round); spreads are formed in priority order from the
    quantities the earlier spreads left.

    Parameters
    ----------
    leg_a, leg_b : str
        Instrument labels (book columns) of the two legs.
    charge : float
        Charge per spread (>= 0), in the reporting currency.
    priority : int
        Lower values are formed first (ties keep the given order).
    """

    leg_a: str
    leg_b: str
    charge: float
    priority: int = 0

    def __post_init__(self) -> None:
        if self.leg_a == self.leg_b:
            raise ParameterError(f"an intra spread needs two different legs, got {self.leg_a!r}")
        if not (math.isfinite(self.charge) and self.charge >= 0.0):
            raise ParameterError(
                f"intra spread charge of {self.leg_a}/{self.leg_b} is {self.charge}; give a "
                "finite amount >= 0"
            )


@dataclass(frozen=True)
class _Prep:
    unit_grid: Float64Array2D  # instruments x (underlyings * 16), weighted unit P&L, block layout
    delta: Float64Array  # per instrument
    indicator: Float64Array2D
    underlyings: tuple[str, ...]
    spreads: tuple[tuple[int, int, SpreadCredit], ...]
    driver_labels: np.ndarray  # underlyings x 16 "<underlying> scenario <s>"
    intra_rate: Float64Array  # per underlying, charge per unit of spread notional
    spot: Float64Array  # per underlying
    intra_pairs: tuple[tuple[int, int, float], ...]  # columns and charge of each IntraSpread


@dataclass(frozen=True)
class ScenarioGridEngine(BookEngine):
    """SPAN-style margin: worst loss over a 16-scenario grid per underlying, less spread credits.

    Parameters
    ----------
    price_scan : mapping or pandas.Series
        Price scan range per underlying as a relative move (0.15 = 15%); scenario prices are
        ``S (1 + k * range)``, so ``extreme_multiple * range`` must be < 1.
    vol_scan : mapping, pandas.Series or float
        Volatility scan range (absolute, 0.05 = 5 vol points); only options react to it.
    extreme_multiple : float
        Extreme move size in price scan ranges (default 2).
    extreme_fraction : float
        Share of the extreme-move loss that counts (default 0.35).
    spreads : sequence of SpreadCredit
        Inter-commodity spreads, applied in priority order.
    intra_spread_charge : mapping, pandas.Series or float
        Intra-commodity (basis / calendar) spread charge per underlying as a share of the
        spread notional (default 0): the grid moves every instrument on an underlying
        together, so offsetting deltas across instruments (spot vs future, two expiries)
        look riskless; the charge adds ``rate * S * min(long delta, short delta)``.
    offset_policy : OffsetPolicy, optional
        Cap on the offset between isolated and cross margin.
    intra_spreads : sequence of IntraSpread
        SPAN intra-commodity spread charges per pair of instruments (tiers), formed in
        priority order; pairs whose legs are not both in the book are skipped.

    Notes
    -----
    For underlying ``u`` the risk array holds the weighted loss of the positions on ``u`` in
    each of the 16 scenarios of :func:`risk_array_grid`; the scan risk is its maximum, floored
    at 0. Spreads are then formed in priority order between legs with opposite net deltas:
    the number of spreads is ``n = min(|D_a| / r_a, |D_b| / r_b)`` from the remaining deltas;
    leg ``x`` contributes risk ``n r_x scan_x / |D_x^0|`` (its risk per delta times the deltas
    used) and the credit is ``rate * min(risk_a, risk_b)``. Margin = sum of scan risks minus
    credits (``rate * min(risk_a, risk_b)``, or ``rate * (risk_a + risk_b)`` for a spread
    with ``basis="each leg"``) plus intra-commodity charges (the delta-based rate, and for
    each :class:`IntraSpread` ``charge * n`` with ``n`` the spreads formed). The driver is the
    underlying and scenario of the largest scan risk.
    """

    price_scan: Mapping[str, float] | pd.Series
    vol_scan: Mapping[str, float] | pd.Series | float = 0.0
    extreme_multiple: float = 2.0
    extreme_fraction: float = 0.35
    spreads: Sequence[SpreadCredit] = ()
    intra_spread_charge: Mapping[str, float] | pd.Series | float = 0.0
    offset_policy: OffsetPolicy | None = None
    intra_spreads: Sequence[IntraSpread] = ()
    name: ClassVar[str] = "scenario_grid"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.extreme_multiple) and self.extreme_multiple >= 1.0):
            raise ParameterError(f"extreme_multiple is {self.extreme_multiple}; give >= 1")
        if not (math.isfinite(self.extreme_fraction) and 0.0 <= self.extreme_fraction <= 1.0):
            raise ParameterError(f"extreme_fraction is {self.extreme_fraction}; give [0, 1]")
        object.__setattr__(self, "spreads", tuple(sorted(self.spreads, key=lambda s: s.priority)))
        object.__setattr__(
            self, "intra_spreads", tuple(sorted(self.intra_spreads, key=lambda s: s.priority))
        )

    def risk_arrays(self, book: PortfolioBook, market: Market) -> pd.DataFrame:
        """Weighted unit P&L of every instrument in each of the 16 scenarios of its underlying.

        Returns
        -------
        pandas.DataFrame
            Instrument x scenario (1..16) P&L of one long unit; the extreme scenarios are
            already multiplied by ``extreme_fraction``.
        """
        grid = risk_array_grid(self.extreme_multiple, self.extreme_fraction)
        underlyings = book.underlyings
        scans = per_underlying(self.price_scan, underlyings, "price scan range", allow_zero=False)
        vols = per_underlying(self.vol_scan, underlyings, "volatility scan range")
        too_wide = self.extreme_multiple * scans >= 1.0
        if too_wide.any():
            u = underlyings[int(np.argmax(too_wide))]
            raise ParameterError(
                f"price scan range of {u!r} is {scans[too_wide][0]}; with "
                f"extreme multiple {self.extreme_multiple} prices would reach 0"
            )
        scenarios = Scenarios(
            pd.DataFrame(np.outer(grid["price"], scans), index=grid.index, columns=underlyings),
            kind="relative",
            vol_shifts=pd.DataFrame(
                np.outer(grid["vol"], vols), index=grid.index, columns=underlyings
            ),
        )
        out = unit_pnl(book.instruments, market, scenarios) * grid["weight"].to_numpy()
        return pd.DataFrame(out, index=book.quantities.columns, columns=grid.index)

    def _prepare(self, book: PortfolioBook, market: Market) -> _Prep:
        underlyings = book.underlyings
        arrays = self.risk_arrays(book, market).to_numpy()
        indicator = book.underlying_matrix()
        # scenario-major layout: column s * n_underlyings + k holds scenario s of underlying k
        unit_grid = (arrays[:, :, None] * indicator[:, None, :]).reshape(len(arrays), -1)
        index = {u: k for k, u in enumerate(underlyings)}
        spreads = tuple(
            (index[s.leg_a], index[s.leg_b], s)
            for s in self.spreads
            if s.leg_a in index and s.leg_b in index
        )
        delta = book_exposures(book, market)["delta"].to_numpy(dtype=float)
        labels = np.array(
            [[f"{u} scenario {k}" for k in range(1, N_SCENARIOS + 1)] for u in underlyings],
            dtype=object,
        )
        intra = per_underlying(self.intra_spread_charge, underlyings, "intra-commodity charge")
        spot = np.array([market.spot_of(u) for u in underlyings])
        columns = {label: j for j, label in enumerate(book.quantities.columns)}
        intra_pairs = tuple(
            (columns[s.leg_a], columns[s.leg_b], s.charge)
            for s in self.intra_spreads
            if s.leg_a in columns and s.leg_b in columns
        )
        return _Prep(
            np.ascontiguousarray(unit_grid),
            delta,
            indicator,
            underlyings,
            spreads,
            labels,
            intra,
            spot,
            intra_pairs,
        )

    def _losses(self, q: Float64Array2D, prep: _Prep) -> np.ndarray:
        losses = q @ prep.unit_grid
        np.negative(losses, out=losses)
        return losses.reshape(q.shape[0], N_SCENARIOS, len(prep.underlyings))

    def _credits(self, q: Float64Array2D, scan: Float64Array2D, prep: _Prep) -> Float64Array:
        credits = np.zeros(q.shape[0])
        if not prep.spreads:
            return credits
        delta0 = (q * prep.delta) @ prep.indicator
        remaining = np.abs(delta0)
        with np.errstate(divide="ignore", invalid="ignore"):
            risk_per_delta = np.where(remaining > 0, scan / remaining, 0.0)
        for a, b, spread in prep.spreads:
            hedged = delta0[:, a] * delta0[:, b] < 0
            n = np.where(
                hedged,
                np.minimum(
                    remaining[:, a] / spread.delta_ratio_a, remaining[:, b] / spread.delta_ratio_b
                ),
                0.0,
            )
            risk_a = n * spread.delta_ratio_a * risk_per_delta[:, a]
            risk_b = n * spread.delta_ratio_b * risk_per_delta[:, b]
            if spread.basis == "each leg":  # each leg's credit, then the sum, as CME adds them
                credits += spread.rate * risk_a + spread.rate * risk_b
            else:
                credits += spread.rate * np.minimum(risk_a, risk_b)
            remaining[:, a] -= n * spread.delta_ratio_a
            remaining[:, b] -= n * spread.delta_ratio_b
        return credits

    @staticmethod
    def _intra(q: Float64Array2D, prep: _Prep) -> Float64Array:
        charges = np.zeros(q.shape[0])
        if prep.intra_rate.any():
            deltas = q * prep.delta
            longs = np.maximum(deltas, 0.0) @ prep.indicator
            shorts = np.maximum(-deltas, 0.0) @ prep.indicator
            charges += (np.minimum(longs, shorts) * (prep.intra_rate * prep.spot)).sum(axis=1)
        if prep.intra_pairs:
            remaining = q.copy()
            for a, b, charge in prep.intra_pairs:
                qa, qb = remaining[:, a], remaining[:, b]
                n = np.where(qa * qb < 0, np.minimum(np.abs(qa), np.abs(qb)), 0.0)
                charges += charge * n
                remaining[:, a] -= np.sign(qa) * n
                remaining[:, b] -= np.sign(qb) * n
        return charges

    def _cross(self, q: Float64Array2D, prep: _Prep) -> tuple[Float64Array, np.ndarray]:
        losses = self._losses(q, prep)
        scan = np.maximum(losses.max(axis=1), 0.0)
        margin = np.maximum(
            scan.sum(axis=1) + self._intra(q, prep) - self._credits(q, scan, prep), 0.0
        )
        top = np.argmax(scan, axis=1)
        worst = np.argmax(losses[np.arange(q.shape[0]), :, top], axis=1)
        return margin, prep.driver_labels[top, worst]
