"""Shared fixtures: the location of the shared real-data files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from research.data import shared_data_dir as _shared_data_dir

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """``../shared/data`` beside the checkout (or ``$RESEARCH_SHARED_DATA``).

    Skips when absent on a user's machine; fails in CI, where the files must be present.
    """
    path = _shared_data_dir()
    if not (path / "crypto_spot_daily_binance.csv").is_file():
        message = (
            f"shared real-data files not found at {path}; they sit beside the checkout in CI "
            "(set RESEARCH_SHARED_DATA to point elsewhere)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


REVIEW_CONFIG = REPO / "configs" / "review.yaml"


@pytest.fixture(scope="session")
def fast_review(tmp_path_factory):
    """Build the consolidated review once per session, in fast mode, from the default config."""
    from research.reporting.review import build_review

    out = tmp_path_factory.mktemp("review")
    return build_review(REVIEW_CONFIG, out, notebooks=REPO / "notebooks", fast=True)


@pytest.fixture(scope="session")
def fast_study_parameters():
    """Parameters every study receives in the fast review (to re-run studies identically)."""
    from research.reporting.review import ReviewConfig

    config = ReviewConfig.from_yaml(REVIEW_CONFIG)
    return {**config.study_parameters(REVIEW_CONFIG), "fast": True}
