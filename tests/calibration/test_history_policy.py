"""Late listings: data.history 'common' vs 'pairwise' from align through calibrate to the set."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from research.calibration import CalibrationConfig, MarginParameters, calibrate
from research.calibration.risk_weights import calibrate_risk_weights
from research.data import align
from research.data.alignment import listed_mask
from research.errors import DataError, DataQualityWarning, ParameterError, SpecificationError

CRASH = ("2020-03-09", "2020-03-20")
LISTING = "2020-08-11"  # C's first price, as SOL's on Binance


def _prices(seed: int = 3) -> pd.DataFrame:
    """A, B from 2019; C listed on LISTING. In CRASH A falls while B rises (decorrelation)."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2019-01-01", "2021-12-31", freq="D", name="date")
    cov = np.array([[1.0, 0.8, 0.5], [0.8, 1.0, 0.5], [0.5, 0.5, 1.0]]) * 4.0
    r = rng.multivariate_normal(np.zeros(3), cov, size=len(idx))
    crash = (idx >= CRASH[0]) & (idx <= CRASH[1])
    r[crash, 0] += rng.normal(-5.0, 3.0, crash.sum())
    r[crash, 1] += rng.normal(3.0, 3.0, crash.sum())
    prices = pd.DataFrame(100.0 * np.exp(np.cumsum(r / 100.0, axis=0)), idx, ["A", "B", "C"])
    prices.loc[: pd.Timestamp(LISTING) - pd.Timedelta(days=1), "C"] = np.nan
    return prices


def _config(
    name: str, history: str, assets: list[str], pairs: list[list[str]]
) -> CalibrationConfig:
    return CalibrationConfig.from_dict(
        {
            "name": name,
            "profile": "crypto-1d-99",
            "data": {"history": history},
            "assets": assets,
            "pairs": pairs,
            "risk_weights": {"stress_weight": 0.25},
            "stress": {"custom": {"crash": list(CRASH)}},
            "offsets": {"dcc": False, "recent": 365},
        }
    )


