# %% [markdown]
# # Conditional correlations: DCC, cDCC, ADCC and CCC
#
# Offsets between positions are only as good as the correlations behind them, and those
# correlations move. This study filters each asset's returns through a GARCH(1,1) model (the
# univariate stage) and fits four models of the correlation of the standardized residuals:
# constant correlation (CCC, the static baseline), DCC (Engle 2002), the corrected cDCC
# (Aielli 2013) and the asymmetric ADCC (Cappiello, Engle and Sheppard 2006), in which joint
# falls raise correlations more than joint rises. It compares the fits, tests the nested ones,
# shows the correlation paths of selected pairs and what the fitted dynamics imply for the next
# ten days, by forecast and by simulation. A last part looks at stress: a Student-t copula DCC,
# with the tail dependence of the offset pairs, and DECO, one market-wide correlation, through
# the named stress windows.

# %% tags=["parameters"]
dataset = "sp500"
data_path = None
start = None
end = None
fast = False
seed = 0
n_days = 2500  # estimation sample: the last n_days common dates (500 in fast mode)
max_assets = 8  # assets with the longest price histories (4 in fast mode)
horizon = 10  # forecast and simulation horizon, days
paths = 10_000  # simulated paths (2,000 in fast mode)
calibration_config = None  # the calibration config of the stress section (as in study 04)

# %%
from pathlib import Path

import numpy as np
import pandas as pd

from research.calibration.calibrate import prepare_study
from research.calibration.config import CalibrationConfig
from research.correlation import DCC, CopulaDCC, compare, lr_tests, tail_dependence
from research.correlation.compare import compare_dependence, fit_dependence
from research.data import (
    align,
    duration_label,
    load_prices,
    shared_data_file,
    source_label,
    to_returns,
)
from research.reporting import record, set_theme, show_figure, show_table, show_text
from research.reporting.dcc_exhibits import (
    forecast_comparison,
    plot_correlation_fan,
    plot_pair_correlations,
    plot_portfolio_fan,
)
from research.reporting.provenance import data_scope, provenance_frame
from research.reporting.tables import readable_label
from research.stress import stress_windows, window_mask
from research.stress.paths import window_contrast
from research.stress.plots import plot_window_paths

set_theme()
source = data_path or dataset
if fast:
    n_days, max_assets, paths = 500, 4, 2_000
prices = load_prices(source, start=start, end=end)
prices = prices[prices.notna().sum().nlargest(max_assets).index]
returns = to_returns(align(prices, how="intersection")).iloc[-n_days:]
horizon_text = duration_label(horizon, returns.index)

# %% [markdown]
# ## Data
#
# [Table](#tab-dcc-returns) describes the log returns in percent of the assets with the longest
# price histories, on the common calendar, over the study's estimation sample (the most recent
# common dates; its length and dates are in the table).

# %%
show_table(
    returns.describe().T[["count", "mean", "std", "min", "max"]],
    f"Log returns in percent ({duration_label(1, returns.index)} each) of "
    f"{source_label(source)}, {returns.index[0]:%Y-%m-%d} to "
    f"{returns.index[-1]:%Y-%m-%d}: observations, mean, standard deviation, extremes.",
    label="dcc-returns",
)

# %% [markdown]
# ## Model
#
# Every model shares the univariate stage (constant mean + GARCH(1,1), normal) and the
# correlation target (the sample correlation of the standardized residuals; for cDCC the
# Aielli-corrected one). They differ in the dynamics of the quasi-correlation matrix
# $Q_t$: CCC keeps it fixed, DCC moves it with the last residual cross-product at rate `a` and
# persistence `b`, cDCC does the same with residuals rescaled so that the target is consistent,
# and ADCC adds `g` times the cross-product of the negative parts.

# %%
fits = {kind: DCC(kind=kind).fit(returns) for kind in ("ccc", "dcc", "cdcc", "adcc")}

# %% [markdown]
# ## Results
#
# [Table](#tab-dcc-models) compares the four fits side by side and [Table](#tab-dcc-lr) tests
# the nested ones; [Figure](#fig-dcc-paths) draws the correlation paths of two pairs under each
# model.

