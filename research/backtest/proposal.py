"""Backtests of a proposed parameter set: frozen out of sample, and under rolling recalibration.

A calibration proposes a :class:`~research.calibration.MarginParameters` set; this module
margins the set itself (:meth:`~research.calibration.MarginParameters.engine`, a
:class:`~research.margin.ParameterSetEngine`) on the set's own underlyings and calibrated pairs
with :class:`~research.backtest.OffsetBacktest`, and reports coverage per underlying, per pair
and per portfolio family, every row naming the fingerprint(s) of the set(s) that margined it.

- :func:`proposal_book`: outright long and short per underlying (family ``"outright"``, label
  the underlying) and one hedged pair per calibrated pair in its calibrated direction, its legs
  matched as the credit matches them (:func:`research.margin.credits.matched_notionals`;
  family ``"pair"``, label ``"A/B"``).
- :func:`frozen_backtest`: the set unchanged, margining every day strictly after its ``as_of``
  date (out of sample).
- :func:`rolling_backtest`: the calibration config re-run at each refit date on the prices up
  to that date only (:func:`research.calibration.calibrate`); each set margins the days after
  its refit date up to the next one, exactly as a frozen backtest of that set would.
- :func:`proposal_coverage`: the tidy coverage table of either.

The books are linear (spot holdings at constant notional), so the backtest's scenario model
only supplies each day's volatility, which linear holdings do not use: it is the cheap EWMA
filter, fitted once per margined period.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from research.backtest.coverage import kupiec
from research.backtest.engine import OffsetBacktest
from research.backtest.portfolios import stack_books
from research.backtest.results import ACCOUNTS, BacktestResult
from research.calibration.calibrate import calibrate
from research.calibration.config import CalibrationConfig
from research.calibration.parameters import MarginParameters
from research.data import to_returns
from research.data.timeindex import as_index_timestamp
from research.errors import InsufficientDataError, SpecificationError
from research.margin.credits import matched_notionals
from research.portfolio import PortfolioBook, Spot

__all__ = [
    "DEFAULT_REFIT",
    "ProposalBacktest",
    "ProposalBook",
    "frozen_backtest",
    "proposal_book",
    "proposal_coverage",
    "rolling_backtest",
]

DEFAULT_REFIT = "QE"
"""Default recalibration frequency of :func:`rolling_backtest`: the last trading day of each
calendar quarter (a calibration of the default config takes well under a second)."""
MIN_FROZEN_DAYS = 250
"""Fewest out-of-sample margin days :func:`frozen_backtest` accepts by default (a year)."""

Kind = Literal["frozen", "rolling"]
Account = Literal["isolated", "cross"]


@dataclass(frozen=True)
class ProposalBook:
    """The test portfolios of a parameter set.

    Attributes
    ----------
    book : PortfolioBook
        Spot holdings at constant notional; portfolios ``"<u> long"``, ``"<u> short"`` and
        ``"<a>/<b>"``.
    family : pandas.Series
        ``"outright"`` or ``"pair"`` per portfolio.
    """

    book: PortfolioBook
    family: pd.Series


def proposal_book(parameters: MarginParameters, notional: float = 1e6) -> ProposalBook:
    """Outright and hedged-pair portfolios on a parameter set's own underlyings and pairs.

    Parameters
    ----------
    parameters : MarginParameters
        The set: its risk weights name the underlyings, its offset credits the pairs (every
        calibrated pair, a zero credit included), with their directions and
        ``offset_hedge``.
    notional : float
        Absolute notional of each outright position and of each pair's first leg.

    Returns
    -------
    ProposalBook

    Raises
    ------
    SpecificationError
        A notional that is not a positive finite number.

    Notes
    -----
    A pair ``A/B`` holds ``+notional`` of ``A`` and, for an ``"opposite"`` pair, a short of
    ``B`` (a long for ``"same"``) sized by :func:`research.margin.credits.matched_notionals`:
    ``notional * w_A / w_B`` for equal-risk legs, ``notional`` for equal-notional ones, so the
    set's engine matches both legs in full and the pair is charged ``(1 - c)(M_A + M_B)``.
    """
    value = float(notional)
    if not (np.isfinite(value) and value > 0):
        raise SpecificationError(f"notional must be a positive number, got {notional!r}")
    weights = parameters.risk_weights
    spots = {u: Spot(u) for u in weights}
    outright = pd.DataFrame(
        0.0,
        index=[f"{u} {side}" for u in weights for side in ("long", "short")],
        columns=[s.label for s in spots.values()],
    )
    for u, spot in spots.items():
        outright.loc[f"{u} long", spot.label] = value
        outright.loc[f"{u} short", spot.label] = -value
    books = {"outright": PortfolioBook(tuple(spots.values()), outright)}
    pairs = list(parameters.offset_credits)
    if pairs:
        rows = []
        for a, b in pairs:
            first, second = matched_notionals(
                value, parameters.offset_hedge, weights[a], weights[b]
            )
            sign = -1.0 if parameters.offset_directions[(a, b)] == "opposite" else 1.0
            rows.append({spots[a].label: first, spots[b].label: sign * second})
        used = sorted({u for pair in pairs for u in pair}, key=list(weights).index)
        frame = pd.DataFrame(rows, index=[f"{a}/{b}" for a, b in pairs])
        frame = frame.reindex(columns=[spots[u].label for u in used]).fillna(0.0)
        books["pair"] = PortfolioBook(tuple(spots[u] for u in used), frame)
    return ProposalBook(*stack_books(books))


@dataclass(frozen=True, eq=False)
class ProposalBacktest:
    """A backtest of a proposed parameter set (frozen) or of its config (rolling).

    Attributes
    ----------
    kind : {"frozen", "rolling"}
        Frozen set out of sample, or rolling recalibration.
    result : BacktestResult
        Margins and realized losses of every portfolio over every margined day; its
        ``settings["fingerprints"]`` lists the sets used.
    refits : pandas.DataFrame
        One row per parameter set used, indexed by its ``as_of`` (the refit date): its
        ``fingerprint``, ``version`` and the ``first`` and ``last`` date it margined.
    """

    kind: Kind
    result: BacktestResult
    refits: pd.DataFrame

    @property
    def fingerprints(self) -> tuple[tuple[pd.Timestamp, str], ...]:
        """``(refit date, fingerprint)`` of every set used, in date order."""
        return tuple(zip(self.refits.index, self.refits["fingerprint"], strict=True))

    def coverage(self, account: Account = "cross") -> pd.DataFrame:
        """Return the tidy coverage table (:func:`proposal_coverage`)."""
        return proposal_coverage(self, account)

    def __repr__(self) -> str:
        return (
            f"ProposalBacktest(kind={self.kind!r}, sets={len(self.refits)}, "
            f"portfolios={self.result.loss.shape[1]}, days={len(self.result.dates)})"
        )

    def __str__(self) -> str:
        sets = ", ".join(f"{d.date()} [{f}]" for d, f in self.fingerprints[:4])
        more = f" and {len(self.refits) - 4} more" if len(self.refits) > 4 else ""
        return (
            f"{self.kind.capitalize()} backtest of {sets}{more}: "
            f"{self.result.loss.shape[1]} portfolios x {len(self.result.dates)} days "
            f"({self.result.dates[0].date()} to {self.result.dates[-1].date()})\n"
            f"{self.coverage().to_string()}"
        )


def _returns(prices: pd.DataFrame, underlyings: list[str]) -> pd.DataFrame:
    missing = [u for u in underlyings if u not in prices.columns]
    if missing:
        raise InsufficientDataError(
            f"the prices have no column for underlying(s) {missing} of the parameter set "
            f"(columns: {list(map(str, prices.columns))}); load prices for every underlying"
        )
    return to_returns(prices[underlyings])


def _run(
    parameters: MarginParameters,
    returns: pd.DataFrame,
    end: pd.Timestamp | None,
    min_days: int,
    notional: float,
    seed: int,
) -> BacktestResult:
    """Margin the set's book on every day after its ``as_of`` (to ``end``)."""
    index = returns.index
    # the package's time-zone rule: an as-of date on hourly UTC data ends with its UTC day
    as_of = as_index_timestamp(parameters.as_of, index, end=True, what="as_of")
    first = int(index.searchsorted(as_of, side="right"))
    last = len(index) - 1 - int(parameters.mpor)  # the last day with a realized MPOR loss
    if end is not None:
        stop = as_index_timestamp(end, index, end=True, what="end")
        last = min(last, int(index.searchsorted(stop, side="right")) - 1)
    days = last - first + 1
    if days < min_days:
        data_end = index[-1].date() if len(index) else "no date"
        raise InsufficientDataError(
            f"parameter set {parameters.version} [{parameters.fingerprint}] is as of "
            f"{as_of.date()} and the returns end on {data_end}: {max(days, 0)} margin day(s) "
            f"after the as_of date with a {parameters.mpor}-day realized loss, fewer than "
            f"{min_days}; give prices that run at least {min_days + parameters.mpor} trading "
            "days past the as_of date, or calibrate the set on data that ends earlier "
            "(the config's data.end)"
        )
    if first < parameters.lookback - 1:
        raise InsufficientDataError(
            f"parameter set [{parameters.fingerprint}] as of {as_of.date()}: the returns start "
            f"on {index[0].date()}, {first} returns before the first margin day; the backtest's "
            f"volatility filter needs lookback={parameters.lookback}: give prices from earlier"
        )
    proposal = proposal_book(parameters, notional)
    backtest = OffsetBacktest.from_parameters(
        parameters, volatility="ewma", refit_every=days, margin="parameter_set"
    )
    result = backtest.run(
        returns,
        proposal.book,
        family=proposal.family,
        start=index[first],
        end=index[last],
        seed=seed,
    )
    return result


