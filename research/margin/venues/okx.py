r"""OKX-style portfolio margin: risk units stressed by MR1-MR9, a minimum charge and borrowing.

Follows OKX's published portfolio-margin methodology: the help article "Multi-currency margin
mode vs. Portfolio margin mode" (https://www.okx.com/help/11951498951821), the parameter
announcement "OKX will further adjust portfolio margin parameters" (2 January 2025) and the API
reference of the position builder with its worked response
(https://www.okx.com/docs-v5/en/#trading-account-rest-api-position-builder-new), as collected
in ``../shared/research/venues.md`` section 2. Results are labelled ``"OKX-style"``.

Every underlying is a risk unit (its spot, perpetuals, futures and options together: the
spot-derivatives risk offset mode). Per risk unit, in USD:

.. math::

    \text{MMR}_{ru} &= \max\big(\max(MR1, MR2, MR6) + MR3 + MR4 + MR5 + MR9,\ MR7\big), \qquad
    \text{IMR}_{ru} = 1.3\, \text{MMR}_{ru} \\
    \text{MMR} &= \textstyle\sum_{ru} \text{MMR}_{ru} + \text{borrowing MMR}, \qquad
    \text{IMR} = \textstyle\sum_{ru} \text{IMR}_{ru} + \text{borrowing IMR}

- MR1 (spot shock): the largest loss over the price grid of the unit's currency group
  (BTC/ETH 0, +-4, +-8, +-12%; the mid-cap group 0, +-6, +-12, +-18%) under volatility down,
  unchanged and up (options revalued with the package's Black-76);
- MR6 (extreme move): half the larger loss at +-24% (BTC/ETH) or +-36% (mid caps), volatility
  unchanged;
- MR4 (basis): ``rate x |delta cash|`` per position: the perpetual rate (0.2% BTC/ETH, 0.8% mid
  caps, both inferred from the worked example) and, for dated futures and options, the group's
  annualised move risk x time to expiry (an assumption: the published table gives the
  annualised move, not the formula);
- MR7 (minimum charge): ``rate x sum |delta cash|`` of the derivatives (0.45% BTC/ETH, 0.7% mid
  caps, inferred from the example) times the multiplier of the tier the raw charge falls in;
- MR2 (theta decay), MR3 (vega span), MR5 (interest rate): formulas not published, charged 0
  (a :class:`~research.errors.ResearchWarning` says so when a book holds options); MR9
  (USDT-USDC-USD depeg): the package's instruments carry no settlement stablecoin, 0;
- borrowing (MR8): a negative :class:`~research.portfolio.Spot` holding is a loan; its IMR is
  the currency's rate x the USD liability (10% for USDT, inferred from the example) and its MMR
  a share (20%, inferred) of the IMR.

Volatility shocks of MR1 (the published table is cut after "0 days 30"): the shift is the larger
of ``points`` and ``percent x vol`` of the last row whose days do not exceed the option's days to
expiry (defaults 30/25/20 points and 50/35/25% at 0/30/60 days, from a third-party
reimplementation, unverified), volatility down floored at 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

import numba as nb
import numpy as np
import numpy.typing as npt
import pandas as pd

from research._typing import Float64Array, Float64Array2D
from research.errors import DataError, ParameterError, ResearchWarning
from research.margin.tail import row_product
from research.margin.venues._params import VenueEngine, position_name
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    Instrument,
    InversePerpetual,
    LinearPerpetual,
    Market,
    Portfolio,
    PortfolioBook,
    Spot,
)

__all__ = [
    "OkxEngine",
    "extreme_move_charge",
    "minimum_charge",
    "risk_unit_mmr",
]

Amount: TypeAlias = float | np.ndarray
VOLS = ("down", "same", "up")
TERMS = ("mr1", "mr2", "mr3", "mr4", "mr5", "mr6", "mr7", "mr9")


def risk_unit_mmr(
    mr1: Amount,
    mr2: Amount,
    mr3: Amount,
    mr4: Amount,
    mr5: Amount,
    mr6: Amount,
    mr7: Amount,
    mr9: Amount,
) -> Amount:
    """OKX's combination rule: ``max(max(MR1, MR2, MR6) + MR3 + MR4 + MR5 + MR9, MR7)``.

    Parameters
    ----------
    mr1, mr2, mr3, mr4, mr5, mr6, mr7, mr9 : float or ndarray
        The risk unit's charges (USD, >= 0), broadcast together.

    Returns
    -------
    float or ndarray
        Maintenance requirement of the risk unit.
    """
    return np.maximum(np.maximum(np.maximum(mr1, mr2), mr6) + mr3 + mr4 + mr5 + mr9, mr7)


def extreme_move_charge(pnl_extremes: npt.ArrayLike, share: float = 0.5, axis: int = -1) -> Amount:
    """MR6: ``share`` of the larger loss at the extreme moves, 0 without a loss.

    The worked example charges exactly half the loss (``mr6 = 0.5 |pnl|`` at +-24% / +-36%).

    Parameters
    ----------
    pnl_extremes : array-like
        P&L at the extreme moves, along ``axis``.
    share : float
        Share of the loss charged.
    axis : int
        Axis of the extreme moves.

    Returns
    -------
    float or ndarray
    """
    return share * np.maximum(-np.min(pnl_extremes, axis=axis), 0.0)


def minimum_charge(raw: Amount, bounds: Sequence[float], multipliers: Sequence[float]) -> Amount:
    """MR7: the raw minimum charge times the multiplier of its tier.

    Parameters
    ----------
    raw : float or ndarray
        Raw minimum charge (USD).
    bounds : sequence of float
        Upper bounds of the tiers but the last, increasing (a raw charge equal to a bound falls
        in the lower tier: "[0-10,000] x1; (10,000-70,000] x2 ...").
    multipliers : sequence of float
        One more than ``bounds``.

    Returns
    -------
    float or ndarray
    """
    index = np.searchsorted(np.asarray(bounds, dtype=float), raw, side="left")
    return np.asarray(multipliers, dtype=float)[index] * raw


@nb.njit(inline="always")
def _max(a, b):  # pragma: no cover - compiled
    """``np.maximum(a, b)`` of two floats (NaN propagates, ties give ``a``)."""
    return a if (a >= b or a != a) else b


@nb.njit(inline="always")
def _tier_multiplier(raw, bounds, n_bounds, multipliers):  # pragma: no cover - compiled
    """Return the multiplier :func:`minimum_charge` applies (its ``searchsorted``, left)."""
    if raw != raw:
        return multipliers[n_bounds]
    i = 0
    while i < n_bounds and bounds[i] < raw:
        i += 1
    return multipliers[i]


@nb.njit(nogil=True, cache=True)
def _worst_cells_kernel(
    cells, one, x, n_mr1, share, lo, at, mr1, mr6, mr1_at, mr6_at
):  # pragma: no cover
    """MR1, MR6 and their cells of every portfolio of one risk unit.

    ``cells`` is the unit's cells x rows P&L (``one`` false, ``x`` unused), or (``one``
    true) for a unit of one instrument its cells x 1 P&L of one unit and ``x`` the rows'
    quantities: a cell is then the one product ``cells[c, 0] x[r]`` (the bits of the matrix
    product with one inner term), formed on the fly. MR1 is ``max(-min, 0)`` over the first
    ``n_mr1`` cells, its cell the last minimum (ties: volatility up, as
    :meth:`OkxEngine._worst_cells`); MR6 is :func:`extreme_move_charge` of the last two
    cells, its cell the first minimum (as ``np.argmin``). NaN propagates as in numpy.
    ``lo`` and ``at`` are scratch of one row each; the cells are the outer loop so that the
    inner one runs over contiguous rows.
    """
    n_rows = lo.shape[0]
    n = cells.shape[0]
    nan = False
    for r in range(n_rows):
        lo[r] = np.inf
        at[r] = 0
    for c in range(n_mr1):
        if one:
            unit = cells[c, 0]
            for r in range(n_rows):
                v = unit * x[r]
                take = v <= lo[r]
                nan |= v != v
                lo[r] = v if take else lo[r]
                at[r] = c if take else at[r]
        else:
            row = cells[c]
            for r in range(n_rows):
                v = row[r]
                take = v <= lo[r]
                nan |= v != v
                lo[r] = v if take else lo[r]
                at[r] = c if take else at[r]
    for r in range(n_rows):
        down = cells[n - 2, 0] * x[r] if one else cells[n - 2, r]
        up = cells[n - 1, 0] * x[r] if one else cells[n - 1, r]
        m = -lo[r]
        mr1[r] = m if m >= 0.0 else 0.0
        mr1_at[r] = at[r]
        if down != down:
            worst, six = down, 0
        elif up != up or up < down:
            worst, six = up, 1
        else:
            worst, six = down, 0
        mr6[r] = share * _max(-worst, 0.0)
        mr6_at[r] = six
    if nan:  # NaN cells (only from absurd inputs, refused later): numpy's NaN and last NaN cell
        for r in range(n_rows):
            for c in range(n_mr1):
                v = cells[c, 0] * x[r] if one else cells[c, r]
                if v != v:
                    mr1[r] = v
                    mr1_at[r] = c


@nb.njit(nogil=True, cache=True)
def _tiered(raw, unit_of, bounds, n_bounds, multipliers, out):  # pragma: no cover - compiled
    """Set ``out[r, j]`` to :func:`minimum_charge` of ``raw[r, j]`` in column j's unit (or 0)."""
    for r in range(raw.shape[0]):
        for j in range(raw.shape[1]):
            k = unit_of[j]
            if k < 0:
                out[r, j] = 0.0
            else:
                x = raw[r, j]
                out[r, j] = _tier_multiplier(x, bounds[k], n_bounds[k], multipliers[k]) * x


