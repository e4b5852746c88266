"""Margin parameter sets: frozen, validated, and exactly round-tripped through JSON and YAML.

A :class:`MarginParameters` is what a calibration review signs off: the
confidence level, margin period of risk, lookback, stress windows, the
anti-procyclicality settings, one risk weight per underlying, offset credits or
correlations per pair, the offset cap and the maintenance fraction, with a
version, an as-of date and a description. Everything is plain data.

A set is identified by its :attr:`~MarginParameters.fingerprint` (SHA-256 of its canonical
JSON) and is a margin engine (:meth:`~MarginParameters.engine`, a
:class:`research.margin.ParameterSetEngine`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import yaml

from research._io import write_atomic
from research.data import stamp_label
from research.data.calendar import duration_label, mpor_periods, period_text
from research.errors import ParameterError, SpecificationError
from research.margin.credits import DIRECTIONS, Hedge, check_hedge
from research.margin.offsets import EMIR_MAX_OFFSET
from research.margin.parameter_set import ParameterSetEngine

__all__ = ["APCSettings", "APCTool", "MarginParameters", "Pair"]

APCTool = Literal["buffer", "stress_weight", "floor", "combined"]
_APC_TOOLS: tuple[str, ...] = get_args(APCTool)
Pair = tuple[str, str]
Bound = dt.date | dt.datetime
"""A stress-window bound: a calendar date, or a time (UTC when aware) for intraday windows."""

EMIR_MIN_BUFFER = 0.25
"""EMIR RTS 153/2013 Art. 28(1)(a): a margin buffer of at least 25%."""
EMIR_MIN_STRESS_WEIGHT = 0.25
"""EMIR RTS 153/2013 Art. 28(1)(b): at least 25% weight on stressed observations."""
EMIR_FLOOR_YEARS = 10
"""EMIR RTS 153/2013 Art. 28(1)(c): a floor from a 10-year historical lookback."""
_YAML_END = "..."

DAILY_PERIOD = "1D"
"""The observation period of a daily parameter set (the default, not written to files)."""
"""The YAML end-of-document line a parameter file ends with: a file cut short lacks it."""


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    return number


def _whole(value: Any, name: str, minimum: int) -> int:
    number = _number(value, name)
    if not number.is_integer() or number < minimum:
        raise ParameterError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(number)


def _in_range(
    value: Any,
    name: str,
    low: float,
    high: float,
    *,
    open_low: bool = False,
    open_high: bool = False,
    hint: str = "",
) -> float:
    number = _number(value, name)
    below = number <= low if open_low else number < low
    above = number >= high if open_high else number > high
    if below or above:
        left, right = "(" if open_low else "[", ")" if open_high else "]"
        raise ParameterError(
            f"{name} must lie in {left}{low:g}, {high:g}{right}, got {number!r}{hint}"
        )
    return number


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ParameterError(f"{name}: {value!r} is not an ISO date (YYYY-MM-DD)") from exc
    raise ParameterError(f"{name} must be a date or an ISO date string, got {value!r}")


def _check_keys(
    data: Mapping[str, Any], allowed: Iterable[str], required: Iterable[str], where: str
) -> None:
    if not isinstance(data, Mapping):
        raise ParameterError(f"{where} must be a mapping, got {type(data).__name__}")
    allowed, required = set(allowed), set(required)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ParameterError(
            f"{where}: unknown field(s) {unknown}; valid fields are {sorted(allowed)}"
        )
    missing = sorted(required - set(data))
    if missing:
        raise ParameterError(f"{where}: missing required field(s) {missing}")


@dataclass(frozen=True)
class APCSettings:
    """Anti-procyclicality settings (EMIR RTS 153/2013 Art. 28).

    Parameters
    ----------
    tool : {"buffer", "stress_weight", "floor", "combined"}, default "buffer"
        The tool the margin path uses; ``"combined"`` takes the highest of the three.
    buffer : float, default 0.25
        Margin buffer on top of the base margin, released in stress (>= 0.25).
    stress_weight : float, default 0.25
        Weight of the stressed margin in the blended margin (>= 0.25).
    floor_years : int, default 10
        Length of the lookback (years) behind the margin floor (>= 10).
    release_threshold : float, default 0.1
        Stress is detected (buffer released) when the base margin rose by more than
        this fraction over ``release_window`` observations.
    release_window : int, default 5
        Observations over which the rise is measured.
    rebuild_days : int, default 20
        Outside stress a used buffer is refilled by at most ``buffer / rebuild_days``
        of the base margin per observation, so releasing the buffer does not cause a
        jump of up to ``buffer`` when stress ends (1: rebuilt at once).
    enforce_emir_minimum : bool, default True
        Reject a buffer, stress weight or floor lookback below the EMIR minimum.
        Switch off only for sensitivity sweeps below the regulatory floor.

    Raises
    ------
    ParameterError
        A value out of range, or below the EMIR minimum when enforced.

    Examples
    --------
    >>> from research.calibration import APCSettings
    >>> APCSettings(buffer=0.3).buffer
    0.3
    """

    tool: APCTool = "buffer"
    buffer: float = EMIR_MIN_BUFFER
    stress_weight: float = EMIR_MIN_STRESS_WEIGHT
    floor_years: int = EMIR_FLOOR_YEARS
    release_threshold: float = 0.1
    release_window: int = 5
    rebuild_days: int = 20
    enforce_emir_minimum: bool = True

    def __post_init__(self) -> None:
        if self.tool not in _APC_TOOLS:
            raise ParameterError(f"apc.tool must be one of {_APC_TOOLS}, got {self.tool!r}")
        if not isinstance(self.enforce_emir_minimum, bool):
            raise ParameterError(
                f"apc.enforce_emir_minimum must be true or false, got {self.enforce_emir_minimum!r}"
            )
        emir = self.enforce_emir_minimum
        buffer = _in_range(
            self.buffer,
            "apc.buffer",
            EMIR_MIN_BUFFER if emir else 0.0,
            10.0,
            hint=" (EMIR Art. 28(1)(a) requires >= 0.25)" if emir else "",
        )
        weight = _in_range(
            self.stress_weight,
            "apc.stress_weight",
            EMIR_MIN_STRESS_WEIGHT if emir else 0.0,
            1.0,
            hint=" (EMIR Art. 28(1)(b) requires >= 0.25)" if emir else "",
        )
        years = _whole(self.floor_years, "apc.floor_years", EMIR_FLOOR_YEARS if emir else 1)
        threshold = _in_range(
            self.release_threshold, "apc.release_threshold", 0.0, 10.0, open_low=True
        )
        window = _whole(self.release_window, "apc.release_window", 1)
        rebuild = _whole(self.rebuild_days, "apc.rebuild_days", 1)
        for name, value in (
            ("buffer", buffer),
            ("stress_weight", weight),
            ("floor_years", years),
            ("release_threshold", threshold),
            ("release_window", window),
            ("rebuild_days", rebuild),
        ):
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a plain dictionary (JSON/YAML ready).

        Returns
        -------
        dict
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> APCSettings:
        """Build settings from a dictionary, rejecting unknown fields.

        Parameters
        ----------
        data : mapping
            Fields of :class:`APCSettings`; missing fields take their defaults.

        Returns
        -------
        APCSettings

        Raises
        ------
        ParameterError
            Unknown fields or invalid values.
        """
        _check_keys(data, [f.name for f in dataclasses.fields(cls)], [], "apc")
        return cls(**dict(data))


def _pair_key(pair: Any, where: str) -> Pair:
    if isinstance(pair, str):
        parts = pair.split("/")
    elif isinstance(pair, list | tuple):
        parts = list(pair)
    else:
        raise ParameterError(f"{where}: a pair must be ('A', 'B') or 'A/B', got {pair!r}")
    if len(parts) != 2 or not all(isinstance(p, str) and p for p in parts):
        raise ParameterError(f"{where}: a pair must name two underlyings, got {pair!r}")
    if parts[0] == parts[1]:
        raise ParameterError(f"{where}: pair {pair!r} names the same underlying twice")
    return (parts[0], parts[1]) if parts[0] < parts[1] else (parts[1], parts[0])


def _pair_values(
    values: Mapping[Any, Any] | Iterable[Mapping[str, Any]],
    name: str,
    low: float,
    high: float,
    value_key: str,
    optional: Iterable[str] = (),
) -> dict[Pair, float]:
    items: Iterable[tuple[Any, Any]]
    if isinstance(values, Mapping):
        items = values.items()
    else:
        records = list(values)
        for record in records:
            _check_keys(
                record, ["pair", value_key, *optional], ["pair", value_key], f"{name} entry"
            )
        items = [(r["pair"], r[value_key]) for r in records]
    out: dict[Pair, float] = {}
    for pair, value in items:
        key = _pair_key(pair, name)
        number = _in_range(value, f"{name}[{key[0]}/{key[1]}]", low, high)
        if key in out and out[key] != number:
            raise ParameterError(
                f"{name}: pair {key[0]}/{key[1]} is given twice with different values "
                f"({out[key]!r} and {number!r})"
            )
        out[key] = number
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class MarginParameters:
    """A complete, validated margin parameter set.

    Parameters
    ----------
    level : float
        Confidence level of the margin, in (0.5, 1) (e.g. 0.99).
    mpor : int or str
        Margin period of risk: a number of observation periods (>= 1), or a duration
        (``"8h"``, ``"1D"``, ``"2D"``) converted to periods of ``period``
        (:func:`research.data.mpor_periods`). Stored as periods.
    lookback : int
        Lookback in observations behind the risk weights (>= ``mpor``).
    risk_weights : mapping of str -> float
        Risk weight per underlying: the level-quantile (or ES) of its MPOR move as a
        fraction of notional (0.08 = 8%); positive. A SPAN scan range is this times
        the price.
    offset_credits : mapping of pair -> float, optional
        Credit per pair in [0, ``offset_cap``]: the share of the sum of the two matched
        legs' standalone margins that the hedge removes (the package's one definition,
        :mod:`research.margin.credits`). Pairs are ``("A", "B")`` tuples or ``"A/B"``
        strings (stored sorted); records ``{"pair", "credit"[, "direction"]}`` are accepted.
    correlations : mapping of pair -> float, optional
        Correlation parameter per pair in [-1, 1] (for correlation-aggregation engines).
    offset_cap : float, default EMIR_MAX_OFFSET (0.8, ``research.margin.offsets``)
        Largest share of the margin an offset may remove, in [0, 1].
    maintenance_fraction : float, default 1.0
        Maintenance margin as a fraction of initial margin, in (0, 1].
    stress_windows : mapping of str -> (start, end), optional
        Named stress windows with the bounds the set was calibrated on, stored with the set
        (not looked up by name), so a set read years later says which dates it used even if
        the catalog (``research/stress/windows.yaml``) changes. A bound at midnight without a
        time zone is a date (``"2020-03-09"``); a bound with a time of day keeps it, in UTC
        when it has a time zone (``"2025-10-10T14:00:00+00:00"``). Window bounds enter the
        fingerprint (they are part of the set); whole-day windows are written as dates, as
        before intraday bounds existed, so sets without intraday windows keep their
        fingerprints.
    stress_weight : float or None, default None
        Weight of stressed observations in the risk weights, in [0, 1]; ``None``
        means stress windows are included in the sample unweighted.
    apc : APCSettings, default APCSettings()
        Anti-procyclicality settings.
    version : str, default "0.1.0"
        Version of the parameter set.
    as_of : datetime.date or ISO string, optional
        Date the parameters apply from (defaults to today).
    description : str, default ""
        What the set is for and how it was calibrated.
    offset_directions : mapping of pair -> {"opposite", "same"}, optional
        Which positions form each credited pair's hedge: long against short
        (``"opposite"``, the default for a pair not named) or both the same way. Stored for
        every credited pair; an ``"opposite"`` entry for a pair without a credit is dropped
        (so ``dataclasses.replace`` may drop credits).
    offset_hedge : {"equal_risk", "equal_notional"}, default "equal_risk"
        How the legs of a credited pair are matched (the calibration's ``hedge``).
    period : str, default "1D"
        Length of one observation period of the data the set was calibrated on: ``"1D"``
        for daily bars (a trading day on the equity calendar), ``"1h"`` for hourly bars.
        ``mpor`` and ``lookback`` count these periods; :attr:`mpor_label` says how long the
        MPOR is. Written to files only when it is not ``"1D"`` (daily sets keep their
        fingerprints).
    history : mapping, optional
        Provenance of a calibration that kept late listings' history
        (``data.history: pairwise``, :class:`~research.calibration.config.DataConfig`):
        ``{"policy": "pairwise", "assets": {asset: first date}, "pairs": {"A/B": first
        date}, "balanced_from": first date of the rows where every asset trades}`` (ISO
        dates; timestamps on intraday data). ``None`` (the default, not written to files,
        so sets calibrated on a common sample keep their fingerprints): every number comes
        from the rows where all assets trade. Enters the fingerprint when given.

    Attributes
    ----------
    fingerprint : str
        First 12 hex characters of :attr:`fingerprint_full`, printed with the set.
    fingerprint_full : str
        SHA-256 of :meth:`canonical_json`.

    Raises
    ------
    ParameterError
        Any value out of range, or an offset credit/correlation for an underlying
        without a risk weight; the message names the field.

    Notes
    -----
    Instances compare equal field by field and are not hashable (they hold dicts).
    ``from_json(p.to_json()) == p`` and ``from_yaml(p.to_yaml()) == p`` exactly, and both
    keep the fingerprint.

    Examples
    --------
    >>> from research.calibration import MarginParameters
    >>> p = MarginParameters(level=0.99, mpor=2, lookback=250,
    ...                      risk_weights={"BTC": 0.12, "ETH": 0.15},
    ...                      offset_credits={("BTC", "ETH"): 0.5}, as_of="2024-01-02")
    >>> MarginParameters.from_json(p.to_json()) == p
    True
    """

    level: float
    mpor: int | str
    lookback: int
    risk_weights: Mapping[str, float]
    offset_credits: Mapping[Any, float] = field(default_factory=dict)
    correlations: Mapping[Any, float] = field(default_factory=dict)
    offset_cap: float = EMIR_MAX_OFFSET
    maintenance_fraction: float = 1.0
    stress_windows: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    stress_weight: float | None = None
    apc: APCSettings = field(default_factory=APCSettings)
    version: str = "0.1.0"
    as_of: dt.date | str | None = None
    description: str = ""
    offset_directions: Mapping[Any, str] = field(default_factory=dict)
    offset_hedge: Hedge = "equal_risk"
    period: str = DAILY_PERIOD
    history: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        set_ = self._set
        set_(
            "level",
            _in_range(
                self.level,
                "level",
                0.5,
                1.0,
                open_low=True,
                open_high=True,
                hint=" (e.g. 0.99 for a 99% margin)",
            ),
        )
        try:
            set_("period", period_text(self.period))
            set_("mpor", mpor_periods(self.mpor, self.period))
        except SpecificationError as exc:
            raise ParameterError(f"mpor / period: {exc}") from exc
        set_("lookback", _whole(self.lookback, "lookback", self.mpor))
        if not isinstance(self.risk_weights, Mapping) or not self.risk_weights:
            raise ParameterError("risk_weights must map at least one underlying to a weight")
        weights = {}
        for name, weight in self.risk_weights.items():
            if not isinstance(name, str) or not name:
                raise ParameterError(
                    f"risk_weights: underlying names must be strings, got {name!r}"
                )
            value = _number(weight, f"risk_weights[{name}]")
            if value <= 0:
                raise ParameterError(f"risk_weights[{name}] must be positive, got {value!r}")
            weights[name] = value
        set_("risk_weights", weights)
        set_("offset_cap", _in_range(self.offset_cap, "offset_cap", 0.0, 1.0))
        directions = self._directions(self.offset_credits, self.offset_directions)
        set_(
            "offset_credits",
            _pair_values(
                self.offset_credits, "offset_credits", 0.0, 1.0, "credit", optional=["direction"]
            ),
        )
        unknown = sorted(
            f"{a}/{b}"
            for (a, b), d in directions.items()
            if d != "opposite" and (a, b) not in self.offset_credits
        )
        if unknown:
            raise ParameterError(
                f"offset_directions makes pair(s) {unknown} same-direction hedges but they have "
                "no offset credit; give a direction only for a credited pair"
            )
        set_(
            "offset_directions",
            {pair: directions.get(pair, "opposite") for pair in self.offset_credits},
        )
        try:
            set_("offset_hedge", check_hedge(self.offset_hedge))
        except ParameterError as exc:
            raise ParameterError(f"offset_hedge: {exc}") from exc
        set_(
            "correlations",
            _pair_values(self.correlations, "correlations", -1.0, 1.0, "correlation"),
        )
        for pair, credit in self.offset_credits.items():
            if credit > self.offset_cap:
                raise ParameterError(
                    f"offset_credits[{pair[0]}/{pair[1]}] = {credit!r} exceeds offset_cap = "
                    f"{self.offset_cap!r}; cap the credit or raise the cap"
                )
        for label, pairs in (
            ("offset_credits", self.offset_credits),
            ("correlations", self.correlations),
        ):
            for pair in pairs:
                missing = [a for a in pair if a not in weights]
                if missing:
                    raise ParameterError(
                        f"{label}[{pair[0]}/{pair[1]}]: no risk weight for {missing}; add a "
                        "risk weight for every underlying that has an offset"
                    )
        set_(
            "maintenance_fraction",
            _in_range(self.maintenance_fraction, "maintenance_fraction", 0.0, 1.0, open_low=True),
        )
        set_("stress_windows", self._windows(self.stress_windows))
        if self.stress_weight is not None:
            set_("stress_weight", _in_range(self.stress_weight, "stress_weight", 0.0, 1.0))
        if isinstance(self.apc, Mapping):
            set_("apc", APCSettings.from_dict(self.apc))
        elif not isinstance(self.apc, APCSettings):
            raise ParameterError(f"apc must be APCSettings or a mapping, got {self.apc!r}")
        for name in ("version", "description"):
            if not isinstance(getattr(self, name), str):
                raise ParameterError(f"{name} must be a string, got {getattr(self, name)!r}")
        set_("as_of", dt.date.today() if self.as_of is None else _date(self.as_of, "as_of"))
        set_("history", _history(self.history))

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    @staticmethod
    def _directions(credits: Any, given: Any) -> dict[Pair, str]:
        """Directions from ``offset_directions`` and any ``direction`` of the credit records."""
        if not isinstance(given, Mapping):
            raise ParameterError(
                f"offset_directions must map pairs to 'opposite' or 'same', got {given!r}"
            )
        items = list(given.items())
        if not isinstance(credits, Mapping):
            items += [
                (r["pair"], r["direction"])
                for r in credits
                if isinstance(r, Mapping) and "pair" in r and "direction" in r
            ]
        out: dict[Pair, str] = {}
        for pair, direction in items:
            key = _pair_key(pair, "offset_directions")
            if direction not in DIRECTIONS:
                raise ParameterError(
                    f"offset_directions[{key[0]}/{key[1]}] must be one of {DIRECTIONS}, "
                    f"got {direction!r}"
                )
            if out.get(key, direction) != direction:
                raise ParameterError(
                    f"offset_directions: pair {key[0]}/{key[1]} is given as both "
                    f"{out[key]!r} and {direction!r}"
                )
            out[key] = direction
        return out

    @staticmethod
    def _windows(windows: Any) -> dict[str, tuple[Bound, Bound]]:
        if isinstance(windows, Mapping):
            items = list(windows.items())
        else:
            items = []
            for window in windows:
                if isinstance(window, Mapping):
                    _check_keys(
                        window,
                        ["name", "start", "end"],
                        ["name", "start", "end"],
                        "stress_windows entry",
                    )
                    items.append((window["name"], (window["start"], window["end"])))
                elif all(hasattr(window, a) for a in ("name", "start", "end")):
                    items.append((window.name, (window.start, window.end)))
                else:
                    raise ParameterError(
                        f"stress_windows entries need name, start and end, got {window!r}"
                    )
        out: dict[str, tuple[Bound, Bound]] = {}
        for name, bounds in items:
            if not isinstance(name, str) or not name:
                raise ParameterError(f"stress window names must be strings, got {name!r}")
            if name in out:
                raise ParameterError(f"stress window {name!r} is given twice")
            if not isinstance(bounds, list | tuple) or len(bounds) != 2:
                raise ParameterError(f"stress window {name!r} needs (start, end), got {bounds!r}")
            start = _bound(bounds[0], f"stress window {name!r} start")
            end = _bound(bounds[1], f"stress window {name!r} end")
            if _instant(end, end=True) < _instant(start):
                raise ParameterError(
                    f"stress window {name!r} ends ({end}) before it starts ({start})"
                )
            out[name] = (start, end)
        return out

    @property
    def mpor_label(self) -> str:
        """The MPOR in the unit people read: ``"2 days"``, or ``"8 hours (8 x 1h)"`` intraday."""
        label = duration_label(self.mpor, self.period)
        return label if self.period == DAILY_PERIOD else f"{label} ({self.mpor} x {self.period})"

    @property
    def underlyings(self) -> tuple[str, ...]:
        """Underlyings with a risk weight, in the stored order."""
        return tuple(self.risk_weights)

    def require(self, underlyings: Iterable[str]) -> None:
        """Check that every underlying of a portfolio has a risk weight.

        Parameters
        ----------
        underlyings : iterable of str
            Underlyings with positions.

        Raises
        ------
        ParameterError
            Naming every underlying without a risk weight.
        """
        missing = sorted(set(underlyings) - set(self.risk_weights))
        if missing:
            raise ParameterError(
                f"no risk weight for underlying(s) {missing} that have positions; calibrate "
                f"them or remove the positions (parameter set {self.version}, as of {self.as_of})"
            )

    def credit(self, a: str, b: str) -> float:
        """Offset credit of a pair in either order (0 when none is set).

        Parameters
        ----------
        a, b : str
            The two underlyings.

        Returns
        -------
        float
        """
        return self.offset_credits.get(_pair_key((a, b), "credit"), 0.0)

    def engine(self) -> ParameterSetEngine:
        """Return the set as a margin engine.

        Returns
        -------
        research.margin.ParameterSetEngine
            Risk weight x |delta notional| less the set's offset credits; its results name
            this set's fingerprint.
        """
        return ParameterSetEngine(self)

    # ------------------------------------------------------------------ identity

    def canonical_json(self) -> str:
        """Return the set's canonical JSON: the text its fingerprint hashes.

        Every field of :meth:`to_dict` (the description too: the file is the deployable unit,
        and its text says what the set is for), with sorted keys, stress windows sorted by
        name, no whitespace, the shortest round-trip float representation (``-0.0`` written
        as ``0.0``) and ASCII escapes.

        Returns
        -------
        str
        """
        data = self.to_dict()
        data["stress_windows"] = sorted(data["stress_windows"], key=lambda w: w["name"])
        return json.dumps(
            _canonical(data),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
            allow_nan=False,
        )

    @property
    def fingerprint_full(self) -> str:
        """SHA-256 (64 hex characters) of :meth:`canonical_json`."""
        return hashlib.sha256(self.canonical_json().encode("ascii")).hexdigest()

    @property
    def fingerprint(self) -> str:
        """First 12 hex characters of :attr:`fingerprint_full`: the set's printed name."""
        return self.fingerprint_full[:12]

    # ------------------------------------------------------------------ serialization

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as plain JSON/YAML types (dates as ISO strings).

        Returns
        -------
        dict
            ``period`` only when it is not ``"1D"``, ``history`` only when given.
        """
        data = {
            "version": self.version,
            "as_of": self.as_of.isoformat(),
            "description": self.description,
            "level": self.level,
            "mpor": self.mpor,
            "lookback": self.lookback,
            "stress_weight": self.stress_weight,
            "stress_windows": [
                {"name": n, "start": s.isoformat(), "end": e.isoformat()}
                for n, (s, e) in self.stress_windows.items()
            ],
            "apc": self.apc.to_dict(),
            "risk_weights": dict(self.risk_weights),
            "offset_cap": self.offset_cap,
            "offset_hedge": self.offset_hedge,
            "offset_credits": [
                {"pair": list(p), "credit": c, "direction": self.offset_directions[p]}
                for p, c in self.offset_credits.items()
            ],
            "correlations": [
                {"pair": list(p), "correlation": c} for p, c in self.correlations.items()
            ],
            "maintenance_fraction": self.maintenance_fraction,
        }
        if self.period != DAILY_PERIOD:
            data["period"] = self.period
        if self.history is not None:
            data["history"] = _plain_history(self.history)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MarginParameters:
        """Build and validate a parameter set from a dictionary.

        Parameters
        ----------
        data : mapping
            As produced by :meth:`to_dict`: every field is required (a written parameter set
            always has them all, so a missing one means a damaged or hand-cut file), the
            ``apc`` section included; only ``period`` (a daily set) and ``history`` (a
            common-sample calibration) may be absent. Stress windows are read with the
            bounds the file gives (dates, or ISO timestamps for intraday windows).
            ``stress_weight`` may be null and the lists empty.
            Directions are read from the ``offset_credits`` records (``offset_directions``
            is not a key of its own; a record without one is ``"opposite"``).

        Returns
        -------
        MarginParameters

        Raises
        ------
        ParameterError
            Unknown or missing fields, or invalid values.
        """
        fields = [f.name for f in dataclasses.fields(cls) if f.name != "offset_directions"]
        _check_keys(data, fields, [f for f in fields if f not in _OPTIONAL_KEYS], "parameters")
        kwargs = dict(data)
        apc_fields = [f.name for f in dataclasses.fields(APCSettings)]
        _check_keys(kwargs["apc"], apc_fields, apc_fields, "parameters: apc")
        kwargs["apc"] = APCSettings.from_dict(kwargs["apc"])
        return cls(**kwargs)

    def to_json(
        self, path: str | Path | None = None, indent: int = 2, *, overwrite: bool = True
    ) -> str:
        """Serialize to JSON; also write it to ``path`` when given.

        The file is written atomically (a temporary file renamed into place), so it holds
        the old set or the new one, never a fragment.

        Parameters
        ----------
        path : str or Path, optional
            File to write.
        indent : int, default 2
            JSON indentation.
        overwrite : bool, default True
            Replace an existing file; when false an existing file raises
            :class:`~research.errors.OutputError`.

        Returns
        -------
        str
            The JSON text.
        """
        text = json.dumps(self.to_dict(), indent=indent) + "\n"
        if path is not None:
            write_atomic(path, text, overwrite=overwrite)
        return text

    @classmethod
    def from_json(cls, source: str | Path) -> MarginParameters:
        """Read a parameter set from JSON text or a ``.json`` file path.

        Parameters
        ----------
        source : str or Path
            JSON text, or the path of a file holding it.

        Returns
        -------
        MarginParameters

        Raises
        ------
        ParameterError
            Invalid JSON (e.g. a file cut short), missing fields or invalid parameters.
        """
        text, where = cls._read(source)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParameterError(
                f"{where} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                "the file may be cut short: write it again with to_json"
            ) from exc
        return cls.from_dict(data)

    def to_yaml(self, path: str | Path | None = None, *, overwrite: bool = True) -> str:
        """Serialize to YAML; also write it to ``path`` when given.

        The text ends with the YAML end-of-document line ``...``, which :meth:`from_yaml`
        requires, so a file cut short never loads. The file is written atomically.

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
            The YAML text.
        """
        text = yaml.safe_dump(self.to_dict(), sort_keys=False, explicit_end=True)
        if path is not None:
            write_atomic(path, text, overwrite=overwrite)
        return text

    @classmethod
    def from_yaml(cls, source: str | Path) -> MarginParameters:
        """Read a parameter set from YAML text or a ``.yaml``/``.yml`` file path.

        Parameters
        ----------
        source : str or Path
            YAML text, or the path of a file holding it. The text must end with the YAML
            end-of-document line ``...`` (as :meth:`to_yaml` writes it): without it a file cut
            short could still parse.

        Returns
        -------
        MarginParameters

        Raises
        ------
        ParameterError
            Invalid or unterminated YAML, missing fields or invalid parameters.
        """
        text, where = cls._read(source)
        lines = text.rstrip().splitlines()
        if not lines or lines[-1].rstrip() != _YAML_END:
            raise ParameterError(
                f"{where} does not end with the YAML end-of-document line '{_YAML_END}' that "
                "to_yaml writes: the file is cut short or was not written by to_yaml (add the "
                "line only after checking that every field is there)"
            )
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ParameterError(f"{where} is not valid YAML: {exc}") from exc
        return cls.from_dict(data)

    @staticmethod
    def _read(source: str | Path) -> tuple[str, str]:
        """Return the text of ``source`` and how to name it in messages."""
        if isinstance(source, str) and not (
            "\n" not in source and Path(source).suffix.lower() in (".json", ".yaml", ".yml")
        ):
            return source, "parameter text"
        path = Path(source)
        if not path.is_file():
            raise ParameterError(f"parameter file {path} does not exist")
        try:
            return path.read_text(encoding="utf-8"), f"parameter file {path}"
        except UnicodeDecodeError as exc:
            raise ParameterError(
                f"parameter file {path} is not UTF-8 text (byte {exc.start}); the file may be "
                "cut short or damaged"
            ) from exc

    # ------------------------------------------------------------------ display

    def to_frame(self) -> pd.DataFrame:
        """Return every parameter as one row of a (section, parameter) -> value table.

        Returns
        -------
        pandas.DataFrame
            Index ``(section, parameter)``, one column ``value`` (text).
        """
        rows: list[tuple[str, str, str]] = [
            ("set", "version", self.version),
            ("set", "as of", self.as_of.isoformat()),
            ("set", "fingerprint", self.fingerprint),
            ("set", "description", self.description),
            ("model", "confidence level", f"{self.level:g}"),
            ("model", "MPOR", self.mpor_label),
            ("model", "lookback (observations)", str(self.lookback)),
            (
                "model",
                "stress weight",
                "included unweighted" if self.stress_weight is None else f"{self.stress_weight:g}",
            ),
            ("model", "maintenance fraction", f"{self.maintenance_fraction:g}"),
        ]
        rows += [
            ("stress window", n, f"{_bound_text(s)} to {_bound_text(e)}")
            for n, (s, e) in self.stress_windows.items()
        ]
        if self.history is not None:
            rows.append(("history", "policy", str(self.history["policy"])))
            firsts = {**self.history["assets"], **self.history["pairs"]}
            if self.history.get("balanced_from"):
                firsts["all assets"] = self.history["balanced_from"]
            rows += [("history", f"{k} from", stamp_label(v)) for k, v in firsts.items()]
        rows += [("APC", k, _setting_text(v)) for k, v in self.apc.to_dict().items()]
        rows += [("risk weight", n, f"{w:.4%}") for n, w in self.risk_weights.items()]
        rows.append(("offsets", "offset cap", f"{self.offset_cap:.0%}"))
        rows.append(("offsets", "legs matched", self.offset_hedge.replace("_", " ")))
        same = {p for p, d in self.offset_directions.items() if d == "same"}
        rows += [
            (
                "offset credit",
                f"{a}/{b}",
                f"{c:.2%}" + (" (same direction)" if (a, b) in same else ""),
            )
            for (a, b), c in self.offset_credits.items()
        ]
        rows += [("correlation", f"{a}/{b}", f"{c:.4f}") for (a, b), c in self.correlations.items()]
        frame = pd.DataFrame(rows, columns=["section", "parameter", "value"])
        return frame.set_index(["section", "parameter"])

    def summary(self) -> pd.DataFrame:
        """Return the parameter table printed in reports (same as :meth:`to_frame`).

        Returns
        -------
        pandas.DataFrame
        """
        return self.to_frame()

    def __str__(self) -> str:
        frame = self.to_frame()
        text = frame.to_string(
            formatters={c: lambda v: textwrap.shorten(str(v), 60) for c in frame.columns},
            justify="left",
        )
        return f"Margin parameters {self.version} [{self.fingerprint}]\n{text}"


_OPTIONAL_KEYS = ("period", "history")
"""Fields a written set may lack: a daily set has no ``period``, a common-sample one no
``history``."""

_HISTORY_KEYS = ("policy", "assets", "pairs", "balanced_from")


def _bound(value: Any, name: str) -> Bound:
    """Read a window bound: a date, or a datetime with a time of day (aware ones in UTC)."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ParameterError(
                f"{name}: {value!r} is not an ISO date (YYYY-MM-DD) or timestamp "
                "(YYYY-MM-DDTHH:MM:SS+00:00)"
            ) from exc
    if isinstance(value, dt.datetime | pd.Timestamp):
        stamp = pd.Timestamp(value)
        if stamp.tz is not None:
            return stamp.tz_convert("UTC").to_pydatetime()
        return stamp.date() if stamp == stamp.normalize() else stamp.to_pydatetime()
    if isinstance(value, dt.date):
        return value
    raise ParameterError(f"{name} must be a date, a timestamp or ISO text, got {value!r}")


