"""Dated, versioned parameter sets of venue methodologies and the conventions venue engines share.

Venues change their margin parameters without notice, so every venue engine reads its numbers
from a :class:`VenueParameters`: the venue, the methodology label its results carry
(``"OKX-style"``), a version, the date the values took effect, the source URLs and the values
themselves as plain nested data. A set round-trips through :meth:`VenueParameters.to_dict` /
:meth:`~VenueParameters.from_dict` and YAML, and the sets shipped with the package load by name
(:meth:`VenueParameters.load`, files in ``research/margin/venues/data/``).

Shared conventions (so that every venue engine refuses bad input the same way):

- a position is named by its instrument label, its type and its underlying
  (:func:`position_name`);
- :func:`check_positions` refuses, before any kernel runs, an instrument type the engine does
  not margin (:class:`~research.errors.DataError`), an underlying the market has no price for
  (:class:`~research.errors.UnknownUnderlyingError`) and an expired future or option
  (:class:`~research.errors.ExpiredInstrumentError`), each naming the position;
- per-currency values are looked up with :meth:`VenueParameters.for_currency`: a currency the
  table does not list, with no ``"*"`` catch-all entry, is an
  :class:`~research.errors.UnknownUnderlyingError` naming the position;
- a missing or out-of-range value is a :class:`~research.errors.ParameterError` naming the field
  by its dotted path (``"groups.large.mr6_move"``) and the set (methodology and version).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import yaml

from research._config import iso_date, read_yaml_mapping
from research._typing import Float64Array2D
from research.errors import (
    DataError,
    ExpiredInstrumentError,
    ParameterError,
    SpecificationError,
    UnknownUnderlyingError,
)
from research.margin._engine import BookEngine
from research.margin.base import BookMarginResult
from research.margin.offsets import OffsetPolicy
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    Instrument,
    Market,
    PortfolioBook,
)

__all__ = [
    "VenueEngine",
    "VenueParameters",
    "available_parameter_sets",
    "check_positions",
    "position_name",
]

CATCH_ALL = "*"
"""Key of a per-currency table's entry for every currency it does not list."""

_DATA = "research.margin.venues.data"
_HEADER = ("venue", "methodology", "version", "effective_date", "sources", "notes", "values")