def _refit_table(sets: list[tuple[MarginParameters, BacktestResult]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "fingerprint": [p.fingerprint for p, _ in sets],
            "version": [p.version for p, _ in sets],
            "first": [r.dates[0] for _, r in sets],
            "last": [r.dates[-1] for _, r in sets],
        },
        index=pd.DatetimeIndex([pd.Timestamp(p.as_of) for p, _ in sets], name="as_of"),
    )


def _with_fingerprints(
    result: BacktestResult, refits: pd.DataFrame, **extra: Any
) -> BacktestResult:
    settings = {
        **result.settings,
        "fingerprints": [(d.date().isoformat(), f) for d, f in refits["fingerprint"].items()],
        **extra,
    }
    return replace(result, settings=settings)


def frozen_backtest(
    parameters: MarginParameters,
    prices: pd.DataFrame,
    *,
    end: object = None,
    min_days: int = MIN_FROZEN_DAYS,
    notional: float = 1e6,
    seed: int = 0,
) -> ProposalBacktest:
    """Backtest a proposed set unchanged on the days strictly after its ``as_of`` date.

    Parameters
    ----------
    parameters : MarginParameters
        The proposal; its engine (``parameters.engine()``) margins every day.
    prices : pandas.DataFrame
        Aligned prices (dates x assets) holding the set's underlyings, from at least
        ``parameters.lookback`` days before ``as_of`` (for the day's volatility filter) to
        after it.
    end : date-like, optional
        Last margin date (default: the last date with a realized MPOR loss).
    min_days : int
        Fewest margin days after ``as_of`` accepted (default :data:`MIN_FROZEN_DAYS`).
    notional : float
        Notional of each position (see :func:`proposal_book`).
    seed : int
        Seed of the backtest's model (no draw enters a parameter set's margin).

    Returns
    -------
    ProposalBacktest
        ``kind="frozen"``; ``result.fingerprint`` is the set's.

    Raises
    ------
    InsufficientDataError
        Fewer than ``min_days`` margin days after ``as_of`` (the message names the as_of date
        and the data's end), too little history before it, or an underlying without prices.
    DataError
        Prices the returns check refuses (non-finite, unsorted, not prices).

    Examples
    --------
    >>> frozen = frozen_backtest(result.parameters, prices)  # doctest: +SKIP
    >>> frozen.coverage()  # doctest: +SKIP
    """
    returns = _returns(prices, list(parameters.risk_weights))
    stop = None if end is None else pd.Timestamp(end)
    result = _run(parameters, returns, stop, int(min_days), notional, seed)
    refits = _refit_table([(parameters, result)])
    return ProposalBacktest("frozen", _with_fingerprints(result, refits, backtest="frozen"), refits)


