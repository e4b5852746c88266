"""Seeded circular block bootstrap of a per-window correlation statistic."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from research._random import as_generator
from research._typing import Float64Array2D, Seed
from research.errors import SpecificationError
from research.stress._checks import check_probability


def bootstrap_band(
    values: Float64Array2D,
    statistic: Callable[[Float64Array2D], Float64Array2D],
    *,
    n_boot: int,
    level: float,
    block_length: int,
    seed: Seed,
) -> tuple[Float64Array2D, Float64Array2D, int]:
    """Percentile band of a matrix statistic under the circular block bootstrap.

    Parameters
    ----------
    values : numpy.ndarray, shape (T, n)
        Observations (rows are dates).
    statistic : callable
        Maps a (T, n) resample to an (n, n) matrix (NaN where undefined).
    n_boot : int
        Replications (at least 100 for a usable percentile band).
    level : float
        Two-sided coverage in (0, 1).
    block_length : int
        Block length (1 is the iid bootstrap; use ~T^(1/3) for serially dependent data).
    seed : int, Generator or None
        Random seed.

    Returns
    -------
    lower, upper : numpy.ndarray, shape (n, n)
        Entry-wise quantiles (NaN-aware).
    n_valid : int
        Fewest replications with a defined value across entries.

    Raises
    ------
    SpecificationError
        If ``n_boot`` < 100, ``block_length`` is not in [1, T] or ``level`` is not in (0, 1).
    """
    level = check_probability(level, "level")
    n_obs = values.shape[0]
    if n_boot < 100:
        raise SpecificationError(f"n_boot must be at least 100 for a percentile band, got {n_boot}")
    if not 1 <= block_length <= n_obs:
        raise SpecificationError(f"block_length must lie in [1, {n_obs}], got {block_length}")
    rng = as_generator(seed)
    n_blocks = -(-n_obs // block_length)
    offsets = np.arange(block_length)
    draws = np.empty((n_boot, values.shape[1], values.shape[1]))
    for b in range(n_boot):
        starts = rng.integers(0, n_obs, size=n_blocks)
        rows = ((starts[:, None] + offsets[None, :]) % n_obs).ravel()[:n_obs]
        draws[b] = statistic(values[rows])
    alpha = (1.0 - level) / 2.0
    valid = np.isfinite(draws).sum(axis=0)
    lower = np.nanquantile(draws, alpha, axis=0)
    upper = np.nanquantile(draws, 1.0 - alpha, axis=0)
    return lower, upper, int(valid.min())
