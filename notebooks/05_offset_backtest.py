# %% [markdown]
# # Do the offsets survive out of sample?
#
# Cross margin charges a portfolio for its net risk, so hedged books post far less collateral
# than the sum of their legs' isolated margins. This study asks whether that saving is safe:
# every day of a long test period we call margin from the data known that day only (the model
# refitted weekly and filtered daily), freeze each portfolio over the margin period of risk
# (MPOR), and count the days on which the realized loss exceeded the margin. The same portfolios
# are margined both ways, so every exception of cross margin that isolated margin would have
# covered is an **offset-caused exception**.

# %% tags=["parameters"]
dataset = "sp500"
data_path = None
start = None
end = None
fast = False
seed = 0
refit_every = 5
carry = 0.05
profile = None
calibration_config = None

# %%
import warnings
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from research.backtest.conclusions import family_conclusions
from research.backtest.engine import OffsetBacktest
from research.backtest.portfolios import (
    calendar_spreads,
    hedged_pairs,
    option_hedges,
    random_books,
    stack_books,
)
from research.backtest.proposal import frozen_backtest, rolling_backtest
from research.backtest.replay import stress_replay
from research.calibration.calibrate import calibrate, load_config_prices, prepare_study
from research.calibration.config import CalibrationConfig
from research.data import align, load_prices, source_label, to_returns
from research.errors import InsufficientDataError
from research.reporting import record, set_theme, show_figure, show_table, show_text
from research.reporting.memo import backtest_periods
from research.reporting.provenance import data_scope
from research.stress.windows import asset_class_of, stress_windows

set_theme()

# %% [markdown]
# ## The proposal under test
#
# Study 04 calibrates a parameter set from its config; the same config on the same data gives
# the same set here, named by its fingerprint. The set fixes everything this study margins
# with: confidence level, margin period of risk (MPOR), lookback, offset cap and the offset
# credits themselves.

# %%
configs = next(p for p in (Path("configs"), Path("../configs")) if p.is_dir())
base = CalibrationConfig.from_yaml(
    calibration_config or configs / ("crypto.yaml" if data_path else "default.yaml")
)
calibration_source = data_path or (None if dataset == "sp500" else dataset)
config, calibration_prices = prepare_study(
    base, data=calibration_source, start=start, end=end, profile=profile, fast=fast
)
with warnings.catch_warnings(action="ignore"):  # study 04 shows the calibration's warnings
    proposal = calibrate(config, calibration_prices, source=str(data_path or dataset)).parameters
print(f"Proposal {proposal.version} as of {proposal.as_of} [{proposal.fingerprint}]")
record("backtest_fingerprint", proposal.fingerprint)
level, mpor, lookback = proposal.level, proposal.mpor, proposal.lookback

# %% [markdown]
# ## The proposal, frozen and rolling
#
# The set is itself a margin engine (`params.engine()`: risk weight x notional per underlying
# less the calibrated offset credits). It is margined on its own underlyings and calibrated
# pairs: every underlying held outright long and short, every calibrated pair held as a hedge
# in its calibrated direction with its legs matched as the credit assumes
# (`research.backtest.proposal_book`). Two backtests:
#
# - **frozen**: the set unchanged on every day after its as-of date (out of sample: the config
#   stops its calibration data there);
# - **rolling recalibration**: the same config re-run at each quarter end on the prices up to
#   that date only, each set margining the days up to the next quarter end, over the whole
#   history with every stress window in it.
#
# Kupiec's test is two-sided (the direction says whether there were too many or too few
# exceptions); an independence test without an exception to test is shown as undefined.

# %%
history_prices = load_config_prices(config, calibration_source, out_of_sample=True)
try:  # the out-of-sample days: the config's data past the proposal's as-of date
    frozen = frozen_backtest(proposal, history_prices)
except InsufficientDataError as exc:
    frozen = None
    print(f"No frozen backtest: {exc}")
