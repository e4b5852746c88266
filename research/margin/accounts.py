"""Cross account vs isolated sub-accounts: equity, maintenance margin and liquidation along paths.

A cross account pools collateral: its equity is the collateral plus the P&L of every position,
and when it falls below the maintenance margin **all** positions are liquidated. Isolated
sub-accounts hold one position each with its own collateral and margin, so a losing position
liquidates only itself. Comparing the two on the same scenario paths measures contagion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D, Float64Array3D
from research.errors import DataError, ParameterError
from research.margin.base import MarginResult
from research.portfolio import Market, Portfolio, Scenarios

__all__ = [
    "AccountPaths",
    "AccountComparison",
    "CrossAccount",
    "IsolatedAccounts",
    "compare_accounts",
    "position_pnl_paths",
    "DEFAULT_MAINTENANCE_FRACTION",
]

DEFAULT_MAINTENANCE_FRACTION = 0.5
"""Maintenance margin as a share of initial margin unless configured otherwise."""


def _check_fraction(value: float) -> float:
    if not (math.isfinite(value) and 0.0 < value <= 1.0):
        raise ParameterError(f"maintenance_fraction is {value}; give a share in (0, 1]")
    return float(value)


def _check_buffer(buffer: float) -> float:
    if not (math.isfinite(buffer) and buffer >= 1.0):
        raise ParameterError(
            f"buffer is {buffer}; collateral is a finite multiple >= 1 of the initial margin"
        )
    return float(buffer)


def position_pnl_paths(
    portfolio: Portfolio,
    market: Market,
    moves: Float64Array3D,
    underlyings: Sequence[str],
    kind: Literal["log", "relative"] = "log",
) -> Float64Array3D:
    """Full-revaluation P&L of every position along scenario paths.

    Parameters
    ----------
    portfolio : Portfolio
        The positions.
    market : Market
        Market at the start of the paths.
    moves : ndarray of shape (n_paths, n_steps, n_underlyings)
        **Cumulative** decimal moves from the start to each step (e.g. cumulative sums of
        simulated daily log returns).
    underlyings : sequence of str
        Labels of the last axis of ``moves``.
    kind : {"log", "relative"}
        How moves apply to prices.

    Returns
    -------
    ndarray of shape (n_paths, n_steps, n_positions)
    """
    moves = np.asarray(moves, dtype=float)
    if moves.ndim != 3:
        raise DataError(f"moves must be (paths, steps, underlyings), got shape {moves.shape}")
    n_paths, n_steps, n_und = moves.shape
    scenarios = Scenarios.from_array(moves.reshape(-1, n_und), list(underlyings), kind=kind)
    pnl = portfolio.pnl(market, scenarios).to_numpy()
    return pnl.reshape(n_paths, n_steps, len(portfolio))


@dataclass(frozen=True, eq=False)
class AccountPaths:
    """Equity and liquidation of account(s) along scenario paths.

    Attributes
    ----------
    mode : {"cross", "isolated"}
        One pooled account, or one sub-account per position.
    equity : ndarray
        ``(paths, steps)`` for cross, ``(paths, steps, positions)`` for isolated.
    maintenance : ndarray
        Maintenance margin: shape ``()`` (cross) or ``(positions,)`` (isolated).
    liquidated : ndarray of bool
        ``(paths,)`` or ``(paths, positions)``: equity fell below maintenance at some step.
    liquidation_step : ndarray of int
        First step with ``equity < maintenance``; -1 if never.
    shortfall : ndarray
        Negative equity (bad debt) at the liquidation step, 0 if none or never liquidated.
    positions : tuple of str
        Position labels.
    """

    mode: Literal["cross", "isolated"]
    equity: np.ndarray
    maintenance: np.ndarray
    liquidated: np.ndarray
    liquidation_step: np.ndarray
    shortfall: np.ndarray
    positions: tuple[str, ...]

    @property
    def positions_liquidated(self) -> Float64Array:
        """Number of positions closed on each path (all of them when a cross account fails)."""
        if self.mode == "cross":
            return self.liquidated * float(len(self.positions))
        return self.liquidated.sum(axis=1).astype(float)

    def summary(self) -> pd.Series:
        """Liquidation probability, mean positions liquidated, mean and max shortfall."""
        any_liq = self.liquidated if self.mode == "cross" else self.liquidated.any(axis=1)
        shortfall = self.shortfall if self.mode == "cross" else self.shortfall.sum(axis=1)
        return pd.Series(
            {
                "paths": float(len(any_liq)),
                "liquidation_probability": float(any_liq.mean()),
                "mean_positions_liquidated": float(self.positions_liquidated.mean()),
                "mean_shortfall": float(shortfall.mean()),
                "max_shortfall": float(shortfall.max()),
            },
            name=self.mode,
        )


def _liquidation(
    equity: np.ndarray, maintenance: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    below = equity < maintenance
    liquidated = below.any(axis=1)
    step = np.where(liquidated, np.argmax(below, axis=1), -1)
    at_step = np.take_along_axis(equity, np.maximum(step, 0)[:, None, ...], axis=1)[:, 0, ...]
    shortfall = np.where(liquidated, np.maximum(-at_step, 0.0), 0.0)
    return liquidated, step, shortfall


def _check_paths(pnl_paths: np.ndarray) -> np.ndarray:
    pnl = np.asarray(pnl_paths, dtype=float)
    if pnl.ndim != 3:
        raise DataError(f"pnl_paths must be (paths, steps, positions), got shape {pnl.shape}")
    if not np.isfinite(pnl).all():
        raise DataError(f"{int((~np.isfinite(pnl)).sum())} non-finite P&L values in the paths")
    return pnl


@dataclass(frozen=True)
class CrossAccount:
    """One collateral pool for all positions.

    Parameters
    ----------
    collateral : float
        Collateral value at the start (reporting currency), >= ``initial_margin``.
    initial_margin : float
        Initial (cross) margin of the portfolio, >= 0.
    maintenance_fraction : float
        Maintenance margin as a share of initial margin, in (0, 1].

    Notes
    -----
    ``equity_t = collateral + collateral_pnl_t + sum_i pnl_{i,t}``; the account is liquidated
    (every position closed) at the first step with ``equity_t < maintenance_fraction * IM``.
    """

    collateral: float
    initial_margin: float
    maintenance_fraction: float = DEFAULT_MAINTENANCE_FRACTION

    def __post_init__(self) -> None:
        _check_fraction(self.maintenance_fraction)
        if not (math.isfinite(self.initial_margin) and self.initial_margin >= 0):
            raise ParameterError(f"initial_margin is {self.initial_margin}; give a value >= 0")
        if not math.isfinite(self.collateral):
            raise ParameterError(f"collateral is {self.collateral}; give a finite amount")
        if not self.collateral >= self.initial_margin:
            raise ParameterError(
                f"collateral {self.collateral} is below the initial margin "
                f"{self.initial_margin}; the account cannot open"
            )

    @classmethod
    def from_margin(
        cls,
        result: MarginResult,
        buffer: float = 1.0,
        maintenance_fraction: float = DEFAULT_MAINTENANCE_FRACTION,
    ) -> CrossAccount:
        """Account funded with ``buffer`` (>= 1) times the cross margin of ``result``."""
        return cls(_check_buffer(buffer) * result.cross, result.cross, maintenance_fraction)

    @property
    def maintenance_margin(self) -> float:
        """``maintenance_fraction * initial_margin``."""
        return self.maintenance_fraction * self.initial_margin

    def run(
        self,
        pnl_paths: Float64Array3D,
        collateral_pnl: Float64Array2D | None = None,
        positions: Sequence[str] | None = None,
    ) -> AccountPaths:
        """Equity and liquidation along paths.

        Parameters
        ----------
        pnl_paths : ndarray of shape (n_paths, n_steps, n_positions)
            Cumulative P&L of each position at each step (see :func:`position_pnl_paths`).
        collateral_pnl : ndarray of shape (n_paths, n_steps), optional
            Change in value of the collateral itself (e.g. coin collateral of a coin-margined
            account revalued at the scenario price).
        positions : sequence of str, optional
            Position labels.

        Returns
        -------
        AccountPaths
        """
        pnl = _check_paths(pnl_paths)
        equity = self.collateral + pnl.sum(axis=2)
        if collateral_pnl is not None:
            equity = equity + np.asarray(collateral_pnl, dtype=float)
        maintenance = np.asarray(self.maintenance_margin)
        liquidated, step, shortfall = _liquidation(equity, maintenance)
        labels = (
            tuple(positions)
            if positions is not None
            else tuple(str(i) for i in range(pnl.shape[2]))
        )
        return AccountPaths("cross", equity, maintenance, liquidated, step, shortfall, labels)


@dataclass(frozen=True)
class IsolatedAccounts:
    """One sub-account per position, each with its own collateral and margin.

    Parameters
    ----------
    collateral : pandas.Series
        Starting collateral per position, each >= its initial margin.
    initial_margin : pandas.Series
        Isolated initial margin per position (same labels).
    maintenance_fraction : float
        Maintenance margin as a share of initial margin, in (0, 1].

    Notes
    -----
    ``equity_{i,t} = collateral_i + collateral_pnl_{i,t} + pnl_{i,t}``; sub-account ``i`` alone
    is liquidated at the first step with ``equity_{i,t} < maintenance_fraction * IM_i``.
    """

    collateral: pd.Series
    initial_margin: pd.Series
    maintenance_fraction: float = DEFAULT_MAINTENANCE_FRACTION

    def __post_init__(self) -> None:
        _check_fraction(self.maintenance_fraction)
        collateral = pd.Series(self.collateral, dtype=float)
        margin = pd.Series(self.initial_margin, dtype=float)
        if not collateral.index.equals(margin.index):
            raise DataError("collateral and initial_margin must have the same position labels")
        if not (np.isfinite(margin).all() and (margin >= 0).all()):
            raise ParameterError("isolated initial margins must be finite and >= 0")
        infinite = collateral.index[~np.isfinite(collateral)]
        if len(infinite):
            raise ParameterError(
                f"collateral is not finite for {list(infinite)}; give finite amounts"
            )
        short = collateral.index[~(collateral >= margin)]
        if len(short):
            raise ParameterError(
                f"collateral below initial margin for {list(short)}; those sub-accounts cannot open"
            )
        object.__setattr__(self, "collateral", collateral)
        object.__setattr__(self, "initial_margin", margin)

    @classmethod
    def from_margin(
        cls,
        result: MarginResult,
        buffer: float = 1.0,
        maintenance_fraction: float = DEFAULT_MAINTENANCE_FRACTION,
    ) -> IsolatedAccounts:
        """Sub-accounts each funded with ``buffer`` (>= 1) times their isolated margin."""
        return cls(_check_buffer(buffer) * result.isolated, result.isolated, maintenance_fraction)

    @property
    def maintenance_margin(self) -> pd.Series:
        """``maintenance_fraction * initial_margin`` per position."""
        return self.maintenance_fraction * self.initial_margin

    def run(
        self, pnl_paths: Float64Array3D, collateral_pnl: Float64Array3D | None = None
    ) -> AccountPaths:
        """Equity and liquidation of every sub-account along paths.

        Parameters
        ----------
        pnl_paths : ndarray of shape (n_paths, n_steps, n_positions)
            Cumulative P&L of each position, positions in the order of ``collateral``.
        collateral_pnl : ndarray of shape (n_paths, n_steps, n_positions), optional
            Change in value of each sub-account's collateral.

        Returns
        -------
        AccountPaths
        """
        pnl = _check_paths(pnl_paths)
        if pnl.shape[2] != len(self.collateral):
            raise DataError(
                f"pnl_paths has {pnl.shape[2]} positions, the accounts {len(self.collateral)}"
            )
        equity = self.collateral.to_numpy() + pnl
        if collateral_pnl is not None:
            equity = equity + np.asarray(collateral_pnl, dtype=float)
        maintenance = self.maintenance_margin.to_numpy()
        liquidated, step, shortfall = _liquidation(equity, maintenance)
        return AccountPaths(
            "isolated",
            equity,
            maintenance,
            liquidated,
            step,
            shortfall,
            tuple(map(str, self.collateral.index)),
        )


@dataclass(frozen=True, eq=False)
class AccountComparison:
    """The same paths run through a cross account and through isolated sub-accounts.

    Attributes
    ----------
    cross : AccountPaths
        The pooled account.
    isolated : AccountPaths
        One sub-account per position.
    """

    cross: AccountPaths
    isolated: AccountPaths

    @property
    def contagion(self) -> Float64Array:
        """Per path, positions closed by the cross account that survive on their own.

        A position counts when the cross account is liquidated on the path and the position's
        isolated sub-account is never liquidated on it.
        """
        survivors = (~self.isolated.liquidated).sum(axis=1)
        return np.where(self.cross.liquidated, survivors, 0).astype(float)

    def summary(self) -> pd.DataFrame:
        """Cross and isolated summaries side by side, with mean contagion."""
        table = pd.concat([self.cross.summary(), self.isolated.summary()], axis=1)
        table.loc["mean_contagion"] = [float(self.contagion.mean()), 0.0]
        return table


def compare_accounts(
    result: MarginResult,
    pnl_paths: Float64Array3D,
    buffer: float = 1.0,
    maintenance_fraction: float = DEFAULT_MAINTENANCE_FRACTION,
) -> AccountComparison:
    """Run a portfolio's P&L paths through a cross account and through isolated sub-accounts.

    Parameters
    ----------
    result : MarginResult
        Isolated and cross margins of the portfolio (initial margins).
    pnl_paths : ndarray of shape (n_paths, n_steps, n_positions)
        Cumulative position P&L, positions in the order of ``result.isolated``.
    buffer : float
        Collateral as a multiple of the initial margin (>= 1), for both set-ups.
    maintenance_fraction : float
        Maintenance margin as a share of initial margin.

    Returns
    -------
    AccountComparison
    """
    cross = CrossAccount.from_margin(result, buffer, maintenance_fraction)
    isolated = IsolatedAccounts.from_margin(result, buffer, maintenance_fraction)
    labels = tuple(map(str, result.isolated.index))
    return AccountComparison(cross.run(pnl_paths, positions=labels), isolated.run(pnl_paths))
