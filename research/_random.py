"""Seed handling: every random draw in :mod:`research` goes through :func:`as_generator`."""

from __future__ import annotations

import numpy as np

from research._typing import Seed


def as_generator(seed: Seed) -> np.random.Generator:
    """Turn a seed into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        An integer seed, an existing generator (returned unchanged) or ``None``
        for fresh OS entropy (not reproducible; avoid it in reports).

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, int | np.integer):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be an int, a numpy Generator or None, got {type(seed).__name__}")
