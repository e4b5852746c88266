# %% [markdown]
# # Liquidation cascades and cross-margin contagion
#
# Cross margin pools collateral: one position's loss can liquidate the whole account, the
# liquidation orders push prices, the pushed prices liquidate more accounts. This study runs
# `research.liquidation` (specification: `../shared/research/liquidation.md`): a population of
# accounts on a venue (maintenance rule, liquidation fee, partial rule, insurance fund,
# auto-deleveraging (ADL)), marked along an exogenous shock path, liquidated round by round with
# price impact until nobody is below maintenance. It shows a closed-form cascade round by
# round, the critical ratio `k` beyond which a cascade runs away, cross against isolated margin
# on the same accounts, how offset credits change the cascade, a replay of 2025-10-10 on hourly
# perpetual bars, and Monte Carlo distributions of bad debt and amplification on paths simulated
# from a DCC fitted to hourly returns (of the crypto perpetual file, or of a stated simulated panel
# without it) in a stressed-correlation regime.

# %% tags=["parameters"]
# The study simulates its accounts; its data is the hourly perpetual file (data_path, or
# ../shared/data) of the replay and of the Monte Carlo's DCC fit (without it: a stated simulated
# panel). dataset, start and end are the common study parameters and do not change it: the
# replay's window is the event's, and the DCC is fitted to the whole file.
dataset = "sp500"
data_path = None
start = None
end = None
fast = False
seed = 0

# %%

import numpy as np
import pandas as pd

from research.calibration import MarginParameters
from research.correlation import DCC
from research.data import read_prices, shared_data_file, to_returns
from research.liquidation import (
    OCTOBER_10_2025,
    OCTOBER_10_POPULATION,
    AssetMarket,
    CascadeSimulator,
    EngineMaintenance,
    LinearImpact,
    ShockPath,
    amplification_curve,
    binance_like,
    collateral_at_margin,
    compare_generators,
    compare_modes,
    compare_with_facts,
    dcc_stress_paths,
    dydx_like,
    hedged_pairs,
    hl_like,
    october_10_accounts,
    one_asset_accounts,
    plot_amplification,
    plot_distribution,
    plot_rounds,
    plot_timing,
    replay_markets,
    replay_path,
    replay_timing,
    replay_window,
    stress_paths,
    synthetic_accounts,
)
from research.reporting import record, set_theme, show_figure, show_table, show_text
from research.stress import dcc_correlation

set_theme()

# %% [markdown]
# ## A closed-form cascade, round by round
#
# The spec's case T2: three 10x-ish longs of 1,000 units bought at 100 with 10,000, 12,000
# and 15,000 of collateral; maintenance 5% of notional; linear impact of 0.005 per unit sold;
# fills at the midpoint of the price walk; a 1% fee into an insurance fund of 10,000. An
# exogenous drop from 100 to 94 liquidates A (below its liquidation price 94.74); its sale
# pushes the price to 89, below B's and C's liquidation prices; their sale ends the cascade at
# 79. The closed form: bad debt 5,000, fund 5,915, amplification (100 - 79)/(100 - 94) = 3.5.
# [Table](#tab-liq-t2-fills) lists the simulated fills, [Figure](#fig-liq-t2-rounds) draws the
# price round by round and [Table](#tab-liq-t2-metrics) has every metric of the cascade.

