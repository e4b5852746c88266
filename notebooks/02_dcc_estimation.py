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
# ten days, by forecast and by simulation.

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

# %%
import numpy as np
import pandas as pd

from research.correlation import DCC, compare, lr_tests
from research.data import align, load_prices, to_returns
from research.reporting import record, set_theme, show_figure, show_table, show_text
from research.reporting.dcc_exhibits import (
    forecast_comparison,
    plot_correlation_fan,
    plot_pair_correlations,
    plot_portfolio_fan,
)
from research.reporting.provenance import data_scope, provenance_frame

set_theme()
source = data_path or dataset
if fast:
    n_days, max_assets, paths = 500, 4, 2_000
prices = load_prices(source, start=start, end=end)
prices = prices[prices.notna().sum().nlargest(max_assets).index]
returns = to_returns(align(prices, how="intersection")).iloc[-n_days:]

# %% [markdown]
# ## Data
#
# [Table](#tab-dcc-returns) describes the log returns in percent of the assets with the longest
# price histories, on the common calendar, over the last `n_days` dates.

# %%
show_table(
    returns.describe().T[["count", "mean", "std", "min", "max"]],
    f"Daily log returns (percent) of {source}, {returns.index[0]:%Y-%m-%d} to "
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
    tests.drop(columns="note"),
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
    f"{best.upper()} (lowest BIC): the last 60 in-sample correlations of {first} / {second} "
    f"and the 5-95% and 25-75% bands of {paths:,} filtered-historical-simulation paths over "
    f"{horizon} days; dashed: the analytic Engle-Sheppard forecast.",
    label="dcc-fan",
)

# %%
weights = {asset: 1.0 / len(returns.columns) for asset in returns.columns}
show_figure(
    plot_portfolio_fan(simulation, weights),
    f"Cumulative log return (percent) of the equal-weight portfolio over {horizon} days: "
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
        index=[f"{horizon}-day equal weight"],
    ),
    f"Simulated {horizon}-day equal-weight return quantiles (percent) and the average "
    "one-day volatility forecast of the assets.",
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
    f"{best.upper()}: analytic (Engle-Sheppard) against simulated mean correlation forecasts of "
    f"{first} / {second}, and the largest difference over all pairs, at selected horizons.",
    label="dcc-forecasts",
)

# %%
persistence = float(fits[best].params.get("a", 0.0) + fits[best].params.get("b", 0.0))
half_life = np.log(0.5) / np.log(persistence) if 0.0 < persistence < 1.0 else 0.0
show_text(
    f"BIC selects {best.upper()}: persistence a + b = {persistence:.4f}, so a correlation "
    f"shock halves in about {half_life:.0f} days; equal-weight {horizon}-day 1% quantile "
    f"{tail.loc[0.01]:.2f}%."
)

# %%
fit_warnings = [f"{kind.upper()}: {w}" for kind, fit in fits.items() for w in fit.warnings]
show_text("\n".join(f"- {w}" for w in fit_warnings) or "No estimation warnings.")

# %%
record("data_scope", {"price panel": data_scope(prices, source=str(source), source_file=data_path)})
record(
    "dcc_estimation",
    {
        "source": str(source),
        "assets": ", ".join(map(str, returns.columns)),
        "observations": len(returns),
        "best model (BIC)": best,
        "dcc a": float(dcc.params["a"]),
        "dcc b": float(dcc.params["b"]),
        "adcc g": float(fits["adcc"].params["g"]),
        "correlation half-life (days)": float(half_life),
        "LR ccc vs dcc p-value": float(
            tests.loc[tests["alternative"].eq("dcc"), "p-value"].iloc[0]
        ),
        f"{horizon}-day equal-weight 1% quantile": float(tail.loc[0.01]),
        "estimation warnings": "; ".join(fit_warnings) or "none",
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
# uncertainty that offset credits between the pair must absorb.
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
