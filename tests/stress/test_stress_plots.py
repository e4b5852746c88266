"""Figures of the stressed-correlation study return matplotlib figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from research.errors import SpecificationError
from research.stress import StressWindow, exceedance_curve, sample_correlation
from research.stress.plots import (
    plot_correlation_heatmaps,
    plot_correlation_paths,
    plot_exceedance_curves,
    plot_stress_windows,
)

# seaborn 0.13 calls a colormap method that matplotlib 3.11 marks for deprecation.
pytestmark = pytest.mark.filterwarnings("ignore:The set_bad function:PendingDeprecationWarning")

STRESS = StressWindow("stress", "2020-02-20", "2020-04-07")


def _path(returns: pd.DataFrame) -> pd.DataFrame:
    dates = returns.index[59::10]
    blocks = [returns.loc[:d].iloc[-60:].corr() for d in dates]
    return pd.concat(blocks, keys=dates, names=["date", "asset"])


def test_plots_return_figures(regimes):
    calm = sample_correlation(regimes, ("2018-06-01", "2019-12-31"))
    stressed = sample_correlation(regimes, STRESS)
    figures = [
        plot_stress_windows(
            regimes, [STRESS], [StressWindow("detected_1", "2020-03-01", "2020-03-20")]
        ),
        plot_correlation_heatmaps(
            {"calm": calm, "stress": stressed}, difference=("stress", "calm")
        ),
        plot_correlation_paths(_path(regimes), [("a", "b"), ("c", "d")], [STRESS]),
        plot_exceedance_curves(exceedance_curve(regimes, (0.0, 0.5), pairs=[("a", "b")])),
    ]
    for figure in figures:
        assert isinstance(figure, plt.Figure) and figure.axes
        plt.close(figure)
    assert len(figures[1].axes) == 6  # three heatmaps and their colour bars


def test_plot_arguments_are_checked(regimes):
    calm = sample_correlation(regimes)
    with pytest.raises(SpecificationError, match="difference"):
        plot_correlation_heatmaps({"calm": calm}, difference=("stress", "calm"))
    with pytest.raises(SpecificationError, match="pair"):
        plot_correlation_paths(_path(regimes), [("a", "zz")])