@nb.njit(nogil=True, cache=True)
def _isolated_kernel(  # pragma: no cover - compiled
    q,
    own,
    unit_of,
    bounds,
    n_bounds,
    multipliers,
    share,
    imr_factor,
    initial,
    borrow,
    borrow_mmr_share,
    out,
):
    """Margin of every holding alone from its unit's extreme cells (:meth:`OkxEngine._isolated`).

    The same operations in the same order as :func:`risk_unit_mmr` with MR2, MR3, MR5 and MR9
    zero (each ``+ 0.0`` kept, so the bits are those of the numpy expression).
    """
    for r in range(q.shape[0]):
        for j in range(q.shape[1]):
            x = q[r, j]
            long = x > 0
            mr1 = _max(-(x * own[j, 0] if long else x * own[j, 1]), 0.0)
            mr6 = share * _max(-(x * own[j, 2] if long else x * own[j, 3]), 0.0)
            size = abs(x)
            mr4 = size * own[j, 4]
            k = unit_of[j]
            mr7 = 0.0
            if k >= 0:
                raw = size * own[j, 5]
                mr7 = _tier_multiplier(raw, bounds[k], n_bounds[k], multipliers[k]) * raw
            a = _max(_max(mr1, 0.0), mr6)
            a = a + 0.0
            a = a + mr4
            a = a + 0.0
            a = a + 0.0
            mmr = _max(a, mr7)
            loan = _max(-x, 0.0) * borrow[j]
            if initial:
                out[r, j] = imr_factor * mmr + loan
            else:
                out[r, j] = mmr + borrow_mmr_share * loan


