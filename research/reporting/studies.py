"""Run every study notebook and export one PDF per study."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from research.errors import SpecificationError
from research.reporting.notebooks import ExecutedNotebook, execute_notebook, list_studies
from research.reporting.pdf import check_pdf_toolchain, export_pdf
from research.reporting.publish import ReportRun, report_run

__all__ = ["StudyReport", "build_reports", "published", "run_studies", "select_studies"]


@dataclass(frozen=True)
class StudyReport:
    """One study's outputs: the executed notebook and its PDF (None when not exported)."""

    notebook: ExecutedNotebook
    pdf: Path | None
    seconds: float


def build_reports(
    notebooks: str | Path = "notebooks",
    out: str | Path = "reports",
    *,
    parameters: Mapping[str, Any] | None = None,
    studies: Sequence[str] | None = None,
    stream: TextIO | None = None,
    force: bool = False,
) -> list[StudyReport]:
    """Execute the study notebooks and write ``out/NN_topic.pdf`` for each.

    The run writes into a staging folder and its files replace the previous run's in ``out``
    only when every study succeeded (see :mod:`research.reporting.publish`): a failed run
    leaves the previous complete set as it was.

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
    force : bool
        Replace files of the run's names that the previous run in ``out`` did not write.

    Returns
    -------
    list of StudyReport

    Raises
    ------
    OutputError
        ``out`` cannot be written, or holds files of the run's names it does not own.
    NotebookExecutionError
        A study failed; ``out`` is left as it was.
    """
    check_pdf_toolchain()
    selected = select_studies(notebooks, studies)
    planned = [f"{p.stem}.pdf" for p in selected] + ["_build"]
    with report_run(out, planned=planned, command="build_reports", force=force) as run:
        reports = run_studies(selected, run.staging, parameters, stream=stream, run_id=run.run_id)
    return [published(run, r) for r in reports]


def select_studies(notebooks: str | Path, studies: Sequence[str] | None = None) -> list[Path]:
    """Select the study files to run: all of ``notebooks``, or those named in ``studies``.

    Parameters
    ----------
    notebooks : str or pathlib.Path
        Folder of percent-format studies.
    studies : sequence of str, optional
        Study stems or numbers (``"01"``, ``"01_data_quality"``); every one must match.

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    SpecificationError
        A requested study matches no file.
    """
    selected = list_studies(notebooks)
    if not studies:
        return selected
    unknown = sorted(
        s for s in set(studies) if not any(s in (p.stem, p.stem[:2]) for p in selected)
    )
    if unknown:
        raise SpecificationError(
            f"no study matches {unknown} in {notebooks}; the studies are "
            f"{[p.stem for p in selected]}"
        )
    wanted = set(studies)
    return [p for p in selected if p.stem in wanted or p.stem[:2] in wanted]


def run_studies(
    selected: Sequence[Path],
    folder: Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    stream: TextIO | None = None,
    run_id: str | None = None,
    pdf: bool = True,
) -> list[StudyReport]:
    """Execute studies and export their PDFs into ``folder`` (a run's staging folder).

    Parameters
    ----------
    selected : sequence of pathlib.Path
        Study files (see :func:`select_studies`).
    folder : pathlib.Path
        Where ``NN_topic.pdf`` and ``_build/NN_topic.ipynb`` are written.
    parameters : mapping, optional
        Parameters passed to every study.
    stream : text stream, optional
        Where progress lines go (default: standard error).
    run_id : str, optional
        Printed under each study's title, so every PDF names the run it belongs to.
    pdf : bool
        Export each study's PDF; without, only the executed notebooks are written (the review
        assembles them into one document).

    Returns
    -------
    list of StudyReport
    """
    stream = stream or sys.stderr
    subtitle = _subtitle(parameters or {}, run_id)
    reports = []
    for index, source in enumerate(selected, start=1):
        started = time.perf_counter()
        print(f"[{index}/{len(selected)}] {source.stem}: executing", file=stream, flush=True)
        executed = execute_notebook(source, folder / "_build" / f"{source.stem}.ipynb", parameters)
        path = (
            export_pdf(executed.path, folder / f"{source.stem}.pdf", subtitle=subtitle)
            if pdf
            else None
        )
        seconds = time.perf_counter() - started
        print(
            f"[{index}/{len(selected)}] {source.stem}: "
            f"{path.name if path else 'executed'} ({seconds:.1f} s)",
            file=stream,
            flush=True,
        )
        reports.append(StudyReport(executed, path, seconds))
    return reports


def published(run: ReportRun, report: StudyReport) -> StudyReport:
    """Return the report with the paths its files have once the run is published."""
    notebook = replace(report.notebook, path=run.final(report.notebook.path))
    pdf = None if report.pdf is None else run.final(report.pdf)
    return StudyReport(notebook, pdf, report.seconds)


def _subtitle(parameters: Mapping[str, Any], run_id: str | None) -> str:
    source = parameters.get("data_path") or parameters.get("dataset") or "bundled data (sp500)"
    mode = "fast mode (reduced sample)" if parameters.get("fast") else "full run"
    run = f" -- run {run_id}" if run_id else ""
    return f"Data: {source} -- {mode}{run}"
