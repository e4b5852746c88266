"""Benchmark: offset backtest of 1,000 portfolios x 2,000 days, 1,000-scenario FHS, weekly refits.

Data: the bundled S&P 500 panel (20 stocks), percent log returns. The model is filtered
historical simulation with a GARCH(1,1) per asset refitted every 5 days on the last 1,001
returns (1,000 overlapping 2-day scenarios), a 2-day MPOR and 99% VaR; every day the margin
engine (``research.margin.FilteredHistoricalSimulation`` on the day's scenarios) margins the
``research.portfolio`` book. The book mixes the four families: 300 hedged pairs, 200
calendar/basis trades, 100 option hedges (full Black-76 revaluation every day) and 400 random
long/short books.

Prints, in one run:

* the wall time of the full backtest (serially, and with the test period cut into one run of
  refit blocks per core on local processes, with a check that both give the same bits; the
  GARCH refits run first, in order), portfolio-days per second and the ratio to issue 14's
  ceiling (72 s, the time of the backtest's former private arithmetic on this machine);
* a cProfile breakdown on the first 250 days: the share of time in the products and tail
  selection (``var_es_of_product``), in the revaluation (``unit_pnl``), in the engine's book
  checks (``unit_exposures``) and in the GARCH refits.

Run: ``.venv/bin/python benchmarks/backtest.py`` (``--days 500`` for a quicker look,
``--no-processes`` to skip the parallel run).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import numpy as np

from research.backtest.engine import OffsetBacktest
from research.backtest.models import RollingFHS
from research.backtest.portfolios import (
    calendar_spreads,
    hedged_pairs,
    option_hedges,
    random_books,
    stack_books,
)
from research.data import load_prices, to_returns

CEILING_SECONDS = 72.0
"""Issue 14: no slower than the former private backtest arithmetic (72 s on this machine)."""
HORIZON = 2
N_SCENARIOS = 1000
PROFILE_DAYS = 250
CARRY = 0.05


def _book(returns, seed: int = 0):
    history = returns.iloc[:1000]
    names = list(returns.columns)
    return stack_books(
        {
            "hedged pair": hedged_pairs(history, 300, top=30, seed=seed),
            "calendar/basis": calendar_spreads(names, 200, seed=seed + 1),
            "option hedge": option_hedges(history, 100, seed=seed + 2),
            "random book": random_books(names, 400, n_legs=(2, 10), seed=seed + 3),
        }
    )


def _share(stats: pstats.Stats, names: tuple[str, ...], total: float) -> float:
    seconds = max((row[3] for func, row in stats.stats.items() if func[2] in names), default=0.0)
    return seconds / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2000)
    parser.add_argument("--no-processes", action="store_true")
    args = parser.parse_args()
    returns = to_returns(load_prices("sp500"))
    lookback = N_SCENARIOS + HORIZON - 1
    returns = returns.iloc[-(args.days + lookback + HORIZON) :]
    book, family = _book(returns)
    engine = OffsetBacktest(
        RollingFHS(horizon=HORIZON), level=0.99, refit_every=5, lookback=lookback, carry=CARRY
    )
    # warm-up: numba compilation, thread-pool discovery
    short = returns.iloc[: lookback + 10]
    engine.run(short, *_book(short)[:1])

    start = time.perf_counter()
    result = engine.run(returns, book, family=family)
    seconds = time.perf_counter() - start
    n_days, n_port = len(result.dates), book.n_portfolios
    print(
        f"offset backtest: {n_port} portfolios x {n_days} days, {N_SCENARIOS} FHS "
        f"scenarios, {len(result.refit_dates)} weekly GARCH refits of "
        f"{returns.shape[1]} assets, {book.quantities.shape[1]} instruments"
    )
    print(
        f"  wall time (serial)       {seconds:8.1f} s   (ceiling {CEILING_SECONDS:.0f} s, "
        f"ratio {seconds / CEILING_SECONDS:.2f})"
    )
    print(f"  portfolio-days / s       {n_port * n_days / seconds:10,.0f}")
    if not args.no_processes:
        start = time.perf_counter()
        parallel = engine.run(returns, book, family=family, backend="processes")
        wall = time.perf_counter() - start
        same = all(
            np.array_equal(getattr(result, name), getattr(parallel, name))
            for name in ("margin_isolated", "margin_cross", "loss")
        )
        print(
            f"  wall time (processes)    {wall:8.1f} s   (ratio {wall / CEILING_SECONDS:.2f}); "
            f"bit-identical to serial: {same}"
        )

    profile_days = min(PROFILE_DAYS, args.days)
    profiler = cProfile.Profile()
    short = returns.iloc[: lookback + profile_days + HORIZON]
    profiler.enable()
    engine.run(short, book, family=family)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    print(f"profile of {profile_days} days ({total:.1f} s under cProfile):")
    for label, names in (
        ("products and tails (var_es_of_product)", ("var_es_of_product",)),
        ("revaluation (unit_pnl)", ("unit_pnl",)),
        ("engine book checks (unit_exposures)", ("unit_exposures",)),
        ("GARCH refits (fit)", ("_fit",)),
    ):
        print(f"  {label:42s} {_share(stats, names, total):6.1%}")


if __name__ == "__main__":
    main()
