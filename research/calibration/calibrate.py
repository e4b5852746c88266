"""End-to-end calibration: a config and prices in, a parameter set and its evidence out.

The steps, each with its evidence kept on the result:

1. prices from the config's source (or a given file / frame), aligned, to log returns (%);
2. stress windows from the catalog (``research.stress``) and the config;
3. risk weights with the config's profile (``calibrate_risk_weights``);
4. correlation regimes: recent sample, pooled stress windows, the lower quantile of a
   DCC conditional-correlation path and, when switched on, the tail-dependence regime (each
   pair's least favourable quantile of a t-copula DCC path); stability of every pair in each
   stress window;
5. offset credits (``OffsetCalibrator``), least favourable regime, cap, break haircut;
6. anti-procyclicality paths of an equal-weight portfolio of the assets (``apc_from_returns``);
7. a :class:`~research.calibration.MarginParameters` with all of it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from research.calibration.apc import APCResult, apc_from_returns
from research.calibration.config import CalibrationConfig
from research.calibration.offsets import (
    OffsetCredits,
    OffsetPair,
    copula_regime,
    hedge_side_quantiles,
)
from research.calibration.parameters import MarginParameters
from research.calibration.regimes import regime_correlations
from research.calibration.risk_weights import RiskWeightCalibration, calibrate_risk_weights
from research.data.timeindex import as_index_timestamp, range_mask
from research.errors import (
    DataError,
    DataQualityWarning,
    InsufficientDataError,
    SpecificationError,
)

if TYPE_CHECKING:
    from research.correlation import CopulaDCCResult, DCCResult

__all__ = [
    "CalibrationResult",
    "calibrate",
    "calibrate_from_config",
    "load_config_prices",
    "prepare_study",
]

#: Fewest returns inside a stress window for its stability test (as research.stress requires).
MIN_WINDOW_OBS = 20
#: Without a configured pair in the data, every pair among this many first columns is a candidate.
MAX_AUTO_ASSETS = 5
#: Fast mode: dates kept, dates kept after the latest stress window, longest lookback.
FAST_ROWS = 750
FAST_AFTER_STRESS = 250
FAST_LOOKBACK = 250


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """A calibrated parameter set and the evidence behind every number.

    Parameters
    ----------
    parameters : MarginParameters
        The parameter set (risk weights, offset credits, cap, APC settings, windows...).
    risk_weights : RiskWeightCalibration
        Risk weights with their drivers.
    offsets : OffsetCredits or None
        Offset credits with per-regime credits and the reason for every zero (None without
        pairs).
    correlations : dict of str to DataFrame
        The correlation regimes behind the credits.
    stability : DataFrame
        Per candidate pair and stress window: calm and stressed correlation, Fisher test,
        whether the pair breaks (from ``research.stress.correlation_stability``).
    apc : APCResult or None
        Margin paths of an equal-weight long portfolio of the assets with and without the
        APC tools.
    returns : DataFrame
        The returns the calibration used.
    stress_windows : dict of str to (Timestamp, Timestamp)
        Stress windows used, in the data's convention: on daily dates an intraday window's
        bounds are the days it touches.
    config : CalibrationConfig
        The configuration.
    data_description : dict
        Source, assets, first and last date, rows and ``history``: the history policy
        (``config.data.history``), ``assets`` and ``pairs`` (first return date each used),
        ``balanced_from`` (first row where every asset has a return), ``rows_dropped`` and
        ``dropped_by_asset`` (rows the alignment dropped, and whose missing prices caused
        it).
    warnings : tuple of str
        Every warning of the run (also emitted as Python warnings).
    dcc : DCCResult or None
        The DCC fit on the last ``offsets.dcc_window`` returns whose lower quantile per pair is
        the ``dcc_qNN`` correlation regime (None when ``offsets.dcc`` is off or there are no
        pairs): the evidence behind every credit that regime binds.
    copula : CopulaDCCResult or None
        The t-copula DCC fit behind the ``copula_qNN`` tail-dependence regime (None when
        ``offsets.copula`` is off or there are no pairs).
    """

    parameters: MarginParameters
    risk_weights: RiskWeightCalibration
    offsets: OffsetCredits | None
    correlations: Mapping[str, pd.DataFrame]
    stability: pd.DataFrame
    apc: APCResult | None
    returns: pd.DataFrame
    stress_windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]]
    config: CalibrationConfig
    data_description: Mapping[str, Any]
    warnings: tuple[str, ...] = field(default=())
    dcc: DCCResult | None = None
    copula: CopulaDCCResult | None = None

    def evidence(self) -> dict[str, pd.DataFrame]:
        """Return the review exhibits as tables.

        Returns
        -------
        dict of str to DataFrame
            ``risk_weights`` (weights and drivers), ``offset_credits`` (tidy credits with
            reasons), ``copula_regime`` (with the copula regime on: per pair its correlation
            and tail dependence, :func:`~research.calibration.offsets.copula_regime`),
            ``stability``, ``apc`` (procyclicality metrics and binding shares) and
            ``parameters`` (the printed parameter table).
        """
        out = {
            "risk_weights": self.risk_weights.summary(),
            "parameters": self.parameters.to_frame(),
        }
        if self.offsets is not None:
            out["offset_credits"] = self.offsets.tidy()
        if self.copula is not None:
            out["copula_regime"] = copula_regime(
                self.copula, self.config.pairs, self.config.offsets.copula_quantile
            )[1]
        out["stability"] = self.stability
        if self.apc is not None:
            out["apc"] = self.apc.summary()
        return out

    def summary(self) -> pd.DataFrame:
        """Return the parameter table (what the review signs off).

        Returns
        -------
        DataFrame
        """
        return self.parameters.to_frame()

    def plot_risk_weights(self) -> Any:
        """Bar chart of each risk weight beside its lookback-only and stress-window risk.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt
        from matplotlib.ticker import PercentFormatter

        drivers = self.risk_weights.drivers
        frame = pd.DataFrame(
            {
                "lookback only": drivers["lookback_risk"],
                "stress windows": drivers["stress_risk"],
                "risk weight": self.risk_weights.risk_weights,
            }
        ).astype(float)
        fig, ax = plt.subplots(figsize=(7.5, 3.4))
        frame.plot.bar(ax=ax, width=0.8)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))  # fractions shown as percent
        ax.set_ylabel("share of notional")
        ax.set_xlabel("")
        ax.legend(ncols=3, loc="upper left", frameon=False)
        return fig

    def plot_apc(self) -> Any:
        """Margin path of the equal-weight portfolio with and without APC, stress shaded.

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        InsufficientDataError
            If the run had too little data for APC paths.
        """
        import matplotlib.pyplot as plt
        from matplotlib.ticker import PercentFormatter

        if self.apc is None:
            raise InsufficientDataError("this calibration has no APC paths (sample too short)")
        paths = self.apc.paths
        tools = [c for c in ("base", "buffer", "stress_weight", "floor") if c in paths]
        fig, ax = plt.subplots(figsize=(7.5, 3.6))
        for name in tools:
            ax.plot(paths.index, paths[name], lw=0.9, label=name.replace("_", " "))
        ax.plot(
            paths.index,
            paths["margin"],
            lw=1.6,
            color="black",
            label=f"margin with APC ({self.apc.settings.tool})",
        )
        for i, (start, end) in enumerate(self.stress_windows.values()):
            ax.axvspan(
                start,
                end,
                color="grey",
                alpha=0.25,
                lw=0,
                label="stress window" if i == 0 else None,
            )
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))  # fractions shown as percent
        ax.set_ylabel("margin, share of notional")
        ax.legend(
            ncols=3, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False
        )
        return fig

    def __str__(self) -> str:
        d = self.data_description
        head = (
            f"Calibration {self.config.name!r} on {d['source']} ({d['first']} to {d['last']}, "
            f"{d['rows']} returns, {len(d['assets'])} assets)"
        )
        notes = "".join(f"\nWarning: {w}" for w in self.warnings)
        return f"{head}\n{self.parameters}{notes}"


