# %% [markdown]
# # A crypto venue around the clock: hours, wicks and funding
#
# A crypto derivatives venue margins positions that trade 24/7, are liquidated at the worst
# price inside a bar rather than at its close, and pay or receive funding every eight hours.
# This study asks what each of these changes in the margin numbers of the package, on the
# shared crypto files: risk weights from daily or hourly bars, from closes or from wicks (the
# lowest low for a long, the highest high for a short), the 2025-10-10 cascade hour by hour
# against those weights, the windows a wick-aware stress detection finds, what funding adds
# to a BTC hedge over the margin period of risk (MPOR), and what cross margin saves on BTC/ETH
# books against the exceptions it takes once funding is in the realized loss. Liquidations and
# bad debt of cross and isolated accounts through the cascade are the subject of the
# liquidation study.

# %% tags=["parameters"]
dataset = "crypto"
data_path = None
start = None
end = None
fast = False
seed = 0
level = 0.99
mpor_daily = "1D"
mpor_hourly = "8h"

# %%

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from research.backtest import OffsetBacktest, RollingFHS, crypto_books, stack_books
from research.calibration import calibrate_risk_weights
from research.data import (
    crypto_hourly_sample,
    duration_label,
    mpor_periods,
    stamp_label,
    to_returns,
    worst_moves,
)
from research.portfolio import accrued_funding
from research.reporting import record, set_theme, show_figure, show_table, show_text
from research.reporting.tables import readable_label
from research.stress import detect_stress_windows, stress_windows, window_mask

set_theme()

# %% [markdown]
# ## Data
#
# The shared files (`crypto_spot_daily_binance.csv`: Binance spot daily bars;
# `crypto_perp_hourly_binance.csv`: Binance USDT-M perpetual hourly bars;
# `btc_perp_funding_daily.csv`: the BTC perpetual's daily mean funding rate per 8 hours) sit
# beside the checkout in CI (`research.data.crypto_hourly_sample` reads them). A fresh clone
# does not have them: the study then prints a note and runs on a seeded synthetic hourly path
# with a crash at 2025-10-10 21:00 UTC and no funding, so that it executes end to end; its
# numbers then say nothing about crypto.

# %%
assets = ["BTC", "ETH", "SOL"]
sample = crypto_hourly_sample(data_path, assets, start=start, end=end, seed=seed)
if sample.synthetic:
    print("NOTE: the shared crypto files were not found; running on a synthetic hourly path.")
hourly, daily, funding, source = sample.hourly, sample.daily, sample.funding, sample.source
samples = {"daily": daily, "hourly": hourly}


show_text(
    f"[Table](#tab-crypto-samples) gives the two samples of {source}: "
    f"{len(daily.close):,} daily and {len(hourly.close):,} hourly bars on which "
    f"{', '.join(assets)} all trade."
)
show_table(
    pd.DataFrame(
        {
            "first bar (UTC)": [bars.close.index[0].tz_localize(None) for bars in samples.values()],
            "last bar (UTC)": [bars.close.index[-1].tz_localize(None) for bars in samples.values()],
            "bars": [len(bars.close) for bars in samples.values()],
        },
        index=pd.Index(list(samples), name="sample"),
    ),
    f"The two samples of {', '.join(assets)}, every asset quoted on every bar: daily bars "
    "from the first day all of them trade, hourly bars from the first hour all of them trade.",
    label="crypto-samples",
)

# %% [markdown]
# ## Risk weights: bar length and wicks
#
# One risk weight per asset at the 99% level over the MPOR, from every move in the sample,
# four ways: daily bars with a one-day MPOR and hourly bars with an 8-hour MPOR (the MPOR is
# a duration, converted to bars of the data), each from close-to-close moves and from the
# worst move inside the MPOR (a long is hit at the lowest low, a short at the highest high; the
# binding side is kept).

# %%
horizons = {"daily": mpor_daily, "hourly": mpor_hourly}
rows = {}
for name, bars in samples.items():
    returns = to_returns(bars.close)
    periods = mpor_periods(horizons[name], returns.index)
    label = duration_label(periods, returns.index)
    for moves, given in (("closes", None), ("wicks", bars)):
        result = calibrate_risk_weights(
            returns, level=level, mpor=periods, lookback=None, bars=given
        )
        rows[(f"{name}, {label}", moves)] = result.risk_weights
