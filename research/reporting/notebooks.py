"""Execute study notebooks (jupytext percent files) with papermill."""

from __future__ import annotations

import ast
import datetime as dt
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from research._io import atomic_path
from research.errors import NotebookExecutionError, SpecificationError

__all__ = ["ExecutedNotebook", "execute_notebook", "list_studies", "read_study"]

KERNEL_NAME = "python3"
_STUDY_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+\.py$")
# The title takes the level-1 heading, so "## Data" becomes a numbered section.
_HEADING = re.compile(r"^#(#+ )", flags=re.MULTILINE)


@dataclass(frozen=True)
class ExecutedNotebook:
    """An executed study notebook.

    Attributes
    ----------
    source : pathlib.Path
        The jupytext percent-format source.
    path : pathlib.Path
        The executed ``.ipynb`` (outputs included).
    title : str
        The study title (first level-1 heading of the notebook).
    seconds : float
        Wall time of the execution.
    parameters : dict
        The parameters injected into the ``parameters`` cell (those the study declares).
    """

    source: Path
    path: Path
    title: str
    seconds: float
    parameters: Mapping[str, Any]


def list_studies(directory: str | Path) -> list[Path]:
    """Study notebooks in ``directory`` (files named ``NN_topic.py``), in order.

    Parameters
    ----------
    directory : str or pathlib.Path
        Folder holding the percent-format notebooks.

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    SpecificationError
        The folder does not exist.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise SpecificationError(f"notebook folder {folder} does not exist; pass --notebooks")
    return sorted(p for p in folder.iterdir() if _STUDY_PATTERN.match(p.name))


def read_study(source: str | Path) -> nbformat.NotebookNode:
    """Read a percent-format study into a notebook ready for execution.

    The first level-1 Markdown heading becomes the notebook title (and is
    removed from the body, the report prints it on the title block); the
    kernel is set to the current Python.

    Parameters
    ----------
    source : str or pathlib.Path
        The jupytext ``.py`` file.

    Returns
    -------
    nbformat.NotebookNode
    """
    import jupytext

    nb = jupytext.read(Path(source))
    title = Path(source).stem
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        heading = next((i for i, line in enumerate(lines) if line.startswith("# ")), None)
        if heading is not None:
            title = lines[heading][2:].strip()
            cell.source = "\n".join(lines[:heading] + lines[heading + 1 :]).strip()
            break
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _HEADING.sub(r"\1", cell.source)
    nb.cells = [c for c in nb.cells if not (c.cell_type == "markdown" and not c.source.strip())]
    nb.metadata["title"] = title
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def execute_notebook(
    source: str | Path,
    output: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    timeout: float | None = 1800.0,
    progress: bool = False,
) -> ExecutedNotebook:
    """Execute one study with papermill and write the executed ``.ipynb``.

    Parameters
    ----------
    source : str or pathlib.Path
        The percent-format study (``notebooks/NN_topic.py``).
    output : str or pathlib.Path
        Where to write the executed notebook (atomically: nothing is written when a cell
        fails, and a previous file of that name is kept).
    parameters : mapping, optional
        Values injected after the ``parameters`` cell (papermill). Only names the study
        declares in its ``parameters`` cell are passed (a shared set of parameters can
        serve studies that use different subsets of it).
    timeout : float or None
        Per-cell timeout in seconds.
    progress : bool
        Show papermill's cell progress bar.

    Returns
    -------
    ExecutedNotebook

    Raises
    ------
    NotebookExecutionError
        When a cell fails; the message names the study, the cell and the error.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = Path(source)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    nb = read_study(source)
    params = _declared(nb, parameters or {})
    started = time.perf_counter()
    with atomic_path(output) as partial:
        try:
            papermill.execute_notebook(
                nb,
                str(partial),
                parameters=params,
                kernel_name=KERNEL_NAME,
                language="python",
                progress_bar=progress,
                execution_timeout=timeout,
                cwd=str(source.parent),
            )
        except PapermillExecutionError as exc:
            first_line = exc.source.strip().splitlines()[0] if exc.source.strip() else ""
            raise NotebookExecutionError(
                f"study {source.name} failed in cell {exc.cell_index} (execution count "
                f"{exc.exec_count}, starting {first_line!r}): {exc.ename}: {exc.evalue}"
            ) from exc
        seconds = time.perf_counter() - started
        executed = nbformat.read(partial, as_version=4)
        executed.metadata["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        nbformat.write(executed, partial)
    return ExecutedNotebook(source, output, nb.metadata["title"], seconds, params)


def _declared(nb: nbformat.NotebookNode, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the ``parameters`` that the study's ``parameters`` cell declares."""
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        return {}
    declared = set()
    for node in ast.parse(cell.source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        declared.update(t.id for t in targets if isinstance(t, ast.Name))
    return {name: value for name, value in parameters.items() if name in declared}
