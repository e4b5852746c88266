"""Where the shared real-data files are: beside the checkout, or where an environment variable says.

The crypto files the studies and tests read (``crypto_spot_daily_binance.csv``,
``crypto_perp_hourly_binance.csv``, ``btc_perp_funding_daily.csv``) are not part of the
package: CI places them in ``../shared/data`` beside the checkout, and a user can point
``$RESEARCH_SHARED_DATA`` at a copy. Everything that looks for them asks here.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SHARED_DATA_VARIABLE", "shared_data_dir", "shared_data_file"]

SHARED_DATA_VARIABLE = "RESEARCH_SHARED_DATA"
"""Environment variable naming the folder of the shared files (overrides the default)."""

_CHECKOUT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """Return the folder the shared files are expected in (it may not exist).

    Returns
    -------
    pathlib.Path
        ``$RESEARCH_SHARED_DATA`` when set, else ``shared/data`` beside the checkout the
        package was installed from (an editable install, as ``make`` makes).
    """
    override = os.environ.get(SHARED_DATA_VARIABLE)
    return Path(override) if override else _CHECKOUT.parent / "shared" / "data"


def shared_data_file(name: str, data_path: str | Path | None = None) -> Path | None:
    """Locate one shared file: beside a study's data file first, then in the shared folder.

    Parameters
    ----------
    name : str
        File name, e.g. ``"crypto_perp_hourly_binance.csv"``.
    data_path : str or pathlib.Path, optional
        A data file (or folder) a study was given; a file ``name`` in its folder is preferred.

    Returns
    -------
    pathlib.Path or None
        The file, or None when it is in neither place (a fresh clone without the shared data).

    Examples
    --------
    >>> shared_data_file("no_such_file.csv") is None
    True
    """
    folders = []
    if data_path is not None:
        given = Path(data_path)
        folders.append(given if given.is_dir() else given.parent)
    folders.append(shared_data_dir())
    return next((folder / name for folder in folders if (folder / name).is_file()), None)