# a fast run recalibrates from the start of its shortened calibration sample only
rolling_prices = history_prices.loc[calibration_prices.index[0] :] if fast else history_prices
rolling = rolling_backtest(config, rolling_prices, seed=seed)
print(
    f"Rolling backtest: {len(rolling.refits)} sets, {len(rolling.result.dates):,} margin days "
    f"({rolling.result.dates[0].date()} to {rolling.result.dates[-1].date()})"
)

# %%
if frozen is not None:
    show_text(
        f"[Table](#tab-bt-frozen) is the frozen backtest: the proposal [{proposal.fingerprint}] "
        f"margins every day after its as-of date {proposal.as_of}, "
        f"{len(frozen.result.dates):,} days it never saw."
    )
    show_table(
        frozen.coverage().drop(columns="fingerprint"),
        f"Frozen backtest of the proposal [{proposal.fingerprint}] on the "
        f"{len(frozen.result.dates):,} days after its as-of date {proposal.as_of} "
        f"({frozen.result.dates[0].date()} to {frozen.result.dates[-1].date()}), cross margin: "
        "per outright position, per hedged pair and per family.",
        label="bt-frozen",
    )
asset_class = asset_class_of(history_prices)  # the stress catalog of the data's calendar
rolling_replay = stress_replay(rolling.result, stress_windows(asset_class))
show_text(
    f"[Table](#tab-bt-rolling) is the rolling backtest, [Table](#tab-bt-refits) lists its "
    f"{len(rolling.refits)} sets, "
    + (
        "[Table](#tab-bt-rolling-windows) reads it inside each named stress window"
        if len(rolling_replay)
        else f"no named {asset_class} stress window overlaps its margin days"
    )
    + " and [Figure](#fig-bt-rolling-margins) draws the margin of the two hedged "
    "pairs with the most exceptions against their realized loss."
)
show_table(
    rolling.coverage().drop(columns="fingerprint"),
    f"Rolling recalibration of the proposal's config, {len(rolling.refits)} quarterly sets from "
    f"{rolling.refits.index[0].date()} to {rolling.refits.index[-1].date()} "
    f"({rolling.result.dates[0].date()} to {rolling.result.dates[-1].date()}), cross margin; "
    "the sets are listed in the next table.",
    label="bt-rolling",
)
show_table(
    rolling.refits.rename_axis("refit date"),
    "Every set of the rolling backtest: its refit (as-of) date, fingerprint and the days it "
    "margined.",
    label="bt-refits",
)
if len(rolling_replay):
    show_table(
        rolling_replay.drop(columns=["start", "end"]),
        f"The rolling backtest inside each named {asset_class} stress window; windows beyond "
        f"the data: {', '.join(rolling_replay.attrs['skipped']) or 'none'}. Breaches and "
        "margins in currency for positions of 1m notional.",
        kinds={"target": "percent", "margin_saved_ratio": "percent"},
        label="bt-rolling-windows",
    )
rolling_pairs = rolling.coverage().loc["pair"].drop(index="all")
named = list(rolling_pairs["exceptions"].sort_values(ascending=False, kind="stable").index[:2])
show_figure(
    rolling.result.plot_margins(
        named,
        names={p: f"{p} hedge, rolling sets" for p in named},
        unit="USD per 1m notional",
    ),
    "Margin of the hedged pairs with the most exceptions under rolling recalibration against "
    "their realized MPOR loss; red dots are cross-margin exceptions. Isolated margin charges "
    "each leg its risk weight; cross margin is less the pair's offset credit.",
    label="bt-rolling-margins",
)
tables = {"rolling": rolling.coverage()}
if frozen is not None:
    tables = {"frozen": frozen.coverage(), **tables}
summary_columns = [
    "test_exceptions",
    "expected",
    "kupiec_pvalue",
    "kupiec_direction",
    "independence_pvalue",
    "traffic_light",
    "fingerprint",
]
coverage_rows = pd.concat(tables, names=["backtest"])
record("coverage_proposal", coverage_rows[summary_columns])
labels = coverage_rows.index.to_frame()
headline = ((labels["family"] == "pair") | (labels["label"] == "all")).to_numpy()
record("coverage", coverage_rows.loc[headline, summary_columns])
record("backtest_periods", backtest_periods({"frozen": frozen, "rolling": rolling}))

