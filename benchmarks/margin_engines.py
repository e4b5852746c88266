"""Margin of 10,000 portfolios x 20 underlyings x 1,000 scenarios in one call; the venue engines.

Prints, for each engine's book path, the wall time (best and median of round-robin trials) and
the achieved GFLOP/s of the portfolio x scenario product (2 * portfolios * instruments *
scenarios flops), against a plain numpy matrix product of the same shape (the practical limit
on this machine), and their ratio: 1 means the margin costs exactly one matrix product. Also
compares the compiled VaR/ES selection (research.margin.tail) with the np.partition fallback and
a full sort.

Then every venue engine of :mod:`research.margin.venues` margins the same 10,000 books of linear
perpetuals on 20 underlyings (the venue parameter sets get a catch-all ``"*"`` entry, a copy of
their BTC values, for the synthetic underlyings), and its full ``margin_book`` time is printed
against one numpy product of the engine's own scenario matrix (Paradex: 24 scenarios per
underlying, block-sparse: each instrument moves with its own underlying only; Deribit: its
27 + 8 cells per underlying; OKX: its MR1 grid and the two MR6 extreme moves per risk unit; dYdX
and Hyperliquid: the instrument x underlying netting matrix). Each engine and its product are
timed back to back in every round (alternating which goes first), and the ratio engine /
product of each round is summarised as median [lowest-highest], three ways: wall time with the
default BLAS threads, wall time with one BLAS thread, and this process's CPU time with one BLAS
thread. The target is a ratio within 3x. On a loaded host the CPU-time ratio is the one to
read: other processes preempt a long call more often than a sub-millisecond one, which inflates
the wall-time ratios of dYdX and Hyperliquid, whose matrices are tiny (a 0.5 ms product) so
that their ratio measures the fixed cost every engine's ``margin_book`` pays (input checks, the
isolated margins, the result frames), not a kernel.

Run: .venv/bin/python benchmarks/margin_engines.py [--portfolios N] [--repeat R] [--venues-only]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from operator import attrgetter

import numpy as np
import pandas as pd

from research._threads import single_threaded_blas
from research._typing import Float64Array
from research.margin import (
    CorrelationEngine,
    FilteredHistoricalSimulation,
    RiskWeightEngine,
    ScenarioGridEngine,
    tail,
    var_es,
)
from research.margin.venues import (
    DeribitEngine,
    DydxEngine,
    HyperliquidEngine,
    OkxEngine,
    ParadexEngine,
    VenueParameters,
)
from research.margin.venues.paradex import N_SCENARIOS
from research.portfolio import LinearPerpetual, Market, PortfolioBook, Scenarios


def interleaved(funcs: dict[str, object], repeat: int) -> dict[str, tuple[float, float]]:
    """Best and median wall time of each function, timed round-robin after one warm-up each.

    Round-robin trials see the same machine conditions, so their ratios are fair on a shared
    machine whose speed drifts between seconds.
    """
    for func in funcs.values():
        func()
    times: dict[str, list[float]] = {label: [] for label in funcs}
    for _ in range(repeat):
        for label, func in funcs.items():
            start = time.perf_counter()
            func()
            times[label].append(time.perf_counter() - start)
    return {label: (min(t), float(np.median(t))) for label, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portfolios", type=int, default=10_000)
    parser.add_argument("--underlyings", type=int, default=20)
    parser.add_argument("--scenarios", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--venues-only", action="store_true", help="time the venue engines only")
    args = parser.parse_args()
    n_port, n_und, n_scen = args.portfolios, args.underlyings, args.scenarios

    rng = np.random.default_rng(0)
    names = [f"U{k:02d}" for k in range(n_und)]
    market = Market(spot=dict(zip(names, rng.uniform(10, 1_000, n_und), strict=True)))
    instruments = tuple(LinearPerpetual(u) for u in names)
    quantities = pd.DataFrame(
        rng.normal(0, 10, (n_port, n_und)), columns=[i.label for i in instruments]
    )
    book = PortfolioBook(instruments, quantities)
    if args.venues_only:
        venue_benchmark(book, market, names, args.repeat)
        return
    corr = 0.5 * np.ones((n_und, n_und)) + 0.5 * np.eye(n_und)
    moves = rng.multivariate_normal(np.zeros(n_und), 0.03**2 * corr, n_scen)
    scenarios = Scenarios.from_array(moves, names)
    rho = pd.DataFrame(corr, index=names, columns=names)
    weights = dict.fromkeys(names, 0.15)

    flops = 2.0 * n_port * n_und * n_scen
    q = np.ascontiguousarray(quantities.to_numpy())
    units = np.ascontiguousarray(rng.normal(size=(n_und, n_scen)))
    fhs = FilteredHistoricalSimulation(scenarios, level=0.99, measure="es")
    prep = fhs._prepare(book, market)
    threshold = tail.INSERTION_MAX_TAIL

    def partitioned(func):
        def run():
            tail.INSERTION_MAX_TAIL = 0  # every tail through np.partition
            try:
                return func()
            finally:
                tail.INSERTION_MAX_TAIL = threshold

        return run

    product_label = "plain numpy q @ unit_pnl"
    timed = interleaved(
        {
            product_label: lambda: q @ units,
            "fhs cross kernel (product + tail select)": lambda: fhs._cross(q, prep),
            "same with np.partition for the tail": partitioned(lambda: fhs._cross(q, prep)),
            "fhs ES 99% (full margin_book)": lambda: fhs.margin_book(book, market),
            "scenario grid (full margin_book)": lambda: ScenarioGridEngine(
                dict.fromkeys(names, 0.15)
            ).margin_book(book, market),
        },
        args.repeat,
    )
    print(
        f"shape: {n_port} portfolios x {n_und} underlyings x {n_scen} scenarios; best and "
        f"median of {args.repeat} round-robin trials; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cpus"
    )
    print(
        f"{'':<42}{'best':>9}{'median':>9}{'GFLOP/s':>9}  ratio = numpy product time / time "
        "(best, median)"
    )
    ref_best, ref_median = timed[product_label]
    for label, (best, median) in timed.items():
        note = (
            "  (practical limit)"
            if label == product_label
            else (f"  {ref_best / best:5.2f}  {ref_median / median:5.2f}")
        )
        print(f"{label:<42}{best * 1e3:7.1f}ms{median * 1e3:7.1f}ms{flops / best / 1e9:9.2f}{note}")
    print(
        "(scenario grid: 16 scenarios per underlying; GFLOP/s counted on the same "
        "portfolio x 1,000 product for comparison)"
    )
    others = {
        "correlation/SIMM (full margin_book)": CorrelationEngine(weights, rho),
        "risk weight (full margin_book)": RiskWeightEngine(weights),
    }
    for label, (best, median) in interleaved(
        {label: (lambda e=engine: e.margin_book(book, market)) for label, engine in others.items()},
        args.repeat,
    ).items():
        print(f"{label:<42}{best * 1e3:7.1f}ms{median * 1e3:7.1f}ms  (no scenario product)")

    losses = q @ units

    def sort_based():
        ordered = np.sort(losses, axis=1)
        return ordered[:, -10], ordered[:, -10:].mean(axis=1)

    select = interleaved(
        {
            "selection": lambda: var_es(losses, 0.99),
            "partition": partitioned(lambda: var_es(losses, 0.99)),
            "sort": sort_based,
        },
        args.repeat,
    )
    t_select, t_part, t_sort = (select[k][0] for k in ("selection", "partition", "sort"))
    print(
        f"VaR/ES over {n_scen} scenarios for {n_port} portfolios of a stored loss matrix "
        f"(var_es): compiled selection {t_select * 1e3:.1f} ms, np.partition "
        f"{t_part * 1e3:.1f} ms, full sort {t_sort * 1e3:.1f} ms (partition/selection "
        f"{t_part / t_select:.1f}x, sort/selection {t_sort / t_select:.1f}x)"
    )

    venue_benchmark(book, market, names, args.repeat)


def _with_catch_all(name: str, *tables: str) -> VenueParameters:
    """A shipped venue set whose per-currency ``tables`` also hold a ``"*"`` copy of BTC."""
    data = VenueParameters.load(name).to_dict()
    for table in tables:
        data["values"][table]["*"] = data["values"][table]["BTC"]
    return VenueParameters.from_dict(data)


def _paradex_grid(prep: object) -> np.ndarray:
    """The dense instruments x (underlyings x 24) scenario matrix of a Paradex-style book.

    The engine's compiled kernel adds each instrument into its own underlying's 24 scenarios
    only (the matrix is block-sparse); the benchmark compares it with the dense product.
    """
    grid, on = prep.grid, prep.on  # type: ignore[attr-defined]
    dense = np.zeros((len(on), (int(on.max()) + 1) * N_SCENARIOS))
    for j, k in enumerate(on):
        dense[j, k * N_SCENARIOS : (k + 1) * N_SCENARIOS] = grid[j]
    return dense


def paired_ratios(
    product: Callable[[], object],
    engine: Callable[[], object],
    repeat: int,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[Float64Array, Float64Array, Float64Array]:
    """Times of ``product`` and ``engine`` and their ratio in each of ``repeat`` rounds.

    One warm-up call each, then every round times both back to back (alternating which goes
    first), so a round's ratio compares the two under the same machine conditions; on a shared
    machine whose speed drifts between seconds the median of the rounds' ratios is steadier
    than a ratio of separately timed medians. ``clock`` is wall time by default;
    ``time.process_time`` counts this process's CPU time only (meaningful with one BLAS
    thread), which other processes on a loaded host do not inflate.
    """
    product()
    engine()
    times = np.empty((repeat, 2))
    for r in range(repeat):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for k in order:
            func = product if k == 0 else engine
            start = clock()
            func()
            times[r, k] = clock() - start
    return times[:, 0], times[:, 1], times[:, 1] / times[:, 0]


def venue_benchmark(book: PortfolioBook, market: Market, names: list[str], repeat: int) -> None:
    """Time every venue engine's ``margin_book`` against one product of its scenario matrix.

    Three measures, each the median [lowest-highest] over ``repeat`` rounds of the ratio
    engine / product timed back to back: wall time with the default BLAS threads, wall time
    with one BLAS thread, and CPU time of this process with one BLAS thread (a loaded host
    preempts a long call more often than a short one, which inflates wall-time ratios against
    a sub-millisecond product; CPU time is immune to that, not to the host's cache and memory
    contention).
    """
    q = np.ascontiguousarray(book.quantities.to_numpy())
    # each engine and how to read its (dense) scenario matrix off its prepared book
    engines = {
        "Paradex-style": (ParadexEngine(asset_tables=dict.fromkeys(names, "BTC")), _paradex_grid),
        "Deribit-style": (
            DeribitEngine(_with_catch_all("deribit_2026-02-15", "pairs", "currencies")),
            attrgetter("unit"),
        ),
        "OKX-style": (
            OkxEngine(_with_catch_all("okx_2025-01-06", "group_of")),
            attrgetter("unit"),
        ),
        "dYdX-style": (DydxEngine(market_tiers=dict.fromkeys(names, 0)), attrgetter("netting")),
        "Hyperliquid-style": (
            HyperliquidEngine(_with_catch_all("hyperliquid_2026-12-04", "assets")),
            attrgetter("netting"),
        ),
    }
    print(
        f"\nvenue engines on {book.n_portfolios} books x {len(names)} underlyings (linear "
        "perpetuals): full margin_book against one numpy product of the engine's scenario "
        f"matrix, {repeat} rounds each timing both back to back; ratio = engine / product per "
        "round, median [lowest-highest]; wall time with the default BLAS threads (after a "
        "threaded product the BLAS threads spin a while, which slows the next timed call on a "
        "small host), wall and CPU time with one BLAS thread; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus"
    )
    print(
        f"{'':<18}{'matrix':>7}{'product':>9}{'engine':>9}{'wall, threads':>21}"
        f"{'wall, 1 thread':>21}{'CPU, 1 thread':>21}"
    )
    for label, (engine, scenario_matrix) in engines.items():
        matrix = np.ascontiguousarray(scenario_matrix(engine._prepare(book, market)))
        funcs = (lambda m=matrix: q @ m, lambda e=engine: e.margin_book(book, market))
        measures = []
        for threads, clock in (
            (nullcontext(), time.perf_counter),
            (single_threaded_blas(), time.perf_counter),
            (single_threaded_blas(), time.process_time),
        ):
            with threads:
                product, margin, ratio = paired_ratios(*funcs, repeat, clock)
            if not measures:
                times = f"{np.median(product) * 1e3:7.1f}ms{np.median(margin) * 1e3:7.1f}ms"
            measures.append(f"{np.median(ratio):7.2f}x [{ratio.min():5.2f}-{ratio.max():5.2f}]")
        shape = f"{matrix.shape[0]}x{matrix.shape[1]}"
        print(f"{label:<18}{shape:>7}{times}{''.join(measures)}")


if __name__ == "__main__":
    main()