def load_config_prices(
    config: CalibrationConfig,
    data: str | Path | None = None,
    *,
    out_of_sample: bool = False,
) -> pd.DataFrame:
    """Load the prices a config names (or ``data`` instead), restricted to its assets.

    Parameters
    ----------
    config : CalibrationConfig
        The calibration config.
    data : str or Path, optional
        A dataset name or price file that replaces ``config.data.source``.
    out_of_sample : bool
        Load past ``config.data.end`` to the end of the data: the days after the as-of date
        of the set the config calibrates, which its frozen backtest
        (:func:`research.backtest.frozen_backtest`) and a rolling backtest over the whole
        history margin. ``config.data.start`` still applies. The backtests margin every
        underlying of the set on every day, so these prices are aligned on the dates where
        all of them trade (history ``"common"``) whatever ``config.data.history`` says; the
        rows a late listing drops are in ``attrs["alignment"]``.

    Returns
    -------
    DataFrame
        Prices, date x asset, aligned by ``config.data.align`` and ``config.data.history``
        (rows dropped are in ``attrs["alignment"]``; with ``history: pairwise`` a late-listed
        asset is NaN before its first price).

    Raises
    ------
    DataError
        An asset of the config missing from the data.
    """
    from research.data import align

    sources = (str(data),) if data is not None else config.data.sources
    end = None if out_of_sample else config.data.end
    prices = _load_sources(sources, config.data.start, end)
    assets = list(config.assets) or list(prices.columns)
    missing = [a for a in assets if a not in prices.columns]
    if missing:
        raise DataError(
            f"assets {missing} of config {config.name!r} are not in {list(sources)} "
            f"(columns: {list(prices.columns)}); fix the config's assets or the data"
        )
    history = "common" if out_of_sample else config.data.history
    return align(prices[assets], how=config.data.align, history=history)


