"""Configs give the MPOR as periods or as a duration, converted with the data (issue 16 item 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.calibration import calibrate
from research.calibration.config import CalibrationConfig
from research.cli import main
from research.errors import SpecificationError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _hourly_prices(hours: int = 1500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-09-01", periods=hours, freq="h", tz="UTC", name="date")
    steps = rng.normal(0.0, 0.006, (hours, 2))
    prices = pd.DataFrame(100 * np.exp(steps.cumsum(axis=0)), index=index, columns=["AA", "BB"])
    prices.columns.name = "asset"
    return prices


def test_the_hourly_config_reads_its_durations():
    config = CalibrationConfig.from_yaml(CONFIGS / "crypto_hourly.yaml")
    assert config.risk_weights["mpor"] == "8h" and config.sweep["mpor"] == ("8h", "1D")
    with pytest.raises(SpecificationError, match=r"is a duration; convert .*in_periods"):
        config.profile_settings()
    hourly = config.in_periods(pd.date_range("2025-09-13", periods=100, freq="h", tz="UTC"))
    assert hourly.profile_settings()["mpor"] == 8 and hourly.sweep["mpor"] == (8, 24)
    with pytest.raises(SpecificationError, match="8h is not a whole number of 1D periods"):
        config.in_periods(pd.date_range("2025-01-01", periods=100, freq="D"))
    assert CalibrationConfig.from_yaml(config.to_yaml()) == config


def test_a_bad_duration_is_a_config_error():
    with pytest.raises(SpecificationError, match="risk_weights.mpor: cannot read 'soon'"):
        CalibrationConfig(profile="crypto-1d-99", risk_weights={"mpor": "soon"})
    with pytest.raises(SpecificationError, match=r"sweep.mpor\[0\]: cannot read '8 parsecs'"):
        CalibrationConfig(profile="crypto-1d-99", sweep={"mpor": ["8 parsecs"]})


def test_calibration_on_hourly_bars_stores_periods_and_their_length():
    config = CalibrationConfig.from_dict(
        {
            "profile": "crypto-1d-99",
            "assets": ["AA", "BB"],
            "risk_weights": {"mpor": "8h", "lookback": 1000},
        }
    )
    result = calibrate(config, _hourly_prices())
    params = result.parameters
    assert params.mpor == 8 and params.period == "1h" and params.mpor_label == "8 hours (8 x 1h)"
    assert "over 8 hours (close-to-close moves)" in str(result.risk_weights)
    daily_config = CalibrationConfig.from_dict(
        {
            "profile": "crypto-1d-99",
            "assets": ["AA", "BB"],
            "risk_weights": {"mpor": "2D", "lookback": 300},
        }
    )
    daily = calibrate(daily_config, _hourly_prices(12_000).resample("D").last())
    assert daily.parameters.mpor == 2 and daily.parameters.period == "1D"


@pytest.mark.shared_data
def test_cli_calibrates_the_hourly_config(shared_data_dir, tmp_path, capsys):
    out = tmp_path / "hourly.json"
    config = CONFIGS / "crypto_hourly.yaml"
    data = shared_data_dir / "crypto_perp_hourly_binance.csv"
    assert main(["calibrate", str(config), "--data", str(data), "--out", str(out)]) == 0
    assert "8 hours (8 x 1h)" in capsys.readouterr().out
    written = json.loads(out.read_text())
    assert written["mpor"] == 8 and written["period"] == "1h"