def _check_plain(value: Any, path: str, where: str) -> Any:
    """Copy ``value`` as plain data (finite numbers, str, bool, None, lists, str-keyed maps)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | np.integer | np.floating):
        if not math.isfinite(float(value)):
            raise ParameterError(f"{where}: {path} is {value}; give a finite number")
        return int(value) if isinstance(value, int | np.integer) else float(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ParameterError(f"{where}: key {k!r} under {path or 'values'} is not a string")
            out[k] = _check_plain(v, f"{path}.{k}" if path else k, where)
        return out
    if isinstance(value, list | tuple):
        return [_check_plain(v, f"{path}[{i}]", where) for i, v in enumerate(value)]
    raise ParameterError(
        f"{where}: {path} is a {type(value).__name__}; give numbers, strings, lists or mappings"
    )


@dataclass(frozen=True)
class VenueParameters:
    """One dated, versioned parameter set of a venue methodology.

    Parameters
    ----------
    venue : str
        The venue whose published methodology the set follows (``"OKX"``).
    methodology : str
        Label carried by every result (``"OKX-style"``): the engines follow the published
        methodology; they are not the venue's own system.
    version : str
        Version of the set (``"2025-01-06"``, or the venue's own version name).
    effective_date : str
        ISO date from which the values applied at the venue.
    sources : sequence of str
        URLs (or references) of the documents the values come from.
    values : mapping
        The parameter values as plain nested data (numbers, strings, lists, mappings).
    notes : str
        Provenance of the values (primary, secondary, inferred), free text.

    Raises
    ------
    ParameterError
        A missing or empty header field, a date that is not ISO, no sources, or a value that is
        not plain finite data; the field is named.

    Examples
    --------
    >>> p = VenueParameters("X", "X-style", "1", "2025-01-01", ("https://x",), {"a": {"b": 0.5}})
    >>> p.number("a", "b")
    0.5
    >>> VenueParameters.from_yaml(p.to_yaml()) == p
    True
    """

    venue: str
    methodology: str
    version: str
    effective_date: str
    sources: tuple[str, ...]
    values: Mapping[str, Any]
    notes: str = ""
    _where: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"{self.methodology!r} parameters version {self.version!r}"
        object.__setattr__(self, "_where", where)
        for name in ("venue", "methodology", "version"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ParameterError(f"{where}: {name} must be a non-empty string, got {value!r}")
        try:
            date = iso_date(self.effective_date, f"{where}: effective_date")
        except SpecificationError as exc:
            raise ParameterError(str(exc)) from exc
        if date is None:
            raise ParameterError(f"{where}: effective_date is missing; give an ISO date")
        object.__setattr__(self, "effective_date", date)
        sources = self.sources
        if isinstance(sources, str) or not isinstance(sources, Sequence):
            raise ParameterError(f"{where}: sources must be a list of URLs, got {sources!r}")
        if not sources or not all(isinstance(s, str) and s.strip() for s in sources):
            raise ParameterError(
                f"{where}: sources must list at least one non-empty URL, got {list(sources)!r}"
            )
        object.__setattr__(self, "sources", tuple(sources))
        if not isinstance(self.notes, str):
            raise ParameterError(f"{where}: notes must be a string, got {self.notes!r}")
        if not isinstance(self.values, Mapping) or not self.values:
            raise ParameterError(f"{where}: values must be a non-empty mapping")
        object.__setattr__(self, "values", _check_plain(self.values, "", where))

    # ------------------------------------------------------------------ look-ups
    def value(self, *path: str) -> Any:
        """Return the value at a path of keys (a deep copy).

        Raises
        ------
        ParameterError
            If a key on the path is missing; the message names the dotted path and the set.
        """
        return copy.deepcopy(self._node(path))

    def _node(self, path: tuple[str, ...]) -> Any:
        """Return the value at a path, not copied (read it, never change it)."""
        node: Any = self.values
        for depth, key in enumerate(path):
            if not isinstance(node, Mapping) or key not in node:
                dotted = ".".join(path[: depth + 1])
                raise ParameterError(
                    f"{self._where}: missing parameter {dotted!r}; add it to the set's values"
                )
            node = node[key]
        return node

    def number(
        self,
        *path: str,
        low: float | None = None,
        high: float | None = None,
        strict: bool = False,
    ) -> float:
        """Return the number at a path, checked against ``[low, high]`` (``(low, high]``: strict).

        Raises
        ------
        ParameterError
            Missing, not a number, or out of range; the dotted path is named.
        """
        return self._checked(self._node(path), ".".join(path), low, high, strict)

    def numbers(
        self,
        *path: str,
        low: float | None = None,
        high: float | None = None,
        strict: bool = False,
    ) -> tuple[float, ...]:
        """Return the non-empty list of numbers at a path, each checked like :meth:`number`."""
        values = self._node(path)
        dotted = ".".join(path)
        if not isinstance(values, list) or not values:
            raise ParameterError(f"{self._where}: {dotted} must be a non-empty list of numbers")
        return tuple(
            self._checked(v, f"{dotted}[{i}]", low, high, strict) for i, v in enumerate(values)
        )

    def _checked(
        self, value: Any, dotted: str, low: float | None, high: float | None, strict: bool
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(f"{self._where}: {dotted} must be a number, got {value!r}")
        value = float(value)
        below = low is not None and (value <= low if strict else value < low)
        if below or (high is not None and value > high):
            lo = "" if low is None else f"{'>' if strict else '>='} {low:g}"
            hi = "" if high is None else f"<= {high:g}"
            rule = " and ".join(r for r in (lo, hi) if r)
            raise ParameterError(f"{self._where}: {dotted} is {value:g}; it must be {rule}")
        return value

    def for_currency(self, table: str, currency: str, position: str) -> Any:
        """Return the entry of a per-currency table for ``currency`` (or its ``"*"`` catch-all).

        Parameters
        ----------
        table : str
            Top-level key of the table in :attr:`values` (a mapping keyed by currency).
        currency : str
            Underlying or settlement currency.
        position : str
            The position that needs it (:func:`position_name`), for the message.

        Raises
        ------
        UnknownUnderlyingError
            The table neither lists ``currency`` nor has a ``"*"`` entry.
        ParameterError
            The table itself is missing or not a mapping.
        """
        return copy.deepcopy(self._entry(table, currency, position))

    def _entry(self, table: str, currency: str, position: str) -> Any:
        """:meth:`for_currency` without the copy (read it, never change it)."""
        entries = self._node((table,))
        if not isinstance(entries, Mapping):
            raise ParameterError(f"{self._where}: {table} must be a mapping keyed by currency")
        if currency in entries:
            return entries[currency]
        if CATCH_ALL in entries:
            return entries[CATCH_ALL]
        listed = sorted(k for k in entries if k != CATCH_ALL)
        raise UnknownUnderlyingError(
            f"{position}: currency {currency!r} is not in the {self.methodology} {table} table "
            f"(version {self.version}), which lists {listed}; margin it with another engine "
            f"or add {currency!r} (or a '*' entry) to the parameter set"
        )

    @property
    def where(self) -> str:
        """How messages name the set: methodology and version."""
        return self._where

    def currency_number(
        self,
        table: str,
        currency: str,
        key: str | None,
        position: str,
        low: float | None = None,
        high: float | None = None,
        strict: bool = False,
    ) -> float:
        """Return ``values[table][currency][key]`` (or the ``"*"`` entry's), checked.

        With ``key=None`` the entry itself is the number (a flat per-currency table). The
        bounds work as in :meth:`number`.

        Raises
        ------
        UnknownUnderlyingError
            The table neither lists ``currency`` nor has a ``"*"`` entry (see
            :meth:`for_currency`).
        ParameterError
            The entry has no ``key``, or its value is not a number in range; the dotted path
            and the position are named.
        """
        entry = self._entry(table, currency, position)
        listed = currency if currency in self.values[table] else CATCH_ALL
        if key is None:
            return self._checked(entry, f"{table}.{listed}", low, high, strict)
        dotted = f"{table}.{listed}.{key}"
        if not isinstance(entry, Mapping) or key not in entry:
            raise ParameterError(
                f"{self._where}: missing parameter {dotted!r}, needed by {position}"
            )
        return self._checked(entry[key], dotted, low, high, strict)

    # ------------------------------------------------------------------ identity
    @property
    def fingerprint(self) -> str:
        """First 12 hex characters of the SHA-256 of the set's canonical JSON."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __str__(self) -> str:
        return (
            f"{self.methodology} parameters version {self.version} (venue {self.venue}, "
            f"effective {self.effective_date}, fingerprint {self.fingerprint})"
        )

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """Return the set as plain data (the header fields and ``values``)."""
        return {
            "venue": self.venue,
            "methodology": self.methodology,
            "version": self.version,
            "effective_date": self.effective_date,
            "sources": list(self.sources),
            "notes": self.notes,
            "values": copy.deepcopy(dict(self.values)),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "venue parameters") -> VenueParameters:
        """Build a set from :meth:`to_dict` output.

        Raises
        ------
        ParameterError
            A missing header field or ``values``, or an unknown top-level key; named.
        """
        if not isinstance(data, Mapping):
            raise ParameterError(f"{where} must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - set(_HEADER))
        if unknown:
            raise ParameterError(f"{where}: unknown fields {unknown}; the fields are {_HEADER}")
        missing = [k for k in _HEADER if k not in data and k != "notes"]
        if missing:
            raise ParameterError(f"{where}: missing fields {missing}")
        return cls(
            venue=data["venue"],
            methodology=data["methodology"],
            version=_version_text(data["version"]),
            effective_date=data["effective_date"],
            sources=data["sources"],
            values=data["values"],
            notes=data.get("notes", "") or "",
        )

    def to_yaml(self, path: str | Path | None = None) -> str:
        """Return the set as YAML text, and write it to ``path`` if given."""
        text = yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_yaml(cls, source: str | Path) -> VenueParameters:
        """Read a set from a YAML file (path) or YAML text.

        Raises
        ------
        SpecificationError
            The file is missing, unreadable or not YAML.
        ParameterError
            The content is not a valid set (see :meth:`from_dict`).
        """
        data, where = read_yaml_mapping(source, "venue parameters")
        return cls.from_dict(data, where)

    @classmethod
    def load(cls, name: str) -> VenueParameters:
        """Load a parameter set shipped with the package by name.

        The names are those of :func:`available_parameter_sets`, e.g.
        ``VenueParameters.load("okx_2025-01-06")``.

        Raises
        ------
        ParameterError
            No shipped set has that name; the available names are listed.
        """
        names = available_parameter_sets()
        if name not in names:
            raise ParameterError(f"no venue parameter set named {name!r}; available: {names}")
        text = resources.files(_DATA).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
        return cls.from_dict(yaml.safe_load(text), f"venue parameters {name}.yaml")


def _version_text(value: Any) -> Any:
    """Return a version that YAML read as a number or date as text (anything else unchanged)."""
    if isinstance(value, int | float | dt.date) and not isinstance(value, bool):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return value


def available_parameter_sets() -> list[str]:
    """Names of the parameter sets shipped in ``research/margin/venues/data`` (sorted)."""
    return sorted(
        p.name.removesuffix(".yaml")
        for p in resources.files(_DATA).iterdir()
        if p.name.endswith(".yaml")
    )


def position_name(instrument: Instrument) -> str:
    """How venue engines name a position in messages: label, type and underlying."""
    return (
        f"position {instrument.label!r} ({type(instrument).__name__} on {instrument.underlying!r})"
    )


def check_positions(
    engine: str,
    book: PortfolioBook,
    market: Market,
    supported: tuple[type, ...],
) -> None:
    """Refuse positions a venue engine cannot margin, naming the position.

    Parameters
    ----------
    engine : str
        The engine's label (``"OKX-style"``), for the message.
    book : PortfolioBook
        The portfolios.
    market : Market
        The market state (its constructor already refuses non-positive prices and negative
        volatilities).
    supported : tuple of type
        Instrument types the engine margins.

    Raises
    ------
    DataError
        An instrument type the engine does not margin, or an option with no volatility.
    UnknownUnderlyingError
        An underlying without a market price.
    ExpiredInstrumentError
        A dated future or option at or past its expiry.
    """
    for instrument in book.instruments:
        name = position_name(instrument)
        if not isinstance(instrument, supported):
            kinds = ", ".join(t.__name__ for t in supported)
            raise DataError(
                f"{engine} engine: {name} is not an instrument this methodology margins; "
                f"it margins {kinds}"
            )
        if instrument.underlying not in market.underlyings:
            raise UnknownUnderlyingError(
                f"{engine} engine: {name}: the market has no price for "
                f"{instrument.underlying!r}; it has {list(market.underlyings)}"
            )
        if isinstance(instrument, DatedFuture | EuropeanOption):
            t = market.time_to(instrument.expiry)
            if not t > 0:
                raise ExpiredInstrumentError(
                    f"{engine} engine: {name} expired ({t * 365:.2f} days to expiry at "
                    f"{market.valuation_date.date()}); remove it or roll it"
                )
        if (
            isinstance(instrument, EuropeanOption)
            and instrument.implied_vol is None
            and instrument.underlying not in market.volatility.index
        ):
            raise DataError(
                f"{engine} engine: {name} has no implied volatility; give it implied_vol or "
                "add the underlying to Market(volatility=...)"
            )


@dataclass(frozen=True)
class VenueEngine(BookEngine):
    """Base of the venue engines: a :class:`VenueParameters` set, a requirement level, checks.

    Subclasses set ``name`` (the methodology label, e.g. ``"OKX-style"``, which the parameter
    set's ``methodology`` must equal) and ``supported`` (the instrument types they margin), and
    implement ``_venue_prepare(book, market)`` and ``_cross(q, prep)`` as in
    :class:`~research.margin._engine.BookEngine`. :meth:`margin_book` runs
    :func:`check_positions` before anything else.

    Parameters
    ----------
    parameters : VenueParameters
        The dated parameter set.
    requirement : {"initial", "maintenance"}
        Which requirement the results report as the margin.
    offset_policy : OffsetPolicy, optional
        Cap on the offset between isolated and cross margin (none at the venues).

    Raises
    ------
    ParameterError
        A set of another methodology, or not a :class:`VenueParameters`.
    SpecificationError
        An unknown requirement level.
    """

    parameters: VenueParameters
    requirement: Literal["initial", "maintenance"] = "initial"
    offset_policy: OffsetPolicy | None = None
    name: ClassVar[str]
    supported: ClassVar[tuple[type, ...]]
    # the venue kernels are row by row; 2,048-row blocks measured 25-40% less CPU than the
    # whole 10,000 x 20 benchmark book at once for Deribit-, OKX- and Paradex-style
    row_block: ClassVar[int | None] = 2048

    def __post_init__(self) -> None:
        if not isinstance(self.parameters, VenueParameters):
            raise ParameterError(
                f"{self.name} engine needs a VenueParameters set, got "
                f"{type(self.parameters).__name__}; load one with VenueParameters.load(name)"
            )
        if self.parameters.methodology != self.name:
            raise ParameterError(
                f"{self.name} engine was given the {self.parameters.methodology!r} parameter "
                f"set (version {self.parameters.version}); give a {self.name} set"
            )
        if self.requirement not in ("initial", "maintenance"):
            raise SpecificationError(
                f"requirement must be 'initial' or 'maintenance', got {self.requirement!r}"
            )

    def settings(self) -> dict[str, Any]:
        """Return the requirement level, the parameter set (plain data) and its fingerprint."""
        return {
            "requirement": self.requirement,
            "parameters": self.parameters.to_dict(),
            "fingerprint": self.parameters.fingerprint,
            "offset_policy": None if self.offset_policy is None else self.offset_policy.to_dict(),
        }

    def _prepare(self, book: PortfolioBook, market: Market) -> Any:
        return self._venue_prepare(book, market)

    def _isolated(self, q: Float64Array2D, prep: Any) -> Float64Array2D:
        """Margin of each holding alone, through ``_cross``.

        Venue margins are not linear in the quantity (tiers, dampeners, floors), so the margin
        of a holding is not its quantity times the margin of one unit.
        """
        out = np.empty_like(q)
        for j in range(q.shape[1]):
            alone = np.zeros_like(q)
            alone[:, j] = q[:, j]
            out[:, j] = self._cross(alone, prep)[0]
        return out

    def _checked_prepare(self, book: PortfolioBook, market: Market) -> Any:
        """Check the positions (:func:`check_positions`), then :meth:`_venue_prepare`."""
        check_positions(self.name, book, market, self.supported)
        return self._venue_prepare(book, market)

    @abstractmethod
    def _venue_prepare(self, book: PortfolioBook, market: Market) -> Any:
        """Compute the unit quantities of the book's instruments (positions already checked)."""

    def margin_book(self, book: PortfolioBook, market: Market) -> BookMarginResult:
        """Margins of every portfolio of ``book`` (see :meth:`BookEngine.margin_book`).

        Raises
        ------
        DataError, UnknownUnderlyingError, ExpiredInstrumentError
            From :func:`check_positions`, naming the position.
        """
        check_positions(self.name, book, market, self.supported)
        return super().margin_book(book, market)
