"""Input checks of correlation matrices (square, finite, symmetric, unit diagonal, PSD; labels).

:func:`check_correlation_frame` is the package's one check of a correlation matrix: the
stress estimators call it, and so does every later stage that takes a matrix (the margin
stage's correlation aggregation, with ``psd=True``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from research._typing import ArrayLike2D, Float64Array2D
from research.errors import DataError, NotPositiveDefiniteError, SpecificationError

#: Largest |A_ij - A_ji| accepted as rounding, relative to max(1, max|A_ij|). Sample and
#: model correlation matrices are symmetric to ~1e-15; anything above 1e-8 is a real asymmetry.
SYMMETRY_TOLERANCE = 1e-8

#: A matrix whose smallest eigenvalue is at least -PSD_TOLERANCE counts as positive
#: semi-definite. Eigenvalues of an exact PSD correlation matrix of order <= 1000 come out of
#: LAPACK with errors of order n * 1e-16 <= 1e-13, so 1e-10 separates rounding from real defects.
PSD_TOLERANCE = 1e-10

#: Largest |diag - 1| accepted for a correlation matrix (rounding only).
DIAGONAL_TOLERANCE = 1e-10


def as_square_matrix(matrix: ArrayLike2D, name: str = "matrix") -> tuple[Float64Array2D, list]:
    """Return a float copy of a square, finite, symmetric matrix and its labels.

    Parameters
    ----------
    matrix : array_like or pandas.DataFrame, shape (n, n)
        The matrix. A DataFrame must have the same labels on both axes.
    name : str
        What the matrix is, for error messages.

    Returns
    -------
    values : numpy.ndarray, shape (n, n)
        Symmetrized float64 copy ((A + A') / 2, which only removes rounding).
    labels : list
        Asset labels (0..n-1 for arrays).

    Raises
    ------
    DataError
        If the matrix is not 2-D and square, has non-numeric or NaN/inf entries, has
        mismatched or repeated labels or is not symmetric beyond :data:`SYMMETRY_TOLERANCE`.
    """
    try:
        if isinstance(matrix, pd.DataFrame):
            if not matrix.index.equals(matrix.columns):
                raise DataError(
                    f"{name}: row labels {list(matrix.index)} differ from column labels "
                    f"{list(matrix.columns)} (same labels in the same order on both axes); "
                    "reindex it with .loc[labels, labels]"
                )
            if matrix.columns.has_duplicates:
                repeated = sorted(map(str, matrix.columns[matrix.columns.duplicated()].unique()))
                raise DataError(f"{name} labels must be unique; repeated: {repeated}")
            labels = list(matrix.columns)
            values = matrix.to_numpy(dtype=np.float64, copy=True)
        else:
            values = np.array(matrix, dtype=np.float64, copy=True)
            labels = list(range(values.shape[0])) if values.ndim == 2 else []
    except (TypeError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{name} has non-numeric entries ({exc}); give numbers") from exc
    if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] == 0:
        raise DataError(f"{name} must be a non-empty square 2-D matrix, got shape {values.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"{name} has {int(bad.sum())} non-finite entries (first: ({labels[i]!r}, "
            f"{labels[j]!r}) = {values[i, j]}); fill or drop that asset first"
        )
    asymmetry = np.abs(values - values.T)
    scale = max(1.0, float(np.abs(values).max()))
    if asymmetry.max() > SYMMETRY_TOLERANCE * scale:
        i, j = np.unravel_index(int(np.argmax(asymmetry)), asymmetry.shape)
        raise DataError(
            f"{name} is not symmetric: |A[{labels[i]!r}, {labels[j]!r}] - "
            f"A[{labels[j]!r}, {labels[i]!r}]| = {asymmetry[i, j]:.3g}; "
            "pass (A + A.T) / 2 if the asymmetry is intended to be averaged away"
        )
    return 0.5 * (values + values.T), labels


def min_eigenvalue(values: Float64Array2D) -> float:
    """Smallest eigenvalue of a symmetric matrix.

    Parameters
    ----------
    values : numpy.ndarray, shape (n, n)
        Symmetric matrix.

    Returns
    -------
    float
    """
    return float(np.linalg.eigvalsh(values)[0])


def is_correlation(values: Float64Array2D, floor: float = 0.0) -> bool:
    """Whether a symmetric matrix is a correlation matrix (unit diagonal, eigenvalues >= floor).

    Parameters
    ----------
    values : numpy.ndarray, shape (n, n)
        Symmetric matrix.
    floor : float
        Smallest admissible eigenvalue (0 for positive semi-definite).

    Returns
    -------
    bool
    """
    if np.abs(np.diag(values) - 1.0).max() > DIAGONAL_TOLERANCE:
        return False
    return min_eigenvalue(values) >= floor - PSD_TOLERANCE


def check_correlation_frame(
    matrix: pd.DataFrame | ArrayLike2D, name: str = "correlation", *, psd: bool = False
) -> pd.DataFrame:
    """Validate a correlation matrix and return it as a labelled DataFrame.

    The package's one correlation-matrix check (the stress estimators and the margin
    stage's :class:`~research.margin.CorrelationEngine` call it).

    Parameters
    ----------
    matrix : pandas.DataFrame or array_like, shape (n, n)
        Symmetric matrix with unit diagonal and entries in [-1, 1]; a DataFrame has the
        same unique labels in the same order on both axes.
    name : str
        What the matrix is, for error messages.
    psd : bool
        Also require it to be positive semi-definite (smallest eigenvalue at least
        ``-PSD_TOLERANCE``), as anything that aggregates risks with it does.

    Returns
    -------
    pandas.DataFrame
        The matrix symmetrized, with an exact unit diagonal (only rounding changes).

    Raises
    ------
    DataError
        If it is not square/numeric/finite/symmetric, its labels differ between the axes or
        repeat, the diagonal is not one, or (``psd=False``) an entry leaves [-1, 1].
    NotPositiveDefiniteError
        With ``psd=True``: an entry outside [-1, 1] (a 2 x 2 minor is then negative) or a
        negative eigenvalue; the message points to
        :func:`research.stress.nearest_correlation`.
    """
    values, labels = as_square_matrix(matrix, name)
    diag_error = np.abs(np.diag(values) - 1.0)
    if diag_error.max() > DIAGONAL_TOLERANCE:
        k = int(np.argmax(diag_error))
        raise DataError(
            f"{name} is not a correlation matrix (no unit diagonal): diagonal entry for "
            f"{labels[k]!r} is {values[k, k]:.6g}; convert covariances with cov_to_corr first"
        )
    repair = "repair it with research.stress.nearest_correlation"
    if np.abs(values).max() > 1.0 + DIAGONAL_TOLERANCE:
        i, j = np.unravel_index(int(np.argmax(np.abs(values))), values.shape)
        message = f"{name} of ({labels[i]!r}, {labels[j]!r}) is {values[i, j]:.6g}, outside [-1, 1]"
        if psd:
            raise NotPositiveDefiniteError(
                f"{message}, so the matrix is not positive semi-definite; {repair}"
            )
        raise DataError(message)
    np.fill_diagonal(values, 1.0)
    if psd:
        smallest = min_eigenvalue(values)
        if smallest < -PSD_TOLERANCE:
            raise NotPositiveDefiniteError(f"{name} has eigenvalue {smallest:.3g} < 0; {repair}")
    return pd.DataFrame(values, index=labels, columns=labels)


def check_same_labels(frames: Sequence[pd.DataFrame], names: Sequence[str]) -> list[Hashable]:
    """Check that matrices share one set of asset labels and return it (first one's order).

    Parameters
    ----------
    frames : sequence of pandas.DataFrame
        Square labelled matrices.
    names : sequence of str
        Their names, for the error message.

    Returns
    -------
    list
        The common labels.

    Raises
    ------
    DataError
        If the label sets differ.
    """
    labels = list(frames[0].columns)
    for frame, frame_name in zip(frames[1:], names[1:], strict=True):
        if set(frame.columns) != set(labels):
            missing = sorted(map(str, set(labels) ^ set(frame.columns)))
            raise DataError(
                f"{frame_name} and {names[0]} cover different assets (differing: {missing}); "
                "select the same assets in both"
            )
    return labels


def check_probability(value: float, name: str, *, open_interval: bool = True) -> float:
    """Check that a level/weight lies in (0, 1) (or [0, 1]).

    Parameters
    ----------
    value : float
        The value.
    name : str
        Its parameter name.
    open_interval : bool
        Whether 0 and 1 are excluded.

    Returns
    -------
    float

    Raises
    ------
    SpecificationError
        If it is out of range.
    """
    value = float(value)
    ok = 0.0 < value < 1.0 if open_interval else 0.0 <= value <= 1.0
    if not ok:
        bounds = "(0, 1)" if open_interval else "[0, 1]"
        raise SpecificationError(f"{name} must lie in {bounds}, got {value}")
    return value