# %%
comparison = compare(fits)
show_table(
    comparison.T,
    "Models in columns. Estimates (two-step-corrected standard errors in se(.)), total and "
    "correlation-stage log-likelihood, number of estimated parameters (univariate and "
    "correlation dynamics; "
    "the correlation target is not counted), AIC and BIC (lower is better) and convergence.",
    kinds=dict.fromkeys(comparison.index, "mixed"),
    label="dcc-models",
)

# %%
tests = lr_tests(fits)
show_table(
    tests.drop(columns="note").assign(
        null=tests["null"].map(readable_label), alternative=tests["alternative"].map(readable_label)
    ),
    "Likelihood-ratio tests of nested models on the correlation stage. Against CCC the "
    "persistence b is not identified under the null, so the chi-square p-value is "
    "conservative.",
    label="dcc-lr",
)

# %%
best = comparison["BIC"].idxmin()
dcc = fits["dcc"]
correlations = dcc.correlation_array
iu = np.triu_indices(len(dcc.assets), 1)
mean_path = correlations[:, iu[0], iu[1]].mean(axis=0)
top = np.argsort(mean_path)
pairs = [
    (dcc.assets[iu[0][top[-1]]], dcc.assets[iu[1][top[-1]]]),
    (dcc.assets[iu[0][top[0]]], dcc.assets[iu[1][top[0]]]),
]
show_figure(
    plot_pair_correlations(fits, pairs),
    f"Conditional correlation of the most correlated pair ({pairs[0][0]} / {pairs[0][1]}) and "
    f"the least correlated pair ({pairs[1][0]} / {pairs[1][1]}) under each model; CCC is the "
    "flat line.",
    label="dcc-paths",
)

# %% [markdown]
# ### What the dynamics imply for the next days
#
# The one-step correlation forecast is exact; beyond it the analytic forecast uses the
# Engle-Sheppard approximation (correlations revert to the target at rate $a + b$). The
# simulation re-filters the fitted dynamics path by path, with the GARCH feedback of every
# asset, and here uses filtered historical simulation: whole past days of de-correlated
# residuals drawn with replacement. [Figure](#fig-dcc-fan) fans out the simulated correlation
# of the most correlated pair, [Figure](#fig-dcc-portfolio) the cumulative return of an
# equal-weight portfolio, whose tail quantiles [Table](#tab-dcc-quantiles) reports.

# %%
analytic = fits[best].forecast(horizon=horizon)
simulation = fits[best].simulate(
    horizon=horizon, paths=paths, method="fhs", seed=seed, store_correlation=True
)
first, second = pairs[0]
show_figure(
    plot_correlation_fan(
        simulation,
        first,
        second,
        history=fits[best].correlation_pair(first, second),
        forecast=analytic,
    ),
    f"{readable_label(best)} (lowest BIC): the last 60 in-sample correlations of {first} / "
    f"{second} and the 5-95% and 25-75% bands of {paths:,} filtered-historical-simulation "
    f"paths over {horizon_text}; dashed: the analytic Engle-Sheppard forecast.",
    label="dcc-fan",
)

# %%
weights = {asset: 1.0 / len(returns.columns) for asset in returns.columns}
show_figure(
    plot_portfolio_fan(simulation, weights),
    f"Cumulative log return (percent) of the equal-weight portfolio over {horizon_text}: "
    "1-99%, 5-95% and 25-75% bands of the simulated paths. The 1% quantile at the horizon is "
    "the kind of number a margin model is calibrated to.",
    label="dcc-portfolio",
)

# %%
tail = simulation.portfolio_returns(weights)[f"h.{horizon}"].quantile([0.01, 0.05])
show_table(
    pd.DataFrame(
        {
            "1% quantile": [tail.loc[0.01]],
            "5% quantile": [tail.loc[0.05]],
            "1-day forecast volatility (avg.)": [np.sqrt(analytic.variance.iloc[0]).mean()],
        },
        index=[f"equal weight, {horizon_text}"],
    ),
    f"Simulated equal-weight return quantiles (percent) over {horizon_text} and the average "
    "one-period volatility forecast of the assets.",
    label="dcc-quantiles",
)

