"""Fixtures of the data-layer tests.

``shared_data_dir`` locates the offline crypto files of ``shared/data`` beside the
repository checkout (override with the environment variable RESEARCH_SHARED_DATA) and
skips the test with a reason when they are absent. It belongs in the root conftest once
other packages need it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_FILES = (
    "crypto_spot_daily_binance.csv",
    "crypto_perp_hourly_binance.csv",
    "btc_perp_funding_daily.csv",
)


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    override = os.environ.get("RESEARCH_SHARED_DATA")
    folder = (
        Path(override)
        if override
        else Path(__file__).resolve().parents[2].parent / "shared" / "data"
    )
    missing = [name for name in SHARED_FILES if not (folder / name).is_file()]
    if missing:
        pytest.skip(
            f"shared offline data not found in {folder} (missing {', '.join(missing)}); "
            "set RESEARCH_SHARED_DATA to the folder holding them"
        )
    return folder


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write text to a CSV file in tmp_path and return its path."""

    def write(text: str, name: str = "prices.csv") -> Path:
        path = tmp_path / name
        path.write_text(text.strip() + "\n")
        return path

    return write
