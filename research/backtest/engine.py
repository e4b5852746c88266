"""Rolling out-of-sample offset backtest: isolated and cross margin of many portfolios per day.

For each day ``t`` of the test period the engine

1. takes the scenario model fitted at the last refit date ``<= t`` (refits every
   ``refit_every`` days on the ``lookback`` returns ending at the refit date) and its scale
   filtered with the returns up to ``t`` only,
2. revalues every portfolio under every scenario at once,
   ``pnl = exposures @ expm1(x_t / 100).T`` (portfolios x underlyings times underlyings x
   scenarios), plus the full revaluation of option legs,
3. calls the cross margin (VaR or ES of the portfolio loss, optionally capped by an
   :class:`~research.margin.offsets.OffsetPolicy`) and the isolated margin (the sum of each leg's
   own VaR/ES),
4. compares both with the realized loss of the frozen portfolio from ``t`` to ``t + h``.

VaR and ES come from :func:`research.margin.tail.empirical_var_es` (the package's tail
convention: a compiled selection of the tail, or one ``np.partition`` for long tails); nothing
after ``t`` enters a margin at ``t``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from research._random import as_generator
from research._threads import single_threaded_blas
from research._typing import Float64Array1D, Float64Array2D, Seed
from research.backtest.models import (
    FittedScenarios,
    RollingFHS,
    ScenarioModel,
)
from research.backtest.portfolios import TRADING_DAYS, LinearLeg, PortfolioSet
from research.backtest.results import BacktestResult
from research.data import check_return_units, check_time_index
from research.errors import DataError, InsufficientDataError, SpecificationError
from research.margin.offsets import OffsetPolicy
from research.margin.tail import empirical_var_es

__all__ = ["OffsetBacktest", "risk_measure"]

Measure = Literal["var", "es"]


def risk_measure(
    losses: Float64Array2D, level: float, measure: Measure = "var", overwrite: bool = False
) -> Float64Array1D:
    """Empirical VaR or ES of each row of a loss matrix (rows x scenarios).

    Parameters
    ----------
    losses : ndarray of shape (n, n_scenarios)
        Losses (positive = loss) per row and scenario.
    level : float
        Confidence level, e.g. 0.99.
    measure : {"var", "es"}
        Value-at-risk or expected shortfall.
    overwrite : bool
        Partition ``losses`` in place (saves a copy of a large temporary).

    Returns
    -------
    ndarray of shape (n,)

    Raises
    ------
    DataError
        A NaN or infinite loss makes a row's result non-finite.

    Notes
    -----
    The package's single tail convention, computed by
    :func:`research.margin.tail.empirical_var_es`: with
    ``m = ceil((1 - level) S)`` (at least 1, :func:`research.margin.tail.tail_count`),
    ``"var"`` is the ``m``-th largest loss and ``"es"`` the mean of the ``m`` largest losses.

    Examples
    --------
    >>> import numpy as np
    >>> float(risk_measure(np.arange(1.0, 101.0)[None, :], 0.95)[0])
    96.0
    """
    var, es = empirical_var_es(losses, level, axis=1, overwrite=overwrite)
    return var if measure == "var" else es


def _scenario_pnl(
    exposures: Float64Array2D,
    moves: Float64Array2D,
    option_notionals: Float64Array2D,
    option_pnl: Float64Array2D,
    option_rows: np.ndarray,
) -> Float64Array2D:
    """Portfolio x scenario P&L: the engine's matrix products (kept apart for profiling).

    Only the portfolios that hold options (``option_rows``) enter the option product.
    """
    pnl = exposures @ moves.T
    if len(option_rows):
        pnl[option_rows] += option_notionals[option_rows] @ option_pnl
    return pnl


@dataclass(frozen=True)
class _Layout:
    """The portfolio set as arrays: linear legs folded into underlying exposures."""

    exposures: Float64Array2D  # portfolios x underlyings (sensitivity-weighted notional)
    linear: Float64Array2D  # portfolios x linear legs (sensitivity-weighted notional)
    linear_underlying: np.ndarray  # underlying column of each linear leg
    options: Float64Array2D  # portfolios x option legs (notional)
    option_underlying: np.ndarray
    option_legs: tuple
    option_rows: np.ndarray  # portfolios holding at least one option

    @classmethod
    def build(cls, portfolios: PortfolioSet, assets: list[str]) -> _Layout:
        column = {a: k for k, a in enumerate(assets)}
        q = portfolios.notionals.to_numpy()
        lin = [j for j, leg in enumerate(portfolios.legs) if isinstance(leg, LinearLeg)]
        opt = [j for j, leg in enumerate(portfolios.legs) if not isinstance(leg, LinearLeg)]
        sens = np.array([portfolios.legs[j].sensitivity for j in lin])
        lin_u = np.array([column[portfolios.legs[j].underlying] for j in lin], dtype=int)
        linear = np.ascontiguousarray(q[:, lin] * sens)
        mapping = np.zeros((len(lin), len(assets)))
        mapping[np.arange(len(lin)), lin_u] = 1.0
        return cls(
            exposures=np.ascontiguousarray(linear @ mapping),
            linear=linear,
            linear_underlying=lin_u,
            options=np.ascontiguousarray(q[:, opt]),
            option_underlying=np.array(
                [column[portfolios.legs[j].underlying] for j in opt], dtype=int
            ),
            option_legs=tuple(portfolios.legs[j] for j in opt),
            option_rows=np.flatnonzero((q[:, opt] != 0).any(axis=1)),
        )


@dataclass(frozen=True)
class OffsetBacktest:
    """Rolling out-of-sample backtest of isolated versus cross margin.

    Parameters
    ----------
    model : ScenarioModel
        Scenario model refitted every ``refit_every`` days (e.g.
        :class:`~research.backtest.RollingFHS`); its ``horizon`` is the MPOR.
    level : float
        Margin confidence level (e.g. 0.99).
    measure : {"var", "es"}
        Risk measure of the scenario losses.
    refit_every : int
        Days between refits (5 = weekly on a trading calendar); the scale is filtered daily.
    lookback : int
        Returns in each fit window (ending at the refit date).
    offset_policy : OffsetPolicy, optional
        Cap on the recognised offset (:class:`research.margin.offsets.OffsetPolicy`, portfolio
        level only); ``None`` charges the engine's cross margin as is.

    Examples
    --------
    >>> model = RollingFHS(horizon=2)  # doctest: +SKIP
    >>> bt = OffsetBacktest(model, refit_every=5)  # doctest: +SKIP
    >>> result = bt.run(returns, portfolios, start="2015-01-01")  # doctest: +SKIP
    >>> result.summary()  # doctest: +SKIP
    """

    model: ScenarioModel
    level: float = 0.99
    measure: Measure = "var"
    refit_every: int = 5
    lookback: int = 1000
    offset_policy: OffsetPolicy | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.level < 1.0:
            raise SpecificationError(f"level must lie in (0, 1) (e.g. 0.99), got {self.level}")
        if self.measure not in ("var", "es"):
            raise SpecificationError(f"measure must be 'var' or 'es', got {self.measure!r}")
        for name in ("refit_every", "lookback"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise SpecificationError(f"{name} must be a whole number >= 1, got {value!r}")
        if not isinstance(self.model, ScenarioModel):
            raise SpecificationError(
                "model must have name, horizon and fit(returns, seed=, "
                "previous=) (see research.backtest.ScenarioModel)"
            )
        if self.offset_policy is not None and self.offset_policy.needs_pairs:
            raise SpecificationError(
                "pair-level offset policies need per-pair margins, which "
                "this engine does not compute; use per='portfolio' without "
                "breaking pairs"
            )

    @classmethod
    def from_parameters(
        cls,
        parameters: Any,
        volatility: Literal["garch", "ewma"] = "garch",
        refit_every: int = 5,
        measure: Measure = "var",
    ) -> OffsetBacktest:
        """Backtest set up from a calibrated parameter set.

        Parameters
        ----------
        parameters : research.calibration.MarginParameters
            Supplies ``level``, ``mpor`` (the horizon), ``lookback`` and ``offset_cap`` (the
            largest share of the offset recognised, applied as an
            :class:`~research.margin.offsets.OffsetPolicy`).
        volatility : {"garch", "ewma"}
            Filter of the :class:`~research.backtest.RollingFHS` model.
        refit_every : int
            Days between refits.
        measure : {"var", "es"}
            Risk measure.

        Returns
        -------
        OffsetBacktest
        """
        model = RollingFHS(horizon=int(parameters.mpor), volatility=volatility)
        return cls(
            model,
            level=float(parameters.level),
            measure=measure,
            refit_every=refit_every,
            lookback=int(parameters.lookback),
            offset_policy=OffsetPolicy(max_fraction=float(parameters.offset_cap)),
        )

    @property
    def horizon(self) -> int:
        """Margin period of risk in days (the model's horizon)."""
        return int(self.model.horizon)

    def _test_range(self, index: pd.DatetimeIndex, start: object, end: object) -> tuple[int, int]:
        h = self.horizon
        first = self.lookback - 1
        if start is not None:
            requested = int(index.searchsorted(pd.Timestamp(start)))
            if requested < first:
                raise InsufficientDataError(
                    f"start {pd.Timestamp(start).date()} leaves {requested} returns before it; "
                    f"the first fit needs lookback={self.lookback}: start on or after "
                    f"{index[first].date()} or shorten the lookback"
                )
            first = requested
        last = len(index) - 1 - h
        if end is not None:
            last = min(last, int(index.searchsorted(pd.Timestamp(end), side="right")) - 1)
        if last < first:
            raise InsufficientDataError(
                f"no test day: {len(index)} returns, lookback {self.lookback} and horizon {h} "
                "leave no day with both a fit window and a realized loss; give more data"
            )
        return first, last

    def run(
        self,
        returns: pd.DataFrame,
        portfolios: PortfolioSet,
        *,
        start: object = None,
        end: object = None,
        seed: Seed = 0,
        check_units: bool = True,
    ) -> BacktestResult:
        """Backtest every portfolio over the test period.

        Parameters
        ----------
        returns : pandas.DataFrame
            Daily log returns in percent (DatetimeIndex x assets), aligned and without NaN,
            e.g. :func:`research.data.to_returns` of an aligned price panel.
        portfolios : PortfolioSet
            Constant-notional test portfolios.
        start, end : date-like, optional
            First and last margin date (default: from the end of the first fit window to the
            last day that still has ``h`` returns after it).
        seed : int, Generator or None
            Seed of the model's draws (one child stream per refit).
        check_units : bool
            Refuse prices given as returns and decimal returns
            (:func:`research.data.check_return_units`); ``False`` skips that check.

        Returns
        -------
        BacktestResult

        Raises
        ------
        DataError
            Non-finite returns (asset and date named), an index that is not sorted,
            unique dates (:func:`research.data.check_time_index`, naming the first
            offending stamp), or returns that look like prices or decimals.
        UnknownUnderlyingError
            Portfolio legs on assets missing from ``returns``.
        InsufficientDataError
            Too few returns for one fit window plus one horizon.
        """
        check_time_index(returns, what="returns")
        portfolios.check_underlyings(returns.columns)
        assets = list(portfolios.underlyings)
        frame = returns[assets].astype(float)
        values = np.ascontiguousarray(frame.to_numpy())
        bad = ~np.isfinite(values)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise DataError(
                f"{int(bad.sum())} non-finite returns (first: {assets[j]!r} on "
                f"{frame.index[i].date()}); align and fill the price panel first"
            )
        if check_units:
            check_return_units(frame, "percent")
        first, last = self._test_range(frame.index, start, end)
        layout = _Layout.build(portfolios, assets)
        n_days, n_port = last - first + 1, portfolios.n_portfolios
        out = {
            name: np.empty((n_days, n_port))
            for name in ("isolated", "cross_engine", "cross", "loss", "shortfall")
        }
        breaches = np.empty((n_days, n_port), dtype=np.int32)
        rng = as_generator(seed)
        notes: list[str] = []
        refits: list[pd.Timestamp] = []
        with single_threaded_blas():
            self._loop(first, last, frame, values, layout, out, breaches, rng, notes, refits)
        dates = frame.index[first : last + 1]
        settings = {
            "model": self.model.name,
            "level": self.level,
            "measure": self.measure,
            "horizon": self.horizon,
            "refit_every": self.refit_every,
            "lookback": self.lookback,
            "offset_policy": None if self.offset_policy is None else self.offset_policy.to_dict(),
            "days_without_realized_loss": int(len(frame) - 1 - last),
        }
        return BacktestResult.from_arrays(
            dates=dates,
            portfolios=portfolios,
            arrays=out,
            position_breaches=breaches,
            refit_dates=pd.DatetimeIndex(refits),
            settings=settings,
            warnings=tuple(dict.fromkeys(notes)),
        )

    def _loop(
        self,
        first: int,
        last: int,
        frame: pd.DataFrame,
        values: Float64Array2D,
        layout: _Layout,
        out: dict[str, Float64Array2D],
        breaches: np.ndarray,
        rng: np.random.Generator,
        notes: list[str],
        refits: list[pd.Timestamp],
    ) -> None:
        """Refit every ``refit_every`` days; filter and margin every day in between."""
        csum = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
        fitted: FittedScenarios | None = None
        for r in range(first, last + 1, self.refit_every):
            window = frame.iloc[r - self.lookback + 1 : r + 1]
            fitted = self.model.fit(window, seed=rng.spawn(1)[0], previous=fitted)
            notes.extend(fitted.warnings)
            refits.append(frame.index[r])
            block_end = min(r + self.refit_every - 1, last)
            # scale of day r + i uses the returns up to r + i only
            scales = fitted.scale(values[r + 1 : block_end + 1])
            days = np.arange(r, block_end + 1)
            # realized h-day log return from t to t + h (the future the margin must cover)
            realized = csum[days + self.horizon + 1] - csum[days + 1]
            self._block(days - first, fitted, scales, realized, layout, out, breaches)

    def _block(
        self,
        rows: np.ndarray,
        fitted: FittedScenarios,
        scales: Float64Array2D,
        realized: Float64Array2D,
        layout: _Layout,
        out: dict[str, Float64Array2D],
        breaches: np.ndarray,
    ) -> None:
        """Margins and losses of every portfolio on the days of one refit block.

        All days of the block are revalued with one matrix product
        ``(portfolios x underlyings) @ (underlyings x (days * scenarios))``.
        """
        level, measure = self.level, self.measure
        n_days, (n_scen, n_u) = len(rows), fitted.base.shape
        n_port = layout.exposures.shape[0]
        moves_pct = fitted.location + fitted.base[None, :, :] * scales[:, None, :]
        moves = np.expm1(moves_pct / 100.0)  # days x scenarios x underlyings
        flat = moves.reshape(n_days * n_scen, n_u)
        base_sd = fitted.base.std(axis=0) / math.sqrt(self.horizon)
        vol = scales * base_sd * math.sqrt(TRADING_DAYS) / 100.0  # days x underlyings
        # option legs: every day's scenarios and realized move revalued in one call per leg
        option_pnl = np.empty((len(layout.option_legs), n_days * n_scen))
        realized_opt = np.empty((n_days, len(layout.option_legs)))
        for k, (leg, u) in enumerate(
            zip(layout.option_legs, layout.option_underlying, strict=True)
        ):
            x = np.concatenate([moves_pct[:, :, u].ravel(), realized[:, u]]) / 100.0
            v = np.concatenate([np.repeat(vol[:, u], n_scen), vol[:, u]])
            both = leg.pnl_per_notional(x, v)
            option_pnl[k], realized_opt[:, k] = both[: n_days * n_scen], both[n_days * n_scen :]
        pnl = _scenario_pnl(layout.exposures, flat, layout.options, option_pnl, layout.option_rows)
        np.negative(pnl, out=pnl)
        cross_engine = (
            risk_measure(pnl.reshape(n_port * n_days, n_scen), level, measure, overwrite=True)
            .reshape(n_port, n_days)
            .T
        )
        per_unit = moves.transpose(0, 2, 1).reshape(n_days * n_u, n_scen)
        long_u = risk_measure(-per_unit, level, measure, overwrite=True).reshape(n_days, n_u)
        short_u = risk_measure(per_unit, level, measure).reshape(n_days, n_u)
        lin, lu = layout.linear[None, :, :], layout.linear_underlying
        margins = [np.where(lin > 0, lin * long_u[:, None, lu], -lin * short_u[:, None, lu])]
        losses = [-lin * np.expm1(realized / 100.0)[:, None, lu]]
        if len(layout.option_legs):
            unit = option_pnl.reshape(-1, n_days, n_scen).reshape(-1, n_scen)
            opt_long = risk_measure(-unit, level, measure, overwrite=True).reshape(-1, n_days).T
            opt_short = risk_measure(unit, level, measure).reshape(-1, n_days).T
            q = layout.options[None, :, :]
            margins.append(np.where(q > 0, q * opt_long[:, None, :], -q * opt_short[:, None, :]))
            losses.append(-q * realized_opt[:, None, :])
        leg_margin = np.concatenate(margins, axis=2)  # days x portfolios x legs
        leg_loss = np.concatenate(losses, axis=2)
        isolated = leg_margin.sum(axis=2)
        charged = (
            cross_engine
            if self.offset_policy is None
            else self.offset_policy.apply(isolated, cross_engine)
        )
        held = np.concatenate([layout.linear != 0, layout.options != 0], axis=1)[None, :, :]
        out["isolated"][rows] = isolated
        out["cross_engine"][rows] = cross_engine
        out["cross"][rows] = charged
        out["loss"][rows] = leg_loss.sum(axis=2)
        out["shortfall"][rows] = np.maximum(leg_loss - leg_margin, 0.0).sum(axis=2)
        breaches[rows] = ((leg_loss > leg_margin) & held).sum(axis=2)
