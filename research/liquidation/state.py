"""The state a cascade starts from: accounts, the venue's rules and the exogenous shock path.

- :class:`Accounts`: signed positions, entry prices and USD collateral of many accounts, each
  ``"cross"`` (one pot for everything) or ``"isolated"`` (one pot per position);
- :class:`VenueProfile`: maintenance rule, liquidation fee, partial-liquidation rule, insurance
  fund and auto-deleveraging (ADL) rule (spec §4); :func:`hl_like`, :func:`binance_like`,
  :func:`dydx_like` give the spec's default profiles (§4.7);
- :class:`ShockPath`: exogenous log returns per step, with optional intrabar lows and highs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from research.errors import DataError, ParameterError, SpecificationError
from research.liquidation.maintenance import Maintenance, TieredMaintenance
from research.margin.venues import MarginTiers

__all__ = [
    "Accounts",
    "AdlRule",
    "PartialRule",
    "ShockPath",
    "VenueProfile",
    "binance_like",
    "dydx_like",
    "hl_like",
]

Mode = Literal["cross", "isolated"]
Ranking = Literal["pnl", "leverage_pnl", "hl_index", "random"]
Allocation = Literal["queue", "pro_rata_qty", "pro_rata_pnl"]
_RANKINGS = ("pnl", "leverage_pnl", "hl_index", "random")
_ALLOCATIONS = ("queue", "pro_rata_qty", "pro_rata_pnl")


def _frame(values: pd.DataFrame, what: str) -> pd.DataFrame:
    frame = pd.DataFrame(values).astype(float)
    bad = ~np.isfinite(frame.to_numpy())
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"{int(bad.sum())} non-finite {what} (first: account {frame.index[i]!r}, asset "
            f"{frame.columns[j]!r})"
        )
    return frame


@dataclass(frozen=True)
class Accounts:
    """Accounts holding perpetual positions against USD collateral.

    Parameters
    ----------
    quantities : pandas.DataFrame
        Accounts x assets signed quantities (long > 0, 0 for none).
    entry : pandas.DataFrame
        Entry price of every position, same shape and labels (> 0 where a position is held).
    collateral : pandas.Series
        USD collateral per account (>= 0). For an isolated account it is split across its
        positions by ``isolated_margin`` or, by default, pro rata to their notional at entry.
    mode : {"cross", "isolated"} or pandas.Series
        Margin mode of every account (one for all, or per account).
    isolated_margin : pandas.DataFrame, optional
        Collateral of each isolated position (rows of isolated accounts must sum to their
        collateral).

    Raises
    ------
    DataError
        Negative or non-finite collateral, non-finite quantities, non-positive entry prices of
        held positions, mismatched labels.
    SpecificationError
        An unknown mode.
    """

    quantities: pd.DataFrame
    entry: pd.DataFrame
    collateral: pd.Series
    mode: Mode | pd.Series = "cross"
    isolated_margin: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        q = _frame(self.quantities, "quantities")
        if q.index.has_duplicates or q.columns.has_duplicates:
            raise DataError("account and asset labels of Accounts must be unique")
        entry = _frame(self.entry, "entry prices")
        if not (entry.index.equals(q.index) and entry.columns.equals(q.columns)):
            raise DataError("entry must have the same accounts and assets as quantities")
        held = q.to_numpy() != 0
        if (entry.to_numpy()[held] <= 0).any():
            i, j = np.argwhere(held & (entry.to_numpy() <= 0))[0]
            raise DataError(
                f"entry price of account {q.index[i]!r} in {q.columns[j]!r} is "
                f"{entry.iat[i, j]}; a held position needs a positive entry price"
            )
        collateral = pd.Series(self.collateral, dtype=float).reindex(q.index)
        if collateral.isna().any() or not np.isfinite(collateral.to_numpy()).all():
            raise DataError("collateral must be finite and given for every account")
        if (collateral < 0).any():
            first = collateral.index[collateral.to_numpy() < 0][0]
            raise DataError(
                f"collateral of account {first!r} is {collateral[first]}; collateral is >= 0 "
                "(a debt is not collateral)"
            )
        mode = (
            pd.Series(self.mode, index=q.index, dtype=object)
            if isinstance(self.mode, str)
            else pd.Series(self.mode, dtype=object).reindex(q.index)
        )
        unknown = sorted(set(map(str, mode.unique())) - {"cross", "isolated"})
        if unknown:
            raise SpecificationError(f"account mode must be 'cross' or 'isolated', got {unknown}")
        margin = None
        if self.isolated_margin is not None:
            margin = _frame(self.isolated_margin, "isolated margins").reindex_like(q).fillna(0.0)
            iso = (mode == "isolated").to_numpy()
            if (margin.to_numpy() < 0).any():
                raise DataError("isolated margins must be >= 0")
            gap = np.abs(margin.to_numpy()[iso].sum(axis=1) - collateral.to_numpy()[iso])
            if (gap > 1e-9 * np.maximum(collateral.to_numpy()[iso], 1.0)).any():
                raise DataError("isolated margins of an account must sum to its collateral")
        object.__setattr__(self, "quantities", q)
        object.__setattr__(self, "entry", entry.where(held, 0.0))
        object.__setattr__(self, "collateral", collateral)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "isolated_margin", margin)

    @property
    def assets(self) -> tuple[str, ...]:
        """Asset labels (columns)."""
        return tuple(map(str, self.quantities.columns))

    @property
    def n_accounts(self) -> int:
        """Number of accounts."""
        return int(self.quantities.shape[0])

    def with_mode(self, mode: Mode) -> Accounts:
        """Return the same accounts, all in ``mode`` (isolated: collateral pro rata to notional)."""
        return Accounts(self.quantities, self.entry, self.collateral, mode)

    def open_interest(self) -> pd.Series:
        """Long open interest per asset in units (the sum of the long quantities)."""
        return self.quantities.clip(lower=0).sum().rename("open_interest")


@dataclass(frozen=True)
class PartialRule:
    """Partial liquidation: positions above a notional send only a fraction, then a cooldown.

    Hyperliquid: positions above 100,000 USDC send 20% as a market order; for 30 s after
    a partial liquidation every order of that user is for the entire position [S13c][S13d].

    Parameters
    ----------
    threshold : float
        Position notional (USD) above which a liquidation is partial.
    fraction : float
        Share of the position sent when partial.
    cooldown_rounds : int
        Rounds after a partial liquidation during which the pot is liquidated in full
        (30 with one round per second, an assumption of the spec §6).
    """

    threshold: float = 100_000.0
    fraction: float = 0.2
    cooldown_rounds: int = 30

    def __post_init__(self) -> None:
        if not (math.isfinite(self.threshold) and self.threshold >= 0):
            raise ParameterError(f"partial threshold is {self.threshold!r}; give USD >= 0")
        if not 0.0 < self.fraction <= 1.0:
            raise ParameterError(f"partial fraction is {self.fraction!r}; give a share in (0, 1]")
        if int(self.cooldown_rounds) < 0:
            raise ParameterError("cooldown_rounds must be >= 0")


@dataclass(frozen=True)
class AdlRule:
    """Auto-deleveraging of what the insurance fund cannot cover (spec §4, §6 step 7).

    Parameters
    ----------
    timing : {"post_trade", "pre_trade"}
        ``post_trade``: after book fills, the shortfall the fund cannot pay is deleveraged
        against opposite-side profitable pots. ``pre_trade``: a projected-bankrupt pot sends to
        the book only the common fraction ``theta*`` whose bad debt the fund can pay; the rest
        is closed against counterparties off-book (no price impact).
    price : {"bankruptcy", "mark"}
        ADL price of the bankrupt position: its bankruptcy price (Binance, Bybit, dYdX) or the
        previous mark, the book price before the sub-step's exogenous move (Hyperliquid
        [S13f]; what it leaves uncovered goes to the fund, what it over-collects is the
        ADL overshoot of [S20][S21]). Only ``pre_trade`` ADL uses it; ``post_trade`` ADL
        collects exactly the shortfall.
    ranking : {"pnl", "leverage_pnl", "hl_index", "random"}
        Queue order of counterparties: unrealised P&L; Binance's LeveragePnL
        ``max(0, upnl)/max(1, wallet) x MM/(wallet + upnl)`` [S14f]; Hyperliquid's
        ``(mark/entry) x (notional/account value)`` [S13f] (for shorts ``entry/mark``: the
        source gives no short variant, an assumption); seeded random (dYdX [S18]).
    allocation : {"queue", "pro_rata_qty", "pro_rata_pnl"}
        Close whole positions in rank order, close pro rata to quantity, or haircut
        profits pro rata to P&L without closing (T3).
    seed : int
        Seed of the random ranking.
    """

    timing: Literal["post_trade", "pre_trade"] = "post_trade"
    price: Literal["bankruptcy", "mark"] = "bankruptcy"
    ranking: Ranking = "pnl"
    allocation: Allocation = "queue"
    seed: int = 0

    def __post_init__(self) -> None:
        checks = (
            ("timing", ("post_trade", "pre_trade")),
            ("price", ("bankruptcy", "mark")),
            ("ranking", _RANKINGS),
            ("allocation", _ALLOCATIONS),
        )
        for name, valid in checks:
            if getattr(self, name) not in valid:
                raise SpecificationError(
                    f"ADL {name} must be one of {valid}, got {getattr(self, name)!r}"
                )


@dataclass(frozen=True)
class VenueProfile:
    """A venue's liquidation rules.

    Parameters
    ----------
    name : str
        Label shown on results.
    maintenance : Maintenance
        Who is below maintenance: :class:`~research.liquidation.TieredMaintenance` or
        :class:`~research.liquidation.EngineMaintenance` (a :mod:`research.margin` engine).
    liquidation_fee : float
        Fee on filled notional, capped at the residual equity, paid into the insurance fund.
    partial : PartialRule or "full"
        Partial-liquidation rule, or ``"full"`` (every liquidation closes the pot).
    insurance_fund : float
        Initial insurance-fund balance (USD, >= 0).
    adl : AdlRule
        Auto-deleveraging rule.

    Raises
    ------
    SpecificationError
        A rule missing (``None``) or of the wrong type.
    ParameterError
        A fee outside [0, 1) or a negative fund.
    """

    name: str
    maintenance: Maintenance
    liquidation_fee: float
    partial: PartialRule | Literal["full"]
    insurance_fund: float
    adl: AdlRule

    def __post_init__(self) -> None:
        for rule, kind in (("maintenance", Maintenance), ("adl", AdlRule)):
            value = getattr(self, rule)
            if value is None or not isinstance(value, kind):
                raise SpecificationError(
                    f"venue profile {self.name!r} has no valid {rule} rule (got {value!r})"
                )
        if not (self.partial == "full" or isinstance(self.partial, PartialRule)):
            raise SpecificationError(
                f"venue profile {self.name!r} needs a partial rule: 'full' or a PartialRule "
                f"(got {self.partial!r})"
            )
        if not (math.isfinite(self.liquidation_fee) and 0.0 <= self.liquidation_fee < 1.0):
            raise ParameterError(f"liquidation_fee is {self.liquidation_fee!r}; give [0, 1)")
        if not (math.isfinite(self.insurance_fund) and self.insurance_fund >= 0):
            raise ParameterError(f"insurance_fund is {self.insurance_fund!r}; give USD >= 0")


#: Hyperliquid mainnet tiers of the spec's snapshot [S13b]: (lower bounds, max leverage).
HL_TIERS: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "BTC": ((0.0, 150e6), (40.0, 20.0)),
    "ETH": ((0.0, 100e6), (25.0, 15.0)),
    "SOL": ((0.0, 70e6), (20.0, 10.0)),
    "XRP": ((0.0, 40e6), (20.0, 10.0)),
    "DOGE": ((0.0, 20e6), (10.0, 5.0)),
    "ADA": ((0.0, 20e6), (10.0, 5.0)),
    "BNB": ((0.0, 3e6), (10.0, 5.0)),
}


def hl_like(insurance_fund: float = 0.0, **changes: object) -> VenueProfile:
    """Hyperliquid-like profile (spec §4.1, §4.7).

    Tiers of :data:`HL_TIERS` (maintenance = half the initial rate at max leverage), no
    liquidation fee [S13d], 20% partial above 100k USDC with a 30-round cooldown [S13c], ADL at
    the previous mark ranked by ``(mark/entry) x (notional/account value)`` [S13f]. The
    backstop vault is not modelled. ``changes`` override fields.
    """
    tiers = {a: MarginTiers(*spec) for a, spec in HL_TIERS.items()}
    fields = {
        "name": "hl_like",
        "maintenance": TieredMaintenance(tiers),
        "liquidation_fee": 0.0,
        "partial": PartialRule(),
        "insurance_fund": insurance_fund,
        "adl": AdlRule(timing="pre_trade", price="mark", ranking="hl_index"),
    }
    return VenueProfile(**{**fields, **changes})  # type: ignore[arg-type]


def binance_like(
    maintenance_rate: float = 0.005, insurance_fund: float = 0.0, **changes: object
) -> VenueProfile:
    """Binance-like profile (spec §4.2, §4.7).

    Brackets are **not found** as text: one flat ``maintenance_rate`` (a parameter); fee 0.5%
    (older documentation [S14e]); full liquidation; ADL at the bankruptcy price ranked by
    LeveragePnL [S14a][S14f].
    """
    fields = {
        "name": "binance_like",
        "maintenance": TieredMaintenance.flat(maintenance_rate),
        "liquidation_fee": 0.005,
        "partial": "full",
        "insurance_fund": insurance_fund,
        "adl": AdlRule(timing="post_trade", price="bankruptcy", ranking="leverage_pnl"),
    }
    return VenueProfile(**{**fields, **changes})  # type: ignore[arg-type]


def dydx_like(insurance_fund: float = 0.0, **changes: object) -> VenueProfile:
    """dYdX-v4-like profile (spec §4.5, §4.7).

    Large-cap maintenance 1.2% (IM 2% x fraction 60%, genesis.sh [S18]), fee 1.5%
    (genesis.sh), full liquidation, ADL of the whole bankrupt position at its bankruptcy price
    against counterparties in seeded random order.
    """
    fields = {
        "name": "dydx_like",
        "maintenance": TieredMaintenance.flat(0.012),
        "liquidation_fee": 0.015,
        "partial": "full",
        "insurance_fund": insurance_fund,
        "adl": AdlRule(timing="post_trade", price="bankruptcy", ranking="random"),
    }
    return VenueProfile(**{**fields, **changes})  # type: ignore[arg-type]


@dataclass(frozen=True)
class ShockPath:
    """Exogenous log returns per (sub-)step.

    Parameters
    ----------
    log_returns : pandas.DataFrame
        Rows are sub-steps in time order, columns assets; each row moves every book price by
        ``exp(r)`` before that sub-step's cascade.
    step : pandas.Index
        The step (bar) each row belongs to (metrics are reported per step).
    phase : tuple of str
        What each row is: ``"close"``, or ``"low"``/``"high"`` for intrabar extremes.

    Use :meth:`from_returns` or :meth:`from_prices` to build one.
    """

    log_returns: pd.DataFrame
    step: pd.Index
    phase: tuple[str, ...]

    def __post_init__(self) -> None:
        r = _frame(self.log_returns, "log returns")
        if len(self.step) != len(r) or len(self.phase) != len(r):
            raise DataError("step and phase need one entry per row of log_returns")
        object.__setattr__(self, "log_returns", r)
        object.__setattr__(self, "step", pd.Index(self.step))
        object.__setattr__(self, "phase", tuple(self.phase))

    @property
    def assets(self) -> tuple[str, ...]:
        """Asset labels."""
        return tuple(map(str, self.log_returns.columns))

    @classmethod
    def from_returns(cls, log_returns: pd.DataFrame) -> ShockPath:
        """One sub-step per row (phase ``"close"``)."""
        frame = pd.DataFrame(log_returns)
        return cls(frame.reset_index(drop=True), frame.index, ("close",) * len(frame))

    @classmethod
    def from_prices(
        cls,
        close: pd.DataFrame,
        low: pd.DataFrame | None = None,
        high: pd.DataFrame | None = None,
    ) -> ShockPath:
        """Path of bars from the first close; with wicks, each later bar is low, high, close.

        Longs are tested at the bar's low and shorts at its high (the worst intrabar move of
        each side), then the bar ends at its close.

        Raises
        ------
        DataError
            Non-positive or missing prices, wicks that do not bracket the close, or
            mismatched labels.
        """
        frames = {"close": pd.DataFrame(close)}
        for name, frame in (("low", low), ("high", high)):
            if frame is not None:
                frames[name] = pd.DataFrame(frame).reindex_like(frames["close"])
        for name, frame in frames.items():
            values = frame.to_numpy(dtype=float)
            if not (np.isfinite(values) & (values > 0)).all():
                raise DataError(f"{name} prices must be finite and > 0 at every step")
        c = frames["close"].to_numpy(dtype=float)
        lo = frames["low"].to_numpy(dtype=float) if "low" in frames else c
        hi = frames["high"].to_numpy(dtype=float) if "high" in frames else c
        if (lo > c * (1 + 1e-12)).any() or (hi < c * (1 - 1e-12)).any():
            raise DataError("a bar's low is above its close or its high below it")
        rows, steps, phases = [], [], []
        previous = c[0]
        for t in range(1, len(c)):
            for name, level in (("low", lo[t]), ("high", hi[t]), ("close", c[t])):
                if name != "close" and name not in frames:
                    continue
                rows.append(np.log(level / previous))
                steps.append(frames["close"].index[t])
                phases.append(name)
                previous = level
        returns = pd.DataFrame(rows, columns=frames["close"].columns, dtype=float)
        return cls(returns, pd.Index(steps), tuple(phases))
