"""Tables and figures of the DCC estimation study (model comparison, correlation paths, fans)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from research.correlation.forecast import DCCForecast
from research.correlation.simulate import DCCSimulation
from research.errors import SpecificationError

__all__ = [
    "forecast_comparison",
    "plot_correlation_fan",
    "plot_pair_correlations",
    "plot_portfolio_fan",
]


def plot_pair_correlations(fits: Mapping[str, Any], pairs: Iterable[tuple[str, str]]) -> plt.Figure:
    """Conditional correlation paths of several models, one panel per asset pair.

    Parameters
    ----------
    fits : mapping of label -> DCCResult
        Models to overlay (CCC shows as a flat line).
    pairs : iterable of (asset, asset)
        Pairs, one panel each.

    Returns
    -------
    matplotlib.figure.Figure
    """
    pairs = list(pairs)
    if not pairs:
        raise SpecificationError("give at least one asset pair")
    fig, axes = plt.subplots(len(pairs), 1, figsize=(7.5, 2.4 * len(pairs)), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, (first, second) in zip(axes, pairs, strict=True):
        for label, res in fits.items():
            if first not in res.assets or second not in res.assets:
                raise SpecificationError(f"pair ({first!r}, {second!r}) not in {res.assets}")
            series = res.correlation_pair(first, second)
            ax.plot(series.index, series.to_numpy(), lw=0.8, label=label)
        ax.set_title(f"{first} / {second}", loc="left", fontsize=10)
        ax.set_ylabel("correlation")
    axes[0].legend(loc="lower left", fontsize=8, frameon=False, ncol=len(fits))
    fig.tight_layout()
    return fig


def _fan(ax: plt.Axes, x: np.ndarray, quantiles: pd.DataFrame, color: str) -> None:
    levels = sorted(float(c) for c in quantiles.columns)
    pairs = [(lo, hi) for lo, hi in zip(levels, levels[::-1], strict=True) if lo < hi]
    for k, (lo, hi) in enumerate(pairs):
        ax.fill_between(
            x,
            quantiles[lo].to_numpy(),
            quantiles[hi].to_numpy(),
            color=color,
            alpha=0.15 + 0.15 * k,
            lw=0,
            label=f"{lo:.0%}-{hi:.0%}",
        )
    if 0.5 in quantiles.columns:
        ax.plot(x, quantiles[0.5].to_numpy(), color=color, lw=1.2, label="median")


def plot_correlation_fan(
    simulation: DCCSimulation,
    first: str,
    second: str,
    history: pd.Series | None = None,
    forecast: DCCForecast | None = None,
    levels: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
) -> plt.Figure:
    """Fan chart of one pair's simulated correlation over the horizon.

    Parameters
    ----------
    simulation : DCCSimulation
        Simulated paths with stored correlations.
    first, second : str
        The pair.
    history : pandas.Series, optional
        In-sample correlation path of the pair; its last 60 values are drawn before the fan.
    forecast : DCCForecast, optional
        Analytic forecast (Engle-Sheppard) drawn as a dashed line.
    levels : sequence of float
        Quantile levels, symmetric around 0.5.

    Returns
    -------
    matplotlib.figure.Figure
    """
    quantiles = simulation.correlation_quantiles(first, second, levels)
    steps = np.arange(1, simulation.horizon + 1)
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    color = plt.rcParams["axes.prop_cycle"].by_key()["color"][0]
    if history is not None:
        tail = history.iloc[-60:]
        ax.plot(
            np.arange(-len(tail) + 1, 1), tail.to_numpy(), color="grey", lw=0.9, label="in sample"
        )
    _fan(ax, steps, quantiles, color)
    if forecast is not None:
        i, j = forecast.assets.index(first), forecast.assets.index(second)
        path = [forecast.correlation_matrix(k).to_numpy()[i, j] for k in steps]
        ax.plot(steps, path, color="black", ls="--", lw=1.0, label="Engle-Sheppard")
    ax.axvline(0.5, color="grey", lw=0.6)
    ax.set_xlabel("days ahead")
    ax.set_ylabel(f"correlation {first} / {second}")
    ax.legend(loc="lower left", fontsize=8, frameon=False, ncol=3)
    fig.tight_layout()
    return fig


def plot_portfolio_fan(
    simulation: DCCSimulation,
    weights: Mapping[str, float] | Sequence[float],
    levels: Sequence[float] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99),
) -> plt.Figure:
    """Fan chart of a fixed-weight portfolio's cumulative simulated return.

    Parameters
    ----------
    simulation : DCCSimulation
        Simulated paths.
    weights : mapping asset -> weight, or sequence in asset order
        Portfolio weights.
    levels : sequence of float
        Quantile levels, symmetric around 0.5.

    Returns
    -------
    matplotlib.figure.Figure
    """
    cumulative = simulation.portfolio_returns(weights)
    quantiles = cumulative.quantile(list(levels)).T
    quantiles.columns = [float(c) for c in quantiles.columns]
    steps = np.arange(1, simulation.horizon + 1)
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    color = plt.rcParams["axes.prop_cycle"].by_key()["color"][1]
    _fan(
        ax,
        np.concatenate([[0], steps]),
        pd.concat([pd.DataFrame(0.0, index=["h.0"], columns=quantiles.columns), quantiles]),
        color,
    )
    ax.axhline(0.0, color="grey", lw=0.6)
    ax.set_xlabel("days ahead")
    ax.set_ylabel("cumulative log return (%)")
    ax.legend(loc="lower left", fontsize=8, frameon=False, ncol=4)
    fig.tight_layout()
    return fig


def forecast_comparison(
    analytic: DCCForecast, simulated: DCCForecast, pairs: Iterable[tuple[str, str]] | None = None
) -> pd.DataFrame:
    """Analytic (Engle-Sheppard) against simulated mean correlation forecasts, per horizon.

    Parameters
    ----------
    analytic, simulated : DCCForecast
        The same model forecast by ``method="analytic"`` and ``method="simulation"``.
    pairs : iterable of (asset, asset), optional
        Pairs to report; all pairs by default.

    Returns
    -------
    pandas.DataFrame
        One row per horizon, indexed by the number of periods ahead (1, 2, ...), with
        ``pair analytic`` and ``pair simulated`` columns and the largest absolute difference
        over all pairs.
    """
    assets = analytic.assets
    pairs = list(pairs) if pairs is not None else list(combinations(assets, 2))
    out = {}
    for step in range(1, analytic.horizon + 1):
        ra = analytic.correlation_matrix(step).to_numpy()
        rs = simulated.correlation_matrix(step).to_numpy()
        row = {}
        for first, second in pairs:
            i, j = assets.index(first), assets.index(second)
            row[f"{first}/{second} analytic"] = ra[i, j]
            row[f"{first}/{second} simulated"] = rs[i, j]
        iu = np.triu_indices(len(assets), 1)
        row["max |difference|"] = float(np.max(np.abs(ra[iu] - rs[iu])))
        out[step] = row
    table = pd.DataFrame.from_dict(out, orient="index")
    table.index.name = "periods ahead"
    return table
