"""Output files that are whole or absent: atomic writes and up-front checks of output paths.

Every file the package writes goes through :func:`atomic_path` (or :func:`write_atomic` for text
and bytes in memory): the content goes to a temporary file in the destination's folder, is
flushed to disk, and the temporary file is renamed over the destination (``os.replace``). A reader
sees the old file or the new one, never a fragment: a full disk, a killed process or a failed
export leaves the previous file as it was and no temporary file behind.

:func:`check_output_file` and :func:`check_output_folder` run before any work, so a run that
cannot write its result fails in its first second, not after the calculation.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from research.errors import OutputError

__all__ = ["atomic_path", "check_output_file", "check_output_folder", "write_atomic"]


def check_output_folder(folder: str | Path, *, create: bool = False) -> Path:
    """Check that a folder exists (or can be created) and that files can be written into it.

    Parameters
    ----------
    folder : str or pathlib.Path
        The output folder.
    create : bool
        Create the folder when it is missing (its parent must exist).

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    OutputError
        The folder (or, with ``create``, its parent) is missing, is not a folder, or refuses a
        test file.
    """
    folder = Path(folder)
    if create and not folder.exists() and folder.parent.is_dir():
        try:
            folder.mkdir()
        except OSError as exc:
            raise OutputError(f"cannot create the output folder {folder}: {exc.strerror}") from exc
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise OutputError(f"output folder {folder} {what}; create it or choose another one")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OutputError(
            f"output folder {folder} is not writable ({exc.strerror}); choose another one"
        ) from exc
    return folder


def check_output_file(path: str | Path, *, force: bool = False) -> Path:
    """Check before any work that ``path`` can be written.

    Parameters
    ----------
    path : str or pathlib.Path
        The file a run will write.
    force : bool
        Allow replacing an existing file.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputError
        The folder is missing or not writable, ``path`` is a folder, or ``path`` exists and
        ``force`` is false.
    """
    path = Path(path)
    check_output_folder(path.parent)
    if path.is_dir():
        raise OutputError(f"output {path} is a folder; give a file name")
    if path.exists() and not force:
        raise OutputError(
            f"output file {path} exists; pass --force (force=True) to replace it, "
            "or choose another name"
        )
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it becomes ``path`` in one rename.

    Use it for tools that write a file themselves (``nbformat.write``, ``savefig``). When the
    block raises, the temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or pathlib.Path
        Destination; its folder must exist.
    overwrite : bool
        Replace an existing ``path``. When false, an existing file (even one created while the
        block ran) is kept and :class:`~research.errors.OutputError` is raised.

    Yields
    ------
    pathlib.Path
        The temporary file to write (it exists, empty).

    Raises
    ------
    OutputError
        The folder is missing, or ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    try:
        handle, name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}"
        )
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from exc
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        _fsync(temporary)
        os.chmod(temporary, 0o666 & ~_umask())
        if overwrite:
            os.replace(temporary, path)
        else:
            _link_new(temporary, path)
        _fsync(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomic(path: str | Path, data: str | bytes, *, overwrite: bool = True) -> Path:
    """Write text (UTF-8) or bytes to ``path`` atomically (see :func:`atomic_path`).

    Parameters
    ----------
    path : str or pathlib.Path
        Destination; its folder must exist.
    data : str or bytes
        Content.
    overwrite : bool
        Replace an existing ``path`` (else :class:`~research.errors.OutputError`).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    body = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path, overwrite=overwrite) as temporary:
        temporary.write_bytes(body)
    return Path(path)


def _link_new(temporary: Path, path: Path) -> None:
    """Give ``temporary`` the name ``path`` only if no file has that name (no race)."""
    try:
        os.link(temporary, path)
    except FileExistsError as exc:
        raise OutputError(
            f"output file {path} exists; pass --force (force=True) to replace it"
        ) from exc
    except OSError:  # a file system without hard links: check, then rename
        if path.exists():
            raise OutputError(
                f"output file {path} exists; pass --force (force=True) to replace it"
            ) from None
        os.replace(temporary, path)


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to disk."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # folders cannot be opened on some platforms
        return
    try:
        os.fsync(descriptor)
    except OSError:
        if not path.is_dir():
            raise
    finally:
        os.close(descriptor)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