# %%
t2_accounts = one_asset_accounts(
    [1000.0, 1000.0, 1000.0], [10_000.0, 12_000.0, 15_000.0], names=["A", "B", "C"]
)
t2_profile = binance_like(maintenance_rate=0.05, liquidation_fee=0.01, insurance_fund=10_000.0)
t2 = CascadeSimulator(t2_profile, {"X": AssetMarket(100.0, LinearImpact(0.005))}).run(
    t2_accounts, ShockPath.from_returns(pd.DataFrame({"X": [np.log(0.94)]}))
)
t2_end = float(t2.final_prices["X"])
t2_rounds = int(t2.rounds["round"].max())
t2_amplification = float(t2.amplification().loc["X", "amplification"])
t2_closed = np.allclose([t2_end, t2.bad_debt, t2.final_fund], [79.0, 5000.0, 5915.0], rtol=1e-9)
show_text(
    f"The simulated cascade takes {t2_rounds} rounds and ends at {t2_end:.2f} with bad debt "
    f"{t2.bad_debt:,.0f}, a fund of {t2.final_fund:,.0f} and an amplification of "
    f"{t2_amplification:.2f}: "
    + ("the closed form's values." if t2_closed else "not the closed form's 79, 5,000 and 5,915.")
)
show_table(
    t2.book_fills[["round", "account", "quantity", "mark", "price", "notional"]],
    "Case T2: every liquidation fill, by round (price = midpoint execution price).",
    precision=2,
    index=False,
    label="liq-t2-fills",
)
show_figure(
    plot_rounds(t2, "X"),
    "Case T2: book price after each round (left) and units liquidated per round (right); the "
    "dotted line is the price before the shock.",
    label="liq-t2-rounds",
)
show_table(t2.summary(), "Case T2: metrics of the cascade.", precision=2, label="liq-t2-metrics")
record("t2_final_price", float(t2.final_prices["X"]))
record("t2_bad_debt", t2.bad_debt)
record("t2_fund_end", t2.final_fund)

# %% [markdown]
# ## Amplification against the critical ratio k
#
# Spread the accounts' liquidation prices uniformly below 100 with `rho` units per unit of
# price, and let each unit sold move the price by `lam`. A shock `s` liquidates `rho s` units,
# which move the price by `k s` with `k = lam rho`, which liquidates more: the total move is
# `s / (1 - k)` while `k < 1`, and the cascade runs through the whole band when `k >= 1`
# (spec §10, T5). [Table](#tab-liq-amplification) and [Figure](#fig-liq-amplification-curve) set the
# simulated batch rounds against the closed form.

# %%
ks = (
    [0.25, 0.5, 0.75, 0.9, 1.0, 1.2]
    if fast
    else [0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.85, 0.9, 0.95, 1.0, 1.1, 1.2]
)
curve = amplification_curve(ks)
below = curve[curve.index < 1.0]
gap = (below["amplification"] / below["closed form 1/(1-k)"] - 1.0).abs()
beyond = curve[curve.index >= 1.0]
show_text(
    f"Below k = 1 the simulated amplification is within {gap.max():.2%} of 1/(1-k) (the largest "
    f"gap at k = {gap.idxmax():g}; the band's liquidation prices are discrete)"
    + (
        f"; from k = {beyond.index.min():g} on the cascade ends at "
        f"{beyond['end price'].min():.2f} to {beyond['end price'].max():.2f}, an amplification of "
        f"{beyond['amplification'].min():.1f} to {beyond['amplification'].max():.1f} against at "
        f"most {below['amplification'].max():.1f} below k = 1."
        if len(beyond)
        else "."
    )
)
show_table(
    curve,
    "Amplification of a 2-point shock against k (band of 30 points).",
    precision=4,
    label="liq-amplification",
)
show_figure(
    plot_amplification(curve),
    "Simulated amplification against k and the closed form 1/(1-k).",
    label="liq-amplification-curve",
)
record("amplification_curve", curve)

# %% [markdown]
# ## Cross against isolated margin on the same accounts
#
# A population of leveraged accounts in BTC, ETH and SOL perpetuals (each holds one to three of
# them, long or short with equal odds, median leverage 10x), on a Binance-like venue, is hit
# by a BTC-only drop of 8% in one hour while the books are thin. Each book's 1% depth is a
# quarter of the population's notional in that asset (an assumption: the spec finds no crypto
# calibration of cascade impact to depth, §3.4), cut by a stress multiplier of 0.1 (a 90%
# collapse, as reported for 2025-10-10 [S30b]); impact is linear in the flow (§3.1). The same
# accounts are run all-cross and all-isolated. **Contagion** counts accounts liquidated
# although the exogenous path never moved anything they hold, and the notional liquidated in
# assets it never moved (a cross account that loses on BTC sells its ETH and SOL too, and that
# selling moves ETH and SOL for every account that holds them). [Table](#tab-liq-modes) has the
# metrics of both runs and [Table](#tab-liq-modes-assets) the liquidated notional per asset.