weights = pd.DataFrame(rows).T
weights.index.names = ["bars, MPOR", "moves"]
uplift = weights.xs("wicks", level="moves") / weights.xs("closes", level="moves") - 1
show_text(
    f"[Table](#tab-crypto-weights) and [Figure](#fig-crypto-weights) set the four ways side by "
    f"side. Wicks raise the weights by {uplift.min().min():.0%} to {uplift.max().max():.0%} "
    f"over the close-to-close ones of the same bars and MPOR"
    + ("" if (uplift > 0).all().all() else " (some fall: see the table)")
    + "; the hourly weights over "
    + duration_label(mpor_periods(mpor_hourly, hourly.close.index), hourly.close.index)
    + " are "
    + ", ".join(f"{a} {r:.0%}" for a, r in (weights.iloc[2] / weights.iloc[0]).items())
    + " of the daily ones over one day (closes)."
)
show_table(
    weights,
    f"Risk weights (% of notional) at {level:.0%} from every move of each sample: "
    "closes against wicks, daily bars against hourly ones.",
    kinds=dict.fromkeys(weights.columns, "percent"),
    label="crypto-weights",
)
record("risk_weights_by_method", weights)

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.6))
(100 * weights.T).plot.bar(ax=ax, rot=0, width=0.8)
ax.set_ylabel("risk weight, % of notional")
ax.legend([", ".join(k) for k in weights.index], fontsize=8)
show_figure(
    fig,
    "Risk weight per asset by bar length, MPOR and moves (closes or wicks).",
    label="crypto-weights",
)

# %% [markdown]
# ## The cascade hour by hour
#
# The hourly weights above are set from the whole hourly sample, cascade included. Each hour
# of the cascade window is the end of an 8-hour MPOR; the table shows the worst long move of
# that MPOR (lowest low against the close 8 hours before, as a simple return) against the
# close-based and wick-based hourly risk weights.

# %%
cascade = {w.name: w for w in stress_windows("crypto")}["crypto_oct_10_2025_cascade"]
periods = mpor_periods(mpor_hourly, hourly.close.index)
worst_long = np.expm1(worst_moves(hourly, periods, "long") / 100)
inside = window_mask(worst_long.index, cascade)
if not inside.any():  # another sample: the hours around its worst 8-hour move
    at = int(np.argmin(worst_long.sum(axis=1).to_numpy()))
    inside = np.zeros(len(worst_long), dtype=bool)
    inside[max(0, at - 6) : at + 7] = True
hours = worst_long.loc[inside]
hourly_label = duration_label(periods, hourly.close.index)
close_rw = weights.loc[(f"hourly, {hourly_label}", "closes")]
wick_rw = weights.loc[(f"hourly, {hourly_label}", "wicks")]
breaches = pd.DataFrame(
    {
        "close-based weight": close_rw,
        "hours beyond it": (hours < -close_rw).sum(),
        "wick-based weight": wick_rw,
        "hours beyond the wick-based weight": (hours < -wick_rw).sum(),
        "worst move": hours.min(),
    }
)
show_text(
    f"[Table](#tab-crypto-cascade-hours) lists the {len(hours)} hours from "
    f"{stamp_label(hours.index[0], time=True)} to {stamp_label(hours.index[-1], time=True)}, "
    "[Table](#tab-crypto-cascade-breaches) counts those beyond each weight and "
    "[Figure](#fig-crypto-cascade) draws them. The worst move is "
    + ", ".join(f"{a} {m:.1%}" for a, m in breaches["worst move"].items())
    + "; the wick-based weight is exceeded in "
    + ", ".join(
        f"{n} hours ({a})" for a, n in breaches["hours beyond the wick-based weight"].items()
    )
    + ", the close-based one in "
    + ", ".join(f"{n} ({a})" for a, n in breaches["hours beyond it"].items())
    + "."
)
show_table(
    hours.set_axis(pd.Index(hours.index.strftime("%Y-%m-%d %H:%M"), name="hour (UTC)")),
    f"Worst long move over the MPOR ({hourly_label}) ending at each hour of the cascade window, "
    "simple return: below minus the risk weight, a long position margined at that weight has "
    "lost more than its margin.",
    kinds=dict.fromkeys(hours.columns, "percent"),
    label="crypto-cascade-hours",
)
show_table(
    breaches,
    f"Hours of the cascade window whose worst long move over the MPOR ({hourly_label}) exceeds "
    "each hourly risk weight.",
    kinds={
        "close-based weight": "percent",
        "wick-based weight": "percent",
        "worst move": "percent",
    },
    label="crypto-cascade-breaches",
)
record("cascade_breaches", breaches)

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.6))
for asset, line in zip(assets, ax.plot(hours.index, 100 * hours.to_numpy()), strict=True):
    line.set_label(asset)
    ax.axhline(-100 * wick_rw[asset], color=line.get_color(), lw=0.8, ls="--")
ax.set_ylabel(f"worst long move over {hourly_label}, %")
ax.set_xlabel("end of the MPOR (UTC)")
ax.legend(fontsize=8)
fig.autofmt_xdate()
show_figure(
    fig,
    f"Worst long move over the MPOR ({hourly_label}) ending at each hour of the cascade window "
    "(solid) and the wick-based risk weight of each asset (dashed, same colour).",
    label="crypto-cascade",
)