# %% [markdown]
# ## Diagnostics
#
# The standardized residuals should have unit variance and, once de-correlated by the fitted
# $R_t$, no remaining cross-correlation ([Table](#tab-dcc-residuals)). The analytic multi-step
# forecast is an approximation; [Table](#tab-dcc-forecasts) compares it with the mean of
# simulated correlation paths (parametric, same seed).

# %%
z = dcc.std_resid
show_table(
    pd.DataFrame({"mean": z.mean(), "variance": z.var(), "excess kurtosis": z.kurt()}),
    "Standardized residuals of the univariate stage: mean near 0 and variance near 1 are "
    "required; excess kurtosis above 0 is the fat tail the normal model leaves.",
    label="dcc-residuals",
)

# %%
simulated_mean = fits[best].forecast(
    horizon=horizon, method="simulation", simulations=paths, seed=seed
)
show_table(
    forecast_comparison(analytic, simulated_mean, pairs=[pairs[0]]).iloc[[0, 1, 4, -1]],
    f"{readable_label(best)}: analytic (Engle-Sheppard) against simulated mean correlation "
    f"forecasts of {first} / {second}, and the largest difference over all pairs, at selected "
    "horizons.",
    label="dcc-forecasts",
)

# %%
persistence = float(fits[best].params.get("a", 0.0) + fits[best].params.get("b", 0.0))
half_life = np.log(0.5) / np.log(persistence) if 0.0 < persistence < 1.0 else np.inf
if best == "ccc":
    decay = "constant correlations, no shock to decay"
elif half_life <= len(returns):
    decay = (
        f"persistence a + b = {persistence:.4f}, so a correlation shock halves in about "
        f"{duration_label(max(round(half_life), 1), returns.index)}"
    )
else:
    decay = (
        f"persistence a + b = {persistence:.6f}, so a correlation shock does not halve within "
        f"the sample ({duration_label(len(returns), returns.index)})"
    )
show_text(
    f"BIC selects {readable_label(best)}: {decay}; equal-weight 1% quantile over "
    f"{horizon_text} {tail.loc[0.01]:.2f}%."
)

# %%
fit_warnings = [f"{readable_label(kind)}: {w}" for kind, fit in fits.items() for w in fit.warnings]
show_text("\n".join(f"- {w}" for w in fit_warnings) or "No estimation warnings.")

# %%
record("data_scope", {"price panel": data_scope(prices, source=str(source), source_file=data_path)})
record(
    "dcc_estimation",
    {
        "source": source_label(source),
        "assets": ", ".join(map(str, returns.columns)),
        "observations": len(returns),
        "best model (BIC)": best,
        "dcc a": float(dcc.params["a"]),
        "dcc b": float(dcc.params["b"]),
        "adcc g": float(fits["adcc"].params["g"]),
        "correlation half-life (periods)": float(half_life) if np.isfinite(half_life) else None,
        "LR ccc vs dcc p-value": float(
            tests.loc[tests["alternative"].eq("dcc"), "p-value"].iloc[0]
        ),
        f"{horizon}-day equal-weight 1% quantile": float(tail.loc[0.01]),
        "estimation warnings": "; ".join(fit_warnings) or "none",
    },
)

# %% [markdown]
# ## Stress: tail dependence and the market-wide correlation
#
# The models above are Gaussian: whatever the correlation below one, a Gaussian DCC puts no
# weight on both legs of a pair crashing together in the limit. Two models look at stress
# differently, both on the same univariate stage (constant mean + GARCH(1,1), normal):
#
# - the **t-copula DCC** turns the standardized residuals into uniforms $u = \Phi(z)$ and joins
#   them with a Student-t copula with DCC dynamics and estimated degrees of freedom $\nu$. Its
#   tail-dependence coefficient $\lambda_t = 2\,t_{\nu+1}\bigl(-\sqrt{(\nu+1)(1-\rho_t)/
#   (1+\rho_t)}\bigr)$ is the limiting probability that one leg of a pair has an extreme loss
#   given that the other has one (zero for the Gaussian DCC);
# - **DECO** (dynamic equicorrelation) gives every pair the same correlation each day, the
#   average of a cDCC model's correlations: a market-wide index that rises in the stress windows
#   if correlations "go to one" in a crash.
#
# They are fitted on the assets and offset pairs of the calibration config of the study's data
# (`configs/default.yaml` for the bundled equities, over its calibration sample; the review's
# `calibration_config` when it names one) and, when the
# shared crypto daily file is present and the study runs on the bundled data, on those of
# `configs/crypto.yaml` from its start date to the end of the file, in both cases on the dates on
# which every asset has a price. A fast run keeps the
# assets of each config's first two pairs and a short sample after the latest stress window in
# the data, as the calibration's fast run does.
# [Table](#tab-dcc-tail-data) describes the samples.