def _load_sources(sources: tuple[str, ...], start: str | None, end: str | None) -> pd.DataFrame:
    from research.data import load_prices

    frames = [load_prices(s, start=start, end=end) for s in sources]
    prices = frames[0] if len(frames) == 1 else pd.concat(frames, axis=1, join="inner")
    if prices.columns.has_duplicates:
        raise DataError(
            f"the sources {list(sources)} share asset names "
            f"{sorted(set(prices.columns[prices.columns.duplicated()]))}"
        )
    return prices


def prepare_study(
    config: CalibrationConfig,
    *,
    data: str | Path | None = None,
    start: str | None = None,
    end: str | None = None,
    profile: str | None = None,
    fast: bool = False,
) -> tuple[CalibrationConfig, pd.DataFrame]:
    """Adapt a config to a study run's data and mode, and load its prices.

    Parameters
    ----------
    config : CalibrationConfig
        The base config (e.g. ``configs/default.yaml``).
    data : str or Path, optional
        Dataset name or price file replacing the config's source.
    start, end : str, optional
        A sample window replacing the config's as a whole: when either is given, the
        config's ``data.start`` and ``data.end`` are both dropped and an omitted bound is the
        data's own (``start="2023-01-01"`` alone runs to the end of the data, whatever the
        config's ``data.end``).
    profile : str, optional
        Risk-weight profile replacing the config's.
    fast : bool
        Reduce the run for a quick check: the assets of the first two pairs, ``FAST_ROWS``
        dates ending ``FAST_AFTER_STRESS`` dates after the latest stress window inside the
        data (the last dates when there is none), lookbacks of at most 250 and a sweep of
        eight points.

    Returns
    -------
    config : CalibrationConfig
        The adapted config. Assets and pairs missing from the data are left out; when no
        pair is left, every pair among the first ``MAX_AUTO_ASSETS`` columns is a candidate.
    prices : DataFrame
        Aligned prices of the config's assets.

    Raises
    ------
    DataError
        If the data have fewer than two assets.
    """
    from research.data import align

    window = start is not None or end is not None
    cfg = replace(
        config,
        profile=profile or config.profile,
        data=replace(
            config.data,
            source=str(data) if data is not None else config.data.source,
            start=start if window else config.data.start,
            end=end if window else config.data.end,
        ),
    )
    raw = _load_sources(cfg.data.sources, cfg.data.start, cfg.data.end)
    cfg = cfg.in_periods(raw.index)
    columns = [str(c) for c in raw.columns]
    if len(columns) < 2:
        raise DataError(f"a calibration with offsets needs at least two assets, got {columns}")
    pairs = [p for p in cfg.pairs if p.first in columns and p.second in columns]
    if not pairs:
        pairs = [OffsetPair(a, b) for a, b in combinations(columns[:MAX_AUTO_ASSETS], 2)]
    if fast:
        pairs = pairs[:2]
    legs = list(dict.fromkeys(a for p in pairs for a in (p.first, p.second)))
    others = [] if fast else [a for a in cfg.assets if a in columns and a not in legs]
    cfg = replace(cfg, assets=tuple(legs + others), pairs=tuple(pairs))
    prices = align(raw[list(cfg.assets)], how=cfg.data.align, history=cfg.data.history)
    if fast:
        prices, cfg = _fast(prices, cfg)
    return cfg, prices


def _fast(prices: pd.DataFrame, cfg: CalibrationConfig) -> tuple[pd.DataFrame, CalibrationConfig]:
    windows = _stress_windows(cfg, prices, [])
    end = len(prices)
    if windows:
        last = max(as_index_timestamp(w[1], prices.index, end=True) for w in windows.values())
        end = min(end, int(prices.index.searchsorted(last, "right")) + FAST_AFTER_STRESS)
    sliced = prices.iloc[max(0, end - FAST_ROWS) : end]
    sliced.attrs = dict(prices.attrs)
    overrides = dict(cfg.risk_weights)
    lookback = cfg.profile_settings()["lookback"]
    overrides["lookback"] = min(lookback or FAST_LOOKBACK, FAST_LOOKBACK)
    offsets = replace(
        cfg.offsets,
        recent=min(cfg.offsets.recent or FAST_LOOKBACK, FAST_LOOKBACK),
        dcc_window=min(cfg.offsets.dcc_window, FAST_ROWS),
    )
    kept = {
        "level": slice(1),
        "mpor": slice(2),
        "ewma_lambda": slice(1),
        "stress_weight": slice(2),
        "offset_cap": slice(-2, None),
    }
    tiny = {k: v[kept[k]] for k, v in (cfg.sweep or {}).items() if k in kept}
    tiny["lookback"] = (overrides["lookback"],)
    return sliced, replace(cfg, risk_weights=overrides, offsets=offsets, sweep=tiny)