# %%
prices = pd.Series({"BTC": 100_000.0, "ETH": 3_500.0, "SOL": 150.0})
notional = pd.Series({"BTC": 4e8, "ETH": 2e8, "SOL": 1e8})
population = synthetic_accounts(
    prices,
    notional,
    n_accounts=500 if fast else 3000,
    long_share=0.5,
    leverage_median=10.0,
    entry_dispersion=0.0,
    seed=seed,
)
stressed = {
    a: AssetMarket(p, LinearImpact.from_depth(notional[a] / 4, p), depth_mult=0.1)
    for a, p in prices.items()
}
btc_only = ShockPath.from_returns(pd.DataFrame({"BTC": [np.log(0.92)], "ETH": [0.0], "SOL": [0.0]}))
modes = compare_modes(
    CascadeSimulator(binance_like(insurance_fund=5e6), stressed), population, btc_only
)
summary = modes.summary()
by_asset = modes.liquidated_by_asset() / 1e6
spill = by_asset.drop(index="BTC", errors="ignore").sum()
show_text(
    f"Cross accounts liquidate {summary.loc['liquidated notional', 'cross'] / 1e6:,.1f} m USD "
    f"against {summary.loc['liquidated notional', 'isolated'] / 1e6:,.1f} m isolated, of which "
    f"{spill['cross']:,.1f} m against {spill['isolated']:,.1f} m in ETH and SOL, which the shock "
    f"never moved; {summary.loc['contagion accounts', 'cross']:.0f} cross and "
    f"{summary.loc['contagion accounts', 'isolated']:.0f} isolated accounts are liquidated "
    "without holding BTC. Bad debt is "
    f"{summary.loc['bad debt', 'cross'] / 1e6:,.2f} m USD cross and "
    f"{summary.loc['bad debt', 'isolated'] / 1e6:,.2f} m isolated"
    + (
        " (isolated pots cannot draw on the collateral of an account's other positions)."
        if summary.loc["bad debt", "isolated"] > summary.loc["bad debt", "cross"]
        else "."
    )
)
show_table(
    summary,
    "Cross vs isolated: a BTC-only 8% drop on identical accounts.",
    precision=2,
    label="liq-modes",
)
show_table(
    by_asset,
    "Liquidated notional per asset (USD m): only BTC was shocked.",
    precision=2,
    label="liq-modes-assets",
)
record("contagion", modes.summary())

# %% [markdown]
# ## How offsets change the cascade
#
# A calibrated parameter set margins hedged pairs below the sum of their legs (offset credits).
# Here a stated illustrative set (risk weights 10% for BTC and 12% for ETH; credit 50% on the
# pair against none) is the venue's maintenance rule (`params.engine()`, maintenance = half its
# margin), and each account posts between 1.5 and 4 times the maintenance its set asks of a
# long-BTC / short-ETH pair, on normal (unstressed) books. Two scenarios: the hedge holds (both
# fall 10%) or breaks (BTC -6%, ETH +2%). [Table](#tab-liq-offsets) has the collateral posted
# under each set and what each scenario liquidates.

# %%
pair_prices = prices[["BTC", "ETH"]]
pairs = hedged_pairs(
    pair_prices, "BTC", "ETH", n_accounts=200 if fast else 1000, notional=2e8, seed=seed
)
multiples = np.random.default_rng(seed).uniform(1.5, 4.0, pairs.n_accounts)
sets = {
    "offset credit 50%": {("BTC", "ETH"): 0.5},
    "no offset": {},
}
pair_markets = {  # normal (unstressed) books
    a: AssetMarket(p, LinearImpact.from_depth(notional[a] / 4, p)) for a, p in pair_prices.items()
}
scenarios = {
    "hedge holds": {"BTC": [np.log(0.9)], "ETH": [np.log(0.9)]},
    "hedge breaks": {"BTC": [np.log(0.94)], "ETH": [np.log(1.02)]},
}
rows = {}
for name, credits in sets.items():
    params = MarginParameters(
        level=0.99,
        mpor=2,
        lookback=250,
        as_of="2025-06-30",
        risk_weights={"BTC": 0.10, "ETH": 0.12},
        offset_credits=credits,
    )
    rule = EngineMaintenance(params.engine(), scale=0.5)
    funded = collateral_at_margin(pairs, rule, pair_prices, multiples)
    sim = CascadeSimulator(binance_like(maintenance=rule, insurance_fund=1e6), pair_markets)
    for scenario, moves in scenarios.items():
        r = sim.run(funded, ShockPath.from_returns(pd.DataFrame(moves)))
        rows[(name, scenario)] = {
            "collateral, USD m": funded.collateral.sum() / 1e6,
            "accounts liquidated": len(r.accounts_liquidated),
            "liquidated, USD m": r.liquidated_notional / 1e6,
            "bad debt, USD m": r.bad_debt / 1e6,
        }
