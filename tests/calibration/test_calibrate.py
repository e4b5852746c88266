"""Calibration configs (validation, exact YAML round trip) and the end-to-end calibration."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.backtest import SweepGrid
from research.calibration.calibrate import (
    FAST_AFTER_STRESS,
    FAST_LOOKBACK,
    FAST_ROWS,
    CalibrationResult,
    calibrate,
    calibrate_from_config,
    load_config_prices,
    prepare_study,
)
from research.calibration.config import CalibrationConfig, DataConfig, OffsetConfig, StressConfig
from research.calibration.parameters import MarginParameters
from research.errors import DataError, SpecificationError

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"

#: A small, fast config on the bundled data: the GFC window, two same-sector pairs and one
#: pair of a stock with itself shifted (built in the test) to force a break.
SMALL = CalibrationConfig(
    name="small",
    profile="emir-2d-99",
    data=DataConfig(source="sp500", start="2007-01-01", end="2010-12-31"),
    assets=("XOM", "CVX", "KO", "PEP"),
    pairs=(("XOM", "CVX"), ("KO", "PEP"), ("XOM", "KO")),
    risk_weights={"lookback": 250, "stress_weight": 0.25},
    stress=StressConfig(names=("gfc_lehman",)),
    offsets=OffsetConfig(recent=250, dcc=False),
    version="2.0.0",
    maintenance_fraction=0.8,
)


@pytest.mark.parametrize("name", ["default.yaml", "crypto.yaml"])
def test_shipped_configs_load_and_round_trip(name: str) -> None:
    config = CalibrationConfig.from_yaml(CONFIGS / name)
    assert config.pairs and config.sweep is not None
    assert CalibrationConfig.from_yaml(config.to_yaml()) == config


def test_config_round_trip_through_a_file(tmp_path: Path) -> None:
    config = CalibrationConfig(
        name="rt",
        data=DataConfig(source=("sp500", "sp500-nasdaq"), start="2005-01-01"),
        assets=("A", "B"),
        pairs=(("A", "B", "same"),),
        risk_weights={"mpor": 5, "filter": "ewma"},
        stress=StressConfig(asset_class="equities", custom={"mine": ("2015-08-20", "2015-08-31")}),
        sweep={"level": [0.99, 0.995], "ewma_lambda": [None, 0.97]},
        seed=7,
    )
    path = tmp_path / "rt.yaml"
    config.to_yaml(path)
    back = CalibrationConfig.from_yaml(path)
    assert back == config
    assert back.to_dict() == config.to_dict()
    assert back.profile_settings()["mpor"] == 5 and back.profile_settings()["level"] == 0.99


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"profile": "nope"}, "unknown profile"),
        ({"colour": "red"}, "unknown field"),
        ({"assets": ["A"], "pairs": [["A", "B"]]}, "not among assets"),
        ({"pairs": [["A", "A"]]}, "distinct"),
        ({"risk_weights": {"level": 1.2}}, "level"),
        ({"risk_weights": {"alpha": 0.1}}, "unknown setting"),
        ({"offsets": {"cap": 1.5}}, "cap"),
        ({"offsets": {"dcc_quantile": 0.7}}, "dcc_quantile"),
        ({"data": {"start": "2020-13-01"}}, "ISO date"),
        ({"stress": {"custom": {"w": ["2020-02-01", "2020-01-01"]}}}, "before it starts"),
        ({"stress": {"asset_class": "bonds"}}, "asset_class"),
        ({"apc": {"buffer": 0.1}}, "apc"),
        ({"seed": -1}, "seed"),
        ({"sweep": {"gamma": [1]}}, "unknown sweep axes"),
    ],
)
def test_invalid_configs_are_rejected(data: dict, match: str) -> None:
    with pytest.raises((SpecificationError, ValueError), match=match):
        CalibrationConfig.from_dict(data)


def test_missing_config_file() -> None:
    with pytest.raises(SpecificationError, match="does not exist"):
        CalibrationConfig.from_yaml("no/such/config.yaml")


@pytest.fixture(scope="module")
def small() -> CalibrationResult:
    return calibrate(SMALL)


def test_end_to_end_parameters(small: CalibrationResult) -> None:
    params = small.parameters
    assert isinstance(params, MarginParameters)
    assert set(params.risk_weights) == {"XOM", "CVX", "KO", "PEP"}
    assert params.version == "2.0.0" and params.maintenance_fraction == 0.8
    assert params.stress_weight == 0.25 and "gfc_lehman" in params.stress_windows
    assert params.as_of.isoformat() == small.data_description["last"]
    # the parameter set holds exactly the calibrated credits, each within the cap
    for name, credit in small.offsets.to_dict().items():
        a, b = name.split("/")
        assert params.credit(a, b) == pytest.approx(credit, abs=1e-15)
        assert 0.0 <= credit <= params.offset_cap
    assert MarginParameters.from_json(params.to_json()) == params


def test_end_to_end_risk_weights_match_direct_calibration(small: CalibrationResult) -> None:
    from research.calibration import calibrate_risk_weights

    direct = calibrate_risk_weights(
        small.returns,
        level=0.99,
        mpor=2,
        lookback=250,
        stress_windows=small.stress_windows,
        stress_weight=0.25,
    )
    pd.testing.assert_series_equal(small.risk_weights.risk_weights, direct.risk_weights)


def test_end_to_end_credits_use_sample_correlations(small: CalibrationResult) -> None:
    recent = small.returns.tail(250).corr()
    pd.testing.assert_frame_equal(small.correlations["recent"], recent)
    row = small.offsets.table.loc["XOM/CVX"]
    rho = min(recent.loc["XOM", "CVX"], small.correlations["stressed"].loc["XOM", "CVX"])
    assert row["raw_credit"] == pytest.approx(1 - np.sqrt(2 - 2 * rho) / 2, abs=1e-12)
    evidence = small.evidence()
    assert {"risk_weights", "offset_credits", "stability", "apc", "parameters"} <= set(evidence)
    assert set(small.stability["window"]) == {"gfc_lehman", "pooled"}
    assert "Calibration 'small' on sp500" in str(small)


def test_breaking_pair_in_data_gets_zero_credit() -> None:
    # A pair whose returns decouple in the stress window: B follows A outside the window,
    # is independent noise inside it.
    rng = np.random.default_rng(11)
    index = pd.bdate_range("2007-01-01", "2010-12-31")
    a = rng.normal(0, 1, len(index))
    b = 0.9 * a + np.sqrt(1 - 0.81) * rng.normal(0, 1, len(index))
    inside = (index >= "2008-09-15") & (index <= "2009-03-09")
    b[inside] = rng.normal(0, 1, inside.sum())
    prices = pd.DataFrame(
        {"A": 100 * np.exp(np.cumsum(a) / 100), "B": 100 * np.exp(np.cumsum(b) / 100)}, index=index
    )
    config = CalibrationConfig(
        name="break",
        assets=("A", "B"),
        pairs=(("A", "B"),),
        risk_weights={"lookback": 250},
        stress=StressConfig(names=("gfc_lehman",)),
        offsets=OffsetConfig(recent=250, dcc=False),
    )
    with pytest.warns(UserWarning):
        res = calibrate(config, prices)
    assert res.offsets.credits["A/B"] == 0.0
    assert "breaking in stress" in res.offsets.table.loc["A/B", "reason"]
    assert res.parameters.credit("A", "B") == 0.0
    assert res.stability["breaks"].any()


def test_dcc_regime_and_data_override(shared_data_dir: Path) -> None:
    config = CalibrationConfig(
        name="crypto-small",
        profile="crypto-1d-99",
        data=DataConfig(source="sp500", start="2021-01-01", end="2022-12-31"),
        assets=("BTC", "ETH", "SOL"),
        pairs=(("BTC", "ETH"), ("ETH", "SOL")),
        stress=StressConfig(asset_class="crypto"),
        offsets=OffsetConfig(recent=365, dcc=True, dcc_window=500),
    )
    with pytest.raises(DataError, match="not in"):
        load_config_prices(config)
    with pytest.warns(UserWarning):
        res = calibrate_from_config(config, shared_data_dir / "crypto_spot_daily_binance.csv")
    assert res.data_description["source"].endswith("crypto_spot_daily_binance.csv")
    assert "dcc_q05" in res.correlations
    table = res.offsets.table
    assert set(table["binding_regime"]) <= {"recent", "stressed", "dcc_q05"}
    per_regime = table[[f"credit_{r}" for r in res.offsets.regimes]]
    assert (table["raw_credit"] == per_regime.min(axis=1)).all()


def test_calibrate_from_a_yaml_file(tmp_path: Path, small: CalibrationResult) -> None:
    path = tmp_path / "small.yaml"
    SMALL.to_yaml(path)
    with pytest.warns(UserWarning):
        res = calibrate_from_config(path)
    assert res.parameters == small.parameters
    assert res.data_description["source"] == "sp500"


def test_result_figures(small: CalibrationResult) -> None:
    fig = small.plot_risk_weights()
    assert len(fig.axes[0].patches) == 3 * 4  # three bars per asset
    # the figures draw the fractions themselves (percent is only the tick format), so a bar
    # is the parameter set's number: before, the figure held a private x100 copy
    heights = [bar.get_height() for bar in fig.axes[0].patches[-4:]]
    assert heights == small.risk_weights.risk_weights.tolist()
    fig = small.plot_apc()
    margin = fig.axes[0].get_lines()[-1]
    np.testing.assert_array_equal(margin.get_ydata(), small.apc.paths["margin"].to_numpy())


def test_prepare_study_fast_keeps_a_stress_window() -> None:
    base = CalibrationConfig.from_yaml(CONFIGS / "default.yaml")
    config, prices = prepare_study(base, fast=True)
    assert config.pairs == base.pairs[:2]
    assert list(prices.columns) == ["XOM", "CVX", "JNJ", "RRC"] == list(config.assets)
    assert len(prices) == FAST_ROWS
    # the latest equity window inside 2005 .. 2021-09-30 is covid_2020; the sample ends
    # FAST_AFTER_STRESS dates after it
    end_of_window = prices.index.searchsorted(pd.Timestamp("2020-04-07"), "right")
    assert len(prices) - end_of_window == FAST_AFTER_STRESS
    assert config.profile_settings()["lookback"] == FAST_LOOKBACK
    assert SweepGrid.from_dict(config.sweep).size <= 8


def test_prepare_study_on_other_data_uses_available_pairs(shared_data_dir: Path) -> None:
    base = CalibrationConfig.from_yaml(CONFIGS / "default.yaml")
    path = shared_data_dir / "crypto_spot_daily_binance.csv"
    with pytest.warns(UserWarning):
        config, prices = prepare_study(base, data=path, start="2023-01-01", profile="crypto-1d-99")
    # none of the stock pairs exist in the crypto file: every pair of its first five columns
    assert len(config.pairs) == 10 and config.profile == "crypto-1d-99"
    assert set(prices.columns) == set(config.assets)
    assert config.data.source == str(path) and config.data.start == "2023-01-01"
    # the given start replaces the config's window as a whole: no end before the start
    assert config.data.end is None and prices.index[-1] > pd.Timestamp("2026-01-01")


def test_every_default_offset_cap_is_the_margin_stages_one_constant() -> None:
    # before: calibration kept a second name (EMIR_OFFSET_CAP) and MarginParameters a literal
    import research.calibration
    import research.calibration.offsets
    from research.calibration.offsets import OffsetCalibrator
    from research.margin import EMIR_MAX_OFFSET, OffsetPolicy

    assert not hasattr(research.calibration, "EMIR_OFFSET_CAP")
    assert not hasattr(research.calibration.offsets, "EMIR_OFFSET_CAP")
    caps = {
        MarginParameters.__dataclass_fields__["offset_cap"].default,
        OffsetCalibrator().cap,
        OffsetConfig().cap,
        SweepGrid().offset_cap[0],
        OffsetPolicy().max_fraction,
    }
    assert caps == {EMIR_MAX_OFFSET}


def test_out_of_sample_prices_run_past_the_config_end() -> None:
    config = CalibrationConfig(
        name="holdout",
        data=DataConfig(source="sp500", start="2020-01-01", end="2021-09-30"),
        assets=("KO", "PEP"),
        pairs=(("KO", "PEP"),),
    )
    calibration = load_config_prices(config)
    full = load_config_prices(config, out_of_sample=True)
    assert calibration.index[-1] == pd.Timestamp("2021-09-30")
    assert full.index[0] == calibration.index[0]
    assert full.index[-1] == pd.Timestamp("2022-12-28")
    pd.testing.assert_frame_equal(full.loc[: calibration.index[-1]], calibration, check_freq=False)


def test_the_dcc_fit_behind_the_dcc_regime_is_kept() -> None:
    config = replace(SMALL, offsets=OffsetConfig(recent=250, dcc=True, dcc_window=500))
    with pytest.warns(UserWarning):
        res = calibrate_from_config(config)
    assert res.dcc is not None and res.dcc.nobs == 500
    lower = res.correlations["dcc_q05"]
    for first, second in (("XOM", "CVX"), ("KO", "PEP")):
        path = res.dcc.correlation_pair(first, second)
        assert lower.loc[first, second] == pytest.approx(np.quantile(path, 0.05), abs=1e-12)
    assert calibrate_from_config(SMALL).dcc is None