def calibrate(
    config: CalibrationConfig, prices: pd.DataFrame | None = None, *, source: str | None = None
) -> CalibrationResult:
    """Calibrate a margin parameter set from a config.

    Parameters
    ----------
    config : CalibrationConfig
        What to calibrate and how.
    prices : DataFrame, optional
        Prices (date x asset) without missing values; with ``config.data.history ==
        "pairwise"`` NaN before an asset's first price or after its last are allowed (as
        :func:`research.data.align` leaves them). Default: :func:`load_config_prices`.
    source : str, optional
        Where ``prices`` come from, for the data description (default: the config's source).

    Returns
    -------
    CalibrationResult

    Raises
    ------
    DataError
        Missing assets or unusable prices (a NaN inside an asset's listed range).
    InsufficientDataError
        Too little data for the lookback, a correlation regime or the DCC fit.

    Notes
    -----
    ``config.data.history`` (:class:`~research.calibration.config.DataConfig`) decides what
    a late listing costs. ``"common"``: every number comes from the rows where all assets
    trade. ``"pairwise"``: each risk weight from its asset's own returns, each pair's recent
    and stressed correlations and stability tests from the pair's complete rows, so a pair's
    credit equals the one calibrated on the pair alone; the DCC and copula regimes and the
    APC paths use the rows where every asset trades (a warning names them). The policy and
    the first date of every asset and pair are in ``data_description["history"]`` and, for
    ``"pairwise"``, in ``parameters.history``.

    Warns
    -----
    DataQualityWarning
        No stress window inside the data, a window too short for its stability test, or the
        calibration warnings of the risk weights and APC (all also in ``result.warnings``).

    Examples
    --------
    >>> from research.calibration.config import CalibrationConfig
    >>> cfg = CalibrationConfig.from_yaml("configs/default.yaml")  # doctest: +SKIP
    >>> calibrate(cfg).parameters.offset_credits  # doctest: +SKIP
    """
    from research.data import to_returns

    notes: list[str] = []
    if prices is None:
        prices = load_config_prices(config)
    config = config.in_periods(prices.index)
    alignment = prices.attrs.get("alignment", {})
    dropped = alignment.get("rows_dropped", 0)
    if dropped:
        causes = ", ".join(f"{a}: {n}" for a, n in alignment.get("dropped_by_asset", {}).items())
        hint = (
            "; data.history 'pairwise' keeps the other assets' rows before a late listing"
            if alignment.get("history", "common") == "common"
            else ""
        )
        notes.append(
            f"{dropped} price rows dropped when aligning the assets "
            f"({config.data.align}; missing prices of {causes or 'several assets'}){hint}; "
            "see prices.attrs['alignment']"
        )
    assets = list(config.assets) or list(prices.columns)
    missing = [a for a in assets if a not in prices.columns]
    if missing:
        raise DataError(f"assets {missing} are not in the prices (columns: {list(prices.columns)})")
    pairwise = config.data.history == "pairwise"
    if pairwise:
        _check_listed(prices[assets])
    returns = to_returns(prices[assets], missing="propagate" if pairwise else "raise")
    balanced = returns.dropna() if pairwise else returns
    windows = _stress_windows(config, returns, notes)
    settings = config.profile_settings()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rw = calibrate_risk_weights(returns, stress_windows=windows or None, **settings)
    notes.extend(str(w.message) for w in caught)
    lookback = settings["lookback"] or len(returns)
    correlations: dict[str, pd.DataFrame] = {}
    stability = pd.DataFrame()
    offsets = None
    dcc_fit = copula_fit = None
    if config.pairs:
        recent = config.offsets.recent or lookback
        regimes = _pair_regimes(returns, config.pairs, recent, windows, notes, pairwise)
        shared: dict[str, pd.DataFrame] = {}  # regimes of the balanced panel
        if config.offsets.dcc:
            shared[_dcc_name(config)], dcc_fit = _dcc_regime(balanced, config)
        if config.offsets.copula:
            copula_fit = _copula_fit(balanced, config, dcc_fit, notes)
            shared[_copula_name(config)] = copula_regime(
                copula_fit, config.pairs, config.offsets.copula_quantile
            )[0]
        if pairwise and shared and len(balanced) < len(returns):
            notes.append(
                f"history 'pairwise': the {' and '.join(shared)} "
                f"{'regime needs' if len(shared) == 1 else 'regimes need'} a balanced panel: "
                f"the rows where every asset has a return ({_stamp(balanced.index[0])} "
                f"to {_stamp(balanced.index[-1])}), not each pair's own history"
            )
        if pairwise:
            short: dict[str, dict[str, int]] = {}
            parts = [
                _stability(
                    returns[[p.first, p.second]].dropna(),
                    [p],
                    config,
                    windows,
                    recent,
                    notes,
                    short,
                )
                for p in config.pairs
            ]
            stability = pd.concat([t for t in parts if len(t)] or parts[:1], ignore_index=True)
            notes.extend(_short_notes(short))
        else:
            stability = _stability(returns, config.pairs, config, windows, recent, notes)
        pooled = _pooled_stability(config, regimes)
        if len(pooled):
            stability = pd.concat([stability, pooled], ignore_index=True)
        breaking = [(r.asset_1, r.asset_2) for r in stability.itertuples() if r.breaks]
        calibrator = config.offsets.calibrator()
        if pairwise:
            correlations = _assemble(regimes, shared, config.pairs)
            offsets = _pairwise_credits(
                calibrator, regimes, shared, config.pairs, rw.risk_weights, breaking
            )
        else:
            own, nobs = regimes[config.pairs[0].name]
            correlations = {**own, **shared}
            offsets = calibrator.fit(
                correlations,
                config.pairs,
                nobs=nobs,
                risk_weights=rw.risk_weights,
                breaking=breaking,
            )
    if pairwise and len(balanced) < len(returns):
        notes.append(
            f"history 'pairwise': the APC paths need a balanced panel and use the "
            f"{len(balanced)} rows where every asset has a return "
            f"({_stamp(balanced.index[0])} to {_stamp(balanced.index[-1])})"
        )
    history = _history(config, prices, returns, balanced, rw.settings["period"])
    apc = _apc(balanced, config, settings, windows, notes)
    parameters = rw.to_parameters(
        **(offsets.parameter_fields() if offsets is not None else {}),
        offset_cap=config.offsets.cap,
        apc=config.apc,
        version=config.version,
        maintenance_fraction=config.maintenance_fraction,
        as_of=returns.index[-1].date(),
        description=config.description or f"calibration {config.name!r} ({config.profile})",
        history={k: history[k] for k in _SET_HISTORY} if pairwise else None,
    )
    for note in notes:
        warnings.warn(note, DataQualityWarning, stacklevel=2)
    description = {
        "source": source or ", ".join(config.data.sources),
        "assets": assets,
        "first": returns.index[0].date().isoformat(),
        "last": returns.index[-1].date().isoformat(),
        "rows": len(returns),
        "history": history,
    }
    return CalibrationResult(
        parameters=parameters,
        risk_weights=rw,
        offsets=offsets,
        correlations=correlations,
        stability=stability,
        apc=apc,
        returns=returns,
        stress_windows=windows,
        config=config,
        data_description=description,
        warnings=tuple(dict.fromkeys(notes)),
        dcc=dcc_fit,
        copula=copula_fit,
    )


