"""The environment under test is the one ``requirements.lock`` describes (issue 13).

``make`` installs with ``--constraint requirements.lock``; these tests catch a lock that does
not pin a declared dependency and an environment that drifted from the lock (a package
upgraded by hand, or a stale ``.venv`` from before ``make lock``).
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"

pytestmark = pytest.mark.skipif(
    not LOCK.is_file(), reason="requirements.lock is absent (not run from a checkout)"
)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"requirements.lock line is not an exact pin: {line!r}"
        pins[_canonical(name)] = version.strip()
    return pins


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in ("dev", "dask"):
        requirements += project["optional-dependencies"][extra]
    return [_canonical(re.split(r"[<>=!~\[; ]", item, maxsplit=1)[0]) for item in requirements]


def test_lock_pins_every_declared_dependency():
    missing = sorted(set(_declared()) - set(_locked()))
    assert not missing, f"pyproject.toml dependencies not in requirements.lock: {missing}"


def test_installed_versions_are_the_locked_versions():
    drift = {}
    for name, version in _locked().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            drift[name] = (version, installed)
    assert not drift, f"(locked, installed) differ; run 'make install' or 'make lock': {drift}"
