"""Offset-credit calibration: closed forms, the cap, zero credits with reasons, bad input.

Closed forms used (equal-risk legs, opposite directions): credit(rho) = 1 - sqrt(2 - 2 rho) / 2,
so a perfect hedge earns 1 before the cap and an uncorrelated pair 1 - 1/sqrt(2).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.calibration.offsets import (
    OffsetCalibrator,
    OffsetCredits,
    OffsetPair,
    hedge_credit,
)
from research.errors import DataError, ParameterError
from research.margin import EMIR_MAX_OFFSET

#: The credits are closed-form arithmetic; only rounding separates them from the formulas.
EXACT = 1e-12


def corr(rho: float, a: str = "A", b: str = "B") -> pd.DataFrame:
    return pd.DataFrame([[1.0, rho], [rho, 1.0]], index=[a, b], columns=[a, b])


def test_perfect_hedge_of_equal_risk_earns_the_cap() -> None:
    res = OffsetCalibrator().fit(
        {"recent": corr(1.0), "stressed": corr(1.0)},
        [("A", "B")],
        nobs={"recent": 250, "stressed": 60},
    )
    assert res.credits["A/B"] == pytest.approx(EMIR_MAX_OFFSET, abs=EXACT)
    assert res.table.loc["A/B", "raw_credit"] == pytest.approx(1.0, abs=EXACT)
    assert bool(res.table.loc["A/B", "cap_applied"])
    assert res.table.loc["A/B", "reason"] == ""


def test_uncorrelated_pair_earns_less_than_the_cap() -> None:
    # Zero correlation is not a hedge: the uncapped credit is the closed form, the calibrated one 0.
    assert float(hedge_credit(0.0)) == pytest.approx(1.0 - 1.0 / math.sqrt(2.0), abs=EXACT)
    res = OffsetCalibrator().fit({"recent": corr(0.0)}, [("A", "B")])
    assert res.credits["A/B"] < EMIR_MAX_OFFSET
    assert res.credits["A/B"] == 0.0
    assert "not positive" in res.table.loc["A/B", "reason"]


def test_weakly_correlated_pair_closed_form_below_cap() -> None:
    rho = 0.3
    res = OffsetCalibrator().fit({"recent": corr(rho)}, [("A", "B")])
    expected = EMIR_MAX_OFFSET * (1.0 - math.sqrt(2.0 - 2.0 * rho) / 2.0)
    assert res.credits["A/B"] == pytest.approx(expected, abs=EXACT)
    assert res.credits["A/B"] < EMIR_MAX_OFFSET


@pytest.mark.parametrize("rho", [-0.9, -0.2, 0.0, 0.35, 0.8, 1.0])
def test_hedge_credit_against_direct_aggregation(rho: float) -> None:
    s1, s2 = 0.07, 0.12
    direct = 1.0 - math.sqrt(s1**2 + s2**2 - 2 * rho * s1 * s2) / (s1 + s2)
    assert float(hedge_credit(rho, s1, s2)) == pytest.approx(direct, abs=EXACT)
    same = 1.0 - math.sqrt(s1**2 + s2**2 + 2 * rho * s1 * s2) / (s1 + s2)
    assert float(hedge_credit(rho, s1, s2, "same")) == pytest.approx(same, abs=EXACT)


def test_least_favourable_regime_binds_and_haircut_applies() -> None:
    regimes = {"recent": corr(0.9), "stressed": corr(0.8), "dcc_q05": corr(0.85)}
    res = OffsetCalibrator(break_haircut=1.0).fit(regimes, [("A", "B")])
    row = res.table.loc["A/B"]
    assert row["binding_regime"] == "stressed"
    fall = 0.1
    expected = 0.8 * (1.0 - math.sqrt(2.0 - 2.0 * 0.8) / 2.0) * (1.0 - fall)
    assert row["correlation_fall"] == pytest.approx(fall, abs=EXACT)
    assert row["credit"] == pytest.approx(expected, abs=EXACT)
    for name, r in (("recent", 0.9), ("stressed", 0.8), ("dcc_q05", 0.85)):
        assert row[f"credit_{name}"] == pytest.approx(1.0 - math.sqrt(2 - 2 * r) / 2, abs=EXACT)


def test_breaking_pair_gets_zero_credit_with_reason() -> None:
    regimes = {"recent": corr(0.7), "stressed": corr(0.2)}
    res = OffsetCalibrator(break_threshold=0.3).fit(
        regimes, [("A", "B")], nobs={"recent": 500, "stressed": 500}
    )
    assert res.credits["A/B"] == 0.0
    assert "breaks in stress" in res.table.loc["A/B", "reason"]
    assert list(res.zero_credit.index) == ["A/B"]


def test_flagged_breaking_pair_gets_zero_credit() -> None:
    res = OffsetCalibrator().fit({"recent": corr(0.95)}, [("A", "B")], breaking=[("B", "A")])
    assert res.credits["A/B"] == 0.0
    assert "flagged as breaking" in res.table.loc["A/B", "reason"]


def test_sign_change_in_stress_gets_zero_credit() -> None:
    res = OffsetCalibrator(break_threshold=2.0).fit(
        {"recent": corr(0.25), "stressed": corr(-0.1)}, [("A", "B")]
    )
    assert res.credits["A/B"] == 0.0
    assert "'stressed'" in res.table.loc["A/B", "reason"]


def test_insignificant_correlation_gets_zero_credit_and_pvalue_matches_fisher() -> None:
    rho, n = 0.1, 30
    res = OffsetCalibrator().fit({"recent": corr(rho)}, [("A", "B")], nobs={"recent": n})
    expected = stats.norm.sf(math.atanh(rho) * math.sqrt(n - 3))
    assert res.table.loc["A/B", "pvalue_recent"] == pytest.approx(expected, abs=EXACT)
    assert res.credits["A/B"] == 0.0
    assert "not significant" in res.table.loc["A/B", "reason"]


def test_correlation_below_minimum_gets_zero_credit() -> None:
    regimes = {"recent": corr(0.5), "dcc_q05": corr(0.25)}
    strict = OffsetCalibrator(min_correlation=0.3, break_threshold=0.5).fit(regimes, [("A", "B")])
    assert strict.credits["A/B"] == 0.0
    assert "too weak" in strict.table.loc["A/B", "reason"]
    assert "'dcc_q05'" in strict.table.loc["A/B", "reason"]
    loose = OffsetCalibrator(min_correlation=0.2, break_threshold=0.5).fit(regimes, [("A", "B")])
    expected = 0.8 * (1 - math.sqrt(2 - 2 * 0.25) / 2) * (1 - 0.25)
    assert loose.credits["A/B"] == pytest.approx(expected, abs=EXACT)


def test_same_direction_pair_uses_negative_correlation() -> None:
    res = OffsetCalibrator().fit(
        {"recent": corr(-0.6), "stressed": corr(-0.5)}, [("A", "B", "same")]
    )
    row = res.table.loc["A/B"]
    assert row["binding_regime"] == "stressed"
    expected = 0.8 * (1 - math.sqrt(2 - 2 * 0.5) / 2) * (1 - 0.1)
    assert row["credit"] == pytest.approx(expected, abs=EXACT)


def test_equal_notional_uses_risk_weights() -> None:
    weights = pd.Series({"A": 0.05, "B": 0.15})
    res = OffsetCalibrator(hedge="equal_notional").fit(
        {"recent": corr(1.0)}, [("A", "B")], risk_weights=weights
    )
    # A perfect hedge of unequal notional risk keeps |0.05 - 0.15| of 0.20: credit 1 - 0.5.
    assert res.credits["A/B"] == pytest.approx(0.8 * 0.5, abs=EXACT)
    with pytest.raises(ParameterError, match="needs the risk weights"):
        OffsetCalibrator(hedge="equal_notional").fit({"recent": corr(1.0)}, [("A", "B")])
    with pytest.raises(ParameterError, match="no risk weight for 'B'"):
        OffsetCalibrator(hedge="equal_notional").fit(
            {"recent": corr(1.0)}, [("A", "B")], risk_weights=weights.drop("B")
        )


def test_credit_matrix_and_result_views() -> None:
    m = pd.DataFrame(np.eye(3), index=list("ABC"), columns=list("ABC"))
    m.loc["A", "B"] = m.loc["B", "A"] = 0.9
    m.loc["B", "C"] = m.loc["C", "B"] = -0.05
    res = OffsetCalibrator().fit({"recent": m}, [("A", "B"), ("B", "C")])
    assert isinstance(res, OffsetCredits)
    assert res.matrix.loc["A", "B"] == res.matrix.loc["B", "A"] == res.credits["A/B"]
    assert np.isnan(res.matrix.loc["A", "C"]) and np.isnan(res.matrix.loc["A", "A"])
    tidy = res.tidy()
    assert {"pair", "credit_recent", "binding_regime", "cap_applied", "reason"} <= set(tidy.columns)
    assert res.to_dict() == {"A/B": res.credits["A/B"], "B/C": 0.0}
    assert (res.summary()["target"] == EMIR_MAX_OFFSET).all()
    assert "2 pairs, 1 credited" in str(res)
    fig = res.plot_matrix()
    assert fig.axes


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cap": 1.2}, "cap"),
        ({"hedge": "beta"}, "hedge"),
        ({"significance": 0.0}, "significance"),
        ({"break_threshold": 0.0}, "break_threshold"),
        ({"break_haircut": -1.0}, "break_haircut"),
    ],
)
def test_bad_settings(kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        OffsetCalibrator(**kwargs)


def test_bad_inputs() -> None:
    cal = OffsetCalibrator()
    with pytest.raises(ParameterError, match="at least one correlation regime"):
        cal.fit({}, [("A", "B")])
    with pytest.raises(ParameterError, match="at least one pair"):
        cal.fit({"recent": corr(0.5)}, [])
    with pytest.raises(ParameterError, match="listed twice"):
        cal.fit({"recent": corr(0.5)}, [("A", "B"), ("B", "A")])
    with pytest.raises(DataError, match="no correlation for 'C'"):
        cal.fit({"recent": corr(0.5)}, [("A", "C")])
    with pytest.raises(DataError, match="finite number"):
        cal.fit({"recent": corr(np.nan)}, [("A", "B")])
    with pytest.raises(ParameterError, match="not among"):
        cal.fit({"recent": corr(0.5)}, [("A", "B")], nobs={"stressed": 10})
    with pytest.raises(ParameterError, match="distinct"):
        OffsetPair("A", "A")
    with pytest.raises(ParameterError, match="direction"):
        OffsetPair.coerce(("A", "B", "sideways"))
    with pytest.raises(ParameterError):
        hedge_credit(1.5)
    assert OffsetPair.coerce({"first": "A", "second": "B"}).to_dict()["direction"] == "opposite"


def test_parameter_fields_carry_the_hedge_so_the_engine_charges_the_calibrated_margin() -> None:
    # equal-notional legs of risk 0.1 and 0.2, rho 0.9: s_ab = sqrt(s_a^2 + s_b^2 - 2 rho s_a s_b)
    # and the hedge of 1,000 notional each is charged I - cap (I - s_ab) with I = 100 + 200.
    from research.calibration import MarginParameters
    from research.portfolio import Market, Portfolio, Position, Spot

    weights = pd.Series({"A": 0.1, "B": 0.2, "C": 0.1})
    regimes = {"recent": _three(0.9, -0.8)}
    res = OffsetCalibrator(hedge="equal_notional").fit(
        regimes, [("A", "B"), ("A", "C", "same")], risk_weights=weights
    )
    fields = res.parameter_fields()
    assert fields["offset_hedge"] == "equal_notional"
    assert fields["offset_directions"] == {"A/B": "opposite", "A/C": "same"}
    params = MarginParameters(
        level=0.99, mpor=2, lookback=250, risk_weights=weights.to_dict(), **fields
    )
    market = Market(spot={"A": 1.0, "B": 1.0, "C": 1.0})
    s_ab = math.sqrt(100.0**2 + 200.0**2 - 2 * 0.9 * 100.0 * 200.0)
    hedge = Portfolio([Position(Spot("A"), 1_000.0), Position(Spot("B"), 1_000.0, "short")])
    assert params.engine().margin(hedge, market).cross == pytest.approx(
        300.0 - EMIR_MAX_OFFSET * (300.0 - s_ab), rel=EXACT
    )
    # the same-direction pair (negatively correlated) is credited long/long, not long/short
    s_ac = math.sqrt(2 * 100.0**2 - 2 * 0.8 * 100.0**2)
    both_long = Portfolio([Position(Spot("A"), 1_000.0), Position(Spot("C"), 1_000.0)])
    assert params.engine().margin(both_long, market).cross == pytest.approx(
        200.0 - EMIR_MAX_OFFSET * (200.0 - s_ac), rel=EXACT
    )
    long_short = Portfolio([Position(Spot("A"), 1_000.0), Position(Spot("C"), 1_000.0, "short")])
    assert params.engine().margin(long_short, market).cross == pytest.approx(200.0, rel=EXACT)


def _three(rho_ab: float, rho_ac: float) -> pd.DataFrame:
    names = ["A", "B", "C"]
    m = np.eye(3)
    m[0, 1] = m[1, 0] = rho_ab
    m[0, 2] = m[2, 0] = rho_ac
    return pd.DataFrame(m, index=names, columns=names)