def calibrate_from_config(
    config: str | Path | CalibrationConfig, data: str | Path | None = None
) -> CalibrationResult:
    """Calibrate from a YAML config file (the ``research calibrate`` command).

    Parameters
    ----------
    config : str, Path or CalibrationConfig
        Path of a YAML config (see ``configs/default.yaml``) or a config.
    data : str or Path, optional
        A price file (or dataset name) that replaces the config's data source.

    Returns
    -------
    CalibrationResult
        ``result.parameters`` is the :class:`MarginParameters` (``to_json(path)`` writes it,
        ``to_frame()`` prints it); ``result.evidence()`` has the supporting tables.

    Raises
    ------
    SpecificationError
        Invalid config.
    DataError
        Data that do not hold the config's assets.
    """
    cfg = config if isinstance(config, CalibrationConfig) else CalibrationConfig.from_yaml(config)
    prices = load_config_prices(cfg, data)
    return calibrate(cfg, prices, source=None if data is None else str(data))


def _stress_windows(
    config: CalibrationConfig, returns: pd.DataFrame, notes: list[str]
) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """Return the config's windows that overlap the data, noting the others.

    On daily (naive) dates an intraday window stands for the days it touches, and its bounds
    become those days: the result, its plots and the parameter set record the dates used.
    """
    from research.stress import stress_windows

    stress = config.stress
    catalog = {w.name: w for w in stress_windows()}
    unknown = [n for n in stress.names if n not in catalog]
    if unknown:
        raise SpecificationError(
            f"unknown stress windows {unknown}; the catalog has {sorted(catalog)}"
        )
    chosen = {}
    if stress.asset_class is not None:
        chosen.update({w.name: (w.start, w.end) for w in stress_windows(stress.asset_class)})
    chosen.update({n: (catalog[n].start, catalog[n].end) for n in stress.names})
    chosen.update({n: (pd.Timestamp(a), pd.Timestamp(b)) for n, (a, b) in stress.custom.items()})
    first, last = returns.index[0], returns.index[-1]
    index = returns.index
    inside = {
        n: w
        for n, w in chosen.items()
        if as_index_timestamp(w[1], index, end=True) >= first
        and as_index_timestamp(w[0], index) <= last
    }
    outside = sorted(set(chosen) - set(inside))
    if outside:
        notes.append(
            f"stress windows {', '.join(outside)} lie outside the data ({first.date()} to "
            f"{last.date()}) "
            "and are not used"
        )
    if chosen and not inside:
        notes.append(
            "no stress window lies inside the data: risk weights and credits use no stress"
        )
    if index.tz is None:  # daily dates: an intraday window stands for the days it touches
        inside = {
            n: (as_index_timestamp(a, index), as_index_timestamp(b, index, end=True))
            if pd.Timestamp(a).tzinfo is not None or pd.Timestamp(b).tzinfo is not None
            else (a, b)
            for n, (a, b) in inside.items()
        }
    return inside


