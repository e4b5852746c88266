"""Direction-aware conservative correlation matrix for offsets between positions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from research.errors import DataError, SpecificationError
from research.stress._checks import check_correlation_frame, check_same_labels
from research.stress.result import StressedCorrelation, build_result

__all__ = ["conservative_correlation"]

Candidate = StressedCorrelation | pd.DataFrame


def conservative_correlation(
    candidates: Mapping[str, Candidate] | Sequence[Candidate],
    positions: pd.Series,
) -> StressedCorrelation:
    r"""Pick, pair by pair, the candidate correlation that is worst for the portfolio.

    For exposures :math:`x_i` the portfolio variance contains
    :math:`x_i x_j \sigma_i \sigma_j \rho_{ij}`. A pair held in the same direction
    (:math:`x_i x_j > 0`) is hurt by a higher correlation, a hedge
    (:math:`x_i x_j < 0`) by a lower one. The result takes the maximum over the candidates
    for same-direction pairs and the minimum for opposite-direction pairs, then repairs the
    matrix to be positive semi-definite if needed.

    Parameters
    ----------
    candidates : mapping of name -> matrix, or sequence of matrices
        Candidate correlation matrices (StressedCorrelation or DataFrame) over the same
        assets, e.g. calm, stressed, DCC upper and lower quantiles.
    positions : pandas.Series
        Exposure (or just its sign) per asset; every candidate asset needs an entry. Pairs
        with a zero exposure do not affect the portfolio and take the candidates' mean.

    Returns
    -------
    StressedCorrelation
        ``method="conservative"``; ``info["choice"]`` is an asset x asset DataFrame naming
        the candidate picked for each pair (``"mean"`` for zero exposures) and
        ``info["signs"]`` the exposure signs. Before any repair, the portfolio variance
        under the result is at least that under every candidate. ``nobs`` is 0 (a
        combination of estimates).

    Raises
    ------
    SpecificationError
        If there is no candidate.
    DataError
        If candidates are not correlation matrices, cover different assets, or a position
        is missing or not finite.

    Warns
    -----
    PSDRepairWarning
        An entry-wise maximum/minimum of correlation matrices need not be PSD; the repair
        moves some entries and can give back part of the conservatism (``repair.distance``
        says how much).
    """
    if isinstance(candidates, Mapping):
        names = [str(name) for name in candidates]
        values = list(candidates.values())
    else:
        values = list(candidates)
        names = [
            value.method if isinstance(value, StressedCorrelation) else f"candidate_{k}"
            for k, value in enumerate(values)
        ]
        if len(set(names)) != len(names):
            names = [f"{name}_{k}" for k, name in enumerate(names)]
    if not values:
        raise SpecificationError("conservative_correlation needs at least one candidate")
    frames = [
        value.matrix
        if isinstance(value, StressedCorrelation)
        else check_correlation_frame(value, name)
        for value, name in zip(values, names, strict=True)
    ]
    labels = check_same_labels(frames, names)
    stack = np.stack([frame.loc[labels, labels].to_numpy() for frame in frames])
    if not isinstance(positions, pd.Series):
        raise DataError("positions must be a Series of exposures indexed by asset")
    missing = [label for label in labels if label not in positions.index]
    if missing:
        raise DataError(f"positions have no exposure for assets {missing}")
    exposure = positions.loc[labels].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(exposure)):
        raise DataError("positions must be finite")
    signs = np.sign(exposure)
    direction = np.outer(signs, signs)
    highest = stack.argmax(axis=0)
    lowest = stack.argmin(axis=0)
    pick = np.where(direction > 0, highest, lowest)
    chosen = np.take_along_axis(stack, pick[None], axis=0)[0]
    chosen = np.where(direction == 0, stack.mean(axis=0), chosen)
    choice = np.array(names, dtype=object)[pick]
    choice[direction == 0] = "mean"
    np.fill_diagonal(choice, "")
    return build_result(
        chosen,
        labels,
        method="conservative",
        window=None,
        dates=None,
        nobs=0,
        info={
            "choice": pd.DataFrame(choice, index=labels, columns=labels),
            "signs": pd.Series(signs, index=labels),
            "candidates": tuple(names),
        },
    )
