"""Fixtures of the data-layer tests.

The ``shared_data_dir`` fixture (offline crypto files beside the checkout, skipped with a
reason when absent) comes from the root ``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write text to a CSV file in tmp_path and return its path."""

    def write(text: str, name: str = "prices.csv") -> Path:
        path = tmp_path / name
        path.write_text(text.strip() + "\n")
        return path

    return write
