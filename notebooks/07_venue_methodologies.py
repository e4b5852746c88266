# %% [markdown]
# # What would the venues charge? Venue margin methodologies against the calibrated set
#
# A crypto risk team's first question about a margin model is how it compares with what the
# venues charge, and which of them would have held through 2025-10-10. This study margins the
# same books with the venue methodologies of `research.margin.venues` (each labelled
# "<venue>-style": the published formulas on a dated parameter set, not the venue's own system)
# and with the package's own calibrated parameter set (`configs/crypto.yaml`, as an engine),
# hour by hour out of sample, and counts the hours on which the realized loss over the margin
# period of risk (MPOR) exceeded each margin.

# %% tags=["parameters"]
dataset = "crypto"
data_path = None
start = None
end = None
fast = False
seed = 0
profile = None
config = None
mpor_hours = 24
iv_premium = 0.10

# %%
import re
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from research.backtest import OffsetBacktest, RollingFHS, crypto_books, traffic_light
from research.calibration.calibrate import calibrate, prepare_study
from research.calibration.config import CalibrationConfig
from research.data import crypto_hourly_sample, shared_data_file, stamp_label, to_returns
from research.errors import DataError
from research.margin.venues import (
    DeribitEngine,
    DydxEngine,
    HyperliquidEngine,
    OkxEngine,
    ParadexEngine,
    VenueParameters,
)
from research.portfolio import EuropeanOption, Market
from research.reporting import record, set_theme, show_figure, show_table, show_text

set_theme()
hour = partial(stamp_label, time=True)  # hours as the text prints them

# %% [markdown]
# ## Data
#
# The shared crypto files (`crypto_perp_hourly_binance.csv`: Binance USDT-M perpetual hourly
# bars, of which the study uses the closes; the calibration uses the daily spot closes) sit
# beside the checkout in CI (`research.data.crypto_hourly_sample` reads them). A fresh clone
# does not have them: the study then prints a note and runs on a seeded synthetic hourly path
# (Student-t moves, a crash at 2025-10-10 21:00 UTC), so that it still executes end to end (its
# numbers then say nothing about the venues).

# %%
assets = ["BTC", "ETH", "SOL"]
sample = crypto_hourly_sample(
    data_path, assets, start=start, end=end, seed=seed, hours=1_500, after=24 * 24
)
if sample.synthetic:
    print("NOTE: the shared crypto files were not found; running on a synthetic hourly path.")
    source = "the synthetic path"
else:
    source = "the Binance perpetuals (crypto_perp_hourly_binance.csv)"
prices = sample.hourly.close
returns = to_returns(prices)
lookback = 168 if fast else 480  # hours; the full run's first test hour is before the cascade
cascade = pd.Timestamp("2025-10-10 21:00", tz="UTC")  # the 2025-10-10 liquidation hour
if not returns.index[0] <= cascade <= returns.index[-1]:
    cascade = returns.index[int(np.argmin(returns.sum(axis=1).to_numpy()))]
# the test: the day before the cascade and two after it (fast), or the calm week before it and
# three days after it (full); every engine margins every book every hour of it
before, after = (24, 48) if fast else (24 * 7, 24 * 3)
at = int(returns.index.get_indexer([cascade], method="nearest")[0])
returns = returns.iloc[max(0, at - lookback - before) : at + after + mpor_hours]


show_text(
    f"[Table](#tab-venue-data) describes the hourly returns of {source} from "
    f"{hour(returns.index[0])} to {hour(returns.index[-1])}"
    + f"; the first {lookback} hours are the first fit window, and the test runs from "
    f"{before} hours before {hour(cascade)} to {after} hours after it"
    + (" (a fast run)" if fast else "")
    + ", so that every engine can margin every book every hour of it."
)
show_table(
    returns.describe()
    .T[["count", "mean", "std", "min", "max"]]
    .rename(columns={"count": "hours", "std": "standard deviation"}),
    f"Hourly log returns of {source}, {hour(returns.index[0])} to {hour(returns.index[-1])}.",
    kinds={"hours": "count"},
    units=dict.fromkeys(["mean", "standard deviation", "min", "max"], "%"),
    precision=3,
    label="venue-data",
)

