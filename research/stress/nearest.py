"""Nearest correlation matrix: Higham (2002) alternating projections with Dykstra's correction."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research._typing import ArrayLike1D, ArrayLike2D, Float64Array1D, Float64Array2D
from research.errors import ConvergenceWarning, DataError, SpecificationError
from research.stress._checks import as_square_matrix, is_correlation

__all__ = ["NearestCorrelation", "nearest_correlation"]

#: Default stopping tolerance on the relative changes of Higham's iterates. Dykstra's method
#: converges linearly; 1e-10 gives results accurate to ~1e-9 in a few hundred iterations for
#: the matrices met here (order <= 100).
DEFAULT_TOL = 1e-10

#: Default iteration cap; a stop at the cap is reported (ConvergenceWarning, converged=False).
DEFAULT_MAX_ITER = 10_000


@dataclass(frozen=True)
class NearestCorrelation:
    r"""Result of :func:`nearest_correlation`.

    Attributes
    ----------
    matrix : pandas.DataFrame
        The nearest correlation matrix (symmetric, unit diagonal, smallest eigenvalue at
        least ``min_eigenvalue`` up to rounding), labelled like the input.
    distance : float
        Weighted Frobenius distance :math:`\|W^{1/2}(A - X)W^{1/2}\|_F` between input and
        result (the unweighted Frobenius distance when no weights are given).
    iterations : int
        Number of alternating-projection iterations (0 when the input was already valid).
    converged : bool
        Whether the stopping tolerance was met before ``max_iter``.
    min_eigenvalue : float
        Smallest eigenvalue of the result.
    input_min_eigenvalue : float
        Smallest eigenvalue of the (symmetrized) input.
    warnings : tuple of str
        Warnings emitted while computing the result.
    """

    matrix: pd.DataFrame
    distance: float
    iterations: int
    converged: bool
    min_eigenvalue: float
    input_min_eigenvalue: float
    warnings: tuple[str, ...] = ()

    def summary(self) -> pd.Series:
        """One-line description of the repair.

        Returns
        -------
        pandas.Series
            distance, iterations, converged and the smallest eigenvalue before and after.
        """
        return pd.Series(
            {
                "distance": self.distance,
                "iterations": self.iterations,
                "converged": self.converged,
                "input_min_eigenvalue": self.input_min_eigenvalue,
                "min_eigenvalue": self.min_eigenvalue,
            },
            name="nearest_correlation",
            dtype=object,
        )

    def __str__(self) -> str:
        status = "converged" if self.converged else "NOT converged"
        return (
            f"NearestCorrelation(n={self.matrix.shape[0]}, distance={self.distance:.6g}, "
            f"iterations={self.iterations}, {status}, "
            f"min eigenvalue {self.input_min_eigenvalue:.3g} -> {self.min_eigenvalue:.3g})"
        )


def nearest_correlation(
    matrix: ArrayLike2D,
    *,
    weights: ArrayLike1D | None = None,
    fixed: ArrayLike2D | Iterable[tuple[Hashable, Hashable]] | None = None,
    min_eigenvalue: float = 0.0,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
) -> NearestCorrelation:
    r"""Nearest correlation matrix in a (weighted) Frobenius norm, Higham (2002).

    Solves

    .. math::

        \min_X \|W^{1/2}(A - X)W^{1/2}\|_F \quad\text{s.t.}\quad
        X = X^\top,\ \operatorname{diag}(X) = 1,\ \lambda_{\min}(X) \ge \delta,\
        X_{ij} = A_{ij}\ \text{for fixed } (i, j),

    by alternating projections with Dykstra's correction (Higham 2002, Algorithm 3.3):
    :math:`R_k = Y_{k-1} - \Delta S_{k-1}`, :math:`X_k = P_S(R_k)`,
    :math:`\Delta S_k = X_k - R_k`, :math:`Y_k = P_U(X_k)`.

    Parameters
    ----------
    matrix : array_like or pandas.DataFrame, shape (n, n)
        Symmetric matrix to repair (any diagonal). Labels of a DataFrame are kept.
    weights : array_like or pandas.Series, shape (n,), optional
        Positive diagonal of :math:`W`: a larger weight keeps that asset's row and column
        closer to the input. A Series is aligned on the asset labels.
    fixed : boolean matrix or iterable of (asset, asset) pairs, optional
        Off-diagonal entries to keep at their input values (they must lie in [-1, 1]).
        The diagonal is always fixed at one.
    min_eigenvalue : float
        :math:`\delta \ge 0`; use a small positive value (e.g. 1e-8) when a Cholesky
        factor is needed downstream.
    tol : float
        Stop when the relative changes of :math:`X_k`, :math:`Y_k` and
        :math:`\|Y_k - X_k\|` all fall below ``tol`` (Higham's criterion).
    max_iter : int
        Iteration cap.

    Returns
    -------
    NearestCorrelation
        ``.matrix`` (DataFrame), ``.distance``, ``.iterations``, ``.converged``.
        A valid correlation matrix (unit diagonal, smallest eigenvalue at least
        ``min_eigenvalue - 1e-10``, the rounding allowance ``PSD_TOLERANCE``) is returned
        unchanged with ``iterations == 0``.

    Raises
    ------
    DataError
        If the input is not square, not finite or not symmetric, or a fixed entry lies
        outside [-1, 1].
    SpecificationError
        If weights, fixed pattern, ``min_eigenvalue``, ``tol`` or ``max_iter`` are invalid.

    Warns
    -----
    ConvergenceWarning
        If ``max_iter`` is reached (also recorded in ``.warnings``, ``.converged`` is False).

    Notes
    -----
    With diagonal weights the projection onto the unit-diagonal (and fixed-entry) set is
    exact entry replacement, and the projection onto :math:`\{X:\lambda_{\min}(X)\ge\delta\}`
    is :math:`\delta I + W^{-1/2}\,(W^{1/2}(R - \delta I)W^{1/2})_+\,W^{-1/2}`, with
    :math:`(\cdot)_+` the eigenvalue clipping at zero. The returned matrix is the last unit
    diagonal iterate :math:`Y_k`; if rounding leaves an eigenvalue below :math:`\delta` it is
    clipped and the diagonal rescaled to one (a change of the order of ``tol``).

    References
    ----------
    Higham, N. J. (2002). Computing the nearest correlation matrix - a problem from finance.
    IMA Journal of Numerical Analysis, 22(3), 329-343.

    Examples
    --------
    The public name is ``research.stress.nearest_correlation``:

    >>> import numpy as np
    >>> from research.stress import nearest_correlation
    >>> a = np.array([[2, -1, 0, 0], [-1, 2, -1, 0], [0, -1, 2, -1], [0, 0, -1, 2]])
    >>> res = nearest_correlation(a)
    >>> res.matrix.round(4).iloc[0].tolist()
    [1.0, -0.8084, 0.1916, 0.1068]
    """
    values, labels = as_square_matrix(matrix, "matrix")
    n = values.shape[0]
    w = _weights(weights, labels)
    mask = _fixed_mask(fixed, labels)
    if mask.any() and np.abs(values[mask]).max() > 1.0:
        i, j = np.argwhere(mask & (np.abs(values) > 1.0))[0]
        raise DataError(
            f"fixed entry ({labels[i]!r}, {labels[j]!r}) = {values[i, j]:.6g} is not a "
            "correlation; fix only entries in [-1, 1]"
        )
    if not np.isfinite(min_eigenvalue) or not 0.0 <= min_eigenvalue < 1.0:
        raise SpecificationError(f"min_eigenvalue must lie in [0, 1), got {min_eigenvalue}")
    if not tol > 0.0:
        raise SpecificationError(f"tol must be positive, got {tol}")
    if int(max_iter) < 1:
        raise SpecificationError(f"max_iter must be at least 1, got {max_iter}")

    input_min = float(np.linalg.eigvalsh(values)[0])
    if is_correlation(values, min_eigenvalue):
        np.fill_diagonal(values, 1.0)
        return NearestCorrelation(
            matrix=pd.DataFrame(values, index=labels, columns=labels),
            distance=0.0,
            iterations=0,
            converged=True,
            min_eigenvalue=input_min,
            input_min_eigenvalue=input_min,
        )

    result, iterations, converged = _dykstra(values, w, mask, min_eigenvalue, tol, int(max_iter))
    result = _polish(result, min_eigenvalue)
    sqrt_w = np.sqrt(w)
    distance = float(np.linalg.norm(sqrt_w[:, None] * (values - result) * sqrt_w[None, :]))
    notes: list[str] = []
    if not converged:
        message = (
            f"nearest_correlation stopped at max_iter={max_iter} before reaching tol={tol} "
            f"(n={n}); raise max_iter or tol, or check that the fixed entries admit a "
            "positive semi-definite completion"
        )
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
        notes.append(message)
    return NearestCorrelation(
        matrix=pd.DataFrame(result, index=labels, columns=labels),
        distance=distance,
        iterations=iterations,
        converged=converged,
        min_eigenvalue=float(np.linalg.eigvalsh(result)[0]),
        input_min_eigenvalue=input_min,
        warnings=tuple(notes),
    )


def _dykstra(
    a: Float64Array2D,
    w: Float64Array1D,
    mask: np.ndarray,
    floor: float,
    tol: float,
    max_iter: int,
) -> tuple[Float64Array2D, int, bool]:
    """Higham's Algorithm 3.3 for diagonal W; returns (Y_k, iterations, converged)."""
    n = a.shape[0]
    sqrt_w = np.sqrt(w)
    inv_sqrt_w = 1.0 / sqrt_w
    identity = np.eye(n)
    fixed_values = a[mask]
    y = a.copy()
    x = a.copy()
    correction = np.zeros_like(a)
    for k in range(1, max_iter + 1):
        r = y - correction
        x_new = _project_psd(r - floor * identity, sqrt_w, inv_sqrt_w) + floor * identity
        correction = x_new - r
        y_new = x_new.copy()
        np.fill_diagonal(y_new, 1.0)
        y_new[mask] = fixed_values
        change_x = np.linalg.norm(x_new - x) / np.linalg.norm(x_new)
        change_y = np.linalg.norm(y_new - y) / np.linalg.norm(y_new)
        gap = np.linalg.norm(y_new - x_new) / np.linalg.norm(y_new)
        x, y = x_new, y_new
        if max(change_x, change_y, gap) <= tol:
            return y, k, True
    return y, max_iter, False


def _project_psd(
    r: Float64Array2D, sqrt_w: Float64Array1D, inv_sqrt_w: Float64Array1D
) -> Float64Array2D:
    """Projection onto the PSD cone in the W-norm: W^{-1/2} (W^{1/2} R W^{1/2})_+ W^{-1/2}."""
    scaled = sqrt_w[:, None] * r * sqrt_w[None, :]
    eigenvalues, vectors = np.linalg.eigh(0.5 * (scaled + scaled.T))
    positive = (vectors * np.maximum(eigenvalues, 0.0)) @ vectors.T
    return inv_sqrt_w[:, None] * (0.5 * (positive + positive.T)) * inv_sqrt_w[None, :]


def _polish(y: Float64Array2D, floor: float) -> Float64Array2D:
    """Clip eigenvalues below ``floor`` left by rounding, then rescale to a unit diagonal."""
    y = 0.5 * (y + y.T)
    eigenvalues, vectors = np.linalg.eigh(y)
    if eigenvalues[0] < floor:
        y = (vectors * np.maximum(eigenvalues, floor)) @ vectors.T
        scale = 1.0 / np.sqrt(np.diag(y))
        y = scale[:, None] * y * scale[None, :]
        y = 0.5 * (y + y.T)
    np.fill_diagonal(y, 1.0)
    return y


def _weights(weights: ArrayLike1D | None, labels: list) -> Float64Array1D:
    """Validate the diagonal weights (aligning a Series on the labels)."""
    n = len(labels)
    if weights is None:
        return np.ones(n)
    if isinstance(weights, pd.Series):
        missing = [label for label in labels if label not in weights.index]
        if missing:
            raise SpecificationError(f"weights have no entry for assets {missing}")
        w = weights.loc[labels].to_numpy(dtype=np.float64)
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
    if w.shape != (n,):
        raise SpecificationError(f"weights must have one entry per asset ({n}), got {w.shape}")
    if not np.all(np.isfinite(w)) or (w <= 0).any():
        raise SpecificationError(f"weights must be finite and positive, got {w.tolist()}")
    return w


def _fixed_mask(
    fixed: ArrayLike2D | Iterable[tuple[Hashable, Hashable]] | None, labels: list
) -> np.ndarray:
    """Boolean off-diagonal mask of fixed entries (symmetric)."""
    n = len(labels)
    mask = np.zeros((n, n), dtype=bool)
    if fixed is None:
        return mask
    if isinstance(fixed, pd.DataFrame | np.ndarray):
        frame = fixed if isinstance(fixed, pd.DataFrame) else None
        values = frame.loc[labels, labels].to_numpy() if frame is not None else np.asarray(fixed)
        if values.shape != (n, n) or values.dtype != bool:
            raise SpecificationError(
                f"a fixed mask must be a boolean ({n}, {n}) matrix, got {values.dtype} "
                f"{values.shape}"
            )
        if (values != values.T).any():
            raise SpecificationError("a fixed mask must be symmetric")
        mask = values.copy()
    else:
        position = {label: k for k, label in enumerate(labels)}
        for pair in fixed:
            try:
                i, j = (position[label] for label in pair)
            except KeyError as exc:
                raise SpecificationError(
                    f"fixed pair {pair!r} names an unknown asset; assets are {labels}"
                ) from exc
            mask[i, j] = mask[j, i] = True
    np.fill_diagonal(mask, False)
    return mask
