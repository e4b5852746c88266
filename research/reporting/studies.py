"""Run every study notebook and export one PDF per study."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from research.reporting.notebooks import ExecutedNotebook, execute_notebook, list_studies
from research.reporting.pdf import check_pdf_toolchain, export_pdf

__all__ = ["StudyReport", "build_reports"]


@dataclass(frozen=True)
class StudyReport:
    """One study's outputs: the executed notebook and its PDF."""

    notebook: ExecutedNotebook
    pdf: Path
    seconds: float


def build_reports(
    notebooks: str | Path = "notebooks",
    out: str | Path = "reports",
    *,
    parameters: Mapping[str, Any] | None = None,
    studies: Sequence[str] | None = None,
    stream: TextIO | None = None,
) -> list[StudyReport]:
    """Execute the study notebooks and write ``out/NN_topic.pdf`` for each.

    Parameters
    ----------
    notebooks : str or pathlib.Path
        Folder of percent-format studies (``NN_topic.py``).
    out : str or pathlib.Path
        Report folder; executed notebooks go to ``out/_build``.
    parameters : mapping, optional
        Parameters passed to every study (e.g. ``{"data_path": ..., "fast": True}``).
    studies : sequence of str, optional
        Restrict to these study stems or numbers (``"01"``, ``"01_data_quality"``).
    stream : text stream, optional
        Where progress lines go (default: standard error).

    Returns
    -------
    list of StudyReport
    """
    check_pdf_toolchain()
    stream = stream or sys.stderr
    out = Path(out)
    selected = list_studies(notebooks)
    if studies:
        wanted = set(studies)
        selected = [p for p in selected if p.stem in wanted or p.stem[:2] in wanted]
        if not selected:
            raise FileNotFoundError(f"no study matches {sorted(wanted)} in {notebooks}")
    subtitle = _subtitle(parameters or {})
    reports = []
    for index, source in enumerate(selected, start=1):
        started = time.perf_counter()
        print(f"[{index}/{len(selected)}] {source.stem}: executing", file=stream, flush=True)
        executed = execute_notebook(source, out / "_build" / f"{source.stem}.ipynb", parameters)
        pdf = export_pdf(executed.path, out / f"{source.stem}.pdf", subtitle=subtitle)
        seconds = time.perf_counter() - started
        print(
            f"[{index}/{len(selected)}] {source.stem}: {pdf} ({seconds:.1f} s)",
            file=stream,
            flush=True,
        )
        reports.append(StudyReport(executed, pdf, seconds))
    return reports


def _subtitle(parameters: Mapping[str, Any]) -> str:
    source = parameters.get("data_path") or parameters.get("dataset") or "bundled data (sp500)"
    mode = "fast mode (reduced sample)" if parameters.get("fast") else "full run"
    return f"Data: {source} -- {mode}"
