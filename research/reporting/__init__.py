"""Figures, tables, notebook execution and PDF export with provenance."""

from research.reporting.figures import PALETTE, set_theme, show_figure
from research.reporting.tables import Table, show_table

__all__ = ["PALETTE", "Table", "set_theme", "show_figure", "show_table"]
