"""Calibration figures: what each panel draws, its labels, units and target lines."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from research.errors import SpecificationError
from research.reporting.calibration_exhibits import (
    plot_credits_by_regime,
    plot_offset_correlations,
    plot_sweep,
)

DATES = pd.bdate_range("2020-01-01", periods=300)


class FakeDCC:
    """The two members of a DCC fit the figure reads."""

    assets = ("CVX", "XOM", "JNJ")

    def correlation_pair(self, first, second):
        level = 0.7 if {first, second} == {"CVX", "XOM"} else 0.2
        wave = 0.1 * np.sin(np.arange(len(DATES)) / 20)
        return pd.Series(level + wave, index=DATES)


OFFSETS = pd.DataFrame(
    {
        "pair": ["XOM/CVX", "JNJ/XOM"],
        "first": ["XOM", "JNJ"],
        "second": ["CVX", "XOM"],
        "credit_recent": [0.79, 0.36],
        "credit_dcc_q05": [0.62, 0.30],
        "binding_regime": ["dcc_q05", "dcc_q05"],
        "credit": [0.39, 0.0],
    }
)
QUANTILES = pd.DataFrame(
    [[1.0, 0.61, 0.1], [0.61, 1.0, 0.12], [0.1, 0.12, 1.0]],
    index=["CVX", "XOM", "JNJ"],
    columns=["CVX", "XOM", "JNJ"],
)
WINDOWS = {"covid_2020": ("2020-02-20", "2020-04-07"), "gfc_2008": ("2008-09-01", "2008-12-31")}


def line_at(ax, value):
    return [
        line
        for line in ax.get_lines()
        if np.allclose(line.get_ydata(), value) and len(set(line.get_ydata())) == 1
    ]


def test_offset_correlations_mark_the_quantile_shade_stress_and_name_each_pair():
    fig = plot_offset_correlations(
        FakeDCC(), OFFSETS, QUANTILES, WINDOWS, quantile_level=0.05, threshold=0.3
    )
    axes = fig.axes
    assert len(axes) == 2
    first, second = axes
    assert (
        first.get_title(loc="left") == "XOM / CVX: credit 39.0% (binding regime: DCC 5% quantile)"
    )
    assert line_at(first, 0.61) and line_at(second, 0.12) and line_at(first, 0.3)
    labels = first.get_legend_handles_labels()[1]
    assert "5% quantile = 0.61" in labels and "stress window" in labels
    assert "no credit below 0.3" in labels
    assert len(first.patches) == 1  # covid shaded, the 2008 window lies outside the path
    assert all(ax.get_ylabel() == "correlation" for ax in axes)
    plt.close(fig)


def test_offset_correlations_refuse_a_pair_outside_the_fit():
    offsets = OFFSETS.assign(first=["BTC", "JNJ"])
    with pytest.raises(SpecificationError, match="not in the DCC fit"):
        plot_offset_correlations(FakeDCC(), offsets, QUANTILES, WINDOWS, quantile_level=0.05)


def test_credit_bars_show_every_regime_and_the_final_credit():
    regimes = {"credit_recent": "recent sample", "credit_dcc_q05": "DCC 5% quantile"}
    fig = plot_credits_by_regime(OFFSETS, regimes, cap=0.8)
    (ax,) = fig.axes
    widths = sorted(round(p.get_width(), 2) for p in ax.patches)
    assert widths == sorted([0.79, 0.36, 0.62, 0.30, 0.39, 0.0])
    assert ax.get_legend_handles_labels()[1] == [
        "recent sample",
        "DCC 5% quantile",
        "final credit (cap 80%, haircut)",
    ]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["XOM / CVX", "JNJ / XOM"]
    assert "%" in ax.get_xlabel()
    plt.close(fig)
    with pytest.raises(SpecificationError, match="lacks columns"):
        plot_credits_by_regime(OFFSETS, {"credit_stressed": "stress"})


def sweep_summary():
    rows = []
    for mpor in (1, 5):
        for cap in (0.6, 0.8):
            for stress in (np.nan, 0.25):
                rows.append(
                    {
                        "level": 0.99,
                        "mpor": mpor,
                        "stress_weight": stress,
                        "offset_cap": cap,
                        "target": 0.99,
                        "outright_coverage": 0.995 - 0.002 * (mpor == 5),
                        "pair_coverage": 0.99 - 0.01 * cap,
                    }
                )
    return pd.DataFrame(rows)


def test_sweep_small_multiples_one_panel_per_setting_and_measure_with_the_target():
    measures = {"outright_coverage": "outright coverage", "pair_coverage": "pair coverage"}
    fig = plot_sweep(sweep_summary(), measures)
    axes = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_xlabel() for ax in axes[1]] == ["MPOR (days)", "stress weight", "offset cap"]
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["outright coverage", "pair coverage"]
    for ax in axes.ravel():
        assert line_at(ax, 0.99), "every panel draws the target"
    mpor_panel = axes[0, 0].get_lines()[0].get_ydata()
    np.testing.assert_allclose(mpor_panel, [0.995, 0.993])
    assert [t.get_text() for t in axes[1, 1].get_xticklabels()] == ["25%", "none"]
    cap_panel = axes[1, 2].get_lines()[0].get_ydata()
    np.testing.assert_allclose(cap_panel, [0.984, 0.982])
    plt.close(fig)


def test_sweep_refuses_a_sweep_that_varies_nothing():
    flat = sweep_summary().query("mpor == 1 and offset_cap == 0.6 and stress_weight == 0.25")
    with pytest.raises(SpecificationError, match="no setting varies"):
        plot_sweep(flat, {"pair_coverage": "pair coverage"})


def test_offset_correlations_shade_naive_window_dates_on_hourly_utc_paths():
    hours = pd.date_range("2025-10-08", periods=120, freq="h", tz="UTC", unit="us")

    class HourlyDCC(FakeDCC):
        def correlation_pair(self, first, second):
            return pd.Series(0.7, index=hours)

    windows = {"crypto_oct_10_2025_cascade": ("2025-10-10", "2025-10-10")}
    fig = plot_offset_correlations(
        HourlyDCC(), OFFSETS, QUANTILES, windows, quantile_level=0.05, threshold=0.3
    )
    (span,) = fig.axes[0].patches  # the whole UTC day 2025-10-10
    x = span.get_x()
    assert pd.Timestamp(matplotlib.dates.num2date(x)) == pd.Timestamp("2025-10-10", tz="UTC")
    plt.close(fig)
