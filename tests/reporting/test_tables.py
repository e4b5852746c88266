"""The one number formatter of every report table, and its LaTeX layout (exact strings)."""

import math
import re

import numpy as np
import pandas as pd
import pytest

from research.errors import SpecificationError
from research.reporting import Table
from research.reporting.latex_tables import LatexColumn, choose_layout, escape
from research.reporting.tables import format_frame, readable_label


def cells(frame, **options):
    return format_frame(frame, **options)


def test_p_values_print_three_decimals_below_0001_as_a_bound_and_undefined_as_na():
    frame = pd.DataFrame({"kupiec_pvalue": [4.6519357111690497e-85, 0.0471, 0.5, np.nan]})
    out = cells(frame)
    assert list(out.columns) == ["Kupiec p-value"]
    assert list(out.iloc[:, 0]) == ["<0.001", "0.047", "0.500", "n/a"]


def test_p_values_mixed_with_text_keep_the_text():
    frame = pd.DataFrame({"independence_pvalue": [0.2, "undefined", None]}, dtype=object)
    assert list(cells(frame).iloc[:, 0]) == ["0.200", "undefined", "n/a"]


def test_counts_print_as_whole_numbers_with_thousands_separators():
    frame = pd.DataFrame({"rows": [365550.0, 12.0, np.nan], "portfolios": [200, 3, 0]})
    out = cells(frame)
    assert list(out["rows"]) == ["365,550", "12", "n/a"]
    assert list(out["portfolios"]) == ["200", "3", "0"]


def test_weights_and_credits_print_as_percent_stated_once_in_the_header():
    frame = pd.DataFrame({"risk_weight": [0.123456, 0.05], "credit": [0.8, 0.0]})
    out = cells(frame)
    assert list(out.columns) == ["risk weight (%)", "credit (%)"]
    assert list(out["risk weight (%)"]) == ["12.35", "5.00"]
    assert list(out["credit (%)"]) == ["80.00", "0.00"]


def test_a_weight_column_above_one_is_not_taken_for_a_fraction():
    out = cells(pd.DataFrame({"weight": [2.5, 0.5]}))
    assert list(out.columns) == ["weight"]
    assert list(out["weight"]) == ["2.500", "0.500"]


def test_a_label_already_in_percent_is_not_scaled():
    out = cells(pd.DataFrame({"coverage %": [99.2, 98.7]}))
    assert list(out["coverage %"]) == ["99.20", "98.70"]


def test_a_percent_sign_inside_a_label_still_gets_the_unit():
    out = cells(pd.DataFrame({"credit, DCC 5% quantile": [0.6167]}))
    assert list(out.columns) == ["credit, DCC 5% quantile (%)"]
    assert out.iloc[0, 0] == "61.67"


def test_numbers_show_four_significant_digits_of_the_largest_and_never_e_notation():
    frame = pd.DataFrame(
        {"statistic": [-10.694978290615847, 0.1409299396], "tiny": [1.23456e-5, 3.0e-6]}
    )
    out = cells(frame)
    assert list(out["statistic"]) == ["-10.69", "0.14"]
    assert list(out["tiny"]) == ["0.000012", "0.000003"]
    assert not any(re.search(r"\de[-+]", v) for v in out.to_numpy().ravel())


def test_negative_zero_prints_as_zero():
    assert list(cells(pd.DataFrame({"x": [-1e-9, 1.5]}))["x"]) == ["0.000", "1.500"]


def test_precision_fixes_the_decimals_of_number_columns():
    out = cells(pd.DataFrame({"x": [1.23456, 2.0001]}), precision=2)
    assert list(out["x"]) == ["1.23", "2.00"]


def test_money_needs_a_unit_and_prints_it_in_the_header():
    frame = pd.DataFrame({"margin": [1234567.891, 10.5]})
    with pytest.raises(SpecificationError, match="needs a unit"):
        cells(frame, kinds={"margin": "money"})
    out = cells(frame, kinds={"margin": "money"}, units={"margin": "USD"})
    assert list(out.columns) == ["margin (USD)"]
    assert list(out.iloc[:, 0]) == ["1,234,568", "10"]


