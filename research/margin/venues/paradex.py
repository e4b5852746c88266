r"""Paradex-style portfolio margin: 24-scenario SCAN per asset, minimum delta charge, provisions.

Primary source: Paradex, "Portfolio Margin" (https://docs.paradex.trade/risk/portfolio-margin;
``tradeparadex/paradex-docs``, ``fern/pages/risk-system/portfolio-margin.mdx``) and "Cross
Margin Requirement" (Fee Provision). The scenario tables are a dated parameter set
(:class:`~research.margin.venues.VenueParameters`, default ``paradex_2026-07-13``): Paradex
changed them three times in four months. Results are labelled "Paradex-style": the published
methodology, with the parts it does not state made explicit parameters (below).

Per asset ``u`` with spot ``S``, the documented requirement is

.. math::

    \text{SCAN}_u &= \max\Big(0,\; \max_{s=1..24} w_s\, L_u(s)\Big), \qquad
    \text{MinDelta}_u = \big(a_u |\Delta_u| + h_u \tfrac{G_u - |\Delta_u|}{2}\big) S,\\
    \text{NetIMR}_u &= \max(\text{SCAN}_u, \text{MinDelta}_u),\\
    \text{IMR} &= \textstyle\sum_u \text{NetIMR}_u + \text{FP} + \text{Fee}, \qquad
    \text{MMR} = 0.5 \textstyle\sum_u \text{NetIMR}_u + \text{FP} + \text{Fee},

where ``L_u(s)`` is the loss of the positions on ``u`` when its spot moves to ``S (1 + x_s)`` and
every option's implied volatility to

.. math:: \sigma' = \sigma \Big(1 + v_s \big(\tfrac{30}{\max(1, \text{DTE})}\big)^{p}\Big),
    \quad p = 0.30 \text{ if DTE} < 30 \text{ else } 0.13,

floored at the asset's Min Vol Shock Up for the upward shocks; ``Delta_u`` and ``G_u`` are the
net and gross deltas (units of ``u``), ``a_u``/``h_u`` the unhedged/hedged margin factors.

Not stated by the source, so made explicit here: the SCAN and the minimum delta charge are
taken per asset and summed (each asset has its own scenario table; no joint scenario is
published); the weighted loss is floored at 0; Min Vol Shock Up floors the shocked volatility
*level* (``min_vol_shock_up_applies_to: shock`` floors the relative shock instead); options are
revalued with the package's Black-76 (:class:`~research.portfolio.EuropeanOption`) at the shocked
spot; the Funding Provision is the account's expected funding payment over the next 8 hours at
the given per-8-hour funding rates (``max(0, sum of perpetual notional x rate)``); the Fee
Provision is ``taker_fee x sum |notional|``. Both provisions are 0 unless given. A downward
shock that would take a volatility below 0 (a shock beyond -100% after the DTE scaling, which
the published tables do not reach) revalues the option at volatility 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numba as nb
import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D
from research.errors import DataError, ParameterError
from research.margin._checks import book_exposures, checked_book
from research.margin._engine import BookEngine
from research.margin.venues._params import (
    CATCH_ALL,
    VenueEngine,
    VenueParameters,
    check_positions,
    position_name,
)
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    InversePerpetual,
    LinearPerpetual,
    Market,
    PortfolioBook,
    Spot,
)

__all__ = [
    "DEFAULT_PARADEX_PARAMETERS",
    "N_SCENARIOS",
    "ParadexEngine",
    "min_delta_risk",
    "scenario_table",
    "shocked_volatility",
]

DEFAULT_PARADEX_PARAMETERS = "paradex_2026-07-13"
"""Name of the shipped parameter set the engine uses by default."""

N_SCENARIOS = 24
"""Scenarios per asset: 16 standard (spot x volatility) and 8 tail moves."""

_PERPETUALS = (LinearPerpetual, InversePerpetual)


def shocked_volatility(
    mark_iv: float | Float64Array,
    vol_shock: float | Float64Array,
    dte: float | Float64Array,
    *,
    dte_floor: float = 1.0,
    vega_power_short: float = 0.30,
    vega_power_long: float = 0.13,
    cutoff_days: float = 30.0,
    min_vol_shock_up: float | None = None,
    floor_applies_to: Literal["level", "shock"] = "level",
) -> Float64Array:
    r"""Implied volatility after a Paradex volatility shock.

    Parameters
    ----------
    mark_iv : float or ndarray
        Mark implied volatility (decimal, >= 0).
    vol_shock : float or ndarray
        Relative shock of the scenario (0.40 = +40%, -0.22 = -22%).
    dte : float or ndarray
        Days to expiry (> 0).
    dte_floor : float
        Floor on the days to expiry in the scaling (Paradex: 1).
    vega_power_short, vega_power_long : float
        Power below and at/above ``cutoff_days`` (Paradex: 0.30, 0.13).
    cutoff_days : float
        Days to expiry from which the long power applies (Paradex: 30).
    min_vol_shock_up : float, optional
        Floor applied to upward shocks (``vol_shock > 0``): on the shocked volatility level
        (``floor_applies_to="level"``) or on the scaled relative shock (``"shock"``).
    floor_applies_to : {"level", "shock"}
        What ``min_vol_shock_up`` floors.

    Returns
    -------
    ndarray
        ``sigma (1 + v (30 / max(floor, DTE))^p)``, floored as asked.

    Examples
    --------
    EX-PDX-2 of the venue specification: a 60% volatility, 7 days, +40%.

    >>> round(float(shocked_volatility(0.6, 0.4, 7.0)), 6)
    0.97138
    """
    iv = np.asarray(mark_iv, dtype=float)
    v = np.asarray(vol_shock, dtype=float)
    days = np.asarray(dte, dtype=float)
    power = np.where(days < cutoff_days, vega_power_short, vega_power_long)
    shock = v * (30.0 / np.maximum(dte_floor, days)) ** power
    if min_vol_shock_up is not None and floor_applies_to == "shock":
        shock = np.where(v > 0, np.maximum(shock, min_vol_shock_up), shock)
    shocked = iv * (1.0 + shock)
    if min_vol_shock_up is not None and floor_applies_to == "level":
        shocked = np.where(v > 0, np.maximum(shocked, min_vol_shock_up), shocked)
    return shocked


def min_delta_risk(
    net_delta: float | Float64Array,
    gross_delta: float | Float64Array,
    spot: float | Float64Array,
    unhedged_margin_factor: float,
    hedged_margin_factor: float,
) -> Float64Array:
    r"""Paradex minimum delta requirement.

    .. math:: (a |\Delta| + h (G - |\Delta|) / 2)\, S

    Parameters
    ----------
    net_delta, gross_delta : float or ndarray
        Net delta and gross delta (sum of the positions' absolute deltas), units of the asset.
    spot : float or ndarray
        Spot price.
    unhedged_margin_factor, hedged_margin_factor : float
        ``a`` and ``h`` (BTC: 2% and 1%).

    Returns
    -------
    ndarray

    Examples
    --------
    EX-PDX-1: long 1 BTC perpetual, short 5 calls of delta 0.3, spot 70,000.

    >>> float(min_delta_risk(1 - 5 * 0.3, 1 + 5 * 0.3, 70_000.0, 0.02, 0.01))
    1400.0
    """
    net = np.abs(np.asarray(net_delta, dtype=float))
    hedged = (np.asarray(gross_delta, dtype=float) - net) / 2.0
    return (unhedged_margin_factor * net + hedged_margin_factor * hedged) * np.asarray(
        spot, dtype=float
    )


@dataclass(frozen=True)
class _AssetTable:
    spot_shock: Float64Array
    vol_shock: Float64Array
    weight: Float64Array
    unhedged: float
    hedged: float
    min_vol_shock_up: float


def _asset_table(parameters: VenueParameters, asset: str) -> _AssetTable:
    path = ("assets", asset)
    spot = np.array(parameters.numbers(*path, "spot_shock", low=-1.0, strict=True))
    vol = np.array(parameters.numbers(*path, "vol_shock", low=-1.0))
    weight = np.array(parameters.numbers(*path, "weight", low=0.0, high=1.0))
    for what, column in (("spot_shock", spot), ("vol_shock", vol), ("weight", weight)):
        if len(column) != N_SCENARIOS:
            raise ParameterError(
                f"{parameters}: assets.{asset}.{what} has {len(column)} entries; give {N_SCENARIOS}"
            )
    return _AssetTable(
        spot,
        vol,
        weight,
        parameters.number(*path, "unhedged_margin_factor", low=0.0, high=1.0),
        parameters.number(*path, "hedged_margin_factor", low=0.0, high=1.0),
        parameters.number(*path, "min_vol_shock_up", low=0.0),
    )


def scenario_table(
    asset: str, parameters: VenueParameters | str = DEFAULT_PARADEX_PARAMETERS
) -> pd.DataFrame:
    """Return the 24 scenarios of one asset in a Paradex parameter set.

    Parameters
    ----------
    asset : str
        Asset of the set's ``assets`` table (``"BTC"``, ``"ETH"``, ``"HYPE"``, ``"CL"``).
    parameters : VenueParameters or str
        The set, or the name of a shipped set.

    Returns
    -------
    pandas.DataFrame
        Index 1..24 (``scenario``); columns ``spot_shock``, ``vol_shock``, ``weight``.

    Raises
    ------
    ParameterError
        The asset or one of its columns is missing or malformed.
    """
    p = VenueParameters.load(parameters) if isinstance(parameters, str) else parameters
    table = _asset_table(p, asset)
    return pd.DataFrame(
        {"spot_shock": table.spot_shock, "vol_shock": table.vol_shock, "weight": table.weight},
        index=pd.RangeIndex(1, N_SCENARIOS + 1, name="scenario"),
    )


@nb.njit(nogil=True, cache=True)
def _scan(
    q: Float64Array2D,
    grid: Float64Array2D,
    on: np.ndarray,
    n_underlyings: int,
    unit: Float64Array2D,
) -> tuple[Float64Array2D, np.ndarray, Float64Array2D, Float64Array2D, Float64Array2D]:
    """Every term of the requirement from one pass over the quantities.

    ``q`` is portfolios x instruments, ``grid`` instruments x scenarios (each instrument's
    weighted unit P&L in its own underlying's scenarios), ``on`` the underlying of each
    instrument and ``unit`` instruments x 3 (unit delta, unit 8-hour funding payment, unit
    taker fee). Returns per portfolio and underlying the worst weighted loss, its scenario, the
    net and the gross delta, and per portfolio the expected funding payment and the fee
    (portfolios x 2). Each portfolio adds its non-zero holdings in column order, so its result
    has the same bits in any book; the block-sparse product costs ``portfolios x instruments x
    scenarios`` multiply-adds, not ``x underlyings`` more.
    """
    n, m = q.shape
    n_s = grid.shape[1]
    loss = np.empty((n, n_underlyings))
    worst = np.empty((n, n_underlyings), dtype=np.intp)
    net = np.zeros((n, n_underlyings))
    gross = np.zeros((n, n_underlyings))
    account = np.zeros((n, 2))
    acc = np.empty((n_underlyings, n_s))
    for i in range(n):
        acc[:] = 0.0
        for j in range(m):
            x = q[i, j]
            if x != 0.0:
                k = on[j]
                for s in range(n_s):
                    acc[k, s] += x * grid[j, s]
                d = x * unit[j, 0]
                net[i, k] += d
                gross[i, k] += abs(d)
                account[i, 0] += x * unit[j, 1]
                account[i, 1] += abs(x) * unit[j, 2]
        for k in range(n_underlyings):
            best = 0
            low = acc[k, 0]
            for s in range(1, n_s):
                if acc[k, s] < low:
                    low = acc[k, s]
                    best = s
            loss[i, k] = -low
            worst[i, k] = best
    return loss, worst, net, gross, account


@dataclass(frozen=True)
class _Settings:
    """The set's values, read and checked once when the engine is built."""

    tables: Mapping[str, _AssetTable]
    dte_floor: float
    vega_power_short: float
    vega_power_long: float
    cutoff_days: float
    floor_applies_to: Literal["level", "shock"]
    mmr_factor: float
    funding_hours: float


def _settings(p: VenueParameters) -> _Settings:
    floor_mode = p.value("min_vol_shock_up_applies_to")
    if floor_mode not in ("level", "shock"):
        raise ParameterError(
            f"{p}: min_vol_shock_up_applies_to is {floor_mode!r}; give 'level' or 'shock'"
        )
    assets = p.value("assets")
    if not isinstance(assets, Mapping) or not assets:
        raise ParameterError(f"{p}: assets must be a non-empty mapping of scenario tables")
    return _Settings(
        tables={asset: _asset_table(p, asset) for asset in assets},
        dte_floor=p.number("dte_floor_days", low=0.0, strict=True),
        vega_power_short=p.number("vega_power_short", low=0.0),
        vega_power_long=p.number("vega_power_long", low=0.0),
        cutoff_days=p.number("vega_power_cutoff_days", low=0.0, strict=True),
        floor_applies_to=floor_mode,
        mmr_factor=p.number("mmr_factor", low=0.0, high=1.0),
        funding_hours=p.number("funding_provision_hours", low=0.0),
    )


@dataclass(frozen=True)
class _Prep:
    # instruments x 24: each instrument's weighted unit P&L in its own underlying's scenarios
    # (the book's scenario matrix is block-sparse: an instrument moves with its underlying only)
    grid: Float64Array2D
    on: np.ndarray  # underlying index of each instrument
    unit: Float64Array2D  # instruments x 3: unit delta, unit 8-hour funding payment, unit fee
    spot: Float64Array  # per underlying
    unhedged: Float64Array  # per underlying
    hedged: Float64Array  # per underlying
    driver_labels: np.ndarray  # underlyings x 25: scenarios 1..24, then "min delta"
    factor: float  # share of the net IMR charged: 1 (initial) or the MMR factor
    mmr_factor: float


@dataclass(frozen=True)
class ParadexEngine(VenueEngine):
    """Paradex-style portfolio margin (24-scenario SCAN, minimum delta, provisions).

    Parameters
    ----------
    parameters : VenueParameters
        A Paradex-style parameter set (default: the shipped ``paradex_2026-07-13``).
    requirement : {"initial", "maintenance"}
        Which requirement the engine charges: IMR, or MMR (``mmr_factor`` x net IMR plus the
        same provisions).
    asset_tables : mapping, optional
        Scenario table to use for a book underlying the set does not list, e.g.
        ``{"SOL": "HYPE"}`` (an assumption of the caller's; Paradex publishes BTC, ETH, HYPE
        and CL tables only).
    funding_rates : mapping, optional
        Funding rate per 8 hours per underlying (decimal; positive: longs pay). Underlyings
        left out pay none.
    taker_fee : float
        Taker fee (decimal) of the Fee Provision; 0 by default.
    offset_policy : OffsetPolicy, optional
        A cap on the offset between isolated and cross margin.

    Notes
    -----
    See the module docstring for the formulas and the assumptions. The isolated margin of a
    holding is its requirement held alone. The driver is the asset with the largest net IMR
    and its binding term (``"BTC scenario 16"`` or ``"BTC min delta"``).

    Raises
    ------
    ParameterError
        An invalid parameter (named by its path in the set) or account input.
    SpecificationError
        An unknown ``requirement``.
    UnknownUnderlyingError
        When margining: a book underlying with no scenario table (the position is named).
    DataError
        When margining: an instrument type Paradex does not margin (the position is named).

    Examples
    --------
    >>> from research.portfolio import LinearPerpetual, Market, Portfolio, Position
    >>> long_btc = Portfolio([Position(LinearPerpetual("BTC"), 1.0)])
    >>> ParadexEngine().margin(long_btc, Market(spot={"BTC": 100_000.0})).cross
    16000.0
    """

    parameters: VenueParameters = field(
        default_factory=lambda: VenueParameters.load(DEFAULT_PARADEX_PARAMETERS)
    )
    asset_tables: Mapping[str, str] = field(default_factory=dict)
    funding_rates: Mapping[str, float] = field(default_factory=dict)
    taker_fee: float = 0.0
    _parsed: _Settings = field(init=False, repr=False, compare=False)
    name: ClassVar[str] = "Paradex-style"
    supported: ClassVar[tuple[type, ...]] = (
        LinearPerpetual,
        InversePerpetual,
        DatedFuture,
        Spot,
        EuropeanOption,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        parsed = _settings(self.parameters)
        for u, table in self.asset_tables.items():
            if table not in parsed.tables:
                raise ParameterError(
                    f"asset_tables maps {u!r} to {table!r}, which {self.parameters} does not "
                    f"have; it has {sorted(parsed.tables)}"
                )
        for u, rate in self.funding_rates.items():
            if not math.isfinite(float(rate)):
                raise ParameterError(f"funding rate of {u!r} is {rate}; give a finite decimal")
        if not (math.isfinite(self.taker_fee) and 0.0 <= self.taker_fee < 1.0):
            raise ParameterError(f"taker_fee is {self.taker_fee}; give a decimal in [0, 1)")
        object.__setattr__(self, "_parsed", parsed)
        object.__setattr__(self, "asset_tables", dict(self.asset_tables))
        object.__setattr__(
            self, "funding_rates", {u: float(r) for u, r in self.funding_rates.items()}
        )

    def settings(self) -> dict[str, Any]:
        """Return the parameter set (fingerprinted), the requirement and the account inputs."""
        return {
            **super().settings(),
            "asset_tables": dict(self.asset_tables),
            "funding_rates": dict(self.funding_rates),
            "taker_fee": self.taker_fee,
        }

    def _table_of(self, underlying: str, position: str) -> _AssetTable:
        key = self.asset_tables.get(underlying, underlying)
        tables = self._parsed.tables
        if key not in tables and CATCH_ALL not in tables:
            self.parameters.for_currency("assets", key, position)  # raises, naming the position
        return tables.get(key, tables.get(CATCH_ALL))  # type: ignore[return-value]

    def _unit_pnl(self, instrument: Any, market: Market, table: _AssetTable) -> Float64Array:
        p = self._parsed
        s0 = market.spot_of(instrument.underlying)
        spots = s0 * (1.0 + table.spot_shock)
        shift: Float64Array | float = 0.0
        if isinstance(instrument, EuropeanOption):
            iv = (
                instrument.implied_vol
                if instrument.implied_vol is not None
                else market.volatility_of(instrument.underlying)
            )
            dte = market.time_to(instrument.expiry) * 365.0
            shifted = shocked_volatility(
                iv,
                table.vol_shock,
                dte,
                dte_floor=p.dte_floor,
                vega_power_short=p.vega_power_short,
                vega_power_long=p.vega_power_long,
                cutoff_days=p.cutoff_days,
                min_vol_shock_up=table.min_vol_shock_up,
                floor_applies_to=p.floor_applies_to,
            )
            shift = np.maximum(shifted, 0.0) - iv
        with np.errstate(over="ignore", invalid="ignore"):
            pnl = np.asarray(instrument.pnl(market, spots, shift), dtype=float)
        if not np.isfinite(pnl).all():
            k = int(np.argmax(~np.isfinite(pnl)))
            raise DataError(
                f"{self.name} engine: {position_name(instrument)} has P&L {pnl[k]} in scenario "
                f"{k + 1} (spot {s0:.6g} -> {spots[k]:.6g}); check its contract size and the "
                "prices' units"
            )
        return pnl * table.weight

    def _venue_prepare(self, book: PortfolioBook, market: Market) -> _Prep:
        underlyings = book.underlyings
        index = {u: k for k, u in enumerate(underlyings)}
        tables: dict[str, _AssetTable] = {}
        for instrument in book.instruments:
            u = instrument.underlying
            if u not in tables:
                tables[u] = self._table_of(u, position_name(instrument))
        grid = np.array(
            [self._unit_pnl(i, market, tables[i.underlying]) for i in book.instruments]
        ).reshape(len(book.instruments), N_SCENARIOS)
        on = np.array([index[i.underlying] for i in book.instruments], dtype=np.intp)
        units = book_exposures(book, market)
        notional = units["notional"].to_numpy(dtype=float)
        rates = np.array(
            [
                self.funding_rates.get(i.underlying, 0.0) if isinstance(i, _PERPETUALS) else 0.0
                for i in book.instruments
            ]
        )
        hours = self._parsed.funding_hours
        mmr_factor = self._parsed.mmr_factor
        labels = np.array(
            [
                [f"{u} scenario {s}" for s in range(1, N_SCENARIOS + 1)] + [f"{u} min delta"]
                for u in underlyings
            ],
            dtype=object,
        )
        delta = units["delta"].to_numpy(dtype=float)
        funding = notional * rates * hours / 8.0
        fee = self.taker_fee * np.abs(notional)
        return _Prep(
            grid=np.ascontiguousarray(grid),
            on=on,
            unit=np.ascontiguousarray(np.column_stack([delta, funding, fee])),
            spot=np.array([market.spot_of(u) for u in underlyings]),
            unhedged=np.array([tables[u].unhedged for u in underlyings]),
            hedged=np.array([tables[u].hedged for u in underlyings]),
            driver_labels=labels,
            factor=1.0 if self.requirement == "initial" else mmr_factor,
            mmr_factor=mmr_factor,
        )

    def _isolated(self, q: Float64Array2D, prep: _Prep) -> Float64Array2D:
        """Margin of each holding alone: its quantity times the margin of one unit long or short.

        The requirement is positively homogeneous of degree 1 in the quantities, so this equals
        margining each holding on its own, at the cost of two unit evaluations.
        """
        return BookEngine._isolated(self, q, prep)

    def _terms(self, q: Float64Array2D, prep: _Prep) -> dict[str, Float64Array2D | Float64Array]:
        loss, worst, net, gross, account = _scan(
            np.ascontiguousarray(q, dtype=float), prep.grid, prep.on, len(prep.spot), prep.unit
        )
        scan = np.maximum(loss, 0.0)
        min_delta = min_delta_risk(net, gross, prep.spot, prep.unhedged, prep.hedged)
        funding = np.maximum(account[:, 0], 0.0)
        fee = account[:, 1]
        return {
            "worst": worst,
            "scan": scan,
            "min_delta": min_delta,
            "net_initial": np.maximum(scan, min_delta),
            "funding_provision": funding,
            "fee_provision": fee,
        }

    def _cross(self, q: Float64Array2D, prep: _Prep) -> tuple[Float64Array, np.ndarray]:
        t = self._terms(q, prep)
        net_initial = t["net_initial"]
        margin = prep.factor * net_initial.sum(axis=1) + t["funding_provision"]
        margin += t["fee_provision"]
        top = np.argmax(net_initial, axis=1)
        rows = np.arange(q.shape[0])
        worst = t["worst"][rows, top]
        by_delta = t["min_delta"][rows, top] > t["scan"][rows, top]
        term = np.where(by_delta, N_SCENARIOS, worst)
        return margin, prep.driver_labels[top, term]

    def requirements(self, book: PortfolioBook, market: Market) -> pd.DataFrame:
        """Every term of the requirement of every portfolio of ``book``.

        Returns
        -------
        pandas.DataFrame
            Index: portfolios. Columns ``scan``, ``min_delta``, ``net_initial`` (each summed
            over assets), ``funding_provision``, ``fee_provision``, ``initial`` and
            ``maintenance``.
        """
        check_positions(self.name, book, market, self.supported)
        with checked_book(self.name, book, market):
            prep = self._prepare(book, market)
        q = np.ascontiguousarray(book.quantities.to_numpy())
        t = self._terms(q, prep)
        provisions = t["funding_provision"] + t["fee_provision"]
        net = t["net_initial"].sum(axis=1)
        return pd.DataFrame(
            {
                "scan": t["scan"].sum(axis=1),
                "min_delta": t["min_delta"].sum(axis=1),
                "net_initial": net,
                "funding_provision": t["funding_provision"],
                "fee_provision": t["fee_provision"],
                "initial": net + provisions,
                "maintenance": prep.mmr_factor * net + provisions,
            },
            index=book.quantities.index,
        )