offsets = pd.DataFrame(rows).T.rename_axis(["parameter set", "scenario"])
with_credit, without = offsets.loc["offset credit 50%"], offsets.loc["no offset"]
show_text(
    f"Under the offset the pairs post {with_credit['collateral, USD m'].iloc[0]:,.1f} m USD of "
    f"collateral against {without['collateral, USD m'].iloc[0]:,.1f} m without. When the hedge "
    f"holds, {with_credit.loc['hedge holds', 'accounts liquidated']:.0f} and "
    f"{without.loc['hedge holds', 'accounts liquidated']:.0f} accounts are liquidated (with and "
    f"without the offset); when it breaks, "
    f"{with_credit.loc['hedge breaks', 'accounts liquidated']:.0f} and "
    f"{without.loc['hedge breaks', 'accounts liquidated']:.0f}, for "
    f"{with_credit.loc['hedge breaks', 'liquidated, USD m']:,.1f} and "
    f"{without.loc['hedge breaks', 'liquidated, USD m']:,.1f} m USD of notional."
)
show_table(
    offsets,
    "Long-BTC / short-ETH pairs funded at their set's margin, two scenarios.",
    precision=2,
    label="liq-offsets",
)
record("offsets", offsets)

# %% [markdown]
# ## Replay of 2025-10-10
#
# The hourly Binance USDT-M perpetual bars of `../shared/data` (ADA, BNB, BTC, DOGE, ETH, SOL,
# XRP), from 2025-10-10 00:00 to 2025-10-11 12:00 UTC, with their wicks: each bar is played as
# its low (longs tested), its high (shorts tested), then its close. The historical prices
# already contain the realised cascade, so the replay runs without impact (spec §5): it asks
# who a stated population would have lost, when, and the bad debt left. The population
# ([Table](#tab-liq-replay-population)) states what is sourced and what is assumed; it is the
# same for every venue profile and margin mode.

# %%
hourly = shared_data_file("crypto_perp_hourly_binance.csv", data_path)
if hourly is None:
    show_text(
        "The hourly perpetual file (`crypto_perp_hourly_binance.csv` in `../shared/data`) is not "
        "here: the replay of 2025-10-10 is skipped. The rest of the study runs on simulated data."
    )
show_table(
    pd.DataFrame(OCTOBER_10_POPULATION, index=["value", "source"]).T,
    "The replay's population: sourced and assumed inputs.",
    label="liq-replay-population",
)

