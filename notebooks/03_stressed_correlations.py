# %% [markdown]
# # Stressed correlations
#
# Cross-margining lets a long position offset a short one only to the extent that their
# correlation holds. This study asks how the correlations of the panel behave in named market
# stress (catalog windows with sources) and in the worst windows found in the data, and
# produces the stressed correlation matrices that margin calibration consumes: sample and DCC
# estimates in stress, a blend with the current EWMA matrix (EMIR's 25% stressed weight), a
# direction-aware conservative matrix for a hedged portfolio, and the evidence on which pairs
# lose their offset in stress.

# %% tags=["parameters"]
dataset = "sp500"
data_path = None
start = None
end = None
fast = False
seed = 0
asset_class = None  # "equities" or "crypto"; None: the asset class of the data's calendar
max_assets = 10  # assets with the longest price histories (5 in fast mode)
fast_length = 750  # fast mode: the span of this many days holding the most stress days
window_length = 20  # length of detected windows, in observations
n_detected = 4
break_threshold = 0.3  # |correlation| below which an offset is treated as gone
n_boot = 1000

# %%
import numpy as np
import pandas as pd

from research import stress
from research.calibration.offsets import OffsetPair, copula_regime, hedge_credit
from research.correlation import DCC, CopulaDCC
from research.data import align, load_prices, to_returns
from research.reporting import record, set_theme, show_figure, show_table, show_text
from research.reporting.provenance import data_scope, provenance_frame
from research.reporting.tables import format_pvalue
from research.stress.plots import (
    plot_correlation_heatmaps,
    plot_correlation_paths,
    plot_exceedance_curves,
    plot_stress_windows,
)
from research.stress.windows import asset_class_of

set_theme()
source = data_path or dataset
prices = load_prices(source, start=start, end=end)
asset_class = asset_class or asset_class_of(prices)  # the catalog of the data's calendar
prices = prices[prices.notna().sum().nlargest(5 if fast else max_assets).index]
returns = to_returns(align(prices, how="intersection"))
catalog = stress.stress_windows(asset_class)
if fast:
    first, last = stress.busiest_span(returns.index, catalog, fast_length)
    returns = returns.loc[first:last]
    n_boot = 200
named = stress.stress_windows(asset_class, within=returns)
in_stress = stress.window_mask(returns.index, named)

# %% [markdown]
# ## Data
#
# Log returns (percent) of the assets with the longest histories, on the common calendar.
# The named stress windows of the catalog that lie wholly inside the sample are used below;
# [Table](#tab-st-windows) shows how stressful each was for the equal-weight portfolio,
# [Table](#tab-st-detected) the worst windows found in the data and [Figure](#fig-st-episodes)
# both on the portfolio's path.

# %%
show_table(
    stress.window_statistics(returns, named).drop(columns="coverage"),
    f"Named {asset_class} stress windows inside the sample ({returns.index[0]:%Y-%m-%d} to "
    f"{returns.index[-1]:%Y-%m-%d}, {returns.shape[1]} assets): observations, cumulative "
    "equal-weight log return and its maximum drawdown (percent), average daily volatility "
    "(percent) and average pairwise correlation.",
    precision=2,
    formatters={"start": "{:%Y-%m-%d}", "end": "{:%Y-%m-%d}"},
    label="st-windows",
)

# %%
detected = stress.detect_stress_windows(
    returns, score="drawdown", length=window_length, k=n_detected
)
show_table(
    detected.summary(named),
    f"The {n_detected} worst non-overlapping {window_length}-day windows by drawdown of the "
    "equal-weight portfolio (percent), and the named windows each overlaps.",
    precision=2,
    formatters={"start": "{:%Y-%m-%d}", "end": "{:%Y-%m-%d}"},
    index=False,
    label="st-detected",
)

# %%
show_figure(
    plot_stress_windows(returns, named, detected.windows),
    "Equal-weight portfolio (log scale) with the named stress windows of the catalog (red) "
    "and the windows detected as the worst drawdowns (blue, numbered by rank).",
    label="st-episodes",
)

# %% [markdown]
# ## Model
#
# The stressed sample pools every named window inside the data; the calm sample is every
# other day. A DCC(1,1) model with GARCH(1,1) univariate stages gives the conditional
# correlation path; its standardized residuals feed the exceedance correlations.

