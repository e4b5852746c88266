"""Benchmark: offset backtest of 1,000 portfolios x 2,000 days, 1,000-scenario FHS, weekly refits.

Data: the bundled S&P 500 panel (20 stocks), percent log returns. The model is filtered
historical simulation with a GARCH(1,1) per asset refitted every 5 days on the last 1,001
returns (1,000 overlapping 2-day scenarios), a 2-day MPOR and 99% VaR. The book mixes the four
families: 300 hedged pairs, 200 calendar/basis trades, 100 option hedges (full Black-76
revaluation every day) and 400 random long/short books.

Prints, in one run:

* the wall time of the full backtest, portfolio-days per second and the ratio to the issue's
  5-minute target;
* a cProfile breakdown on the first 250 days: the share of time in the matrix products
  (``_scenario_pnl``), in the quantiles (``risk_measure``, ``np.partition``), in the GARCH
  refits and in the option revaluation.

Run: ``.venv/bin/python benchmarks/backtest.py`` (``--days 500`` for a quicker look).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from research.backtest.engine import OffsetBacktest
from research.backtest.models import RollingFHS
from research.backtest.portfolios import (
    PortfolioSet,
    calendar_spreads,
    hedged_pairs,
    option_hedges,
    random_books,
)
from research.data import load_prices, to_returns

TARGET_SECONDS = 300.0
"""Issue 7: 1,000 portfolios x 2,000 days in at most 5 minutes on the 2-core machine."""
HORIZON = 2
N_SCENARIOS = 1000
PROFILE_DAYS = 250


def _book(returns, seed: int = 0) -> PortfolioSet:
    history = returns.iloc[:1000]
    names = list(returns.columns)
    return PortfolioSet.concat(
        [
            hedged_pairs(history, 300, top=30, seed=seed),
            calendar_spreads(names, 200, seed=seed + 1),
            option_hedges(history, 100, seed=seed + 2),
            random_books(names, 400, n_legs=(2, 10), seed=seed + 3),
        ]
    )


def _share(stats: pstats.Stats, names: tuple[str, ...], total: float) -> float:
    seconds = sum(row[3] for func, row in stats.stats.items() if func[2] in names)
    return seconds / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2000)
    args = parser.parse_args()
    returns = to_returns(load_prices("sp500"))
    lookback = N_SCENARIOS + HORIZON - 1
    returns = returns.iloc[-(args.days + lookback + HORIZON) :]
    book = _book(returns)
    engine = OffsetBacktest(
        RollingFHS(horizon=HORIZON), level=0.99, refit_every=5, lookback=lookback
    )
    # warm-up: numba compilation of the GARCH kernel, thread-pool discovery
    engine.run(returns.iloc[: lookback + 10], _book(returns.iloc[: lookback + 10]))

    start = time.perf_counter()
    result = engine.run(returns, book)
    seconds = time.perf_counter() - start
    n_days, n_port = len(result.dates), book.n_portfolios
    print(
        f"offset backtest: {n_port} portfolios x {n_days} days, {N_SCENARIOS} FHS "
        f"scenarios, {len(result.refit_dates)} weekly GARCH refits of "
        f"{returns.shape[1]} assets"
    )
    print(
        f"  wall time            {seconds:8.1f} s   (target {TARGET_SECONDS:.0f} s, "
        f"ratio {seconds / TARGET_SECONDS:.2f})"
    )
    print(f"  portfolio-days / s   {n_port * n_days / seconds:10,.0f}")

    profile_days = min(PROFILE_DAYS, args.days)
    profiler = cProfile.Profile()
    short = returns.iloc[: lookback + profile_days + HORIZON]
    profiler.enable()
    engine.run(short, book)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    print(f"profile of {profile_days} days ({total:.1f} s under cProfile):")
    for label, names in (
        ("matrix products (_scenario_pnl)", ("_scenario_pnl",)),
        ("quantiles (risk_measure/np.partition)", ("risk_measure",)),
        ("GARCH refits (fit)", ("fit_garch",)),
        ("option revaluation (Black-76)", ("pnl_per_notional",)),
    ):
        print(f"  {label:40s} {_share(stats, names, total):6.1%}")


if __name__ == "__main__":
    main()