# %% [markdown]
# ## The books
#
# Constant-notional books (1,000,000 USD legs at unit prices) in five families: **perps
# long-short** (BTC/ETH/SOL linear perpetuals against each other, and BTC against ETH alone at
# three hedge ratios), a **perp hedged by spot**
# (short the perpetual, long the coin), **options hedged with perps** (a 30-day call or put
# struck at 90/100/110%, delta-hedged at inception with the perpetual) and **random** books of
# perpetuals. dYdX and Hyperliquid margin perpetuals only (no spot, no options), Deribit's
# parameter sets list BTC and ETH only: an engine refuses a family it cannot hold, and the
# refusals are tabulated with their reasons.
#
# The data have no implied volatility. The options' implied volatility is a proxy: the EWMA
# (lambda 0.94) realized volatility of the underlying at the end of the first fit window,
# annualised, times one plus a premium (10% by default: crypto implied volatility usually
# trades above realized), held constant over the test (so the realized loss has no vega part).
# The books are `research.backtest.crypto_books`, the builder study 06 uses too.

# %%
notional = 1e6
books = crypto_books(
    returns.iloc[:lookback],
    notional,
    n_options=3 if fast else 9,
    n_random=4 if fast else 12,
    iv_premium=iv_premium,
    seed=seed,
)
proxy = {
    i.underlying: i.implied_vol
    for book in books.values()
    for i in book.instruments
    if isinstance(i, EuropeanOption)
}
show_text(
    f"[Table](#tab-venue-books) counts the books of each family. The implied-volatility proxy "
    f"(a {iv_premium:.0%} premium on the EWMA volatility at {hour(returns.index[lookback - 1])}) "
    "is " + ", ".join(f"{u} {v:.0%}" for u, v in proxy.items()) + " a year."
)
show_table(
    pd.DataFrame(
        {
            "books": [len(b.quantities) for b in books.values()],
            "instruments": [", ".join(i.label for i in b.instruments) for b in books.values()],
        },
        index=pd.Index(list(books), name="family"),
    ),
    f"The book families and their instruments; every leg is {notional:,.0f} USD of notional "
    "or a multiple of it.",
    label="venue-books",
)

# %% [markdown]
# ## The engines
#
# Paradex publishes scenario tables for BTC, ETH, HYPE and CL only: SOL is margined here with
# the HYPE table (an assumption of this study). Deribit-style uses the dated set of 2026-02-15
# (ETH values captured then, BTC the last published), OKX-style the parameters of 2025-01-06.
# dYdX's tiers are those of the v4-chain genesis
# (BTC and ETH large-cap, SOL tier 1); Hyperliquid's maximum leverages are BTC 40x, ETH 25x and
# SOL 20x (see the parameter set's notes). The calibrated set is `configs/crypto.yaml`
# calibrated on the daily spot closes up to its as-of date (before the test period): risk
# weight x delta notional less its offset credits, at 99% over one day.

# %%
configs = next(p for p in (Path("configs"), Path("../configs")) if p.is_dir())
base = CalibrationConfig.from_yaml(config or configs / "crypto.yaml")
daily = None if sample.synthetic else shared_data_file("crypto_spot_daily_binance.csv", data_path)
calibration_config, calibration_prices = (
    prepare_study(base, data=daily, fast=fast) if daily is not None else (None, None)
)


def venue_engines(requirement):
    """The five venue methodologies at the initial or the maintenance requirement."""
    return {
        "Paradex-style": ParadexEngine(requirement=requirement, asset_tables={"SOL": "HYPE"}),
        "dYdX-style": DydxEngine(requirement=requirement),
        "Hyperliquid-style": HyperliquidEngine(requirement=requirement),
        "Deribit-style": DeribitEngine(
            VenueParameters.load("deribit_2026-02-15"), requirement=requirement
        ),
        "OKX-style": OkxEngine(VenueParameters.load("okx_2025-01-06"), requirement=requirement),
    }


