"""research.data.stamp_label: stamps as a report's text prints them."""

from __future__ import annotations

import pandas as pd
import pytest

from research.data import stamp_label


@pytest.mark.parametrize(
    ("stamp", "time", "expected"),
    [
        (pd.Timestamp("2025-10-10 21:00", tz="UTC"), None, "2025-10-10 21:00 UTC"),
        (pd.Timestamp("2025-10-10 23:00", tz="Europe/Paris"), None, "2025-10-10 21:00 UTC"),
        (pd.Timestamp("2025-10-11", tz="UTC"), None, "2025-10-11"),
        (pd.Timestamp("2025-10-11", tz="UTC"), True, "2025-10-11 00:00 UTC"),
        (pd.Timestamp("2025-10-10 21:30", tz="UTC"), False, "2025-10-10"),
        ("2025-10-10 09:15", None, "2025-10-10 09:15"),
        ("2025-10-10", True, "2025-10-10 00:00"),
        (None, None, "-"),
        (pd.NaT, True, "-"),
    ],
)
def test_stamps_read_as_dates_or_hours(stamp, time, expected):
    assert stamp_label(stamp, time=time) == expected
