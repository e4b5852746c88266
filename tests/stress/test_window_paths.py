"""Paths through stress windows: the inside/outside contrast by hand, and its figure."""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from research.errors import DataError, InsufficientDataError, SpecificationError
from research.stress import StressWindow
from research.stress.paths import window_contrast
from research.stress.plots import plot_window_paths

DATES = pd.date_range("2020-01-01", periods=10)
FIRST = StressWindow("first", "2020-01-03", "2020-01-04")
SECOND = StressWindow("second", "2020-01-04", "2020-01-06")  # overlaps FIRST on the 4th
LATER = StressWindow("later", "2021-01-01", "2021-01-31")  # no date of the paths


def test_contrast_by_hand() -> None:
    values = np.arange(10.0)
    paths = pd.DataFrame({"x": values, "y": values**2}, index=DATES)
    table = window_contrast(paths, [FIRST, SECOND, LATER])
    inside = np.array([2, 3, 4, 5])  # the 3rd to the 6th, the 4th once
    outside = np.setdiff1d(np.arange(10), inside)
    assert list(table.index) == ["x", "y"]
    assert (table["days inside"] == 4).all()
    for column, f in (("x", lambda v: v), ("y", lambda v: v**2)):
        row = table.loc[column]
        assert row["mean inside"] == pytest.approx(f(inside.astype(float)).mean())
        assert row["mean outside"] == pytest.approx(f(outside.astype(float)).mean())
        assert row["inside - outside"] == pytest.approx(row["mean inside"] - row["mean outside"])
        assert row["mean first"] == pytest.approx(f(np.array([2.0, 3.0])).mean())
        assert row["mean second"] == pytest.approx(f(np.array([3.0, 4.0, 5.0])).mean())
        assert np.isnan(row["mean later"])  # the missed window stays visible


def test_a_series_is_one_path_named_by_its_name() -> None:
    table = window_contrast(pd.Series(np.ones(10), DATES, name="rho"), [FIRST])
    assert list(table.index) == ["rho"]
    assert table.loc["rho", "inside - outside"] == 0.0


def test_contrast_refuses_what_it_cannot_contrast() -> None:
    path = pd.Series(np.arange(10.0), DATES, name="p")
    with pytest.raises(InsufficientDataError, match="at least one"):
        window_contrast(path, [])
    with pytest.raises(InsufficientDataError, match="later"):
        window_contrast(path, [LATER])
    with pytest.raises(InsufficientDataError, match="every date"):
        window_contrast(path, [StressWindow("all", "2019-12-01", "2020-02-01")])
    with pytest.raises(DataError, match="missing"):
        window_contrast(path.where(path != 3.0), [FIRST])
    with pytest.raises(DataError, match="date-indexed"):
        window_contrast(path.reset_index(drop=True), [FIRST])


def test_window_paths_figure() -> None:
    paths = pd.DataFrame({"DCC": np.linspace(0, 1, 10), "t": np.linspace(1, 0, 10)}, DATES)
    fig = plot_window_paths(
        {"pair": paths, "index": paths["DCC"].rename("DECO")},
        [FIRST, LATER],
        ylabel="correlation",
        ylim=(-1.0, 1.0),
    )
    top, bottom = fig.axes
    assert [line.get_label() for line in top.get_lines()] == ["DCC", "t"]
    assert [line.get_label() for line in bottom.get_lines()] == ["DECO"]
    assert len(top.patches) == 1  # FIRST shaded, LATER (outside the dates) not
    assert top.get_xlim() == pytest.approx(tuple(mdates.date2num([DATES[0], DATES[-1]])))
    assert bottom.get_ylim() == (-1.0, 1.0)
    plt.close(fig)
    later = pd.Series(1.0, pd.date_range("2021-01-10", periods=5), name="later")
    fig = plot_window_paths(
        {"early": paths, "late": later}, {"early": [SECOND], "late": [FIRST, LATER]}, ylabel="x"
    )
    early, late = fig.axes  # each panel on its own dates, with its own windows
    assert len(early.patches) == 1 and len(late.patches) == 1
    assert late.get_xlim() == pytest.approx(tuple(mdates.date2num(later.index[[0, -1]])))
    plt.close(fig)
    with pytest.raises(SpecificationError, match="not panels"):
        plot_window_paths({"early": paths}, {"elsewhere": [FIRST]}, ylabel="x")
    with pytest.raises(SpecificationError, match="at least one panel"):
        plot_window_paths({}, ylabel="x")
    with pytest.raises(SpecificationError, match="not indexed by dates"):
        plot_window_paths({"bad": paths.reset_index(drop=True)}, ylabel="x")
