"""Figures of the stressed-correlation study (matplotlib is imported only when plotting)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from research.data import to_decimal
from research.errors import SpecificationError
from research.stress.dcc import path_to_array
from research.stress.result import StressedCorrelation
from research.stress.windows import StressWindow, window_mask

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_correlation_heatmaps",
    "plot_correlation_paths",
    "plot_exceedance_curves",
    "plot_stress_windows",
    "plot_window_paths",
]

_NAMED_COLOR = "tab:red"
_DETECTED_COLOR = "tab:blue"


def _shade(ax: Axes, windows: Iterable[StressWindow], color: str, label: str) -> None:
    """Shade windows on a date axis, labelling the first one for the legend."""
    for k, window in enumerate(windows):
        ax.axvspan(
            window.start, window.end, color=color, alpha=0.18, lw=0, label=label if k == 0 else None
        )


def plot_stress_windows(
    returns: pd.DataFrame,
    named: Sequence[StressWindow] = (),
    detected: Sequence[StressWindow] = (),
) -> Figure:
    """Equal-weight cumulative return with named and detected stress windows shaded.

    Parameters
    ----------
    returns : pandas.DataFrame
        Date x asset log returns in percent (complete rows).
    named : sequence of StressWindow
        Catalog windows (red).
    detected : sequence of StressWindow
        Detected windows (blue).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    index = 100.0 * np.exp(to_decimal(returns.mean(axis=1).cumsum(), "percent"))
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ax.plot(index.index, index.to_numpy(), color="black", lw=0.9, label="equal-weight portfolio")
    _shade(ax, named, _NAMED_COLOR, "named stress window")
    _shade(ax, detected, _DETECTED_COLOR, "detected stress window")
    for rank, window in enumerate(detected):
        ax.annotate(  # one row per rank, so labels of nearby windows do not overlap
            window.name.replace("detected_", "#"),
            (window.start, 0.98 - 0.07 * rank),
            xycoords=("data", "axes fraction"),
            color=_DETECTED_COLOR,
            fontsize=8,
            va="top",
        )
    ax.set_yscale("log")
    ax.set_ylabel("value of 100 invested (log scale)")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_correlation_heatmaps(
    matrices: Mapping[str, StressedCorrelation | pd.DataFrame],
    *,
    difference: tuple[str, str] | None = None,
) -> Figure:
    """Side-by-side correlation heatmaps, optionally with the difference of two of them.

    Parameters
    ----------
    matrices : mapping of title -> StressedCorrelation or DataFrame
        Matrices over the same assets (shown in the first one's order).
    difference : (title_a, title_b), optional
        Add a panel with ``matrices[title_a] - matrices[title_b]``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    SpecificationError
        If ``difference`` names a matrix that is not given.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    frames = {
        title: value.matrix if isinstance(value, StressedCorrelation) else value
        for title, value in matrices.items()
    }
    labels = list(next(iter(frames.values())).columns)
    panels = [
        (title, frame.loc[labels, labels], "vlag", -1.0, 1.0) for title, frame in frames.items()
    ]
    if difference is not None:
        if not set(difference) <= set(frames):
            raise SpecificationError(
                f"difference {difference} names matrices not in {list(frames)}"
            )
        diff = frames[difference[0]].loc[labels, labels] - frames[difference[1]].loc[labels, labels]
        bound = max(float(np.abs(diff.to_numpy()).max()), 1e-6)
        panels.append((f"{difference[0]} - {difference[1]}", diff, "PuOr_r", -bound, bound))
    n_assets = len(labels)
    annotate = n_assets <= 8
    width = min(4.2 * len(panels), 15.0)
    fig, axes = plt.subplots(1, len(panels), figsize=(width, 0.4 * width / len(panels) * 2.2))
    for ax, (title, frame, cmap, low, high) in zip(np.atleast_1d(axes), panels, strict=True):
        mask = np.triu(np.ones((n_assets, n_assets), dtype=bool), 1)
        sns.heatmap(
            frame,
            ax=ax,
            cmap=cmap,
            vmin=low,
            vmax=high,
            center=0.0,
            square=True,
            mask=mask,
            annot=annotate,
            fmt=".2f",
            annot_kws={"fontsize": 7},
            cbar_kws={"shrink": 0.7},
        )
        ax.set_title(title, fontsize=10)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def plot_correlation_paths(
    path: pd.DataFrame,
    pairs: Iterable[tuple[Hashable, Hashable]],
    windows: Sequence[StressWindow] = (),
) -> Figure:
    """Conditional correlation of selected pairs over time, with stress windows shaded.

    Parameters
    ----------
    path : pandas.DataFrame
        ``(date, asset) x asset`` correlation path (``DCCResult.correlation``).
    pairs : iterable of (asset, asset)
        Pairs to draw.
    windows : sequence of StressWindow
        Windows to shade.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    SpecificationError
        If a pair names an asset not in the path.
    """
    import matplotlib.pyplot as plt

    array, dates, assets = path_to_array(path)
    position = {asset: k for k, asset in enumerate(assets)}
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    for a, b in pairs:
        if a not in position or b not in position:
            raise SpecificationError(f"pair ({a!r}, {b!r}) is not in the path's assets {assets}")
        ax.plot(dates, array[:, position[a], position[b]], lw=0.9, label=f"{a} / {b}")
    _shade(ax, windows, _NAMED_COLOR, "stress window")
    ax.set_ylabel("conditional correlation")
    ax.set_ylim(-1.0, 1.0)
    ax.axhline(0.0, color="grey", lw=0.6)
    ax.legend(loc="lower left", fontsize=8, frameon=False, ncol=2)
    fig.tight_layout()
    return fig


def plot_exceedance_curves(curve: pd.DataFrame) -> Figure:
    """Exceedance correlations against the bivariate-normal benchmark, one panel per pair.

    Parameters
    ----------
    curve : pandas.DataFrame
        Output of :func:`~research.stress.exceedance_curve`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    groups = list(curve.groupby(["asset_1", "asset_2"], sort=False))
    n_panels = len(groups)
    fig, axes = plt.subplots(
        1, n_panels, figsize=(min(3.2 * n_panels, 12.0), 3.2), sharey=True, squeeze=False
    )
    for ax, ((a, b), group) in zip(axes[0], groups, strict=True):
        ordered = group.sort_values("signed_threshold")
        for tail in ("lower", "upper"):
            part = ordered.loc[ordered["tail"] == tail]
            ax.plot(
                part["signed_threshold"],
                part["correlation"],
                "o-",
                color="black",
                ms=3,
                lw=1.0,
                label="data" if tail == "lower" else None,
            )
            ax.plot(
                part["signed_threshold"],
                part["gaussian"],
                "--",
                color="tab:red",
                lw=1.0,
                label="bivariate normal" if tail == "lower" else None,
            )
        ax.axvline(0.0, color="grey", lw=0.6)
        ax.set_title(f"{a} / {b}", fontsize=10)
        ax.set_xlabel("threshold (sd); < 0 joint losses")
    axes[0][0].set_ylabel("exceedance correlation")
    axes[0][0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_window_paths(
    panels: Mapping[str, pd.Series | pd.DataFrame],
    windows: Sequence[StressWindow] | Mapping[str, Sequence[StressWindow]] = (),
    *,
    ylabel: str,
    ylim: tuple[float, float] | None = None,
) -> Figure:
    """Date-indexed paths, one panel per entry, with the stress windows shaded.

    Parameters
    ----------
    panels : mapping of title -> Series or DataFrame
        Each entry is one panel (stacked, each on its own date range, so panels of different
        samples can share a figure); every column is a line, labelled by its name.
    windows : sequence of StressWindow, or mapping of title -> sequence of StressWindow
        Windows to shade in every panel, or per panel (a title not in the mapping shades
        none). A panel shades the windows with a date in its range and keeps its range.
    ylabel : str
        Label of every panel's vertical axis.
    ylim : (float, float), optional
        Common vertical range (default: matplotlib's).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    SpecificationError
        No panel, a panel that is not date-indexed, or windows for a title that is not a panel.
    """
    import matplotlib.pyplot as plt

    if isinstance(windows, Mapping) and not set(windows) <= set(panels):
        raise SpecificationError(
            f"windows for {sorted(set(windows) - set(panels))}, which are not panels"
        )
    if not panels:
        raise SpecificationError("plot_window_paths needs at least one panel")
    frames = {}
    for title, value in panels.items():
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        if not isinstance(frame.index, pd.DatetimeIndex):
            raise SpecificationError(f"panel {title!r} is not indexed by dates")
        frames[title] = frame
    fig, axes = plt.subplots(len(frames), 1, figsize=(7.5, 2.3 * len(frames) + 0.4), squeeze=False)
    for ax, (title, frame) in zip(axes[:, 0], frames.items(), strict=True):
        for column in frame.columns:
            ax.plot(frame.index, frame[column].to_numpy(), lw=0.9, label=str(column))
        own = windows.get(title, ()) if isinstance(windows, Mapping) else windows
        shown = [w for w in own if window_mask(frame.index, w).any()]
        _shade(ax, shown, _NAMED_COLOR, "stress window")
        ax.set_xlim(frame.index[0], frame.index[-1])
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel)
        ax.legend(loc="best", fontsize=8, frameon=False, ncol=3)
    fig.tight_layout()
    return fig
