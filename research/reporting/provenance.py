"""Provenance of a study: data hash, parameters, package versions, lock file, git commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from research.data import source_label

__all__ = [
    "data_hash",
    "file_hash",
    "package_versions",
    "data_scope",
    "git_commit",
    "lock_hash",
    "provenance_frame",
]

#: The pinned versions ``make`` installs, at the root of a checkout.
LOCK_FILE = "requirements.lock"

_PACKAGES = (
    "research",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "arch",
    "numba",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
)


def data_hash(frame: pd.DataFrame | pd.Series) -> str:
    """SHA-256 of a frame's values, index and labels (stable across runs and machines).

    Parameters
    ----------
    frame : pandas.DataFrame or pandas.Series

    Returns
    -------
    str
        Hex digest.
    """
    hashed = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    digest = hashlib.sha256(hashed.tobytes())
    labels = frame.columns if isinstance(frame, pd.DataFrame) else [frame.name]
    digest.update("|".join(map(str, labels)).encode())
    return digest.hexdigest()


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    str
        Hex digest.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions(packages: tuple[str, ...] = _PACKAGES) -> dict[str, str]:
    """Installed versions of the packages a study depends on (and Python).

    Parameters
    ----------
    packages : tuple of str
        Distribution names.

    Returns
    -------
    dict
        ``{name: version}``; ``"not installed"`` where absent.
    """
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit(path: str | Path | None = None) -> str:
    """Return the full git commit of a checkout, flagged when it has uncommitted changes.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A folder inside the checkout; default: the checkout this package is imported from.

    Returns
    -------
    str
        The 40-digit commit, followed by ``" (uncommitted changes)"`` when tracked files differ
        from it; ``"unknown"`` outside a git checkout (e.g. an installed wheel or an exported
        source tree).
    """
    cwd = Path(path) if path is not None else Path(__file__).resolve().parent
    commit = _git(cwd, "rev-parse", "HEAD")
    if commit is None:
        return "unknown"
    status = _git(cwd, "status", "--porcelain", "--untracked-files=no")
    return commit if status == "" else f"{commit} (uncommitted changes)"


def _git(cwd: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def data_scope(
    prices: pd.DataFrame, *, source: str, source_file: str | Path | None = None
) -> dict[str, Any]:
    """Describe the price data a study used, for the review's provenance appendix.

    Parameters
    ----------
    prices : pandas.DataFrame
        The prices (date x asset) the study used.
    source : str
        Dataset name or file path as given; recorded by name (:func:`research.data.source_label`:
        no machine folder), the file's content by its hash.
    source_file : str or pathlib.Path, optional
        Input file whose bytes are hashed.

    Returns
    -------
    dict
        ``source``, ``assets`` (list), ``rows``, ``first`` and ``last`` date (``YYYY-MM-DD``,
        None without rows), ``data_sha256`` (:func:`data_hash`) and, with a file,
        ``file_sha256``.
    """
    dated = isinstance(prices.index, pd.DatetimeIndex) and len(prices) > 0
    scope: dict[str, Any] = {
        "source": source_label(source),
        "assets": [str(c) for c in prices.columns],
        "rows": int(len(prices)),
        "first": f"{prices.index[0]:%Y-%m-%d}" if dated else None,
        "last": f"{prices.index[-1]:%Y-%m-%d}" if dated else None,
        "data_sha256": data_hash(prices),
    }
    if source_file is not None:
        scope["file_sha256"] = file_hash(source_file)
    return scope


def lock_hash(root: str | Path | None = None) -> str:
    """SHA-256 of the lock file the environment was installed from (``requirements.lock``).

    Parameters
    ----------
    root : str or pathlib.Path, optional
        Checkout root; default: the checkout this package is imported from.

    Returns
    -------
    str
        Hex digest, or ``"not found"`` when the package does not run from a checkout with a
        lock file (e.g. an installed wheel).
    """
    if root is None:
        root = Path(__file__).resolve().parents[2]
        if not (root / "pyproject.toml").is_file():
            return "not found"
    path = Path(root) / LOCK_FILE
    return file_hash(path) if path.is_file() else "not found"


def provenance_frame(
    *,
    source: str,
    data: pd.DataFrame | None = None,
    source_file: str | Path | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Tabulate (item, value) how a result was produced.

    Parameters
    ----------
    source : str
        Data set name or file path as given; shown by name (:func:`research.data.source_label`).
    data : pandas.DataFrame, optional
        The data actually used (hash, shape, date range are recorded).
    source_file : str or pathlib.Path, optional
        Input file whose bytes are hashed.
    parameters : mapping, optional
        Study parameters and seeds.

    Returns
    -------
    pandas.DataFrame
        Indexed by item.
    """
    rows: dict[str, str] = {"source": source_label(source)}
    if source_file is not None:
        rows["input file SHA-256"] = file_hash(source_file)
    if data is not None:
        rows["data SHA-256"] = data_hash(data)
        rows["shape"] = f"{data.shape[0]:,} rows x {data.shape[1]} columns"
        if isinstance(data.index, pd.DatetimeIndex) and len(data):
            rows["date range"] = f"{data.index[0]:%Y-%m-%d} .. {data.index[-1]:%Y-%m-%d}"
    for key, value in (parameters or {}).items():
        rows[f"parameter: {key}"] = _parameter_text(value)
    rows["git commit"] = git_commit()
    rows["requirements.lock SHA-256"] = lock_hash()
    rows["run at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    rows.update({f"version: {k}": v for k, v in package_versions().items()})
    return pd.DataFrame({"value": rows}).rename_axis("item")


def _parameter_text(value: Any) -> str:
    """Write a study parameter as a reader reads it: text as is, yes/no for flags, else repr."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return repr(value)