#: Keys of the history record that the parameter set keeps (the result keeps more).
_SET_HISTORY = ("policy", "assets", "pairs", "balanced_from")


def _stamp(stamp: pd.Timestamp) -> str:
    from research.data.timeindex import stamp_text

    return stamp_text(stamp)


def _check_listed(prices: pd.DataFrame) -> None:
    """With history 'pairwise', NaN prices are allowed only outside an asset's listed range."""
    from research.data.alignment import listed_mask

    missing = prices.isna().to_numpy()
    holes = missing & listed_mask(missing)
    if holes.any():
        row, col = np.argwhere(holes)[0]
        raise DataError(
            f"NaN price for {prices.columns[col]!r} on {_stamp(prices.index[row])}, inside its "
            f"listed range ({int(holes.sum())} such values); history 'pairwise' keeps only the "
            "rows before a listing or after a delisting: align the prices first "
            "(research.data.align(prices, history='pairwise'))"
        )
    empty = [str(c) for c, none in zip(prices.columns, missing.all(axis=0), strict=True) if none]
    if empty:
        raise DataError(f"assets {empty} have no price at all")


def _pair_regimes(
    returns: pd.DataFrame,
    pairs: tuple[OffsetPair, ...],
    recent: int,
    windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]],
    notes: list[str],
    pairwise: bool,
) -> dict[str, tuple[dict[str, pd.DataFrame], dict[str, int]]]:
    """Recent and stressed correlations behind each pair's credit, with their sample sizes.

    On a common panel every pair shares one estimate of all the assets; ``pairwise`` gives
    each pair its own from the pair's complete rows (:func:`regime_correlations` of the two
    columns), the estimate a calibration of the pair alone makes.
    """
    if not pairwise:
        shared = regime_correlations(returns, recent, windows)
        if windows and "stressed" not in shared[0]:
            notes.append(
                f"the stress windows {', '.join(sorted(windows))} hold too few complete returns "
                "for a stressed correlation; credits use the other regimes"
            )
        return {p.name: shared for p in pairs}
    out = {}
    for pair in pairs:
        try:
            out[pair.name] = regime_correlations(
                returns[[pair.first, pair.second]], recent, windows
            )
        except InsufficientDataError as exc:
            raise InsufficientDataError(f"pair {pair.name}: {exc}") from exc
    short = [name for name, (corr, _) in out.items() if "stressed" not in corr]
    if windows and short:
        notes.append(
            f"the stress windows {', '.join(sorted(windows))} hold too few complete returns of "
            f"{', '.join(short)} for a stressed correlation; their credits use the other regimes"
        )
    return out


def _assemble(
    regimes: Mapping[str, tuple[Mapping[str, pd.DataFrame], Mapping[str, int]]],
    shared: Mapping[str, pd.DataFrame],
    pairs: tuple[OffsetPair, ...],
) -> dict[str, pd.DataFrame]:
    """One matrix per regime from pairwise estimates: each pair's entry, NaN for the rest."""
    assets = list(dict.fromkeys(a for p in pairs for a in (p.first, p.second)))
    names = list(dict.fromkeys(n for corr, _ in regimes.values() for n in corr))
    out = {}
    for name in names:
        values = np.full((len(assets), len(assets)), np.nan)
        np.fill_diagonal(values, 1.0)
        matrix = pd.DataFrame(values, index=assets, columns=assets)
        for pair in pairs:
            corr = regimes[pair.name][0]
            if name in corr:
                value = float(corr[name].loc[pair.first, pair.second])
                matrix.loc[pair.first, pair.second] = matrix.loc[pair.second, pair.first] = value
        out[name] = matrix
    return {**out, **shared}


