"""Captioned tables for notebooks and PDFs, and the one number formatter every table uses.

Every table of a study or of the review goes through :func:`format_frame`: each column has a
kind (count, percent, p-value, money, number, date, text) that the caller names or that is
inferred from the column's name and values, and the kind alone decides how its cells print:

========  =====================================================  ================
kind      cell                                                   header
========  =====================================================  ================
count     whole number with thousands separators: ``365,550``    as given
percent   fraction times 100, 4 significant digits: ``12.35``    ``label (%)``
pvalue    3 decimals, ``<0.001`` below 0.001                     as given
money     4 significant digits, thousands separators             ``label (unit)``
number    4 significant digits of the column's largest value,    as given
          at most 6 decimals, never e-notation
mixed     one quantity per row (a model in a column): each cell  as given
          on its own, p-values in rows labelled as p-values
date      ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM`` when not midnight) as given
text      as given; lists joined, booleans as yes/no             as given
========  =====================================================  ================

Undefined numbers (NaN, None) print as ``n/a``, empty text (and text that is only Python's
``None`` or ``nan``) as ``–``. Labels that are Python
names (``kupiec_pvalue``) print as words (``Kupiec p-value``); a default integer index is not
printed.
"""

from __future__ import annotations

import html
import math
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from research.errors import SpecificationError
from research.reporting.latex_tables import LatexColumn, exhibit_label, latex_table

__all__ = ["ColumnKind", "Table", "format_frame", "format_pvalue", "readable_label", "show_table"]

ColumnKind = Literal["count", "percent", "pvalue", "money", "number", "mixed", "date", "text"]
Formatter = str | Callable[[Any], str]

_KINDS = frozenset(get_args(ColumnKind))
#: Significant digits of a column's largest value, and the most decimals any number gets.
_SIGNIFICANT = 4
_MAX_DECIMALS = 6
NOT_AVAILABLE = "n/a"
EMPTY_TEXT = "–"

_PVALUE_LABEL = re.compile(r"(^|[\s_(])p[-_ ]?values?($|[\s_)])|^p$", re.IGNORECASE)
#: Words of a label that mark a fraction to print as a percentage (when every value is <= 1).
_PERCENT_WORDS = frozenset(
    {
        "weight",
        "weights",
        "credit",
        "credits",
        "share",
        "coverage",
        "haircut",
        "buffer",
        "rate",
        "ratio",
    }
)
_PYTHON_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
_WORDS = {
    "pvalue": "p-value",
    "pvalues": "p-values",
    "nobs": "observations",
    "mpor": "MPOR",
    "apc": "APC",
    "dcc": "DCC",
    "adcc": "ADCC",
    "cdcc": "cDCC",
    "ccc": "CCC",
    "fhs": "FHS",
    "ewma": "EWMA",
    "kupiec": "Kupiec",
    "christoffersen": "Christoffersen",
    "nan": "NaN",
}
#: Python's words for a missing value, printed into a string upstream: shown as missing.
_LEAKED_MISSING = frozenset({"None", "nan", "NaN", "NaT", "<NA>"})
#: A column of this label holds one quantity per row (a key-value table): cell by cell.
_KEY_VALUE_LABELS = frozenset({"value", "values"})
_MIDNIGHT_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d)[T ]00:00:00(\.0+)?$")
_E_NOTATION = re.compile(r"\d[eE][-+]?\d")