# %%
calm = stress.sample_correlation(returns.loc[~in_stress])
stressed = stress.sample_correlation(returns, named, min_obs=10, n_boot=n_boot, seed=seed)
dcc = DCC().fit(returns)
path = dcc.correlation
dcc_mean = stress.dcc_correlation(path, named)
dcc_upper = stress.dcc_correlation(path, named, statistic="upper", level=0.90)
dcc_lower = stress.dcc_correlation(path, named, statistic="lower", level=0.90)
current = stress.ewma_correlation(returns)
blended = stress.blend_correlation(stressed, current, weight=stress.EMIR_STRESSED_WEIGHT)
shrunk = stress.shrunk_correlation(returns, named, min_obs=10)
adjusted = stress.forbes_rigobon_correlation(returns, named, min_obs=10)
estimates = {
    "calm sample": calm,
    "stress sample": stressed,
    "stress Ledoit-Wolf": shrunk,
    "stress Forbes-Rigobon": adjusted,
    "DCC mean in stress": dcc_mean,
    "DCC 95% quantile in stress": dcc_upper,
    "EWMA current": current,
    "EMIR blend (25% stress)": blended,
}

# %% [markdown]
# ## Results
#
# [Figure](#fig-st-heatmaps) sets the calm and stressed sample correlations side by side;
# [Table](#tab-st-estimates) compares every estimate of the stressed matrix and
# [Figure](#fig-st-paths) follows the DCC correlation of the pairs that moved most.

# %%
show_figure(
    plot_correlation_heatmaps({"calm": calm, "stress": stressed}, difference=("stress", "calm")),
    "Sample correlations on calm days (left) and pooled named stress windows (middle), and "
    "their difference (right; orange: higher in stress).",
    label="st-heatmaps",
)

# %%
comparison = pd.DataFrame({name: est.summary() for name, est in estimates.items()}).T
# a blend combines two estimates and has no sample of its own (nobs 0): shown as n/a
comparison["nobs"] = comparison["nobs"].where(comparison["nobs"] > 0)
show_table(
    comparison[["nobs", "mean_correlation", "repaired", "repair_distance", "warnings"]],
    "Average pairwise correlation of each estimate. The repaired column marks estimates that "
    "were not positive semi-definite and were moved to the nearest correlation matrix (Higham "
    "2002) by the Frobenius distance shown. EWMA uses every observation of the sample; the "
    "blend combines the stress sample and the EWMA estimate (n/a: no sample of its own).",
    precision=3,
    label="st-estimates",
)

# %%
stability = stress.correlation_stability(
    returns, None, named, threshold=break_threshold, min_obs=10
)
movers = stability.pairs.reindex(
    stability.pairs["change"].abs().sort_values(ascending=False).index
).head(3)
pairs = list(zip(movers["asset_1"], movers["asset_2"], strict=True))
show_figure(
    plot_correlation_paths(path, pairs, named),
    "DCC conditional correlations of the three pairs whose sample correlation moved most "
    "between calm and stress; named stress windows shaded.",
    label="st-paths",
)

# %% [markdown]
# ## Diagnostics
#
# Exceedance correlations of the DCC standardized residuals: the correlation of two assets on
# days when both fall below $-\theta$ standard deviations (left half) or both rise above
# $\theta$ (right half), against the bivariate-normal value at the same overall correlation,
# which declines towards zero in the tails ([Figure](#fig-st-exceedance)). [Table](#tab-st-breaks)
# ranks the pairs by whether their correlation breaks in stress, and [Table](#tab-st-volatility)
# asks whether the moves are more than the effect of higher volatility.

# %%
curve = stress.exceedance_curve(
    dcc.std_resid, (0.0, 0.25, 0.5, 0.75, 1.0), pairs=pairs, min_exceedances=15
)
show_figure(
    plot_exceedance_curves(curve),
    "Exceedance correlations of standardized residuals (black) against the bivariate-normal "
    "benchmark (red, dashed). Points above the benchmark in the left half are joint crashes "
    "that a Gaussian model of the same correlation understates.",
    label="st-exceedance",
)

