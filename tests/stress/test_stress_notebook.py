"""The stressed-correlation study also runs on the crypto price file (fast mode)."""

from __future__ import annotations

from pathlib import Path

from research.reporting import execute_notebook, read_records

STUDY = Path(__file__).resolve().parents[2] / "notebooks" / "03_stressed_correlations.py"


def test_study_runs_on_the_crypto_file(shared_data_dir, tmp_path):
    path = shared_data_dir / "crypto_spot_daily_binance.csv"
    executed = execute_notebook(
        STUDY, tmp_path / "03c.ipynb", {"fast": True, "data_path": str(path)}
    )
    summary = read_records(executed.path)["stressed_correlations"]
    assert summary["source"] == str(path)
    assert summary["named windows"].startswith("crypto_")
    assert summary["stress days"] >= 10
    assert summary["mean correlation stress"] > summary["mean correlation calm"]
