"""Real price datasets that install with the project and load offline.

The files are the compressed CSVs shipped inside two dependencies, located with
:func:`importlib.util.find_spec` so that neither package is imported (importing
skfolio costs about a second).
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from research.data.attached import attach_quality
from research.data.quality import DataQualityReport
from research.data.validation import validate_prices
from research.errors import DataError

__all__ = ["DatasetInfo", "dataset_names", "list_datasets", "load_dataset"]


@dataclass(frozen=True)
class DatasetInfo:
    """Catalog entry of a bundled dataset (one row of :func:`list_datasets`).

    Parameters
    ----------
    name : str
        Name passed to :func:`load_dataset`.
    description : str
        One line on what the prices are.
    source : str
        Package file the data are read from and their upstream origin.
    assets : tuple of str
        Column names, in order.
    first, last : str
        First and last date (ISO format).
    rows : int
        Number of dates.
    frequency : str
        ``"daily"``.
    calendar : {"equity", "crypto"}
        Trading calendar (5 or 7 days a week).
    license : str
        License of the file as distributed, and the data's origin.
    """

    name: str
    description: str
    source: str
    assets: tuple[str, ...]
    first: str
    last: str
    rows: int
    frequency: str
    calendar: str
    license: str


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"the bundled data need the {package!r} package: pip install {package}")
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise DataError(f"{path} is missing from the installed {package!r} package; reinstall it")
    return path


def _read_sp500() -> pd.DataFrame:
    path = _package_file("skfolio", "datasets", "data", "sp500_dataset.csv.gz")
    frame = pd.read_csv(path, index_col="Date")
    frame.index = pd.to_datetime(frame.index, format="%Y-%m-%d")
    return frame


def _read_sp500_nasdaq() -> pd.DataFrame:
    columns = {}
    for name, folder in (("SP500", "sp500"), ("NASDAQ", "nasdaq")):
        path = _package_file("arch", "data", folder, f"{folder}.csv.gz")
        table = pd.read_csv(path, usecols=["Date", "Adj Close"])
        table.index = pd.to_datetime(table.pop("Date"), format="%m/%d/%Y")
        columns[name] = table["Adj Close"]
    frame = pd.concat(columns, axis=1, join="outer")
    return frame


_SP500_ASSETS = (
    "AAPL",
    "AMD",
    "BAC",
    "BBY",
    "CVX",
    "GE",
    "HD",
    "JNJ",
    "JPM",
    "KO",
    "LLY",
    "MRK",
    "MSFT",
    "PEP",
    "PFE",
    "PG",
    "RRC",
    "UNH",
    "WMT",
    "XOM",
)

_CATALOG: dict[str, tuple[DatasetInfo, Callable[[], pd.DataFrame]]] = {
    "sp500": (
        DatasetInfo(
            name="sp500",
            description="Daily adjusted closes of 20 large US stocks",
            source="skfolio datasets/data/sp500_dataset.csv.gz (Yahoo Finance)",
            assets=_SP500_ASSETS,
            first="1990-01-02",
            last="2022-12-28",
            rows=8313,
            frequency="daily",
            calendar="equity",
            license="BSD-3-Clause (skfolio); data from Yahoo Finance",
        ),
        _read_sp500,
    ),
    "sp500-nasdaq": (
        DatasetInfo(
            name="sp500-nasdaq",
            description="Daily adjusted closes of the S&P 500 and NASDAQ Composite indices",
            source="arch data/sp500 and data/nasdaq (Yahoo Finance)",
            assets=("SP500", "NASDAQ"),
            first="1999-01-04",
            last="2018-12-31",
            rows=5031,
            frequency="daily",
            calendar="equity",
            license="NCSA (arch); data from Yahoo Finance",
        ),
        _read_sp500_nasdaq,
    ),
}


def list_datasets() -> pd.DataFrame:
    """Describe every bundled dataset.

    Returns
    -------
    pandas.DataFrame
        One row per dataset with columns ``name``, ``description``, ``source``,
        ``assets`` (comma-separated), ``n_assets``, ``first``, ``last`` (Timestamps),
        ``rows``, ``frequency``, ``calendar`` and ``license``.

    Examples
    --------
    >>> from research.data import list_datasets
    >>> list_datasets()["name"].tolist()
    ['sp500', 'sp500-nasdaq']
    """
    rows = []
    for info, _ in _CATALOG.values():
        rows.append(
            {
                "name": info.name,
                "description": info.description,
                "source": info.source,
                "assets": ", ".join(info.assets),
                "n_assets": len(info.assets),
                "first": pd.Timestamp(info.first),
                "last": pd.Timestamp(info.last),
                "rows": info.rows,
                "frequency": info.frequency,
                "calendar": info.calendar,
                "license": info.license,
            }
        )
    return pd.DataFrame(rows)


@functools.cache
def _load_validated(name: str) -> tuple[pd.DataFrame, DataQualityReport]:
    info, reader = _CATALOG[name]
    frame = reader().astype("float64")
    frame.index.name = "date"
    frame.columns = pd.Index([str(c) for c in frame.columns], name="asset", dtype=object)
    report = validate_prices(frame, calendar=info.calendar, source=f"dataset {name!r}")
    return frame, report


def load_dataset(name: str = "sp500") -> pd.DataFrame:
    """Load a bundled real price dataset (offline).

    ``"sp500"``: daily adjusted closes of 20 US stocks (AAPL, AMD, BAC, BBY, CVX, GE, HD,
    JNJ, JPM, KO, LLY, MRK, MSFT, PEP, PFE, PG, RRC, UNH, WMT, XOM) from 1990-01-02 to
    2022-12-28, the dataset of skfolio (``load_sp500_dataset``).

    ``"sp500-nasdaq"``: daily adjusted closes of the S&P 500 and NASDAQ Composite
    indices from 1999-01-04 to 2018-12-31, the ``sp500`` and ``nasdaq`` datasets of arch.

    ==============  =============  ========  ========================
    name            observations   assets    dates
    ==============  =============  ========  ========================
    sp500           8,313          20        1990-01-02 .. 2022-12-28
    sp500-nasdaq    5,031          2         1999-01-04 .. 2018-12-31
    ==============  =============  ========  ========================

    Both follow the equity calendar (Monday to Friday). Exchange closures appear as
    gaps with severity ``info`` in the report (e.g. 2001-09-11..14).

    Parameters
    ----------
    name : {"sp500", "sp500-nasdaq"}
        Dataset name; :func:`list_datasets` describes them.

    Returns
    -------
    pandas.DataFrame
        Prices: float64, DatetimeIndex named ``"date"`` (naive dates), columns named
        ``"asset"``; the :class:`~research.data.DataQualityReport` in
        ``attrs["quality"]`` (read it with :func:`research.data.quality_report`).

    Raises
    ------
    DataError
        For an unknown name (the message lists the valid ones), or when the package
        holding the file is not installed.

    Notes
    -----
    Sources: skfolio's ``datasets/data/sp500_dataset.csv.gz`` (BSD-3-Clause) and arch's
    ``data/sp500/sp500.csv.gz`` and ``data/nasdaq/nasdaq.csv.gz`` (NCSA), both
    downloaded from Yahoo Finance. Adjusted closes are back-adjusted for splits and
    dividends, so early prices are small (AAPL starts at 0.264).

    Caution: the data are for research examples and tests. The sp500 stock list is
    today's survivors (survivorship bias) and Yahoo adjustments change over time; do not
    use them to calibrate production margin parameters.

    Examples
    --------
    >>> from research.data import load_dataset
    >>> prices = load_dataset("sp500")
    >>> prices.shape
    (8313, 20)
    >>> prices.index[0].date().isoformat(), prices.index[-1].date().isoformat()
    ('1990-01-02', '2022-12-28')
    """
    if name not in _CATALOG:
        raise DataError(
            f"unknown dataset {name!r}; valid names: {', '.join(sorted(_CATALOG))} "
            "(or pass a file path to research.data.load_prices)"
        )
    frame, report = _load_validated(name)
    prices = frame.copy()
    attach_quality(prices, report)
    return prices


def dataset_names() -> tuple[str, ...]:
    """Names accepted by :func:`load_dataset`.

    Returns
    -------
    tuple of str
    """
    return tuple(_CATALOG)


def source_label(source: str | Path) -> str:
    """Name a price source as a report prints it: a bundled dataset's name or a file's name.

    The folder of a file is a fact of the machine that ran the study, not of the data: reports
    name the file and identify its content by hash (the provenance tables), so the same data
    give the same text on every machine.

    Parameters
    ----------
    source : str or pathlib.Path
        A bundled dataset name (:func:`dataset_names`) or a price file's path.

    Returns
    -------
    str

    Examples
    --------
    >>> source_label("sp500"), source_label("/data/crypto_spot_daily_binance.csv")
    ('sp500', 'crypto_spot_daily_binance.csv')
    """
    name = str(source)
    return name if name in _CATALOG else Path(name).name