# %%
if hourly is not None:
    close, low, high = replay_window(hourly, "2025-10-10 00:00", "2025-10-11 12:00")
    replay_accounts = october_10_accounts(
        close.iloc[0], n_accounts=800 if fast else 20_000, seed=seed
    )
    path = replay_path(close, low, high)
    runs, timing = {}, {}
    for venue in (binance_like(insurance_fund=1e9), hl_like(), dydx_like()):
        comparison = compare_modes(
            CascadeSimulator(venue, replay_markets(close)), replay_accounts, path
        )
        for mode in ("cross", "isolated"):
            result = getattr(comparison, mode)
            runs[(venue.name, mode)] = result
            timing[f"{venue.name} {mode}"] = replay_timing(result)
    table = pd.concat(
        {key: compare_with_facts(r)["simulated"] for key, r in runs.items()}, axis=1
    ).T.rename_axis(["profile", "mode"])
    table["bad debt, USD"] = [r.bad_debt for r in runs.values()]
    table["ADL haircut, USD"] = [r.adl_haircut for r in runs.values()]
    facts = compare_with_facts(runs[("binance_like", "cross")])["simulated"]
    peak_bar = timing["binance_like cross"]["liquidated"].idxmax()
    oi = facts["BTC long open interest change"]
    show_text(
        f"[Table](#tab-liq-replay) has every profile and mode, [Table](#tab-liq-replay-facts) "
        "sets the Binance-like cross run beside what was reported ([Table](#tab-liq-facts)) and "
        "[Figure](#fig-liq-replay-timing) draws the liquidations bar by bar. The Binance-like "
        f"cross accounts lose {facts['total liquidated, USD'] / 1e9:,.2f} bn USD (reported: 9.89 "
        f"bn in 14 hours [S19] to 19.13 bn in 24 hours [S24]); "
        f"{facts['share in the 20:00-21:59 bars']:.0%} of it falls in the 20:00 and 21:00 UTC "
        "bars (reported: 70% in 20:50-21:30 [S19]), the busiest bar is "
        f"{peak_bar:%Y-%m-%d %H:%M} UTC, and longs make "
        f"{facts['long share of liquidations']:.0%} of it (reported: 83.9% [S19]) although the "
        "population is half long and half short. BTC long open interest changes by "
        f"{oi:.0%}, "
        + (
            "inside the reported -17% to -26%."
            if -0.26 <= oi <= -0.17
            else "outside the reported -17% to -26%."
        )
    )
    show_table(
        table.astype(float),
        "Replay of 2025-10-10 00:00 to 2025-10-11 12:00 UTC by venue profile and mode.",
        precision=3,
        label="liq-replay",
    )
    show_table(
        compare_with_facts(runs[("binance_like", "cross")]),
        "Binance-like cross accounts against what was reported for 2025-10-10 (spec §9.1).",
        precision=3,
        label="liq-replay-facts",
    )
    show_table(
        pd.DataFrame(OCTOBER_10_2025, index=["value", "source"]).T,
        "What happened on 2025-10-10 (spec §9.1).",
        label="liq-facts",
    )
    show_figure(
        plot_timing({k: v for k, v in timing.items() if k.endswith("cross")}),
        "Liquidated notional per hourly bar in the replay (cross accounts, three venue profiles).",
        label="liq-replay-timing",
    )
    record("replay", table.astype(float))

# %%
if hourly is not None:
    show_text(
        "What the replay cannot reproduce, by construction. The level of the liquidations "
        "depends on the leverage distribution and the open interest, which the spec does not "
        "source (the stated assumptions of the population). The model does not see the timing "
        "inside the hour (hourly bars), the depeg of collateral on one venue (collateral is USD "
        "only here), the venues' actual insurance funds and ADL queues, or Hyperliquid's "
        "backstop vault; and every position of the population is leveraged, while the reported "
        "open interest also holds unleveraged and hedged positions, so the simulated change in "
        "BTC open interest is not a measurement of the reported one."
    )

# %% [markdown]
# ## Monte Carlo: distributions of bad debt and amplification
#
# The main Monte Carlo draws 24-hour paths of BTC, ETH and SOL from a DCC(1,1) with GARCH(1,1)
# marginals fitted to their hourly returns in the perpetual file (without it, to a stated
# simulated panel), by filtered historical simulation: whole hours of the fit's de-correlated
# residuals are drawn with replacement, and each asset's GARCH starts from its volatility at the
# end of the sample. The correlation regime is stressed: the DCC recursion starts at, and
# reverts to, the 95% quantile of every pair's fitted conditional correlation (the upper end of
# its 90% band, `research.stress.dcc_correlation`) instead of the sample target. The comparison
# paths are the stated simple model: hourly Student-t returns with 4 degrees of freedom, every
# pairwise correlation 0.9, hourly volatilities of 1.5%, 2% and 3% and a drift of -0.4% per
# hour. Both hit the population of the contagion section on the same Binance-like venue with
# thin books. Every path is drawn from `seed`, and the distribution is bit-identical for a seed
# on every `research.parallel` backend (local processes or Dask).

# %%
mc_assets = ["BTC", "ETH", "SOL"]
if hourly is not None:
    hourly_returns = to_returns(read_prices(hourly, warn=False)[mc_assets].dropna())
    mc_source = (
        f"hourly Binance perpetual returns from {hourly_returns.index[0]:%Y-%m-%d %H:%M} to "
        f"{hourly_returns.index[-1]:%Y-%m-%d %H:%M} UTC"
    )
