"""Named stress windows: the shipped catalog, the window type and slicing."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from research.errors import DataError, DataQualityWarning, InsufficientDataError, SpecificationError
from research.stress import StressWindow, stress_windows, window_mask

# Same quantity computed two ways (different operation order): only floating-point
# rounding differs, far below 1e-12 for numbers of order one.
ROUNDING_TOL = 1e-12

EXPECTED = {
    "gfc_lehman": ("2008-09-15", "2009-03-09", "equities"),
    "covid_2020": ("2020-02-20", "2020-04-07", "equities"),
    "crypto_covid_crash": ("2020-03-09", "2020-03-20", "crypto"),
    "crypto_may_2021": ("2021-05-12", "2021-05-25", "crypto"),
    "crypto_oct_2025_liquidations": ("2025-10-09", "2025-10-17", "crypto"),
}


def test_catalog_has_the_issue_windows():
    catalog = {w.name: w for w in stress_windows()}
    assert len(catalog) == 12
    for name, (start, end, asset_class) in EXPECTED.items():
        window = catalog[name]
        assert window.start == pd.Timestamp(start)
        assert window.end == pd.Timestamp(end)
        assert window.asset_class == asset_class
    assert {"aug_2011", "rates_2022", "crypto_luna_ust", "crypto_3ac_celsius", "crypto_ftx"} <= set(
        catalog
    )


def test_every_window_has_description_and_source():
    for window in stress_windows():
        assert window.description.strip()
        assert window.source.strip()
        assert window.start <= window.end


def test_crypto_windows_contain_their_named_day():
    catalog = {w.name: w for w in stress_windows("crypto")}
    for name, day in [
        ("crypto_covid_crash", "2020-03-12"),
        ("crypto_mar_12_2020_crash", "2020-03-12"),
        ("crypto_may_2021", "2021-05-19"),
        ("crypto_3ac_celsius", "2022-06-13"),
        ("crypto_ftx", "2022-11-09"),
        ("crypto_oct_2025_liquidations", "2025-10-10"),
        ("crypto_oct_10_2025_cascade", "2025-10-10"),
    ]:
        assert window_mask(pd.DatetimeIndex([day]), catalog[name]).all()


def test_the_cascade_window_holds_the_hours_of_2025_10_10():
    cascade = {w.name: w for w in stress_windows("crypto")}["crypto_oct_10_2025_cascade"]
    hours = pd.date_range("2025-10-10", "2025-10-11 23:00", freq="h", tz="UTC")
    inside = hours[window_mask(hours, cascade)]
    assert inside[0] == pd.Timestamp("2025-10-10 14:00", tz="UTC")
    assert inside[-1] == pd.Timestamp("2025-10-11 02:00", tz="UTC") and len(inside) == 13
    days = pd.date_range("2025-10-01", "2025-10-31", freq="D")
    assert list(days[window_mask(days, cascade)].day) == [10, 11]


def test_filter_by_asset_class_and_coverage():
    assert {w.asset_class for w in stress_windows("equities")} == {"equities"}
    assert len(stress_windows("crypto")) == 8
    index = pd.bdate_range("2019-01-01", "2021-12-31")
    assert [w.name for w in stress_windows("equities", within=index)] == ["covid_2020"]


def test_unknown_asset_class():
    with pytest.raises(SpecificationError, match="asset_class"):
        stress_windows("bonds")


def test_window_validation():
    with pytest.raises(SpecificationError, match="before it starts"):
        StressWindow("w", "2020-02-01", "2020-01-01")
    with pytest.raises(SpecificationError, match="asset_class"):
        StressWindow("w", "2020-01-01", "2020-02-01", asset_class="fx")
    with pytest.raises(SpecificationError, match="cannot read"):
        StressWindow("w", "not a date", "2020-02-01")


def test_window_round_trips_to_dict():
    window = stress_windows()[0]
    assert StressWindow(**window.to_dict()) == window
    assert str(window) == "gfc_lehman (2008-09-15 .. 2009-03-09)"


def test_slice(regimes):
    window = StressWindow("w", "2020-02-20", "2020-04-07")
    rows = window.slice(regimes)
    assert rows.index[0] >= window.start and rows.index[-1] <= window.end
    assert len(rows) == 34


def test_slice_outside_data_raises(regimes):
    with pytest.raises(DataError, match="outside the data"):
        StressWindow("old", "2001-01-01", "2001-06-30").slice(regimes)


def test_slice_too_few_observations(regimes):
    with pytest.raises(InsufficientDataError, match="fewer than the 50"):
        StressWindow("w", "2020-02-20", "2020-04-07").slice(regimes, min_obs=50)


def test_partial_coverage_warns(regimes):
    window = StressWindow("edge", "2018-01-01", "2018-07-31")
    with pytest.warns(DataQualityWarning, match="only partly covered"):
        rows = window.slice(regimes)
    assert rows.index[0] == regimes.index[0]


def test_full_coverage_does_not_warn(regimes):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        StressWindow("w", "2019-01-01", "2019-03-01").slice(regimes)


def test_non_datetime_index_raises(regimes):
    with pytest.raises(DataError, match="DatetimeIndex"):
        StressWindow("w", "2019-01-01", "2019-03-01").slice(regimes.reset_index(drop=True))


def test_union_of_windows_pools_rows(regimes):
    from research.stress import sample_correlation

    first = StressWindow("first", "2019-01-01", "2019-02-28")
    second = StressWindow("second", "2020-02-20", "2020-04-07")
    result = sample_correlation(regimes, [first, second])
    rows = pd.concat(
        [regimes.loc["2019-01-01":"2019-02-28"], regimes.loc["2020-02-20":"2020-04-07"]]
    )
    pd.testing.assert_frame_equal(result.matrix, rows.corr(), check_exact=False, atol=ROUNDING_TOL)
    assert result.nobs == len(rows)
    assert result.summary()["window"] == "first+second"


def test_union_with_a_window_outside_notes_it(regimes):
    from research.stress import sample_correlation

    old = StressWindow("old", "2001-01-01", "2001-06-30")
    covid = StressWindow("covid", "2020-02-20", "2020-04-07")
    with pytest.warns(DataQualityWarning, match="old .* adds no rows"):
        result = sample_correlation(regimes, [old, covid])
    assert result.nobs == 34 and "adds no rows" in result.warnings[0]
    with pytest.raises(DataError, match="outside the data"):
        sample_correlation(regimes, [old, old])


def test_union_complement_is_the_calm_sample(regimes):
    from research.stress import forbes_rigobon_correlation

    windows = [
        StressWindow("x", "2019-01-01", "2019-02-28"),
        StressWindow("y", "2020-02-20", "2020-04-07"),
    ]
    result = forbes_rigobon_correlation(regimes, windows)
    n_stress = len(regimes.loc["2019-01-01":"2019-02-28"]) + 34
    assert result.info["calm_nobs"] == len(regimes) - n_stress
    assert result.nobs == n_stress


def test_busiest_span():
    from research.stress import busiest_span

    index = pd.bdate_range("2020-01-01", periods=100)
    windows = (StressWindow("a", index[10], index[14]), StressWindow("b", index[60], index[79]))
    assert busiest_span(index, windows, 30) == (index[50], index[79])
    assert busiest_span(index, windows, 500) == (index[0], index[-1])
    with pytest.raises(DataError, match="no date"):
        busiest_span(index, StressWindow("c", "2010-01-01", "2010-02-01"), 10)


def test_window_mask_and_label():
    from research.stress.windows import window_label, window_mask

    index = pd.bdate_range("2020-01-01", periods=10)
    first = StressWindow("first", index[1], index[2])
    second = StressWindow("second", index[5], index[5])
    assert window_mask(index, (first, second)).tolist() == [
        False,
        True,
        True,
        False,
        False,
        True,
        False,
        False,
        False,
        False,
    ]
    assert window_mask(index, None).all()
    assert window_label(None) == "the whole sample"
    assert window_label(first) == "window first (2020-01-02 .. 2020-01-03)"
    assert window_label((first, second)) == "windows first + second"
