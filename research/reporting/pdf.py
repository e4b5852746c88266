"""Export executed notebooks to PDF (xelatex via nbconvert) and HTML, house templates."""

from __future__ import annotations

import re
import shutil
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import nbformat

from research._io import write_atomic
from research.errors import ReportError
from research.reporting.results import RESULT_MIMETYPE

__all__ = [
    "check_pdf_toolchain",
    "exhibit_numbers",
    "export_html",
    "export_pdf",
    "resolve_references",
]

#: A Markdown link to an exhibit: ``[Table](#tab-credits)``, ``[Figure](#fig-paths)``.
_REFERENCE = re.compile(r"\[(Table|Figure|table|figure)\]\(#((?:tab|fig)-[a-z0-9-]+)\)")
_TABLE_LABEL = re.compile(r"\\label\{(tab-[a-z0-9-]+)\}")
_TEMPLATE_DIR = "templates/research_report"
_TEMPLATES = {"report": "research_report.tex.j2", "review": "research_review.tex.j2"}
_REQUIRED_TOOLS = ("xelatex", "pandoc")
_INSTALL_HINT = (
    "PDF export needs xelatex and pandoc: run 'sudo apt-get install texlive-xetex "
    "texlive-fonts-recommended texlive-plain-generic pandoc' "
    "(or 'make reports', which does it as root)"
)


def check_pdf_toolchain() -> None:
    """Raise :class:`~research.errors.ReportError` when xelatex or pandoc is missing."""
    missing = [tool for tool in _REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise ReportError(f"{', '.join(missing)} not found. {_INSTALL_HINT}")


def export_pdf(
    notebook: str | Path,
    pdf_path: str | Path,
    *,
    subtitle: str | None = None,
    layout: Literal["report", "review"] = "report",
) -> Path:
    """Render an executed notebook as a PDF: no code, numbered captioned figures and tables.

    nbconvert runs xelatex in its own temporary folder and returns the PDF's bytes; they are
    written atomically (:func:`research._io.write_atomic`) only when LaTeX succeeded, so a
    failed export never leaves a half-written report and never removes the previous one.

    Parameters
    ----------
    notebook : str or pathlib.Path
        An executed ``.ipynb`` (see :func:`research.reporting.execute_notebook`).
    pdf_path : str or pathlib.Path
        Destination of the PDF.
    subtitle : str, optional
        Line printed under the title (e.g. data set and run mode).
    layout : {"report", "review"}
        ``"report"``: title block then the study; ``"review"``: cover page, table of
        contents, lists of figures and tables.

    Returns
    -------
    pathlib.Path
        ``pdf_path``.
    """
    from nbconvert import PDFExporter

    check_pdf_toolchain()
    if layout not in _TEMPLATES:
        raise ReportError(f"layout must be one of {sorted(_TEMPLATES)}, got {layout!r}")
    body = _convert(PDFExporter, notebook, subtitle, template_file=_TEMPLATES[layout])
    pdf_path = Path(pdf_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(pdf_path, body)


def export_html(notebook: str | Path, html_path: str | Path) -> Path:
    """Render an executed notebook as a standalone HTML page without code, for on-screen reading.

    Parameters
    ----------
    notebook : str or pathlib.Path
        An executed ``.ipynb``.
    html_path : str or pathlib.Path
        Destination of the HTML file.

    Returns
    -------
    pathlib.Path
        ``html_path``.
    """
    from nbconvert import HTMLExporter

    body = _convert(HTMLExporter, notebook, None, template_name="lab")
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(html_path, body)


def _convert(
    exporter_class: type, notebook: str | Path, subtitle: str | None, **options: Any
) -> Any:
    nb = nbformat.read(Path(notebook), as_version=4)
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = [o for o in cell.outputs if RESULT_MIMETYPE not in o.get("data", {})]
    resolve_references(nb, latex=exporter_class.__name__ == "PDFExporter")
    if subtitle is not None:
        nb.metadata["subtitle"] = subtitle
    template = resources.files("research.reporting").joinpath(_TEMPLATE_DIR)
    with resources.as_file(template) as template_dir:
        if "template_file" in options:
            options = {
                "template_name": "latex",
                "template_file": str(Path(template_dir) / options["template_file"]),
                "extra_template_paths": [str(template_dir)],
            }
        exporter = exporter_class(
            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, **options
        )
        try:
            body, _ = exporter.from_notebook_node(
                nb, resources={"metadata": {"name": Path(notebook).stem}}
            )
        except Exception as exc:  # nbconvert raises LatexFailed and template errors
            raise ReportError(f"exporting {Path(notebook).name} failed: {exc}") from exc
    return body


def exhibit_numbers(nb: nbformat.NotebookNode) -> dict[str, int]:
    r"""Find the number of every labelled table and figure, in the order the report prints them.

    Tables are the outputs whose LaTeX has a numbered ``\caption``; figures are the
    captioned images of :func:`research.reporting.show_figure`.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook.

    Returns
    -------
    dict of str to int
        ``{"tab-credits": 3, "fig-paths": 1, ...}``.

    Raises
    ------
    ReportError
        Two exhibits carry the same label.
    """
    numbers: dict[str, int] = {}
    counts = {"tab": 0, "fig": 0}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data, metadata = output.get("data", {}), output.get("metadata", {})
            label = None
            if "image/png" in data and metadata.get("caption"):
                counts["fig"] += 1
                label, number = metadata.get("label"), counts["fig"]
            elif "\\caption{" in data.get("text/latex", ""):
                counts["tab"] += 1
                found = _TABLE_LABEL.search(data["text/latex"])
                label, number = (found.group(1) if found else None), counts["tab"]
            if label is None:
                continue
            if label in numbers:
                raise ReportError(f"two exhibits carry the label {label!r}; labels must be unique")
            numbers[label] = number
    return numbers


def resolve_references(nb: nbformat.NotebookNode, *, latex: bool) -> None:
    r"""Turn Markdown links to exhibits into numbered references, in place.

    ``[Table](#tab-credits)`` in a Markdown cell or a Markdown output
    (:func:`research.reporting.show_text`) becomes ``Table \ref{tab-credits}`` for LaTeX (the
    PDF prints the number) and ``Table 3`` otherwise, joined by a no-break space.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook.
    latex : bool
        Whether the notebook is exported to LaTeX.

    Raises
    ------
    ReportError
        A link to a label that no table or figure carries.
    """
    numbers = exhibit_numbers(nb)

    def reference(match: re.Match[str]) -> str:
        word, label = match.groups()
        if label not in numbers:
            raise ReportError(
                f"the text refers to {word} #{label}, but no table or figure carries that label"
            )
        # a no-break space (LaTeX ~ after pandoc) keeps the word and its number on one line
        return f"{word}\u00a0\\ref{{{label}}}" if latex else f"{word}\u00a0{numbers[label]}"

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _REFERENCE.sub(reference, cell.source)
        for output in cell.get("outputs", []):
            if "text/markdown" in output.get("data", {}):
                markdown = output["data"]["text/markdown"]
                output["data"]["text/markdown"] = _REFERENCE.sub(reference, markdown)