def _refit_dates(index: pd.DatetimeIndex, every: str, first: int) -> pd.DatetimeIndex:
    """Return the last date of ``index`` in each period ``every``, from position ``first``."""
    dates = pd.Series(index[first:], index=index[first:])
    try:
        ends = dates.resample(every).last().dropna()
    except ValueError as exc:
        raise SpecificationError(
            f"every={every!r} is not a pandas frequency; use e.g. 'QE', 'ME' or 'YE'"
        ) from exc
    return pd.DatetimeIndex(ends.to_numpy())


def _history(config: CalibrationConfig) -> int:
    """Fewest returns a calibration of ``config`` and the backtest's filter need."""
    lookback = config.profile_settings()["lookback"] or 0
    needed = max(lookback, config.offsets.recent or 0)
    if config.offsets.dcc and config.pairs:
        needed = max(needed, 250)  # the DCC lower-quantile regime's minimum
    return max(needed, 2)


def rolling_backtest(
    config: CalibrationConfig,
    prices: pd.DataFrame,
    *,
    every: str = DEFAULT_REFIT,
    start: object = None,
    end: object = None,
    notional: float = 1e6,
    seed: int = 0,
) -> ProposalBacktest:
    """Recalibrate ``config`` at each refit date on the prices up to it; margin with each set.

    Parameters
    ----------
    config : CalibrationConfig
        The calibration that proposed the set (e.g. from
        :func:`research.calibration.calibrate.prepare_study`).
    prices : pandas.DataFrame
        Aligned prices of the config's assets over the whole history to backtest.
    every : str
        Refit frequency, a pandas period alias: the last trading date of each period is a
        refit date. Default :data:`DEFAULT_REFIT` (quarterly); ``"YE"`` for a quick run.
    start : date-like, optional
        First refit date at the earliest (default: as soon as the config's lookback, recent
        correlation window and DCC fit have data).
    end : date-like, optional
        Last margin date.
    notional : float
        Notional of each position (see :func:`proposal_book`).
    seed : int
        Seed of the backtest's model.

    Returns
    -------
    ProposalBacktest
        ``kind="rolling"``; ``refits`` has one row per refit (date, fingerprint, dates margined)
        and ``result.settings["fingerprints"]`` the same pairs.

    Raises
    ------
    InsufficientDataError
        No refit date with both the history a calibration needs and a margin day after it.
    SpecificationError
        An unknown frequency.

    Notes
    -----
    The set calibrated at refit date ``d_k`` (``as_of = d_k``) margins the days in
    ``(d_k, d_{k+1}]``, the last set up to ``end``: nothing after ``d_k`` enters the set, and
    each period is exactly :func:`frozen_backtest` of its set. The portfolios are rebuilt from
    each set (an equal-risk pair's hedge ratio follows the set's risk weights) under the same
    names, so one result spans every period. Calibration warnings are kept on the result.
    """
    assets = list(config.assets) or list(map(str, prices.columns))
    returns = _returns(prices, assets)
    index = returns.index
    first = _history(config) - 1
    if start is not None:
        first = max(first, int(index.searchsorted(pd.Timestamp(start))))
    stop = None if end is None else pd.Timestamp(end)
    last_margin = len(index) - 1 - int(config.profile_settings()["mpor"])
    if stop is not None:
        last_margin = min(last_margin, int(index.searchsorted(stop, side="right")) - 1)
    dates = [d for d in _refit_dates(index, every, first) if index.get_loc(d) < last_margin]
    if not dates:
        raise InsufficientDataError(
            f"no refit date: the returns run {index[0].date()} to {index[-1].date()} "
            f"({len(index)} days) and a calibration of {config.name!r} needs {first + 1} "
            "returns before its first refit and a margin day after it; give a longer history"
        )
    sets: list[tuple[MarginParameters, BacktestResult]] = []
    notes: list[str] = []
    for k, date in enumerate(dates):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            calibration = calibrate(config, prices.loc[:date], source=f"prices to {date.date()}")
        notes.extend(f"refit {date.date()}: {w.message}" for w in caught)
        params = calibration.parameters
        until = dates[k + 1] if k + 1 < len(dates) else stop
        result = _run(params, returns, until, 1, notional, seed)
        sets.append((params, result))
        notes.extend(result.warnings)
    refits = _refit_table(sets)
    combined = _concat([r for _, r in sets], tuple(dict.fromkeys(notes)))
    combined = _with_fingerprints(
        combined,
        refits,
        backtest="rolling",
        recalibration=every,
        engine="parameter_set (recalibrated)",
        fingerprint=None,
        refit_every=None,
        days_without_realized_loss=sets[-1][1].settings["days_without_realized_loss"],
    )
    return ProposalBacktest("rolling", combined, refits)


