"""Figures of the calibration: the evidence behind each proposed number.

* :func:`plot_offset_correlations`: per offset pair, the DCC conditional correlation whose lower
  quantile sets the credit, stress windows shaded, the quantile and the no-credit threshold
  marked;
* :func:`plot_credits_by_regime`: each pair's credit under every correlation regime and the
  final credit after the cap and the break haircut, as bars;
* :func:`plot_sweep`: the sensitivity sweep as small multiples, one panel per swept setting
  and measure, with the target line.

Margin against realised loss of named books is the backtest's own figure
(:meth:`research.backtest.BacktestResult.plot_margins`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from research.data.timeindex import as_index_timestamp
from research.errors import SpecificationError

__all__ = [
    "regime_label",
    "plot_credits_by_regime",
    "plot_offset_correlations",
    "plot_sweep",
]

#: Settings a sensitivity sweep varies, in the order their panels are drawn.
SWEEP_SETTINGS = ("level", "mpor", "lookback", "ewma_lambda", "stress_weight", "offset_cap")
_SETTING_LABELS = {
    "level": "confidence level",
    "mpor": "MPOR ({unit})",
    "lookback": "lookback ({unit})",
    "ewma_lambda": "EWMA decay",
    "stress_weight": "stress weight",
    "offset_cap": "offset cap",
}
_FRACTION_SETTINGS = frozenset({"level", "stress_weight", "offset_cap"})
_STRESS_COLOUR = "#d9d9d9"
_REGIMES = {"recent": "recent sample", "stressed": "stress windows"}
_QUANTILE_REGIME = re.compile(r"^(dcc|copula)_q(\d+)$")
_QUANTILE_MODELS = {"dcc": "DCC", "copula": "t-copula"}
_REGIME_IN_TEXT = re.compile(r"\bregime '?(recent|stressed|(?:dcc|copula)_q\d+)'?")


def regime_label(name: str) -> str:
    """Name a correlation regime of the offset calibration as a reader would.

    Parameters
    ----------
    name : str
        ``"recent"``, ``"stressed"``, ``"dcc_qNN"`` (the NN% lower quantile of the DCC path)
        or ``"copula_qNN"`` (the NN% quantile of a t-copula DCC path on the hedge's side,
        :func:`research.calibration.copula_regime`).

    Returns
    -------
    str

    Examples
    --------
    >>> regime_label("dcc_q05"), regime_label("copula_q05"), regime_label("stressed")
    ('DCC 5% quantile', 't-copula 5% quantile', 'stress windows')
    """
    match = _QUANTILE_REGIME.match(name)
    if match:
        return f"{_QUANTILE_MODELS[match.group(1)]} {int(match.group(2))}% quantile"
    return _REGIMES.get(name, name.replace("_", " "))


def credit_reason(reason: str) -> str:
    """Write the reason a credit was refused with its regime as the exhibits name it.

    Parameters
    ----------
    reason : str
        The calibration's reason (:attr:`research.calibration.OffsetCredits.table`), which
        names a regime by its key (``regime 'dcc_q05'``).

    Returns
    -------
    str

    Examples
    --------
    >>> credit_reason("correlation too weak in regime 'dcc_q05' (rho=0.298)")
    'correlation too weak in the DCC 5% quantile regime (rho=0.298)'
    """
    return _REGIME_IN_TEXT.sub(lambda m: f"the {regime_label(m.group(1))} regime", str(reason))


def plot_offset_correlations(
    dcc: Any,
    offsets: pd.DataFrame,
    quantiles: pd.DataFrame,
    stress_windows: Mapping[str, tuple[Any, Any]],
    *,
    quantile_level: float,
    threshold: float | None = None,
) -> plt.Figure:
    """Conditional correlation of every offset pair with the quantile that sets its credit.

    Parameters
    ----------
    dcc : DCCResult
        The DCC fit behind the quantile regime (its ``correlation_pair`` gives each path).
    offsets : pandas.DataFrame
        One row per pair with ``pair``, ``first``, ``second``, ``credit`` and
        ``binding_regime`` (:meth:`research.calibration.OffsetCredits.tidy`).
    quantiles : pandas.DataFrame
        The quantile regime's correlation matrix (asset x asset), e.g.
        ``result.correlations["dcc_q05"]``.
    stress_windows : mapping of name -> (start, end)
        Shaded on every panel where they overlap the path.
    quantile_level : float
        The quantile's probability (0.05 for the 5% lower quantile), for the legend.
    threshold : float, optional
        Correlation below which a pair gets no credit, drawn as a dotted line.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    SpecificationError
        No pairs, or a pair the fit or the quantile matrix does not hold.
    """
    if offsets.empty:
        raise SpecificationError("give at least one offset pair")
    n = len(offsets)
    fig, axes = plt.subplots(n, 1, figsize=(7.5, 2.3 * n + 0.4), sharex=True, squeeze=False)
    for ax, row in zip(axes[:, 0], offsets.itertuples(index=False), strict=True):
        first, second = row.first, row.second
        if first not in dcc.assets or second not in dcc.assets:
            raise SpecificationError(f"pair {row.pair} is not in the DCC fit ({dcc.assets})")
        if first not in quantiles.index or second not in quantiles.columns:
            raise SpecificationError(f"pair {row.pair} is not in the quantile matrix")
        path = dcc.correlation_pair(first, second)
        _shade(ax, stress_windows, path.index)
        ax.plot(path.index, path.to_numpy(), lw=0.8, color="C0", label="DCC correlation")
        value = float(quantiles.loc[first, second])
        ax.axhline(
            value,
            color="C3",
            ls="--",
            lw=1.0,
            label=f"{quantile_level:.0%} quantile = {value:.2f}",
        )
        if threshold is not None:
            ax.axhline(
                threshold, color="black", ls=":", lw=0.9, label=f"no credit below {threshold:g}"
            )
        binding = regime_label(str(row.binding_regime))
        ax.set_title(
            f"{first} / {second}: credit {row.credit:.1%} (binding regime: {binding})",
            loc="left",
            fontsize=9,
        )
        ax.set_ylabel("correlation")
        ax.legend(loc="lower left", bbox_to_anchor=(1.0, 0.0), fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def plot_credits_by_regime(
    offsets: pd.DataFrame,
    regimes: Mapping[str, str],
    *,
    cap: float | None = None,
) -> plt.Figure:
    """Each pair's credit under every correlation regime and its final credit, as bars.

    Parameters
    ----------
    offsets : pandas.DataFrame
        One row per pair with ``pair``, ``credit`` and the regime columns.
    regimes : mapping of column -> label
        Regime credit columns (uncapped) and their legend labels, e.g.
        ``{"credit_recent": "recent sample", "credit_dcc_q05": "DCC 5% quantile"}``.
    cap : float, optional
        The offset cap (share of the reduction kept), named in the final bar's label.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    SpecificationError
        No pairs, or a regime column the table does not have.
    """
    if offsets.empty:
        raise SpecificationError("give at least one offset pair")
    missing = [c for c in [*regimes, "pair", "credit"] if c not in offsets.columns]
    if missing:
        raise SpecificationError(f"offset table lacks columns {missing}")
    labels = list(offsets["pair"].astype(str).str.replace("/", " / "))
    bars = {label: offsets[column].to_numpy(dtype=float) for column, label in regimes.items()}
    final = "final credit" + (f" (cap {cap:.0%}, haircut)" if cap is not None else "")
    bars[final] = offsets["credit"].to_numpy(dtype=float)
    height = 0.8 / len(bars)
    y = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.5 * len(labels) * len(bars) ** 0.5))
    for k, (label, values) in enumerate(bars.items()):
        colour = "black" if label == final else f"C{k}"
        offsets_y = y + (k - (len(bars) - 1) / 2) * height
        ax.barh(offsets_y, values, height, label=label, color=colour)
    for position, value in zip(offsets_y, bars[final], strict=True):
        text = f" {value:.1%}" if value > 0 else " no credit"
        ax.text(max(value, 0.0), position, text, va="center", fontsize=7)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("offset credit (% of the sum of standalone margins)")
    ax.axvline(0.0, color="grey", lw=0.6)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_sweep(
    summary: pd.DataFrame,
    measures: Mapping[str, str],
    *,
    target: str = "target",
    period_unit: str = "days",
) -> plt.Figure:
    """Sensitivity sweep as small multiples: a measure against each swept setting.

    Each panel averages the measure over the other settings of the sweep at every value of one
    setting; the dashed red line is the target at that value (the coverage target moves with
    the confidence level). A setting the sweep leaves unused at some points (NaN, e.g. no
    stress weight) shows as ``none``.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per sweep point (:meth:`research.backtest.SweepResult.summary`): the settings
        of :data:`SWEEP_SETTINGS`, the measures and the target, all fractions.
    measures : mapping of column -> label
        Measures to draw, one row of panels each (coverages against the target).
    target : str
        Column of the target (drawn on every panel).
    period_unit : str
        What one period of the data is, for the MPOR and lookback axes (``"days"`` for daily
        data, ``"hours"`` for hourly bars).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    SpecificationError
        A measure or the target is missing, or no setting varies.
    """
    missing = [c for c in [*measures, target] if c not in summary.columns]
    if missing:
        raise SpecificationError(f"sweep summary lacks columns {missing}")
    settings = [
        s for s in SWEEP_SETTINGS if s in summary.columns and summary[s].nunique(dropna=False) > 1
    ]
    if not settings:
        raise SpecificationError("no setting varies in the sweep: nothing to draw")
    fig, axes = plt.subplots(
        len(measures),
        len(settings),
        figsize=(7.5, 2.3 * len(measures) + 0.5),
        sharey="row",
        squeeze=False,
    )
    for i, (measure, label) in enumerate(measures.items()):
        for j, setting in enumerate(settings):
            ax = axes[i, j]
            keys = summary[setting].astype(object).where(summary[setting].notna(), "none")
            means = summary.groupby(keys, sort=False)[[measure, target]].mean()
            order = sorted(means.index, key=lambda v: (isinstance(v, str), v))
            means = means.loc[order]
            x = np.arange(len(means))
            ax.plot(x, means[measure].to_numpy(), marker="o", lw=1.0, color="C0")
            ax.plot(x, means[target].to_numpy(), color="C3", ls="--", lw=1.0, label="target")
            ax.set_xticks(x, [_setting_value(setting, v) for v in means.index], fontsize=8)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
            if i == len(measures) - 1:
                ax.set_xlabel(_SETTING_LABELS[setting].format(unit=period_unit), fontsize=8)
            if j == 0:
                ax.set_ylabel(label, fontsize=8)
    axes[0, 0].legend(loc="lower left", fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def _setting_value(setting: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if setting in _FRACTION_SETTINGS:
        return f"{value:.1%}" if setting == "level" else f"{value:.0%}"
    return f"{value:g}"


def _shade(ax: plt.Axes, windows: Mapping[str, tuple[Any, Any]], dates: pd.DatetimeIndex) -> None:
    labelled = False
    for start, end in windows.values():  # the package's time-zone rule: naive dates on UTC data
        start = as_index_timestamp(start, dates, what="window start")
        end = as_index_timestamp(end, dates, end=True, what="window end")
        if end < dates[0] or start > dates[-1]:
            continue
        ax.axvspan(
            max(start, dates[0]),
            min(end, dates[-1]),
            color=_STRESS_COLOUR,
            lw=0,
            label=None if labelled else "stress window",
        )
        labelled = True
