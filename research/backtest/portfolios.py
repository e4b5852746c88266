"""Test portfolios for the offset backtest: legs, a portfolio set, generators and a CSV loader.

Backtest portfolios are held at **constant notional**: every day ``t`` of the test period the
portfolio is set up again with the same signed notionals (currency amounts of the underlying
per leg), frozen over the margin period of risk, and its loss from ``t`` to ``t + h`` compared
with the margin called at ``t``. Holding notionals constant keeps portfolios comparable across
a long test period, as in CCPs' hypothetical-portfolio backtests.

Linear legs (spot, perpetuals, dated futures at a fixed carry) are described by their
sensitivity to the underlying; option legs are re-struck every day at a fixed moneyness and
constant time to expiry and revalued in full with :class:`research.portfolio.EuropeanOption`.
Black-76 values are homogeneous of degree one in (spot, strike), so the P&L per unit of
notional is computed at a unit spot.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from research._random import as_generator
from research._typing import Float64Array, Seed
from research.errors import DataError, SpecificationError, UnknownUnderlyingError
from research.portfolio import DatedFuture, EuropeanOption, Market, Spot

__all__ = [
    "LinearLeg",
    "OptionLeg",
    "PortfolioSet",
    "hedged_pairs",
    "calendar_spreads",
    "option_hedges",
    "random_books",
    "read_positions",
]

TRADING_DAYS = 252
"""Trading days per year used to annualise daily volatilities for option pricing."""


@dataclass(frozen=True)
class LinearLeg:
    """A linear position on one underlying: spot or perpetual (``tenor=0``) or a dated future.

    Parameters
    ----------
    underlying : str
        Underlying (a column of the returns).
    tenor : float
        Constant time to expiry in years of a dated future; 0 for spot/perpetual.
    carry : float
        Annual cost of carry of the future (its price is ``S exp(carry * tenor)``).
    name : str, optional
        Label; defaults to ``"<underlying> spot"`` or ``"<underlying> fut <tenor>y"``.
    """

    underlying: str
    tenor: float = 0.0
    carry: float = 0.0
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.underlying, str) or not self.underlying:
            raise SpecificationError(
                f"underlying must be a non-empty string, got {self.underlying!r}"
            )
        if not (math.isfinite(self.tenor) and self.tenor >= 0):
            raise SpecificationError(f"tenor of {self.label} must be >= 0 years, got {self.tenor}")

    @property
    def label(self) -> str:
        """The name or a default label."""
        if self.name:
            return self.name
        return (
            f"{self.underlying} spot"
            if self.tenor == 0
            else f"{self.underlying} fut {self.tenor:g}y"
        )

    @cached_property
    def sensitivity(self) -> float:
        """Value change per unit of notional for a unit relative move of the spot."""
        market = Market(spot={self.underlying: 1.0}, carry={self.underlying: self.carry})
        instrument = (
            Spot(self.underlying)
            if self.tenor == 0
            else DatedFuture(self.underlying, expiry=self.tenor)
        )
        return float(instrument.greeks(market).delta)


@dataclass(frozen=True)
class OptionLeg:
    """A European option re-struck daily at a fixed moneyness and constant maturity.

    Parameters
    ----------
    underlying : str
        Underlying (a column of the returns).
    kind : {"call", "put"}
        Option type.
    moneyness : float
        Strike over spot at the day the position is set up.
    tenor : float
        Time to expiry in years (constant).
    implied_vol : float, optional
        Annualised implied volatility (decimal); ``None`` uses the margin model's conditional
        volatility of the underlying on that day, annualised with 252 days.
    name : str, optional
        Label; defaults to ``"<underlying> <kind> m=<moneyness> <tenor>y"``.

    Notes
    -----
    A notional ``N`` means ``N / S_t`` contracts of one unit each; its P&L per unit notional is
    ``V(S'/S_t; K/S_t) - V(1; K/S_t)`` with Black-76 (:class:`research.portfolio.EuropeanOption`).
    """

    underlying: str
    kind: Literal["call", "put"] = "call"
    moneyness: float = 1.0
    tenor: float = 0.25
    implied_vol: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("call", "put"):
            raise SpecificationError(f"option kind must be 'call' or 'put', got {self.kind!r}")
        if not (math.isfinite(self.moneyness) and self.moneyness > 0):
            raise SpecificationError(f"moneyness of {self.label} must be > 0, got {self.moneyness}")
        if not (math.isfinite(self.tenor) and self.tenor > 0):
            raise SpecificationError(f"tenor of {self.label} must be > 0 years, got {self.tenor}")

    @property
    def label(self) -> str:
        """The name or a default label."""
        return self.name or f"{self.underlying} {self.kind} m={self.moneyness:g} {self.tenor:g}y"

    def pnl_per_notional(
        self, moves: Float64Array, volatility: Float64Array | float
    ) -> Float64Array:
        """Full-revaluation P&L per unit notional for log moves of the underlying (decimals).

        Parameters
        ----------
        moves : ndarray
            Log returns of the underlying over the horizon, as decimals.
        volatility : float or ndarray broadcastable to ``moves``
            Annualised implied volatility used when the leg has none of its own (per move, so
            that moves of different days are revalued at each day's volatility).

        Returns
        -------
        ndarray
            Same shape as ``moves``: ``V(exp(move), vol) - V(1, vol)`` at strike ``moneyness``.
        """
        moves = np.asarray(moves, dtype=float)
        if self.implied_vol is None:
            option = self._option(0.0)
            shift = np.broadcast_to(np.asarray(volatility, dtype=float), moves.shape)
        else:
            option, shift = self._option(self.implied_vol), np.zeros(moves.shape)
        market = self._unit_market
        return option.value(market, np.exp(moves), shift) - option.value(market, 1.0, shift)

    def _option(self, implied_vol: float) -> EuropeanOption:
        return EuropeanOption(
            self.underlying,
            strike=self.moneyness,
            expiry=self.tenor,
            kind=self.kind,
            implied_vol=float(implied_vol),
        )

    @cached_property
    def _unit_market(self) -> Market:
        """Market with a unit spot (Black-76 is homogeneous in spot and strike)."""
        return Market(spot={self.underlying: 1.0})

    def delta(self, volatility: float) -> float:
        """Black-76 spot delta per unit notional at implied volatility ``volatility``."""
        vol = self.implied_vol if self.implied_vol is not None else volatility
        return float(self._option(vol).greeks(self._unit_market).delta)


Leg = LinearLeg | OptionLeg


@dataclass(frozen=True)
class PortfolioSet:
    """Many test portfolios over one list of legs: a signed notional matrix plus families.

    Parameters
    ----------
    legs : sequence of LinearLeg or OptionLeg
        One per column of ``notionals``; labels must be unique.
    notionals : pandas.DataFrame
        Portfolios x legs signed notionals in the reporting currency (positive long,
        negative short, 0 none); columns are the leg labels.
    family : pandas.Series, optional
        Portfolio family per portfolio (e.g. ``"hedged pair"``); default ``"custom"``.

    Raises
    ------
    DataError
        Mismatched labels, duplicate names, non-finite notionals or an empty portfolio.
    """

    legs: tuple[Leg, ...]
    notionals: pd.DataFrame
    family: pd.Series | None = None

    def __post_init__(self) -> None:
        legs = tuple(self.legs)
        labels = [leg.label for leg in legs]
        if len(set(labels)) != len(labels):
            raise DataError(f"leg labels must be unique, got {labels}")
        q = pd.DataFrame(self.notionals).astype(float)
        if list(q.columns) != labels:
            raise DataError(
                f"notional columns {list(q.columns)} do not match the leg labels "
                f"{labels}; give one column per leg, in order"
            )
        if q.index.has_duplicates:
            raise DataError(
                f"portfolio names repeat: "
                f"{sorted(map(str, q.index[q.index.duplicated()].unique()))}"
            )
        values = q.to_numpy()
        bad = ~np.isfinite(values)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise DataError(
                f"{int(bad.sum())} non-finite notionals (first: portfolio "
                f"{q.index[i]!r}, leg {q.columns[j]!r}); use 0 for no position"
            )
        empty = q.index[(values == 0).all(axis=1)]
        if len(empty):
            raise DataError(
                f"portfolios {list(map(str, empty[:5]))} hold no position; "
                "drop them before backtesting"
            )
        family = (
            pd.Series("custom", index=q.index, dtype=object)
            if self.family is None
            else pd.Series(self.family, dtype=object).reindex(q.index)
        )
        if family.isna().any():
            raise DataError(
                f"no family given for portfolios {list(map(str, family.index[family.isna()][:5]))}"
            )
        object.__setattr__(self, "legs", legs)
        object.__setattr__(self, "notionals", q)
        object.__setattr__(self, "family", family.rename("family"))

    @property
    def n_portfolios(self) -> int:
        """Number of portfolios."""
        return int(self.notionals.shape[0])

    @property
    def underlyings(self) -> tuple[str, ...]:
        """Distinct underlyings of the legs, in order of first appearance."""
        return tuple(dict.fromkeys(leg.underlying for leg in self.legs))

    def check_underlyings(self, available: Iterable[str]) -> None:
        """Raise :class:`~research.errors.UnknownUnderlyingError` for legs on absent underlyings."""
        known = set(map(str, available))
        missing = [u for u in self.underlyings if u not in known]
        if missing:
            raise UnknownUnderlyingError(
                f"portfolio legs reference underlyings {missing} that "
                f"are not in the returns ({sorted(known)}); load prices "
                "for them or drop those legs"
            )

    @classmethod
    def concat(cls, sets: Sequence[PortfolioSet]) -> PortfolioSet:
        """Stack several sets over the union of their legs (matched by label).

        Raises
        ------
        DataError
            If two different legs share a label or portfolio names repeat.
        """
        legs: dict[str, Leg] = {}
        for s in sets:
            for leg in s.legs:
                if legs.setdefault(leg.label, leg) != leg:
                    raise DataError(f"two different legs are labelled {leg.label!r}")
        notionals = pd.concat([s.notionals for s in sets]).reindex(columns=list(legs))
        return cls(tuple(legs.values()), notionals.fillna(0.0), pd.concat([s.family for s in sets]))


def _set(
    rows: list[dict[str, float]], legs: dict[str, Leg], family: str, prefix: str
) -> PortfolioSet:
    """Portfolios from rows keyed like ``legs`` (the keys are mapped to the leg labels)."""
    names = [f"{prefix} {i + 1}" for i in range(len(rows))]
    frame = pd.DataFrame(rows, index=names).reindex(columns=list(legs)).fillna(0.0)
    frame.columns = [leg.label for leg in legs.values()]
    return PortfolioSet(tuple(legs.values()), frame, pd.Series(family, index=names))


def _check_count(n: int, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise SpecificationError(f"{what} must be a whole number >= 1, got {n!r}")


def hedged_pairs(
    returns: pd.DataFrame,
    n_portfolios: int = 10,
    notional: float = 1e6,
    top: int = 5,
    seed: Seed = None,
) -> PortfolioSet:
    """Beta-weighted hedged pairs: long one underlying, short a correlated one (or the reverse).

    Parameters
    ----------
    returns : pandas.DataFrame
        Returns used to choose pairs and betas. Pass data from **before** the test period, or the
        choice of pairs looks ahead.
    n_portfolios : int
        Number of portfolios.
    notional : float
        Notional of the first leg; the hedge leg is ``-beta * notional``.
    top : int
        Pairs are drawn from the ``top`` most correlated pairs.
    seed : int, Generator or None
        Seed of the draws (pair and direction).

    Returns
    -------
    PortfolioSet
        Family ``"hedged pair"``.

    Raises
    ------
    DataError
        Fewer than two underlyings.
    """
    _check_count(n_portfolios, "n_portfolios")
    if returns.shape[1] < 2:
        raise DataError("hedged pairs need at least two underlyings in the returns")
    rng = as_generator(seed)
    cov = returns.cov().to_numpy()
    corr = returns.corr().to_numpy()
    assets = list(map(str, returns.columns))
    iu = np.triu_indices(len(assets), 1)
    order = np.argsort(-corr[iu])[: max(1, top)]
    legs: dict[str, Leg] = {a: LinearLeg(a) for a in assets}
    rows = []
    for _ in range(n_portfolios):
        k = order[rng.integers(len(order))]
        i, j = int(iu[0][k]), int(iu[1][k])
        if rng.random() < 0.5:
            i, j = j, i
        beta = cov[i, j] / cov[j, j]
        sign = 1.0 if rng.random() < 0.5 else -1.0
        rows.append({assets[i]: sign * notional, assets[j]: -sign * beta * notional})
    used = {a for row in rows for a in row}
    return _set(rows, {a: leg for a, leg in legs.items() if a in used}, "hedged pair", "pair")


def calendar_spreads(
    underlyings: Sequence[str],
    n_portfolios: int = 10,
    notional: float = 1e6,
    carry: float = 0.05,
    tenors: tuple[float, float] = (0.25, 0.5),
    seed: Seed = None,
) -> PortfolioSet:
    """Basis trades (spot against a dated future) and calendar spreads (near against far future).

    Parameters
    ----------
    underlyings : sequence of str
        Underlyings to draw from.
    n_portfolios : int
        Number of portfolios (alternately basis and calendar trades).
    notional : float
        Notional of each leg (the legs offset each other).
    carry : float
        Annual cost of carry of the futures.
    tenors : (float, float)
        Near and far constant maturities in years.
    seed : int, Generator or None
        Seed of the draws (underlying and direction).

    Returns
    -------
    PortfolioSet
        Family ``"calendar/basis"``.

    Notes
    -----
    The carry is held fixed, so the only risk left in these trades is the small net delta
    ``exp(b T1) - exp(b T2)``; the basis risk of real futures is not in spot price data.
    """
    _check_count(n_portfolios, "n_portfolios")
    near, far = tenors
    rng = as_generator(seed)
    legs: dict[str, Leg] = {}
    rows = []
    for k in range(n_portfolios):
        u = str(underlyings[rng.integers(len(underlyings))])
        first = LinearLeg(u) if k % 2 == 0 else LinearLeg(u, tenor=near, carry=carry)
        second = LinearLeg(u, tenor=near if k % 2 == 0 else far, carry=carry)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        for leg in (first, second):
            legs.setdefault(leg.label, leg)
        rows.append({first.label: sign * notional, second.label: -sign * notional})
    return _set(rows, legs, "calendar/basis", "calendar")


def option_hedges(
    returns: pd.DataFrame,
    n_portfolios: int = 10,
    notional: float = 1e6,
    moneyness: Sequence[float] = (0.9, 1.0, 1.1),
    tenor: float = 0.25,
    seed: Seed = None,
) -> PortfolioSet:
    """Options hedged with a position in the underlying (delta-neutral at inception).

    Parameters
    ----------
    returns : pandas.DataFrame
        Daily percent log returns before the test period; their annualised standard deviation
        sets the hedge ratio of each underlying.
    n_portfolios : int
        Number of portfolios.
    notional : float
        Option notional; the hedge is ``-delta * notional`` in the underlying.
    moneyness : sequence of float
        Strike/spot choices.
    tenor : float
        Option maturity in years (constant).
    seed : int, Generator or None
        Seed of the draws (underlying, call/put, moneyness, long/short).

    Returns
    -------
    PortfolioSet
        Family ``"option hedge"``. The options take the model's volatility each day
        (``implied_vol=None``).
    """
    _check_count(n_portfolios, "n_portfolios")
    rng = as_generator(seed)
    vols = returns.std() * math.sqrt(TRADING_DAYS) / 100.0
    legs: dict[str, Leg] = {}
    rows = []
    for _ in range(n_portfolios):
        u = str(returns.columns[rng.integers(returns.shape[1])])
        kind = "call" if rng.random() < 0.5 else "put"
        m = float(moneyness[rng.integers(len(moneyness))])
        option = OptionLeg(u, kind=kind, moneyness=m, tenor=tenor)
        hedge = LinearLeg(u)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        for leg in (option, hedge):
            legs.setdefault(leg.label, leg)
        rows.append(
            {
                option.label: sign * notional,
                hedge.label: -sign * option.delta(float(vols[u])) * notional,
            }
        )
    return _set(rows, legs, "option hedge", "option")


def random_books(
    underlyings: Sequence[str],
    n_portfolios: int = 10,
    notional: float = 1e6,
    n_legs: tuple[int, int] = (2, 6),
    seed: Seed = None,
) -> PortfolioSet:
    """Random long/short books: a random subset of underlyings with lognormal signed notionals.

    Parameters
    ----------
    underlyings : sequence of str
        Underlyings to draw from.
    n_portfolios : int
        Number of books.
    notional : float
        Median absolute notional per leg.
    n_legs : (int, int)
        Smallest and largest number of legs (capped at the number of underlyings).
    seed : int, Generator or None
        Seed of the draws.

    Returns
    -------
    PortfolioSet
        Family ``"random book"``.
    """
    _check_count(n_portfolios, "n_portfolios")
    rng = as_generator(seed)
    names = [str(u) for u in underlyings]
    low, high = max(1, n_legs[0]), min(len(names), n_legs[1])
    if low > high:
        raise SpecificationError(f"n_legs {n_legs} is not possible with {len(names)} underlyings")
    rows = []
    for _ in range(n_portfolios):
        k = int(rng.integers(low, high + 1))
        chosen = rng.choice(len(names), size=k, replace=False)
        sizes = notional * np.exp(0.5 * rng.standard_normal(k))
        signs = np.where(rng.random(k) < 0.5, -1.0, 1.0)
        rows.append({names[c]: float(s * v) for c, s, v in zip(chosen, signs, sizes, strict=True)})
    legs = {n: LinearLeg(n) for n in names if any(n in row for row in rows)}
    return _set(rows, legs, "random book", "book")


_POSITION_COLUMNS = ("portfolio", "underlying", "notional")


def read_positions(path: str | Path, underlyings: Iterable[str] | None = None) -> PortfolioSet:
    """Load a user's positions file (CSV) into a :class:`PortfolioSet`.

    Expected columns: ``portfolio``, ``underlying``, ``notional`` (signed, reporting currency);
    optional ``family``, ``instrument`` (``spot`` (default), ``future``, ``call``, ``put``),
    ``tenor`` (years), ``carry``, ``moneyness`` and ``implied_vol``.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV file.
    underlyings : iterable of str, optional
        Known underlyings (e.g. the columns of the returns); positions on others raise.

    Returns
    -------
    PortfolioSet

    Raises
    ------
    DataError
        Missing columns, missing or non-numeric notionals (the rows are named), unknown
        instrument types.
    UnknownUnderlyingError
        Positions on underlyings not in ``underlyings``.
    """
    raw = pd.read_csv(path)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in _POSITION_COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {missing}; a positions file needs {list(_POSITION_COLUMNS)}"
        )
    if raw.empty:
        raise DataError(f"{path}: the positions file has no rows")
    raw["underlying"] = raw["underlying"].astype(str).str.strip()
    raw["portfolio"] = raw["portfolio"].astype(str).str.strip()
    notional = pd.to_numeric(raw["notional"], errors="coerce")
    bad = notional.isna() | ~np.isfinite(notional.fillna(0.0))
    if bad.any():
        rows = [
            f"line {i + 2} (portfolio {raw.loc[i, 'portfolio']!r}, underlying "
            f"{raw.loc[i, 'underlying']!r})"
            for i in raw.index[bad][:5]
        ]
        raise DataError(
            f"{path}: {int(bad.sum())} missing or non-numeric notional(s): "
            f"{'; '.join(rows)}; give a number (0 for no position)"
        )
    if underlyings is not None:
        known = set(map(str, underlyings))
        unknown = raw.loc[~raw["underlying"].isin(known)]
        if len(unknown):
            first = unknown.index[0]
            raise UnknownUnderlyingError(
                f"{path}: unknown underlying(s) {sorted(unknown['underlying'].unique())} (first "
                f"on line {first + 2}, portfolio {raw.loc[first, 'portfolio']!r}); the prices "
                f"have {sorted(known)}"
            )
    legs: dict[str, Leg] = {}
    records: list[tuple[str, str, float]] = []
    for i, row in raw.iterrows():
        leg = _leg_from_row(row, int(i) + 2, str(path))
        if legs.setdefault(leg.label, leg) != leg:
            raise DataError(
                f"{path}: line {int(i) + 2} defines leg {leg.label!r} differently "
                "from an earlier line"
            )
        records.append((row["portfolio"], leg.label, float(notional[i])))
    frame = pd.DataFrame(records, columns=["portfolio", "leg", "notional"])
    matrix = (
        frame.pivot_table(
            index="portfolio", columns="leg", values="notional", aggfunc="sum", sort=False
        )
        .reindex(columns=list(legs))
        .fillna(0.0)
    )
    family = (
        raw.groupby("portfolio", sort=False)["family"].first().astype(str)
        if "family" in raw.columns
        else None
    )
    return PortfolioSet(tuple(legs.values()), matrix, family)


def _leg_from_row(row: pd.Series, line: int, source: str) -> Leg:
    kind = str(row.get("instrument", "spot") or "spot").strip().lower()
    if kind == "nan":
        kind = "spot"

    def number(name: str, default: float | None) -> float | None:
        value = row.get(name, default)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return default
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{source}: line {line}: {name} {value!r} is not a number") from exc

    u = row["underlying"]
    if kind in ("spot", "perpetual", "perp"):
        return LinearLeg(u)
    if kind == "future":
        return LinearLeg(u, tenor=number("tenor", 0.25), carry=number("carry", 0.0))
    if kind in ("call", "put"):
        return OptionLeg(
            u,
            kind=kind,
            moneyness=number("moneyness", 1.0),
            tenor=number("tenor", 0.25),
            implied_vol=number("implied_vol", None),
        )
    raise DataError(
        f"{source}: line {line}: unknown instrument {kind!r}; use spot, perpetual, "
        "future, call or put"
    )
