"""OKX-style portfolio margin: EX-OKX-1 (position-builder API example) to 1e-7, EX-OKX-2's rule.

Source: https://www.okx.com/docs-v5/en/#trading-account-rest-api-position-builder-new [P]
(venues.md section 2.4). The response values MR1/MR6 at one reference price per unit
(``mr1 / (shock x size)``) and MR4/MR7 at another (its ``delta``), neither of which it states;
both are derived from the response here, so the engine is run at each and every listed field is
pinned to 1e-7. The MMR/IMR of each unit and the account totals are then the published
combination of the published terms.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from research.errors import (
    DataError,
    ExpiredInstrumentError,
    ParameterError,
    ResearchWarning,
    UnknownUnderlyingError,
)
from research.margin import MarginEngine
from research.margin.venues import VenueEngine, VenueParameters
from research.margin.venues.okx import (
    OkxEngine,
    extreme_move_charge,
    minimum_charge,
    risk_unit_mmr,
)
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    LinearPerpetual,
    Market,
    Portfolio,
    PortfolioBook,
    Position,
    Spot,
)

TOL = 1e-7
PUBLISHED = {
    "BTC": {
        "delta": -9704.903689800001,
        "mr1": 1164.4109244719994,
        "mr4": 19.4098073796,
        "mr6": 1164.4109244720003,
        "mr6_pnl": -2328.8218489440005,
        "mr6_shock": 0.24,
        "mr7": 43.67206660410001,
        "mmr": 1183.8207318516002,
        "imr": 1538.9669514070802,
        "spot_shock": 0.12,
        "scenarios": {
            0.04: -388.1369748240002,
            0.08: -776.2739496480004,
            0.12: -1164.4109244719994,
        },
    },
    "LTC": {
        "delta": 1019.5308,
        "mr1": 183.50672805719995,
        "mr4": 8.1562464,
        "mr6": 183.5067280572,
        "mr6_pnl": -367.0134561144,
        "mr6_shock": -0.36,
        "mr7": 7.1367156,
        "mmr": 191.6629744572,
        "imr": 249.16186679436,
        "spot_shock": -0.18,
        "scenarios": {0.06: 61.168909352399936, 0.12: 122.33781870480001, 0.18: 183.50672805719995},
    },
}
SIZE = {"BTC": -0.1, "LTC": 10.0}  # -10 contracts of 0.01 BTC; 10 contracts of 1 LTC
ACCOUNT = {
    "derivMmr": 1375.4837063088003,
    "borrowMmr": 1571.064377796,
    "totalMmr": 2946.5480841048,
    "borrowImr": 7855.32188898,
    "totalImr": 9643.45070718144,
}
USDT_LIABILITY = 78553.21888979999  # the response's eq (negative): the USDT borrowed
EXAMPLE = Portfolio(
    [
        Position(LinearPerpetual("BTC", 0.01, name="BTC-USDT-SWAP"), 10.0, "short"),
        Position(LinearPerpetual("LTC", 1.0, name="LTC-USDT-SWAP"), 10.0),
        Position(Spot("USDT"), USDT_LIABILITY, "short"),
    ],
    name="EX-OKX-1",
)


def _market(price):
    return Market(
        spot={u: price(u) for u in ("BTC", "LTC")} | {"USDT": 1.0}, valuation_date="2026-06-29"
    )


# MR1 reference price: |mr1| / (|spot shock| x |size|); delta price: |delta| / |size|
STRESS = _market(lambda u: PUBLISHED[u]["mr1"] / abs(PUBLISHED[u]["spot_shock"] * SIZE[u]))
DELTA = _market(lambda u: abs(PUBLISHED[u]["delta"] / SIZE[u]))


@pytest.fixture(scope="module")
def engine():
    return OkxEngine(VenueParameters.load("okx_2025-01-06"), requirement="maintenance")


def test_is_a_margin_engine(engine):
    assert isinstance(engine, MarginEngine)
    assert engine.margin(EXAMPLE, STRESS).engine == "OKX-style"


@pytest.mark.parametrize("unit", ["BTC", "LTC"])
def test_ex_okx_1_spot_shock_and_extreme_move(engine, unit):
    row = engine.risk_units(EXAMPLE, STRESS).loc[unit]
    pub = PUBLISHED[unit]
    assert row["mr1"] == pytest.approx(pub["mr1"], abs=TOL)
    assert row["mr1_pnl"] == pytest.approx(-pub["mr1"], abs=TOL)
    assert row["mr1_worst"] == f"{unit} MR1 {pub['spot_shock']:+.0%} vol up"
    assert row["mr6"] == pytest.approx(pub["mr6"], abs=TOL)
    assert row["mr6_pnl"] == pytest.approx(pub["mr6_pnl"], abs=TOL)
    assert row["mr6_shock"] == pub["mr6_shock"]
    for term in ("mr2", "mr3", "mr5", "mr9"):
        assert row[term] == 0.0


@pytest.mark.parametrize("unit", ["BTC", "LTC"])
def test_ex_okx_1_mr1_scenarios(engine, unit):
    grid = engine.mr1_scenarios(EXAMPLE, STRESS).loc[unit]
    for move, pnl in PUBLISHED[unit]["scenarios"].items():
        for vol in ("down", "same", "up"):  # no options: the three are identical
            assert grid.loc[move, vol] == pytest.approx(pnl, abs=TOL)
            assert grid.loc[-move, vol] == pytest.approx(-pnl, abs=TOL)
        assert grid.loc[0.0, vol] == 0.0


@pytest.mark.parametrize("unit", ["BTC", "LTC"])
def test_ex_okx_1_basis_and_minimum_charge(engine, unit):
    row = engine.risk_units(EXAMPLE, DELTA).loc[unit]
    assert row["mr4"] == pytest.approx(PUBLISHED[unit]["mr4"], abs=TOL)
    assert row["mr7"] == pytest.approx(PUBLISHED[unit]["mr7"], abs=TOL)


@pytest.mark.parametrize("unit", ["BTC", "LTC"])
def test_ex_okx_1_combination_rule(unit):
    pub = PUBLISHED[unit]
    mmr = risk_unit_mmr(pub["mr1"], 0.0, 0.0, pub["mr4"], 0.0, pub["mr6"], pub["mr7"], 0.0)
    assert mmr == pytest.approx(pub["mmr"], abs=TOL)
    assert 1.3 * mmr == pytest.approx(pub["imr"], abs=TOL)
    assert extreme_move_charge(np.array([pub["mr6_pnl"], -pub["mr6_pnl"]])) == pytest.approx(
        pub["mr6"], abs=TOL
    )


def test_ex_okx_1_account(engine):
    account = engine.account(EXAMPLE, STRESS)
    assert account["borrowImr"] == pytest.approx(ACCOUNT["borrowImr"], abs=TOL)
    assert account["borrowMmr"] == pytest.approx(ACCOUNT["borrowMmr"], abs=TOL)
    deriv = sum(PUBLISHED[u]["mmr"] for u in ("BTC", "LTC"))
    assert deriv == pytest.approx(ACCOUNT["derivMmr"], abs=TOL)
    assert deriv + account["borrowMmr"] == pytest.approx(ACCOUNT["totalMmr"], abs=TOL)
    imr = sum(PUBLISHED[u]["imr"] for u in ("BTC", "LTC"))
    assert imr + account["borrowImr"] == pytest.approx(ACCOUNT["totalImr"], abs=TOL)
    # the engine's own totals are its units' sums (its MR4/MR7 at the stress price)
    units = engine.risk_units(EXAMPLE, STRESS)
    assert account["derivMmr"] == pytest.approx(units["mmr"].sum(), rel=1e-15)
    assert account["totalImr"] == pytest.approx(
        units["imr"].sum() + account["borrowImr"], rel=1e-15
    )
    assert abs(account["totalMmr"] - ACCOUNT["totalMmr"]) < 0.01


def test_engine_margin_is_the_account_total(engine):
    account = engine.account(EXAMPLE, STRESS)
    assert engine.margin(EXAMPLE, STRESS).cross == pytest.approx(account["totalMmr"], rel=1e-15)
    initial = OkxEngine(engine.parameters).margin(EXAMPLE, STRESS)
    assert initial.cross == pytest.approx(account["totalImr"], rel=1e-15)
    assert initial.driver == "borrowing"


@pytest.mark.parametrize(
    ("terms", "expected"),
    [((0, 0, 0, 0, 0, 0, 3020.87, 0), 3020.87), ((0, 0, 0, 8053.32, 0, 0, 3020.17, 0), 8053.32)],
)
def test_ex_okx_2_combination_rule(terms, expected):
    assert risk_unit_mmr(*terms) == expected


@pytest.mark.parametrize(
    ("raw", "multiplier"),
    [(5_000.0, 1), (10_000.0, 1), (10_000.01, 2), (70_000.0, 2), (300_000.5, 8), (1e6, 12)],
)
def test_minimum_charge_tiers(raw, multiplier):
    bounds = [10_000, 70_000, 170_000, 300_000, 470_000, 700_000]
    assert minimum_charge(raw, bounds, [1, 2, 4, 6, 8, 10, 12]) == multiplier * raw


@pytest.mark.parametrize(("legs", "mmr"), [(10.0, 9_000.0), (20.0, 2 * 18_000.0)])
def test_minimum_charge_binds_on_a_calendar_spread(engine, legs, mmr):
    # long perp against short future: MR1 = MR6 = 0; MR4 = 0.2% + 5% x 0.01y of each leg's
    # delta cash, below MR7 = 0.45% of both legs times the tier multiplier
    market = Market(spot={"BTC": 100_000.0})
    p = Portfolio(
        [
            Position(LinearPerpetual("BTC"), legs),
            Position(DatedFuture("BTC", 0.01), legs, "short"),
        ]
    )
    row = engine.risk_units(p, market).loc["BTC"]
    notional = legs * 100_000.0
    assert row["mr1"] == 0.0 and row["mr6"] == 0.0
    assert row["mr4"] == pytest.approx(0.002 * notional + 0.05 * 0.01 * notional, rel=1e-12)
    assert row["mmr"] == pytest.approx(mmr, rel=1e-12)
    result = engine.margin(p, market)
    assert result.cross == pytest.approx(mmr, rel=1e-12)
    assert result.driver == "BTC MR7 minimum charge"


def _black76(forward, strike, t, vol, call):
    d1 = (math.log(forward / strike) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    if call:
        return forward * norm.cdf(d1) - strike * norm.cdf(d2)
    return strike * norm.cdf(-d2) - forward * norm.cdf(-d1)


@pytest.mark.parametrize(("days", "shift"), [(10.0, 0.30), (45.0, 0.25), (90.0, 0.20)])
def test_option_grid_under_the_volatility_shocks(engine, days, shift):
    # shift = max(points, percent x vol) of the row: vol 0.6 -> 0.30 / 0.25 / max(0.2, 0.15)
    market = Market(spot={"ETH": 2_000.0}, valuation_date="2026-01-01", volatility={"ETH": 0.6})
    t = days / 365.0
    call = EuropeanOption("ETH", 2_200.0, t, "call", name="C")
    with pytest.warns(ResearchWarning, match="MR2 .* charged 0"):
        grid = engine.mr1_scenarios(Portfolio([Position(call, 1.0, "short")]), market)
    v0 = _black76(2_000.0, 2_200.0, t, 0.6, True)
    for move in (-0.12, 0.0, 0.08):
        for vol, sigma in (("down", 0.6 - shift), ("same", 0.6), ("up", 0.6 + shift)):
            expected = -(_black76(2_000.0 * (1 + move), 2_200.0, t, sigma, True) - v0)
            assert grid.loc[("ETH", move), vol] == pytest.approx(expected, abs=1e-9)


def test_warning_is_recorded_on_the_result(engine):
    market = Market(spot={"ETH": 2_000.0}, volatility={"ETH": 0.6})
    p = Portfolio([Position(EuropeanOption("ETH", 2_000.0, 0.1), 1.0)])
    with pytest.warns(ResearchWarning):
        result = engine.margin(p, market)
    assert any("MR3 (vega span)" in w for w in result.warnings)


def test_book_equals_portfolios(engine):
    other = Portfolio([Position(LinearPerpetual("LTC", 1.0, name="LTC-USDT-SWAP"), 3.0, "short")])
    book = PortfolioBook.from_portfolios([EXAMPLE, Portfolio(other.positions, name="ltc")])
    result = engine.margin_book(book, STRESS)
    assert result.cross["EX-OKX-1"] == pytest.approx(
        engine.margin(EXAMPLE, STRESS).cross, rel=1e-14
    )
    assert result.isolated.loc["ltc", "BTC-USDT-SWAP"] == 0.0


def test_bad_input_names_the_position(engine):
    market = Market(spot={"BTC": 100_000.0, "AVAX": 30.0, "USDT": 1.0}, valuation_date="2026-01-01")
    avax = Portfolio([Position(LinearPerpetual("AVAX", name="AVAX-USDT-SWAP"), 1.0)])
    with pytest.raises(UnknownUnderlyingError, match="'AVAX-USDT-SWAP'.*currency 'AVAX'"):
        engine.margin(avax, market)
    on_usdt = Portfolio([Position(LinearPerpetual("USDT", name="USDT-PERP"), 1.0)])
    with pytest.raises(DataError, match="'USDT-PERP'.*derivative on a stablecoin"):
        engine.margin(on_usdt, market)
    short_btc = Portfolio([Position(Spot("BTC"), 1.0, "short")])
    with pytest.raises(UnknownUnderlyingError, match="'BTC spot'.*borrow_imr_rate"):
        engine.margin(short_btc, market)
    long_btc = Portfolio([Position(Spot("BTC"), 1.0)])  # holding, not borrowing: no rate needed
    assert engine.margin(long_btc, market).cross == pytest.approx(12_000.0, rel=1e-12)
    expired = Portfolio([Position(DatedFuture("BTC", "2025-12-26", name="BTC-251226"), 1.0)])
    with pytest.raises(ExpiredInstrumentError, match="'BTC-251226'.*expired"):
        engine.margin(expired, market)


def test_missing_and_foreign_parameters(engine):
    data = engine.parameters.to_dict()
    del data["values"]["groups"]["large"]["mr6_move"]
    with pytest.raises(ParameterError, match=r"'groups\.large\.mr6_move'"):
        OkxEngine(VenueParameters.from_dict(data)).margin(EXAMPLE, STRESS)
    data = engine.parameters.to_dict()
    data["values"]["groups"]["mid"]["mr7_tiers"]["multipliers"] = [1, 2]
    with pytest.raises(ParameterError, match=r"groups\.mid\.mr7_tiers"):
        OkxEngine(VenueParameters.from_dict(data)).margin(EXAMPLE, STRESS)
    with pytest.raises(ParameterError, match="given the 'Deribit-style' parameter set"):
        OkxEngine(VenueParameters.load("deribit_2024-06-17"))


def test_isolated_shortcut_equals_each_holding_margined_alone():
    # closed form from one unit's extreme cells against _cross of the holding alone, with
    # options, tiers beyond the first multiplier and borrowing
    engine = OkxEngine(VenueParameters.load("okx_2025-01-06"))
    market = Market(
        spot={"BTC": 100_000.0, "SOL": 150.0, "USDT": 1.0},
        valuation_date="2026-01-01",
        volatility={"BTC": 0.6, "SOL": 0.9},
    )
    instruments = (
        LinearPerpetual("BTC"),
        DatedFuture("BTC", 0.2),
        EuropeanOption("SOL", 120.0, 0.1, "put"),
        LinearPerpetual("SOL"),
        Spot("BTC"),
        Spot("USDT"),
    )
    rng = np.random.default_rng(6)
    q = rng.standard_normal((40, len(instruments))) * [30.0, 20.0, 5e3, 1e4, 5.0, 1e6]
    q[:, 4] = np.abs(q[:, 4])  # long BTC only: no published BTC borrowing rate
    q[rng.random(q.shape) < 0.3] = 0.0
    book = PortfolioBook(instruments, pd.DataFrame(q, columns=[i.label for i in instruments]))
    with pytest.warns(ResearchWarning):
        prep = engine._venue_prepare(book, market)
    shortcut = engine._isolated(q, prep)
    generic = VenueEngine._isolated(engine, q, prep)
    np.testing.assert_allclose(shortcut, generic, rtol=1e-12, atol=1e-9)
    assert (shortcut[q == 0] == 0).all()
    assert (shortcut[:, 0] > 10_000 * 1.3 * 0.0045).any()  # some holdings beyond the first tier