# %%
breaks = stability.breaks
ranked = stability.pairs.sort_values(["breaks", "change"], ascending=[False, True])
show_table(
    ranked.head(max(len(breaks), 10)),
    f"Pairs ranked by whether their correlation breaks in stress (a sign change, or "
    f"|correlation| falling below {break_threshold} from at least that on calm days), then by "
    f"change: {len(breaks)} of {len(stability.pairs)} pairs break. z and p-value: Fisher test "
    f"of equal calm and stress correlations. Jennrich (1970) test of equal correlation "
    f"matrices: chi-square({stability.jennrich.df}) = {stability.jennrich.statistic:.1f}, "
    f"p-value {format_pvalue(stability.jennrich.pvalue)}.",
    precision=3,
    index=False,
    label="st-breaks",
)

# %%
benchmark = stress.loretan_english_correlation(returns, named, min_obs=10)
volatility_effect = pd.DataFrame(
    {
        "calm": [calm.matrix.loc[a, b] for a, b in pairs],
        "stress observed": [stressed.matrix.loc[a, b] for a, b in pairs],
        "implied by volatility alone": [benchmark.matrix.loc[a, b] for a, b in pairs],
        "Forbes-Rigobon adjusted": [adjusted.matrix.loc[a, b] for a, b in pairs],
    },
    index=[f"{a} / {b}" for a, b in pairs],
)
show_table(
    volatility_effect,
    "Is the move a volatility effect? Loretan-English: the stress correlation implied by the "
    f"calm correlation and the rise in equal-weight variance (ratio "
    f"{benchmark.info['variance_ratio']:.2f}); Forbes-Rigobon: the stress correlation with "
    "that bias removed. Observed values above the implied ones mean genuinely stronger "
    "dependence.",
    precision=3,
    label="st-volatility",
)

# %% [markdown]
# ## A conservative matrix for a hedged portfolio
#
# For a portfolio long the first half of the assets and short the second, a higher
# correlation hurts same-direction pairs and a lower one hurts the hedges. The conservative
# matrix takes, pair by pair, the worst of the calm, stress and DCC-quantile estimates, and is
# repaired to a valid correlation matrix if needed; [Table](#tab-st-conservative) compares the
# portfolio's risk under each matrix.

# %%
half = returns.shape[1] // 2
signs = pd.Series(np.r_[np.ones(half), -np.ones(returns.shape[1] - half)], index=returns.columns)
candidates = {
    "calm": calm,
    "stress": stressed,
    "DCC 5%": dcc_lower,
    "DCC 95%": dcc_upper,
}
conservative = stress.conservative_correlation(candidates, signs)
vols = returns.std()
exposure = (signs * vols).to_numpy()


def portfolio_sd(matrix: pd.DataFrame) -> float:
    """Daily standard deviation (percent) of unit positions under a correlation matrix."""
    values = matrix.loc[returns.columns, returns.columns].to_numpy()
    return float(np.sqrt(exposure @ values @ exposure))


choice = conservative.info["choice"].to_numpy()[np.triu_indices(returns.shape[1], 1)]
risk = pd.DataFrame(
    {
        "portfolio sd (%)": {
            name: portfolio_sd(est.matrix)
            for name, est in {**candidates, "conservative": conservative}.items()
        },
        "pairs picked": {
            name: int((choice == name).sum()) for name in [*candidates, "conservative"]
        },
    }
)
risk.loc["conservative", "pairs picked"] = len(choice)
show_table(
    risk,
    "Daily standard deviation of the long/short portfolio (unit positions, sample "
    "volatilities) under each correlation matrix, and how many pairs the conservative matrix "
    "took from each candidate. "
    + (
        "The pair-by-pair worst was not a valid correlation matrix and was repaired to the "
        "nearest one."
        if conservative.repaired
        else "The pair-by-pair worst is a valid correlation matrix: no repair was needed."
    ),
    precision=3,
    label="st-conservative",
)

# %% [markdown]
# ## Tail dependence: the copula regime for offsets
#
# A Gaussian DCC has no tail dependence at any correlation below one: in its limit a crash of
# one leg says nothing about the other. A Student-t copula with DCC dynamics, fitted to the
# ranks of the DCC's standardized residuals (so that the GARCH margins do not enter),
# estimates the correlation path together with the degrees of freedom nu and gives each pair's
# tail-dependence coefficient lambda, the limiting chance that one leg follows the other into
# a crash. The calibration can add this as an offset regime (`offsets.copula`, off by
# default): per pair the quantile of the copula correlation on the side that hurts the hedge,
# for a long/short pair the lower one. [Table](#tab-st-copula) sets it, for a long/short hedge
# of each pair of [Figure](#fig-st-paths), beside the DCC's lower 5% quantile over the sample
# (the statistic of the calibration's DCC regime, which takes it over its last `dcc_window`
# days) with the equal-risk credit each supports.

