"""Figures, tables, notebook execution and PDF export with provenance."""

from research.reporting.figures import PALETTE, set_theme, show_figure, show_text
from research.reporting.notebooks import ExecutedNotebook, execute_notebook, list_studies
from research.reporting.pdf import check_pdf_toolchain, export_html, export_pdf
from research.reporting.provenance import (
    data_hash,
    file_hash,
    git_commit,
    lock_hash,
    package_versions,
    provenance_frame,
)
from research.reporting.results import read_records, record
from research.reporting.studies import StudyReport, build_reports
from research.reporting.tables import Table, show_table

__all__ = [
    "PALETTE",
    "ExecutedNotebook",
    "StudyReport",
    "Table",
    "build_reports",
    "check_pdf_toolchain",
    "data_hash",
    "execute_notebook",
    "export_html",
    "export_pdf",
    "file_hash",
    "git_commit",
    "list_studies",
    "lock_hash",
    "package_versions",
    "provenance_frame",
    "read_records",
    "record",
    "set_theme",
    "show_figure",
    "show_table",
    "show_text",
]
