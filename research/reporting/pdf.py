"""Export executed notebooks to PDF (xelatex through nbconvert) with the house template."""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

import nbformat

from research.errors import ReportError

__all__ = ["export_pdf", "check_pdf_toolchain"]

_TEMPLATE_DIR = "templates/research_report"
_TEMPLATE_FILE = "research_report.tex.j2"
_REQUIRED_TOOLS = ("xelatex", "pandoc")
_INSTALL_HINT = (
    "PDF export needs xelatex and pandoc: run 'sudo apt-get install texlive-xetex "
    "texlive-fonts-recommended texlive-plain-generic pandoc' (or 'make reports', which does it as root)"
)


def check_pdf_toolchain() -> None:
    """Raise :class:`~research.errors.ReportError` when xelatex or pandoc is missing."""
    missing = [tool for tool in _REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise ReportError(f"{', '.join(missing)} not found. {_INSTALL_HINT}")


def export_pdf(notebook: str | Path, pdf_path: str | Path, *, subtitle: str | None = None) -> Path:
    """Render an executed notebook as a report PDF: no code, captioned figures and tables.

    The PDF is written to a temporary file and moved into place only when
    LaTeX succeeded, so a failed export never leaves a half-written report.

    Parameters
    ----------
    notebook : str or pathlib.Path
        An executed ``.ipynb`` (see :func:`research.reporting.execute_notebook`).
    pdf_path : str or pathlib.Path
        Destination of the PDF.
    subtitle : str, optional
        Line printed under the title (e.g. data set and run mode).

    Returns
    -------
    pathlib.Path
        ``pdf_path``.
    """
    from nbconvert import PDFExporter

    check_pdf_toolchain()
    nb = nbformat.read(Path(notebook), as_version=4)
    if subtitle is not None:
        nb.metadata["subtitle"] = subtitle
    template = resources.files("research.reporting").joinpath(_TEMPLATE_DIR)
    with resources.as_file(template) as template_dir:
        exporter = PDFExporter(
            template_name="latex",
            template_file=str(Path(template_dir) / _TEMPLATE_FILE),
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
        )
        try:
            body, _ = exporter.from_notebook_node(
                nb, resources={"metadata": {"name": Path(notebook).stem}}
            )
        except Exception as exc:  # nbconvert raises LatexFailed and template errors
            raise ReportError(f"PDF export of {Path(notebook).name} failed: {exc}") from exc
    pdf_path = Path(pdf_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    partial = pdf_path.with_suffix(".pdf.partial")
    partial.write_bytes(body)
    os.replace(partial, pdf_path)
    return pdf_path
