"""Data layer: bundled datasets, price files, validation, calendars and returns.

The flow::

    load_prices(name or path)  ->  align(prices, how=...)  ->  to_returns(prices)
                                                           ->  mpor_returns(returns, horizon)

Every frame carries a :class:`DataQualityReport` in ``attrs["quality"]``.
"""

from research.data.alignment import align
from research.data.calendar import (
    Frequency,
    Gaps,
    calendar_index,
    find_gaps,
    infer_calendar,
    infer_frequency,
    periods_per_year,
)
from research.data.datasets import DatasetInfo, dataset_names, list_datasets, load_dataset
from research.data.io import read_prices
from research.data.loading import load_prices
from research.data.quality import DataQualityReport
from research.data.returns import mpor_returns, to_returns
from research.data.validation import validate_prices

__all__ = [
    "DataQualityReport",
    "DatasetInfo",
    "Frequency",
    "Gaps",
    "align",
    "calendar_index",
    "dataset_names",
    "find_gaps",
    "infer_calendar",
    "infer_frequency",
    "list_datasets",
    "load_dataset",
    "load_prices",
    "mpor_returns",
    "periods_per_year",
    "read_prices",
    "to_returns",
    "validate_prices",
]
