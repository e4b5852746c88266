"""Closed-form cascades of the spec (``../shared/research/liquidation.md`` §10), pinned.

Common setup (§10): one asset, ``P0 = 100``, longs with entry 100, flat maintenance rate
``m = 0.05``, full liquidation, batch rounds, linear impact ``P_new = P - lam Q``, execution at
``(P + P_new) / 2``, fee on filled notional capped at the residual equity, ``post_trade`` ADL.

T5's table was produced by the spec's author with one convention at the boundary; an exact
``fractions`` re-run here of the strict trigger ``E < MM`` reproduces five of its seven rows
exactly, while the rows ``k = 0.5, delta = 0.001`` (96.000000, 13 rounds) and ``k = 0.9``
(80.036) are what ``E <= MM`` gives for the price (80.036; 96.0 in 12 rounds). The engine
implements the spec's strict ``E < MM``; every row is held to the spec's own tolerance
``|P_end - P_pred| <= delta k / (1 - k)`` and to the independent exact re-run below.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from research.liquidation import (
    Accounts,
    AdlRule,
    AssetMarket,
    CascadeSimulator,
    LinearImpact,
    ShockPath,
    SquareRootImpact,
    TieredMaintenance,
    VenueProfile,
    bankruptcy_price,
    liquidation_price,
)
from research.margin.venues import MarginTiers
from research.margin.venues.hyperliquid import liquidation_price as hl_liquidation_price

EXACT = 1e-9  # closed form evaluated in floating point: identities to rounding


def one_asset(quantities, collateral, entry=100.0, names=None):
    names = names or [f"a{i}" for i in range(len(quantities))]
    q = pd.DataFrame({"X": np.asarray(quantities, dtype=float)}, index=names)
    e = pd.DataFrame(
        {"X": np.broadcast_to(np.asarray(entry, dtype=float), len(names))}, index=names
    )
    return Accounts(q, e, pd.Series(np.asarray(collateral, dtype=float), index=names))


def profile(fund=10_000.0, fee=0.01, m=0.05, adl=None):
    return VenueProfile("spec", TieredMaintenance.flat(m), fee, "full", fund, adl or AdlRule())


def shock(to: float, frm: float = 100.0) -> ShockPath:
    return ShockPath.from_returns(pd.DataFrame({"X": [math.log(to / frm)]}))


def run(accounts, prof, lam=0.005, to=94.0, order="batch", seed=0):
    sim = CascadeSimulator(prof, {"X": AssetMarket(100.0, LinearImpact(lam))}, order, seed=seed)
    return sim.run(accounts, shock(to))


# ---------------------------------------------------------------------------------- T1
def test_t1_liquidation_and_bankruptcy_prices():
    assert liquidation_price(1, 10, 100, 0.005, "long") == pytest.approx(18000 / 199, rel=1e-15)
    assert liquidation_price(1, 10, 100, 0.005, "long") == pytest.approx(
        90.45226130653266, abs=1e-12
    )
    assert bankruptcy_price(1, 10, 100, "long") == 90.0
    assert liquidation_price(1, 10, 100, 0.005, "short") == pytest.approx(110 / 1.005, rel=1e-15)
    assert bankruptcy_price(1, 10, 100, "short") == 110.0
    # Hyperliquid's formula (§4.1) as the margin stage implements it, margin available
    # 10 - 0.005 x 100 = 9.5, maintenance leverage 1 / 0.005
    hl_long = hl_liquidation_price(100.0, 1, 9.5, 1.0, 200.0)
    assert liquidation_price(1, 10, 100, 0.005, "long") == pytest.approx(hl_long, rel=1e-14)
    hl_short = hl_liquidation_price(100.0, -1, 9.5, 1.0, 200.0)
    assert liquidation_price(1, 10, 100, 0.005, "short") == pytest.approx(hl_short, rel=1e-14)
    # the popular approximation Entry (1 - 1/lev + mmr) = 90.5 is not the liquidation price
    assert abs(liquidation_price(1, 10, 100, 0.005, "long") - 90.5) > 0.04


def test_t1_engine_liquidates_just_below_and_not_just_above_the_liquidation_price():
    p_liq = 18000 / 199
    prof = profile(fund=0.0, fee=0.0, m=0.005)
    for level, liquidated in ((p_liq * (1 + 1e-9), 0), (p_liq * (1 - 1e-9), 1)):
        result = run(one_asset([1.0], [10.0]), prof, lam=1e-9, to=level)
        assert len(result.accounts_liquidated) == liquidated


# ---------------------------------------------------------------------------------- T2
T2_NAMES = ["A", "B", "C"]


def t2_accounts():
    return one_asset([1000, 1000, 1000], [10_000, 12_000, 15_000], names=T2_NAMES)


@pytest.fixture(scope="module")
def t2():
    return run(t2_accounts(), profile())


def test_t2_liquidation_prices_of_the_table():
    expected = {"A": (94.7368421, 90), "B": (92.6315789, 88), "C": (89.4736842, 85)}
    for (name, (p_liq, p_bk)), c in zip(expected.items(), (10_000, 12_000, 15_000), strict=True):
        assert liquidation_price(1000, c, 100, 0.05, "long") == pytest.approx(p_liq, abs=5e-8), name
        assert bankruptcy_price(1000, c, 100, "long") == p_bk


def test_t2_rounds_and_fills(t2):
    book = t2.book_fills
    assert list(book["round"]) == [1, 2, 2]
    assert list(book["account"]) == T2_NAMES
    np.testing.assert_allclose(book["price"], [91.5, 84.0, 84.0], rtol=EXACT)
    assert t2.rounds["price_X"].tolist() == pytest.approx([89.0, 79.0], rel=EXACT)
    assert int(t2.steps["rounds"].iloc[0]) == 2


def test_t2_totals(t2):
    assert t2.final_prices["X"] == pytest.approx(79.0, rel=EXACT)
    assert t2.book_fills["quantity"].sum() == pytest.approx(3000.0, rel=EXACT)
    assert t2.liquidated_notional == pytest.approx(259_500.0, rel=EXACT)
    assert t2.fees == pytest.approx(915.0, rel=EXACT)
    assert t2.bad_debt == pytest.approx(5_000.0, rel=EXACT)
    assert t2.final_fund == pytest.approx(5_915.0, rel=EXACT)
    assert t2.adl_shortfall == 0.0 and t2.adl_haircut == 0.0
    amp = t2.amplification().loc["X"]
    assert amp["amplification"] == pytest.approx(3.5, rel=EXACT)
    assert amp["log_amplification"] == pytest.approx(3.8096290, abs=5e-8)


def test_t2_account_outcomes(t2):
    settled = t2.settlements.set_index("account")
    assert settled.loc["A", "fee"] == pytest.approx(915.0, rel=EXACT)
    assert settled.loc["B", "bad_debt"] == pytest.approx(4_000.0, rel=EXACT)
    assert settled.loc["C", "bad_debt"] == pytest.approx(1_000.0, rel=EXACT)


def test_t2_sequential_b_then_c_same_totals_different_split():
    # seed chosen so that the permutation of round 2 is (B, C); asserted below
    result = run(t2_accounts(), profile(), order="sequential", seed=1)
    book = result.book_fills
    assert list(book["account"]) == T2_NAMES
    np.testing.assert_allclose(book["price"], [91.5, 86.5, 81.5], rtol=EXACT)
    settled = result.settlements.set_index("account")
    assert settled.loc["B", "bad_debt"] == pytest.approx(1_500.0, rel=EXACT)
    assert settled.loc["C", "bad_debt"] == pytest.approx(3_500.0, rel=EXACT)
    assert result.final_prices["X"] == pytest.approx(79.0, rel=EXACT)
    assert book.loc[book["round"] == 2, "notional"].sum() == pytest.approx(168_000.0, rel=EXACT)
    assert result.bad_debt == pytest.approx(5_000.0, rel=EXACT)


def test_t2_adl_variant_shortfall():
    result = run(t2_accounts(), profile(fund=2_000.0))
    assert result.fees == pytest.approx(915.0, rel=EXACT)
    assert result.adl_shortfall == pytest.approx(2_085.0, rel=EXACT)
    assert result.final_fund == 0.0
    assert result.fund_drawdown == pytest.approx(2_000.0, rel=EXACT)
    # nobody holds the other side: the shortfall stays uncovered, and says so
    assert result.uncovered == pytest.approx(2_085.0, rel=EXACT)


# ---------------------------------------------------------------------------------- T3
def t3(allocation, counterparties, lam=0.005):
    names = ["B", *(c[0] for c in counterparties)]
    q = pd.DataFrame({"X": [1000.0, *(-c[1] for c in counterparties)]}, index=names)
    e = pd.DataFrame({"X": [100.0, *(c[2] for c in counterparties)]}, index=names)
    collateral = pd.Series([12_000.0, *(1e6 for _ in counterparties)], index=names)
    rule = AdlRule(timing="pre_trade", allocation=allocation, ranking="pnl")
    prof = VenueProfile("t3", TieredMaintenance.flat(0.05), 0.0, "full", 0.0, rule)
    sim = CascadeSimulator(prof, {"X": AssetMarket(100.0, LinearImpact(lam))})
    return sim.run(Accounts(q, e, collateral), shock(80.0))


@pytest.mark.parametrize("lam", [0.0001, 0.005, 1.0])
def test_t3_whole_position_to_adl_at_the_bankruptcy_price(lam):
    result = t3("queue", [("S", 1500, 100.0)], lam)
    assert result.book_fills.empty  # theta* = 0 for any impact
    assert result.final_prices["X"] == 80.0  # ADL is off-book
    adl = result.adl.set_index("account")
    assert adl.loc["S", "quantity"] == pytest.approx(1000.0, rel=EXACT)
    assert adl.loc["S", "haircut"] == pytest.approx(8_000.0, rel=EXACT)
    assert result.adl_shortfall == pytest.approx(8_000.0, rel=EXACT)
    assert result.final_quantities.loc["S", "X"] == pytest.approx(-500.0, rel=EXACT)
    assert result.final_fund == 0.0 and result.uncovered == 0.0


@pytest.mark.parametrize(
    ("allocation", "expected"),
    [
        ("queue", {"S1": (600, 4_800), "S2": (400, 3_200)}),
        ("pro_rata_qty", {"S1": (375, 3_000), "S2": (625, 5_000)}),
        ("pro_rata_pnl", {"S1": (0, 8_000 * 12 / 22), "S2": (0, 8_000 * 10 / 22)}),
    ],
)
def test_t3_two_counterparties(allocation, expected):
    result = t3(allocation, [("S1", 600, 100.0), ("S2", 1000, 90.0)])
    adl = result.adl.set_index("account")
    for name, (units, haircut) in expected.items():
        assert adl.loc[name, "quantity"] == pytest.approx(units, abs=1e-9)
        assert adl.loc[name, "haircut"] == pytest.approx(haircut, rel=EXACT)
    assert result.adl_haircut == pytest.approx(8_000.0, rel=EXACT)  # zero overshoot
    assert result.conservation_error() < 1e-12


def test_t3_pro_rata_pnl_values_of_the_spec():
    adl = t3("pro_rata_pnl", [("S1", 600, 100.0), ("S2", 1000, 90.0)]).adl.set_index("account")
    assert adl.loc["S1", "haircut"] == pytest.approx(4_363.6364, abs=5e-5)
    assert adl.loc["S2", "haircut"] == pytest.approx(3_636.3636, abs=5e-5)


# ---------------------------------------------------------------------------------- T5
def t5_accounts(k, delta, n, lam=0.001, m=0.05):
    j = np.arange(1, n + 1)
    p_liq = 100 - (j - 0.5) * delta
    q = k * delta / lam
    collateral = q * (100 - p_liq * (1 - m))
    return one_asset(np.full(n, q), collateral)


def t5_exact(k, delta, n, lam=Fraction(1, 1000), s=2):
    """Independent exact re-run: accounts liquidate when the price is strictly below P_liq."""
    k, delta = Fraction(k), Fraction(delta)
    units = k * delta / lam
    p_liq = [100 - (j - Fraction(1, 2)) * delta for j in range(1, n + 1)]
    price, alive, moves = Fraction(100 - s), [True] * n, []
    while True:
        hit = [j for j in range(n) if alive[j] and price < p_liq[j]]
        if not hit:
            return price, moves
        for j in hit:
            alive[j] = False
        moves.append(lam * units * len(hit))
        price -= moves[-1]


T5 = [  # k, delta, accounts, spec P_end, spec rounds, spec first moves
    ("0.25", "0.01", 2000, 97.335, 5, (0.5, 0.125, 0.03, 0.0075)),
    ("0.5", "0.01", 2000, 96.005, 9, (1, 0.5, 0.25, 0.125)),
    ("0.5", "0.001", 6000, 96.0, 13, (1, 0.5, 0.25, 0.125)),
    ("0.8", "0.01", 2000, 90.016, 27, (1.6, 1.28, 1.024, 0.816)),
    ("0.9", "0.01", 3000, 80.036, 56, (1.8, 1.62, 1.458, 1.314)),
    ("1.0", "0.01", 1000, 88.0, 5, None),
    ("1.2", "0.01", 1000, 86.0, 4, None),
]
#: Rows where the strict trigger reproduces the spec's table exactly.
T5_EXACT_ROWS = {
    ("0.25", "0.01"),
    ("0.5", "0.01"),
    ("0.8", "0.01"),
    ("1.0", "0.01"),
    ("1.2", "0.01"),
}


@pytest.fixture(scope="module", params=T5, ids=[f"k={r[0]},delta={r[1]}" for r in T5])
def t5(request):
    k, delta, n, *_ = request.param
    prof = profile(fund=1e12, fee=0.0)
    sim = CascadeSimulator(prof, {"X": AssetMarket(100.0, LinearImpact(0.001))})
    return request.param, sim.run(t5_accounts(float(k), float(delta), n), shock(98.0))


def test_t5_end_price_within_the_spec_tolerance(t5):
    (k, delta, _, _, _, _), result = t5
    k, delta = float(k), float(delta)
    end = result.final_prices["X"]
    if k < 1:
        assert abs(end - (100 - 2 / (1 - k))) <= delta * k / (1 - k)
    else:  # runaway: the whole band of 1000 accounts liquidates
        assert end == pytest.approx(100 - 2 - 0.001 * 1000 * k * delta / 0.001, rel=EXACT)


def test_t5_liquidated_units_identity(t5):
    _, result = t5
    units = result.book_fills["quantity"].sum()
    assert units == pytest.approx((100 - 2 - result.final_prices["X"]) / 0.001, rel=1e-9)


def test_t5_matches_an_exact_rerun(t5):
    (k, delta, n, spec_end, spec_rounds, spec_moves), result = t5
    price, moves = t5_exact(k, delta, n)
    assert result.final_prices["X"] == pytest.approx(float(price), abs=1e-9)
    assert int(result.steps["rounds"].iloc[0]) == len(moves)
    observed = -np.diff(np.r_[98.0, result.rounds["price_X"].to_numpy()])
    np.testing.assert_allclose(observed, [float(m) for m in moves], atol=1e-9)
    if spec_moves is not None:
        np.testing.assert_allclose(observed[:4], spec_moves, atol=1e-9)
    if (k, delta) in T5_EXACT_ROWS:
        assert result.final_prices["X"] == pytest.approx(spec_end, abs=1e-9)
        assert len(moves) == spec_rounds


def test_t5_cascade_is_geometric_below_the_critical_ratio():
    # round r moves the price by s k^r while the band is dense (k = 0.5, delta = 0.001)
    _, moves = t5_exact("0.5", "0.001", 6000)
    np.testing.assert_allclose(
        [float(m) for m in moves[:6]], [2 * 0.5**r for r in range(1, 7)], atol=1e-3
    )


# ---------------------------------------------------------------------------------- T6
def test_t6_square_root_impact():
    impact = SquareRootImpact(volume=1_000_000, sigma=0.04, prefactor=1.0)
    assert impact.price(100.0, 10_000) == pytest.approx(99.6, rel=1e-14)


def test_t6_cumulative_flow_rule_one_or_two_rounds():
    impact = SquareRootImpact(volume=1_000_000, sigma=0.04)
    m = 0.05
    prof = profile(fund=1e9, fee=0.0, m=m)
    ends = []
    for split in ([10_000], [5_000, 5_000]):
        # accounts below maintenance at 100 are all liquidated in round 1; the split accounts
        # liquidate in two rounds (the second triggered by the first's impact)
        names = [f"a{i}" for i in range(len(split))]
        c = [0.0] if len(split) == 1 else [0.0, None]
        if len(split) == 2:  # liquidation price between 100 and the price after 5,000 units
            p1 = impact.price(100.0, 5_000)
            target = 0.5 * (p1 + 100.0)
            c = [0.0, 5_000 * (100 - target * (1 - m))]
        accounts = one_asset(split, c, names=names)
        sim = CascadeSimulator(prof, {"X": AssetMarket(100.0, impact)})
        result = sim.run(accounts)
        ends.append(result.final_prices["X"])
        assert int(result.steps["rounds"].iloc[0]) == len(split)
    assert ends[0] == pytest.approx(99.6, rel=1e-14)
    assert ends[1] == pytest.approx(ends[0], rel=1e-14)


# ---------------------------------------------------------------------------------- T7
def test_t7_hyperliquid_tier_continuity():
    # the tiers are the margin stage's (research.margin.venues.MarginTiers), used as is
    tiers = MarginTiers((0.0, 150e6), (40, 20))
    assert tiers.deductions[1] == pytest.approx(1_875_000.0, rel=1e-15)
    below, at, above = tiers.maintenance_margin(np.array([150e6 * (1 - 1e-12), 150e6, 200e6]))
    assert at == pytest.approx(1_875_000.0, rel=1e-15)
    assert below == pytest.approx(1_875_000.0, rel=1e-11)
    assert above == pytest.approx(0.025 * 200e6 - 1_875_000.0, rel=1e-15)
    rule = TieredMaintenance({"BTC": tiers})
    cross, per = rule.requirement(("BTC",), np.array([[1_500.0], [-2_000.0]]), np.array([1e5]))
    np.testing.assert_allclose(per[:, 0], [1_875_000.0, 0.025 * 200e6 - 1_875_000.0], rtol=1e-15)
    np.testing.assert_allclose(cross, per[:, 0], rtol=0)


def test_t3_with_adl_at_the_previous_mark():
    # Hyperliquid closes ADL at the previous mark [S13f]: after the gap 100 -> 80 the units
    # closed off-book fill at 100, so the common book fraction theta* of the pre-trade rule is
    # the one whose book losses the ADL gains offset; nothing is left to the (empty) fund
    names = ["B", "S"]
    q = pd.DataFrame({"X": [1000.0, -1500.0]}, index=names)
    entry = pd.DataFrame({"X": [100.0, 100.0]}, index=names)
    accounts = Accounts(q, entry, pd.Series([12_000.0, 1e6], index=names))
    rule = AdlRule(timing="pre_trade", price="mark", ranking="hl_index")
    prof = VenueProfile("hl", TieredMaintenance.flat(0.05), 0.0, "full", 0.0, rule)
    sim = CascadeSimulator(prof, {"X": AssetMarket(100.0, LinearImpact(0.005))})
    result = sim.run(accounts, shock(80.0))
    book = result.book_fills["quantity"].sum()
    adl = result.adl.loc[result.adl["account"] == "S", "quantity"].sum()
    assert book + adl == pytest.approx(1000.0, rel=EXACT)
    # closed at 100 against the mark after the round's book sale
    assert result.adl_haircut == pytest.approx(adl * (100.0 - result.final_prices["X"]), rel=EXACT)
    assert int(result.steps["rounds"].iloc[0]) == 1
    assert result.bad_debt == pytest.approx(0.0, abs=1e-6)
    assert result.uncovered == pytest.approx(0.0, abs=1e-6)
    assert result.conservation_error() < 1e-12
