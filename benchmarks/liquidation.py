"""Liquidation cascades: 10,000 accounts x 5 assets x 1,000 hourly steps.

Prints the engine's wall time per step and the rounds per step on the full problem, then runs
the same cascade on a subsample of accounts both with the engine and with a plain per-account
Python loop (same rules: flat maintenance, full liquidation, batch rounds, linear impact,
midpoint fills, fee, an insurance fund large enough that no ADL is needed), checks that the two
agree (same liquidated accounts, same end prices) and prints the loop's time per account-step
over the engine's (the ratio).

Last, a maintenance rule from a margin engine (:class:`EngineMaintenance` of a parameter set
whose risk weights are twice the flat rate, scale 0.5, no offsets: the same maintenance as the
flat tiers) against the flat tiers on a smaller problem: time per step of both, their ratio,
the calls to the rule (one per round, every active pot at once) and the share of the run spent
in them; the two runs must liquidate the same accounts at the same prices (to 1e-12).

Run: .venv/bin/python benchmarks/liquidation.py [--accounts N] [--steps T] [--subsample S]
     [--engine-accounts N] [--engine-steps T]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd

from research.calibration import MarginParameters
from research.liquidation import (
    Accounts,
    AssetMarket,
    CascadeSimulator,
    EngineMaintenance,
    LinearImpact,
    Maintenance,
    ShockPath,
    TieredMaintenance,
    binance_like,
    synthetic_accounts,
)

ASSETS = {"BTC": 100_000.0, "ETH": 3_500.0, "SOL": 150.0, "XRP": 2.5, "DOGE": 0.2}
RATE, FEE, FUND = 0.01, 0.005, 1e15


def problem(n_accounts: int, steps: int, seed: int = 0) -> tuple[Accounts, ShockPath, dict]:
    prices = pd.Series(ASSETS)
    notional = pd.Series(2e5 * n_accounts / len(ASSETS), index=prices.index)
    accounts = synthetic_accounts(
        prices,
        notional,
        n_accounts=n_accounts,
        leverage_median=15.0,
        entry_dispersion=0.01,
        seed=seed,
    )
    rng = np.random.default_rng(seed + 1)
    returns = rng.standard_t(4, (steps, len(ASSETS))) * 0.006
    path = ShockPath.from_returns(pd.DataFrame(returns, columns=list(ASSETS)))
    markets = {
        a: AssetMarket(p, LinearImpact.from_depth(notional[a] / 20, p)) for a, p in prices.items()
    }
    return accounts, path, markets


def engine_run(
    accounts: Accounts, path: ShockPath, markets: dict, maintenance: Maintenance | None = None
):
    profile = binance_like(maintenance_rate=RATE, liquidation_fee=FEE, insurance_fund=FUND)
    if maintenance is not None:
        profile = binance_like(maintenance=maintenance, liquidation_fee=FEE, insurance_fund=FUND)
    start = time.perf_counter()
    result = CascadeSimulator(profile, markets).run(accounts, path)
    return time.perf_counter() - start, result


def loop_run(accounts: Accounts, path: ShockPath, markets: dict):
    """A plain per-account Python loop of the same cascade."""
    assets = list(markets)
    lam = [markets[a].impact.lam for a in assets]
    price = [markets[a].price for a in assets]
    n = [list(map(float, row)) for row in accounts.quantities[assets].to_numpy()]
    entry = [list(map(float, row)) for row in accounts.entry[assets].to_numpy()]
    wallet = list(map(float, accounts.collateral.to_numpy()))
    liquidated = set()
    returns = path.log_returns[assets].to_numpy().tolist()
    start = time.perf_counter()
    for step in returns:
        price = [p * math.exp(r) for p, r in zip(price, step, strict=True)]
        anchor, cum = list(price), [0.0] * len(assets)
        while True:
            hit = []
            for i in range(len(n)):
                held = any(q != 0.0 for q in n[i])
                if not held:
                    continue
                equity = wallet[i] + sum(
                    q * (p - e) for q, p, e in zip(n[i], price, entry[i], strict=True)
                )
                mm = sum(abs(q) * p * RATE for q, p in zip(n[i], price, strict=True))
                scale = abs(wallet[i]) + sum(abs(q) * p for q, p in zip(n[i], price, strict=True))
                if equity - mm < -1e-12 * scale:
                    hit.append(i)
            if not hit:
                break
            flow = [sum(n[i][j] for i in hit) for j in range(len(assets))]
            new = [anchor[j] - lam[j] * (cum[j] + flow[j]) for j in range(len(assets))]
            avg = [
                (anchor[j] * flow[j] - 0.5 * lam[j] * ((cum[j] + flow[j]) ** 2 - cum[j] ** 2))
                / flow[j]
                if flow[j]
                else price[j]
                for j in range(len(assets))
            ]
            cum = [c + f for c, f in zip(cum, flow, strict=True)]
            for i in hit:
                notional = sum(abs(q) * a for q, a in zip(n[i], avg, strict=True))
                wallet[i] += sum(q * (a - e) for q, a, e in zip(n[i], avg, entry[i], strict=True))
                n[i] = [0.0] * len(assets)
                if wallet[i] >= 0:
                    wallet[i] -= min(FEE * notional, wallet[i])
                liquidated.add(accounts.quantities.index[i])
            price = [new[j] if flow[j] else price[j] for j in range(len(assets))]
    return time.perf_counter() - start, liquidated, price


class TimedRule:
    """A maintenance rule that counts its calls and their time."""

    def __init__(self, rule: Maintenance) -> None:
        self.rule, self.calls, self.seconds, self.rows = rule, 0, 0.0, 0

    def requirement(self, assets, quantities, prices):
        start = time.perf_counter()
        out = self.rule.requirement(assets, quantities, prices)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        self.rows += len(quantities)
        return out


def engine_rule_comparison(n_accounts: int, steps: int) -> None:
    """Flat tiers against the same maintenance from a margin engine, on one problem."""
    accounts, path, markets = problem(n_accounts, steps, seed=2)
    params = MarginParameters(
        level=0.99,
        mpor=1,
        lookback=250,
        as_of="2025-06-30",
        risk_weights=dict.fromkeys(markets, 2 * RATE),
    )
    rules = {
        "flat tiers": TimedRule(TieredMaintenance.flat(RATE)),
        "margin engine": TimedRule(EngineMaintenance(params.engine(), scale=0.5)),
    }
    runs = {name: engine_run(accounts, path, markets, rule) for name, rule in rules.items()}
    print(f"maintenance rule: {n_accounts:,} accounts x {len(markets)} assets x {steps:,} steps")
    for name, (seconds, _) in runs.items():
        rule = rules[name]
        print(
            f"  {name:>13}: {1e3 * seconds / steps:.2f} ms per step; {rule.calls:,} calls "
            f"({rule.rows / rule.calls:,.0f} pots each), {1e3 * rule.seconds / rule.calls:.2f} ms "
            f"per call, {rule.seconds / seconds:.0%} of the run"
        )
    (tier_s, tier_r), (engine_s, engine_r) = runs.values()
    same = set(tier_r.accounts_liquidated) == set(engine_r.accounts_liquidated) and np.allclose(
        tier_r.final_prices.to_numpy(), engine_r.final_prices.to_numpy(), rtol=1e-12, atol=0
    )
    print(f"  ratio margin engine / flat tiers: {engine_s / tier_s:.1f}x; same results: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--subsample", type=int, default=500)
    parser.add_argument("--engine-accounts", type=int, default=2_000)
    parser.add_argument("--engine-steps", type=int, default=200)
    args = parser.parse_args()

    accounts, path, markets = problem(args.accounts, args.steps)
    seconds, result = engine_run(accounts, path, markets)
    rounds = result.steps["rounds"]
    print(f"engine: {args.accounts:,} accounts x {len(markets)} assets x {args.steps:,} steps")
    print(f"  total {seconds:.2f} s, {1e3 * seconds / args.steps:.3f} ms per step")
    print(
        f"  rounds per step: mean {rounds.mean():.2f}, max {rounds.max()}; "
        f"accounts liquidated {len(result.accounts_liquidated):,}; "
        f"conservation error {result.conservation_error():.1e}"
    )

    sub, sub_path, sub_markets = problem(args.subsample, args.steps, seed=1)
    engine_seconds, engine_result = engine_run(sub, sub_path, sub_markets)
    loop_seconds, loop_liquidated, loop_prices = loop_run(sub, sub_path, sub_markets)
    same = set(engine_result.accounts_liquidated) == loop_liquidated and np.allclose(
        engine_result.final_prices.to_numpy(), loop_prices, rtol=1e-9
    )
    print(f"subsample: {args.subsample:,} accounts x {args.steps:,} steps")
    print(f"  engine {engine_seconds:.2f} s, plain Python loop {loop_seconds:.2f} s")
    per_engine = engine_seconds / (args.subsample * args.steps)
    per_loop = loop_seconds / (args.subsample * args.steps)
    print(
        f"  per account-step: engine {1e6 * per_engine:.3f} us, loop {1e6 * per_loop:.3f} us, "
        f"ratio loop/engine {per_loop / per_engine:.1f}x; "
        f"full-size engine per account-step {1e6 * seconds / (args.accounts * args.steps):.3f} us"
    )
    print(f"  same liquidated accounts and end prices: {same}")
    engine_rule_comparison(args.engine_accounts, args.engine_steps)


if __name__ == "__main__":
    main()