@dataclass(frozen=True)
class _Prep:
    units: tuple[str, ...]
    mr1_labels: tuple[np.ndarray, ...]  # per unit: "<unit> MR1 <move> vol <v>" of its cells
    # per unit: its columns and their USD P&L of one unit (cells x columns): MR1 cells
    # (moves x down/same/up), then -extreme, +extreme
    groups: tuple[tuple[np.ndarray, Float64Array2D], ...]
    charges: Float64Array2D  # instruments x (2 units): MR4, then raw MR7, of one unit held
    borrow: Float64Array  # instruments: borrowing IMR per unit shorted (Spot only)
    mr6_share: float
    imr_factor: float
    borrow_mmr_share: float
    tiers: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]  # per unit
    grids: tuple[Float64Array, ...]  # MR1 price moves per unit
    extremes: Float64Array  # MR6 move per unit
    notes: tuple[str, ...]
    mr6_labels: np.ndarray  # units x 2 "<unit> MR6 -24%", "<unit> MR6 +24%"
    unit_of: np.ndarray  # instruments: index of the risk unit (-1: a stablecoin)
    own: Float64Array2D  # instruments x 6: MR1 min/max, MR6 min/max, MR4, raw MR7 of one unit
    # MR7 tiers per unit for the compiled kernels: bounds (padded), their count, multipliers
    tier_bounds: Float64Array2D
    tier_count: np.ndarray
    tier_multipliers: Float64Array2D

    @property
    def unit(self) -> Float64Array2D:
        """The dense scenario matrix, instruments x (units x cells) (benchmarks compare with it)."""
        widths = [len(block) for _, block in self.groups]
        dense = np.zeros((len(self.unit_of), sum(widths)))
        start = 0
        for (columns, block), width in zip(self.groups, widths, strict=True):
            dense[columns, start : start + width] = block.T
            start += width
        return dense


