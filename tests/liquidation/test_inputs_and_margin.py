"""Bad input raises a specific error; maintenance through the package's margin engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.calibration import MarginParameters
from research.errors import DataError, ParameterError, SpecificationError
from research.liquidation import (
    Accounts,
    AdlRule,
    AssetMarket,
    CascadeSimulator,
    EngineMaintenance,
    LinearImpact,
    PartialRule,
    ShockPath,
    TieredMaintenance,
    binance_like,
    synthetic_accounts,
)
from research.margin import RiskWeightEngine
from research.margin.venues import MarginTiers


def accounts(collateral=(1_000.0,), quantities=None, assets=("X",)):
    q = pd.DataFrame(quantities or {a: [10.0] * len(collateral) for a in assets})
    return Accounts(q, pd.DataFrame(100.0, index=q.index, columns=q.columns), pd.Series(collateral))


def test_negative_collateral_is_refused():
    with pytest.raises(DataError, match="collateral of account 0 is -1"):
        accounts((-1.0,))


def test_non_finite_quantities_and_missing_entry_prices_are_refused():
    with pytest.raises(DataError, match="non-finite quantities"):
        accounts(quantities={"X": [np.nan]})
    q = pd.DataFrame({"X": [1.0]})
    with pytest.raises(DataError, match="positive entry price"):
        Accounts(q, pd.DataFrame({"X": [0.0]}), pd.Series([1.0]))


def test_unknown_mode_is_refused():
    with pytest.raises(SpecificationError, match="mode"):
        Accounts(pd.DataFrame({"X": [1.0]}), pd.DataFrame({"X": [1.0]}), pd.Series([1.0]), "pooled")


def test_a_position_in_an_asset_without_a_market_is_refused():
    sim = CascadeSimulator(binance_like(), {"X": AssetMarket(100.0)})
    with pytest.raises(SpecificationError, match=r"positions in \['Y'\] have no market"):
        sim.run(accounts(assets=("X", "Y")))


def test_a_path_moving_an_asset_without_a_market_is_refused():
    sim = CascadeSimulator(binance_like(), {"X": AssetMarket(100.0)})
    path = ShockPath.from_returns(pd.DataFrame({"X": [0.0], "Z": [-0.1]}))
    with pytest.raises(SpecificationError, match=r"moves \['Z'\]"):
        sim.run(accounts(), path)


@pytest.mark.parametrize("missing", ["maintenance", "adl", "partial"])
def test_a_profile_missing_a_rule_is_refused(missing):
    with pytest.raises(SpecificationError, match=f"valid {missing}|needs a partial rule"):
        binance_like(**{missing: None})


def test_bad_parameters_are_refused():
    with pytest.raises(ParameterError):
        binance_like(liquidation_fee=1.5)
    with pytest.raises(ParameterError):
        binance_like(insurance_fund=-1.0)
    with pytest.raises(ParameterError):
        LinearImpact(0.0)
    with pytest.raises(ParameterError):
        AssetMarket(-1.0)
    with pytest.raises(ParameterError):
        AssetMarket(1.0, depth_mult=0.0)
    with pytest.raises(ParameterError):
        TieredMaintenance.flat(0.0)
    with pytest.raises(ParameterError):
        PartialRule(fraction=0.0)
    with pytest.raises(SpecificationError):
        AdlRule(allocation="lottery")
    with pytest.raises(ParameterError, match="no maintenance tiers for asset 'Y'"):
        TieredMaintenance({"X": MarginTiers((0.0,), (20.0,))}).tiers_of("Y")


def test_wicks_that_do_not_bracket_the_close_are_refused():
    close = pd.DataFrame({"X": [100.0, 90.0]})
    with pytest.raises(DataError, match="low is above its close"):
        ShockPath.from_prices(close, low=pd.DataFrame({"X": [100.0, 95.0]}))
    with pytest.raises(DataError, match="finite and > 0"):
        ShockPath.from_prices(pd.DataFrame({"X": [100.0, -1.0]}))


def test_wick_path_tests_longs_at_the_low_and_shorts_at_the_high():
    close = pd.DataFrame({"X": [100.0, 100.0]})
    path = ShockPath.from_prices(
        close, low=pd.DataFrame({"X": [100.0, 80.0]}), high=pd.DataFrame({"X": [100.0, 125.0]})
    )
    assert path.phase == ("low", "high", "close")
    np.testing.assert_allclose(np.exp(np.cumsum(path.log_returns["X"])) * 100, [80, 125, 100])
    # a 10x long and a 10x short: both liquidated inside the bar although it closes flat
    q = pd.DataFrame({"X": [10.0, -10.0]}, index=["long", "short"])
    book = Accounts(
        q,
        pd.DataFrame(100.0, index=q.index, columns=["X"]),
        pd.Series([100.0, 100.0], index=q.index),
    )
    fund = binance_like(insurance_fund=1e6)  # no ADL of the short by the long's bad debt
    result = CascadeSimulator(fund, {"X": AssetMarket(100.0)}).run(book, path)
    fills = result.book_fills.set_index("account")
    assert fills.loc["long", "phase"] == "low" and fills.loc["long", "price"] == pytest.approx(80.0)
    assert fills.loc["short", "phase"] == "high" and fills.loc["short", "price"] == pytest.approx(
        125.0
    )


# ------------------------------------------------------------------- margin engines
PRICES = {"A": 100.0, "B": 50.0}


def test_risk_weight_engine_equals_the_flat_venue_rule():
    book = synthetic_accounts(PRICES, {"A": 1e6, "B": 1e6}, n_accounts=200, seed=3)
    q = book.quantities.to_numpy()
    prices = np.array(list(PRICES.values()))
    engine = EngineMaintenance(RiskWeightEngine({"A": 0.05, "B": 0.05}))
    cross_e, per_e = engine.requirement(tuple(PRICES), q, prices)
    cross_t, per_t = TieredMaintenance.flat(0.05).requirement(tuple(PRICES), q, prices)
    np.testing.assert_allclose(per_e, per_t, rtol=1e-14)
    np.testing.assert_allclose(cross_e, cross_t, rtol=1e-14)


def test_same_cascade_through_the_engine_and_the_flat_rule():
    book = synthetic_accounts(PRICES, {"A": 1e6, "B": 1e6}, n_accounts=200, seed=3)
    markets = {a: AssetMarket(p, LinearImpact.from_depth(5e5, p)) for a, p in PRICES.items()}
    path = ShockPath.from_returns(pd.DataFrame({"A": [-0.05, -0.03], "B": [-0.04, 0.01]}))
    flat = binance_like(maintenance_rate=0.05)
    via_engine = binance_like(
        maintenance=EngineMaintenance(RiskWeightEngine({"A": 0.05, "B": 0.05}))
    )
    a = CascadeSimulator(flat, markets).run(book, path)
    b = CascadeSimulator(via_engine, markets).run(book, path)
    assert len(a.accounts_liquidated) > 0
    pd.testing.assert_frame_equal(a.fills, b.fills)


def test_calibrated_offsets_spare_hedged_accounts():
    # long A / short B hedges; the set credits 60% of the matched margin
    params = MarginParameters(
        level=0.99,
        mpor=2,
        lookback=250,
        as_of="2024-01-02",
        risk_weights={"A": 0.1, "B": 0.1},
        offset_credits={("A", "B"): 0.6},
    )
    no_offsets = MarginParameters(
        level=0.99, mpor=2, lookback=250, as_of="2024-01-02", risk_weights={"A": 0.1, "B": 0.1}
    )
    n = 100
    q = pd.DataFrame({"A": np.full(n, 100.0), "B": np.full(n, -200.0)})
    entry = pd.DataFrame({"A": np.full(n, 100.0), "B": np.full(n, 50.0)})
    collateral = pd.Series(np.linspace(500.0, 2_500.0, n))
    book = Accounts(q, entry, collateral)
    markets = {a: AssetMarket(p) for a, p in PRICES.items()}
    path = ShockPath.from_returns(pd.DataFrame({"A": [-0.03], "B": [0.0]}))
    counts = {}
    for name, p in (("offsets", params), ("none", no_offsets)):
        profile = binance_like(maintenance=EngineMaintenance(p.engine(), scale=0.5))
        counts[name] = len(CascadeSimulator(profile, markets).run(book, path).accounts_liquidated)
    assert counts["offsets"] < counts["none"]


# ------------------------------------------------------------------ overlap analogues
def test_overlap_matrix_is_the_first_order_loss_of_a_full_liquidation():
    from research.liquidation import eri_like, ici_like, overlap_matrix

    q = pd.DataFrame({"A": [10.0, 5.0, -4.0], "B": [0.0, 2.0, 3.0]}, index=["i", "j", "k"])
    book = Accounts(
        q, pd.DataFrame(1.0, index=q.index, columns=q.columns), pd.Series(1.0, index=q.index)
    )
    markets = {"A": AssetMarket(1.0, LinearImpact(0.1)), "B": AssetMarket(1.0, LinearImpact(0.5))}
    omega = overlap_matrix(book, markets)
    # j <- i: j holds 5 A, i sells 10 A moving A by 0.1 x 10: loss 5; k is short A: a gain
    assert omega.loc["j", "i"] == pytest.approx(5.0, rel=1e-15)
    assert omega.loc["k", "i"] == pytest.approx(-4.0, rel=1e-15)
    assert omega.loc["k", "j"] == pytest.approx(5 * 0.1 * -4 + 2 * 0.5 * 3, rel=1e-15)
    eri = eri_like(omega, ["i", "j"])
    assert eri["k"] == pytest.approx(omega.loc["k", "i"] + omega.loc["k", "j"], rel=1e-15)
    ici = ici_like(omega)
    matrix = np.abs(omega.to_numpy())
    np.fill_diagonal(matrix, 0.0)
    vector = np.ones(3) / 3
    for _ in range(2000):  # power iteration, an independent route to the Perron vector
        vector = matrix @ vector
        vector /= vector.sum()
    np.testing.assert_allclose(ici.to_numpy(), vector, rtol=1e-9)
    with pytest.raises(ParameterError, match="linear impact"):
        overlap_matrix(book, {"A": AssetMarket(1.0), "B": AssetMarket(1.0)})
