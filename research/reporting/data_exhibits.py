"""Tables and figures of the data-quality study (prices, returns, gaps, tails, volatility)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from scipy import stats

from research.data import periods_per_year

__all__ = [
    "return_summary",
    "plot_prices",
    "plot_missing",
    "plot_return_distribution",
    "plot_rolling_volatility",
]


def return_summary(returns: pd.DataFrame) -> pd.DataFrame:
    """Per-asset return statistics with annualisation from the sampling frequency.

    Parameters
    ----------
    returns : pandas.DataFrame
        Returns in percent (dates x assets).

    Returns
    -------
    pandas.DataFrame
        One row per asset: observations, annualised mean and volatility (%),
        skewness, excess kurtosis, worst and best return (%), Jarque-Bera p-value.
    """
    scale = periods_per_year(returns.index)
    rows = {}
    for asset, series in returns.items():
        values = series.dropna().to_numpy()
        rows[asset] = {
            "obs": values.size,
            "mean p.a. %": values.mean() * scale,
            "vol p.a. %": values.std(ddof=1) * np.sqrt(scale),
            "skew": stats.skew(values),
            "excess kurt": stats.kurtosis(values),
            "worst %": values.min(),
            "best %": values.max(),
            "JB p-value": stats.jarque_bera(values).pvalue,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("asset")


def plot_prices(prices: pd.DataFrame) -> plt.Figure:
    """Prices rebased to 100 at each asset's first observation, log scale."""
    rebased = prices.apply(lambda s: 100 * s / s.dropna().iloc[0])
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    rebased.plot(ax=ax, lw=0.8, legend=False)
    ax.set_yscale("log")
    ax.set_ylabel("rebased to 100 (log scale)")
    ax.set_xlabel("")
    _legend_outside(ax, len(prices.columns))
    return fig


def plot_missing(prices: pd.DataFrame) -> plt.Figure:
    """Heatmap of missing prices by asset and month (share of the month's rows missing)."""
    missing = prices.isna().groupby(prices.index.to_period("M")).mean().T
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(prices.columns) + 1.6))
    sns.heatmap(
        missing, ax=ax, cmap="rocket_r", vmin=0, vmax=1, cbar_kws={"label": "share missing"}
    )
    step = max(1, missing.shape[1] // 12)
    ax.set_xticks(np.arange(0, missing.shape[1], step) + 0.5)
    ax.set_xticklabels([str(p) for p in missing.columns[::step]], rotation=45, ha="right")
    ax.set_xlabel("")
    ax.set_ylabel("")
    return fig


def plot_return_distribution(returns: pd.DataFrame) -> plt.Figure:
    """Standardised returns of all assets against the normal density, with a tail QQ plot."""
    standardized = ((returns - returns.mean()) / returns.std()).stack().dropna().to_numpy()
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.5, 3.2))
    grid = np.linspace(-6, 6, 400)
    left.hist(
        standardized, bins=np.linspace(-6, 6, 121), density=True, alpha=0.6, label="pooled data"
    )
    left.plot(grid, stats.norm.pdf(grid), color="black", lw=1.0, label="N(0,1)")
    left.set_yscale("log")
    left.set_ylim(1e-5, 1)
    left.set_xlabel("standardised return")
    left.set_ylabel("density (log scale)")
    left.legend(frameon=False)
    probabilities = (np.arange(1, standardized.size + 1) - 0.5) / standardized.size
    right.scatter(stats.norm.ppf(probabilities), np.sort(standardized), s=3, alpha=0.5)
    lim = max(abs(standardized).max(), 4)
    right.plot([-lim, lim], [-lim, lim], color="black", lw=0.8)
    right.set_xlabel("normal quantile")
    right.set_ylabel("empirical quantile")
    return fig


def plot_rolling_volatility(returns: pd.DataFrame, window: int = 63) -> plt.Figure:
    """Annualised rolling volatility (%) over ``window`` observations."""
    scale = np.sqrt(periods_per_year(returns.index))
    vol = returns.rolling(window, min_periods=window // 2).std() * scale
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    vol.plot(ax=ax, lw=0.8, legend=False)
    ax.set_ylabel(f"{window}-period volatility, % p.a.")
    ax.set_xlabel("")
    _legend_outside(ax, len(returns.columns))
    return fig


def _legend_outside(ax: plt.Axes, n: int) -> None:
    ax.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=7, ncol=1 + n // 12
    )
