# %% [markdown]
# # Margin parameter calibration
#
# This study turns prices into the margin parameter set a calibration review signs off: one risk
# weight per underlying at the target confidence over the margin period of risk (MPOR), an offset
# credit for every candidate hedge (or the reason it gets none), the anti-procyclicality (APC)
# settings, and the sensitivity of all of it to the calibration choices. The settings come from a
# YAML config (`configs/default.yaml` for the bundled data, `configs/crypto.yaml` when a price file
# is given); the same run is available on the command line as `research calibrate CONFIG.yaml`.

# %% tags=["parameters"]
dataset = "sp500"
data_path = None
start = None
end = None
fast = False
seed = 0
profile = None
calibration_config = None

# %%
import warnings
from pathlib import Path

import pandas as pd

from research.backtest import SweepGrid, sensitivity_sweep
from research.calibration.calibrate import calibrate, prepare_study
from research.calibration.config import CalibrationConfig
from research.data import duration_label, period_length, source_label
from research.reporting import record, set_theme, show_figure, show_table, show_text
from research.reporting.calibration_exhibits import (
    credit_reason,
    plot_credits_by_regime,
    plot_offset_correlations,
    plot_sweep,
    regime_label,
)
from research.reporting.memo import calibration_record
from research.reporting.provenance import data_scope, provenance_frame

set_theme()
configs = next(p for p in (Path("configs"), Path("../configs")) if p.is_dir())
base = CalibrationConfig.from_yaml(
    calibration_config or configs / ("crypto.yaml" if data_path else "default.yaml")
)
source = data_path or (None if dataset == "sp500" else dataset)
config, prices = prepare_study(base, data=source, start=start, end=end, profile=profile, fast=fast)
with warnings.catch_warnings(action="ignore"):  # every warning is kept in result.warnings
    result = calibrate(config, prices, source=str(data_path or dataset))
params = result.parameters
show_text(f"Proposal {params.version} as of {params.as_of}, fingerprint {params.fingerprint}.")

# %% [markdown]
# ## Data
#
# The calibration uses the assets of the candidate hedges (same-sector stock pairs on the
# bundled data; the large coins on the crypto file) up to the config's `data.end`, the set's
# as-of date: the days after it are the set's out-of-sample backtest in study 05. Prices are
# aligned on the dates where every asset trades; the stress windows are the named episodes of the
# `research.stress` catalog that fall inside the sample ([Table](#tab-cal-sample)).

# %%
desc = result.data_description
show_table(
    pd.Series(
        {
            "source": source_label(desc["source"]),
            "assets": ", ".join(desc["assets"]),
            "first return": desc["first"],
            "last return": desc["last"],
            "returns": desc["rows"],
            "stress windows": ", ".join(result.stress_windows) or "none inside the sample",
            "profile": config.profile,
        },
        name="value",
    ),
    "Sample of the calibration: source, assets, dates and the stress windows inside it.",
    label="cal-sample",
)

# %% [markdown]
# ## Model
#
# **Risk weights.** The risk weight of an underlying is the loss on one unit of notional over the
# MPOR exceeded with probability 1 - level. Each overlapping MPOR log move m over the lookback
# costs a long 1 - e^m and a short e^m - 1; the risk weight is the empirical quantile of these
# losses (the larger of the long and the short tail), blended with the same quantile inside the
# stress windows at the configured stress weight. A margin of risk weight x notional is then the
# quantile of the position's P&L itself, the P&L the offset backtest realizes.
#
# **Offset credits.** For a hedged pair held in opposite directions with legs of equal risk, the
# credit is 1 - (risk of the pair) / (sum of the standalone risks), i.e.
# 1 - sqrt(2 - 2 rho) / 2 under correlation aggregation. It is computed under the recent sample
# correlation, the correlation pooled over the stress windows and the 5% lower quantile of the
# DCC conditional correlation; the least favourable binds. The credit is then capped at 80% of
# the reduction (EMIR RTS 153/2013 Art. 27) and cut by the fall of the correlation from the recent
# to the worst regime. A pair gets nothing when its correlation is not significantly positive,
# changes sign, falls by more than the break threshold, or breaks in a stress window according
# to the stability diagnostics of `research.stress`.
#
# **APC.** The three EMIR Art. 28 tools are applied to the margin path of an equal-weight long
# portfolio of the assets: a 25% buffer released in stress, a 25% weight on stressed
# observations and a floor from a 10-year lookback.

# %% [markdown]
# ## Results
#
# ### Risk weights and their drivers
#
# [Table](#tab-cal-risk-weights) gives each underlying's risk weight with the quantiles it
# blends, and [Figure](#fig-cal-risk-weights) draws them.