def _padded_tiers(
    tiers: Sequence[tuple[tuple[float, ...], tuple[float, ...]]],
) -> tuple[Float64Array2D, np.ndarray, Float64Array2D]:
    """Bounds (padded with inf), bound counts and multipliers (padded) of every unit's tiers."""
    width = max((len(b) for b, _ in tiers), default=0)
    bounds = np.full((len(tiers), width + 1), np.inf)
    multipliers = np.zeros((len(tiers), width + 1))
    for k, (b, m) in enumerate(tiers):
        bounds[k, : len(b)] = b
        multipliers[k, : len(m)] = m
    return bounds, np.array([len(b) for b, _ in tiers], dtype=np.intp), multipliers


@dataclass(frozen=True)
class OkxEngine(VenueEngine):
    """OKX-style portfolio margin (risk units, MR1-MR9, minimum charge, borrowing).

    Parameters
    ----------
    parameters : VenueParameters
        An ``"OKX-style"`` set, e.g. ``VenueParameters.load("okx_2025-01-06")``.
    requirement : {"initial", "maintenance"}
        IMR (``imr_factor`` x MMR per risk unit plus borrowing IMR) or MMR.
    offset_policy : OffsetPolicy, optional
        Cap on the offset (none at the venue).

    Notes
    -----
    See the module docstring. :meth:`risk_units` reports MR1-MR9, MMR and IMR of every risk
    unit of one portfolio, :meth:`mr1_scenarios` its MR1 grid and :meth:`account` the account
    totals, as OKX's position builder does.
    """

    name: ClassVar[str] = "OKX-style"
    supported: ClassVar[tuple[type, ...]] = (
        Spot,
        LinearPerpetual,
        InversePerpetual,
        DatedFuture,
        EuropeanOption,
    )

    # ------------------------------------------------------------------ parameters
    def _group(self, currency: str, position: str) -> str:
        group = self.parameters.for_currency("group_of", currency, position)
        if not isinstance(group, str):
            raise ParameterError(
                f"{self.parameters.where}: group_of.{currency} must name a group, got {group!r}"
            )
        return group

    def _group_number(self, group: str, key: str, **bounds: Any) -> float:
        bounds.setdefault("low", 0.0)
        return self.parameters.number("groups", group, key, **bounds)

    def _vol_shift(self, option: EuropeanOption, market: Market, sigma: float) -> float:
        """MR1 volatility shift of an option: ``max(points, percent x vol)`` of its row."""
        p = self.parameters
        days = p.numbers("mr1_vol_shock", "days", low=0.0)
        points = p.numbers("mr1_vol_shock", "points", low=0.0)
        percent = p.numbers("mr1_vol_shock", "percent", low=0.0)
        if not (len(days) == len(points) == len(percent)) or list(days) != sorted(days):
            raise ParameterError(
                f"{p.where}: mr1_vol_shock needs increasing days and as many points and "
                "percents as days"
            )
        dte = market.time_to(option.expiry) * 365.0
        row = max(int(np.searchsorted(days, dte, side="right")) - 1, 0)
        return max(points[row], percent[row] * sigma)

    def _unit_pnl(
        self, instrument: Instrument, market: Market, grid: Float64Array, extreme: float
    ) -> Float64Array:
        """USD P&L of one long unit: MR1 cells (moves x down/same/up), then -extreme, +extreme."""
        up = down = 0.0
        if isinstance(instrument, EuropeanOption):
            sigma = instrument.implied_vol
            if sigma is None:
                sigma = market.volatility_of(instrument.underlying)
            up = self._vol_shift(instrument, market, sigma)
            down = -min(up, sigma)  # volatility down floored at 0
        moves = np.concatenate([np.repeat(grid, len(VOLS)), [-extreme, extreme]])
        vols = np.concatenate([np.tile([down, 0.0, up], len(grid)), [0.0, 0.0]])
        spot = market.spot_of(instrument.underlying)
        return instrument.pnl(market, spot * (1.0 + moves), vols)

    def _charges(self, instrument: Instrument, market: Market, group: str) -> tuple[float, float]:
        """MR4 and raw MR7 of one unit held, from its delta cash (0 for spot)."""
        if isinstance(instrument, Spot):
            return 0.0, 0.0
        delta_cash = abs(instrument.greeks(market).delta) * market.spot_of(instrument.underlying)
        if isinstance(instrument, LinearPerpetual | InversePerpetual):
            basis_rate = self._group_number(group, "mr4_perpetual_rate")
        else:
            annual = self._group_number(group, "mr4_annualised_move_risk")
            basis_rate = annual * market.time_to(instrument.expiry)
        return basis_rate * delta_cash, self._group_number(group, "mr7_rate") * delta_cash

    def _tiers(self, group: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
        p = self.parameters
        bounds = p.numbers("groups", group, "mr7_tiers", "bounds", low=0.0)
        mults = p.numbers("groups", group, "mr7_tiers", "multipliers", low=0.0)
        if len(mults) != len(bounds) + 1 or list(bounds) != sorted(bounds):
            raise ParameterError(
                f"{p.where}: groups.{group}.mr7_tiers needs increasing bounds and one more "
                "multiplier than bounds"
            )
        return bounds, mults

    def _venue_prepare(self, book: PortfolioBook, market: Market) -> _Prep:
        p = self.parameters
        stable = set(p.value("stablecoins"))
        units: list[str] = []
        first: dict[str, str] = {}
        for instrument in book.instruments:
            u = instrument.underlying
            if u in stable and not isinstance(instrument, Spot):
                raise DataError(
                    f"{self.name} engine: {position_name(instrument)} is a derivative on a "
                    f"stablecoin ({sorted(stable)} are collateral, not risk units)"
                )
            if u not in stable and u not in first:
                units.append(u)
                first[u] = position_name(instrument)
        groups = {u: self._group(u, first[u]) for u in units}
        # each group's parameters read once (a book has many units, the set a few groups)
        grid_of, tiers_of = {}, {}
        for g in dict.fromkeys(groups.values()):
            steps = p.numbers("groups", g, "mr1_moves", low=0.0, high=1.0, strict=True)
            grid_of[g] = np.concatenate([[0.0], np.ravel([[s, -s] for s in steps])])
            tiers_of[g] = self._tiers(g)
        grids = [grid_of[groups[u]] for u in units]
        tiers = [tiers_of[groups[u]] for u in units]
        extremes = np.array(
            [self._group_number(groups[u], "mr6_move", high=1.0, strict=True) for u in units]
        )
        labels = tuple(
            np.array([f"{u} MR1 {s:+.0%} vol {v}" for s in grid for v in VOLS], dtype=object)
            for u, grid in zip(units, grids, strict=True)
        )
        index = {u: k for k, u in enumerate(units)}
        n = len(book.instruments)
        unit: list[Float64Array] = [np.empty(0)] * n
        basis = np.zeros((n, len(units)))
        raw_min = np.zeros((n, len(units)))
        borrow = np.zeros(n)
        for j, instrument in enumerate(book.instruments):
            u = instrument.underlying
            if isinstance(instrument, Spot) and (book.quantities.iloc[:, j] < 0).any():
                # a loan: only a book that borrows the currency needs its rate
                rate = p.currency_number(
                    "borrow_imr_rate", u, None, position_name(instrument), low=0.0
                )
                borrow[j] = rate * market.spot_of(u)
            if u in stable:
                continue
            k = index[u]
            unit[j] = self._unit_pnl(instrument, market, grids[k], extremes[k])
            basis[j, k], raw_min[j, k] = self._charges(instrument, market, groups[u])
        unit_of = np.array([index.get(i.underlying, -1) for i in book.instruments], dtype=np.intp)
        own = np.zeros((n, 6))
        for j, k in enumerate(unit_of):
            if k >= 0:
                cells = unit[j]
                own[j] = (
                    cells[:-2].min(),
                    cells[:-2].max(),
                    cells[-2:].min(),
                    cells[-2:].max(),
                    basis[j, k],
                    raw_min[j, k],
                )
        blocks = []
        for k in range(len(units)):
            columns = np.flatnonzero(unit_of == k)
            blocks.append((columns, np.ascontiguousarray(np.array([unit[j] for j in columns]).T)))
        notes: tuple[str, ...] = ()
        if any(isinstance(i, EuropeanOption) for i in book.instruments):
            notes = (
                f"{self.name} engine: MR2 (theta decay), MR3 (vega span) and MR5 (interest "
                "rate) of the options are charged 0: OKX does not publish their formulas",
            )
            warnings.warn(notes[0], ResearchWarning, stacklevel=4)
        return _Prep(
            tuple(units),
            labels,
            tuple(blocks),
            np.hstack([basis, raw_min]),
            borrow,
            p.number("mr6_share", low=0.0, high=1.0),
            p.number("imr_factor", low=1.0),
            p.number("borrow_mmr_share", low=0.0, high=1.0),
            tuple(tiers),
            tuple(grids),
            extremes,
            notes,
            np.array(
                [
                    [f"{u} MR6 {-x:+.0%}", f"{u} MR6 {x:+.0%}"]
                    for u, x in zip(units, extremes, strict=True)
                ],
                dtype=object,
            ).reshape(len(units), 2),
            unit_of,
            own,
            *_padded_tiers(tiers),
        )

    def _warnings(self, prep: _Prep) -> tuple[str, ...]:
        return prep.notes

    # ------------------------------------------------------------------ kernels
    @staticmethod
    def _combine(
        mr1: np.ndarray, mr6: np.ndarray, mr4: np.ndarray, mr7: np.ndarray, prep: _Prep
    ) -> dict[str, np.ndarray]:
        mmr = risk_unit_mmr(mr1, 0.0, 0.0, mr4, 0.0, mr6, mr7, 0.0)
        zero = np.zeros_like(mr1)
        terms = dict(mr1=mr1, mr2=zero, mr3=zero, mr4=mr4, mr5=zero, mr6=mr6, mr7=mr7, mr9=zero)
        return {**terms, "mmr": mmr, "imr": prep.imr_factor * mmr}

    def _terms(self, q: Float64Array2D, prep: _Prep) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Transposed quantities and MR terms, MMR, IMR (rows x units) and borrowing (rows).

        Every instrument moves in its own risk unit only, so the cells of a unit are the
        product of its own columns with its cells (the scenario matrix is block-sparse), laid
        out cells x rows; a compiled pass takes each portfolio's worst MR1 and MR6 cells
        (``mr1_cell``, ``mr6_cell``: rows x units) with their charges. A unit of one
        instrument forms its cells on the fly instead of storing them.
        """
        q_t = np.ascontiguousarray(q.T)
        n_units, n_rows = len(prep.units), q.shape[0]
        mr1 = np.empty((n_rows, n_units))
        mr6 = np.empty_like(mr1)
        mr1_at = np.empty((n_rows, n_units), dtype=np.int32)
        mr6_at = np.empty_like(mr1_at)
        lo, at = np.empty(n_rows), np.empty(n_rows, dtype=np.int32)
        for k, (columns, block) in enumerate(prep.groups):
            one = len(columns) == 1
            _worst_cells_kernel(
                block if one else block @ q_t[columns],
                one,
                q_t[columns[0]],
                block.shape[0] - 2,
                prep.mr6_share,
                lo,
                at,
                mr1[:, k],
                mr6[:, k],
                mr1_at[:, k],
                mr6_at[:, k],
            )
        charges = row_product(np.abs(q), prep.charges)
        mr7 = np.empty((n_rows, n_units))
        _tiered(
            charges[:, n_units:],
            np.arange(n_units),
            prep.tier_bounds,
            prep.tier_count,
            prep.tier_multipliers,
            mr7,
        )
        terms = self._combine(mr1, mr6, charges[:, :n_units], mr7, prep)
        borrow_imr = np.zeros(n_rows)
        if prep.borrow.any():
            borrow_imr = row_product(np.maximum(-q, 0.0), prep.borrow[:, None])[:, 0]
        terms["borrow_imr"] = borrow_imr
        terms["borrow_mmr"] = prep.borrow_mmr_share * borrow_imr
        terms["mr1_cell"], terms["mr6_cell"] = mr1_at, mr6_at
        return q_t, terms

    @staticmethod
    def _cells(q_t: np.ndarray, prep: _Prep, k: int, rows: np.ndarray) -> np.ndarray:
        """Cells of risk unit ``k`` for some rows (rows x cells)."""
        columns, block = prep.groups[k]
        return (block @ q_t[np.ix_(columns, rows)]).T

    @staticmethod
    def _worst_cells(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """MR1 and MR6 cells of the largest loss in blocks of one unit's cells (last axis).

        MR1 ties (equal volatility cells) report the last, volatility up, as OKX's API does.
        """
        mr1_cells = block[..., :-2]
        mr1_at = mr1_cells.shape[-1] - 1 - np.argmin(mr1_cells[..., ::-1], axis=-1)
        return mr1_at, np.argmin(block[..., -2:], axis=-1)

    def _cross(self, q: Float64Array2D, prep: _Prep) -> tuple[Float64Array, np.ndarray]:
        q_t, t = self._terms(q, prep)
        level = "imr" if self.requirement == "initial" else "mmr"
        borrow = t[f"borrow_{level}"]
        margin = t[level].sum(axis=1) + borrow
        driver = np.full(q.shape[0], "borrowing", dtype=object)
        if prep.units:
            rows = np.arange(q.shape[0])
            top = np.argmax(t["mmr"], axis=1)
            pick = {key: t[key][rows, top] for key in ("mr1", "mr4", "mr6", "mr7")}
            label = np.empty(q.shape[0], dtype=object)
            mr1_cell, mr6_cell = t["mr1_cell"][rows, top], t["mr6_cell"][rows, top]
            for k in range(len(prep.units)):
                at = np.flatnonzero(top == k)
                if at.size:
                    label[at] = np.where(
                        pick["mr6"][at] > pick["mr1"][at],
                        prep.mr6_labels[k, mr6_cell[at]],
                        prep.mr1_labels[k][mr1_cell[at]],
                    )
            units = np.array(prep.units, dtype=object)[top]
            label = np.where(
                pick["mr7"] > np.maximum(pick["mr1"], pick["mr6"]) + pick["mr4"],
                units + " MR7 minimum charge",
                label,
            )
            driver = np.where(t[level][rows, top] >= borrow, label, driver)
        return margin, driver

    def _isolated(self, q: Float64Array2D, prep: _Prep) -> Float64Array2D:
        """Margin of each holding alone, from the extreme cells of one unit.

        ``min(q c) = q min(c)`` for ``q > 0`` and ``q max(c)`` for ``q < 0`` (exactly, in
        floating point too), so a holding alone needs no product over the cells: one compiled
        pass per holding charges MR1, MR6, MR4 and MR7 and combines them as
        :func:`risk_unit_mmr` does, plus the borrowing term.
        """
        out = np.empty_like(q)
        _isolated_kernel(
            q,
            prep.own,
            prep.unit_of,
            prep.tier_bounds,
            prep.tier_count,
            prep.tier_multipliers,
            prep.mr6_share,
            prep.imr_factor,
            self.requirement == "initial",
            prep.borrow,
            prep.borrow_mmr_share,
            out,
        )
        return out

    # ------------------------------------------------------------------ reports
    def risk_units(self, portfolio: Portfolio, market: Market) -> pd.DataFrame:
        """MR1-MR9, MMR and IMR of every risk unit of one portfolio (USD).

        Returns
        -------
        pandas.DataFrame
            Index: risk units; columns ``mr1`` ... ``mr9`` (``mr8``, borrowing, is an account
            term: see :meth:`account`), ``mmr``, ``imr``, ``mr1_worst`` (the MR1 cell),
            ``mr1_pnl`` (its P&L), ``mr6_shock`` (the extreme move) and ``mr6_pnl``.
        """
        book = portfolio.to_book()
        prep = self._checked_prepare(book, market)
        q_t, t = self._terms(book.quantities.to_numpy(), prep)
        frame = pd.DataFrame(
            {key: t[key][0] for key in (*TERMS, "mmr", "imr")}, index=list(prep.units)
        )
        cells = [self._cells(q_t, prep, k, np.arange(1))[0] for k in range(len(prep.units))]
        worst = [self._worst_cells(c) for c in cells]
        frame["mr1_worst"] = [prep.mr1_labels[k][at] for k, (at, _) in enumerate(worst)]
        frame["mr1_pnl"] = [c[at] for c, (at, _) in zip(cells, worst, strict=True)]
        six = np.array([int(s) for _, s in worst])
        frame["mr6_shock"] = np.where(six == 0, -1.0, 1.0) * prep.extremes
        frame["mr6_pnl"] = [c[-2 + s] for c, s in zip(cells, six, strict=True)]
        return frame

    def mr1_scenarios(self, portfolio: Portfolio, market: Market) -> pd.DataFrame:
        """P&L of every risk unit in the MR1 grid (USD).

        Returns
        -------
        pandas.DataFrame
            Rows: (risk unit, price move); columns: volatility ``down``, ``same``, ``up``.
        """
        book = portfolio.to_book()
        prep = self._checked_prepare(book, market)
        q_t = self._terms(book.quantities.to_numpy(), prep)[0]
        frames = []
        for k, (u, grid) in enumerate(zip(prep.units, prep.grids, strict=True)):
            cells = self._cells(q_t, prep, k, np.arange(1))[0]
            block = cells[:-2].reshape(len(grid), len(VOLS))
            index = pd.MultiIndex.from_product([[u], grid], names=["unit", "move"])
            frames.append(pd.DataFrame(block, index=index, columns=list(VOLS)))
        return pd.concat(frames).sort_index()

    def account(self, portfolio: Portfolio, market: Market) -> pd.Series:
        """Account totals of one portfolio (USD), as the position builder reports them.

        Returns
        -------
        pandas.Series
            ``derivMmr`` (sum of the risk units' MMR), ``borrowMmr``, ``totalMmr``,
            ``borrowImr``, ``totalImr`` (sum of the risk units' IMR plus ``borrowImr``).
        """
        book = portfolio.to_book()
        prep = self._checked_prepare(book, market)
        _, t = self._terms(book.quantities.to_numpy(), prep)
        deriv_mmr = float(t["mmr"].sum())
        borrow_mmr, borrow_imr = float(t["borrow_mmr"][0]), float(t["borrow_imr"][0])
        return pd.Series(
            {
                "derivMmr": deriv_mmr,
                "borrowMmr": borrow_mmr,
                "totalMmr": deriv_mmr + borrow_mmr,
                "borrowImr": borrow_imr,
                "totalImr": float(t["imr"].sum()) + borrow_imr,
            }
        )