else:  # a stated panel: 2,000 hours of the Student-t model, unit-variance t5, correlation 0.8
    panel = stress_paths(
        {"BTC": 0.006, "ETH": 0.008, "SOL": 0.011},
        n_paths=1,
        steps=2000,
        correlation=0.8,
        df=5.0,
        seed=seed,
    )[0].log_returns
    panel.index = pd.date_range("2025-01-01", periods=len(panel), freq="h", tz="UTC")
    hourly_returns = 100.0 * panel
    mc_source = (
        "a simulated panel (the hourly file is absent) of Student-t returns with 5 degrees of "
        "freedom, correlation 0.8 and hourly volatilities of 0.6%, 0.8% and 1.1%"
    )
fit = DCC().fit(hourly_returns)
fitted_corr = dcc_correlation(fit.correlation, statistic="mean")
stressed_corr = dcc_correlation(fit.correlation, statistic="upper", level=0.9)
n_paths = 20 if fast else 200
generators = {
    "DCC-FHS, stressed correlation": dcc_stress_paths(
        fit, stressed_corr, n_paths=n_paths, steps=24, seed=seed
    ),
    "Student-t, correlation 0.9": stress_paths(
        {"BTC": 0.015, "ETH": 0.02, "SOL": 0.03},
        n_paths=n_paths,
        steps=24,
        correlation=0.9,
        df=4.0,
        drift=-0.004,
        seed=seed,
    ),
}
comparison = compare_generators(
    CascadeSimulator(binance_like(insurance_fund=5e6), stressed), population, generators
)