# %%
configs = next(p for p in (Path("configs"), Path("../configs")) if p.is_dir())
study_config = CalibrationConfig.from_yaml(
    calibration_config or configs / ("crypto.yaml" if data_path else "default.yaml")
)
panels = {
    study_config.stress.asset_class: prepare_study(
        study_config,
        data=data_path or (None if dataset == "sp500" else dataset),
        start=start,
        end=end,
        fast=fast,
    )
}
crypto_file = shared_data_file("crypto_spot_daily_binance.csv", data_path)
if crypto_file is not None and data_path is None:
    crypto_config = CalibrationConfig.from_yaml(configs / "crypto.yaml")
    panels[crypto_config.stress.asset_class] = prepare_study(
        crypto_config, data=crypto_file, start=crypto_config.data.start, fast=fast
    )
tail_sources = {next(iter(panels)): source_label(source)}
if len(panels) > 1:
    tail_sources["crypto"] = crypto_file.name
tail_returns, tail_pairs, tail_windows, partial_rows = {}, {}, {}, {}
for name, (config, panel_prices) in panels.items():
    # a config with pairwise history leaves NaN where an asset is not listed: the models
    # need every asset on every date
    complete = panel_prices.dropna()
    partial_rows[name] = len(panel_prices) - len(complete)
    tail_returns[name] = to_returns(complete)
    tail_pairs[name] = [(p.first, p.second) for p in config.pairs]
    tail_windows[name] = [
        w
        for w in stress_windows(config.stress.asset_class)
        if window_mask(tail_returns[name].index, w).any()
    ]
show_table(
    pd.DataFrame(
        {
            "source": list(tail_sources.values()),
            "assets": [", ".join(r.columns) for r in tail_returns.values()],
            "first date": [r.index[0] for r in tail_returns.values()],
            "last date": [r.index[-1] for r in tail_returns.values()],
            "observations": [len(r) for r in tail_returns.values()],
            "dates dropped": [p.attrs["alignment"]["rows_dropped"] for _, p in panels.values()],
            "dates not all listed": list(partial_rows.values()),
            "stress windows": [len(ws) for ws in tail_windows.values()],
        },
        index=pd.Index(list(tail_returns), name="data"),
    ),
    "Samples of the stress models: the config's assets, the common dates of their log returns "
    "(dates dropped: dates on which an asset has no price, removed by the alignment over the "
    "config's whole window, a return after such a gap spans it; dates not all listed: dates "
    "before an asset's listing or after its last price, left out here) and the number of "
    "named stress windows of the config's market with at least one date in the sample "
    "(listed in the last table of this section).",
    label="dcc-tail-data",
)

# %% [markdown]
# ### One likelihood scale
#
# Copula and Gaussian likelihoods are comparable only on the same margins. Here all three
# models share the univariate stage, so the margins' log-likelihood is the same for each and
# is left out: [Table](#tab-dcc-tail-models) compares the log density of the dependence model
# at the same uniforms $u = \Phi(z)$. For the Gaussian DCC that is its correlation-stage
# log-likelihood (the Gaussian copula), for DECO the same Gaussian density at the
# equicorrelation matrices, for the t copula its copula log-likelihood. AIC and BIC count the
# dynamics ($a$, $b$) and the t copula's $\nu$; the correlation targets are moment estimates,
# not counted. Likelihoods of different samples are not comparable with each other.

