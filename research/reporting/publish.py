"""A report folder holds the files of one complete run: staged, then published as a whole.

A run (``research reports`` or ``research review``) writes every file into a fresh staging folder
``<out>/.staging-<run id>/`` on the same file system. Only when the run succeeded are its files
moved into ``<out>`` (renames, a few milliseconds), the previous run's files are removed, and
the manifest ``<out>/run-manifest.json`` is written last: it names the run id, the command and
the SHA-256 of every file of the run. A failed or interrupted run removes its staging folder and
leaves the previous complete set untouched, so a folder never mixes two runs.

Replacing a previous run is the normal use (``make reports`` every time). What a run refuses,
unless forced, is to replace a file it does not own: a file with one of its names that is not
listed in the folder's manifest with the same hash (a user's file, a file edited since, or the
left-overs of a run interrupted in the middle of publishing, which has no manifest yet). Other
files in the folder are never touched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from research._io import check_output_folder, write_atomic
from research.errors import OutputError
from research.reporting.provenance import file_hash

__all__ = ["MANIFEST", "ReportRun", "read_manifest", "report_run"]

#: The manifest of the run whose files the report folder holds.
MANIFEST = "run-manifest.json"


@dataclass(frozen=True)
class ReportRun:
    """A run in progress: write into ``staging``; the files appear in ``folder`` on success.

    Attributes
    ----------
    folder : pathlib.Path
        The report folder.
    staging : pathlib.Path
        Where the run writes its files (``folder/.staging-<run_id>``).
    run_id : str
        UTC time stamp and a random suffix, e.g. ``20261203T101500Z-3fa2c1``.
    command : str
        What produced the run (recorded in the manifest).
    force : bool
        Replace files of the same names that the previous run does not own.
    """

    folder: Path
    staging: Path
    run_id: str
    command: str
    force: bool

    def final(self, path: str | Path) -> Path:
        """Where a file written under ``staging`` is found after publishing."""
        return self.folder / Path(path).relative_to(self.staging)


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """Read the manifest of the run a report folder holds (``None`` when it has none).

    Parameters
    ----------
    folder : str or pathlib.Path

    Returns
    -------
    dict or None
        ``run_id``, ``written_at``, ``command`` and ``files`` (relative path -> SHA-256).
    """
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return None
    return manifest


@contextlib.contextmanager
def report_run(
    folder: str | Path,
    *,
    planned: Iterable[str] = (),
    command: str = "",
    force: bool = False,
) -> Iterator[ReportRun]:
    """Stage a run's files and publish them into ``folder`` when the block succeeds.

    Parameters
    ----------
    folder : str or pathlib.Path
        The report folder (created if missing; its parent must exist).
    planned : iterable of str
        Top-level names the run will write, checked before any work (see the module notes).
    command : str
        What produced the run, for the manifest.
    force : bool
        Replace files of the run's names that the previous run does not own.

    Yields
    ------
    ReportRun

    Raises
    ------
    OutputError
        The folder cannot be written, or (without ``force``) a planned or written name belongs
        to a file the previous run does not own.
    """
    folder = check_output_folder(folder, create=True)
    _check_owned(folder, planned, force)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    run_id = f"{stamp}-{secrets.token_hex(3)}"
    staging = folder / f".staging-{run_id}"
    staging.mkdir()
    run = ReportRun(folder, staging, run_id, command, force)
    try:
        yield run
        _publish(run)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(run: ReportRun) -> None:
    folder, staging = run.folder, run.staging
    names = sorted(p.name for p in staging.iterdir())
    files = {
        str(p.relative_to(staging)): file_hash(p) for p in sorted(staging.rglob("*")) if p.is_file()
    }
    manifest = {
        "run_id": run.run_id,
        "written_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": run.command,
        "files": files,
    }
    write_atomic(staging / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    owned = _check_owned(folder, names, run.force)
    previous = sorted(owned | {n for n in names if (folder / n).exists()})
    trash = folder / f".replaced-{run.run_id}"
    trash.mkdir()
    try:
        if (folder / MANIFEST).exists():  # the folder is unmarked while files move
            (folder / MANIFEST).replace(trash / MANIFEST)
        for name in previous:
            if (folder / name).exists():
                (folder / name).replace(trash / name)
        for name in names:
            if name != MANIFEST:
                (staging / name).replace(folder / name)
        (staging / MANIFEST).replace(folder / MANIFEST)
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def _check_owned(folder: Path, names: Iterable[str], force: bool) -> set[str]:
    """Top-level names of the previous run still as it wrote them; refuse other clashes."""
    manifest = read_manifest(folder) or {"files": {}}
    recorded: dict[str, list[tuple[str, str]]] = {}
    for relative, digest in manifest["files"].items():
        recorded.setdefault(Path(relative).parts[0], []).append((relative, digest))
    owned = {name for name, entries in recorded.items() if _unchanged(folder, name, entries)}
    clashes = sorted(n for n in set(names) - {MANIFEST} if (folder / n).exists() and n not in owned)
    if clashes and not force:
        run = manifest.get("run_id")
        listed = f"the manifest of run {run}" if run else f"a {MANIFEST} (none found)"
        raise OutputError(
            f"{folder} holds {clashes}, which are not listed unchanged in {listed}: they are "
            "not the files of a previous complete run. Move them away, choose another output "
            "folder, or pass --force (force=True) to replace them"
        )
    return owned


def _unchanged(folder: Path, name: str, entries: list[tuple[str, str]]) -> bool:
    """Whether a recorded top-level file (or a folder's recorded files) is as the run wrote it."""
    path = folder / name
    if path.is_dir():
        return True  # a run's folder (executed notebooks) is replaced as a whole
    return path.is_file() and all(file_hash(folder / rel) == digest for rel, digest in entries)
