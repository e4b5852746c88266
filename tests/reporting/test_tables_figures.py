import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from research.reporting import Table, show_figure


def test_table_renders_a_numbered_latex_table_with_escaped_labels():
    frame = pd.DataFrame({"vol_%": [1.23456, 2.0]}, index=["BTC_USD", "ETH&CO"])
    latex = Table(frame, "Risk weights (%) by asset_class", precision=2)._repr_latex_()
    assert latex.startswith("\\begin{table}")
    assert "\\caption{Risk weights (\\%) by asset\\_class}" in latex
    assert "BTC\\_USD" in latex and "ETH\\&CO" in latex and "vol\\_\\%" in latex
    assert "1.23" in latex and "1.2346" not in latex
    assert "\\toprule" in latex


def test_table_html_carries_the_caption_and_formatters():
    frame = pd.DataFrame({"share": [0.1234]}, index=["a"])
    html = Table(frame, "Shares", formatters={"share": "{:.1%}"})._repr_html_()
    assert "Shares" in html and "12.3%" in html


def test_table_requires_a_caption():
    with pytest.raises(ValueError, match="caption"):
        Table(pd.DataFrame({"a": [1]}), " ")


def test_series_become_one_column_tables():
    table = Table(pd.Series([1.0, 2.0], index=["x", "y"], name="value"), "A series")
    assert list(table.frame.columns) == ["value"]


def test_show_figure_requires_a_caption_and_closes_the_figure():
    fig, ax = plt.subplots()
    ax.plot(np.arange(3))
    with pytest.raises(ValueError, match="caption"):
        show_figure(fig, "")
    show_figure(fig, "A line.")
    assert not plt.fignum_exists(fig.number)


def test_long_text_columns_wrap_and_tables_stay_in_place():
    frame = pd.DataFrame(
        {"credit": [0.4, 0.0], "reason": ["", "correlation falls below 0.3 in stress " * 2]}
    )
    latex = Table(frame, "Credits")._repr_latex_()
    assert "\\begin{table}[H]" in latex
    assert "{lrp{0.45\\linewidth}}" in latex


def test_midnight_datetime_columns_print_as_dates():
    frame = pd.DataFrame({"first": pd.to_datetime(["2020-01-02", "2021-03-04"])})
    assert "2020-01-02" in Table(frame, "Dates")._repr_html_()
    assert "00:00:00" not in Table(frame, "Dates")._repr_latex_()


def test_unbreakable_long_text_such_as_hashes_is_not_wrapped():
    frame = pd.DataFrame({"value": ["a" * 64, "x"]}, index=["data SHA-256", "seed"])
    assert "p{" not in Table(frame, "Provenance")._repr_latex_()