# %%
copula = CopulaDCC(copula="t", transform="empirical").fit(univariate=dcc.univariate)
hedges = [OffsetPair(a, b) for a, b in pairs]
_, tail = copula_regime(copula, hedges, 0.05)
dcc_q05 = stress.dcc_correlation(path, level=0.90).band.lower
tail["rho_dcc"] = [float(dcc_q05.loc[p.first, p.second]) for p in hedges]
tail["credit_dcc"] = hedge_credit(tail["rho_dcc"].to_numpy())
tail["credit_copula"] = hedge_credit(tail["rho"].to_numpy())
show_table(
    tail[
        [
            "rho_dcc",
            "rho",
            "rho_median",
            "tail_dependence",
            "tail_dependence_median",
            "credit_dcc",
            "credit_copula",
        ]
    ].rename(
        columns={
            "rho_dcc": "DCC 5%",
            "rho": "copula 5%",
            "rho_median": "copula median",
            "tail_dependence": "lambda at 5%",
            "tail_dependence_median": "lambda at median",
            "credit_dcc": "credit DCC 5%",
            "credit_copula": "credit copula 5%",
        }
    ),
    f"Long/short hedges of the pairs of the DCC path figure: lower 5% quantiles over the sample "
    f"of the DCC and of the t-copula DCC correlation (nu = {copula.nu:.1f}), the copula's "
    "median, the tail dependence at the quantile and at the median, and the equal-risk credit "
    "(uncapped) at each quantile.",
    precision=3,
    label="st-copula",
)
lower = tail["credit_copula"] < tail["credit_dcc"]
show_text(
    f"The t copula has nu = {copula.nu:.1f}. At its 5% correlation the pairs' tail dependence "
    f"runs from {tail['tail_dependence'].min():.2f} to {tail['tail_dependence'].max():.2f} "
    f"(from {tail['tail_dependence_median'].min():.2f} to "
    f"{tail['tail_dependence_median'].max():.2f} at the median); the copula regime gives the "
    f"lower credit, and would bind against the DCC regime, for {int(lower.sum())} of "
    f"{len(tail)} pairs ([Table](#tab-st-copula))."
)

# %%
record("data_scope", {"price panel": data_scope(prices, source=str(source), source_file=data_path)})
record(
    "stressed_correlations",
    {
        "source": str(source),
        "assets": ", ".join(map(str, returns.columns)),
        "first date": f"{returns.index[0]:%Y-%m-%d}",
        "last date": f"{returns.index[-1]:%Y-%m-%d}",
        "named windows": ", ".join(w.name for w in named),
        "stress days": int(in_stress.sum()),
        "mean correlation calm": round(float(calm.summary()["mean_correlation"]), 6),
        "mean correlation stress": round(float(stressed.summary()["mean_correlation"]), 6),
        "pairs breaking": int(len(breaks)),
        "Jennrich p-value": float(stability.jennrich.pvalue),
        "conservative repaired": bool(conservative.repaired),
        "copula nu": round(float(copula.nu), 6),
    },
)

# %% [markdown]
# ## Conclusion
#
# The tables above give, for this panel, how far correlations move between calm and stress,
# whether the move exceeds what higher volatility alone implies, and which pairs lose the
# offset they support. Margin calibration should use stressed rather than calm correlations
# for offsets (at least the EMIR blend shown), and the direction-aware conservative matrix for
# hedged books: it is never below any candidate for the portfolio it was built for (before the
# PSD repair, whose size is reported). Exceedance correlations above the Gaussian benchmark
# in the lower tail mean that a normal model with the same correlation understates joint
# crashes, which supports filtered historical simulation over parametric aggregation.
#
# ## Provenance
#
# [Table](#tab-st-provenance) identifies the input, the code and the packages of this study.

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
            "asset_class": asset_class,
            "window_length": window_length,
            "n_detected": n_detected,
            "break_threshold": break_threshold,
            "n_boot": n_boot,
        },
    ),
    "Provenance of this study: input, data hash, parameters and package versions.",
    label="st-provenance",
)
