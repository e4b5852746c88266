"""Captioned tables that render as HTML in Jupyter and as numbered LaTeX tables in PDFs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["Table", "show_table"]

Formatter = str | Callable[[Any], str]

#: Text columns with entries longer than this wrap in the PDF instead of shrinking the table.
_WRAP_CHARACTERS = 40


@dataclass(frozen=True)
class Table:
    """A DataFrame with a caption and number formats, ready for a report.

    Parameters
    ----------
    frame : pandas.DataFrame
        The content. Index and column labels are printed.
    caption : str
        What the table shows; becomes the numbered LaTeX caption.
    precision : int
        Decimals for floats without an explicit formatter.
    formatters : mapping of column -> format string or callable
        Per-column formats, e.g. ``{"share": "{:.1%}"}``.
    index : bool
        Whether to print the index.
    """

    frame: pd.DataFrame
    caption: str
    precision: int = 3
    formatters: Mapping[Any, Formatter] = field(default_factory=dict)
    index: bool = True

    def __post_init__(self) -> None:
        if not self.caption or not self.caption.strip():
            raise ValueError("every report table needs a caption")
        if isinstance(self.frame, pd.Series):
            object.__setattr__(self, "frame", self.frame.to_frame())

    def _styler(self, escape: str) -> pd.io.formats.style.Styler:
        formatters = {**_date_formatters(self.frame), **self.formatters}
        styler = self.frame.style.format(
            formatter=formatters or None,
            precision=self.precision,
            thousands=",",
            na_rep="–",
            escape=escape,
        )
        styler = styler.format_index(escape=escape, axis=0).format_index(escape=escape, axis=1)
        if not self.index:
            styler = styler.hide(axis="index")
        return styler

    def _repr_html_(self) -> str:
        return self._styler("html").set_caption(self.caption).to_html()

    def _repr_latex_(self) -> str:
        tabular = self._styler("latex").to_latex(
            hrules=True, multirow_align="naive", column_format=self._column_format()
        )
        caption = _latex_escape(self.caption)
        return (
            "\\begin{table}[H]\n\\centering\n"
            f"\\caption{{{caption}}}\n"
            "\\begin{adjustbox}{max width=\\linewidth, max totalheight=0.8\\textheight}\n"
            f"{tabular}"
            "\\end{adjustbox}\n\\end{table}\n"
        )

    def _column_format(self) -> str:
        """Right-aligned columns; long text with spaces wraps in a paragraph column."""
        index = "l" * (self.frame.index.nlevels if self.index else 0)
        columns = ""
        for column in self.frame.columns:
            values = self.frame[column]
            text = values.astype(str)
            longest = text.str.len().max() if len(values) else 0
            breakable = bool(text.str.contains(" ").any())
            wide = longest > _WRAP_CHARACTERS and breakable
            if wide and not pd.api.types.is_numeric_dtype(values):
                columns += "p{0.45\\linewidth}"
            else:
                columns += "r"
        return index + columns

    def __repr__(self) -> str:
        return f"{self.caption}\n{self.frame.to_string()}"


def show_table(
    frame: pd.DataFrame | pd.Series,
    caption: str,
    *,
    precision: int = 3,
    formatters: Mapping[Any, Formatter] | None = None,
    index: bool = True,
) -> None:
    """Display a captioned table in a notebook (and in the PDF report).

    Parameters
    ----------
    frame : pandas.DataFrame or pandas.Series
        The content.
    caption : str
        What the table shows.
    precision : int
        Decimals for floats without an explicit formatter.
    formatters : mapping, optional
        Per-column format strings or callables.
    index : bool
        Whether to print the index.
    """
    from IPython.display import display

    display(Table(frame, caption, precision, dict(formatters or {}), index))


def _date_formatters(frame: pd.DataFrame) -> dict[Any, Formatter]:
    """Dates print as ``YYYY-MM-DD`` when every stamp of a column is midnight."""
    formatters: dict[Any, Formatter] = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            stamps = values.dropna()
            daily = bool((stamps == stamps.dt.normalize()).all())
            pattern = "%Y-%m-%d" if daily else "%Y-%m-%d %H:%M"
            formatters[column] = lambda v, p=pattern: "–" if pd.isna(v) else v.strftime(p)
    return formatters


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
