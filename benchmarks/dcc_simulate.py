"""Benchmark: DCC-GARCH scenario simulation, 10,000 paths x 10 days x 20 assets.

The model is DCC(1,1)-GARCH(1,1) fitted to the reference data of issue 3 (skfolio S&P 500,
100 * diff(log price), last 2,500 rows, all 20 assets). Prints the time of
``DCCResult.simulate`` for parametric (Gaussian) and filtered historical simulation, with the
numpy GARCH(1,1) univariate engine and with ``arch``'s own simulation forecast, and the time
of a naive per-path Python loop (numpy per step) on a subset, extrapolated to 10,000 paths.
Target (issue 3): well under a second.

Run: ``.venv/bin/python benchmarks/dcc_simulate.py``.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
from skfolio.datasets import load_sp500_dataset

from research.correlation import DCC

PATHS, HORIZON = 10_000, 10
NAIVE_PATHS = 200
TARGET_SECONDS = 1.0


def best_time(func, repeats: int = 3) -> tuple[float, object]:
    """Best wall time of ``repeats`` calls after one warm-up call."""
    out = func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return min(times), out


def naive_simulation(res, paths: int, horizon: int, seed: int) -> np.ndarray:
    """Path by path, day by day: R from Q, Cholesky, shocks, Q update, GARCH(1,1) update."""
    rng = np.random.default_rng(seed)
    a, b = float(res.params["a"]), float(res.params["b"])
    qbar = res.qbar
    fits = [res.univariate.results[asset] for asset in res.assets]
    mu = np.array([f.params["mu"] for f in fits])
    omega = np.array([f.params["omega"] for f in fits])
    alpha = np.array([f.params["alpha[1]"] for f in fits])
    beta = np.array([f.params["beta[1]"] for f in fits])
    s2_next = np.array([f.forecast(horizon=1, reindex=False).variance.values[-1, 0] for f in fits])
    out = np.empty((paths, horizon, len(mu)))
    for p in range(paths):
        q = res.q_next.copy()
        s2 = s2_next.copy()
        for k in range(horizon):
            d = np.sqrt(np.diag(q))
            r = q / np.outer(d, d)
            z = np.linalg.cholesky(r) @ rng.standard_normal(len(mu))
            eps = np.sqrt(s2) * z
            out[p, k] = mu + eps
            q = (1 - a - b) * qbar + a * np.outer(z, z) + b * q
            s2 = omega + alpha * eps**2 + beta * s2
    return out


def main() -> None:
    warnings.simplefilter("ignore")
    load_before = os.getloadavg()[0]
    prices = load_sp500_dataset()
    returns = (100.0 * np.log(prices).diff()).dropna().iloc[-2500:]
    res = DCC(std_errors=False).fit(returns)
    n = len(res.assets)
    print(f"DCC(1,1)-GARCH(1,1), N={n}: a={res.params['a']:.6f} b={res.params['b']:.6f}")
    print(f"simulating {PATHS:,} paths x {HORIZON} days x {n} assets")

    rows = {}
    for method in ("parametric", "fhs"):
        for engine in ("fast", "arch"):
            seconds, sim = best_time(
                lambda m=method, e=engine: res.simulate(
                    horizon=HORIZON, paths=PATHS, method=m, seed=0, univariate_engine=e
                )
            )
            rows[(method, engine)] = seconds
            print(f"  {method:<10} univariate={engine:<4}  {seconds:6.3f} s")
    t_naive, _ = best_time(lambda: naive_simulation(res, NAIVE_PATHS, HORIZON, 0), repeats=1)
    t_naive_full = t_naive * PATHS / NAIVE_PATHS
    best = rows[("parametric", "fast")]
    print(
        f"  naive per-path loop: {t_naive:.3f} s for {NAIVE_PATHS} paths "
        f"-> {t_naive_full:.1f} s extrapolated to {PATHS:,}"
    )
    print(f"\nspeed-up vs naive loop (parametric, fast engine): {t_naive_full / best:.0f}x")
    print(
        f"target: {PATHS:,} x {HORIZON} x {n} well under {TARGET_SECONDS} s -> "
        f"{best:.3f} s ({'met' if best < TARGET_SECONDS else 'MISSED'}); "
        f"FHS {rows[('fhs', 'fast')]:.3f} s; with arch's simulation per asset "
        f"{rows[('parametric', 'arch')]:.3f} s"
    )
    print(
        f"machine: {os.cpu_count()} cores, 1-min load average {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after (times scale with load on a shared machine)"
    )


if __name__ == "__main__":
    main()