def test_units_per_unit_of_notional():
    out = cells(
        pd.DataFrame({"loss": [0.0123456]}),
        kinds={"loss": "money"},
        units={"loss": "per unit of notional"},
    )
    assert out.columns[0] == "loss (per unit of notional)"
    assert out.iloc[0, 0] == "0.01235"


def test_text_cells_join_lists_print_booleans_and_never_none_or_quotes():
    frame = pd.DataFrame(
        {"windows": [["covid_2020", "rates_2022"], None, "None"], "breaks": [True, False, True]}
    )
    out = cells(frame)
    assert list(out["windows"]) == ["covid_2020, rates_2022", "–", "–"]
    assert list(out["breaks"]) == ["yes", "no", "yes"]


def test_key_value_tables_format_numbers_cell_by_cell_and_p_values_by_row_label():
    frame = pd.DataFrame(
        {"value": {"dcc a": 0.0140929939, "observations": 2500, "Jennrich p-value": 1e-12}}
    )
    assert list(cells(frame)["value"]) == ["0.01409", "2,500", "<0.001"]


def test_dates_print_as_days_and_midnight_stamps_in_text_as_dates():
    frame = pd.DataFrame(
        {
            "first": pd.to_datetime(["2020-01-02", None]),
            "as_of": ["2021-09-30T00:00:00", "2021-09-30T12:00:00"],
        }
    )
    out = cells(frame)
    assert list(out["first"]) == ["2020-01-02", "n/a"]
    assert list(out["as of"]) == ["2021-09-30", "2021-09-30T12:00:00"]


def test_readable_labels():
    assert readable_label("kupiec_pvalue") == "Kupiec p-value"
    assert readable_label("nobs") == "observations"
    assert readable_label("mean_risk_weight") == "mean risk weight"
    assert readable_label(("AAPL", "MSFT")) == "AAPL / MSFT"
    assert readable_label("BTC_USDT") == "BTC_USDT"
    assert readable_label(None) == ""
    assert readable_label("all_nan") == "all NaN"
    assert readable_label("DCC 5% quantile") == "DCC 5% quantile"


def test_a_default_integer_index_is_not_printed_and_a_named_one_is():
    frame = pd.DataFrame({"x": [1.5, 2.5]})
    assert Table(frame, "Range").index is False
    assert Table(frame.rename_axis("asset"), "Named").index is True
    assert "0 " not in repr(Table(frame, "Range")).splitlines()[1]


def test_series_become_one_column_tables_named_value():
    table = Table(pd.Series([1.0, 2.5], index=["x", "y"]), "A series")
    assert list(table.formatted.columns) == ["value"]


def test_explicit_formatters_override_the_kind_but_not_into_e_notation():
    frame = pd.DataFrame({"share": [0.1234, np.nan]})
    assert list(cells(frame, formatters={"share": "{:.1%}"})["share"]) == ["12.3%", "n/a"]
    with pytest.raises(SpecificationError, match="e-notation"):
        cells(frame, formatters={"share": "{:.1e}"})


def test_unknown_columns_and_kinds_are_refused():
    frame = pd.DataFrame({"x": [1.0]})
    with pytest.raises(SpecificationError, match="does not have"):
        cells(frame, kinds={"y": "count"})
    with pytest.raises(SpecificationError, match="unknown column kinds"):
        cells(frame, kinds={"x": "fraction"})


def test_table_requires_a_caption():
    with pytest.raises(ValueError, match="caption"):
        Table(pd.DataFrame({"a": [1]}), " ")


def test_latex_is_a_captioned_longtable_with_escaped_labels():
    frame = pd.DataFrame({"vol_%": [1.23456, 2.0]}, index=["BTC_USD", "ETH&CO"])
    latex = Table(frame, "Risk weights (%) by asset_class")._repr_latex_()
    assert "\\begin{longtable}{lr}" in latex
    assert "\\caption{Risk weights (\\%) by asset\\_class}" in latex
    assert "BTC\\_USD & 1.235" in latex and "ETH\\&CO & 2.000" in latex
    assert "\\toprule" in latex and "\\endhead" in latex
    assert latex.startswith("{\\small\n")


def test_p_value_bound_is_escaped_for_latex():
    latex = Table(pd.DataFrame({"p-value": [1e-9]}), "P")._repr_latex_()
    assert "\\textless{}0.001" in latex