engines = {f"{name} IM": engine for name, engine in venue_engines("initial").items()}
if calibration_config is not None:
    with warnings.catch_warnings(action="ignore"):  # study 04 shows the calibration's warnings
        params = calibrate(calibration_config, calibration_prices, source=str(daily)).parameters
    engines[f"calibrated set [{params.fingerprint}]"] = params.engine()
    print(f"Calibrated set {params.version} as of {params.as_of} [{params.fingerprint}]")
    record("calibrated_fingerprint", params.fingerprint)
else:
    print("NOTE: no daily crypto file: the calibrated set is left out of the comparison.")
show_text(
    f"[Table](#tab-venue-engines) lists the {len(engines)} engines with the version and "
    "fingerprint of each parameter set; the venues are backtested at their initial "
    "requirement (IM)."
)
show_table(
    pd.DataFrame(
        {
            "parameters": [getattr(e.parameters, "version", "") for e in engines.values()],
            "fingerprint": [e.parameters.fingerprint for e in engines.values()],
        },
        index=pd.Index(list(engines), name="engine"),
    ),
    "The engines and the versions and fingerprints of their parameter sets.",
    label="venue-engines",
)

# %%
market = Market(spot=dict.fromkeys(assets, 1.0), volatility=proxy)
levels = []
for (venue, initial), maintenance in zip(
    venue_engines("initial").items(), venue_engines("maintenance").values(), strict=True
):
    for fam, book in books.items():
        gross = book.quantities.abs().sum(axis=1)
        try:
            im, mm = (e.margin_book(book, market).cross / gross for e in (initial, maintenance))
        except DataError:  # refused: listed with the backtest below
            continue
        levels.append(
            {
                "family": fam,
                "engine": venue,
                "initial % gross": 100 * float(im.mean()),
                "maintenance % gross": 100 * float(mm.mean()),
                "maintenance / initial": float(mm.mean() / im.mean()),
            }
        )
levels = pd.DataFrame(levels).set_index(["family", "engine"]).sort_index()
ratio = levels["maintenance / initial"]
show_text(
    "[Table](#tab-venue-maintenance) sets each venue's maintenance requirement (MM) against its "
    "initial one on the books as built (unit prices, the proxy implied volatility): MM is "
    f"{ratio.min():.0%} to {ratio.max():.0%} of IM: an account opened at IM is liquidated once "
    "its equity has fallen to that share of it."
)
show_table(
    levels,
    "Initial and maintenance requirement of each venue methodology on each family at "
    "inception, as % of gross notional (mean over the family's books).",
    kinds={"maintenance / initial": "percent"},
    precision=2,
    label="venue-maintenance",
)
record("venue_maintenance", levels)

# %% [markdown]
# ## Out-of-sample coverage and capital cost
#
# Every hour after the first fit window each engine margins every book from the prices of that
# hour; the realized loss is the book's loss over the next MPOR (24 hours by default;
# `research.backtest.OffsetBacktest`: the same realized losses for every engine). Margin is
# shown as a percentage of the book's gross notional; an exception is an hour whose realized
# loss exceeded the cross margin. Kupiec's test (median p-value over the books, and the share
# of books rejected at 5%) and the Basel traffic light are at 99% on non-overlapping MPORs, the
# calibrated set's own target (the venues state no confidence level); the light is shown only
# when the test has enough periods for it to tell.

# %%
INSTRUMENT_WORDS = {
    "EuropeanOption": "option",
    "LinearPerpetual": "linear perpetual",
    "(Spot on": "(spot on",
}
rows, results, refused = [], {}, []
for name, engine in engines.items():
    for fam, book in books.items():
        backtest = OffsetBacktest(
            RollingFHS(horizon=mpor_hours, volatility="ewma"),
            level=0.99,
            refit_every=24,
            lookback=lookback,
            engine=engine,
        )
        try:
            result = backtest.run(returns, book, seed=seed)
        except DataError as exc:  # a position the venue does not margin: shown below
            reason = re.sub(r"\[([^\]]*)\]", r"\1", str(exc).split(";")[0]).replace("'", "")
            for kind, word in INSTRUMENT_WORDS.items():
                reason = reason.replace(kind, word)
            refused.append({"engine": name, "family": fam, "reason": reason})
            continue
        results[(name, fam)] = result
        gross = book.quantities.abs().sum(axis=1)
        test = result.coverage(by="all")["cross"].iloc[0]
        rows.append(
            {
                "engine": name,
                "family": fam,
                "margin % gross": 100 * float((result.margin("cross") / gross).to_numpy().mean()),
                "exceptions": int(test["exceptions"]),
                "observations": int(test["observations"]),
                "median Kupiec p": float(test["kupiec_pvalue"]),
                "share rejected": float(test["share_rejected"]),
                "traffic light": test["traffic_light"],
            }
        )
