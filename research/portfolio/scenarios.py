"""Scenario sets: instantaneous moves of the underlyings (and their implied volatilities)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from research._typing import Float64Array1D, Float64Array2D
from research.errors import DataError, SpecificationError, UnknownUnderlyingError
from research.portfolio.market import Market

__all__ = ["Scenarios"]

ReturnKind = Literal["log", "relative"]


def _check_frame(frame: pd.DataFrame, what: str) -> None:
    values = frame.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"{int(bad.sum())} non-finite {what} (first: scenario {frame.index[i]!r}, "
            f"underlying {frame.columns[j]!r}); drop or fill those scenarios first"
        )


@dataclass(frozen=True)
class Scenarios:
    """A matrix of instantaneous moves, one row per scenario, one column per underlying.

    Parameters
    ----------
    moves : pandas.DataFrame
        Scenario x underlying returns as **decimals** (0.05 = 5%).
    kind : {"log", "relative"}
        ``"log"``: scenario spot ``S' = S exp(move)``; ``"relative"``: ``S' = S (1 + move)``
        (a relative move <= -1 is rejected).
    vol_shifts : pandas.DataFrame, optional
        Absolute implied-volatility shifts (0.05 = +5 volatility points) with the same labels as
        ``moves``; missing means no volatility change. Only options are affected.
    description : str
        Where the scenarios come from (recorded in margin results).
    warnings : tuple of str
        Data problems met while building the set (e.g. rows dropped), kept for the results.

    Raises
    ------
    DataError
        Non-finite moves or shifts, relative moves <= -1, mismatched labels.
    """

    moves: pd.DataFrame
    kind: ReturnKind = "log"
    vol_shifts: pd.DataFrame | None = None
    description: str = ""
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("log", "relative"):
            raise SpecificationError(f"kind must be 'log' or 'relative', got {self.kind!r}")
        moves = pd.DataFrame(self.moves).astype(float)
        moves.columns = moves.columns.astype(object)
        if moves.shape[0] == 0:
            raise DataError("the scenario set is empty; give at least one scenario")
        _check_frame(moves, "moves")
        if self.kind == "relative" and (moves.to_numpy() <= -1).any():
            raise DataError(
                "a relative move <= -1 would make a price non-positive; "
                "use kind='log' or cap the moves above -100%"
            )
        object.__setattr__(self, "moves", moves)
        if self.vol_shifts is not None:
            shifts = pd.DataFrame(self.vol_shifts).astype(float)
            shifts.columns = shifts.columns.astype(object)
            if not shifts.index.equals(moves.index) or not set(shifts.columns) <= set(
                moves.columns
            ):
                raise DataError(
                    "vol_shifts must have the scenario labels of moves and a subset "
                    "of its underlyings"
                )
            _check_frame(shifts, "volatility shifts")
            object.__setattr__(self, "vol_shifts", shifts)

    @classmethod
    def from_array(
        cls,
        moves: Float64Array2D,
        underlyings: list[str] | tuple[str, ...],
        kind: ReturnKind = "log",
        vol_shifts: Float64Array2D | None = None,
        labels: pd.Index | list | None = None,
        description: str = "",
    ) -> Scenarios:
        """Build a set from an array ``(n_scenarios, n_underlyings)``, e.g. DCC simulations.

        Parameters
        ----------
        moves : ndarray of shape (n_scenarios, n_underlyings)
            Decimal returns over the horizon of interest (e.g. ``h``-day returns).
        underlyings : sequence of str
            Column labels.
        kind : {"log", "relative"}
            How the moves apply to prices.
        vol_shifts : ndarray of the same shape, optional
            Absolute volatility shifts.
        labels : index-like, optional
            Scenario labels (default ``0..n-1``).
        description : str
            Provenance text.

        Returns
        -------
        Scenarios
        """
        moves = np.asarray(moves, dtype=float)
        if moves.ndim != 2 or moves.shape[1] != len(underlyings):
            raise DataError(
                f"moves has shape {moves.shape}; expected (n_scenarios, "
                f"{len(underlyings)}) for underlyings {list(underlyings)}"
            )
        index = pd.RangeIndex(moves.shape[0]) if labels is None else pd.Index(labels)
        frame = pd.DataFrame(moves, index=index, columns=list(underlyings))
        shifts = (
            None
            if vol_shifts is None
            else pd.DataFrame(
                np.asarray(vol_shifts, dtype=float), index=index, columns=list(underlyings)
            )
        )
        return cls(frame, kind=kind, vol_shifts=shifts, description=description)

    @property
    def n_scenarios(self) -> int:
        """Number of scenarios."""
        return int(self.moves.shape[0])

    @property
    def underlyings(self) -> tuple[str, ...]:
        """Underlyings with moves."""
        return tuple(self.moves.columns)

    def spot(self, market: Market, underlying: str) -> Float64Array1D:
        """Scenario spot prices of one underlying, shape ``(n_scenarios,)``.

        Raises
        ------
        UnknownUnderlyingError
            If the set has no moves for ``underlying`` or the market no spot for it.
        DataError
            If a scenario price overflows (e.g. a log move of 800, or a move of 1e300 on a
            large price); the scenario and its move are named.
        """
        if underlying not in self.moves.columns:
            raise UnknownUnderlyingError(
                f"the scenario set has no moves for underlying {underlying!r} (it has "
                f"{list(self.moves.columns)}); add a column for it"
            )
        move = self.moves[underlying].to_numpy()
        s0 = market.spot_of(underlying)
        with np.errstate(over="ignore"):
            spot = s0 * np.exp(move) if self.kind == "log" else s0 * (1.0 + move)
        bad = ~np.isfinite(spot)
        if bad.any():
            k = int(np.argmax(bad))
            raise DataError(
                f"{self.kind} move {move[k]:.6g} of {underlying!r} in scenario "
                f"{self.moves.index[k]!r} takes the price {s0:.6g} beyond the largest float; "
                "moves are decimals (0.05 = 5%): check their units"
            )
        return spot

    def vol_shift(self, underlying: str) -> Float64Array1D | float:
        """Volatility shifts of one underlying (0.0 when none are given)."""
        if self.vol_shifts is None or underlying not in self.vol_shifts.columns:
            return 0.0
        return self.vol_shifts[underlying].to_numpy()
