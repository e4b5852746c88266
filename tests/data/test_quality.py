"""DataQualityReport: tables, counts, printing and immutability."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from research.data import DataQualityReport, validate_prices
from research.data.quality import issue_frame, repair_frame


@pytest.fixture
def report() -> DataQualityReport:
    index = pd.bdate_range("2024-01-01", periods=12, name="date")
    values = np.linspace(1, 2, 12)
    values[4] = np.nan
    prices = pd.DataFrame({"A": values, "B": np.linspace(3, 4, 12)}, index=index)
    with pytest.warns(Warning):
        base = validate_prices(prices, source="test panel")
    return base.extend(
        repairs=repair_frame(
            [
                {
                    "step": "read",
                    "action": "duplicates_dropped",
                    "asset": "B",
                    "count": 3,
                    "detail": "kept the last row",
                },
                {
                    "step": "align",
                    "action": "rows_dropped",
                    "asset": "*",
                    "count": 5,
                    "detail": "align intersection",
                },
            ]
        ),
        warnings=["align: dropped 5 rows"],
    )


def test_to_frame_has_one_row_per_asset_and_repair_columns(report):
    table = report.to_frame()
    assert table.index.tolist() == ["A", "B"]
    assert table.loc["A", "missing"] == 1
    assert table.loc["B", "duplicates_dropped"] == 3
    assert table.loc["A", "duplicates_dropped"] == 0


def test_summary_status(report):
    status = report.summary()["status"]
    assert status.to_dict() == {"A": "warning", "B": "ok"}


def test_counts(report):
    assert report.repair_counts().to_dict() == {"duplicates_dropped": 3, "rows_dropped": 5}
    assert report.issue_counts().to_dict() == {"missing": 1}
    assert not report.has_errors


def test_text_forms(report):
    text = str(report)
    assert "Data-quality report: test panel" in text
    assert "12 rows x 2 assets, 2024-01-01 .. 2024-01-16" in text
    assert "missing: 1" in text
    assert "rows_dropped: 5" in text
    assert "warning: align: dropped 5 rows" in text
    assert "issues=1" in repr(report)
    assert "<table" in report._repr_html_()


def test_report_is_a_value(report):
    assert copy.deepcopy(report) is report
    with pytest.raises(AttributeError):
        report.n_rows = 3  # type: ignore[misc]
    longer = report.extend(issues=issue_frame([]), warnings=["x"])
    assert longer is not report
    assert len(longer.warnings) == len(report.warnings) + 1


def test_empty_report_prints():
    report = DataQualityReport(assets=pd.DataFrame())
    assert "findings: none" in str(report)
    assert "repairs: none" in str(report)
    assert report.repair_counts().empty