# %% [markdown]
# ## Beyond the proposal's books: the offsets of a risk-based margin model
#
# The proposal's books hold spot positions in its own underlyings. A broader question is
# whether offsets between *any* correlated positions survive: every day of a long test period
# we call margin from the data known that day only (the model refitted every `refit_every`
# days and filtered daily), freeze each portfolio over the MPOR, and count the days on which
# the realized loss exceeded the margin. The margin model is filtered historical simulation
# (FHS) at the proposal's level, MPOR, lookback and offset cap: a GARCH(1,1) per asset refitted
# on the last `lookback` returns, its volatility filtered daily, and the joint standardized
# residuals summed over the MPOR as scenarios; cross margin is the VaR of the portfolio's
# scenario loss (after the cap), isolated margin the sum of each holding's own VaR.
# [Table](#tab-bt-fhs-data) describes the returns of this part.

# %%
source = data_path or dataset
prices = load_prices(source, start=start, end=end)
n_assets = 5 if fast else 20
per_family = 5 if fast else 50
# the assets with the longest histories, on the dates where all of them have a price
prices = prices[prices.count().sort_values(ascending=False, kind="stable").index[:n_assets]]
returns = to_returns(align(prices, how="intersection"))
if fast:
    returns = returns.iloc[-(lookback + 500 + mpor) :]
history = returns.iloc[:lookback]
show_table(
    returns.describe().T[["count", "mean", "std", "min", "max"]],
    f"Daily log returns (percent) of {source_label(source)}: {returns.shape[1]} assets, "
    f"{returns.index[0].date()} to {returns.index[-1].date()}. The first {lookback} returns "
    f"(to {history.index[-1].date()}) are the first fit window.",
    label="bt-fhs-data",
)

# %% [markdown]
# Four families of constant-notional test portfolios (`research.portfolio` books: spot, dated
# futures with a `carry` of 5% a year and Black-76 options) are chosen from the first window
# only: beta-weighted **hedged pairs** of the most correlated assets, **calendar/basis** trades
# (spot against future, near against far future), **option hedges** (a 3-month option
# re-struck daily, revalued in full with Black-76, delta-hedged with the underlying) and
# **random books** of 2-6 long and short legs. Every portfolio is margined both ways, so every
# exception of cross margin that isolated margin would have covered is an **offset-caused
# exception**. The calendar/basis family carries only the small net delta of a fixed carry: its
# basis risk is not in spot price data, so its result bounds the safety of that offset from
# above.

