r"""Deribit-style portfolio margin: a 9-bucket x 3-volatility risk matrix plus the extended table.

Follows Deribit's published portfolio-margin ("PME") model: the help article "Portfolio Margin"
(https://support.deribit.com/hc/en-us/articles/25944756247837-Portfolio-Margin) and the
``private/pme/simulate`` API reference with its worked response
(https://docs.deribit.com/api-reference/account-management/private-simulate), as collected in
``../shared/research/venues.md`` section 1. Results are labelled ``"Deribit-style"``: the
engine reproduces the published structure and example, not Deribit's own system.

For every pair of an underlying (index) and a settlement currency, the positions are revalued
on the price buckets ``s_k = price_range (k - n)/n``, ``k = 0..2n`` (``n = buckets_count``,
4: nine buckets from -16% to +16% for BTC), each under the volatility scenarios up, same and
down, and on the extended table (moves -66% ... +500%, volatility up only). Cells are P&L in the
settlement currency:

.. math::

    \text{coin-settled: } \frac{V_0 + \Delta V_{USD}(s)}{S(1+s)} - \frac{V_0}{S}, \qquad
    \text{USD-settled: } \Delta V_{USD}(s),

which for a coin-margined (inverse) perpetual or future of size ``q`` coins is
``q s / (1 + s)`` (EX-DRB-1, exact). Coin-settled: :class:`~research.portfolio.InversePerpetual`,
:class:`~research.portfolio.DatedFuture` (Deribit's dated futures are inverse; with zero carry
the cells are ``q s/(1+s)``) and :class:`~research.portfolio.EuropeanOption` (premium ``V_0`` in
USD, so the coin value is ``V/S``). USD-settled (USDC linear): :class:`~research.portfolio.
LinearPerpetual` and :class:`~research.portfolio.Spot`. Options are revalued with the package's
Black-76 (:meth:`EuropeanOption.value`) under the shocked volatility

.. math::

    \sigma_{up} = \max\big(\sigma (1 + u\, (30/D)^{p}),\ \sigma_{min,up}\big), \qquad
    \sigma_{down} = \max\big(\sigma (1 - d\, (30/D)^{p}),\ 0\big),

``D = max(days to expiry, dte_floor_days)``, ``p`` the short-term vega power below 30 days and
the long-term one from 30 days (third-party "mimics Deribit" text and the legacy page's
``(30/DTE)^0.30``; the multiplicative form and the level floor are that text's).

Aggregation per pair (positions summed cell by cell, the "pre-aggregated" vector): every gain
is multiplied by the currency's ``pnl_offset`` (0 for BTC: gains do not offset), delta-one
extended cells are the +-``price_range`` cells (clamped, as in both published examples), option
extended cells are multiplied by ``extended_table_factor`` and every extended loss is reduced
by the currency's ``extended_dampener`` (a USD amount) and floored at 0. Then

.. math::

    \text{worst case} &= -\min(\text{cells}) \\
    \text{roll shock} &= \textstyle\sum_i |q_i| \max(\text{min annualised move},
        \text{annualised move risk}\ \tau_i) \quad (\text{futures and perpetuals, } \tau = 0)\\
    \text{RMM} &= \text{worst case} + \text{roll shock} + \text{delta shock} \\
    \text{IM} &= \text{RMM} + \text{spot} + \text{MMP} + \text{open-orders margins},
        \qquad \text{MM} = \text{mm\_factor} \times \text{RMM}.

The pairs are margined separately (segregated S:PM) and summed in USD (coin amounts at the
index). The margin of a book is the initial (a book has no orders or MMP: IM = RMM) or the
maintenance requirement.

Parameters the sources do not give, with the defaults used (see the data files' notes): the
extended dampener's form (a USD amount off each extended loss: it zeroes both published
extended vectors), the extended fraction (``extended_table_factor`` on option cells), the
day-count floor (1 day) and the option pricing inputs (the market's carry and rate; Deribit's
deck says rate 0 and the expiry's forward). Not applied, because their formulas are not
published: the delta shock (both examples have 0; a warning is emitted when a book's net delta
exceeds ``delta_total_liq_shock_threshold`` USD, where it would apply), ``max_offsetable_pnl``,
``m_inc`` and the X:PM correlation contingency.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numba as nb
import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D
from research.errors import ParameterError, ResearchWarning
from research.margin.tail import row_product
from research.margin.venues._params import (
    VenueEngine,
    position_name,
)
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

__all__ = ["DeribitEngine", "deribit_requirements"]

USD = "USD"
VOL_SCENARIOS = ("up", "same", "down")
_COIN_SETTLED = (InversePerpetual, DatedFuture, EuropeanOption)


def deribit_requirements(
    worst_case: float,
    roll_shock: float,
    delta_shock: float = 0.0,
    correlation_contingency: float = 0.0,
    spot_margin: float = 0.0,
    mmp_margin: float = 0.0,
    open_orders_margin: float = 0.0,
    mm_factor: float = 0.8,
) -> dict[str, float]:
    """Assemble Deribit's margin fields from the risk-matrix terms (``private/pme/simulate``).

    Parameters
    ----------
    worst_case, roll_shock, delta_shock, correlation_contingency : float
        Terms of the risk-matrix margin (settlement currency).
    spot_margin, mmp_margin, open_orders_margin : float
        Additive terms of the initial margin.
    mm_factor : float
        Maintenance share of the risk-matrix margin (0.8 in the published examples).

    Returns
    -------
    dict
        ``risk_matrix_margin``, ``initial_margin`` and ``maintenance_margin``.
    """
    rmm = worst_case + roll_shock + delta_shock + correlation_contingency
    return {
        "risk_matrix_margin": rmm,
        "initial_margin": rmm + spot_margin + mmp_margin + open_orders_margin,
        "maintenance_margin": mm_factor * rmm,
    }


def settlement_currency(instrument: Instrument) -> str:
    """Settlement currency of a position: the coin for inverse contracts and options, else USD."""
    return instrument.underlying if isinstance(instrument, _COIN_SETTLED) else USD


@dataclass(frozen=True)
class _Pair:
    underlying: str
    currency: str
    to_usd: float  # USD per unit of the settlement currency (the index for a coin)
    pnl_offset: float
    dampener: float  # extended dampener in the settlement currency
    labels: tuple[str, ...]  # cell labels


@nb.njit(nogil=True, cache=True)
def _pair_minima(  # pragma: no cover - compiled
    cells, one, x, n_standard, middle, lo, standard, extended, standard_at, extended_at
):
    """Smallest standard and extended cell of every portfolio of one pair, and where they are.

    ``cells`` is the pair's cells x rows P&L (``one`` false, ``x`` unused), or (``one`` true)
    for a pair of one instrument its cells x 1 P&L of one unit and ``x`` the rows'
    quantities: a cell is then the one product ``cells[c, 0] x[r]`` (the bits of the matrix
    product with one inner term), formed on the fly. The standard cell is that of
    :meth:`DeribitEngine._worst_cell` (among equal smallest cells the first with volatility
    unchanged, ``middle``, else the first); the extended one is the first smallest. NaN
    propagates as in numpy (its cell: 0 for the standard block, the first NaN for the
    extended). ``lo`` is scratch of one row; the cells are the outer loop so that the inner
    one runs over contiguous rows.
    """
    n_rows = lo.shape[0]
    n_cells = cells.shape[0]
    for block in range(2):
        first, stop = (0, n_standard) if block == 0 else (n_standard, n_cells)
        out = standard if block == 0 else extended
        at = standard_at if block == 0 else extended_at
        for r in range(n_rows):
            lo[r] = np.inf
            at[r] = -1 - first
        nan = False
        for c in range(first, stop):
            unit = cells[c, 0] if one else 0.0
            row = cells[c]
            is_middle = middle[c] if block == 0 else False
            for r in range(n_rows):
                v = unit * x[r] if one else row[r]
                nan |= v != v
                if v < lo[r]:
                    lo[r] = v
                    at[r] = c if is_middle else -1 - c  # -1 - c: the first smallest, not middle
                elif v == lo[r] and is_middle and at[r] < 0:
                    at[r] = c
        for r in range(n_rows):
            out[r] = lo[r]
            a = at[r]
            at[r] = a if a >= 0 else -1 - a
        if nan:  # NaN cells (only from absurd inputs, refused later): numpy's minimum and cell
            for r in range(n_rows):
                for c in range(first, stop):
                    v = cells[c, 0] * x[r] if one else cells[c, r]
                    if v != v:
                        out[r] = v
                        at[r] = 0 if block == 0 else c
                        break


@dataclass(frozen=True)
class _Prep:
    own: Float64Array2D  # instruments x cells: settlement-currency P&L of one unit in its pair
    groups: tuple[tuple[np.ndarray, Float64Array2D], ...]  # per pair: columns, cells x columns
    roll: Float64Array2D  # instruments x pairs, roll shock of one unit (settlement currency)
    delta_usd: Float64Array  # instruments, delta notional of one unit (USD)
    pairs: tuple[_Pair, ...]
    n_standard: int
    mm_factor: float
    threshold: float  # smallest delta_total_liq_shock_threshold over the pairs (USD)
    pair_of: np.ndarray  # instruments: index of the instrument's pair
    offset: Float64Array  # pairs: pnl_offset
    dampener: Float64Array  # pairs: extended dampener (settlement currency)
    to_usd: Float64Array  # pairs
    labels: np.ndarray  # pairs x cells
    bounds: Float64Array2D  # instruments x 4: min/max of the unit's standard, extended cells

    @property
    def unit(self) -> Float64Array2D:
        """The dense scenario matrix, instruments x (pairs x cells) (benchmarks compare with it)."""
        n_cells = self.own.shape[1]
        dense = np.zeros((len(self.own), len(self.pairs) * n_cells))
        for j, k in enumerate(self.pair_of):
            dense[j, k * n_cells : (k + 1) * n_cells] = self.own[j]
        return dense


@dataclass(frozen=True)
class DeribitEngine(VenueEngine):
    """Deribit-style portfolio margin (S:PM, segregated per settlement currency).

    Parameters
    ----------
    parameters : VenueParameters
        A ``"Deribit-style"`` set, e.g. ``VenueParameters.load("deribit_2024-06-17")``.
    requirement : {"initial", "maintenance"}
        Initial (risk-matrix margin) or maintenance (``mm_factor`` x risk-matrix margin).
    offset_policy : OffsetPolicy, optional
        Cap on the offset (none at the venue).

    Notes
    -----
    See the module docstring for the risk matrix, its aggregation and the parameters the
    sources leave open. :meth:`risk_matrix` shows the cells of one portfolio and
    :meth:`requirements` its margin fields per pair, as Deribit's API reports them.

    Examples
    --------
    >>> from research.margin.venues import VenueParameters
    >>> from research.portfolio import InversePerpetual, Market, Portfolio, Position
    >>> engine = DeribitEngine(VenueParameters.load("deribit_2024-06-17"))
    >>> market = Market(spot={"BTC": 60_000.0}, valuation_date="2024-06-17")
    >>> p = Portfolio([Position(InversePerpetual("BTC", 10.0), 6_000.0)])  # 1 BTC long
    >>> round(engine.margin(p, market).cross, 2)  # (0.16/0.84 + 0.01) BTC at 60,000
    12028.57
    """

    name: ClassVar[str] = "Deribit-style"
    supported: ClassVar[tuple[type, ...]] = (
        InversePerpetual,
        DatedFuture,
        EuropeanOption,
        LinearPerpetual,
        Spot,
    )

    # ------------------------------------------------------------------ grid
    def price_buckets(self, underlying: str, position: str = "the book") -> Float64Array:
        """Price moves of the standard buckets of ``underlying`` (e.g. -16% ... +16%)."""
        p = self.parameters
        n = int(p.number("buckets_count", low=1))
        rng = self._pair_number(underlying, "price_range", position, low=0.0, high=1.0, strict=True)
        return rng * (np.arange(2 * n + 1) - n) / n

    def _pair_number(self, underlying: str, key: str, position: str, **bounds: Any) -> float:
        bounds.setdefault("low", 0.0)
        return self.parameters.currency_number("pairs", underlying, key, position, **bounds)

    def _currency_number(self, currency: str, key: str, position: str, **bounds: Any) -> float:
        bounds.setdefault("low", 0.0)
        return self.parameters.currency_number("currencies", currency, key, position, **bounds)

    def _vol_shifts(
        self, option: EuropeanOption, market: Market, position: str
    ) -> tuple[float, float, float]:
        """Absolute volatility shifts (up, same, down) of an option."""
        u = option.underlying
        sigma = option.implied_vol if option.implied_vol is not None else market.volatility_of(u)
        floor = self.parameters.number("dte_floor_days", low=0.0, strict=True)
        days = max(market.time_to(option.expiry) * 365.0, floor)
        key = "short_term_vega_power" if days < 30.0 else "long_term_vega_power"
        scale = (30.0 / days) ** self._pair_number(u, key, position)
        up = self._pair_number(u, "volatility_range_up", position)
        down = self._pair_number(u, "volatility_range_down", position)
        floor_up = self._pair_number(u, "min_volatility_for_shock_up", position)
        sigma_up = max(sigma * (1.0 + up * scale), floor_up)
        sigma_down = max(sigma * (1.0 - down * scale), 0.0)
        return sigma_up - sigma, 0.0, sigma_down - sigma

    def _unit_cells(
        self, instrument: Instrument, market: Market, standard: Float64Array, extended: Float64Array
    ) -> Float64Array:
        """Settlement-currency P&L of one long unit in every cell (standard then extended)."""
        position = position_name(instrument)
        u = instrument.underlying
        spot = market.spot_of(u)
        rng = standard[-1]
        is_option = isinstance(instrument, EuropeanOption)
        shifts = self._vol_shifts(instrument, market, position) if is_option else (0.0, 0.0, 0.0)
        moves = np.repeat(standard, len(VOL_SCENARIOS))
        vol = np.tile(shifts, len(standard))
        ext_moves = extended if is_option else np.clip(extended, -rng, rng)
        moves = np.concatenate([moves, ext_moves])
        vol = np.concatenate([vol, np.full(len(extended), shifts[0])])
        scenario = spot * (1.0 + moves)
        pnl = instrument.pnl(market, scenario, vol)
        if settlement_currency(instrument) == USD:
            cells = pnl
        else:
            v0 = float(instrument.value(market)) if is_option else 0.0
            cells = (v0 + pnl) / scenario - v0 / spot
        if is_option:
            factor = self._pair_number(u, "extended_table_factor", position)
            cells[len(standard) * len(VOL_SCENARIOS) :] *= factor
        return cells

    def _unit_roll(self, instrument: Instrument, market: Market) -> float:
        """Roll shock of one unit: ``|size| max(min move, move risk x tau)`` (0 for options)."""
        if isinstance(instrument, EuropeanOption | Spot):
            return 0.0
        position = position_name(instrument)
        currency = settlement_currency(instrument)
        floor = self._currency_number(currency, "min_annualised_move", position)
        risk = self._currency_number(currency, "annualised_move_risk", position)
        tau = market.time_to(instrument.expiry) if isinstance(instrument, DatedFuture) else 0.0
        size = abs(instrument.greeks(market).delta)  # coins per unit
        if currency == USD:
            size *= market.spot_of(instrument.underlying)
        return size * max(floor, risk * tau)

    def _venue_prepare(self, book: PortfolioBook, market: Market) -> _Prep:
        p = self.parameters
        extended = np.asarray(p.numbers("extended_moves", low=-1.0, strict=True))
        mm_factor = p.number("mm_factor", low=0.0, high=1.0)
        keys: dict[tuple[str, str], int] = {}
        for instrument in book.instruments:
            keys.setdefault((instrument.underlying, settlement_currency(instrument)), len(keys))
        pairs = []
        grids = {}
        for u, c in keys:
            where = next(
                position_name(i)
                for i in book.instruments
                if (i.underlying, settlement_currency(i)) == (u, c)
            )
            grids[u] = self.price_buckets(u, where)
            to_usd = 1.0 if c == USD else market.spot_of(u)
            labels = tuple(
                f"{u}/{c} {s:+.1%} vol {v}" for s in grids[u] for v in VOL_SCENARIOS
            ) + tuple(f"{u}/{c} extended {s:+.0%}" for s in extended)
            pairs.append(
                _Pair(
                    u,
                    c,
                    to_usd,
                    self._currency_number(c, "pnl_offset", where, high=1.0),
                    self._currency_number(c, "extended_dampener", where) / to_usd,
                    labels,
                )
            )
        n_cells = len(pairs[0].labels)
        own = np.zeros((len(book.instruments), n_cells))
        roll = np.zeros((len(book.instruments), len(pairs)))
        delta_usd = np.zeros(len(book.instruments))
        pair_of = np.zeros(len(book.instruments), dtype=np.intp)
        for j, instrument in enumerate(book.instruments):
            k = pair_of[j] = keys[(instrument.underlying, settlement_currency(instrument))]
            grid = grids[instrument.underlying]
            own[j] = self._unit_cells(instrument, market, grid, extended)
            roll[j, k] = self._unit_roll(instrument, market)
            delta_usd[j] = instrument.greeks(market).delta * market.spot_of(instrument.underlying)
        n_standard = n_cells - len(extended)
        bounds = np.column_stack(
            [
                own[:, :n_standard].min(axis=1),
                own[:, :n_standard].max(axis=1),
                own[:, n_standard:].min(axis=1),
                own[:, n_standard:].max(axis=1),
            ]
        )
        threshold = min(
            self._pair_number(
                u, "delta_total_liq_shock_threshold", f"underlying {u!r}", strict=True
            )
            for u in grids
        )
        groups = []
        for k in range(len(pairs)):
            columns = np.flatnonzero(pair_of == k)
            groups.append((columns, np.ascontiguousarray(own[columns].T)))
        return _Prep(
            own,
            tuple(groups),
            roll,
            delta_usd,
            tuple(pairs),
            n_standard,
            mm_factor,
            threshold,
            pair_of,
            np.array([pair.pnl_offset for pair in pairs]),
            np.array([pair.dampener for pair in pairs]),
            np.array([pair.to_usd for pair in pairs]),
            np.array([pair.labels for pair in pairs], dtype=object),
            bounds,
        )

    # ------------------------------------------------------------------ kernels
    @staticmethod
    def _aggregate(
        cells: np.ndarray, offset: np.ndarray, dampener: np.ndarray, n_standard: int
    ) -> np.ndarray:
        """Apply ``pnl_offset`` to gains, the dampener to extended losses (last axis: cells).

        ``offset`` and ``dampener`` broadcast against ``cells`` without its last axis.
        """
        offset, dampener = offset[..., None], dampener[..., None]
        out = np.where(cells > 0, cells * offset, cells)
        ext = out[..., n_standard:]
        out[..., n_standard:] = np.where(ext < 0, np.minimum(ext + dampener, 0.0), ext)
        return out

    @staticmethod
    def _worst(
        standard_min: np.ndarray, extended_min: np.ndarray, offset: np.ndarray, dampener: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Worst case from the smallest standard and extended cells, and whether it is extended.

        The aggregation is non-decreasing cell by cell, so the smallest aggregated cell is the
        aggregation of the smallest cell: the kernels need only the two minima.
        """
        standard = np.where(standard_min > 0, standard_min * offset, standard_min)
        extended = np.where(
            extended_min > 0, extended_min * offset, np.minimum(extended_min + dampener, 0.0)
        )
        return np.maximum(-np.minimum(standard, extended), 0.0), extended < standard

    @staticmethod
    def _worst_cell(cells: np.ndarray, extended: np.ndarray, n_standard: int) -> np.ndarray:
        """Index of the worst cell (last axis of ``cells``), in the block ``_worst`` chose.

        Within a block the smallest cell is the smallest aggregated one (the aggregation is
        monotone). Ties (three equal volatility cells) report the middle one, volatility
        unchanged, as Deribit's API does.
        """
        standard = cells[..., :n_standard]
        lowest = standard.min(axis=-1, keepdims=True)
        middle = np.arange(n_standard) % len(VOL_SCENARIOS) == 1
        in_standard = np.argmin(np.where(standard == lowest, np.where(middle, 0, 1), 2), axis=-1)
        in_extended = n_standard + np.argmin(cells[..., n_standard:], axis=-1)
        return np.where(extended, in_extended, in_standard)

    def _pair_terms(
        self, q: Float64Array2D, prep: _Prep
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Transposed quantities, worst case, its block, roll shock (rows x pairs) and cells.

        Settlement currency. Every instrument moves in its own pair only, so the cells of a
        pair are the product of its own columns with its cells (the scenario matrix is
        block-sparse), laid out cells x rows; a compiled pass takes each portfolio's smallest
        standard and extended cells and where they are (the last item: 2 x pairs x rows, as
        :meth:`_worst_cell` picks them), a pair of one instrument forming its cells on the fly.
        The roll shock is a row-stable product (a portfolio's roll shock has the same bits in
        any book).
        """
        q_t = np.ascontiguousarray(q.T)
        n = prep.n_standard
        standard = np.empty((len(prep.pairs), q.shape[0]))
        extended = np.empty_like(standard)
        cell = np.empty((2, len(prep.pairs), q.shape[0]), dtype=np.intp)
        lo = np.empty(q.shape[0])
        middle = np.arange(n) % len(VOL_SCENARIOS) == 1
        for k, (columns, block) in enumerate(prep.groups):
            one = len(columns) == 1
            _pair_minima(
                block if one else block @ q_t[columns],
                one,
                q_t[columns[0]],
                n,
                middle,
                lo,
                standard[k],
                extended[k],
                cell[0, k],
                cell[1, k],
            )
        worst, from_extended = self._worst(standard.T, extended.T, prep.offset, prep.dampener)
        return q_t, worst, from_extended, row_product(np.abs(q), prep.roll), cell

    def _cells(self, q_t: np.ndarray, prep: _Prep, k: int, rows: np.ndarray) -> np.ndarray:
        """Cells of pair ``k`` for some rows (rows x cells)."""
        columns, block = prep.groups[k]
        return (block @ q_t[np.ix_(columns, rows)]).T

    def _cross(self, q: Float64Array2D, prep: _Prep) -> tuple[Float64Array, np.ndarray]:
        _, worst, extended, roll, cell = self._pair_terms(q, prep)
        rmm = (worst + roll) * prep.to_usd
        factor = 1.0 if self.requirement == "initial" else prep.mm_factor
        margin = factor * rmm.sum(axis=1)
        self._warn_delta(q, prep)
        top = np.argmax(rmm, axis=1)
        driver = np.empty(q.shape[0], dtype=object)
        for k in range(len(prep.pairs)):
            rows = np.flatnonzero(top == k)
            if rows.size:
                at = np.where(extended[rows, k], cell[1, k, rows], cell[0, k, rows])
                driver[rows] = prep.labels[k, at]
        return margin, driver

    def _isolated(self, q: Float64Array2D, prep: _Prep) -> Float64Array2D:
        """Margin of each holding alone, from the extreme cells of one unit.

        ``min(q c) = q min(c)`` for ``q > 0`` and ``q max(c)`` for ``q < 0`` (exactly, in
        floating point too), so a holding alone needs no product over the cells.
        """
        b = prep.bounds
        long = q > 0
        standard_min = np.where(long, q * b[:, 0], q * b[:, 1])
        extended_min = np.where(long, q * b[:, 2], q * b[:, 3])
        pair = prep.pair_of
        worst, _ = self._worst(standard_min, extended_min, prep.offset[pair], prep.dampener[pair])
        roll = np.abs(q) * prep.roll[np.arange(q.shape[1]), pair]
        factor = 1.0 if self.requirement == "initial" else prep.mm_factor
        return factor * (worst + roll) * prep.to_usd[pair]

    @staticmethod
    def _warn_delta(q: Float64Array2D, prep: _Prep) -> None:
        net = np.abs(q @ prep.delta_usd)
        if net.size and net.max() > prep.threshold:
            warnings.warn(
                f"Deribit-style engine: a portfolio's net delta is {net.max():,.0f} USD, beyond "
                f"delta_total_liq_shock_threshold {prep.threshold:,.0f}; Deribit adds a delta "
                "shock there whose formula is not published, so its margin is understated",
                ResearchWarning,
                stacklevel=4,
            )

    # ------------------------------------------------------------------ reports
    def risk_matrix(self, portfolio: Portfolio, market: Market) -> pd.DataFrame:
        """Cells of every position and of the aggregated pair, as Deribit's API reports them.

        Returns
        -------
        pandas.DataFrame
            Rows: each position (its label), then ``"pre-aggregated <u>/<c>"`` and
            ``"aggregated <u>/<c>"`` per pair; columns: the cell labels of all pairs
            (``"BTC/BTC -16.0% vol up"`` ... ``"BTC/BTC extended +500%"``); settlement currency.
        """
        book = portfolio.to_book()
        prep = self._checked_prepare(book, market)
        q = book.quantities.to_numpy()
        q_t = np.ascontiguousarray(q.T)
        n_cells = prep.own.shape[1]
        columns = [label for pair in prep.pairs for label in pair.labels]
        rows = []
        for j, k in enumerate(prep.pair_of):
            cells = np.zeros(len(columns))
            cells[k * n_cells : (k + 1) * n_cells] = q[0, j] * prep.own[j]
            rows.append(pd.Series(cells, index=columns))
        names = list(book.quantities.columns)
        for k, pair in enumerate(prep.pairs):
            pre = self._cells(q_t, prep, k, np.arange(1))[0]
            aggregated = self._aggregate(pre, prep.offset[k], prep.dampener[k], prep.n_standard)
            block = np.full(len(columns), np.nan)
            block[k * n_cells : (k + 1) * n_cells] = pre
            rows.append(pd.Series(block, index=columns))
            block = np.full(len(columns), np.nan)
            block[k * n_cells : (k + 1) * n_cells] = aggregated
            rows.append(pd.Series(block, index=columns))
            names += [
                f"pre-aggregated {pair.underlying}/{pair.currency}",
                f"aggregated {pair.underlying}/{pair.currency}",
            ]
        return pd.DataFrame(rows, index=names)

    def requirements(
        self,
        portfolio: Portfolio,
        market: Market,
        additive: Mapping[str, float] | None = None,
    ) -> pd.DataFrame:
        """Deribit's margin fields per pair, in the settlement currency and in USD.

        Parameters
        ----------
        portfolio : Portfolio
            The positions.
        market : Market
            Current market state.
        additive : mapping, optional
            Initial-margin terms of the account per settlement currency (spot, MMP and
            open-orders margins summed), e.g. ``{"BTC": 0.060018212}``.

        Returns
        -------
        pandas.DataFrame
            One row per pair ``"<u>/<c>"``: ``currency``, ``worst_case``, ``worst_cell``,
            ``roll_shock``, ``delta_shock`` (0: not published), ``risk_matrix_margin``,
            ``initial_margin``, ``maintenance_margin`` (settlement currency), ``to_usd`` and
            ``initial_margin_usd``, ``maintenance_margin_usd``.
        """
        book = portfolio.to_book()
        prep = self._checked_prepare(book, market)
        q = book.quantities.to_numpy()
        q_t, worst, extended, roll, _ = self._pair_terms(q, prep)
        worst_at = [
            int(
                self._worst_cell(
                    self._cells(q_t, prep, k, np.arange(1)), extended[:, k], prep.n_standard
                )[0]
            )
            for k in range(len(prep.pairs))
        ]
        additive = dict(additive or {})
        rows = {}
        for k, pair in enumerate(prep.pairs):
            extra = float(additive.pop(pair.currency, 0.0))
            if not math.isfinite(extra) or extra < 0:
                raise ParameterError(
                    f"additive margin of {pair.currency} is {extra}; give a finite amount >= 0"
                )
            fields = deribit_requirements(
                worst[0, k], roll[0, k], open_orders_margin=extra, mm_factor=prep.mm_factor
            )
            rows[f"{pair.underlying}/{pair.currency}"] = {
                "currency": pair.currency,
                "worst_case": worst[0, k],
                "worst_cell": pair.labels[worst_at[k]],
                "roll_shock": roll[0, k],
                "delta_shock": 0.0,
                **fields,
                "to_usd": pair.to_usd,
                "initial_margin_usd": fields["initial_margin"] * pair.to_usd,
                "maintenance_margin_usd": fields["maintenance_margin"] * pair.to_usd,
            }
        if additive:
            raise ParameterError(
                f"additive margins given for {sorted(additive)}, which no position settles in; "
                f"the portfolio settles in {sorted({p.currency for p in prep.pairs})}"
            )
        return pd.DataFrame.from_dict(rows, orient="index")