comparison = pd.DataFrame(rows).set_index(["family", "engine"]).sort_index()
comparison["exception rate"] = comparison["exceptions"] / comparison["observations"]
first = next(iter(results.values()))
periods = int(first.per_portfolio()[("cross", "test_observations")].iloc[0])
record("venue_comparison", comparison)

# %%
by_family = []
for fam, part in comparison.groupby(level="family", sort=False):
    held = part[part["exception rate"] <= 0.01]
    if len(held):
        best = held["margin % gross"].idxmin()[1]
        by_family.append(f"{fam}: {best} ({held.loc[(fam, best), 'margin % gross']:.1f}% of gross)")
    else:
        by_family.append(f"{fam}: none")
over = comparison[comparison["exception rate"] > 0.01]
free = comparison[comparison["margin % gross"] == 0].index
free_by_engine = {e: [f for f, g in free if g == e] for _, e in free}
uninformative = traffic_light(0, periods, level=0.99).zone != "green"
if uninformative:  # zero exceptions are already outside the green zone: the light cannot tell
    comparison = comparison.drop(columns="traffic light")
show_text(
    f"[Table](#tab-venue-coverage) sets each engine's cross margin against its exceptions over "
    f"{len(first.dates):,} test hours, and [Figure](#fig-venue-frontier) draws the same as a "
    "frontier of capital cost against coverage. The cheapest engine at an exception rate of at "
    "most 1%, per family: "
    + "; ".join(by_family)
    + ". "
    + (
        f"Exception rates above 1% occur in {len(over)} engine-family combinations, the most "
        f"{over['exception rate'].max():.1%} ({' under '.join(over['exception rate'].idxmax())})."
        if len(over)
        else "No engine exceeds the 1% exception rate on any family."
    )
    + (
        " "
        + "; ".join(
            f"The {e} charges nothing on {' and '.join(f)}" for e, f in free_by_engine.items()
        )
        + ": a margin of risk weight times delta notional is zero on books that are "
        "delta-neutral at inception."
        if len(free)
        else ""
    )
    + (
        f" Kupiec's test rests on {periods} non-overlapping {mpor_hours}-hour periods per book: "
        "read it as indicative only."
        + (
            " The Basel traffic light is left out: on so few periods even zero exceptions fall "
            "outside its green zone."
            if uninformative
            else ""
        )
        if periods < 250
        else ""
    )
)
show_table(
    comparison.drop(columns="exception rate"),
    f"Cross margin as % of gross notional (mean over hours and books) against exceptions of the "
    f"realized {mpor_hours}-hour loss, {hour(first.dates[0])} to {hour(first.dates[-1])}; "
    "observations are portfolio-hours, Kupiec's p-value the median over the books and the "
    "share rejected the share of books it rejects at 5%.",
    kinds={"share rejected": "percent"},
    precision=2,
    label="venue-coverage",
)
if refused:
    show_text(
        f"[Table](#tab-venue-refused) lists the {len(refused)} engine-family combinations an "
        "engine refused, with the first position it could not margin."
    )
    show_table(
        pd.DataFrame(refused).set_index(["family", "engine"]).sort_index(),
        "Books an engine refused (an instrument or an underlying its methodology does not "
        "margin), with its reason.",
        label="venue-refused",
    )