def _concat(results: list[BacktestResult], notes: tuple[str, ...]) -> BacktestResult:
    """One result over consecutive periods margined by different sets (same portfolios)."""
    head = results[0]
    parts: dict[str, Any] = {}
    for f in fields(BacktestResult):
        value = getattr(head, f.name)
        if isinstance(value, pd.DataFrame):
            parts[f.name] = pd.concat([getattr(r, f.name) for r in results], axis=0)
    refit = pd.DatetimeIndex(np.concatenate([r.refit_dates.to_numpy() for r in results]))
    return replace(head, **parts, refit_dates=refit, warnings=notes)


def _fingerprint_cell(refits: pd.DataFrame) -> str:
    prints = list(refits["fingerprint"])
    if len(prints) <= 3:
        return ", ".join(prints)
    return f"{len(prints)} sets: {prints[0]} ... {prints[-1]}"


def proposal_coverage(backtest: ProposalBacktest, account: Account = "cross") -> pd.DataFrame:
    """Coverage per underlying, per pair and per portfolio family, as a tidy table.

    Parameters
    ----------
    backtest : ProposalBacktest
        From :func:`frozen_backtest` or :func:`rolling_backtest`.
    account : {"cross", "isolated"}
        The charged cross margin (default; the set's offsets applied) or isolated margin.

    Returns
    -------
    pandas.DataFrame
        Rows ``(family, label)``: each portfolio (``outright`` rows ``"<u> long"`` /
        ``"<u> short"``, ``pair`` rows ``"A/B"``), then one ``(family, "all")`` row per family.
        Columns: ``observations`` (margin days, all portfolios of the row), ``exceptions``,
        ``test_observations`` and ``test_exceptions`` (non-overlapping MPORs, what the tests
        use), ``expected`` (test exceptions expected at the level), ``kupiec_pvalue``
        (two-sided; the family row's is the median over its portfolios, as
        :meth:`BacktestResult.coverage`), ``kupiec_direction`` (``"too many"`` / ``"too few"``
        / ``"as expected"``), ``independence_pvalue`` (Christoffersen; the family row's is the
        median of the defined ones) or ``"undefined"`` when the test cannot be computed (e.g.
        no exception), ``traffic_light``, ``fingerprint`` (the set, or the sets of a rolling
        backtest).
    """
    if account not in ACCOUNTS:
        raise SpecificationError(f"account must be 'isolated' or 'cross', got {account!r}")
    result = backtest.result
    level = result.level
    table = result.per_portfolio()[account]
    family = result.family
    rows = []
    for name in table.index:
        r = table.loc[name]
        n_exc, n_obs = int(r["test_exceptions"]), int(r["test_observations"])
        rows.append(
            {
                "family": family[name],
                "label": str(name),
                "observations": int(r["observations"]),
                "exceptions": int(r["exceptions"]),
                "test_observations": n_obs,
                "test_exceptions": n_exc,
                "kupiec_pvalue": float(r["kupiec_pvalue"]),
                "kupiec_direction": kupiec(n_exc, n_obs, level=level).direction,
                "independence_pvalue": r["independence_pvalue"],
                "traffic_light": r["traffic_light"],
            }
        )
    by_family = result.coverage(by="family")[account]
    for fam in result.families():
        members = table.index[family.reindex(table.index) == fam]
        part = table.loc[members]
        n_exc = int(part["test_exceptions"].sum())
        n_obs = int(part["test_observations"].sum())
        agg = by_family.loc[fam]
        rows.append(
            {
                "family": fam,
                "label": "all",
                "observations": int(agg["observations"]),
                "exceptions": int(agg["exceptions"]),
                "test_observations": n_obs,
                "test_exceptions": n_exc,
                "kupiec_pvalue": float(agg["kupiec_pvalue"]),
                "kupiec_direction": kupiec(n_exc, n_obs, level=level).direction,
                "independence_pvalue": part["independence_pvalue"].median(),
                "traffic_light": agg["traffic_light"],
            }
        )
    out = pd.DataFrame(rows)
    out.insert(
        out.columns.get_loc("kupiec_pvalue"),
        "expected",
        out["test_observations"] * (1.0 - level),
    )
    out["independence_pvalue"] = [
        "undefined" if pd.isna(p) else float(p) for p in out["independence_pvalue"]
    ]
    out["fingerprint"] = _fingerprint_cell(backtest.refits)
    return out.set_index(["family", "label"])
