"""Test portfolios for the offset backtest: :class:`research.portfolio.PortfolioBook` builders.

Backtest portfolios are held at **constant notional**: every day ``t`` of the test period the
portfolio is set up again with the same signed notionals (currency amounts of the underlying
per holding), frozen over the margin period of risk, and its loss from ``t`` to ``t + h``
compared with the margin called at ``t``. Holding notionals constant keeps portfolios comparable
across a long test period, as in CCPs' hypothetical-portfolio backtests.

The builders return books of :mod:`research.portfolio` instruments whose quantities are these
notionals: the backtest values them in a market where every underlying's spot is 1 on the day
(:class:`~research.backtest.OffsetBacktest`), so one unit is one unit of currency of notional.
Options are struck at a fixed moneyness (the strike is the moneyness at a unit spot) with a
constant time to expiry in years, so they are re-struck daily; dated futures have a constant
time to expiry and take the carry of the backtest's market. :func:`stack_books` stacks the
families into one book and names each portfolio's family. :func:`crypto_books` builds the
named crypto families of the venue studies (perpetuals long-short, a perpetual hedged by spot,
options hedged with perpetuals, random perpetual books) in one call.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from research._random import as_generator
from research._typing import Seed
from research.data import periods_per_year, to_decimal
from research.errors import DataError, SpecificationError, UnknownUnderlyingError
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    Instrument,
    LinearPerpetual,
    Market,
    PortfolioBook,
    Spot,
)
from research.volatility.ewma import RISKMETRICS_DECAY, ewma_volatility

__all__ = [
    "calendar_spreads",
    "crypto_books",
    "hedged_pairs",
    "option_hedges",
    "random_books",
    "read_positions",
    "stack_books",
]


def stack_books(books: Mapping[str, PortfolioBook]) -> tuple[PortfolioBook, pd.Series]:
    """Stack books of several portfolio families into one book.

    Parameters
    ----------
    books : mapping of str to PortfolioBook
        One book per family (e.g. ``{"hedged pair": hedged_pairs(...), ...}``).

    Returns
    -------
    book : PortfolioBook
        Every portfolio over the union of the instruments (matched by label).
    family : pandas.Series
        Family of each portfolio (index: the portfolio names).

    Raises
    ------
    DataError
        No book, repeated portfolio names, or two different instruments with one label.
    """
    if not books:
        raise DataError("give at least one book to stack")
    book = PortfolioBook.concat(list(books.values()))
    family = pd.concat(
        [pd.Series(name, index=b.quantities.index, dtype=object) for name, b in books.items()]
    )
    return book, family.rename("family")


def _book(
    rows: list[dict[str, float]], instruments: dict[str, Instrument], prefix: str
) -> PortfolioBook:
    """Build a book from rows keyed by instrument label (missing holdings are 0)."""
    names = [f"{prefix} {i + 1}" for i in range(len(rows))]
    frame = pd.DataFrame(rows, index=names).reindex(columns=list(instruments)).fillna(0.0)
    return PortfolioBook(tuple(instruments.values()), frame)


def _check_count(n: int, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise SpecificationError(f"{what} must be a whole number >= 1, got {n!r}")


def hedged_pairs(
    returns: pd.DataFrame,
    n_portfolios: int = 10,
    notional: float = 1e6,
    top: int = 5,
    seed: Seed = None,
) -> PortfolioBook:
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
    PortfolioBook
        Spot holdings; portfolios ``"pair 1"``, ``"pair 2"``, ...

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
    spots = {a: Spot(a) for a in assets}
    rows = []
    for _ in range(n_portfolios):
        k = order[rng.integers(len(order))]
        i, j = int(iu[0][k]), int(iu[1][k])
        if rng.random() < 0.5:
            i, j = j, i
        beta = cov[i, j] / cov[j, j]
        sign = 1.0 if rng.random() < 0.5 else -1.0
        rows.append(
            {
                spots[assets[i]].label: sign * notional,
                spots[assets[j]].label: -sign * beta * notional,
            }
        )
    used = {label for row in rows for label in row}
    return _book(rows, {s.label: s for s in spots.values() if s.label in used}, "pair")


def calendar_spreads(
    underlyings: Sequence[str],
    n_portfolios: int = 10,
    notional: float = 1e6,
    tenors: tuple[float, float] = (0.25, 0.5),
    seed: Seed = None,
) -> PortfolioBook:
    """Basis trades (spot against a dated future) and calendar spreads (near against far future).

    Parameters
    ----------
    underlyings : sequence of str
        Underlyings to draw from.
    n_portfolios : int
        Number of portfolios (alternately basis and calendar trades).
    notional : float
        Notional of each leg (the legs offset each other).
    tenors : (float, float)
        Near and far constant maturities in years.
    seed : int, Generator or None
        Seed of the draws (underlying and direction).

    Returns
    -------
    PortfolioBook
        Spot and :class:`~research.portfolio.DatedFuture` holdings; portfolios
        ``"calendar 1"``, ...

    Notes
    -----
    The futures take the carry ``b`` of the backtest's market (``OffsetBacktest(carry=...)``),
    held fixed, so the only risk left in these trades is the small net delta
    ``exp(b T1) - exp(b T2)``; the basis risk of real futures is not in spot price data.
    """
    _check_count(n_portfolios, "n_portfolios")
    near, far = tenors
    rng = as_generator(seed)
    instruments: dict[str, Instrument] = {}
    rows = []
    for k in range(n_portfolios):
        u = str(underlyings[rng.integers(len(underlyings))])
        first = Spot(u) if k % 2 == 0 else DatedFuture(u, expiry=float(near))
        second = DatedFuture(u, expiry=float(near if k % 2 == 0 else far))
        sign = 1.0 if rng.random() < 0.5 else -1.0
        for instrument in (first, second):
            instruments.setdefault(instrument.label, instrument)
        rows.append({first.label: sign * notional, second.label: -sign * notional})
    return _book(rows, instruments, "calendar")


def option_hedges(
    returns: pd.DataFrame,
    n_portfolios: int = 10,
    notional: float = 1e6,
    moneyness: Sequence[float] = (0.9, 1.0, 1.1),
    tenor: float = 0.25,
    seed: Seed = None,
) -> PortfolioBook:
    """Options hedged with a position in the underlying (delta-neutral at inception).

    Parameters
    ----------
    returns : pandas.DataFrame
        Percent log returns before the test period; their standard deviation, annualised with
        the data's own periods per year (:func:`research.data.periods_per_year`: 365 on the
        crypto calendar, 252 on the equity one), sets the hedge ratio of each underlying.
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
    PortfolioBook
        :class:`~research.portfolio.EuropeanOption` (strike = moneyness at a unit spot,
        ``implied_vol=None``: the market's volatility of the day) and spot holdings;
        portfolios ``"option 1"``, ...
    """
    _check_count(n_portfolios, "n_portfolios")
    rng = as_generator(seed)
    vols = to_decimal(returns.std() * math.sqrt(periods_per_year(returns.index)), "percent")
    instruments: dict[str, Instrument] = {}
    rows = []
    for _ in range(n_portfolios):
        u = str(returns.columns[rng.integers(returns.shape[1])])
        kind = "call" if rng.random() < 0.5 else "put"
        m = float(moneyness[rng.integers(len(moneyness))])
        option = EuropeanOption(u, strike=m, expiry=float(tenor), kind=kind)
        hedge = Spot(u)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        for instrument in (option, hedge):
            instruments.setdefault(instrument.label, instrument)
        delta = option.greeks(Market(spot={u: 1.0}, volatility={u: float(vols[u])})).delta
        rows.append({option.label: sign * notional, hedge.label: -sign * delta * notional})
    return _book(rows, instruments, "option")


def random_books(
    underlyings: Sequence[str],
    n_portfolios: int = 10,
    notional: float = 1e6,
    n_legs: tuple[int, int] = (2, 6),
    seed: Seed = None,
) -> PortfolioBook:
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
    PortfolioBook
        Spot holdings; portfolios ``"book 1"``, ...
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
        rows.append(
            {f"{names[c]} spot": float(s * v) for c, s, v in zip(chosen, signs, sizes, strict=True)}
        )
    spots = {s.label: s for s in map(Spot, names) if any(s.label in row for row in rows)}
    return _book(rows, spots, "book")


def crypto_books(
    history: pd.DataFrame,
    notional: float = 1e6,
    *,
    pair: tuple[str, str] = ("BTC", "ETH"),
    ratios: Sequence[tuple[float, float]] = ((1.0, 1.0), (1.0, 0.5), (0.5, 1.0)),
    n_options: int = 9,
    moneyness: Sequence[float] = (0.9, 1.0, 1.1),
    tenor: float = 30 / 365,
    iv_premium: float = 0.10,
    n_random: int = 12,
    seed: Seed = None,
) -> dict[str, PortfolioBook]:
    """Build the crypto venue studies' books: perpetuals, spot and options in named families.

    Every family holds constant notionals (see the module notes) of linear perpetuals
    (:class:`~research.portfolio.LinearPerpetual`), spot and options on the columns of
    ``history``:

    - ``"<A>/<B> perps long-short"``: long ``a * notional`` of the first perpetual of ``pair``,
      short ``b * notional`` of the second, one book per ``(a, b)`` of ``ratios``;
    - ``"perps long-short"``: long one perpetual, short another, ``notional`` each, one book
      per pair of underlyings (in column order);
    - ``"perp hedged by spot"``: long ``notional`` of the coin, short as much of its perpetual,
      one book per underlying;
    - ``"options hedged with perps"``: ``notional`` of a European option, delta-hedged at
      inception with the perpetual; option ``k`` is on underlying ``k mod n``, a call for even
      ``k`` and a put for odd ``k``, struck at ``moneyness[(k // n) mod len(moneyness)]``
      (``n`` underlyings);
    - ``"random perps"``: normal notionals with standard deviation ``notional`` on every
      perpetual, ``n_random`` books.

    Families with no book (``n_options=0``, ``n_random=0``, one underlying) are left out.

    Parameters
    ----------
    history : pandas.DataFrame
        Percent log returns before the test period, one column per underlying. Their EWMA
        volatility (``lambda`` :data:`~research.volatility.ewma.RISKMETRICS_DECAY`) at the
        last date, annualised with the data's periods per year
        (:func:`research.data.periods_per_year`), times ``1 + iv_premium`` is the options'
        implied volatility (a proxy: the crypto files have no implied volatility), held
        constant over the test.
    notional : float
        Notional of a leg (> 0).
    pair : (str, str)
        Underlyings of the pair family (long the first, short the second).
    ratios : sequence of (float, float)
        Notional multiples of the pair's long and short legs.
    n_options : int
        Number of option books (>= 0).
    moneyness : sequence of float
        Strike/spot choices, cycled through as described above.
    tenor : float
        Option maturity in years (constant; 30 calendar days by default).
    iv_premium : float
        Premium of implied over realized volatility (> -1; 10% by default).
    n_random : int
        Number of random books (>= 0).
    seed : int, Generator or None
        Seed of the random books' notionals.

    Returns
    -------
    dict of str to PortfolioBook
        One book per family, in the order above; portfolios ``"<A>-<B> 1"``,
        ``"long-short 1"``, ``"spot hedge 1"``, ``"option 1"`` and ``"random 1"``, ...

    Raises
    ------
    DataError
        No underlying; with options, a missing or non-finite return (named by
        :func:`~research.volatility.ewma.ewma_volatility`).
    UnknownUnderlyingError
        An underlying of ``pair`` not in ``history``.
    SpecificationError
        A pair of one underlying twice, a non-positive notional, negative counts, or
        ``iv_premium <= -1``.
    """
    if history.shape[1] < 1 or history.empty:
        raise DataError("crypto books need returns of at least one underlying")
    assets = [str(c) for c in history.columns]
    missing = [u for u in pair if u not in assets]
    if missing:
        raise UnknownUnderlyingError(
            f"the pair's underlying(s) {missing} are not in the returns ({assets})"
        )
    if pair[0] == pair[1]:
        raise SpecificationError(f"the pair needs two different underlyings, got {pair}")
    if not (math.isfinite(notional) and notional > 0):
        raise SpecificationError(f"notional must be a positive number, got {notional!r}")
    for count, what in ((n_options, "n_options"), (n_random, "n_random")):
        if count != 0:
            _check_count(count, what)
    if not iv_premium > -1:
        raise SpecificationError(f"iv_premium must be above -1, got {iv_premium!r}")
    perps = {u: LinearPerpetual(u) for u in assets}
    spots = {u: Spot(u) for u in assets}
    first, second = pair
    books = {
        f"{first}/{second} perps long-short": _book(
            [
                {perps[first].label: a * notional, perps[second].label: -b * notional}
                for a, b in ratios
            ],
            {perps[u].label: perps[u] for u in pair},
            f"{first}-{second}",
        ),
        "perps long-short": _book(
            [
                {perps[a].label: notional, perps[b].label: -notional}
                for a, b in combinations(assets, 2)
            ],
            {p.label: p for p in perps.values()},
            "long-short",
        ),
        "perp hedged by spot": _book(
            [{spots[u].label: notional, perps[u].label: -notional} for u in assets],
            {i.label: i for u in assets for i in (spots[u], perps[u])},
            "spot hedge",
        ),
    }
    if n_options:
        volatility = to_decimal(
            ewma_volatility(history, RISKMETRICS_DECAY)[1]
            * math.sqrt(periods_per_year(history.index)),
            "percent",
        ) * (1 + iv_premium)
        market = Market(spot=dict.fromkeys(assets, 1.0), volatility=volatility.to_dict())
        instruments: dict[str, Instrument] = {}
        rows = []
        for k in range(n_options):
            u = assets[k % len(assets)]
            option = EuropeanOption(
                u,
                strike=float(moneyness[k // len(assets) % len(moneyness)]),
                expiry=float(tenor),
                kind=("call", "put")[k % 2],
                implied_vol=float(volatility[u]),
                name=f"{u} {('call', 'put')[k % 2]} {k + 1}",
            )
            instruments[option.label] = option
            instruments.setdefault(perps[u].label, perps[u])
            delta = option.greeks(market).delta
            rows.append({option.label: notional, perps[u].label: -delta * notional})
        books["options hedged with perps"] = _book(rows, instruments, "option")
    if n_random:
        rng = as_generator(seed)
        rows = [
            dict(
                zip(
                    [p.label for p in perps.values()],
                    rng.normal(0, notional, len(assets)),
                    strict=True,
                )
            )
            for _ in range(n_random)
        ]
        books["random perps"] = _book(rows, {p.label: p for p in perps.values()}, "random")
    return {name: book for name, book in books.items() if len(book.quantities)}


_POSITION_COLUMNS = ("portfolio", "underlying", "notional")


def read_positions(
    path: str | Path, underlyings: Iterable[str] | None = None
) -> tuple[PortfolioBook, pd.Series]:
    """Load a user's positions file (CSV) into a book of constant-notional portfolios.

    Expected columns: ``portfolio``, ``underlying``, ``notional`` (signed, reporting currency);
    optional ``family``, ``instrument`` (``spot`` (default), ``perpetual``, ``future``,
    ``call``, ``put``), ``tenor`` (years), ``moneyness`` and ``implied_vol``. The futures'
    carry is the backtest market's (``OffsetBacktest(carry=...)``), not a column.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV file.
    underlyings : iterable of str, optional
        Known underlyings (e.g. the columns of the returns); positions on others raise.

    Returns
    -------
    book : PortfolioBook
        Portfolios x instruments notionals (see the module notes).
    family : pandas.Series
        The file's ``family`` per portfolio, ``"custom"`` when the file has none.

    Raises
    ------
    DataError
        Missing columns, a ``carry`` column, missing or non-numeric notionals (the rows are
        named), unknown instrument types.
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
    if "carry" in raw.columns:
        raise DataError(
            f"{path}: a carry column is not read; the futures take the carry of the "
            "backtest's market: drop the column and give OffsetBacktest(carry=...)"
        )
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
    legs: dict[str, Instrument] = {}
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
    matrix.index.name = None
    matrix.columns.name = None
    family = (
        raw.groupby("portfolio", sort=False)["family"].first().astype(str)
        if "family" in raw.columns
        else pd.Series("custom", index=matrix.index)
    )
    return PortfolioBook(tuple(legs.values()), matrix), family.astype(object).rename("family")


def _leg_from_row(row: pd.Series, line: int, source: str) -> Instrument:
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
        return Spot(u)
    if kind == "future":
        return DatedFuture(u, expiry=number("tenor", 0.25))
    if kind in ("call", "put"):
        return EuropeanOption(
            u,
            strike=number("moneyness", 1.0),
            expiry=number("tenor", 0.25),
            kind=kind,
            implied_vol=number("implied_vol", None),
        )
    raise DataError(
        f"{source}: line {line}: unknown instrument {kind!r}; use spot, perpetual, "
        "future, call or put"
    )
