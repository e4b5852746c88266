"""Figures of the liquidation study (each returns a matplotlib Figure)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from research.liquidation.results import CascadeResult

__all__ = ["plot_amplification", "plot_distribution", "plot_rounds", "plot_timing"]


def plot_rounds(result: CascadeResult, asset: str) -> plt.Figure:
    """Book price after each round of the first sub-step, with units liquidated per round."""
    rounds = result.rounds[result.rounds["substep"] == 0]
    fills = result.book_fills[result.book_fills["substep"] == 0]
    units = fills.groupby("round")["quantity"].sum().reindex(rounds["round"], fill_value=0.0)
    start = result.prices["exogenous"][asset].iloc[0]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9, 3.4))
    ax.step(
        np.r_[0, rounds["round"]], np.r_[start, rounds[f"price_{asset}"]], where="post", marker="o"
    )
    ax.axhline(result.initial_prices[asset], color="grey", lw=0.8, ls=":")
    ax.set(xlabel="round (0 = after the exogenous shock)", ylabel="book price")
    bx.bar(units.index, units.to_numpy())
    bx.set(xlabel="round", ylabel="units liquidated")
    fig.tight_layout()
    return fig


def plot_amplification(curve: pd.DataFrame) -> plt.Figure:
    """Plot the simulated amplification against ``k`` and the closed form ``1/(1-k)``."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.plot(curve.index, curve["amplification"], "o-", label="simulated (batch rounds)")
    ax.plot(curve.index, curve["closed form 1/(1-k)"], "k--", lw=1, label="1 / (1 - k)")
    ax.axvline(1.0, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="k = impact x density of liquidation prices", ylabel="amplification")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_timing(timing: dict[str, pd.DataFrame]) -> plt.Figure:
    """Liquidated notional per bar of each run (billions of USD)."""
    fig, ax = plt.subplots(figsize=(9, 3.4))
    for label, frame in timing.items():
        ax.plot(frame.index, frame["liquidated"] / 1e9, marker=".", label=label)
    ax.set(ylabel="liquidated, USD bn per hour", xlabel="bar (UTC, open time)")
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def plot_distribution(
    frame: pd.DataFrame | Mapping[str, pd.DataFrame], column: str = "bad_debt"
) -> plt.Figure:
    """Histogram of a Monte Carlo metric with its 5%, 50% and 95% quantiles (dashed).

    Parameters
    ----------
    frame : pandas.DataFrame or mapping of name -> DataFrame
        :func:`~research.liquidation.cascade_distribution` output; a mapping draws one panel
        per entry (titled by its name), each on its own scale.
    column : str
        The metric; amounts (any column but ``accounts_liquidated`` and
        ``max_amplification``) are drawn in USD m.

    Returns
    -------
    matplotlib.figure.Figure
    """
    frames = dict(frame) if isinstance(frame, Mapping) else {"": frame}
    money = column not in ("accounts_liquidated", "max_amplification")
    scale = 1e6 if money else 1.0
    fig, axes = plt.subplots(1, len(frames), figsize=(6 if len(frames) == 1 else 9, 3.4))
    for ax, (name, data) in zip(np.atleast_1d(axes), frames.items(), strict=True):
        values = data[column].dropna().to_numpy() / scale
        ax.hist(values, bins=min(40, max(5, len(values) // 4)))
        for q in (0.05, 0.5, 0.95):
            ax.axvline(np.quantile(values, q), color="k", lw=0.8, ls="--")
        unit = ", USD m" if money else ""
        ax.set(xlabel=f"{column.replace('_', ' ')}{unit}", ylabel="paths", title=name)
    fig.tight_layout()
    return fig