# %%
drivers = result.risk_weights.summary()
show_table(
    drivers[
        [
            "risk_weight",
            "lookback_risk",
            "stress_risk",
            "stress_contribution",
            "observations",
            "side",
            "quantile_date",
        ]
    ],
    f"Risk weights at {params.level:.1%} over {duration_label(params.mpor, params.period)}, in "
    "percent of notional, "
    "with their drivers: the lookback-only and stress-window quantiles, the stress "
    "contribution, the moves used, the tail that binds and the date of the quantile move.",
    kinds=dict.fromkeys(
        ["risk_weight", "lookback_risk", "stress_risk", "stress_contribution"], "percent"
    ),
    label="cal-risk-weights",
)

# %%
show_figure(
    result.plot_risk_weights(),
    "Risk weight of each underlying (% of notional) beside the quantile of the lookback alone and "
    "of the stress windows alone; the risk weight blends the two at the stress weight.",
    label="cal-risk-weights",
)

# %% [markdown]
# ### Offset credits
#
# [Table](#tab-cal-credits) traces every credit to the correlation regime that binds it,
# [Figure](#fig-cal-credit-bars) draws the credit under each regime and after the cap, and
# [Figure](#fig-cal-credit-matrix) arranges the final credits as a matrix.

# %%
credits = result.offsets
regimes = {f"credit_{name}": f"credit, {regime_label(name)}" for name in result.correlations}
show_table(
    credits.tidy()
    .drop(columns=["first", "second"])
    .set_index("pair")
    .assign(
        binding_regime=lambda t: t["binding_regime"].map(regime_label),
        reason=lambda t: t["reason"].map(credit_reason),
    )
    .rename(columns=regimes),
    "Offset credit of every candidate pair (percent of the sum of standalone margins): the "
    "uncapped credit under each correlation regime, the regime that binds (the least "
    "favourable), whether the cap bit, the break haircut, the final credit and, for a zero "
    "credit, the reason.",
    kinds=dict.fromkeys(regimes.values(), "percent"),
    label="cal-credits",
)

# %%
show_figure(
    plot_credits_by_regime(
        credits.tidy(),
        {f"credit_{name}": regime_label(name) for name in result.correlations},
        cap=params.offset_cap,
    ),
    "Offset credit of each candidate pair under each correlation regime before the cap, and the "
    "final credit (black) after the cap on the least favourable regime and the break haircut.",
    label="cal-credit-bars",
)

# %%
if result.dcc is not None:
    quantile_regime = next(name for name in result.correlations if name.startswith("dcc_"))
    show_text(
        f"[Figure](#fig-cal-dcc-paths) draws, for every pair, the DCC conditional correlation "
        f"whose {config.offsets.dcc_quantile:.0%} lower quantile is the "
        f"{regime_label(quantile_regime)} regime of the credits."
    )
    show_figure(
        plot_offset_correlations(
            result.dcc,
            credits.tidy(),
            result.correlations[quantile_regime],
            result.stress_windows,
            quantile_level=config.offsets.dcc_quantile,
            threshold=config.offsets.min_correlation,
        ),
        f"DCC conditional correlation of each candidate pair over the last "
        f"{result.dcc.nobs:,} returns of the sample (the fit behind the credits), with "
        "the stress windows of the calibration shaded, the lower quantile that is the DCC regime "
        "(dashed) and the correlation below which a pair earns no credit (dotted).",
        label="cal-dcc-paths",
    )

# %%
show_figure(
    credits.plot_matrix(),
    "Calibrated offset-credit matrix (share of the sum of standalone margins that a hedge of the "
    "two underlyings saves); blank cells are not candidate hedges.",
    label="cal-credit-matrix",
)

# %%
zero = credits.zero_credit
if len(zero):
    show_text("[Table](#tab-cal-zero) gives the reason for every refused credit.")
    show_table(
        zero.assign(
            binding_regime=lambda t: t["binding_regime"].map(regime_label),
            reason=lambda t: t["reason"].map(credit_reason),
        ),
        "Pairs refused any offset credit and the reason for each.",
        label="cal-zero",
    )
else:
    show_text("Every candidate pair earns a credit: no correlation was weak or broke in stress.")

# %% [markdown]
# ### Margin path through the stress windows, with and without APC

# %%
if result.apc is not None:
    show_text(
        "[Figure](#fig-cal-apc) follows the margin of an equal-weight long portfolio with and "
        "without each APC tool, and [Table](#tab-cal-apc) measures how procyclical each path is."
    )
    show_figure(
        result.plot_apc(),
        "Margin of an equal-weight long portfolio (% of notional): the base margin and the margin "
        "under each APC tool; the black line is the margin under the configured tool; grey bands "
        "are the stress windows.",
        label="cal-apc",
    )
    apc_table = result.apc.summary()
    show_table(
        apc_table,
        "Procyclicality of each margin path: peak-to-trough ratio, largest 1-, 5- and 30-day "
        "increases (percent of the margin), the share of dates on which each tool binds and "
        "the mean margin (percent of notional).",
        kinds=dict.fromkeys(apc_table.columns.drop("peak_to_trough"), "percent"),
        label="cal-apc",
    )