@dataclass(frozen=True)
class Table:
    """A DataFrame with a caption and column kinds, ready for a notebook and a PDF.

    Parameters
    ----------
    frame : pandas.DataFrame or pandas.Series
        The content. Index and column labels are printed (a default integer index is not).
    caption : str
        What the table shows; becomes the numbered LaTeX caption.
    precision : int, optional
        Decimals of ``number`` columns (at most 6); by default 4 significant digits of each
        column's largest value.
    formatters : mapping of column -> format string or callable, optional
        Explicit formats that override the column's kind, e.g. ``{"x": "{:.2f}"}``; they are
        applied to defined values only and may not produce e-notation.
    index : bool, optional
        Whether to print the index; by default unless it is a default integer index.
    kinds : mapping of column -> kind, optional
        ``"count"``, ``"percent"``, ``"pvalue"``, ``"money"``, ``"number"``, ``"mixed"``,
        ``"date"`` or ``"text"``; columns not named are inferred (see :func:`format_frame`).
    units : mapping of column -> str, optional
        Unit printed once in the header, e.g. ``{"margin": "USD"}``; every ``money`` column
        needs one.
    label : str, optional
        Name that the text refers to, ``[Table](#tab-<label>)`` in a Markdown cell (the PDF
        prints "Table 3").

    Raises
    ------
    ValueError
        The caption is empty.
    SpecificationError
        A kind, unit or formatter names a column the frame does not have, a kind is unknown, or
        a money column has no unit.
    """

    frame: pd.DataFrame
    caption: str
    precision: int | None = None
    formatters: Mapping[Any, Formatter] = field(default_factory=dict)
    index: bool | None = None
    kinds: Mapping[Any, ColumnKind] = field(default_factory=dict)
    units: Mapping[Any, str] = field(default_factory=dict)
    label: str | None = None

    def __post_init__(self) -> None:
        if not self.caption or not self.caption.strip():
            raise ValueError("every report table needs a caption")
        if isinstance(self.frame, pd.Series):
            name = self.frame.name if self.frame.name is not None else "value"
            object.__setattr__(self, "frame", self.frame.to_frame(name))
        if self.index is None:
            object.__setattr__(self, "index", not _default_index(self.frame.index))
        if self.label is not None:
            exhibit_label("tab", self.label)
        object.__setattr__(self, "_cells", self._format())

    def _format(self) -> pd.DataFrame:
        return format_frame(
            self.frame,
            kinds=self.kinds,
            units=self.units,
            precision=self.precision,
            formatters=self.formatters,
        )

    @property
    def formatted(self) -> pd.DataFrame:
        """The table as printed: string cells, readable row and column labels."""
        return self._cells

    def _repr_html_(self) -> str:
        cells = self.formatted
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cells.columns)
        index_head = "<th></th>" if self.index else ""
        rows = []
        for label, row in cells.iterrows():
            index_cell = f"<th>{html.escape(str(label))}</th>" if self.index else ""
            values = "".join(f"<td>{html.escape(v)}</td>" for v in row)
            rows.append(f"<tr>{index_cell}{values}</tr>")
        anchor = f' id="{exhibit_label("tab", self.label)}"' if self.label else ""
        return (
            f"<table{anchor}><caption>{html.escape(self.caption)}</caption>"
            f"<thead><tr>{index_head}{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )

    def _repr_latex_(self) -> str:
        cells = self.formatted
        columns = []
        if self.index:
            levels = _index_levels(cells.index)
            names = [readable_label(n) if n is not None else "" for n in cells.index.names]
            pairs = zip(names, levels, strict=True)
            columns += [LatexColumn(name, level, "l") for name, level in pairs]
        kinds = _column_kinds(self.frame, self.kinds)
        for position, label in enumerate(cells.columns):
            align = "l" if kinds[self.frame.columns[position]] in ("text", "date") else "r"
            columns.append(LatexColumn(str(label), list(cells.iloc[:, position]), align))
        return latex_table(
            columns,
            self.caption,
            index_columns=cells.index.nlevels * self.index,
            label=exhibit_label("tab", self.label) if self.label else None,
        )

    def __repr__(self) -> str:
        return f"{self.caption}\n{self.formatted.to_string(index=bool(self.index))}"


def show_table(
    frame: pd.DataFrame | pd.Series,
    caption: str,
    *,
    precision: int | None = None,
    formatters: Mapping[Any, Formatter] | None = None,
    index: bool | None = None,
    kinds: Mapping[Any, ColumnKind] | None = None,
    units: Mapping[Any, str] | None = None,
    label: str | None = None,
) -> None:
    """Display a captioned table in a notebook (and in the PDF report).

    Parameters
    ----------
    frame : pandas.DataFrame or pandas.Series
        The content.
    caption : str
        What the table shows.
    precision : int, optional
        Decimals of ``number`` columns; by default 4 significant digits.
    formatters : mapping, optional
        Per-column format strings or callables that override the column's kind.
    index : bool, optional
        Whether to print the index; by default unless it is a default integer index.
    kinds : mapping of column -> kind, optional
        Column kinds (see :class:`Table`); the others are inferred.
    units : mapping of column -> str, optional
        Units printed once in the header.
    label : str, optional
        Name the text refers to as ``[Table](#tab-<label>)``.
    """
    from IPython.display import display

    display(
        Table(
            frame,
            caption,
            precision,
            dict(formatters or {}),
            index,
            dict(kinds or {}),
            dict(units or {}),
            label,
        )
    )


def format_frame(
    frame: pd.DataFrame,
    *,
    kinds: Mapping[Any, ColumnKind] | None = None,
    units: Mapping[Any, str] | None = None,
    precision: int | None = None,
    formatters: Mapping[Any, Formatter] | None = None,
) -> pd.DataFrame:
    """Format every cell of a table as the report prints it.

    Columns not named in ``kinds`` are inferred: a column labelled ``value`` holds one
    quantity per row and is formatted cell by cell, like text; a p-value from a label such as
    ``p-value``, ``pvalue`` or ``p``; a percentage from a label with the word weight, credit,
    share, coverage, haircut, buffer or rate when every value is a fraction of at most 1 in
    absolute value; a count from an integer column or a float column of whole numbers; a date from a
    datetime column; text from any other non-numeric column (whose numbers print with 4
    significant digits cell by cell, and as p-values in rows labelled as p-values); a number
    otherwise.

    Parameters
    ----------
    frame : pandas.DataFrame
        The content.
    kinds : mapping of column -> kind, optional
        ``"count"``, ``"percent"``, ``"pvalue"``, ``"money"``, ``"number"``, ``"mixed"``
        (each cell on its own, right-aligned), ``"date"`` or ``"text"``.
    units : mapping of column -> str, optional
        Units printed once in the header; required for ``money`` columns.
    precision : int, optional
        Decimals of ``number`` columns (at most 6); by default 4 significant digits of the
        column's largest value.
    formatters : mapping of column -> format string or callable, optional
        Explicit formats for defined values, overriding the kind.

    Returns
    -------
    pandas.DataFrame
        String cells; readable column labels with their units, readable row labels.

    Raises
    ------
    SpecificationError
        An unknown kind or column, a money column without a unit, or a formatter that prints
        e-notation.
    """
    kinds = dict(kinds or {})
    units = dict(units or {})
    formatters = dict(formatters or {})
    for name, mapping in (("kinds", kinds), ("units", units), ("formatters", formatters)):
        unknown = [c for c in mapping if c not in frame.columns]
        if unknown:
            raise SpecificationError(
                f"{name} name columns {unknown} that the table does not have "
                f"(columns: {list(frame.columns)})"
            )
    bad = {c: k for c, k in kinds.items() if k not in _KINDS}
    if bad:
        raise SpecificationError(f"unknown column kinds {bad}; use one of {sorted(_KINDS)}")
    if precision is not None and not 0 <= precision <= _MAX_DECIMALS:
        raise SpecificationError(f"precision must be 0..{_MAX_DECIMALS} decimals, got {precision}")
    resolved = _column_kinds(frame, kinds)
    row_labels = [readable_label(label) for label in frame.index]
    columns = {}
    headers = []
    for position, label in enumerate(frame.columns):
        values = frame.iloc[:, position]
        kind = resolved[label]
        if kind == "money" and label not in units:
            raise SpecificationError(
                f"money column {label!r} needs a unit (units={{{label!r}: 'USD'}} or "
                "'per unit of notional')"
            )
        if label in formatters:
            cells = [_explicit(formatters[label], v, label) for v in values]
        else:
            cells = _format_column(values, kind, precision, row_labels)
        columns[position] = cells
        headers.append(_header(label, "text" if label in formatters else kind, units.get(label)))
    out = pd.DataFrame(columns, index=_readable_index(frame.index))
    out.columns = headers
    return out


def readable_label(label: Any) -> str:
    """Turn a row or column label into what a reader sees.

    Python names become words (``kupiec_pvalue`` -> ``Kupiec p-value``), tuples are joined with
    `` / ``, midnight timestamps print as dates, missing labels as an empty string; other
    labels (asset names such as ``BTC_USDT``, sentences) are kept.

    Parameters
    ----------
    label : object
        An index or column label.

    Returns
    -------
    str
    """
    if label is None or (isinstance(label, float) and math.isnan(label)):
        return ""
    if isinstance(label, tuple):
        return " / ".join(readable_label(part) for part in label if readable_label(part))
    if isinstance(label, pd.Timestamp):
        return _date(label)
    if isinstance(label, numbers.Number) and not isinstance(label, bool):
        return _number_cell(label)
    text = str(label).strip()
    stamp = _MIDNIGHT_STAMP.match(text)
    if stamp:
        return stamp.group(1)
    if _PYTHON_NAME.match(text) or text in _WORDS:
        words = [_WORDS.get(word, word) for word in text.split("_")]
        return " ".join(words)
    return text


# --- kinds -----------------------------------------------------------------------------------


def _column_kinds(frame: pd.DataFrame, kinds: Mapping[Any, ColumnKind]) -> dict[Any, str]:
    return {
        label: kinds.get(label) or _infer_kind(label, frame.iloc[:, position])
        for position, label in enumerate(frame.columns)
    }


def _infer_kind(label: Any, values: pd.Series) -> str:
    name = readable_label(label)
    if name in _KEY_VALUE_LABELS:
        return "text"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "pvalue" if _PVALUE_LABEL.search(name) and _numbers_or_text(values) else "text"
    if _PVALUE_LABEL.search(name):
        return "pvalue"
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    if _names_a_fraction(name) and finite.size and np.all(np.abs(finite) <= 1):
        return "percent"
    if pd.api.types.is_integer_dtype(values) or (
        finite.size and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 1e15)
    ):
        return "count"
    return "number"