def _pairwise_credits(
    calibrator: Any,
    regimes: Mapping[str, tuple[Mapping[str, pd.DataFrame], Mapping[str, int]]],
    shared: Mapping[str, pd.DataFrame],
    pairs: tuple[OffsetPair, ...],
    risk_weights: pd.Series,
    breaking: list[tuple[str, str]],
) -> OffsetCredits:
    """Each pair's credit from its own regimes and sample sizes, as one result."""
    from research.calibration.offsets import _credit_matrix

    fits = [
        calibrator.fit(
            {**regimes[p.name][0], **shared},
            [p],
            nobs=regimes[p.name][1],
            risk_weights=risk_weights,
            breaking=breaking,
        )
        for p in pairs
    ]
    widest = max(fits, key=lambda f: len(f.table.columns))
    table = pd.concat([f.table for f in fits])[list(widest.table.columns)]
    regime_names = tuple(dict.fromkeys(n for f in fits for n in f.regimes))
    return OffsetCredits(
        table=table,
        matrix=_credit_matrix(list(pairs), table["credit"]),
        regimes=regime_names,
        reference=fits[0].reference,
        settings=calibrator,
    )


def _history(
    config: CalibrationConfig,
    prices: pd.DataFrame,
    returns: pd.DataFrame,
    balanced: pd.DataFrame,
    period: str | None,
) -> dict[str, Any]:
    """Record the history policy and the first return date of every asset and pair."""
    intraday = period not in (None, "1D")

    def first(frame: pd.DataFrame | pd.Series) -> str | None:
        stamp = frame.dropna().index.min() if len(frame.dropna()) else None
        if stamp is None:
            return None
        return stamp.isoformat() if intraday else stamp.date().isoformat()

    alignment = prices.attrs.get("alignment", {})
    return {
        "policy": config.data.history,
        "assets": {str(a): first(returns[a]) for a in returns.columns},
        "pairs": {p.name: first(returns[[p.first, p.second]]) for p in config.pairs},
        "balanced_from": first(balanced),
        "rows_dropped": int(alignment.get("rows_dropped", 0)),
        "dropped_by_asset": dict(alignment.get("dropped_by_asset", {})),
    }


def _dcc_name(config: CalibrationConfig) -> str:
    return f"dcc_q{round(100 * config.offsets.dcc_quantile):02d}"


def _dcc_regime(returns: pd.DataFrame, config: CalibrationConfig) -> tuple[pd.DataFrame, DCCResult]:
    """Per-pair quantile of the DCC conditional correlation over the last window, hedge side.

    Returns the quantiles and the fit they come from.
    """
    from research.correlation import DCC

    sample = returns.tail(config.offsets.dcc_window)
    if len(sample) < 250:
        raise InsufficientDataError(
            f"{len(sample)} returns for the DCC fit; at least 250 are needed "
            "(lengthen the sample or switch offsets.dcc off)"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes are kept on the fit
        fit = DCC(kind=config.offsets.dcc_kind, std_errors=False).fit(sample)
    return hedge_side_quantiles(fit.correlation, config.pairs, config.offsets.dcc_quantile), fit


def _copula_name(config: CalibrationConfig) -> str:
    return f"copula_q{round(100 * config.offsets.copula_quantile):02d}"


def _copula_fit(
    returns: pd.DataFrame, config: CalibrationConfig, dcc: DCCResult | None, notes: list[str]
) -> CopulaDCCResult:
    """Fit the t-copula DCC behind the tail-dependence regime on the DCC regime's window.

    Reuses the DCC fit's univariate stage (the same returns) when there is one; the uniforms
    are the ranks of its standardized residuals, so the normal GARCH innovations' thin tails
    do not enter the copula. A fit that did not converge adds a note.
    """
    from research.correlation import CopulaDCC

    sample = returns.tail(config.offsets.dcc_window)
    if len(sample) < 250:
        raise InsufficientDataError(
            f"{len(sample)} returns for the copula fit; at least 250 are needed "
            "(lengthen the sample or switch offsets.copula off)"
        )
    model = CopulaDCC(copula="t", kind=config.offsets.dcc_kind, transform="empirical")  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes are kept on the fit
        fit = model.fit(sample) if dcc is None else model.fit(univariate=dcc.univariate)
    if not fit.converged:
        notes.append(
            "the t-copula DCC behind the copula regime did not converge: " + "; ".join(fit.warnings)
        )
    return fit


def _stability(
    returns: pd.DataFrame,
    pairs: tuple[OffsetPair, ...] | list[OffsetPair],
    config: CalibrationConfig,
    windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]],
    recent: int,
    notes: list[str],
    short: dict[str, dict[str, int]] | None = None,
) -> pd.DataFrame:
    """Stability of ``pairs`` in each window against the last ``recent`` rows of ``returns``.

    A window with too few complete rows adds a note, or, with ``short``, its count per pair
    (``short[window][pair]``) for :func:`_short_notes`.
    """
    from research.stress import correlation_stability

    calm = (returns.index[-min(recent, len(returns))], returns.index[-1])
    wanted = {frozenset((p.first, p.second)) for p in pairs}
    legs = sorted({a for p in pairs for a in (p.first, p.second)})
    tables = []
    for name, (start, end) in windows.items():
        inside = returns.loc[range_mask(returns.index, start, end), legs].dropna()
        if len(inside) < MIN_WINDOW_OBS:
            if short is not None:
                short.setdefault(name, {})["/".join(legs)] = len(inside)
                continue
            notes.append(
                f"stress window {name} has {len(inside)} complete returns, fewer than "
                f"{MIN_WINDOW_OBS}; its pair stability is not tested"
            )
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = correlation_stability(
                returns[legs], calm, (start, end), threshold=config.offsets.break_threshold
            )
        pairs = res.pairs[
            [
                frozenset((a, b)) in wanted
                for a, b in zip(res.pairs["asset_1"], res.pairs["asset_2"], strict=True)
            ]
        ]
        tables.append(pairs.assign(window=name))
    if not tables:
        return pd.DataFrame(
            columns=[
                "asset_1",
                "asset_2",
                "calm",
                "stress",
                "change",
                "z",
                "pvalue",
                "significant",
                "sign_change",
                "below_threshold",
                "breaks",
                "window",
            ]
        )
    return pd.concat(tables, ignore_index=True)