# %%
model = pd.DataFrame(
    {
        "fitted, mean": fitted_corr.pairs().set_index(["asset_1", "asset_2"])["correlation"],
        "stressed (95% quantile)": stressed_corr.pairs().set_index(["asset_1", "asset_2"])[
            "correlation"
        ],
    }
)
model.index = [f"{a} / {b}" for a, b in model.index]
model.loc["DCC a", "fitted, mean"] = fit.params["a"]
model.loc["DCC b", "fitted, mean"] = fit.params["b"]
bands = comparison.bands.copy()  # bad debt in USD m
money = bands.index.get_level_values("metric") == "bad_debt"
bands.loc[money, ["estimate", "lower", "upper"]] /= 1e6
bands = bands.rename(index={"bad_debt": "bad debt, USD m", "max_amplification": "amplification"})
amounts = ["bad_debt", "liquidated_notional", "fund_drawdown", "adl_haircut", "uncovered"]
means = comparison.means.copy()
means[amounts] /= 1e6
means = means.rename(columns=lambda c: c.replace("_", " ") + (", USD m" if c in amounts else ""))
paths_table = comparison.paths
dcc_name, t_name = list(generators)
sd = paths_table["sd per step"]
vol_ratio = (sd[t_name] / sd[dcc_name]).mean()
corr_dcc = paths_table.loc[dcc_name, "mean correlation"].mean()
median = bands.xs(0.5, level="quantile")
debt_share = comparison.share_with_bad_debt()
debt = median.xs("bad debt, USD m", level="metric") * 1e6  # USD
unbounded = bands["upper"].isna().sum()
show_text(
    f"The DCC is fitted to {mc_source} ({len(hourly_returns):,} hours); "
    f"[Table](#tab-liq-mc-model) gives its parameters and, pair by pair, the mean fitted "
    f"correlation and the stressed one that the simulation targets (on average "
    f"{fitted_corr.pairs()['correlation'].mean():.2f} and "
    f"{stressed_corr.pairs()['correlation'].mean():.2f}). [Table](#tab-liq-mc-paths) describes "
    f"the {n_paths} paths of each generator: the Student-t paths carry {vol_ratio:.1f} times "
    "the hourly volatility of the DCC-FHS paths on average over the three assets (the DCC's "
    "starts from the fitted volatility at the end of the sample, the Student-t's is stated), "
    f"and the DCC-FHS paths' average pairwise correlation is {corr_dcc:.2f}, "
    + ("above" if corr_dcc > fitted_corr.pairs()["correlation"].mean() else "not above")
    + " the fitted mean. "
    f"[Table](#tab-liq-mc-bands) gives the quantiles of bad debt and amplification with 90% "
    f"order-statistic bands, [Figure](#fig-liq-mc-bad-debt) draws the bad debt of every path "
    f"and [Table](#tab-liq-mc-means) the mean of every metric. The median bad debt is "
    f"{debt.loc[dcc_name, 'estimate']:,.0f} USD on the DCC-FHS paths (90% band "
    f"{debt.loc[dcc_name, 'lower']:,.0f} to {debt.loc[dcc_name, 'upper']:,.0f}) and "
    f"{debt.loc[t_name, 'estimate']:,.0f} USD on the Student-t paths (band "
    f"{debt.loc[t_name, 'lower']:,.0f} to {debt.loc[t_name, 'upper']:,.0f}); "
    f"{debt_share[dcc_name]:.0%} and {debt_share[t_name]:.0%} of the paths leave bad debt. "
    f"The median amplification is {median.loc[(dcc_name, 'amplification'), 'estimate']:.2f} "
    f"and {median.loc[(t_name, 'amplification'), 'estimate']:.2f}."
    + (
        f" {unbounded} bounds are n/a: {n_paths} paths cannot bound that quantile from above "
        "(more paths are needed)."
        if unbounded
        else ""
    )
)
show_table(
    model,
    "The DCC of the Monte Carlo: second-stage parameters, and each pair's mean fitted "
    "conditional correlation against the stressed correlation the simulation targets.",
    precision=3,
    label="liq-mc-model",
)
show_table(
    paths_table,
    f"The simulated paths, {n_paths} per generator, 24 hourly steps: hourly log-return "
    "volatility and mean, each asset's mean correlation with the others, and the 5% quantile of "
    "the 24-hour log return.",
    precision=4,
    label="liq-mc-paths",
)
show_table(
    bands,
    f"Bad debt (USD m) and amplification (largest over the assets) over {n_paths} paths per "
    "generator: quantiles with 90% distribution-free bands (order statistics; coverage is the "
    "band's exact probability).",
    precision=3,
    label="liq-mc-bands",
)
show_figure(
    plot_distribution(comparison.distributions, "bad_debt"),
    "Bad debt per simulated path, DCC-FHS with stressed correlation (left) and Student-t "
    "(right); dashed: 5%, 50% and 95% quantiles.",
    label="liq-mc-bad-debt",
)
show_table(
    means,
    "Mean cascade metrics per generator (amplification: the largest over the assets).",
    precision=2,
    kinds={c: "number" for c in means.columns},
    label="liq-mc-means",
)
record("monte_carlo_bands", bands)
record("monte_carlo_means", means)

# %% [markdown]
# ## Conclusion

# %%
contagion_cross = summary.loc["contagion notional", "cross"] / 1e6
collateral = (without["collateral, USD m"].iloc[0], with_credit["collateral, USD m"].iloc[0])
show_text(
    "The engine "
    + ("reproduces" if t2_closed else "does not reproduce")
    + f" the spec's closed-form cascade T2, and its amplification stays within {gap.max():.2%} "
    "of 1/(1-k) below the critical ratio. On identical accounts hit by a BTC-only drop, cross "
    f"margin liquidates {contagion_cross:,.1f} m USD in assets the shock never moved, against "
    f"{summary.loc['contagion notional', 'isolated'] / 1e6:,.1f} m under isolated margin. "
    "The 50% offset credit lowers the pairs' collateral from "
    f"{collateral[0]:,.1f} to {collateral[1]:,.1f} m USD and changes the accounts liquidated "
    "when the hedge breaks from "
    f"{without.loc['hedge breaks', 'accounts liquidated']:.0f} to "
    f"{with_credit.loc['hedge breaks', 'accounts liquidated']:.0f}. In the Monte Carlo, the "
    f"stressed DCC-FHS paths leave a median bad debt of "
    f"{debt.loc[dcc_name, 'estimate']:,.0f} USD against "
    f"{debt.loc[t_name, 'estimate']:,.0f} USD on the stated Student-t "
    "paths, whose hourly volatility is "
    f"{vol_ratio:.1f} times that of the fitted model."
)