def _names_a_fraction(name: str) -> bool:
    """Whether a readable label names a share (coverage, weight, ...) not already in percent."""
    if name.endswith("%") or "(%)" in name:
        return False
    return bool(set(re.split(r"[\s_/(),;:-]+", name.lower())) & _PERCENT_WORDS)


def _numbers_or_text(values: pd.Series) -> bool:
    """Tell an object column of p-values (numbers, text such as 'undefined') from text."""
    return any(_is_number(v) for v in values)


def _header(label: Any, kind: str, unit: str | None) -> str:
    text = readable_label(label)
    if kind == "percent" and not (text.endswith("%") or "(%)" in text):
        text += " (%)"
    if unit:
        text += f" ({unit})"
    return text


# --- cells -----------------------------------------------------------------------------------


def _format_column(
    values: pd.Series, kind: str, precision: int | None, row_labels: list[str]
) -> list[str]:
    if kind in ("text", "mixed"):
        return [_mixed_cell(v, row) for v, row in zip(values, row_labels, strict=True)]
    if kind == "date":
        return [NOT_AVAILABLE if _missing(v) else _date(pd.Timestamp(v)) for v in values]
    if kind == "pvalue":
        return [_pvalue_cell(v) for v in values]
    numbers_ = [float(v) for v in values if _is_number(v) and math.isfinite(float(v))]
    scale = 100.0 if kind == "percent" else 1.0
    largest = max((abs(v) * scale for v in numbers_), default=0.0)
    if kind == "count":
        decimals = 0
    elif kind == "number" and precision is not None:
        decimals = precision
    else:
        decimals = _decimals(largest)
    return [
        _fixed(float(v) * scale, decimals) if _is_number(v) else _text_cell(v, "") for v in values
    ]