def _instant(bound: Bound, *, end: bool = False) -> dt.datetime:
    """Naive UTC instant of a bound; a date as ``end`` stands for its whole day."""
    if isinstance(bound, dt.datetime):
        if bound.tzinfo is None:
            return bound
        return bound.astimezone(dt.UTC).replace(tzinfo=None)
    midnight = dt.datetime.combine(bound, dt.time())
    return midnight + dt.timedelta(days=1) - dt.timedelta(microseconds=1) if end else midnight


def _bound_text(bound: Bound) -> str:
    """Write a bound as printed in the parameter table."""
    if not isinstance(bound, dt.datetime):
        return bound.isoformat()
    return f"{bound:%Y-%m-%d %H:%M:%S}" + (" UTC" if bound.tzinfo is not None else "")


def _history(value: Any) -> dict[str, Any] | None:
    """Check the history provenance and return it as plain data (ISO text for dates)."""
    if value is None:
        return None
    _check_keys(value, _HISTORY_KEYS, ["policy", "assets", "pairs"], "history")
    policy = value["policy"]
    if policy not in ("common", "pairwise"):
        raise ParameterError(f"history.policy must be 'common' or 'pairwise', got {policy!r}")

    def iso(stamp: Any, where: str) -> str:
        bound = _bound(stamp, where)
        return bound.isoformat()

    out: dict[str, Any] = {"policy": policy}
    for section in ("assets", "pairs"):
        given = value[section]
        if not isinstance(given, Mapping):
            raise ParameterError(f"history.{section} must map a name to its first date")
        entries = {}
        for key, stamp in given.items():
            name = str(key) if section == "assets" else "/".join(_pair_key(key, "history.pairs"))
            entries[name] = iso(stamp, f"history.{section}[{name}]")
        out[section] = entries
    balanced = value.get("balanced_from")
    out["balanced_from"] = None if balanced is None else iso(balanced, "history.balanced_from")
    return out


def _plain_history(history: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "policy": history["policy"],
        "assets": dict(history["assets"]),
        "pairs": dict(history["pairs"]),
        "balanced_from": history["balanced_from"],
    }


def _canonical(value: Any) -> Any:
    """Plain data with every float as itself plus 0.0 (so ``-0.0`` hashes as ``0.0``)."""
    if isinstance(value, float):
        return value + 0.0
    if isinstance(value, Mapping):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def _setting_text(value: object) -> str:
    """Write a setting for the parameter table: flags as yes/no, else as given."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