# %%
tail_fits = {name: fit_dependence(r) for name, r in tail_returns.items()}
tail_table = pd.concat(
    {name: compare_dependence(f) for name, f in tail_fits.items()}, names=["data", "fit"]
)
show_table(
    tail_table.drop(columns=["comparable", "note"]),
    "Dependence models on each sample: dynamics a and b, the t copula's degrees of freedom "
    "nu (n/a: not a parameter of the model), log copula density of the same uniforms, number "
    "of estimated dependence parameters, AIC and BIC (lower is better, within a sample).",
    label="dcc-tail-models",
)
not_comparable = tail_table.loc[~tail_table["comparable"].astype(bool), "note"]
tail_verdicts = []
for name in tail_fits:
    rows = tail_table.loc[name]
    winner = rows["BIC"].astype(float).idxmin()
    gain = float(rows.loc["t copula", "copula log-lik."] - rows.loc["DCC", "copula log-lik."])
    nu = float(rows.loc["t copula", "nu"])
    tail_verdicts.append(
        f"On the {name} sample BIC prefers the {winner} model; the t copula's log-likelihood is "
        f"{gain:+.1f} against the Gaussian DCC's, with nu = {nu:.1f}: at a correlation of 0.8 "
        f"the t copula's tail dependence is {tail_dependence(0.8, nu):.2f}, the Gaussian's 0."
    )
show_text(
    " ".join(tail_verdicts)
    + "".join(
        f" {data} / {fit}: {note}, no AIC/BIC." for (data, fit), note in not_comparable.items()
    )
)

# %%
# the check behind "one scale": the Gaussian copula, fitted by the copula code on the same
# uniforms, must reproduce the Gaussian DCC's log-likelihood at its own (a, b)
scale_gaps = {}
for name, f in tail_fits.items():
    gaussian = CopulaDCC(copula="gaussian").fit(univariate=f["DCC"].univariate)
    at_same = f["DCC"].fix(gaussian.params[["a", "b"]]).loglikelihood_correlation
    scale_gaps[name] = float(gaussian.loglikelihood_copula - at_same)
extreme = {n: int((f["DCC"].std_resid.abs() > 7.0).sum().sum()) for n, f in tail_fits.items()}
off_scale = {n: g for n, g in scale_gaps.items() if abs(g) > 1e-3}
show_text(
    "Check of the common scale: the Gaussian copula fitted through the copula code reproduces "
    "the Gaussian DCC's log-likelihood at the same (a, b) "
    + (
        "to within 0.001 on every sample."
        if not off_scale
        else "only up to "
        + ", ".join(
            f"{g:+.1f} on the {n} sample ({extreme[n]} standardized "
            f"residual{'s' if extreme[n] != 1 else ''} beyond 7 in absolute value)"
            for n, g in off_scale.items()
        )
        + ": the copula code's transform does not return these residuals exactly (it bounds "
        "its uniforms away from 0 and 1, which pulls the most extreme residuals in), so the "
        "copula log-likelihoods above, the t copula's included, are not on the DCC's scale "
        "and the t copula's gain over the DCC is not a clean comparison."
    )
)

# %% [markdown]
# ### The offset pairs through the stress windows
#
# [Figure](#fig-dcc-tail-paths) draws the conditional correlation of each sample's first two
# offset pairs under the Gaussian DCC and the t copula, with the named stress windows shaded;
# [Figure](#fig-dcc-tail-lambda) the t copula's tail-dependence coefficient of the same pairs.
# [Table](#tab-dcc-tail-windows) sets the average tail dependence of every offset pair, and
# its Gaussian DCC correlation, inside the windows against their averages outside them.

# %%
shown_pairs = {name: pairs[:2] for name, pairs in tail_pairs.items()}
show_figure(
    plot_window_paths(
        {
            f"{name}: {a} / {b}": pd.DataFrame(
                {
                    "Gaussian DCC": tail_fits[name]["DCC"].correlation_pair(a, b),
                    "t copula": tail_fits[name]["t copula"].correlation_pair(a, b),
                }
            )
            for name, pairs in shown_pairs.items()
            for a, b in pairs
        },
        {
            f"{name}: {a} / {b}": tail_windows[name]
            for name, pairs in shown_pairs.items()
            for a, b in pairs
        },
        ylabel="correlation",
        ylim=(-1.0, 1.0),
    ),
    "Conditional correlation of the first two offset pairs of each sample under the Gaussian "
    "DCC and the t-copula DCC (the correlation of the copula's t residuals); shaded: the "
    "named stress windows.",
    label="dcc-tail-paths",
)