def _decimals(largest: float) -> int:
    """Decimals that show ``_SIGNIFICANT`` significant digits of the largest value."""
    if largest == 0 or not math.isfinite(largest):
        return 0
    digits = _SIGNIFICANT - 1 - math.floor(math.log10(largest))
    return min(max(digits, 0), _MAX_DECIMALS)


def _fixed(value: float, decimals: int) -> str:
    if not math.isfinite(value):
        return NOT_AVAILABLE
    text = f"{value:,.{decimals}f}"
    return text[1:] if re.fullmatch(r"-[0.,]+", text) else text


def _number_cell(value: Any) -> str:
    """One number on its own: integers whole, floats with 4 significant digits."""
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    number = float(value)
    if math.isfinite(number) and number == round(number) and abs(number) < 1e15:
        return f"{number:,.0f}"
    return _fixed(number, _decimals(abs(number)))


def format_pvalue(value: Any) -> str:
    """Print a p-value as every table does: 3 decimals, ``<0.001`` below, ``n/a`` undefined.

    Parameters
    ----------
    value : float or None
        The p-value (NaN or None when the test is undefined).

    Returns
    -------
    str

    Examples
    --------
    >>> format_pvalue(1.768e-22), format_pvalue(0.0471), format_pvalue(float("nan"))
    ('<0.001', '0.047', 'n/a')
    """
    return _pvalue_cell(value)


