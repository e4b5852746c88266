"""Data layer: bundled datasets, price files, validation, calendars and returns.

The flow::

    load_prices(name or path)  ->  align(prices, how=...)  ->  to_returns(prices)
                                                           ->  mpor_returns(returns, horizon)

Every frame carries its :class:`DataQualityReport` in ``attrs["quality"]`` (JSON text that
survives ``to_parquet``); read it with :func:`quality_report`, which refuses a report made
before the frame was sliced. Every entry point that takes dated data checks its index with
:func:`check_time_index`; those that take returns check their units with
:func:`check_return_units`.
"""

from research.data._format import stamp_label
from research.data.alignment import align
from research.data.attached import quality_report
from research.data.bars import Bars, resample_bars, worst_moves
from research.data.calendar import (
    Frequency,
    Gaps,
    calendar_index,
    check_calendar,
    duration_label,
    find_gaps,
    infer_calendar,
    infer_frequency,
    mpor_periods,
    period_length,
    period_text,
    periods_per_year,
)
from research.data.crypto_sample import CryptoSample, crypto_hourly_sample
from research.data.datasets import (
    DatasetInfo,
    dataset_names,
    list_datasets,
    load_dataset,
    source_label,
)
from research.data.io import read_bars, read_prices
from research.data.loading import load_prices
from research.data.quality import DataQualityReport
from research.data.returns import mpor_returns, overlapping_sums, to_returns
from research.data.shared import SHARED_DATA_VARIABLE, shared_data_dir, shared_data_file
from research.data.timeindex import check_time_index
from research.data.units import (
    ReturnUnits,
    check_return_units,
    position_losses,
    to_decimal,
    to_percent,
    units_per_fraction,
    validate_units,
)
from research.data.validation import validate_prices

__all__ = [
    "CryptoSample",
    "crypto_hourly_sample",
    "stamp_label",
    "SHARED_DATA_VARIABLE",
    "shared_data_dir",
    "shared_data_file",
    "Bars",
    "DataQualityReport",
    "DatasetInfo",
    "Frequency",
    "Gaps",
    "ReturnUnits",
    "align",
    "calendar_index",
    "check_calendar",
    "check_return_units",
    "check_time_index",
    "dataset_names",
    "source_label",
    "duration_label",
    "find_gaps",
    "infer_calendar",
    "infer_frequency",
    "list_datasets",
    "load_dataset",
    "load_prices",
    "mpor_periods",
    "mpor_returns",
    "overlapping_sums",
    "period_length",
    "period_text",
    "periods_per_year",
    "position_losses",
    "quality_report",
    "read_bars",
    "read_prices",
    "resample_bars",
    "to_decimal",
    "to_percent",
    "to_returns",
    "units_per_fraction",
    "validate_prices",
    "validate_units",
    "worst_moves",
]
