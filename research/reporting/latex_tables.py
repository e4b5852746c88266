"""Lay out a formatted table as LaTeX: never below 8 pt, landscape or split when wide.

The table is a ``longtable`` (it breaks across pages, its header repeats) at the largest of
10, 9 and 8 pt whose estimated width fits the portrait text width; a table too wide for
portrait at 8 pt turns to a landscape page; one too wide for landscape is split into several
tables of columns, each repeating the row labels. Long text wraps in a paragraph column; long
words (hashes, paths) may break every few characters instead of running off the page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from research.errors import SpecificationError

__all__ = ["LatexColumn", "Layout", "choose_layout", "escape", "exhibit_label", "latex_table"]

#: Text widths in points of an A4 page with 2.2 cm margins (the house template), upright and
#: turned; the landscape width keeps room for the caption line and page number.
PORTRAIT_WIDTH = 470.0
LANDSCAPE_WIDTH = 690.0
#: Font sizes (pt) and their commands in an 11 pt article; 8 pt is the floor.
FONT_SIZES = ((10, "\\small"), (9, "\\footnotesize"), (8, "\\scriptsize"))
#: Average character width as a share of the font size (digits are 0.5 em in Latin Modern).
_CHARACTER_EM = 0.52
_COLUMN_PADDING = 12.0  # 2 x \tabcolsep
#: Text longer than this (in characters) wraps in a paragraph column.
_WRAP = 36
#: Words longer than this may break, every ``_CHUNK`` characters.
_LONG_WORD = 20
_CHUNK = 8
#: A header wraps onto lines of at most this many characters (or the column's width).
_HEADER_LINE = 9

_LABEL = re.compile(r"[a-z0-9][a-z0-9-]*")

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
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}


@dataclass(frozen=True)
class LatexColumn:
    """One printed column: header, formatted cells and alignment (``"l"`` or ``"r"``)."""

    header: str
    cells: Sequence[str]
    align: Literal["l", "r"]

    @property
    def wraps(self) -> bool:
        """Text long enough to wrap in a paragraph column."""
        return self.align == "l" and self.natural > _WRAP

    @property
    def natural(self) -> int:
        """Characters of the longest cell."""
        return max((len(cell) for cell in self.cells), default=0)

    @property
    def minimum(self) -> int:
        """Characters the column needs at the least (wrapped text, header on short lines)."""
        cells = min(self.natural, _WRAP) if self.wraps else self.natural
        return max(cells, _header_width(self.header, cells))


@dataclass(frozen=True)
class Layout:
    """Where and how a table prints."""

    size: int
    landscape: bool
    parts: tuple[tuple[int, ...], ...]


def latex_table(
    columns: Sequence[LatexColumn],
    caption: str,
    *,
    index_columns: int = 0,
    label: str | None = None,
) -> str:
    """LaTeX of a captioned, numbered table.

    Parameters
    ----------
    columns : sequence of LatexColumn
        Row-label columns first, then the data columns.
    caption : str
        Plain text; escaped here.
    index_columns : int
        How many of ``columns`` are row labels (repeated in every part of a split table).
    label : str, optional
        LaTeX label (``tab-...``) that text refers to; none by default.

    Returns
    -------
    str
    """
    layout = choose_layout(columns, index_columns)
    command = dict(FONT_SIZES)[layout.size]
    width = LANDSCAPE_WIDTH if layout.landscape else PORTRAIT_WIDTH
    parts = []
    for number, part in enumerate(layout.parts):
        chosen = [columns[i] for i in range(index_columns)] + [columns[i] for i in part]
        if number == 0:
            anchor = f"\\label{{{label}}}" if label else ""
            title = f"\\caption{{{escape(caption)}}}{anchor}"
        else:
            # longtable steps the table counter for every part; the parts share one number
            title = "\\caption*{Table \\thetable{} (continued).}"
        table = _longtable(chosen, title, layout.size, width, command)
        parts.append(table if number == 0 else "\\addtocounter{table}{-1}\n" + table)
    body = "\n".join(parts)
    if layout.landscape:
        body = f"\\begin{{landscape}}\n{body}\\end{{landscape}}\n"
    return body


def exhibit_label(kind: str, name: str) -> str:
    """Label of a table (``kind="tab"``) or figure (``"fig"``) that Markdown links point to.

    Parameters
    ----------
    kind : {"tab", "fig"}
        Table or figure.
    name : str
        Lower-case letters, digits and hyphens, unique within the report.

    Returns
    -------
    str
        ``kind-name``, the target of ``[Table](#tab-name)`` or ``[Figure](#fig-name)``.

    Raises
    ------
    SpecificationError
        A kind other than tab/fig, or a name with other characters.
    """
    if kind not in ("tab", "fig") or not _LABEL.fullmatch(name):
        raise SpecificationError(
            f"exhibit label {name!r} must be lower-case letters, digits and hyphens "
            "(kind 'tab' or 'fig')"
        )
    return f"{kind}-{name}"


def choose_layout(columns: Sequence[LatexColumn], index_columns: int = 0) -> Layout:
    """Choose the largest font that fits portrait; else landscape at 8 pt; else split in parts.

    Parameters
    ----------
    columns : sequence of LatexColumn
        Row-label columns first.
    index_columns : int
        How many of ``columns`` are row labels.

    Returns
    -------
    Layout
    """
    data = tuple(range(index_columns, len(columns)))
    for size, _ in FONT_SIZES:
        if _width(columns, size) <= PORTRAIT_WIDTH:
            return Layout(size, False, (data,))
    smallest = FONT_SIZES[-1][0]
    if _width(columns, smallest) <= LANDSCAPE_WIDTH:
        return Layout(smallest, True, (data,))
    labels = list(columns[:index_columns])
    parts: list[list[int]] = [[]]
    for position in data:
        trial = labels + [columns[i] for i in parts[-1]] + [columns[position]]
        if parts[-1] and _width(trial, smallest) > LANDSCAPE_WIDTH:
            parts.append([])
        parts[-1].append(position)
    return Layout(smallest, True, tuple(tuple(part) for part in parts))


def escape(text: str) -> str:
    """Escape LaTeX specials; long words may break every few characters."""
    words = text.split(" ")
    return " ".join(_escape_word(word) for word in words)


def _escape_word(word: str) -> str:
    if len(word) <= _LONG_WORD:
        return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in word)
    chunks = [word[i : i + _CHUNK] for i in range(0, len(word), _CHUNK)]
    return "\\allowbreak{}".join(_escape_word(chunk) for chunk in chunks)


def _width(columns: Sequence[LatexColumn], size: int) -> float:
    per_character = _CHARACTER_EM * size
    return sum(c.minimum * per_character + _COLUMN_PADDING for c in columns)


def _header_width(header: str, cells: int) -> int:
    return max(len(line) for line in _header_lines(header, max(cells, _HEADER_LINE)))


def _header_lines(header: str, limit: int) -> list[str]:
    lines: list[str] = []
    for word in header.split():
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _longtable(
    columns: Sequence[LatexColumn], title: str, size: int, width: float, command: str
) -> str:
    per_character = _CHARACTER_EM * size
    fixed = sum(c.minimum * per_character + _COLUMN_PADDING for c in columns if not c.wraps) + sum(
        _COLUMN_PADDING for c in columns if c.wraps
    )
    wrapping = [c for c in columns if c.wraps]
    spare = max(width - fixed, 0.0)
    total_natural = sum(c.natural for c in wrapping) or 1
    spec = ""
    for column in columns:
        if column.wraps:
            share = max(spare * column.natural / total_natural, column.minimum * per_character)
            points = min(share, column.natural * per_character)
            spec += f"p{{{math.floor(points)}pt}}"
        else:
            spec += column.align
    header = " & ".join(_header_cell(c) for c in columns) + " \\\\"
    rows = [
        " & ".join(escape(column.cells[i]) for column in columns) + " \\\\"
        for i in range(len(columns[0].cells) if columns else 0)
    ]
    return (
        f"{{{command}\n"
        f"\\begin{{longtable}}{{{spec}}}\n"
        f"{title}\\\\\n"
        f"\\toprule\n{header}\n\\midrule\n\\endfirsthead\n"
        f"\\toprule\n{header}\n\\midrule\n\\endhead\n"
        "\\bottomrule\n\\endlastfoot\n" + "\n".join(rows) + "\n\\end{longtable}}\n"
    )


def _header_cell(column: LatexColumn) -> str:
    limit = max(min(column.natural, _WRAP) if column.wraps else column.natural, _HEADER_LINE)
    lines = _header_lines(column.header, limit)
    if len(lines) == 1:
        return escape(lines[0])
    align = "l" if column.wraps else column.align
    stacked = "\\\\".join(escape(line) for line in lines)
    return f"\\begin{{tabular}}[b]{{@{{}}{align}@{{}}}}{stacked}\\end{{tabular}}"