def _short_notes(short: Mapping[str, Mapping[str, int]]) -> list[str]:
    """One note per stress window too short for the stability test of some pairs."""
    notes = []
    for name, counts in short.items():
        if len(set(counts.values())) == 1:
            count = next(iter(counts.values()))
            text = f"{count} complete returns of {', '.join(counts)}"
        else:
            text = "complete returns " + ", ".join(f"{pair}: {n}" for pair, n in counts.items())
        notes.append(
            f"stress window {name} has {text}, fewer than {MIN_WINDOW_OBS}; the pairs' stability "
            "is not tested there"
        )
    return notes


def _pooled_stability(
    config: CalibrationConfig,
    regimes: Mapping[str, tuple[Mapping[str, pd.DataFrame], Mapping[str, int]]],
) -> pd.DataFrame:
    """Recent vs pooled-stress correlation of every pair, with the research.stress break rule.

    A pair without a stressed regime (too few complete rows in the windows) has no row.
    """
    from research.stress import fisher_z_test

    threshold = config.offsets.break_threshold
    rows = []
    for pair in config.pairs:
        correlations, nobs = regimes[pair.name]
        if "stressed" not in correlations:
            continue
        calm = float(correlations["recent"].loc[pair.first, pair.second])
        stress = float(correlations["stressed"].loc[pair.first, pair.second])
        bound = np.nextafter(1.0, 0.0)
        z, pvalue = fisher_z_test(
            np.clip(stress, -bound, bound),
            nobs["stressed"],
            np.clip(calm, -bound, bound),
            nobs["recent"],
        )
        sign_change = calm * stress < 0.0
        below = abs(stress) < threshold <= abs(calm)
        rows.append(
            {
                "asset_1": pair.first,
                "asset_2": pair.second,
                "calm": calm,
                "stress": stress,
                "change": stress - calm,
                "z": float(z),
                "pvalue": float(pvalue),
                "significant": float(pvalue) < 0.05,
                "sign_change": sign_change,
                "below_threshold": below,
                "breaks": sign_change or below,
                "window": "pooled",
            }
        )
    return pd.DataFrame(rows)


def _apc(
    returns: pd.DataFrame,
    config: CalibrationConfig,
    settings: Mapping[str, Any],
    windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]],
    notes: list[str],
) -> APCResult | None:
    portfolio = returns.mean(axis=1).rename("equal_weight")
    lookback = settings["lookback"] or 250
    if len(portfolio) <= lookback:
        notes.append(
            f"{len(portfolio)} returns do not exceed the lookback {lookback}: no APC paths"
        )
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = apc_from_returns(
                portfolio,
                level=settings["level"],
                mpor=settings["mpor"],
                lookback=lookback,
                stress_windows=windows or None,
                settings=config.apc,
                method=settings["method"],
            )
        except InsufficientDataError as exc:
            notes.append(f"no APC paths: {exc}")
            return None
    notes.extend(str(w.message) for w in caught)
    return result
