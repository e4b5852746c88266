"""The names of the public API (DESIGN.md) resolve from the top-level package."""

import subprocess
import sys

import pytest

import research


@pytest.mark.parametrize("name", sorted(research._NAMES))
def test_top_level_names_resolve(name):
    assert getattr(research, name) is getattr(getattr(research, research._NAMES[name]), name)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        research.nope  # noqa: B018


def test_import_is_light():
    heavy = ("numba", "arch", "matplotlib")
    code = f"import sys, research; print(any(m in sys.modules for m in {heavy!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