# %%
fig, ax = plt.subplots(figsize=(7.5, 4.5))
markers = dict(zip(engines, "osD^vP<>Xh*p", strict=False))
colours = dict(zip(books, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
for (fam, eng), row in comparison.iterrows():
    ax.scatter(
        row["margin % gross"],
        100 * row["exception rate"],
        marker=markers[eng],
        color=colours[fam],
        s=36,
        alpha=0.85,
    )
ax.axhline(1.0, color="grey", lw=0.8, ls="--")
ax.set_xlabel("mean cross margin, % of gross notional")
ax.set_ylabel("exception rate, % of portfolio-hours")
handles = [plt.Line2D([], [], ls="", marker="o", color=c, label=f) for f, c in colours.items()] + [
    plt.Line2D([], [], ls="", marker=m, color="grey", label=e.split(" [")[0])
    for e, m in markers.items()
]
ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
show_figure(
    fig,
    "Capital efficiency against coverage: every engine (marker) on every family (colour); the "
    "dashed line is the 1% exception rate of a 99% margin.",
    label="venue-frontier",
)

# %% [markdown]
# ## The cascade of 2025-10-10
#
# The cascade hour by hour, engine by engine: the exceptions of the cross account in the 48
# hours from 12 hours before the liquidation hour of 2025-10-10 21:00 UTC (on the synthetic
# path or when the test misses it: around the test's worst hour), and the largest shortfall
# of the margin below the realized loss as % of the book's gross notional.

# %%
tested = first.dates
if not tested[0] <= cascade <= tested[-1]:  # the data start too late for the cascade
    print(f"NOTE: {hour(cascade)} is not in the test period; the window is the test's worst hour.")
    cascade = returns.loc[tested].sum(axis=1).idxmin()
window = (cascade - pd.Timedelta(hours=12), cascade + pd.Timedelta(hours=36))
crash_rows = []
for (name, fam), result in results.items():
    inside = result.window(*window)
    shortfall = (inside.loss - inside.margin("cross")).clip(lower=0)
    gross = books[fam].quantities.abs().sum(axis=1)
    crash_rows.append(
        {
            "engine": name,
            "family": fam,
            "exceptions": int(inside.exceptions("cross").to_numpy().sum()),
            "portfolio-hours": int(inside.loss.size),
            "worst shortfall % gross": 100 * float((shortfall / gross).to_numpy().max()),
        }
    )
crash_table = pd.DataFrame(crash_rows).set_index(["family", "engine"]).sort_index()
record("crash_window", crash_table)
failed = crash_table[crash_table["exceptions"] > 0]
engines_failed = sorted({e for _, e in failed.index})
show_text(
    f"[Table](#tab-venue-cascade) reads the cross accounts from {hour(window[0])} to "
    f"{hour(window[1])}. "
    + (
        f"Exceptions there hit {len(engines_failed)} of the {len(engines)} engines "
        f"({', '.join(engines_failed)}); the largest shortfall is "
        f"{failed['worst shortfall % gross'].max():.2f}% of gross notional "
        f"({' under '.join(failed['worst shortfall % gross'].idxmax())})."
        if len(failed)
        else "No engine has an exception there."
    )
)
show_table(
    crash_table,
    f"Exceptions of the cross account from {hour(window[0])} to {hour(window[1])}, around "
    f"{hour(cascade)}, and the largest shortfall of margin below the realized "
    f"{mpor_hours}-hour loss.",
    precision=2,
    label="venue-cascade",
)

# %% [markdown]
# ## Conclusion

# %%
netting = comparison.xs("BTC/ETH perps long-short", level="family")["margin % gross"]
calm = comparison["exception rate"].groupby(level="engine").max()
show_text(
    f"On the BTC/ETH long-short books the engines charge from {netting.min():.1f}% "
    f"({netting.idxmin()}) to {netting.max():.1f}% ({netting.idxmax()}) of gross notional. "
    + (
        "At most 1% exceptions on every family they margin over the test: "
        + ", ".join(calm.index[calm <= 0.01])
        if (calm <= 0.01).any()
        else "No engine keeps to 1% exceptions on every family it margins over the test"
    )
    + (
        f"; exceptions in the cascade window: {', '.join(engines_failed)}."
        if engines_failed
        else "; no engine has an exception in the cascade window."
    )
)
