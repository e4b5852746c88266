"""Config files as checked plain data: YAML read with file and line in every error, typed fields.

Config dataclasses (the calibration config and its sections, the review config) call
:func:`check_field_types` first thing in ``__post_init__``, so a quoted number, a word where a
number belongs or a bare string where a list belongs is refused by name when the file is read,
before any study runs, instead of failing deep inside a calculation (or, for a string taken as
a list, silently becoming a list of letters).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from research.errors import SpecificationError

__all__ = ["check_field_types", "iso_date", "read_yaml_mapping"]


def read_yaml_mapping(source: str | Path, what: str) -> tuple[dict[str, Any], str]:
    """Read a YAML config file (or YAML text) that must hold a non-empty mapping.

    Parameters
    ----------
    source : str or pathlib.Path
        A ``.yaml``/``.yml`` path (a ``Path`` or a one-line string), or the YAML text.
    what : str
        What the file is, for messages (e.g. ``"calibration config"``).

    Returns
    -------
    data : dict
        The top-level mapping.
    where : str
        How messages name the source (``"calibration config configs/x.yaml"``).

    Raises
    ------
    SpecificationError
        A missing or unreadable file, invalid YAML (with line and column), an empty document,
        or a document that is not a mapping.
    """
    if isinstance(source, Path) or ("\n" not in source and source.endswith((".yaml", ".yml"))):
        path = Path(source)
        where = f"{what} {path}"
        if not path.is_file():
            raise SpecificationError(f"{where} does not exist")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecificationError(f"{where} cannot be read: {exc}") from exc
    else:
        text, where = source, what
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecificationError(f"{where} is not valid YAML{at}: {problem}") from exc
    except ValueError as exc:  # a value YAML recognises but cannot build, e.g. 2020-13-01
        raise SpecificationError(f"{where} holds an invalid value: {exc}") from exc
    if data is None or data == {}:
        raise SpecificationError(
            f"{where} is empty; it must set at least the fields that differ from the defaults "
            "(see the files in configs/)"
        )
    if not isinstance(data, Mapping):
        raise SpecificationError(
            f"{where} must be a mapping of field: value, got {type(data).__name__}"
        )
    return dict(data), where


def iso_date(value: Any, where: str) -> str | None:
    """Return an ISO date string (``None`` stays ``None``); YAML dates are accepted.

    Raises
    ------
    SpecificationError
        Anything else, or a string that is not ``YYYY-MM-DD``.
    """
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    if isinstance(value, str):
        try:
            dt.date.fromisoformat(value)
        except ValueError as exc:
            raise SpecificationError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from exc
        return value
    raise SpecificationError(f"{where} must be an ISO date string, got {value!r}")


def check_field_types(instance: Any, where: str) -> None:
    """Check every field of a config dataclass against its annotation.

    Checked: ``float`` (an int or float, not a bool), ``int`` (not a bool), ``bool``, ``str``,
    ``Literal[...]``, ``tuple[X, ...]`` (a list or tuple, never a bare string; elements checked
    when ``X`` is one of these), ``Mapping`` and unions of these with ``None``. Other types are
    left to the class's own checks.

    Parameters
    ----------
    instance : dataclass instance
    where : str
        Prefix of the field names in messages (``"offsets"`` gives ``offsets.cap``).

    Raises
    ------
    SpecificationError
        Naming the field, the expected type and the value.
    """
    hints = typing.get_type_hints(type(instance))
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        hint = hints[f.name]
        if _matches(value, hint) is False:
            name = f"{where}.{f.name}" if where else f.name
            raise SpecificationError(f"{name} must be {_describe(hint)}, got {value!r}")


def _matches(value: Any, hint: Any) -> bool | None:
    """True/False when the hint is checkable, None when it is left to the class."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        results = [_matches(value, h) for h in typing.get_args(hint)]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            return False
        element = typing.get_args(hint)[0]
        checks = [_matches(v, element) for v in value]
        return not any(c is False for c in checks)
    if origin is Mapping or hint is Mapping:
        return isinstance(value, Mapping)
    return None


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(h) for h in typing.get_args(hint))
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}
    if hint in names:
        return names[hint]
    if hint is type(None):
        return "null"
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(hint)))
    if origin is tuple:
        return f"a list, each item {_describe(typing.get_args(hint)[0])}"
    if origin is Mapping or hint is Mapping:
        return "a mapping"
    return getattr(hint, "__name__", str(hint))
