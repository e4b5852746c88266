"""Property-based tests of the data layer: random price files, valid and broken.

Valid panels (wide or long CSV) never raise anything but the package's own errors; broken
ones (non-positive price, duplicate stamp, unsorted stamp, an asset with no price, an
infinite price) always raise the package's :class:`~research.errors.DataError`.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research.data import read_prices, to_returns
from research.errors import DataError, ResearchError

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def panels(draw: st.DrawFn) -> pd.DataFrame:
    """A valid wide panel: business days, positive finite prices, some leading NaN."""
    rows = draw(st.integers(min_value=3, max_value=40))
    assets = draw(st.integers(min_value=1, max_value=4))
    start = draw(
        st.dates(
            min_value=pd.Timestamp("1990-01-01").date(), max_value=pd.Timestamp("2030-01-01").date()
        )
    )
    daily = draw(st.booleans())
    index = pd.bdate_range(start, periods=rows) if daily else pd.date_range(start, periods=rows)
    prices = draw(
        st.lists(
            st.floats(min_value=1e-4, max_value=1e7, allow_nan=False, allow_infinity=False),
            min_size=rows * assets,
            max_size=rows * assets,
        )
    )
    frame = pd.DataFrame(
        np.asarray(prices).reshape(rows, assets),
        index=pd.DatetimeIndex(index, name="date"),
        columns=[f"X{j}" for j in range(assets)],
    )
    listed = draw(st.lists(st.integers(0, rows - 2), min_size=assets, max_size=assets))
    for column, first in zip(frame.columns, listed, strict=True):
        frame.loc[frame.index[:first], column] = np.nan
    return frame


def _write(frame: pd.DataFrame, folder: Path, long: bool, dayfirst: bool) -> Path:
    out = frame.copy()
    out.index = out.index.strftime("%d/%m/%Y" if dayfirst else "%Y-%m-%d")
    path = folder / "prices.csv"
    if long:
        table = (
            out.rename_axis("date")
            .reset_index()
            .melt(id_vars="date", var_name="asset", value_name="close")
        )
        table.to_csv(path, index=False)
    else:
        out.rename_axis("date").to_csv(path)
    return path


def _read(frame: pd.DataFrame, long: bool, dayfirst: bool) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(frame, Path(folder), long, dayfirst)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return read_prices(path, dayfirst=True if dayfirst else None)


@SETTINGS
@given(panels(), st.booleans(), st.booleans())
def test_valid_panels_load_or_raise_only_package_errors(frame, long, dayfirst):
    try:
        prices = _read(frame, long, dayfirst)
    except ResearchError:
        return
    assert list(prices.columns) == list(frame.columns)
    assert prices.index.is_monotonic_increasing and prices.index.is_unique
    assert prices.index.isin(frame.index).all()
    expected = frame.reindex(prices.index).to_numpy()
    np.testing.assert_allclose(prices.to_numpy(), expected, rtol=1e-12)
    try:
        to_returns(prices, missing="propagate")
    except ResearchError:
        pass


BREAKS = ("non_positive", "duplicate", "unsorted", "all_nan", "infinite")


def _break(frame: pd.DataFrame, how: str, row: int, column: int) -> pd.DataFrame:
    broken = frame.copy()
    row = min(row, len(frame) - 1)
    if how == "non_positive":
        broken.iloc[row, column] = -abs(broken.iloc[-1, column])
    elif how == "infinite":
        broken.iloc[row, column] = np.inf
    elif how == "all_nan":
        broken.iloc[:, column] = np.nan
    elif how == "duplicate":
        broken = pd.concat([broken.iloc[: row + 1], broken.iloc[row:]])
    else:
        order = list(range(len(frame)))
        position = min(row, len(frame) - 2)
        order[position], order[position + 1] = order[position + 1], order[position]
        broken = broken.iloc[order]
    return broken


@SETTINGS
@given(
    panels(),
    st.sampled_from(BREAKS),
    st.integers(0, 39),
    st.integers(0, 3),
    st.booleans(),
    st.booleans(),
)
def test_broken_panels_always_raise_data_errors(frame, how, row, column, long, dayfirst):
    column = min(column, frame.shape[1] - 1)
    broken = _break(frame, how, row, column)
    try:
        _read(broken, long, dayfirst)
    except DataError:
        return
    raise AssertionError(f"{how} panel was read without a DataError")