def _pvalue_cell(value: Any) -> str:
    if _missing(value):
        return NOT_AVAILABLE
    if not _is_number(value):
        return _text_cell(value, "")
    p = float(value)
    if not math.isfinite(p):
        return NOT_AVAILABLE
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _mixed_cell(value: Any, row_label: str) -> str:
    """Format a cell of a column whose rows hold different quantities by its row label.

    A fraction in a row that names a share (coverage, rate, ratio, ...) prints as a
    percentage with its sign, since no header can state one unit for the column.
    """
    if (
        _is_number(value)
        and not isinstance(value, numbers.Integral | bool | np.bool_)
        and math.isfinite(float(value))
        and abs(float(value)) <= 1
        and not _PVALUE_LABEL.search(row_label)
        and _names_a_fraction(row_label)
    ):
        percent = 100.0 * float(value)
        return f"{_fixed(percent, _decimals(abs(percent)))}%"
    return _text_cell(value, row_label)


def _text_cell(value: Any, row_label: str) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if _missing(value):
        return NOT_AVAILABLE if isinstance(value, float) else EMPTY_TEXT
    if _is_number(value):
        return _pvalue_cell(value) if _PVALUE_LABEL.search(row_label) else _number_cell(value)
    if isinstance(value, pd.Timestamp):
        return _date(value)
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Index):
        items = [_text_cell(item, "") for item in value]
        return ", ".join(items) if items else EMPTY_TEXT
    if isinstance(value, Mapping):
        return "; ".join(f"{readable_label(k)}: {_text_cell(v, str(k))}" for k, v in value.items())
    text = str(value).strip()
    stamp = _MIDNIGHT_STAMP.match(text)
    if stamp:
        return stamp.group(1)
    if text in _LEAKED_MISSING:
        return EMPTY_TEXT
    return text or EMPTY_TEXT


def _explicit(formatter: Formatter, value: Any, label: Any) -> str:
    if _missing(value):
        return NOT_AVAILABLE
    text = formatter.format(value) if isinstance(formatter, str) else str(formatter(value))
    if _is_number(value) and _E_NOTATION.search(text):
        raise SpecificationError(
            f"the formatter of column {label!r} prints {text!r}: tables never use e-notation"
        )
    return text


def _date(stamp: pd.Timestamp) -> str:
    if pd.isna(stamp):
        return NOT_AVAILABLE
    return stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else "%Y-%m-%d %H:%M")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool | np.bool_)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


# --- labels ----------------------------------------------------------------------------------


def _default_index(index: pd.Index) -> bool:
    """Tell a pandas RangeIndex 0..n-1 (or an unnamed integer index equal to it)."""
    if index.nlevels > 1 or index.name is not None:
        return False
    if isinstance(index, pd.RangeIndex):
        return index.start == 0 and index.step == 1
    return pd.api.types.is_integer_dtype(index) and list(index) == list(range(len(index)))


def _readable_index(index: pd.Index) -> pd.Index:
    if index.nlevels > 1:
        tuples = [tuple(readable_label(part) for part in row) for row in index]
        names = [readable_label(n) if n is not None else None for n in index.names]
        return pd.MultiIndex.from_tuples(tuples, names=names)
    name = readable_label(index.name) if index.name is not None else None
    return pd.Index([readable_label(label) for label in index], name=name, dtype=object)


def _index_levels(index: pd.Index) -> list[list[str]]:
    """Index labels per level; a repeated label of an outer level prints once."""
    if index.nlevels == 1:
        return [[str(label) for label in index]]
    levels = []
    for level in range(index.nlevels):
        labels = [str(row[level]) for row in index]
        if level < index.nlevels - 1:
            prefixes = [tuple(row[: level + 1]) for row in index]
            labels = [
                "" if i and prefixes[i] == prefixes[i - 1] else label
                for i, label in enumerate(labels)
            ]
        levels.append(labels)
    return levels
