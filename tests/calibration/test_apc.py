"""Anti-procyclicality tools on the hand-made path of issue 6 and on seeded returns.

Hand-made base path [100, 100, 105, 130, 180, 170, 150, 120, 110]: peak-to-trough
180 / 100 = 1.8, largest 1-step increase 180 / 130 - 1 = 38.46%. Buffer release is
detected when the base is more than 10% above its minimum over the previous 5
observations: on steps 3-7 (130/100, 180/100, 170/100, 150/100, 120/105).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from research._random import as_generator
from research.calibration import (
    APCResult,
    APCSettings,
    apc_buffer,
    apc_floor,
    apc_from_returns,
    apc_stress_weight,
    apply_apc,
    calibrate_risk_weights,
    procyclicality_metrics,
    tail_risk,
)
from research.errors import DataError, DataQualityWarning, InsufficientDataError, SpecificationError

PATH = [100.0, 100.0, 105.0, 130.0, 180.0, 170.0, 150.0, 120.0, 110.0]
EXACT = 1e-12
"""Hand arithmetic on a handful of numbers: floating-point rounding only."""
STRESS = [False, False, False, True, True, True, True, True, False]


def test_metrics_of_hand_made_path():
    m = procyclicality_metrics(PATH)
    assert m["peak_to_trough"] == pytest.approx(1.8, abs=EXACT)
    assert m["max_1d_increase"] == pytest.approx(0.3846, abs=5e-5)  # published to 4 decimals
    assert m["max_1d_increase"] == pytest.approx(180 / 130 - 1, abs=EXACT)
    assert m["max_5d_increase"] == pytest.approx(170 / 100 - 1, abs=EXACT)
    assert math.isnan(m["max_30d_increase"])


def test_metrics_custom_horizons_and_errors():
    m = procyclicality_metrics(pd.Series(PATH), horizons=(2,))
    assert list(m.index) == ["peak_to_trough", "max_2d_increase"]
    assert m["max_2d_increase"] == pytest.approx(180 / 105 - 1, abs=EXACT)
    with pytest.raises(SpecificationError, match="horizons"):
        procyclicality_metrics(PATH, horizons=(0,))
    with pytest.raises(DataError, match="positive"):
        procyclicality_metrics([100.0, -1.0])
    with pytest.raises(DataError, match="2020-01-02"):
        procyclicality_metrics(
            pd.Series([1.0, np.nan], index=pd.to_datetime(["2020-01-01", "2020-01-02"]))
        )
    with pytest.raises(InsufficientDataError):
        procyclicality_metrics([])


def test_buffer_released_in_stress_rebuilt_at_once():
    margin, stress = apc_buffer(PATH, buffer=0.25, rebuild_days=1)
    assert stress.tolist() == STRESS
    expected = [125.0, 125.0, 131.25, 131.25, 180.0, 180.0, 180.0, 150.0, 137.5]
    np.testing.assert_allclose(margin.to_numpy(), expected, rtol=0, atol=EXACT)
    m = procyclicality_metrics(margin)
    assert m["peak_to_trough"] == pytest.approx(180 / 125, abs=EXACT)  # 1.44 < 1.8
    assert m["max_1d_increase"] == pytest.approx(180 / 131.25 - 1, abs=EXACT)


def test_buffer_rebuilt_gradually():
    margin, _ = apc_buffer(PATH, buffer=0.25, rebuild_days=20)
    # step 2 (no stress): min(131.25, max(105, 125 + 0.25 * 105 / 20)) = 126.3125
    expected = [125.0, 125.0, 126.3125, 130.0, 180.0, 180.0, 180.0, 150.0, 137.5]
    np.testing.assert_allclose(margin.to_numpy(), expected, rtol=0, atol=EXACT)
    assert (margin >= pd.Series(PATH)).all()


def test_buffer_with_given_stress_flags():
    flags = [False] * 9
    margin, stress = apc_buffer(PATH, buffer=0.5, stress=flags)
    np.testing.assert_allclose(margin.to_numpy(), 1.5 * np.array(PATH), rtol=0, atol=EXACT)
    assert not stress.any()
    with pytest.raises(DataError, match="stress flags"):
        apc_buffer(PATH, stress=[True, False])
    with pytest.raises(SpecificationError, match="rebuild_days"):
        apc_buffer(PATH, rebuild_days=0)


def test_stress_weight_and_floor():
    blended = apc_stress_weight(PATH, 200.0, weight=0.25)
    np.testing.assert_allclose(blended.to_numpy(), 0.75 * np.array(PATH) + 50.0, atol=EXACT)
    floored = apc_floor(PATH, 120.0)
    np.testing.assert_allclose(floored.to_numpy(), np.maximum(PATH, 120.0), atol=EXACT)
    idx = pd.date_range("2020-01-01", periods=9)
    partial = pd.Series([np.nan] * 4 + [200.0] * 5, index=idx)
    blended = apc_stress_weight(pd.Series(PATH, index=idx), partial)
    assert blended.iloc[0] == PATH[0]  # no stressed margin yet: base kept
    assert blended.iloc[-1] == pytest.approx(0.75 * 110 + 50, abs=EXACT)


def test_apply_apc_paths_and_binding():
    settings = APCSettings(tool="combined", rebuild_days=1)
    res = apply_apc(PATH, stressed=200.0, floor=120.0, settings=settings)
    assert isinstance(res, APCResult)
    paths = res.paths
    assert list(paths.columns) == ["base", "buffer", "stress_weight", "floor", "combined", "margin"]
    np.testing.assert_allclose(
        paths["combined"], paths[["buffer", "stress_weight", "floor"]].max(axis=1), atol=EXACT
    )
    pd.testing.assert_series_equal(res.margin, paths["combined"], check_names=False)
    # step 3: buffer 131.25, stress weight 147.5, floor 130 -> stress weight binds
    assert res.binding.iloc[3] == "stress_weight"
    assert res.binding.iloc[0] == "buffer"  # tie buffer/stress weight at 125: first tool
    assert res.stress.tolist() == STRESS
    assert res.active.loc[3].tolist() == [True, True, False]
    summary = res.summary()
    assert summary.loc["base", "peak_to_trough"] == pytest.approx(1.8, abs=EXACT)
    assert summary["binding_share"].drop("combined").sum() == pytest.approx(1.0, abs=EXACT)
    assert "APC (combined" in str(res)


def test_apply_apc_needs_input_for_selected_tool():
    with pytest.raises(SpecificationError, match="stressed="):
        apply_apc(PATH, settings=APCSettings(tool="stress_weight"))
    res = apply_apc(PATH)  # buffer only
    assert list(res.paths.columns) == ["base", "buffer", "combined", "margin"]


# ---------------------------------------------------------------- from returns


@pytest.fixture(scope="module")
def returns() -> pd.Series:
    idx = pd.bdate_range("2005-01-03", periods=3000)  # ~11.5 years: the floor becomes rolling
    sigma = np.where(np.arange(3000) < 2500, 1.0, 2.5)
    values = as_generator(21).standard_normal(3000) * sigma
    return pd.Series(values, index=idx, name="X")


WINDOWS = {"stress": ("2008-09-15", "2009-03-09")}


@pytest.fixture(scope="module")
def from_returns(returns) -> APCResult:
    with pytest.warns(DataQualityWarning, match="no stressed margin on 716 date"):
        return apc_from_returns(
            returns,
            level=0.99,
            mpor=2,
            lookback=250,
            stress_windows=WINDOWS,
            settings=APCSettings(tool="combined"),
        )


@pytest.mark.parametrize("position", [249, 1200, 2999])
def test_base_path_equals_static_calibration(returns, from_returns, position):
    date = returns.index[position]
    static = calibrate_risk_weights(returns.iloc[: position + 1], level=0.99, mpor=2, lookback=250)
    assert from_returns.paths.loc[date, "base"] == pytest.approx(
        static.risk_weights["X"], abs=EXACT
    )


def test_floor_uses_ten_calendar_years(returns, from_returns):
    date = returns.index[-1]
    recent = returns[returns.index > date - pd.DateOffset(years=10)]
    static = calibrate_risk_weights(recent, level=0.99, mpor=2, lookback=None)
    assert from_returns.paths.loc[date, "floor_input"] == pytest.approx(
        static.risk_weights["X"], abs=EXACT
    )
    assert len(recent) < len(returns)  # the window really rolls


def test_stressed_margin_uses_past_stress_moves_only(returns, from_returns):
    moves = returns.rolling(2).sum()
    in_window = (moves.index >= "2008-09-15") & (moves.index <= "2009-03-09")
    full = moves[in_window].to_numpy() / 100  # percent log moves as fractions
    # loss per unit of notional: 1 - e^m for a long, e^m - 1 for a short
    expected = max(tail_risk(1 - np.exp(full), 0.99)[0], tail_risk(np.exp(full) - 1, 0.99)[0])
    assert from_returns.paths["stressed_input"].iloc[-1] == pytest.approx(expected, abs=EXACT)
    before = from_returns.paths["stressed_input"].loc[:"2008-09-12"]
    assert before.isna().all()
    assert any("no stressed margin" in w for w in from_returns.warnings)


def test_no_look_ahead(returns, from_returns):
    cut = returns.index[2000]
    changed = returns.copy()
    changed.loc[changed.index > cut] *= 5.0
    with pytest.warns(DataQualityWarning, match="no stressed margin"):
        other = apc_from_returns(
            changed,
            level=0.99,
            mpor=2,
            lookback=250,
            stress_windows=WINDOWS,
            settings=APCSettings(tool="combined"),
        )
    pd.testing.assert_frame_equal(other.paths.loc[:cut], from_returns.paths.loc[:cut])
    assert not other.paths.loc[cut:].iloc[1:].equals(from_returns.paths.loc[cut:].iloc[1:])


def test_apc_dampens_the_volatility_jump(from_returns):
    metrics = from_returns.metrics()
    assert metrics.loc["buffer", "max_30d_increase"] < metrics.loc["base", "max_30d_increase"]
    assert metrics.loc["floor", "peak_to_trough"] <= metrics.loc["base", "peak_to_trough"]


def test_from_returns_errors_and_warnings(returns):
    with pytest.raises(DataError, match="2005-01-04"):
        bad = returns.copy()
        bad.iloc[1] = np.nan
        apc_from_returns(bad)
    with pytest.raises(InsufficientDataError, match="lookback"):
        apc_from_returns(returns.iloc[:200], lookback=250)
    with pytest.raises(DataError, match="Series"):
        apc_from_returns(returns.to_frame())
    with pytest.warns(DataQualityWarning, match="shorter than the 10-year floor"):
        res = apc_from_returns(returns.iloc[:600], lookback=250)
    assert any("10-year floor" in w for w in res.warnings)