# %%
tail_lambda = {
    name: pd.DataFrame(
        {f"{a}/{b}": tail_fits[name]["t copula"].tail_dependence(a, b) for a, b in pairs}
    )
    for name, pairs in tail_pairs.items()
}
show_figure(
    plot_window_paths(
        {
            name: tail_lambda[name][[f"{a}/{b}" for a, b in pairs]]
            for name, pairs in shown_pairs.items()
        },
        tail_windows,
        ylabel="tail dependence",
    ),
    "Tail-dependence coefficient of the t copula, 2 t_(nu+1)(-sqrt((nu+1)(1-rho)/(1+rho))), of "
    "the first two offset pairs of each sample; shaded: the named stress windows. The Gaussian "
    "DCC's is zero throughout.",
    label="dcc-tail-lambda",
)

# %%
tail_dcc = {
    name: pd.DataFrame(
        {f"{a}/{b}": tail_fits[name]["DCC"].correlation_pair(a, b) for a, b in pairs}
    )
    for name, pairs in tail_pairs.items()
}
lambda_contrast = pd.concat(
    {name: window_contrast(tail_lambda[name], tail_windows[name]) for name in tail_fits},
    names=["data", "pair"],
)
dcc_contrast = pd.concat(
    {name: window_contrast(tail_dcc[name], tail_windows[name]) for name in tail_fits},
    names=["data", "pair"],
)
show_table(
    pd.concat(
        {
            "days inside": lambda_contrast["days inside"],
            "DCC corr. inside": dcc_contrast["mean inside"],
            "DCC corr. outside": dcc_contrast["mean outside"],
            "tail dep. inside": lambda_contrast["mean inside"],
            "tail dep. outside": lambda_contrast["mean outside"],
            "tail dep. change": lambda_contrast["inside - outside"],
        },
        axis=1,
    ),
    "Every offset pair of each sample: days inside the named stress windows, the Gaussian "
    "DCC's mean conditional correlation inside and outside them, and the t copula's mean "
    "tail-dependence coefficient inside and outside them with the change (inside less "
    "outside).",
    label="dcc-tail-windows",
)
rising = lambda_contrast["inside - outside"] > 0
show_text(
    f"The tail dependence is higher inside the stress windows than outside for {int(rising.sum())} "
    f"of {len(rising)} offset pairs"
    + (
        f" (lower for {', '.join(f'{p} ({d})' for d, p in rising.index[~rising])})."
        if (~rising).any()
        else "."
    )
    + " "
    + " ".join(
        f"On the {name} sample {pair} has the largest average tail dependence in the windows, "
        f"{lambda_contrast.loc[(name, pair), 'mean inside']:.2f}, against "
        f"{lambda_contrast.loc[(name, pair), 'mean outside']:.2f} outside them."
        for name in tail_fits
        for pair in [lambda_contrast.loc[name, "mean inside"].idxmax()]
    )
)

# %% [markdown]
# ### DECO: a market-wide correlation index
#
# [Figure](#fig-dcc-deco) draws the DECO equicorrelation of each sample with the named stress
# windows shaded, and [Table](#tab-dcc-deco-windows) compares its level inside and outside the
# windows, and in each window.

# %%
deco_paths = {name: f["DECO"].equicorrelation.rename("DECO") for name, f in tail_fits.items()}
show_figure(
    plot_window_paths(deco_paths, tail_windows, ylabel="equicorrelation"),
    "DECO equicorrelation (the average cDCC correlation of all the sample's assets, one "
    "value a day, from the data before that day); shaded: the named stress windows.",
    label="dcc-deco",
)

