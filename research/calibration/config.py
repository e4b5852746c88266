"""Calibration study configuration: what to calibrate, on which data, with which settings.

A :class:`CalibrationConfig` is plain data read from YAML (see ``configs/default.yaml``):
the risk-weight profile and its overrides, the data source, the assets and hedged pairs,
the stress windows, the offset-credit settings, the anti-procyclicality settings, the
parameter-set metadata, an optional sensitivity grid, and a seed. It validates on load and
round-trips exactly: ``CalibrationConfig.from_yaml(c.to_yaml()) == c``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from research._config import check_field_types, iso_date, read_yaml_mapping
from research._io import write_atomic
from research.calibration.offsets import OffsetCalibrator, OffsetPair
from research.calibration.parameters import APCSettings, _in_range, _whole
from research.calibration.risk_weights import PROFILES
from research.data.alignment import HISTORY_POLICIES
from research.data.calendar import mpor_periods, period_text
from research.errors import ParameterError, SpecificationError
from research.margin.offsets import EMIR_MAX_OFFSET

__all__ = [
    "SWEEP_AXES",
    "CalibrationConfig",
    "DataConfig",
    "OffsetConfig",
    "StressConfig",
    "sweep_axis",
    "sweep_settings",
]

#: Axes of a sensitivity sweep, in grid order. The config holds the values as plain data;
#: the sweep itself (a hold-out backtest) is :func:`research.backtest.sensitivity_sweep`.
SWEEP_AXES = ("level", "mpor", "lookback", "ewma_lambda", "stress_weight", "offset_cap")

#: Risk-weight settings a config may override on top of its profile.
_RISK_WEIGHT_KEYS = (
    "level",
    "mpor",
    "lookback",
    "method",
    "overlapping",
    "stress_weight",
    "filter",
    "ewma_lambda",
    "side",
)


def _check_keys(data: Any, cls: type, where: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise SpecificationError(f"{where} must be a mapping, got {type(data).__name__}")
    allowed = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise SpecificationError(f"{where}: unknown field(s) {unknown}; valid fields are {allowed}")
    return dict(data)


@dataclass(frozen=True)
class DataConfig:
    """Where the prices come from.

    Parameters
    ----------
    source : str or tuple of str
        A bundled dataset name or a price file path; several sources are joined on their
        common dates (e.g. ``("sp500", "sp500-nasdaq")``).
    start, end : str, optional
        Inclusive ISO dates that slice the sample.
    align : {"intersection", "ffill"}
        How missing prices are handled (see :func:`research.data.align`).
    history : {"common", "pairwise"}
        Late listings. ``"common"`` (the default): the panel keeps only the dates where
        every asset trades, so an asset listed later (SOL on 2020-08-11) cuts everyone's
        history to its own; the rows dropped are counted in the calibration's warnings and
        in ``data_description["history"]``. ``"pairwise"``: each asset keeps its full history;
        its risk weight uses its own returns and each pair's correlation regimes (recent,
        stressed, stability) the pair's complete rows (pairwise-complete), so BTC/ETH keep
        March 2020 with SOL in the panel. The DCC regime and the APC paths need a balanced
        panel and use the rows where every asset trades; the result says so. The policy and
        each asset's and pair's first date are recorded on the result and the parameter set
        (:attr:`~research.calibration.MarginParameters.history`).
    """

    source: str | tuple[str, ...] = "sp500"
    start: str | None = None
    end: str | None = None
    align: Literal["intersection", "ffill"] = "intersection"
    history: Literal["common", "pairwise"] = "common"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", iso_date(self.start, "data.start"))
        object.__setattr__(self, "end", iso_date(self.end, "data.end"))
        check_field_types(self, "data")
        source = self.source
        if isinstance(source, list | tuple):
            source = tuple(str(s) for s in source)
            if not source:
                raise SpecificationError("data.source is empty; name a dataset or a file")
            source = source[0] if len(source) == 1 else source
        elif not isinstance(source, str) or not source:
            raise SpecificationError(
                f"data.source must be a dataset name or a path, got {source!r}"
            )
        object.__setattr__(self, "source", source)
        if self.align not in ("intersection", "ffill"):
            raise SpecificationError(
                f"data.align must be 'intersection' or 'ffill', got {self.align!r}"
            )
        if self.history not in HISTORY_POLICIES:
            raise SpecificationError(
                f"data.history must be 'common' (dates where every asset trades) or 'pairwise' "
                f"(each asset's and pair's own history), got {self.history!r}"
            )

    @property
    def sources(self) -> tuple[str, ...]:
        """The sources as a tuple."""
        return (self.source,) if isinstance(self.source, str) else tuple(self.source)


@dataclass(frozen=True)
class StressConfig:
    """Which stress windows to use.

    Parameters
    ----------
    asset_class : {"equities", "crypto"}, optional
        Take every catalog window of this market that lies inside the data.
    names : tuple of str
        Catalog windows by name (``research.stress.stress_windows``).
    custom : mapping of name to (start, end)
        Further windows given by their dates.
    """

    asset_class: str | None = None
    names: tuple[str, ...] = ()
    custom: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_field_types(self, "stress")
        if self.asset_class not in (None, "equities", "crypto"):
            raise SpecificationError(
                f"stress.asset_class must be 'equities', 'crypto' or null, got {self.asset_class!r}"
            )
        object.__setattr__(self, "names", tuple(str(n) for n in self.names))
        custom = {}
        if not isinstance(self.custom, Mapping):
            raise SpecificationError("stress.custom must map a window name to [start, end]")
        for name, bounds in self.custom.items():
            if not isinstance(bounds, list | tuple) or len(bounds) != 2:
                raise SpecificationError(
                    f"stress.custom[{name!r}] needs [start, end], got {bounds!r}"
                )
            start = iso_date(bounds[0], f"stress.custom[{name!r}] start")
            end = iso_date(bounds[1], f"stress.custom[{name!r}] end")
            if end < start:
                raise SpecificationError(
                    f"stress.custom[{name!r}] ends ({end}) before it starts ({start})"
                )
            custom[str(name)] = (start, end)
        object.__setattr__(self, "custom", custom)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {
            "asset_class": self.asset_class,
            "names": list(self.names),
            "custom": {k: list(v) for k, v in self.custom.items()},
        }


@dataclass(frozen=True)
class OffsetConfig:
    """Offset-credit settings of a calibration.

    Parameters
    ----------
    cap, hedge, significance, break_threshold, break_haircut, min_correlation
        As in :class:`~research.calibration.offsets.OffsetCalibrator`.
    recent : int, optional
        Observations of the recent correlation regime (default: the risk-weight lookback).
    dcc : bool
        Add the DCC lower-quantile regime (fits a DCC model on the last ``dcc_window`` days).
    dcc_kind : {"dcc", "cdcc", "adcc"}
        DCC variant.
    dcc_quantile : float
        Lower quantile of each pair's conditional correlation over the window (e.g. 0.05).
    dcc_window : int
        Days the DCC model (and the copula model) is fitted on and the quantile is taken over.
    copula : bool
        Add the tail-dependence regime ``copula_qNN`` (off by default): a Student-t copula
        DCC (``dcc_kind`` dynamics, empirical uniforms) on the last ``dcc_window`` days, and per
        pair the ``copula_quantile`` of its hedge correlation over the path, the least
        favourable side for the hedge, with the tail dependence at it
        (:func:`~research.calibration.offsets.copula_regime`).
    copula_quantile : float
        The copula regime's quantile, in (0, 0.5).
    """

    cap: float = EMIR_MAX_OFFSET
    hedge: str = "equal_risk"
    significance: float = 0.05
    break_threshold: float = 0.3
    break_haircut: float = 1.0
    min_correlation: float = 0.0
    recent: int | None = None
    dcc: bool = True
    dcc_kind: str = "dcc"
    dcc_quantile: float = 0.05
    dcc_window: int = 1000
    copula: bool = False
    copula_quantile: float = 0.05

    def __post_init__(self) -> None:
        check_field_types(self, "offsets")
        self.calibrator()  # validates the shared settings
        if not isinstance(self.dcc, bool):
            raise SpecificationError(f"offsets.dcc must be true or false, got {self.dcc!r}")
        if self.dcc_kind not in ("dcc", "cdcc", "adcc"):
            raise SpecificationError(
                f"offsets.dcc_kind must be dcc, cdcc or adcc, got {self.dcc_kind!r}"
            )
        if not isinstance(self.copula, bool):
            raise SpecificationError(f"offsets.copula must be true or false, got {self.copula!r}")
        for name in ("dcc_quantile", "copula_quantile"):
            if not 0.0 < getattr(self, name) < 0.5:
                raise SpecificationError(
                    f"offsets.{name} must lie in (0, 0.5), got {getattr(self, name)}"
                )
        for name in ("recent", "dcc_window"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or int(value) != value or value < 20):
                raise SpecificationError(
                    f"offsets.{name} must be a whole number >= 20, got {value!r}"
                )

    def calibrator(self) -> OffsetCalibrator:
        """Build the :class:`OffsetCalibrator` with these settings.

        Returns
        -------
        OffsetCalibrator
        """
        try:
            return OffsetCalibrator(
                cap=self.cap,
                hedge=self.hedge,  # type: ignore[arg-type]
                significance=self.significance,
                break_threshold=self.break_threshold,
                break_haircut=self.break_haircut,
                min_correlation=self.min_correlation,
            )
        except ParameterError as exc:
            raise SpecificationError(f"offsets: {exc}") from exc


@dataclass(frozen=True)
class CalibrationConfig:
    """Everything a calibration run needs besides the prices.

    Parameters
    ----------
    name : str
        Short name of the study (used in the parameter-set description).
    profile : str
        Risk-weight profile (a key of ``research.calibration.PROFILES``).
    data : DataConfig
        Price source and sample.
    assets : tuple of str
        Underlyings to calibrate (empty: every column of the data).
    pairs : tuple of OffsetPair
        Hedged pairs that may earn an offset credit.
    risk_weights : mapping
        Overrides of the profile's settings (``level``, ``mpor``, ``lookback``, ``method``,
        ``overlapping``, ``stress_weight``, ``filter``, ``ewma_lambda``, ``side``).
    stress : StressConfig
        Stress windows.
    offsets : OffsetConfig
        Offset-credit settings.
    apc : APCSettings
        Anti-procyclicality settings written into the parameter set.
    version : str
        Version of the resulting parameter set.
    maintenance_fraction : float
        Maintenance margin as a fraction of initial margin, in (0, 1].
    description : str
        What the calibration is for.
    sweep : mapping of axis to tuple, optional
        Settings of the sensitivity sweep run by the study, not by :func:`calibrate`
        (``{axis: values}`` over :data:`SWEEP_AXES`, checked by :func:`sweep_settings`);
        whoever runs it builds ``research.backtest.SweepGrid.from_dict(config.sweep)``.
    seed : int
        Seed of every random draw of the run.

    Raises
    ------
    SpecificationError
        Unknown profile, field or setting; an asset of a pair missing from ``assets``.

    Examples
    --------
    >>> c = CalibrationConfig(name="demo", pairs=[("XOM", "CVX")], assets=["XOM", "CVX"])
    >>> CalibrationConfig.from_yaml(c.to_yaml()) == c
    True
    """

    name: str = "calibration"
    profile: str = "emir-2d-99"
    data: DataConfig = field(default_factory=DataConfig)
    assets: tuple[str, ...] = ()
    pairs: tuple[OffsetPair, ...] = ()
    risk_weights: Mapping[str, Any] = field(default_factory=dict)
    stress: StressConfig = field(default_factory=StressConfig)
    offsets: OffsetConfig = field(default_factory=OffsetConfig)
    apc: APCSettings = field(default_factory=APCSettings)
    version: str = "0.1.0"
    maintenance_fraction: float = 1.0
    description: str = ""
    sweep: Mapping[str, tuple[Any, ...]] | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.sweep is not None:  # before the type checks: its own message names the axis
            set_(self, "sweep", _sweep(self.sweep))
        check_field_types(self, "")
        if self.profile not in PROFILES:
            raise SpecificationError(
                f"unknown profile {self.profile!r}; choose from {sorted(PROFILES)}"
            )
        set_(self, "assets", tuple(str(a) for a in self.assets))
        try:
            set_(self, "pairs", tuple(OffsetPair.coerce(p) for p in self.pairs))
        except ParameterError as exc:
            raise SpecificationError(f"pairs: {exc}") from exc
        if self.assets:
            missing = sorted(
                {a for p in self.pairs for a in (p.first, p.second)} - set(self.assets)
            )
            if missing:
                raise SpecificationError(
                    f"pairs use {missing}, which are not among assets {list(self.assets)}"
                )
        overrides = dict(self.risk_weights or {})
        unknown = sorted(set(overrides) - set(_RISK_WEIGHT_KEYS))
        if unknown:
            raise SpecificationError(
                f"risk_weights: unknown setting(s) {unknown}; valid: {list(_RISK_WEIGHT_KEYS)}"
            )
        set_(self, "risk_weights", overrides)
        if isinstance(overrides.get("mpor"), str):
            try:
                overrides["mpor"] = period_text(overrides["mpor"])
            except SpecificationError as exc:
                raise SpecificationError(f"risk_weights.mpor: {exc}") from exc
            # the duration becomes periods with the data (in_periods); check the rest now
            dataclasses.replace(self, risk_weights={**overrides, "mpor": 1}, sweep=None)
        else:
            self.profile_settings()  # validates the merged risk-weight settings
        if isinstance(self.apc, Mapping):
            set_(self, "apc", APCSettings.from_dict(self.apc))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SpecificationError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not 0.0 < float(self.maintenance_fraction) <= 1.0:
            raise SpecificationError(
                f"maintenance_fraction must lie in (0, 1], got {self.maintenance_fraction!r}"
            )

    def profile_settings(self) -> dict[str, Any]:
        """Merge the profile's risk-weight settings with the overrides.

        Returns
        -------
        dict
            Keyword arguments of :func:`research.calibration.calibrate_risk_weights`.

        Raises
        ------
        SpecificationError
            If the merged settings are invalid.
        """
        profile = PROFILES[self.profile]
        overrides = {k: v for k, v in self.risk_weights.items() if k != "side"}
        if isinstance(overrides.get("mpor"), str):
            raise SpecificationError(
                f"risk_weights.mpor {overrides['mpor']!r} is a duration; convert the config to "
                "the data's periods first: config.in_periods(prices.index)"
            )
        side = self.risk_weights.get("side", "both")
        if side not in ("both", "long", "short"):
            raise SpecificationError(f"risk_weights.side must be both, long or short, got {side!r}")
        try:
            merged = dataclasses.replace(profile, **overrides)  # re-runs the profile's checks
        except (SpecificationError, TypeError, ValueError) as exc:
            raise SpecificationError(f"risk_weights ({self.profile} + overrides): {exc}") from exc
        settings = {k: getattr(merged, k) for k in _RISK_WEIGHT_KEYS if k != "side"}
        settings["side"] = side
        return settings

    def in_periods(self, index: pd.DatetimeIndex) -> CalibrationConfig:
        """Convert an MPOR given as a duration to periods of the data.

        Parameters
        ----------
        index : pandas.DatetimeIndex
            The data's stamps (hourly bars make ``"8h"`` 8 periods and ``"1D"`` 24; daily
            bars make ``"2D"`` 2), :func:`research.data.mpor_periods`.

        Returns
        -------
        CalibrationConfig
            The config itself when every MPOR (``risk_weights.mpor`` and the sweep's) is
            already a number of periods.

        Raises
        ------
        SpecificationError
            When a duration is not a whole number of the data's periods (``"8h"`` on daily
            data).
        """
        mpor = self.risk_weights.get("mpor")
        axis = (self.sweep or {}).get("mpor", ())
        if not isinstance(mpor, str) and not any(isinstance(v, str) for v in axis):
            return self
        risk_weights = dict(self.risk_weights)
        if isinstance(mpor, str):
            risk_weights["mpor"] = mpor_periods(mpor, index)
        sweep = None if self.sweep is None else dict(self.sweep)
        if sweep is not None and "mpor" in sweep:
            sweep["mpor"] = tuple(dict.fromkeys(mpor_periods(v, index) for v in axis))
        return dataclasses.replace(self, risk_weights=risk_weights, sweep=sweep)

    # ------------------------------------------------------------------ serialization

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML types.

        Returns
        -------
        dict
        """
        data = self.data
        return {
            "name": self.name,
            "description": self.description,
            "profile": self.profile,
            "data": {
                "source": list(data.sources) if len(data.sources) > 1 else data.sources[0],
                "start": data.start,
                "end": data.end,
                "align": data.align,
                "history": data.history,
            },
            "assets": list(self.assets),
            "pairs": [[p.first, p.second, p.direction] for p in self.pairs],
            "risk_weights": dict(self.risk_weights),
            "stress": self.stress.to_dict(),
            "offsets": dataclasses.asdict(self.offsets),
            "apc": self.apc.to_dict(),
            "version": self.version,
            "maintenance_fraction": self.maintenance_fraction,
            "sweep": None if self.sweep is None else {k: list(v) for k, v in self.sweep.items()},
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalibrationConfig:
        """Build and validate a config from a mapping (as read from YAML).

        Parameters
        ----------
        data : mapping
            Fields of :class:`CalibrationConfig`; nested sections are mappings.

        Returns
        -------
        CalibrationConfig

        Raises
        ------
        SpecificationError
            Unknown fields or invalid settings.
        """
        kwargs = _check_keys(data, cls, "calibration config")
        if "data" in kwargs:
            kwargs["data"] = DataConfig(**_check_keys(kwargs["data"], DataConfig, "data"))
        if "stress" in kwargs:
            kwargs["stress"] = StressConfig(**_check_keys(kwargs["stress"], StressConfig, "stress"))
        if "offsets" in kwargs:
            kwargs["offsets"] = OffsetConfig(
                **_check_keys(kwargs["offsets"], OffsetConfig, "offsets")
            )
        if kwargs.get("apc") is not None:
            try:
                kwargs["apc"] = APCSettings.from_dict(kwargs["apc"])
            except ParameterError as exc:
                raise SpecificationError(f"apc: {exc}") from exc
        else:
            kwargs.pop("apc", None)
        for name in ("assets", "pairs", "risk_weights"):
            if kwargs.get(name) is None:
                kwargs.pop(name, None)
        return cls(**kwargs)

    def to_yaml(self, path: str | Path | None = None, *, overwrite: bool = True) -> str:
        """YAML text of :meth:`to_dict`; also written (atomically) to ``path`` when given.

        Parameters
        ----------
        path : str or Path, optional
            File to write.
        overwrite : bool, default True
            Replace an existing file; when false an existing file raises
            :class:`~research.errors.OutputError`.

        Returns
        -------
        str
        """
        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        if path is not None:
            write_atomic(path, text, overwrite=overwrite)
        return text

    @classmethod
    def from_yaml(cls, source: str | Path) -> CalibrationConfig:
        """Read a config from a YAML file path or YAML text.

        Parameters
        ----------
        source : str or Path
            A ``.yaml``/``.yml`` path, or the YAML text itself.

        Returns
        -------
        CalibrationConfig

        Raises
        ------
        SpecificationError
            A missing file, invalid YAML (with its line), an empty file or an invalid config;
            the message names the file.
        """
        data, where = read_yaml_mapping(source, "calibration config")
        try:
            return cls.from_dict(data)
        except SpecificationError as exc:
            raise SpecificationError(f"{where}: {exc}") from exc


def _mpor_value(value: Any, name: str) -> int | str:
    """Check an MPOR: periods (a whole number >= 1) or a duration (``"8h"``, canonical)."""
    if not isinstance(value, str):
        return _whole(value, name, 1)
    try:
        return period_text(value)
    except SpecificationError as exc:
        raise ParameterError(f"{name}: {exc}") from exc


def _optional(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    return lambda value, name: None if value is None else check(value, name)


#: One check per sweep axis, the same ranges as the fields of ``MarginParameters``.
_AXIS_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "level": lambda v, n: _in_range(v, n, 0.5, 1.0, open_low=True, open_high=True),
    "mpor": lambda v, n: _mpor_value(v, n),
    "lookback": lambda v, n: _whole(v, n, 1),
    "ewma_lambda": _optional(lambda v, n: _in_range(v, n, 0.0, 1.0, open_low=True, open_high=True)),
    "stress_weight": _optional(lambda v, n: _in_range(v, n, 0.0, 1.0)),
    "offset_cap": lambda v, n: _in_range(v, n, 0.0, 1.0),
}


def sweep_axis(name: str, values: Any) -> tuple[Any, ...]:
    """Check the values of one sweep axis and return them as a tuple.

    Parameters
    ----------
    name : str
        One of :data:`SWEEP_AXES`.
    values : sequence or scalar
        The axis values (a scalar or ``None`` is a one-value axis).

    Returns
    -------
    tuple

    Raises
    ------
    ParameterError
        If the axis is unknown, empty, a string, repeats a value or holds a value outside its
        range (the ranges of ``MarginParameters``); the message names ``sweep.<axis>[i]``.
    """
    if name not in _AXIS_CHECKS:
        raise ParameterError(f"unknown sweep axis {name!r}; valid axes are {list(SWEEP_AXES)}")
    if isinstance(values, str | bytes):
        raise ParameterError(f"sweep axis {name!r} must be a list of values, got {values!r}")
    values = (values,) if values is None or isinstance(values, int | float) else tuple(values)
    if not values:
        raise ParameterError(f"sweep axis {name!r} is empty; give at least one value")
    if len(set(values)) != len(values):
        raise ParameterError(f"sweep axis {name!r} repeats a value: {list(values)}")
    check = _AXIS_CHECKS[name]
    return tuple(check(value, f"sweep.{name}[{i}]") for i, value in enumerate(values))


def sweep_settings(data: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Check a sweep's ``{axis: values}`` settings, rejecting unknown axes.

    Parameters
    ----------
    data : mapping
        Axis name -> list of values (any other value, even a string, is a one-value axis);
        axes left out take the grid's defaults when the sweep is built.

    Returns
    -------
    dict of str to tuple
        The given axes, in :data:`SWEEP_AXES` order.

    Raises
    ------
    ParameterError
        If ``data`` is not a mapping, an axis name is unknown or an axis is invalid
        (:func:`sweep_axis`).

    Examples
    --------
    >>> sweep_settings({"mpor": [1, 2], "level": 0.99})
    {'level': (0.99,), 'mpor': (1, 2)}
    """
    if not isinstance(data, Mapping):
        raise ParameterError(f"sweep must map an axis to a list of values, got {data!r}")
    unknown = sorted(set(data) - set(SWEEP_AXES))
    if unknown:
        raise ParameterError(f"unknown sweep axes {unknown}; valid axes are {list(SWEEP_AXES)}")
    given = {k: v if isinstance(v, list | tuple) else [v] for k, v in data.items()}
    return {name: sweep_axis(name, given[name]) for name in SWEEP_AXES if name in given}


def _sweep(data: Any) -> dict[str, tuple[Any, ...]]:
    """Check the sweep settings, reporting their errors as config errors."""
    if not isinstance(data, Mapping):
        raise SpecificationError(f"sweep must map an axis to a list of values, got {data!r}")
    try:
        return sweep_settings(data)
    except (ParameterError, TypeError, ValueError) as exc:
        raise SpecificationError(f"sweep: {exc}") from exc
