"""Export executed notebooks to PDF (xelatex via nbconvert) and HTML, house templates."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import nbformat

from research._io import write_atomic
from research.errors import ReportError
from research.reporting.results import RESULT_MIMETYPE

__all__ = ["export_pdf", "export_html", "check_pdf_toolchain"]

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