# %% [markdown]
# ## Stress detection with wicks
#
# The 24-hour windows of the hourly sample ranked by the drawdown of the equal-weight long
# portfolio, from closes and with each hour's wick added to the drawdown.

# %%
returns = to_returns(hourly.close)
worst_hour = worst_moves(hourly, 1, "long").loc[returns.index]
found = {
    "closes": detect_stress_windows(returns, length=24, k=3),
    "wicks": detect_stress_windows(returns, length=24, k=3, worst=worst_hour),
}
detected = pd.concat(
    {name: result.summary(stress_windows("crypto")) for name, result in found.items()}
)
detected = detected.droplevel(1).set_index("rank", append=True)
detected.index.names = ["moves", "rank"]
for bound in ("start", "end"):
    detected[bound] = pd.DatetimeIndex(detected[bound]).strftime("%Y-%m-%d %H:%M")
detected["overlaps"] = [
    ", ".join(readable_label(n.strip().removeprefix("crypto_")) for n in text.split(","))
    if text != "none"
    else "no catalog window"
    for text in detected["overlaps"]
]
top = {moves: detected.loc[(moves, 1)] for moves in found}
show_text(
    "[Table](#tab-crypto-detected) ranks the windows. The worst from closes runs from "
    f"{top['closes']['start']} UTC (drawdown {top['closes']['score']:.1f}%, overlapping "
    f"{top['closes']['overlaps']}); with wicks, from {top['wicks']['start']} UTC "
    f"({top['wicks']['score']:.1f}%, overlapping {top['wicks']['overlaps']})."
)
show_table(
    detected.rename(columns={"start": "start (UTC)", "end": "end (UTC)", "score": "drawdown"}),
    "The three worst non-overlapping 24-hour windows of the hourly sample by drawdown of the "
    "equal-weight portfolio, from closes and with wicks, and the catalog's crypto windows each "
    "overlaps.",
    units={"drawdown": "%"},
    precision=2,
    label="crypto-detected",
)
record("detected_windows", detected[["start", "end", "score"]])

# %% [markdown]
# ## Funding over the MPOR
#
# A BTC position hedged with the perpetual (long spot, short perpetual) carries no price risk
# but pays or receives the funding: the short receives the rate when it is positive. The
# table shows the funding accrued over one day, one week and thirty days from the BTC
# perpetual's daily mean rate (three prints a day), against the daily BTC risk weight.

# %%
spans = {"1 day": "1D", "7 days": "7D", "30 days": "30D"}
accrued = pd.DataFrame(
    {name: accrued_funding(funding, span).describe() for name, span in spans.items()}
).T[["mean", "min", "max"]]
accrued.index.name = "span"
accrued["largest / daily BTC weight"] = accrued[["min", "max"]].abs().max(axis=1) / float(
    weights.loc[(f"daily, {duration_label(1, daily.close.index)}", "closes"), "BTC"]
)
largest = accrued.loc["30 days", "largest / daily BTC weight"]
show_text(
    "[Table](#tab-crypto-funding) shows the funding accrued over each span. "
    + (
        f"Over 30 days it reaches {accrued.loc['30 days', 'max']:.1%} of notional at most, "
        f"{largest:.0%} of the daily close-based BTC risk weight."
        if accrued[["min", "max"]].abs().to_numpy().max() > 0
        else "The synthetic path has no funding: every span accrues zero."
    )
)
show_table(
    accrued,
    "Funding a long BTC perpetual pays over each span (% of notional; negative: it "
    "receives), and the largest of it as a share of the daily close-based BTC risk weight.",
    kinds={"mean": "percent", "min": "percent", "max": "percent"},
    precision=3,
    label="crypto-funding",
)
record("funding_accrued", accrued)

# %% [markdown]
# ## BTC/ETH offsets with funding
#
# The BTC and ETH books of study 07 (`research.backtest.crypto_books`: long the BTC
# perpetual against short the ETH perpetual at three notional ratios, and each coin held long
# against its short perpetual) margined hour by hour out of sample at 99% over the 8-hour MPOR
# by filtered historical simulation (EWMA volatility, refitted every 24 hours on the last 480
# hours; 168 in a fast run): isolated margin charges each leg its own value-at-risk, cross
# margin the value-at-risk of the whole book, so the gap between them is the offset the pair
# earns. An exception is an hour whose realized loss over the next 8 hours exceeds the margin.

# %%
pair_returns = to_returns(hourly.close[["BTC", "ETH"]])
funded_until = pd.Timestamp(funding.index[-1]) + pd.Timedelta(days=1)  # its last day's end
if funded_until.tzinfo is None:  # a daily stamp without a zone is a UTC day
    funded_until = funded_until.tz_localize("UTC")
