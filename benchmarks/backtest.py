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
  checks (``unit_exposures``) and in the GARCH refits;
* beside it, the two backtests of the default proposal (issue 14): ``configs/default.yaml``
  prepared and calibrated (:func:`research.calibration.calibrate.prepare_study`,
  :func:`~research.calibration.calibrate.calibrate`), then the proposed set frozen on the
  days after its as-of date (:func:`research.backtest.proposal.frozen_backtest`) and the
  config recalibrated quarterly over the whole history
  (:func:`~research.backtest.proposal.rolling_backtest`): the time of the calibration and of
  each backtest, the fingerprint(s) and the coverage tables.

Run: ``.venv/bin/python benchmarks/backtest.py`` (``--days 500`` for a quicker look,
``--no-processes`` to skip the parallel run, ``--no-proposal`` to skip the proposal's
backtests, ``--every YE`` for yearly instead of quarterly recalibration).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from research.backtest.engine import OffsetBacktest
from research.backtest.models import RollingFHS
from research.backtest.portfolios import (
    calendar_spreads,
    hedged_pairs,
    option_hedges,
    random_books,
    stack_books,
)
from research.backtest.proposal import DEFAULT_REFIT, frozen_backtest, rolling_backtest
from research.calibration.calibrate import calibrate, load_config_prices, prepare_study
from research.calibration.config import CalibrationConfig
from research.data import load_prices, to_returns

CEILING_SECONDS = 72.0
"""Issue 14: no slower than the former private backtest arithmetic (72 s on this machine)."""
HORIZON = 2
N_SCENARIOS = 1000
PROFILE_DAYS = 250
CARRY = 0.05
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
"""The default proposal's config (the repository's, next to this script)."""


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


def _proposal(every: str) -> None:
    """Calibrate the default config, then backtest its proposal frozen and rolling."""
    base = CalibrationConfig.from_yaml(CONFIG)
    start = time.perf_counter()
    config, prices = prepare_study(base)
    with warnings.catch_warnings(action="ignore"):  # the calibration study shows them
        proposal = calibrate(config, prices).parameters
    seconds = time.perf_counter() - start
    print(
        f"default proposal ({CONFIG.name}): {proposal.version} as of {proposal.as_of}, "
        f"{len(proposal.risk_weights)} underlyings, {len(proposal.offset_credits)} credited "
        f"pairs, fingerprint [{proposal.fingerprint}]"
    )
    print(f"  calibration              {seconds:8.1f} s")
    history = load_config_prices(config, out_of_sample=True)
    start = time.perf_counter()
    frozen = frozen_backtest(proposal, history)
    frozen_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings(action="ignore"):  # each refit's calibration warnings
        rolling = rolling_backtest(config, history, every=every)
    rolling_seconds = time.perf_counter() - start
    for name, run, wall in (
        ("frozen", frozen, frozen_seconds),
        ("rolling", rolling, rolling_seconds),
    ):
        result = run.result
        sets = len(run.refits)
        print(
            f"  {name:8s} backtest         {wall:8.1f} s   {result.loss.shape[1]} portfolios x "
            f"{len(result.dates)} days ({result.dates[0].date()} to {result.dates[-1].date()}), "
            f"{sets} set{'s' if sets > 1 else ''}"
        )
    print(f"  frozen backtest fingerprint [{frozen.fingerprints[0][1]}]")
    first, last = rolling.fingerprints[0], rolling.fingerprints[-1]
    print(
        f"  rolling backtest: {len(rolling.refits)} refits ({every}), first {first[0].date()} "
        f"[{first[1]}], last {last[0].date()} [{last[1]}]"
    )
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        for name, run in (("frozen", frozen), ("rolling", rolling)):
            print(f"coverage of the {name} backtest (cross margin):")
            print(run.coverage().to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2000)
    parser.add_argument("--no-processes", action="store_true")
    parser.add_argument("--no-proposal", action="store_true")
    parser.add_argument("--every", default=DEFAULT_REFIT)
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
    if not args.no_proposal:
        _proposal(args.every)


if __name__ == "__main__":
    main()