# %%
book, family = stack_books(
    {
        "hedged pair": hedged_pairs(
            history, per_family, top=max(3, returns.shape[1] // 2), seed=seed
        ),
        "calendar/basis": calendar_spreads(list(returns.columns), per_family, seed=seed + 1),
        "option hedge": option_hedges(history, per_family, seed=seed + 2),
        "random book": random_books(list(returns.columns), per_family, seed=seed + 3),
    }
)
backtest = OffsetBacktest.from_parameters(proposal, refit_every=refit_every, carry=carry)
result = backtest.run(returns, book, family=family, seed=seed)
print(
    f"{book.n_portfolios} portfolios x {len(result.dates)} margin days "
    f"({result.dates[0].date()} to {result.dates[-1].date()}), "
    f"{len(result.refit_dates)} refits; warnings: {len(result.warnings)}"
)
record(
    "data_scope",
    {
        "proposal backtests": data_scope(
            history_prices, source=str(calibration_source or dataset), source_file=data_path
        ),
        "FHS model backtest": data_scope(prices, source=str(source), source_file=data_path),
    },
)

# %% [markdown]
# ## Results
#
# The summary ([Table](#tab-bt-fhs-summary)) pools all portfolio-days. Coverage is the share of
# days on which the margin covered the realized MPOR loss; the target column holds the value a
# correctly specified model would reach. [Table](#tab-bt-fhs-coverage) breaks coverage down by
# portfolio family, [Figure](#fig-bt-fhs-exceptions) counts the exceptions month by month,
# [Table](#tab-bt-fhs-offsets) sets the margin that offsets save against the exceptions they
# cause, and [Table](#tab-bt-fhs-disclosure) is the disclosure a clearing house would publish.

# %%
show_table(
    result.summary(),
    f"Isolated versus cross margin over all portfolios and days ({level:.0%} VaR, "
    f"{mpor}-day MPOR). Exceedances and margins are in currency for legs of 1m notional.",
    kinds=dict.fromkeys(["isolated", "cross", "target"], "mixed"),
    label="bt-fhs-summary",
)

# %%
coverage = result.coverage()
show_table(
    result.coverage(wide=False),
    "Coverage by portfolio family. Kupiec and Christoffersen p-values are medians over the "
    "family's portfolios (tests on non-overlapping MPORs); share_rejected is the share of "
    "portfolios rejected by Kupiec at 5%; the traffic light is that of the mean portfolio.",
    kinds={"target": "percent"},
    label="bt-fhs-coverage",
)
record("coverage_fhs", coverage)

# %%
show_figure(
    result.plot_exceptions(),
    "Number of portfolio exceptions per month under isolated and cross margin; bars are the "
    "offset-caused exceptions (covered by isolated, not by cross margin).",
    label="bt-fhs-exceptions",
)

# %%
offset_table = (
    result.per_portfolio()["offset"]
    .groupby(result.family)
    .agg(
        {
            "mean_margin_saved": "mean",
            "margin_saved_ratio": "mean",
            "offset_caused_exceptions": "sum",
        }
    )
)
show_table(
    offset_table,
    "Margin saved by offsets (mean per portfolio-day and as a share of isolated margin) and the "
    "offset-caused exceptions per family (currency for legs of 1m notional).",
    kinds={"margin_saved_ratio": "percent"},
    label="bt-fhs-offsets",
)
record("offset_caused_exceptions", offset_table)

# %%
show_table(
    result.disclosure("family"),
    "Backtest disclosure in the style of the CPMI-IOSCO public quantitative disclosures "
    "(item 6.5): breaches, largest and average breach (currency for legs of 1m notional) and "
    "achieved coverage, per account type.",
    label="bt-fhs-disclosure",
)

# %% [markdown]
# ## Diagnostics
#
# **Stress replay.** The engine never looks ahead, so reading the one backtest through each
# named stress window is the same as replaying it up to the window's end.
# [Figure](#fig-bt-fhs-worst) follows the portfolio with the most offset-caused exceptions.

# %%
replay = stress_replay(result, stress_windows(asset_class))
if len(replay):
    show_text(
        "[Table](#tab-bt-fhs-windows) reads the backtest inside each named stress window of "
        "the test period."
    )
    show_table(
        replay.drop(columns=["start", "end"]),
        f"The backtest inside each named {asset_class} stress window that overlaps the test "
        "period; offset-caused exceptions and the margin saved are on the cross rows.",
        kinds={"target": "percent", "margin_saved_ratio": "percent"},
        label="bt-fhs-windows",
    )
else:
    print(
        f"No named {asset_class} stress window overlaps the test period "
        f"({result.dates[0].date()} to {result.dates[-1].date()})."
    )
record("stress_replay", replay)

# %%
worst = result.per_portfolio()[("offset", "offset_caused_exceptions")].idxmax()
show_figure(
    result.plot_margins(worst, names={worst: f"{worst} ({family[worst]})"}, unit="USD"),
    f"Isolated and cross margin of {worst} (the portfolio with the most offset-caused "
    "exceptions) against its realized MPOR loss, in currency for legs of 1m notional; red dots "
    "are cross-margin exceptions.",
    label="bt-fhs-worst",
)

# %% [markdown]
# ## Conclusion
#
# One paragraph per portfolio family, written from this run's numbers.

# %%
display(Markdown("\n\n".join(family_conclusions(result))))
