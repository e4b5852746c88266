"""The data-quality report carried by a frame: stored as JSON in ``attrs``, read back checked.

pandas copies ``attrs`` into every derived frame (a slice, a column subset) and pyarrow
writes them as JSON into Parquet metadata. So the report is stored as JSON text (cheap to
copy, written and read back by ``to_parquet``/``read_parquet``), together with the rows,
span and columns of the frame it was attached to, and :func:`quality_report` refuses to
hand out a report for a frame that has since been sliced or changed.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pandas as pd

from research.data._format import stamp_text
from research.data.quality import DataQualityReport
from research.errors import DataError

__all__ = ["QUALITY_ATTR", "attach_quality", "quality_report", "stored_quality"]

QUALITY_ATTR = "quality"
"""``attrs`` key of the report (JSON text; read it with :func:`quality_report`)."""


def attach_quality(frame: pd.DataFrame, report: DataQualityReport) -> None:
    """Store a report in ``frame.attrs["quality"]`` as describing this frame as it is now.

    Parameters
    ----------
    frame : pandas.DataFrame
        Modified in place (its ``attrs`` only).
    report : DataQualityReport
        The report of ``frame``.
    """
    payload = {"report": report.to_dict(), "describes": _shape(frame)}
    frame.attrs[QUALITY_ATTR] = json.dumps(payload, separators=(",", ":"))


def stored_quality(frame: pd.DataFrame) -> tuple[DataQualityReport | None, bool]:
    """Return the report stored on a frame, whatever it describes, and whether it matches.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    (DataQualityReport or None, bool)
        ``(None, False)`` when there is no report.
    """
    text = frame.attrs.get(QUALITY_ATTR) if isinstance(frame, pd.DataFrame) else None
    if not isinstance(text, str):
        return None, False
    report, describes = _parse(text)
    return report, describes == _shape(frame)


def quality_report(frame: pd.DataFrame) -> DataQualityReport:
    """Return the data-quality report of a frame returned by the package.

    Frames from :func:`research.data.read_prices`, :func:`research.data.load_prices`,
    :func:`research.data.load_dataset`, :func:`research.data.align`,
    :func:`research.data.to_returns` and :func:`research.data.mpor_returns` carry their
    report in ``attrs["quality"]`` as JSON text, which survives ``to_parquet()`` and
    ``read_parquet()``. This rebuilds it.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    DataQualityReport

    Raises
    ------
    DataError
        When the frame carries no report, or when it was sliced or changed after the
        report was made (rows, first or last stamp, or columns differ): the report would
        describe data the frame no longer has. Validate the frame again with
        :func:`research.data.validate_prices`.

    Examples
    --------
    >>> from research.data import load_dataset, quality_report
    >>> prices = load_dataset("sp500")
    >>> quality_report(prices).n_rows
    8313
    >>> quality_report(prices.iloc[-250:])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    research.errors.DataError: attrs['quality'] describes 8,313 rows ...
    """
    report, matches = stored_quality(frame)
    if report is None:
        raise DataError(
            "the frame carries no data-quality report (attrs['quality']); make one with "
            "research.data.validate_prices(frame)"
        )
    if not matches:
        _, describes = _parse(frame.attrs[QUALITY_ATTR])
        raise DataError(
            f"attrs['quality'] describes {_describe(describes)}, but this frame has "
            f"{_describe(_shape(frame))}: it was sliced or changed after the report was made; "
            "validate it again with research.data.validate_prices(frame)"
        )
    return report


@functools.lru_cache(maxsize=64)
def _parse(text: str) -> tuple[DataQualityReport, dict[str, Any]]:
    payload = json.loads(text)
    return DataQualityReport.from_dict(payload["report"]), payload["describes"]


def _shape(frame: pd.DataFrame) -> dict[str, Any]:
    index = frame.index
    return {
        "rows": len(frame),
        "first": _stamp_key(index[0]) if len(index) else None,
        "last": _stamp_key(index[-1]) if len(index) else None,
        "columns": [str(c) for c in frame.columns],
    }


def _stamp_key(stamp: Any) -> str:
    return stamp.isoformat() if isinstance(stamp, pd.Timestamp) else str(stamp)


def _describe(shape: dict[str, Any]) -> str:
    span = f"{stamp_text(shape['first'])}..{stamp_text(shape['last'])}"
    return f"{shape['rows']:,} rows ({span}) x {len(shape['columns'])} assets"