def test_hashes_may_break_instead_of_being_clipped():
    digest = "0123456789abcdef" * 4
    assert escape(digest) == "\\allowbreak{}".join(
        ["01234567", "89abcdef", "01234567", "89abcdef"] * 2
    )
    latex = Table(
        pd.DataFrame({"value": {"data SHA-256": digest, "seed": 0}}), "Provenance"
    )._repr_latex_()
    assert "0123456789abcdef" not in latex


def test_long_text_wraps_in_a_paragraph_column():
    frame = pd.DataFrame({"credit": [0.4, 0.0], "reason": ["", "correlation falls below " * 4]})
    latex = Table(frame, "Credits")._repr_latex_()
    assert re.search(r"\\begin\{longtable\}\{rp\{\d+pt\}\}", latex)


def column(name, width, align="r"):
    return LatexColumn(name, ["9" * width], align)


def test_font_size_never_goes_below_8pt_wide_tables_turn_landscape_then_split():
    narrow = choose_layout([column("x", 6)] * 3)
    assert (narrow.size, narrow.landscape, narrow.parts) == (10, False, ((0, 1, 2),))
    middle = choose_layout([column("x", 8)] * 20)
    assert (middle.size, middle.landscape) == (8, True)
    wide = choose_layout([column("label", 10, "l")] + [column("x", 10)] * 40, index_columns=1)
    assert wide.size == 8 and wide.landscape and len(wide.parts) > 1
    assert sorted(i for part in wide.parts for i in part) == list(range(1, 41))


def test_a_split_table_repeats_its_number_for_the_continued_parts():
    frame = pd.DataFrame(np.ones((2, 40)) * 1.5, columns=[f"column {i}" for i in range(40)])
    latex = Table(frame, "Wide")._repr_latex_()
    assert latex.startswith("\\begin{landscape}")
    assert latex.count("\\caption{Wide}") == 1
    continued = latex.count("(continued).}")
    assert continued >= 1 and latex.count("\\addtocounter{table}{-1}") == continued
    assert "\\tiny" not in latex and "max width" not in latex


def test_every_cell_is_a_string_in_the_formatted_frame():
    frame = pd.DataFrame({"a": [1.0, math.inf], "b": ["x", None]})
    out = Table(frame, "Strings").formatted
    assert all(isinstance(v, str) for v in out.to_numpy().ravel())
    assert list(out["a"]) == ["1", "n/a"]


def test_mixed_columns_format_each_row_on_its_own_and_align_right():
    frame = pd.DataFrame(
        {"dcc": [0.0123456, -5123.456, 7, 0.0004, True]},
        index=["a", "loglikelihood", "parameters", "LR p-value", "converged"],
    )
    table = Table(frame, "Models", kinds={"dcc": "mixed"})
    assert list(table.formatted.iloc[:, 0]) == ["0.01235", "-5,123", "7", "<0.001", "yes"]
    assert "\\begin{longtable}{lr}" in table._repr_latex_()


def test_a_mixed_column_prints_a_share_row_as_a_percentage_and_counts_whole():
    frame = pd.DataFrame(
        {
            "cross": [8, 0.9960079, 0.0039920, 863341.2, 0.4829, 0.2, 1.5],
            "target": [None, 0.99, 0.01, None, None, 0.05, None],
        },
        index=[
            "exceptions",
            "coverage",
            "exception_rate",
            "largest_exceedance",
            "margin_saved_ratio",
            "share_rejected_kupiec",
            "variance ratio",
        ],
    )
    table = Table(frame, "Summary", kinds={"cross": "mixed", "target": "mixed"})
    assert list(table.formatted["cross"]) == [
        "8",
        "99.60%",
        "0.3992%",
        "863,341",
        "48.29%",
        "20.00%",
        "1.500",
    ]
    assert list(table.formatted["target"]) == [
        "n/a",
        "99.00%",
        "1.000%",
        "n/a",
        "n/a",
        "5.000%",
        "n/a",
    ]


def test_a_labelled_table_is_a_link_target_in_html():
    html = Table(pd.DataFrame({"x": [1.5]}), "Labelled", label="credits")._repr_html_()
    assert html.startswith('<table id="tab-credits"><caption>Labelled</caption>')
    assert "<td>1.500</td>" in html
