# %% [markdown]
# # Data quality of the price panel
#
# Every margin number in this package is computed from the price panel examined here. This study
# documents what the data are (source, assets, dates), what is wrong with them (missing days, gaps,
# non-positive prices, duplicate or unsorted timestamps, outlier returns) and how the calendar
# policy turns the raw panel into the return panel that the volatility and correlation models use.
# Nothing is dropped or filled without being counted in the tables below.

# %% tags=["parameters"]
dataset = "sp500"
data_path = None
start = None
end = None
fast = False
seed = 0

# %%
import pandas as pd

from research.data import (
    align,
    load_prices,
    quality_report,
    source_label,
    to_returns,
    validate_prices,
)
from research.reporting import record, set_theme, show_figure, show_table, show_text
from research.reporting.data_exhibits import (
    plot_missing,
    plot_prices,
    plot_return_distribution,
    plot_rolling_volatility,
    return_summary,
)
from research.reporting.provenance import data_scope, provenance_frame

set_theme()
source = data_path or dataset
prices = load_prices(source, start=start, end=end)
if fast:
    prices = prices.iloc[-750:]  # every asset (the calibration's among them), recent rows
quality = validate_prices(prices, warn=False) if fast else quality_report(prices)

# %% [markdown]
# ## Data
#
# The panel is the input as read, one column per asset; [Table](#tab-dq-quality) reports, per
# asset, its dates, observations and every kind of defect the validation looks for, and
# [Figure](#fig-dq-prices) draws the prices. Each asset's listing date is its first valid price;
# days before it are not counted as missing.

# %%
show_table(
    quality.to_frame(),
    f"Data-quality report per asset for {source_label(source)}: first and last observation, "
    "observations, missing values inside the listed range, long gaps, non-positive prices and "
    "outlier returns.",
    label="dq-quality",
)

# %%
issues = quality.issues
if len(issues):
    show_text("[Table](#tab-dq-issues) lists the individual findings of the validation.")
    show_table(
        issues.head(25),
        f"Individual findings of the validation ({len(issues)} in total; the first 25 shown).",
        index=False,
        label="dq-issues",
    )
else:
    show_text(
        "The validation found no issue: no gaps, duplicates, non-positive prices or outliers."
    )

# %%
show_figure(
    plot_prices(prices),
    "Prices rebased to 100 at each asset's first observation (log scale).",
    label="dq-prices",
)

# %%
if prices.isna().to_numpy().any():
    show_text("[Figure](#fig-dq-missing) shows where prices are missing, by asset and month.")
    show_figure(
        plot_missing(prices),
        "Share of missing prices by asset and month. Dark cells before an asset's listing are "
        "the listing effect; dark cells afterwards are gaps in the source data.",
        label="dq-missing",
    )
else:
    show_text(
        f"No missing prices: each of the {prices.shape[1]} assets has a price on every one of "
        f"the {len(prices):,} dates of the panel."
    )

# %% [markdown]
# ## Calendar policy and returns
#
# Returns need a common calendar. The intersection policy keeps only the dates on which every
# asset has a price; the table reports the rows it removes, so a late listing that shortens the
# common history is visible rather than silent.

# %%
aligned = align(prices, how="intersection")
returns = to_returns(aligned)
alignment = aligned.attrs["alignment"]
dropped = pd.DataFrame(
    {"rows dropped": alignment["dropped_by_asset"], "values filled": alignment["filled"]}
).fillna(0)
if alignment["rows_dropped"]:
    show_text("[Table](#tab-dq-calendar) counts the dates each asset's gaps remove.")
    show_table(
        dropped[dropped.sum(axis=1) > 0],
        f"Intersection calendar: {alignment['rows_in']:,} rows in, {alignment['rows_out']:,} "
        "kept. Rows dropped counts the dates each asset's missing price removed (a date can "
        "count for several assets).",
        label="dq-calendar",
    )
else:
    show_text(
        f"The intersection calendar kept all {alignment['rows_out']:,} rows: "
        "no asset misses a date."
    )

# %% [markdown]
# ## Results: return distribution
#
# [Table](#tab-dq-returns) summarises the log returns of each asset and
# [Figure](#fig-dq-distribution) compares their pooled distribution with the normal one.

# %%
show_table(
    return_summary(returns),
    "Log-return statistics (percent) on the common calendar. Excess kurtosis far above zero and "
    "Jarque-Bera p-values near zero mean fat tails: a normal model understates margin.",
    label="dq-returns",
)

# %%
show_figure(
    plot_return_distribution(returns),
    "Left: pooled standardised returns against the standard normal density (log scale). "
    "Right: empirical against normal quantiles; points above the diagonal in the right tail and "
    "below it in the left tail are fat tails.",
    label="dq-distribution",
)

# %% [markdown]
# ## Diagnostics: volatility clustering
#
# [Figure](#fig-dq-volatility) draws each asset's rolling volatility.

# %%
show_figure(
    plot_rolling_volatility(returns),
    "Annualised 63-period rolling volatility. Clusters of high volatility are the stress "
    "periods that margin calibration must cover.",
    label="dq-volatility",
)

# %%
record("data_scope", {"price panel": data_scope(prices, source=str(source), source_file=data_path)})
record(
    "data_summary",
    {
        "source": str(source),
        "assets": ", ".join(map(str, prices.columns)),
        "first date": f"{prices.index[0]:%Y-%m-%d}",
        "last date": f"{prices.index[-1]:%Y-%m-%d}",
        "rows (raw panel)": len(prices),
        "rows (common calendar)": len(returns),
        "validation findings": len(issues),
    },
)

# %% [markdown]
# ## Conclusion
#
# The table of findings lists every repair and flag; the return panel passed on to the
# volatility and correlation studies is the intersection calendar above. Fat tails and volatility
# clustering are the reasons the next studies filter returns through GARCH models before
# estimating correlations.
#
# ## Provenance
#
# [Table](#tab-dq-provenance) identifies the input, the code and the packages of this study.

# %%
show_table(
    provenance_frame(
        source=source,
        data=prices,
        source_file=data_path,
        parameters={"start": start, "end": end, "fast": fast, "seed": seed},
    ),
    "Provenance of this study: input, data hash, parameters and package versions.",
    label="dq-provenance",
)