# %%
deco_contrast = pd.concat(
    {
        name: window_contrast(path.rename(name), tail_windows[name]).loc[name]
        for name, path in deco_paths.items()
    },
    axis=1,
).drop("days inside")
show_table(
    deco_contrast,
    "DECO equicorrelation of each sample: the mean inside and outside the named stress "
    "windows (days inside: previous table), the difference, and the mean in each window "
    "(n/a: a window of another sample).",
    label="dcc-deco-windows",
)
deco_notes = []
for name in deco_paths:
    row = deco_contrast[name].dropna()
    per_window = row.drop(["mean inside", "mean outside", "inside - outside"])
    above = per_window[per_window > row["mean outside"]]
    deco_notes.append(
        f"On the {name} sample the DECO equicorrelation averages {row['mean inside']:.2f} in "
        f"the stress windows against {row['mean outside']:.2f} outside them "
        f"({'higher' if row['inside - outside'] > 0 else 'not higher'} in stress); it is above "
        f"its outside mean in {len(above)} of {len(per_window)} windows"
        + (f" ({', '.join(k.removeprefix('mean ') for k in above.index)})." if len(above) else ".")
        + f" DECO a + b = {float(tail_fits[name]['DECO'].params.sum()):.3f}."
    )
show_text(" ".join(deco_notes))

# %%
tail_warnings = [
    f"{name}, {label}: {w}"
    for name, f in tail_fits.items()
    for label, fit in f.items()
    for w in fit.warnings
]
show_text(
    "\n".join(f"- {w}" for w in tail_warnings) or "No estimation warnings in the stress models."
)
record(
    "dcc_tail_models",
    {
        name: {
            "observations": len(tail_returns[name]),
            "stress windows": ", ".join(w.name for w in tail_windows[name]) or "none",
            "t copula nu": float(tail_table.loc[(name, "t copula"), "nu"]),
            "best model (BIC)": str(tail_table.loc[name, "BIC"].astype(float).idxmin()),
            "t copula minus DCC log-likelihood": float(
                tail_table.loc[(name, "t copula"), "copula log-lik."]
                - tail_table.loc[(name, "DCC"), "copula log-lik."]
            ),
            "tail dependence inside windows (mean over pairs)": float(
                lambda_contrast.loc[name, "mean inside"].mean()
            ),
            "tail dependence outside windows (mean over pairs)": float(
                lambda_contrast.loc[name, "mean outside"].mean()
            ),
            "DECO inside windows": float(deco_contrast.loc["mean inside", name]),
            "DECO outside windows": float(deco_contrast.loc["mean outside", name]),
            "Gaussian copula minus DCC log-likelihood (scale check)": scale_gaps[name],
        }
        for name in tail_fits
    },
)

# %% [markdown]
# ## Conclusion
#
# The comparison table and the likelihood-ratio tests say whether correlations move at all
# (CCC against the dynamic models) and whether they react more to joint falls (DCC against
# ADCC); the information criteria pick the model used for forecasts. Persistence `a + b` close
# to one means that a correlation shock, such as the jump in stress periods, decays over months,
# not days: a margin model that uses today's correlation for a ten-day horizon is close to the
# fitted dynamics, while one that uses the long-run average is not. The forecast fan shows how
# wide the plausible range of a pair's correlation is already after ten days, which is the
# uncertainty that offset credits between the pair must absorb. The stress section says whether
# the joint tails are fatter than a Gaussian DCC assumes (the t copula's $\nu$ and its
# likelihood against the DCC's on the same uniforms), how much tail dependence the offset pairs
# keep inside the stress windows, and whether the market-wide DECO correlation rises in them.
#
# ## Provenance
#
# [Table](#tab-dcc-provenance) identifies the input, the code and the packages of this study.

# %%
show_table(
    provenance_frame(
        source=source,
        data=prices,
        source_file=data_path,
        parameters={
            "start": start,
            "end": end,
            "fast": fast,
            "seed": seed,
            "n_days": n_days,
            "max_assets": max_assets,
            "horizon": horizon,
            "paths": paths,
        },
    ),
    "Provenance of this study: input, data hash, parameters and package versions.",
    label="dcc-provenance",
)