unfunded = int((pair_returns.index >= funded_until).sum())
pair_returns = pair_returns.loc[pair_returns.index < funded_until]
fit_hours = 168 if fast else 480  # the full run's first test hour is before the cascade
if fast:  # the hours around the cascade's worst hour only
    at = pair_returns.index.get_indexer([hours.sum(axis=1).idxmin()], method="nearest")[0]
    pair_returns = pair_returns.iloc[max(0, at - fit_hours - 24) : at + 48 + periods]
pair_books = crypto_books(pair_returns.iloc[:fit_hours], n_options=0, n_random=0)
book, family = stack_books(
    {name: pair_books[name] for name in ("BTC/ETH perps long-short", "perp hedged by spot")}
)
offsets = OffsetBacktest(
    RollingFHS(horizon=periods, volatility="ewma"),
    level=level,
    refit_every=24,
    lookback=fit_hours,
    funding={"BTC": funding},
).run(pair_returns, book, family=family, seed=seed)
gross = book.quantities.abs().sum(axis=1)
from_funding = offsets.funding_contribution("cross")["exceptions_from_funding"]
offset_table = pd.DataFrame(
    {
        name: {
            "isolated margin": (offsets.margin("isolated")[names] / gross[names]).stack().mean(),
            "cross margin": (offsets.margin("cross")[names] / gross[names]).stack().mean(),
            "isolated exceptions": int(offsets.exceptions("isolated")[names].to_numpy().sum()),
            "cross exceptions": int(offsets.exceptions("cross")[names].to_numpy().sum()),
            "portfolio-hours": int(offsets.loss[names].size),
            "worst loss": (offsets.loss[names] / gross[names]).to_numpy().max(),
            "mean funding paid": offsets.funding[names].stack().mean(),
            "cross exceptions from funding": int(from_funding[names].sum()),
        }
        for name, names in family.groupby(family).groups.items()
    }
).T
offset_table.index.name = "family"
saved = 1 - offset_table["cross margin"] / offset_table["isolated margin"]
funding_text = offsets.settings["funding"].replace(":funding_mean", "")
caused = offset_table["cross exceptions from funding"]
if sample.synthetic:
    funding_sentence = (
        "The synthetic path has no funding: the realized loss is the price move only."
    )
elif caused.any():
    funding_sentence = (
        f"The realized loss includes the perpetuals' funding over the MPOR ({funding_text}), and "
        "the margin carries the funding accrued over the MPOR before the margin hour. Funding "
        "alone turned "
        + ", ".join(
            f"{int(n):,} cross exception{'s' if n != 1 else ''} ({f})"
            for f, n in caused.items()
            if n
        )
        + ": the price loss alone stayed within the margin."
    )
else:
    funding_sentence = (
        f"The realized loss includes the perpetuals' funding over the MPOR ({funding_text}); no "
        "cross exception is due to funding alone."
    )
show_text(
    f"[Table](#tab-crypto-offsets) reads the {len(offsets.dates):,} test hours from "
    f"{stamp_label(offsets.dates[0], time=True)} to "
    f"{stamp_label(offsets.dates[-1], time=True)}"
    + (" (a fast run: the hours around the cascade)" if fast else "")
    + (
        f", the last {unfunded:,} hours of the hourly file left out: the funding series ends "
        f"on {stamp_label(funding.index[-1], time=False)}"
        if unfunded and not fast
        else ""
    )
    + ". Cross margin is "
    + ", ".join(f"{s:.0%} below isolated on {f}" for f, s in saved.items())
    + "; it is exceeded in "
    + ", ".join(
        f"{int(n):,} of {int(h):,} portfolio-hours ({f})"
        for f, n, h in zip(
            offset_table.index,
            offset_table["cross exceptions"],
            offset_table["portfolio-hours"],
            strict=True,
        )
    )
    + "; isolated margin in "
    + " and ".join(f"{int(n)}" for n in offset_table["isolated exceptions"])
    + ". "
    + funding_sentence
)
show_table(
    offset_table,
    f"BTC/ETH books margined at {level:.0%} over {hourly_label} by filtered historical "
    "simulation: mean isolated and cross margin and the worst realized loss (funding included) "
    "as % of gross notional, the exceptions of each account, the mean funding a book "
    "paid over an MPOR (negative: received; legs of 1,000,000 USD) and the cross exceptions "
    "due to funding alone.",
    kinds={
        "isolated margin": "percent",
        "cross margin": "percent",
        "worst loss": "percent",
        "mean funding paid": "money",
    },
    units={"mean funding paid": "USD"},
    label="crypto-offsets",
)
record("btc_eth_offsets", offset_table)