else:
    apc_table = None
    show_text("The sample is too short for APC paths.")

# %% [markdown]
# ### Sensitivity
#
# The sweep recalibrates on a training sample and backtests each setting on the hold-out:
# [Figure](#fig-cal-sweep-risk-weight) shows the mean risk weight, [Figure](#fig-cal-sweep) the
# hold-out coverage against the target, and [Table](#tab-cal-sweep) every point.

# %%
sweep = sensitivity_sweep(
    result.returns,
    SweepGrid.from_dict(config.sweep or {}),
    pairs=config.pairs,
    stress_windows=result.stress_windows,
    offsets=config.offsets.calibrator(),
    progress=False,
)
show_figure(
    sweep.plot_heatmap("mean_risk_weight", "level", "mpor"),
    "Mean risk weight (fraction of notional) by confidence level and MPOR, averaged over the "
    "other settings of the sweep.",
    label="cal-sweep-risk-weight",
)

# %%
show_figure(
    plot_sweep(
        sweep.summary(),
        {"outright_coverage": "outright coverage", "pair_coverage": "hedged-pair coverage"},
        period_unit="days" if period_length(prices.index) >= pd.Timedelta("1D") else "hours",
    ),
    "Hold-out coverage (from "
    f"{sweep.holdout_start:%Y-%m-%d}) of outright long and short positions (top) and of the "
    "equal-risk hedged pairs margined with their offset credit (bottom), against each swept "
    "setting, averaged over the others; dashed: the target. A stress weight of none: stress "
    "moves pooled into the sample. A higher cap saves more margin and risks more exceptions.",
    label="cal-sweep",
)

# %%
show_table(
    sweep.summary(),
    "Every point of the sensitivity sweep: settings, mean risk weight and credit, hold-out "
    "coverage of outright positions and hedged pairs against the target, with Kupiec p-values "
    "(n/a: the setting is not used at that point).",
    kinds=dict.fromkeys(["level", "offset_cap", "target"], "percent"),
    label="cal-sweep",
)

# %% [markdown]
# ## Diagnostics
#
# The stability table compares each pair's recent correlation with its correlation inside every
# stress window (and all windows pooled): a sign change or a fall below the threshold is a
# break, and breaking pairs get no credit. The warnings list everything the run had to note.

# %%
if len(result.stability):
    show_text("[Table](#tab-cal-stability) is the stability table of the candidate pairs.")
    show_table(
        result.stability[
            ["asset_1", "asset_2", "window", "calm", "stress", "change", "pvalue", "breaks"]
        ],
        "Correlation stability per candidate pair: recent (calm) vs stress-window correlation, "
        "Fisher z p-value of the change, and whether the pair breaks.",
        precision=3,
        index=False,
        label="cal-stability",
    )
if result.warnings:
    show_text("Notes of the calibration:\n\n" + "\n".join(f"- {note}" for note in result.warnings))

# %%
record("parameters", params.to_dict())
record("calibration", calibration_record(result))
record(
    "data_scope",
    {
        "calibration sample": data_scope(
            prices, source=str(data_path or dataset), source_file=data_path
        )
    },
)
record("proposal_fingerprint", params.fingerprint)
record("offset_credits", credits.tidy()[["pair", "credit", "binding_regime", "reason"]])
record("risk_weights", result.risk_weights.risk_weights)
if apc_table is not None:
    record(
        "apc", apc_table.assign(binds_most=apc_table.index == apc_table["binding_share"].idxmax())
    )

# %% [markdown]
# ## Conclusion
#
# [Table](#tab-cal-parameters) is the proposed parameter set: it is what `research calibrate`
# writes to JSON and what the margin engines and the backtest read. Every risk weight is traced
# to its quantile move above, every credit to its binding correlation regime, and every refused
# credit to its reason. The sensitivity figures show how much each choice (confidence, MPOR,
# stress weight, cap) moves the margin and its hold-out coverage; choices that lower coverage
# below the target in the hold-out are the ones a reviewer should challenge.

# %%
show_table(
    params.to_frame(),
    "Proposed margin parameter set (the review's exhibit).",
    label="cal-parameters",
)

# %% [markdown]
# ## Provenance
#
# [Table](#tab-cal-provenance) identifies the input, the code and the packages of this study.

# %%
show_table(
    provenance_frame(
        source=str(data_path or dataset),
        data=prices,
        source_file=data_path,
        parameters={
            "start": start,
            "end": end,
            "fast": fast,
            "seed": seed,
            "profile": config.profile,
            "config": str(calibration_config or base.name),
        },
    ),
    "Provenance of this study: input, data hash, parameters and package versions.",
    label="cal-provenance",
)
