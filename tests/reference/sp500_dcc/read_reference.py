"""Reader of ``values.json`` (reference DCC fits on the bundled S&P 500 data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load_values() -> dict[str, Any]:
    """Return the reference values as a nested dict (see README.md for the fields)."""
    return json.loads((HERE / "values.json").read_text())


def load_generated() -> dict[str, Any] | None:
    """Return the output of ``generate.py`` (``generated.json``) if it has been run."""
    path = HERE / "generated.json"
    return json.loads(path.read_text()) if path.is_file() else None
