"""The value every stressed-correlation estimator returns, and the shared PSD repair step."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from research._typing import Float64Array2D
from research.errors import PSDRepairWarning
from research.stress._checks import PSD_TOLERANCE
from research.stress.nearest import nearest_correlation
from research.stress.windows import StressWindow, Window, window_label

__all__ = ["CorrelationBand", "PSDRepair", "StressedCorrelation"]


@dataclass(frozen=True)
class CorrelationBand:
    """Entry-wise lower and upper bounds around a correlation matrix.

    Attributes
    ----------
    lower, upper : pandas.DataFrame
        Entry-wise bounds (asset x asset). Each bound is a collection of per-pair
        quantiles, not itself a correlation matrix, and is not repaired.
    level : float
        Two-sided coverage, e.g. 0.90 for the 5% and 95% quantiles.
    method : str
        How the band was obtained (``"bootstrap"`` or ``"path quantiles"``).
    n_samples : int
        Bootstrap replications or path length behind the quantiles.
    """

    lower: pd.DataFrame
    upper: pd.DataFrame
    level: float
    method: str
    n_samples: int


@dataclass(frozen=True)
class PSDRepair:
    """How a non-PSD estimate was repaired by :func:`~research.stress.nearest_correlation`.

    Attributes
    ----------
    distance : float
        Frobenius distance between the raw and the repaired matrix.
    iterations : int
        Alternating-projection iterations.
    converged : bool
        Whether the repair met its tolerance.
    input_min_eigenvalue : float
        Smallest eigenvalue of the raw estimate (negative).
    """

    distance: float
    iterations: int
    converged: bool
    input_min_eigenvalue: float


@dataclass(frozen=True)
class StressedCorrelation:
    """A labelled correlation matrix with its provenance.

    Attributes
    ----------
    matrix : pandas.DataFrame
        Correlation matrix (asset x asset): symmetric, unit diagonal, positive
        semi-definite (repaired if the raw estimate was not).
    method : str
        Estimator, e.g. ``"sample"``, ``"ewma"``, ``"dcc-mean"``.
    window : StressWindow, tuple of StressWindow, or None
        Window the estimate was asked for (a tuple: the union of several windows;
        ``None``: the whole sample).
    start, end : pandas.Timestamp or None
        First and last date actually used.
    nobs : int
        Observations used.
    band : CorrelationBand or None
        Confidence band (bootstrap) or quantile band, where the method has one.
    repair : PSDRepair or None
        Set when the raw estimate was not PSD and was repaired.
    dropped : int
        Rows dropped because an asset had no value (counted, and warned about).
    info : mapping
        Method-specific settings and by-products (decay, shrinkage intensity, ...).
    warnings : tuple of str
        Every warning raised while estimating.
    """

    matrix: pd.DataFrame
    method: str
    window: Window | None
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    nobs: int
    band: CorrelationBand | None = None
    repair: PSDRepair | None = None
    dropped: int = 0
    info: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))

    @property
    def repaired(self) -> bool:
        """Whether the raw estimate was repaired to be positive semi-definite."""
        return self.repair is not None

    @property
    def assets(self) -> list:
        """Asset labels, in matrix order."""
        return list(self.matrix.columns)

    def pairs(self) -> pd.DataFrame:
        """Return the off-diagonal entries as a tidy table.

        Returns
        -------
        pandas.DataFrame
            Columns ``asset_1``, ``asset_2``, ``correlation`` and, with a band, ``lower``
            and ``upper``; one row per unordered pair, in matrix order.
        """
        labels = self.assets
        i, j = np.triu_indices(len(labels), 1)
        table = pd.DataFrame(
            {
                "asset_1": [labels[k] for k in i],
                "asset_2": [labels[k] for k in j],
                "correlation": self.matrix.to_numpy()[i, j],
            }
        )
        if self.band is not None:
            table["lower"] = self.band.lower.to_numpy()[i, j]
            table["upper"] = self.band.upper.to_numpy()[i, j]
        return table

    def summary(self) -> pd.Series:
        """Provenance of the estimate in one labelled series.

        Returns
        -------
        pandas.Series
            method, window, dates, nobs, dropped rows, average correlation, repair and
            warnings count.
        """
        values = self.matrix.to_numpy()
        off_diagonal = values[~np.eye(len(values), dtype=bool)]
        return pd.Series(
            {
                "method": self.method,
                "window": _window_name(self.window),
                "start": self.start,
                "end": self.end,
                "nobs": self.nobs,
                "dropped": self.dropped,
                "mean_correlation": float(off_diagonal.mean()) if off_diagonal.size else 1.0,
                "repaired": self.repaired,
                "repair_distance": self.repair.distance if self.repair else 0.0,
                "band": None if self.band is None else f"{self.band.level:.0%} {self.band.method}",
                "warnings": len(self.warnings),
            },
            name=self.method,
            dtype=object,
        )

    def __str__(self) -> str:
        lines = [f"StressedCorrelation ({self.method})"]
        lines += [f"  {key}: {value}" for key, value in self.summary().items()]
        lines += [f"  warning: {note}" for note in self.warnings]
        lines.append(self.matrix.round(3).to_string())
        return "\n".join(lines)


def build_result(
    values: Float64Array2D,
    labels: list,
    *,
    method: str,
    window: Window | None,
    dates: pd.DatetimeIndex | None,
    nobs: int,
    band: CorrelationBand | None = None,
    dropped: int = 0,
    info: Mapping[str, Any] | None = None,
    notes: tuple[str, ...] | list[str] = (),
) -> StressedCorrelation:
    """Symmetrize, check and (if needed) repair a raw estimate, then wrap it.

    Parameters
    ----------
    values : numpy.ndarray, shape (n, n)
        Raw correlation estimate (finite).
    labels : list
        Asset labels.
    method : str
        Estimator name.
    window : StressWindow, tuple of StressWindow, or None
        Requested window.
    dates : pandas.DatetimeIndex or None
        Dates used (first and last are recorded).
    nobs : int
        Observations used.
    band : CorrelationBand, optional
        Band to attach.
    dropped : int
        Rows dropped.
    info : mapping, optional
        Method-specific by-products.
    notes : sequence of str
        Warnings already emitted.

    Returns
    -------
    StressedCorrelation

    Warns
    -----
    PSDRepairWarning
        If the raw estimate had an eigenvalue below ``-PSD_TOLERANCE`` and was repaired.
    """
    values = 0.5 * (values + values.T)
    np.fill_diagonal(values, 1.0)
    notes = list(notes)
    repair = None
    min_eig = float(np.linalg.eigvalsh(values)[0])
    if min_eig < -PSD_TOLERANCE:
        nearest = nearest_correlation(values)
        where = "" if window is None and dates is None else f" over {window_label(window)}"
        message = (
            f"{method} correlation{where} was not positive "
            f"semi-definite (smallest eigenvalue {min_eig:.3g}); repaired with "
            f"nearest_correlation (Frobenius distance {nearest.distance:.3g}, "
            f"{nearest.iterations} iterations)"
        )
        warnings.warn(message, PSDRepairWarning, stacklevel=3)
        notes.append(message)
        notes.extend(nearest.warnings)
        values = nearest.matrix.to_numpy()
        repair = PSDRepair(
            distance=nearest.distance,
            iterations=nearest.iterations,
            converged=nearest.converged,
            input_min_eigenvalue=min_eig,
        )
    has_dates = dates is not None and len(dates) > 0
    return StressedCorrelation(
        matrix=pd.DataFrame(values, index=labels, columns=labels),
        method=method,
        window=window,
        start=dates[0] if has_dates else None,
        end=dates[-1] if has_dates else None,
        nobs=int(nobs),
        band=band,
        repair=repair,
        dropped=int(dropped),
        info=dict(info or {}),
        warnings=tuple(notes),
    )


def _window_name(window: Window | None) -> str:
    """Short name of a window, a union of windows or the whole sample."""
    if window is None:
        return "whole sample"
    if isinstance(window, StressWindow):
        return window.name
    return "+".join(w.name for w in window)
