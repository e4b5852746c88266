"""Margin of 10,000 portfolios x 20 underlyings x 1,000 scenarios in one call.

Prints, for each engine's book path, the wall time and the achieved GFLOP/s of the portfolio x
scenario product (2 * portfolios * instruments * scenarios flops), against a plain numpy matrix
product of the same shape (the practical limit on this machine), and their ratio. Also compares
the compiled VaR/ES selection (research.margin.tail) with the np.partition fallback and a full
sort.

Run: .venv/bin/python benchmarks/margin_engines.py [--portfolios N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from research.margin import (
    CorrelationEngine,
    FilteredHistoricalSimulation,
    RiskWeightEngine,
    ScenarioGridEngine,
    tail,
    var_es,
)
from research.portfolio import LinearPerpetual, Market, PortfolioBook, Scenarios


def best_of(repeat: int, func) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portfolios", type=int, default=10_000)
    parser.add_argument("--underlyings", type=int, default=20)
    parser.add_argument("--scenarios", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n_port, n_und, n_scen = args.portfolios, args.underlyings, args.scenarios

    rng = np.random.default_rng(0)
    names = [f"U{k:02d}" for k in range(n_und)]
    market = Market(spot=dict(zip(names, rng.uniform(10, 1_000, n_und), strict=True)))
    instruments = tuple(LinearPerpetual(u) for u in names)
    quantities = pd.DataFrame(rng.normal(0, 10, (n_port, n_und)),
                              columns=[i.label for i in instruments])
    book = PortfolioBook(instruments, quantities)
    corr = 0.5 * np.ones((n_und, n_und)) + 0.5 * np.eye(n_und)
    moves = rng.multivariate_normal(np.zeros(n_und), 0.03**2 * corr, n_scen)
    scenarios = Scenarios.from_array(moves, names)
    rho = pd.DataFrame(corr, index=names, columns=names)
    weights = dict.fromkeys(names, 0.15)

    flops = 2.0 * n_port * n_und * n_scen
    q = np.ascontiguousarray(quantities.to_numpy())
    units = np.ascontiguousarray(rng.normal(size=(n_und, n_scen)))
    t_ref = best_of(args.repeat, lambda: q @ units)
    print(f"shape: {n_port} portfolios x {n_und} underlyings x {n_scen} scenarios; "
          f"best of {args.repeat}; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cpus")
    print(f"{'plain numpy q @ unit_pnl':<38}{t_ref * 1e3:9.1f} ms  "
          f"{flops / t_ref / 1e9:7.2f} GFLOP/s  (practical limit)")

    fhs = FilteredHistoricalSimulation(scenarios, level=0.99, measure="es")
    engines = {
        "fhs ES 99% (full margin_book)": fhs,
        "scenario grid (full margin_book)": ScenarioGridEngine(dict.fromkeys(names, 0.15)),
    }
    others = {
        "correlation/SIMM (full margin_book)": CorrelationEngine(weights, rho),
        "risk weight (full margin_book)": RiskWeightEngine(weights),
    }
    prep = fhs._prepare(book, market)
    t_kernel = best_of(args.repeat, lambda: fhs._cross(q, prep))
    print(f"{'fhs cross kernel (matmul + tail select)':<38}{t_kernel * 1e3:9.1f} ms  "
          f"{flops / t_kernel / 1e9:7.2f} GFLOP/s  ratio {t_ref / t_kernel:5.2f}")
    for label, engine in engines.items():
        t = best_of(args.repeat, lambda engine=engine: engine.margin_book(book, market))
        print(f"{label:<38}{t * 1e3:9.1f} ms  {flops / t / 1e9:7.2f} GFLOP/s  "
              f"ratio {t_ref / t:5.2f}")
    print("(scenario grid: 16 scenarios per underlying; GFLOP/s counted on the same "
          "portfolio x 1,000 product for comparison)")
    for label, engine in others.items():  # no scenario axis: time only
        t = best_of(args.repeat, lambda engine=engine: engine.margin_book(book, market))
        print(f"{label:<38}{t * 1e3:9.1f} ms  (no scenario product)")

    losses = q @ units
    t_select = best_of(args.repeat, lambda: var_es(losses, 0.99))
    threshold = tail.INSERTION_MAX_TAIL
    tail.INSERTION_MAX_TAIL = 0  # every tail through np.partition
    t_part = best_of(args.repeat, lambda: var_es(losses, 0.99))
    t_kernel_part = best_of(args.repeat, lambda: fhs._cross(q, prep))
    tail.INSERTION_MAX_TAIL = threshold

    def sort_based():
        ordered = np.sort(losses, axis=1)
        m = 10
        return ordered[:, -m], ordered[:, -m:].mean(axis=1)

    t_sort = best_of(args.repeat, sort_based)
    print(f"fhs cross kernel with np.partition instead: {t_kernel_part * 1e3:.1f} ms  "
          f"{flops / t_kernel_part / 1e9:.2f} GFLOP/s  ratio {t_ref / t_kernel_part:.2f}")
    print(f"VaR/ES over {n_scen} scenarios for {n_port} portfolios (var_es): compiled "
          f"selection {t_select * 1e3:.1f} ms, np.partition {t_part * 1e3:.1f} ms, full sort "
          f"{t_sort * 1e3:.1f} ms (partition/selection {t_part / t_select:.1f}x, "
          f"sort/selection {t_sort / t_select:.1f}x)")


if __name__ == "__main__":
    main()