def _run(config: CalibrationConfig, prices: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return calibrate(config, prices)


@pytest.fixture(scope="module")
def runs():
    prices = _prices()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        common_prices = align(prices)
    pairs = [["A", "B"], ["A", "C"]]
    return {
        "prices": prices,
        "pairwise": _run(
            _config("pw", "pairwise", ["A", "B", "C"], pairs), align(prices, history="pairwise")
        ),
        "common": _run(_config("cm", "common", ["A", "B", "C"], pairs), common_prices),
        "alone": _run(_config("ab", "common", ["A", "B"], [["A", "B"]]), align(prices[["A", "B"]])),
    }


# ---------------------------------------------------------------- align


def test_listed_mask_marks_first_to_last_value():
    missing = np.array([[1, 0], [0, 0], [1, 1], [0, 1], [1, 1]], dtype=bool)
    assert listed_mask(missing).tolist() == [
        [False, True],
        [True, True],
        [True, False],
        [True, False],
        [False, False],
    ]


def test_align_pairwise_keeps_the_rows_before_a_listing_and_common_counts_them():
    prices = _prices()
    unlisted = int(prices["C"].isna().sum())
    pairwise = align(prices, history="pairwise")
    assert len(pairwise) == len(prices)
    assert pairwise["C"].isna().sum() == unlisted
    info = pairwise.attrs["alignment"]
    assert info["history"] == "pairwise" and info["rows_dropped"] == 0
    assert info["unlisted_rows"] == {"C": unlisted}
    assert info["first_dates"] == {"A": "2019-01-01", "B": "2019-01-01", "C": LISTING}
    with pytest.warns(DataQualityWarning, match=f"C not listed before {LISTING}"):
        common = align(prices)
    assert common.attrs["alignment"]["rows_dropped"] == unlisted
    assert common.attrs["alignment"]["dropped_by_asset"] == {"C": unlisted}
    assert common.index[0] == pd.Timestamp(LISTING)


def test_align_pairwise_still_drops_a_gap_inside_the_listed_range():
    prices = _prices()
    prices.loc["2021-02-01", "A"] = np.nan
    with pytest.warns(DataQualityWarning, match="1 missing values inside its listed range"):
        out = align(prices, history="pairwise")
    assert pd.Timestamp("2021-02-01") not in out.index
    assert out.attrs["alignment"]["rows_dropped"] == 1


def test_bad_history_values_are_refused():
    with pytest.raises(SpecificationError, match="history must be one of"):
        align(_prices(), history="pairs")  # type: ignore[arg-type]
    with pytest.raises(SpecificationError, match="data.history"):
        CalibrationConfig.from_dict({"data": {"history": "backfill"}})
    prices = _prices()
    prices["D"] = np.nan
    with pytest.raises(DataError, match=r"\['D'\] have no price"):
        align(prices, history="pairwise")


def test_config_round_trips_the_history_policy():
    cfg = _config("pw", "pairwise", ["A", "B"], [["A", "B"]])
    assert cfg.to_dict()["data"]["history"] == "pairwise"
    assert CalibrationConfig.from_yaml(cfg.to_yaml()) == cfg
    assert CalibrationConfig().data.history == "common"


# ---------------------------------------------------------------- risk weights


def test_a_late_listing_uses_its_own_returns_in_the_risk_weight():
    returns = 100.0 * np.log(_prices()).diff().iloc[1:]
    with pytest.warns(DataQualityWarning, match="C: no returns before 2020-08-12 .listed later"):
        panel = calibrate_risk_weights(returns, mpor=1, lookback=365)
    own = calibrate_risk_weights(returns[["C"]].dropna(), mpor=1, lookback=365)
    assert panel.risk_weights["C"] == own.risk_weights["C"]
    assert panel.drivers.loc["C", "missing_returns"] == 0
    assert panel.drivers.loc["C", "dropped_moves"] == 0


# ---------------------------------------------------------------- calibrate


def test_pairwise_equals_the_pair_calibrated_alone(runs):
    pw, alone = runs["pairwise"], runs["alone"]
    for asset in ("A", "B"):
        assert pw.parameters.risk_weights[asset] == alone.parameters.risk_weights[asset]
    assert pw.parameters.credit("A", "B") == alone.parameters.credit("A", "B")
    pd.testing.assert_series_equal(pw.offsets.table.loc["A/B"], alone.offsets.table.loc["A/B"])
    for regime in ("recent", "stressed"):
        assert pw.correlations[regime].loc["A", "B"] == alone.correlations[regime].loc["A", "B"]


def test_pairwise_keeps_the_early_stress_window_for_the_early_pair(runs):
    pw, common, prices = runs["pairwise"], runs["common"], runs["prices"]
    returns = 100.0 * np.log(prices[["A", "B"]]).diff()
    inside = returns.loc[CRASH[0] : CRASH[1]].to_numpy()
    assert pw.correlations["stressed"].loc["A", "B"] == pytest.approx(
        np.corrcoef(inside.T)[0, 1], abs=1e-12
    )
    assert np.isnan(pw.correlations["stressed"].loc["A", "C"])  # C was not listed yet
    row = pw.offsets.table.loc["A/B"]
    assert row["binding_regime"] == "stressed"
    assert "stressed" not in common.correlations  # the common panel starts after the crash
    assert pw.parameters.credit("A", "B") < common.parameters.credit("A", "B")
    assert pw.risk_weights.drivers.loc["A", "stress_moves"] == len(inside)
    assert common.risk_weights.drivers.loc["A", "stress_moves"] == 0
    assert (
        f"stress window crash has complete returns A/B: {len(inside)}, A/C: 0, fewer than 20"
        in " ".join(pw.warnings)
    )


def test_the_history_is_recorded_on_the_result_and_the_set(runs):
    pw, common, prices = runs["pairwise"], runs["common"], runs["prices"]
    first_c = (pd.Timestamp(LISTING) + pd.Timedelta(days=1)).date().isoformat()
    recorded = pw.data_description["history"]
    assert recorded["policy"] == "pairwise"
    assert recorded["assets"] == {"A": "2019-01-02", "B": "2019-01-02", "C": first_c}
    assert recorded["pairs"] == {"A/B": "2019-01-02", "A/C": first_c}
    assert recorded["balanced_from"] == first_c
    assert pw.parameters.history == {k: recorded[k] for k in pw.parameters.history}
    assert any("APC paths need a balanced panel" in w for w in pw.warnings)
    params = pw.parameters
    assert MarginParameters.from_json(params.to_json()) == params
    assert MarginParameters.from_yaml(params.to_yaml()).fingerprint == params.fingerprint
    assert params.to_frame().loc[("history", "A/C from"), "value"] == first_c
    # common: the rows the late listing cost are counted, and the set has no history record
    unlisted = int(prices["C"].isna().sum())
    assert common.data_description["history"]["rows_dropped"] == unlisted
    assert common.data_description["history"]["dropped_by_asset"] == {"C": unlisted}
    assert common.data_description["history"]["assets"]["A"] == first_c
    assert common.parameters.history is None
    assert "history" not in common.parameters.to_dict()
    assert any(
        f"{unlisted} price rows dropped when aligning the assets (intersection; missing prices "
        f"of C: {unlisted}); data.history 'pairwise' keeps" in w
        for w in common.warnings
    )


def test_pairwise_refuses_a_gap_inside_a_listed_range():
    prices = _prices()
    prices.loc["2021-02-01", "A"] = np.nan
    cfg = _config("pw", "pairwise", ["A", "B", "C"], [["A", "B"]])
    with pytest.raises(DataError, match="'A' on 2021-02-01, inside its listed range"):
        calibrate(cfg, prices)


def test_the_dcc_regime_says_it_uses_the_balanced_rows():
    prices = _prices().loc["2019-06-01":]
    cfg = CalibrationConfig.from_dict(
        {
            **_config("pw", "pairwise", ["A", "B", "C"], [["A", "B"], ["B", "C"]]).to_dict(),
            "offsets": {"dcc": True, "dcc_window": 250, "recent": 250},
        }
    )
    res = _run(cfg, prices)
    balanced = res.returns.dropna()
    dates = res.dcc.correlation.index.get_level_values("date").unique()
    assert dates.equals(balanced.index[-250:])
    assert any("dcc_q05 regime needs a balanced panel" in w for w in res.warnings)
    assert not np.isnan(res.correlations["dcc_q05"].loc["A", "B"])


# ---------------------------------------------------------------- the set's history field


def test_history_field_is_validated():
    base = {"level": 0.99, "mpor": 1, "lookback": 10, "risk_weights": {"A": 0.1}}
    with pytest.raises(ParameterError, match="history.policy"):
        MarginParameters(**base, history={"policy": "backfill", "assets": {}, "pairs": {}})
    with pytest.raises(ParameterError, match="missing required field"):
        MarginParameters(**base, history={"policy": "pairwise"})
    with pytest.raises(ParameterError, match=r"history.assets\[A\]"):
        MarginParameters(**base, history={"policy": "pairwise", "assets": {"A": "x"}, "pairs": {}})
    ok = MarginParameters(
        **base,
        history={
            "policy": "pairwise",
            "assets": {"A": "2020-01-01"},
            "pairs": {("B", "A"): "2020-08-12"},
        },
    )
    assert ok.history["pairs"] == {"A/B": "2020-08-12"}
    assert ok.history["balanced_from"] is None


def test_config_prices_keep_the_history_and_the_backtests_prices_stay_balanced(tmp_path):
    from research.calibration import load_config_prices, prepare_study

    path = tmp_path / "prices.csv"
    _prices().to_csv(path)
    cfg = CalibrationConfig.from_dict(
        {
            **_config("pw", "pairwise", ["A", "B", "C"], [["A", "B"]]).to_dict(),
            "data": {"source": str(path), "history": "pairwise", "end": "2021-06-30"},
        }
    )
    calibration = load_config_prices(cfg)
    assert calibration.index[0] == pd.Timestamp("2019-01-01")
    assert calibration.attrs["alignment"]["unlisted_rows"] == {"C": 588}
    _, study = prepare_study(cfg)
    pd.testing.assert_frame_equal(study, calibration)
    with pytest.warns(DataQualityWarning, match="dropped 588"):
        backtest = load_config_prices(cfg, out_of_sample=True)
    assert backtest.attrs["alignment"]["history"] == "common"
    assert backtest.index[0] == pd.Timestamp(LISTING) and not backtest.isna().any().any()
