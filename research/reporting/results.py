"""Key results recorded by study notebooks, read back by the consolidated review."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pandas as pd

from research.errors import DataError

__all__ = ["RESULT_MIMETYPE", "read_records", "record", "recorded_frame"]

#: Output mimetype that carries a recorded result; invisible in Jupyter and in the PDF.
RESULT_MIMETYPE = "application/vnd.research.result+json"


def record(name: str, value: Any) -> None:
    """Record a key result of a study under ``name`` (JSON-serialisable after conversion).

    DataFrames are stored as ``{"columns", "index", "data"}`` (pandas "split" orient), Series
    as dicts, numpy scalars as Python numbers.

    Parameters
    ----------
    name : str
        Key under which the review finds the value.
    value : object
        The result.
    """
    from IPython.display import display

    payload = {"name": name, "value": _jsonable(value)}
    display({RESULT_MIMETYPE: payload}, raw=True)


def read_records(notebook: str | Path) -> dict[str, Any]:
    """Every result recorded in an executed notebook, by name (the last one wins).

    Parameters
    ----------
    notebook : str or pathlib.Path
        An executed ``.ipynb``.

    Returns
    -------
    dict
    """
    nb = nbformat.read(Path(notebook), as_version=4)
    records: dict[str, Any] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(RESULT_MIMETYPE)
            if payload is not None:
                records[payload["name"]] = payload["value"]
    return records


def recorded_frame(value: Mapping[str, Any]) -> pd.DataFrame:
    """Rebuild a DataFrame that :func:`record` stored (pandas "split" orient).

    Parameters
    ----------
    value : mapping
        ``{"columns", "index", "data"}`` as read back by :func:`read_records`. Index and column
        labels that are lists (a MultiIndex) come back as a MultiIndex; level names are not
        stored.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        ``value`` is not a recorded DataFrame.
    """
    if not isinstance(value, Mapping) or set(value) != {"columns", "index", "data"}:
        shown = sorted(value) if isinstance(value, Mapping) else type(value).__name__
        raise DataError(f"a recorded DataFrame has keys columns, index and data; got {shown}")
    return pd.DataFrame(
        value["data"], index=_labels(value["index"]), columns=_labels(value["columns"])
    )


def _labels(labels: list[Any]) -> pd.Index:
    """Index labels from JSON: lists (MultiIndex tuples) become a MultiIndex."""
    if labels and all(isinstance(label, list) for label in labels):
        return pd.MultiIndex.from_tuples([tuple(label) for label in labels])
    return pd.Index(labels)


def _jsonable(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="split", date_format="iso", default_handler=str))
    if isinstance(value, pd.Series):
        return json.loads(value.to_json(date_format="iso", default_handler=str))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
