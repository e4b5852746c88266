"""The review PDF reads as a document: the memo's sections, no raw Python, every exhibit cited.

The review is built once per session in fast mode (the ``fast_review`` fixture of
``tests/conftest.py``, shared with ``tests/test_notebooks.py``); its text is extracted with
pdftotext, as a reader's copy-paste would see it. References: a Markdown cell links to an
exhibit as ``[Table](#tab-name)`` and the PDF prints "Table 7".
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import matplotlib
import nbformat
import pandas as pd
import pytest
from nbformat import v4

from research.errors import ReportError, SpecificationError
from research.reporting import Table, export_pdf
from research.reporting.notebooks import read_study
from research.reporting.pdf import exhibit_numbers, resolve_references

matplotlib.use("Agg")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
#: The decision memo's sections (research.reporting.memo.decision_memo).
MEMO_SECTIONS = (
    "The ask",
    "Proposed against current parameters",
    "Backtest verdict",
    "Limitations and model risk",
    "Sign-off",
)
#: Studies whose every table and figure the text must cite (the others join when labelled).
CITED_STUDIES = (
    "01_data_quality",
    "02_dcc_estimation",
    "03_stressed_correlations",
    "04_margin_calibration",
    "05_offset_backtest",
    "06_crypto_venue",
    "07_venue_methodologies",
    "08_liquidation_cascades",
)
RAW_PYTHON = {
    "None": r"(?<![A-Za-z])None(?![A-Za-z])",
    "nan": r"(?<![A-Za-z])nan(?![A-Za-z])",
    "a float with more than 6 decimals": r"\d\.\d{7,}",
    "e-notation": r"\d\.?\d*e[-+]\d+",
    "a Python repr": r"<[a-zA-Z_.]+ object at 0x|Timestamp\(|array\(|dtype[:=(]|\{'|\['",
    "a quoted Python name": r"'[a-z0-9_]+_[a-z0-9_]+'",
}

needs_toolchain = pytest.mark.skipif(
    shutil.which("pdftotext") is None
    or shutil.which("xelatex") is None
    or shutil.which("pandoc") is None,
    reason="the PDF checks need xelatex, pandoc and pdftotext (poppler-utils): "
    "'sudo apt-get install texlive-xetex texlive-fonts-recommended texlive-plain-generic "
    "pandoc poppler-utils' (make test installs them as root)",
)


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def exhibits(text: str) -> dict[str, set[str]]:
    """Captioned exhibits ('Table 3') and the exhibits the text cites outside captions."""
    text = text.replace("\u00a0", " ")
    captions = set(re.findall(r"^\s*((?:Table|Figure) \d+):", text, flags=re.MULTILINE))
    mentions = re.findall(r"((?:Table|Figure) \d+)(?!\d)(?!:)(?! \(continued\))", text)
    return {"captions": captions, "cited": set(mentions)}


# --- references, on a small notebook ---------------------------------------------------------


def figure_output(label: str | None) -> nbformat.NotebookNode:
    metadata = {"caption": "A figure."} | ({"label": label} if label else {})
    return v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="}, metadata=metadata)


def table_output(label: str | None, caption: str = "A table.") -> nbformat.NotebookNode:
    table = Table(pd.DataFrame({"x": [1.5]}), caption, label=label)
    return v4.new_output(
        "display_data", data={"text/latex": table._repr_latex_(), "text/plain": repr(table)}
    )


def notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return v4.new_notebook(cells=list(cells))


def test_exhibits_are_numbered_in_print_order_tables_and_figures_apart():
    nb = notebook(
        v4.new_code_cell(outputs=[table_output(None), figure_output("fig-paths")]),
        v4.new_code_cell(outputs=[table_output("credits"), figure_output(None)]),
        v4.new_code_cell(outputs=[figure_output("fig-sweep")]),
    )
    assert exhibit_numbers(nb) == {"fig-paths": 1, "tab-credits": 2, "fig-sweep": 3}


def test_links_to_exhibits_become_numbers_or_latex_references():
    text = "[Table](#tab-credits) sets the credits; [Figure](#fig-paths) shows the path."
    cells = [v4.new_code_cell(outputs=[figure_output("fig-paths"), table_output("credits")])]
    plain, latex = (
        notebook(v4.new_markdown_cell(text), *cells),
        notebook(v4.new_markdown_cell(text), *cells),
    )
    resolve_references(plain, latex=False)
    resolve_references(latex, latex=True)
    assert plain.cells[0].source == "Table\u00a01 sets the credits; Figure\u00a01 shows the path."
    assert latex.cells[0].source == (
        "Table\u00a0\\ref{tab-credits} sets the credits; "
        "Figure\u00a0\\ref{fig-paths} shows the path."
    )


def test_a_link_to_a_missing_exhibit_and_a_repeated_label_are_refused():
    nb = notebook(v4.new_markdown_cell("See [Table](#tab-nothing)."))
    with pytest.raises(ReportError, match="no table or figure carries"):
        resolve_references(nb, latex=True)
    twice = notebook(v4.new_code_cell(outputs=[figure_output("fig-a"), figure_output("fig-a")]))
    with pytest.raises(ReportError, match="two exhibits"):
        exhibit_numbers(twice)


def test_labels_are_lower_case_words():
    with pytest.raises(SpecificationError, match="lower-case"):
        Table(pd.DataFrame({"x": [1]}), "A table", label="Credits_2")


@needs_toolchain
def test_a_reference_prints_the_exhibit_number_in_the_pdf(tmp_path):
    nb = notebook(
        v4.new_markdown_cell("# References\n\nThe credits are in [Table](#tab-credits)."),
        v4.new_code_cell(outputs=[table_output(None, "First table.")]),
        v4.new_code_cell(outputs=[table_output("credits", "Offset credits.")]),
    )
    path = tmp_path / "references.ipynb"
    nbformat.write(nb, path)
    text = pdf_text(export_pdf(path, tmp_path / "references.pdf"))
    assert "The credits are in Table 2." in text
    assert re.search(r"Table 2: Offset credits\.", text)


# --- the review, built once in fast mode -------------------------------------------------------


@pytest.fixture(scope="module")
def review_text(fast_review):
    return pdf_text(fast_review.pdf)


@needs_toolchain
@pytest.mark.parametrize("section", MEMO_SECTIONS)
def test_the_review_has_the_decision_memo_sections(review_text, section):
    assert re.search(rf"^\s*[\d.]*\s*{re.escape(section)}\s*$", review_text, flags=re.MULTILINE)


@needs_toolchain
@pytest.mark.parametrize("name", list(RAW_PYTHON))
def test_the_review_prints_no_raw_python(review_text, name):
    pages = review_text.split("\f")
    hits = [
        (page_number, match.group(0))
        for page_number, page in enumerate(pages, start=1)
        for match in re.finditer(RAW_PYTHON[name], page)
    ]
    assert not hits, (
        f"{len(hits)} x {name} in the review, first on page {hits[0][0]}: {hits[0][1]!r}"
    )


@needs_toolchain
@pytest.mark.parametrize("study", CITED_STUDIES)
def test_every_table_and_figure_of_a_study_is_cited_in_its_text(review_text, study):
    section = study_section(review_text, study)
    found = exhibits(section)
    assert found["captions"], f"no captioned exhibit found in the section of {study}"
    uncited = sorted(found["captions"] - found["cited"], key=lambda e: int(e.split()[1]))
    assert not uncited, f"{study}: the text never cites {', '.join(uncited)}"


def study_section(text: str, study: str) -> str:
    """The review's text from a study's heading to the next section heading of level 1."""
    title = read_study(NOTEBOOKS / f"{study}.py").metadata["title"]
    words = r"\s+".join(re.escape(word) for word in title.split())  # a long title wraps
    heading = re.compile(rf"^\s*(\d+)\s+{words}\s*$", flags=re.MULTILINE)
    (match,) = heading.finditer(text)
    following = re.compile(rf"^\s*{int(match.group(1)) + 1}\s+\S.*$", flags=re.MULTILINE)
    after = following.search(text, match.end())
    return text[match.start() : after.start() if after else len(text)]


def test_the_exhibit_parser_separates_captions_continuations_and_citations():
    text = (
        "As Table 2 shows, and Figure 10 too.\n"
        "Table 2: Offset credits.\n  Table 2 (continued).\nFigure 10: Paths.\nTable 3: Other.\n"
    )
    found = exhibits(text)
    assert found["captions"] == {"Table 2", "Figure 10", "Table 3"}
    assert found["captions"] - found["cited"] == {"Table 3"}


def test_a_study_section_ends_at_the_next_numbered_section():
    text = "1 Executive summary\nTable 1: a.\n2 Data quality of the price panel\nTable 2: b.\n"
    text += (
        "2.1 Data\nFigure 1: c.\n3 Conditional correlations: DCC, cDCC, ADCC and CCC\nTable 3: d."
    )
    section = study_section(text, "01_data_quality")
    assert exhibits(section)["captions"] == {"Table 2", "Figure 1"}


def test_a_study_heading_found_when_its_long_title_wraps_onto_a_second_line():
    title = read_study(NOTEBOOKS / "07_venue_methodologies.py").metadata["title"]
    first, _, rest = title.partition(" Venue")
    text = (
        f"8 {first} Venue{rest[:20]}-\n brated set 43\n"  # the contents line, hyphenated
        f"8     {first}\n      Venue{rest}\n8.1 Data\nTable 46: e.\n9 Liquidation\nTable 51: f."
    )
    assert exhibits(study_section(text, "07_venue_methodologies"))["captions"] == {"Table 46"}
