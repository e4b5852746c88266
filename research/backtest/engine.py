"""Rolling out-of-sample offset backtest: any margin engine on a :mod:`research.portfolio` book.

For each day ``t`` of the test period the backtest

1. takes the scenario model fitted at the last refit date ``<= t`` (refits every
   ``refit_every`` days on the ``lookback`` returns ending at the refit date) and its scale
   filtered with the returns up to ``t`` only, and builds the day's
   :class:`~research.portfolio.Scenarios` of ``h``-day log moves
   (:func:`research.backtest.models.day_scenarios`);
2. builds the market of the day: every underlying's spot is 1 (the book's quantities are
   constant notionals, see :mod:`research.backtest.portfolios`), the volatility is the
   model's conditional volatility annualised with the data's own periods per year
   (:func:`research.data.periods_per_year`), the carry is the backtest's;
3. asks the margin engine for ``engine.margin_book(book, market_t)``: the isolated margin of
   every holding and the charged cross margin of every portfolio. An engine with a
   ``scenarios`` field (filtered historical simulation and the like) is given the day's
   scenarios; the default engine is
   :class:`~research.margin.FilteredHistoricalSimulation` at the backtest's level, measure
   and offset policy;
4. compares both with the realized loss of each portfolio, revalued in full by
   :func:`research.portfolio.unit_pnl` under the realized move from ``t`` to ``t + h``, plus
   the funding its perpetuals paid over the same bars when the backtest is given funding
   (:func:`research.portfolio.accrued_funding`).

Nothing after ``t`` enters a margin at ``t``. The model is refitted first, in date order (each
fit starts from the previous one); then blocks of ``block_size`` portfolios times runs of
consecutive refit blocks run as independent tasks of :func:`research.parallel.map_tasks`
(serially, in local processes or on Dask, with bit-identical results).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from research import parallel
from research._random import as_generator
from research._threads import usable_cores
from research._typing import Float64Array1D, Float64Array2D, Seed
from research.backtest.models import (
    FittedScenarios,
    RollingFHS,
    ScenarioModel,
    day_scenarios,
)
from research.backtest.results import BacktestResult
from research.data import (
    check_return_units,
    check_time_index,
    overlapping_sums,
    periods_per_year,
    to_decimal,
)
from research.data.timeindex import as_index_timestamp, stamp_text
from research.errors import (
    DataError,
    InsufficientDataError,
    SpecificationError,
    UnknownUnderlyingError,
)
from research.margin import FilteredHistoricalSimulation, MarginEngine
from research.margin.offsets import OffsetPolicy
from research.margin.tail import empirical_var_es, row_sum
from research.portfolio import Market, PortfolioBook, Scenarios, accrued_funding, unit_pnl
from research.portfolio.funding import (
    FundingSource,
    funding_label,
    funding_rates,
    funding_sources,
)

__all__ = ["OffsetBacktest", "risk_measure"]

Measure = Literal["var", "es"]
Backend = Literal["auto", "serial", "processes", "dask"]
MarginFunding = Literal["trailing", "none"]

#: The date x portfolio arrays a block returns.
_OUTPUTS = ("isolated", "cross_engine", "cross", "loss", "shortfall", "funding")


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


@dataclass(frozen=True)
class _Refit:
    """One refit block: the fitted scenarios and, per day, the scale, volatility and outcome."""

    rows: np.ndarray  # rows of the test period
    dates: pd.DatetimeIndex
    location: Float64Array1D
    base: Float64Array2D
    scales: Float64Array2D  # days x underlyings
    volatility: Float64Array2D  # days x underlyings, annualised decimal
    realized: Float64Array2D  # days x underlyings, h-day log return in percent
    funding_paid: Float64Array2D | None  # days x underlyings: accrued over t .. t + h
    funding_known: Float64Array2D | None  # days x underlyings: accrued over t - h .. t


@dataclass(frozen=True)
class _Task:
    """A block of portfolios margined over a run of refit blocks (one task of the map)."""

    backtest: OffsetBacktest
    book: PortfolioBook
    refits: tuple[_Refit, ...]
    underlyings: tuple[str, ...]
    reference_volatility: Float64Array1D  # the test period's first day's, for every task

    @property
    def n_days(self) -> int:
        """Margin days of the task."""
        return sum(len(r.rows) for r in self.refits)


def _funding_exposure(instruments: tuple[Any, ...], market: Market) -> Float64Array1D:
    """Loss of one long unit of each instrument per unit of its underlying's accrued funding.

    The instruments' own P&L at no move with funding 1 on every underlying, less the same
    without funding: a perpetual's notional (its P&L is linear in the funding), 0 for
    instruments that pay no funding.
    """
    underlyings = list(market.underlyings)
    still = Scenarios.from_array(np.zeros((1, len(underlyings))), underlyings, kind="log")
    funded = replace(market, funding=dict.fromkeys(underlyings, 1.0))
    return (unit_pnl(instruments, market, still) - unit_pnl(instruments, funded, still))[:, 0]


def _realized_unit_pnl(task: _Task) -> tuple[Float64Array2D, Float64Array2D | None]:
    """P&L of one long unit of each instrument over every day's MPOR: days x instruments.

    One revaluation for all the task's days: the market carries the test period's first day's
    volatility ``v_0`` and day ``t`` is two scenarios with the volatility shift ``v_t - v_0``,
    its realized move and no move; their difference ``V(S', v_t) - V(S, v_t)`` is the day's
    P&L (linear instruments do not depend on volatility and give the realized P&L itself). The
    reference is the same for every task, so the split into tasks does not change the bits.

    With funding, the second array is the funding one long unit paid over the day's MPOR
    (:func:`_funding_exposure` times the accrued funding of its underlying), kept apart
    from the price P&L of the first so that a portfolio's loss is its price loss plus its
    funding, each summed in the same order as without funding; ``None`` without funding.
    """
    volatility = np.concatenate([r.volatility for r in task.refits])
    moves = to_decimal(np.concatenate([r.realized for r in task.refits]), "percent")
    reference = task.reference_volatility
    shifts = volatility - reference
    market = task.backtest.market(
        task.refits[0].dates[0], pd.Series(reference, index=list(task.underlyings))
    )
    scenarios = Scenarios.from_array(
        np.concatenate([moves, np.zeros_like(moves)]),
        list(task.underlyings),
        kind="log",
        vol_shifts=np.concatenate([shifts, shifts]),
    )
    units = unit_pnl(task.book.instruments, market, scenarios)
    n_days = len(moves)
    pnl = np.ascontiguousarray((units[:, :n_days] - units[:, n_days:]).T)
    if task.refits[0].funding_paid is None:
        return pnl, None
    accrued = np.concatenate([r.funding_paid for r in task.refits])
    columns = [task.underlyings.index(i.underlying) for i in task.book.instruments]
    paid = accrued[:, columns] * _funding_exposure(task.book.instruments, market)
    return pnl, paid


def _margin_block(task: _Task) -> tuple[dict[str, Float64Array2D], np.ndarray, tuple[str, ...]]:
    """Margins, realized losses and leg breaches of one block of portfolios, every day."""
    bt, book = task.backtest, task.book
    q = book.quantities.to_numpy()
    held = q != 0
    n_port = q.shape[0]
    out = {name: np.empty((task.n_days, n_port)) for name in _OUTPUTS}
    breaches = np.empty((task.n_days, n_port), dtype=np.int32)
    notes: list[str] = []
    realized, paid = _realized_unit_pnl(task)
    row = -1
    for refit in task.refits:
        for i in range(len(refit.rows)):
            row += 1
            known = refit.funding_known
            market = bt.market(
                refit.dates[i],
                pd.Series(refit.volatility[i], index=list(task.underlyings)),
                funding=None
                if known is None
                else pd.Series(known[i], index=list(task.underlyings)),
            )
            scenarios = day_scenarios(
                refit.location, refit.base, refit.scales[i], task.underlyings, refit.dates[i]
            )
            margins = bt.engine_for(scenarios).margin_book(book, market)
            notes.extend(margins.warnings)
            leg_loss = -q * realized[row]  # the price move
            price_loss = row_sum(leg_loss)
            if paid is not None:
                out["funding"][row] = row_sum(q * paid[row])
                leg_loss = leg_loss + q * paid[row]
            else:
                out["funding"][row] = 0.0
            leg_margin = margins.isolated.to_numpy()
            out["isolated"][row] = row_sum(leg_margin)
            out["cross_engine"][row] = margins.portfolio_margin.to_numpy()
            out["cross"][row] = margins.cross.to_numpy()
            # price loss + funding: a hedge whose price legs cancel keeps loss - funding == 0
            out["loss"][row] = price_loss if paid is None else price_loss + out["funding"][row]
            out["shortfall"][row] = row_sum(np.maximum(leg_loss - leg_margin, 0.0))
            breaches[row] = ((leg_loss > leg_margin) & held).sum(axis=1)
    return out, breaches, tuple(dict.fromkeys(notes))


def _family(book: PortfolioBook, family: pd.Series | None) -> pd.Series:
    names = book.quantities.index
    if family is None:
        return pd.Series("custom", index=names, dtype=object, name="family")
    aligned = pd.Series(family, dtype=object).reindex(names)
    if aligned.isna().any():
        raise DataError(
            f"no family given for portfolios {list(map(str, names[aligned.isna()][:5]))}; "
            "give one per portfolio of the book (research.backtest.stack_books names them)"
        )
    return aligned.rename("family")


def _check_book(book: PortfolioBook, available: pd.Index) -> None:
    if not isinstance(book, PortfolioBook):
        raise SpecificationError(
            f"the backtest margins a research.portfolio.PortfolioBook, got {type(book).__name__}"
            " (the builders of research.backtest.portfolios return one)"
        )
    empty = book.quantities.index[(book.quantities.to_numpy() == 0).all(axis=1)]
    if len(empty):
        raise DataError(
            f"portfolios {list(map(str, empty[:5]))} hold no position; drop them before backtesting"
        )
    known = set(map(str, available))
    missing = [u for u in book.underlyings if u not in known]
    if missing:
        raise UnknownUnderlyingError(
            f"the book holds underlyings {missing} that are not in the returns "
            f"({sorted(known)}); load prices for them or drop those holdings"
        )


@dataclass(frozen=True)
class OffsetBacktest:
    """Rolling out-of-sample backtest of isolated versus cross margin of any margin engine.

    Parameters
    ----------
    model : ScenarioModel
        Scenario model refitted every ``refit_every`` days (e.g.
        :class:`~research.backtest.RollingFHS`); its ``horizon`` is the MPOR. It gives the
        scenarios of FHS-type engines and the volatility of the options in the day's market.
    level : float
        Margin confidence level (e.g. 0.99); the coverage tests' target.
    measure : {"var", "es"}
        Risk measure of the default engine.
    refit_every : int
        Days between refits (5 = weekly on a trading calendar); the scale is filtered daily.
    lookback : int
        Returns in each fit window (ending at the refit date).
    offset_policy : OffsetPolicy, optional
        Cap on the recognised offset of the default engine; give an engine its own policy.
    engine : MarginEngine, optional
        The engine that margins the book every day; an engine with a ``scenarios`` field is
        given the model's scenarios of the day. Default:
        ``FilteredHistoricalSimulation(scenarios_t, level, measure, offset_policy)``.
    carry : float or mapping of str to float
        Annual cost of carry of the day's market, one for all underlyings or per underlying
        (dated futures grow with it).
    funding : float, mapping or pandas.DataFrame, optional
        Perpetual funding rate per 8-hour interval (``1e-4`` = 0.01%; positive: longs pay):
        one constant for every underlying, a constant or a rate series per underlying
        (``{"BTC": read_prices(".../btc_perp_funding_daily.csv")["funding_mean"]}``), or a
        frame of rate series with one column per underlying
        (:func:`research.portfolio.funding.funding_sources`). A series is read on the bars of
        the returns (:func:`research.portfolio.funding.funding_rates`: daily rates spread
        over hourly bars; a bar after a gap accrues every period it covers). The realized P&L of
        each perpetual over day ``t``'s MPOR then includes the funding accrued over the same
        bars ``t + 1 .. t + h`` (:func:`research.portfolio.accrued_funding`); funding of an
        underlying the book holds no perpetual on is ignored, and a perpetual whose
        underlying has no source pays none (both stated in the result's settings). Default:
        no funding.
    margin_funding : {"trailing", "none"}
        Funding carried by the day's margin market: ``"trailing"`` (default), the funding
        accrued over the ``h`` bars ending at ``t``, known at ``t``, as the forecast of the
        next ``h`` bars (the engine's perpetual scenarios pay it); ``"none"``: margins ignore
        funding. Without ``funding`` there is nothing to carry.
    block_size : int
        Portfolios per task of :func:`research.parallel.map_tasks` (give half the book to run
        two processes). Results do not depend on the backend; with the package's engines they
        do not depend on the block size either (a portfolio's margin has the same bits in any
        book, :func:`research.margin.tail.row_product`).

    Raises
    ------
    SpecificationError
        A level outside (0, 1), an unknown measure, counts below 1, a model without
        ``fit``, an engine that is not a :class:`~research.margin.MarginEngine`, an engine
        together with an ``offset_policy``, an engine whose own level (or its parameter
        set's) differs from ``level``, an unreadable ``funding`` or an unknown
        ``margin_funding``.

    Notes
    -----
    The result's settings name the engine and, for an engine with a ``fingerprint`` (a
    calibrated parameter set, :class:`research.margin.ParameterSetEngine`), the set's
    fingerprint (:attr:`BacktestResult.fingerprint`).

    Examples
    --------
    >>> bt = OffsetBacktest(RollingFHS(horizon=2), refit_every=5)  # doctest: +SKIP
    >>> result = bt.run(returns, book, family=family)  # doctest: +SKIP
    >>> result.summary()  # doctest: +SKIP
    """

    model: ScenarioModel
    level: float = 0.99
    measure: Measure = "var"
    refit_every: int = 5
    lookback: int = 1000
    offset_policy: OffsetPolicy | None = None
    engine: MarginEngine | None = None
    carry: float | Mapping[str, float] = 0.0
    funding: FundingSource | None = None
    margin_funding: MarginFunding = "trailing"
    block_size: int = 1000

    def __post_init__(self) -> None:
        if not 0.0 < self.level < 1.0:
            raise SpecificationError(f"level must lie in (0, 1) (e.g. 0.99), got {self.level}")
        funding_sources(self.funding)
        if self.margin_funding not in ("trailing", "none"):
            raise SpecificationError(
                f"margin_funding must be 'trailing' or 'none', got {self.margin_funding!r}"
            )
        if self.measure not in ("var", "es"):
            raise SpecificationError(f"measure must be 'var' or 'es', got {self.measure!r}")
        for name in ("refit_every", "lookback", "block_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise SpecificationError(f"{name} must be a whole number >= 1, got {value!r}")
        if not isinstance(self.model, ScenarioModel):
            raise SpecificationError(
                "model must have name, horizon and fit(returns, seed=, "
                "previous=) (see research.backtest.ScenarioModel)"
            )
        if self.engine is None:
            return
        if not isinstance(self.engine, MarginEngine):
            raise SpecificationError(
                f"engine must be a research.margin.MarginEngine, got {type(self.engine).__name__}"
            )
        if self.offset_policy is not None:
            raise SpecificationError(
                "give the offset policy to the engine (its offset_policy field), not to the "
                "backtest: the backtest's policy only configures the default engine"
            )
        own = getattr(self.engine, "level", None)
        if own is None:  # a calibrated parameter set's engine: the set's own target level
            own = getattr(getattr(self.engine, "parameters", None), "level", None)
        if own is not None and float(own) != self.level:
            raise SpecificationError(
                f"the engine margins at level {own} but the backtest tests coverage at "
                f"{self.level}; give OffsetBacktest(level={own})"
            )

    @classmethod
    def from_parameters(
        cls,
        parameters: Any,
        volatility: Literal["garch", "ewma"] = "garch",
        refit_every: int = 5,
        measure: Measure = "var",
        carry: float | Mapping[str, float] = 0.0,
        margin: Literal["fhs", "parameter_set"] = "fhs",
        funding: FundingSource | None = None,
        margin_funding: MarginFunding = "trailing",
    ) -> OffsetBacktest:
        """Backtest set up from a calibrated parameter set.

        Parameters
        ----------
        parameters : research.calibration.MarginParameters
            Supplies ``level``, ``mpor`` (the horizon) and ``lookback``; with ``margin="fhs"``
            also ``offset_cap`` (the largest share of the offset recognised, applied as an
            :class:`~research.margin.offsets.OffsetPolicy`).
        volatility : {"garch", "ewma"}
            Filter of the :class:`~research.backtest.RollingFHS` model.
        refit_every : int
            Days between refits.
        measure : {"var", "es"}
            Risk measure.
        carry : float or mapping of str to float
            Annual cost of carry of the day's market (see the class).
        margin : {"fhs", "parameter_set"}
            ``"fhs"``: filtered historical simulation on the model's scenarios, capped at the
            set's offset cap. ``"parameter_set"``: the set itself margins the book
            (``parameters.engine()``, a :class:`research.margin.ParameterSetEngine`: its risk
            weights and offset credits); the result carries the set's fingerprint.
        funding : float, mapping or pandas.DataFrame, optional
            Perpetual funding rates (see the class); default none.
        margin_funding : {"trailing", "none"}
            Funding carried by the day's margin market (see the class).

        Returns
        -------
        OffsetBacktest

        Raises
        ------
        SpecificationError
            An unknown ``margin``.
        """
        model = RollingFHS(horizon=int(parameters.mpor), volatility=volatility)
        common = {
            "level": float(parameters.level),
            "measure": measure,
            "refit_every": refit_every,
            "lookback": int(parameters.lookback),
            "carry": carry,
            "funding": funding,
            "margin_funding": margin_funding,
        }
        if margin == "parameter_set":
            return cls(model, engine=parameters.engine(), **common)
        if margin != "fhs":
            raise SpecificationError(f"margin must be 'fhs' or 'parameter_set', got {margin!r}")
        policy = OffsetPolicy(max_fraction=float(parameters.offset_cap))
        return cls(model, offset_policy=policy, **common)

    @property
    def horizon(self) -> int:
        """Margin period of risk in days (the model's horizon)."""
        return int(self.model.horizon)

    def engine_for(self, scenarios: Scenarios) -> MarginEngine:
        """Return the engine that margins a day whose model scenarios are ``scenarios``."""
        if self.engine is None:
            return FilteredHistoricalSimulation(
                scenarios, level=self.level, measure=self.measure, offset_policy=self.offset_policy
            )
        if "scenarios" in {f.name for f in fields(self.engine)}:  # type: ignore[arg-type]
            return replace(self.engine, scenarios=scenarios)  # type: ignore[type-var]
        return self.engine

    def market(
        self, date: pd.Timestamp, volatility: pd.Series, funding: pd.Series | None = None
    ) -> Market:
        """Return the market of day ``date``: unit spots, the given volatility, the carry.

        Parameters
        ----------
        date : pandas.Timestamp
            Valuation date.
        volatility : pandas.Series
            Annualised decimal volatility per underlying (the model's of the day).
        funding : pandas.Series, optional
            Funding a long perpetual pays over the MPOR per underlying, as a fraction of
            notional (:class:`~research.portfolio.Market`); default none.

        Returns
        -------
        Market
        """
        carry = (
            dict.fromkeys(volatility.index, float(self.carry))
            if isinstance(self.carry, int | float)
            else self.carry
        )
        return Market(
            spot=dict.fromkeys(volatility.index, 1.0),
            valuation_date=date,
            volatility=volatility,
            carry=carry,
            funding={} if funding is None else funding,
        )

    def _test_range(self, index: pd.DatetimeIndex, start: object, end: object) -> tuple[int, int]:
        h = self.horizon
        first = self.lookback - 1
        if start is not None:
            begin = as_index_timestamp(start, index, what="start")
            requested = int(np.count_nonzero(index < begin))  # comparisons: any stamp unit
            if requested < first:
                raise InsufficientDataError(
                    f"start {stamp_text(begin)} leaves {requested} returns before it; "
                    f"the first fit needs lookback={self.lookback}: start on or after "
                    f"{stamp_text(index[first])} or shorten the lookback"
                )
            first = requested
        last = len(index) - 1 - h
        if end is not None:
            stop = as_index_timestamp(end, index, end=True, what="end")
            last = min(last, int(np.count_nonzero(index <= stop)) - 1)
        if last < first:
            raise InsufficientDataError(
                f"no test day: {len(index)} returns, lookback {self.lookback} and horizon {h} "
                "leave no day with both a fit window and a realized loss; give more data"
            )
        return first, last

    def run(
        self,
        returns: pd.DataFrame,
        book: PortfolioBook,
        *,
        family: pd.Series | None = None,
        start: object = None,
        end: object = None,
        seed: Seed = 0,
        check_units: bool = True,
        backend: Backend = "serial",
        cluster: Any = None,
        chunks: int | None = None,
    ) -> BacktestResult:
        """Backtest every portfolio of the book over the test period.

        Parameters
        ----------
        returns : pandas.DataFrame
            Daily log returns in percent (DatetimeIndex x assets), aligned and without NaN,
            e.g. :func:`research.data.to_returns` of an aligned price panel.
        book : research.portfolio.PortfolioBook
            Constant-notional portfolios (see :mod:`research.backtest.portfolios`).
        family : pandas.Series, optional
            Family of each portfolio (e.g. from :func:`research.backtest.stack_books`);
            default ``"custom"``.
        start, end : date-like, optional
            First and last margin date (default: from the end of the first fit window to the
            last day that still has ``h`` returns after it), under the package's time-zone
            rule (:func:`research.data.timeindex.as_index_timestamp`: naive dates are UTC on
            tz-aware data, and a date as ``end`` covers its whole day).
        seed : int, Generator or None
            Seed of the model's draws (one child stream per refit).
        check_units : bool
            Refuse prices given as returns and decimal returns
            (:func:`research.data.check_return_units`); ``False`` skips that check.
        backend : {"serial", "processes", "dask", "auto"}
            Where the portfolio blocks run (:func:`research.parallel.map_tasks`); every
            backend gives the same bits.
        cluster : str or distributed.Client, optional
            Dask scheduler for ``backend="dask"``.
        chunks : int, optional
            Runs of consecutive refit blocks that run as separate tasks, for each block of
            ``block_size`` portfolios; default 1 serially and the number of usable cores
            otherwise. The model is refitted once, in order (warm starts), before the tasks
            run; the split changes no bit of the result.

        Returns
        -------
        BacktestResult

        Raises
        ------
        DataError
            Non-finite returns (asset and date named), an index that is not sorted,
            unique dates (:func:`research.data.check_time_index`, naming the first
            offending stamp), returns that look like prices or decimals, a portfolio with
            no holding or without a family.
            Funding rates that miss some of the time the test period's MPORs cover (or,
            with trailing margin funding, the ``h`` bars before its first day), or are NaN
            there (:func:`research.portfolio.funding.funding_rates`).
        UnknownUnderlyingError
            Holdings on assets missing from ``returns``, or funding for an underlying that
            is not in ``returns``.
        InsufficientDataError
            Too few returns for one fit window plus one horizon, or, with trailing margin
            funding, fewer than ``h`` bars before the first margin date.
        """
        check_time_index(returns, what="returns")
        _check_book(book, returns.columns)
        families = _family(book, family)
        assets = list(book.underlyings)
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
        paid, known, funding = self._funding(book, returns.columns, frame.index, first, last)
        notes: list[str] = []
        refits = self._fit(first, last, frame, values, as_generator(seed), notes, paid, known)
        if chunks is None:
            chunks = 1 if backend == "serial" else usable_cores()
        if isinstance(chunks, bool) or not isinstance(chunks, int | np.integer) or chunks < 1:
            raise SpecificationError(f"chunks must be a whole number >= 1, got {chunks!r}")
        runs = _runs(refits, int(chunks))
        blocks = [_block(book, rows) for rows in _blocks(book.n_portfolios, self.block_size)]
        reference = refits[0].volatility[0]
        tasks = [
            _Task(self, block, run, tuple(assets), reference) for block in blocks for run in runs
        ]
        done = parallel.map_tasks(
            _margin_block,
            tasks,
            backend=backend,
            cluster=cluster,
            progress=False,
            description="portfolio blocks",
        )
        # tasks are block-major: the runs of one block are consecutive, in date order
        per_block = [done[k : k + len(runs)] for k in range(0, len(done), len(runs))]
        arrays = {
            name: np.concatenate(
                [np.concatenate([d[0][name] for d in parts], axis=0) for parts in per_block],
                axis=1,
            )
            for name in _OUTPUTS
        }
        breaches = np.concatenate(
            [np.concatenate([d[1] for d in parts], axis=0) for parts in per_block], axis=1
        )
        for d in done:
            notes.extend(d[2])
        settings = {
            "model": self.model.name,
            "engine": "fhs" if self.engine is None else self.engine.name,
            "fingerprint": getattr(self.engine, "fingerprint", None),
            "level": self.level,
            "measure": self.measure,
            "horizon": self.horizon,
            "refit_every": self.refit_every,
            "lookback": self.lookback,
            "offset_policy": None if self.offset_policy is None else self.offset_policy.to_dict(),
            "carry": self.carry if isinstance(self.carry, int | float) else dict(self.carry),
            "funding": funding,
            "margin_funding": "none" if known is None else self.margin_funding,
            "days_without_realized_loss": int(len(frame) - 1 - last),
        }
        return BacktestResult.from_arrays(
            dates=frame.index[first : last + 1],
            book=book,
            family=families,
            arrays=arrays,
            position_breaches=breaches,
            refit_dates=pd.DatetimeIndex([r.dates[0] for r in refits]),
            settings=settings,
            warnings=tuple(dict.fromkeys(notes)),
        )

    def _funding(
        self,
        book: PortfolioBook,
        columns: pd.Index,
        index: pd.DatetimeIndex,
        first: int,
        last: int,
    ) -> tuple[Float64Array2D | None, Float64Array2D | None, str]:
        """Funding accrued over each test day's MPOR and over the ``h`` bars before it.

        Returns ``(paid, known, label)``: test days x the book's underlyings (zero where no
        perpetual is funded), ``None`` when nothing is funded (``known`` also with
        ``margin_funding="none"``), and the settings' statement.
        """
        sources = funding_sources(self.funding)
        unknown = sorted(set(sources) - {"*"} - set(map(str, columns)))
        if unknown:
            raise UnknownUnderlyingError(
                f"funding is given for {unknown}, which are not in the returns "
                f"({sorted(map(str, columns))}); name each rate series after its underlying"
            )
        assets = list(book.underlyings)
        # the volatility is a placeholder: at no move an instrument's P&L does not depend on it
        market = self.market(index[first], pd.Series(1.0, index=assets))
        exposure = _funding_exposure(book.instruments, market)
        paying = zip(book.instruments, exposure, strict=True)
        perpetuals = list(dict.fromkeys(i.underlying for i, e in paying if e != 0.0))
        label = funding_label(self.funding, perpetuals, index)
        h = self.horizon
        trailing = self.margin_funding == "trailing"
        begin = first - h + 1 if trailing else first + 1
        rates = funding_rates(self.funding, index[max(begin, 0) : last + h + 1], perpetuals)
        if rates.shape[1] == 0:
            return None, None, label
        if begin < 0:
            raise InsufficientDataError(
                f"trailing margin funding needs the {h} bars up to the first margin date "
                f"{index[first]}, only {first + 1} are in the returns; start later or give "
                "margin_funding='none'"
            )
        accrued = accrued_funding(rates, h)
        days = np.arange(first, last + 1)
        paid = np.zeros((len(days), len(assets)))
        known = np.zeros((len(days), len(assets))) if trailing else None
        for u in rates.columns:
            j = assets.index(u)
            paid[:, j] = accrued[u].reindex(index[days + h]).to_numpy()
            if known is not None:
                known[:, j] = accrued[u].reindex(index[days]).to_numpy()
        return paid, known, label

    def _fit(
        self,
        first: int,
        last: int,
        frame: pd.DataFrame,
        values: Float64Array2D,
        rng: np.random.Generator,
        notes: list[str],
        paid: Float64Array2D | None = None,
        known: Float64Array2D | None = None,
    ) -> tuple[_Refit, ...]:
        """Refit every ``refit_every`` days; filter the scale daily in between."""
        moves = overlapping_sums(values, self.horizon)
        per_year = periods_per_year(frame.index)
        fitted: FittedScenarios | None = None
        out = []
        for r in range(first, last + 1, self.refit_every):
            window = frame.iloc[r - self.lookback + 1 : r + 1]
            fitted = self.model.fit(window, seed=rng.spawn(1)[0], previous=fitted)
            notes.extend(fitted.warnings)
            block_end = min(r + self.refit_every - 1, last)
            # scale of day r + i uses the returns up to r + i only
            scales = fitted.scale(values[r + 1 : block_end + 1])
            days = np.arange(r, block_end + 1)
            base_sd = fitted.base.std(axis=0) / math.sqrt(self.horizon)
            out.append(
                _Refit(
                    rows=days - first,
                    dates=frame.index[days],
                    location=fitted.location,
                    base=fitted.base,
                    scales=scales,
                    volatility=to_decimal(scales * base_sd * math.sqrt(per_year), "percent"),
                    # realized h-day log return from t to t + h (the future the margin covers)
                    realized=moves[days + 1],
                    funding_paid=None if paid is None else paid[days - first],
                    funding_known=None if known is None else known[days - first],
                )
            )
        return tuple(out)


def _runs(refits: tuple[_Refit, ...], n: int) -> list[tuple[_Refit, ...]]:
    """Split the refit blocks into at most ``n`` runs of consecutive blocks of similar length."""
    bounds = np.linspace(0, len(refits), min(n, len(refits)) + 1).round().astype(int)
    return [refits[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _blocks(n: int, size: int) -> list[slice]:
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def _block(book: PortfolioBook, rows: slice) -> PortfolioBook:
    """Rows ``rows`` of the book over the instruments they hold."""
    q = book.quantities.iloc[rows]
    used = (q.to_numpy() != 0).any(axis=0)
    instruments = tuple(i for i, keep in zip(book.instruments, used, strict=True) if keep)
    return PortfolioBook(instruments, q.loc[:, used])
