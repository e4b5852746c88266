"""Deribit-style portfolio margin: EX-DRB-1 (the private/pme/simulate documentation example) pinned.

Source: https://docs.deribit.com/api-reference/account-management/private-simulate [P]
(venues.md section 1.4). Cells to 1e-12 (the formula ``q s / (1 + s)``), margin totals to 1e-9
(the venue rounds an intermediate: its risk_matrix_margin is 0.06284313098, the recomputation
0.06284313136).
"""

import math
import warnings

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
from research.margin.venues.deribit import DeribitEngine, deribit_requirements
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    InversePerpetual,
    LinearPerpetual,
    Market,
    Portfolio,
    PortfolioBook,
    Position,
    Spot,
)

CELL = 1e-12
TOTAL = 1e-9
INDEX = 65_666.19
MARKET = Market(spot={"BTC": INDEX}, valuation_date="2024-06-17 10:22:20")
PERP = InversePerpetual("BTC", 10.0, name="BTC-PERPETUAL")
FUTURE = DatedFuture("BTC", "2024-06-28 08:00", name="BTC-28JUN24")
EXAMPLE = Portfolio(
    [Position(PERP, 0.314538364 * INDEX / 10.0), Position(FUTURE, 0.001187534, "short")],
    name="EX-DRB-1",
)
PERP_CELLS = [
    -0.05991206933333334,
    -0.04289159509090909,
    -0.027351162086956524,
    -0.013105765166666668,
    0.0,
    0.012097629384615385,
    0.023299138074074074,
    0.033700538999999995,
    0.043384601931034494,
]
FUTURE_CELLS = [
    0.0002261969523809524,
    0.00016193645454545456,
    0.00010326382608695652,
    0.00004948058333333334,
    0.0,
    -0.00004567438461538462,
    -0.00008796548148148148,
    -0.0001272357857142857,
    -0.00016379779310344832,
]
AGGREGATED = [
    -0.05968587238095239,
    -0.04272965863636364,
    -0.02724789826086957,
    -0.013056284583333334,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
]


@pytest.fixture(scope="module")
def engine():
    return DeribitEngine(VenueParameters.load("deribit_2024-06-17"))


@pytest.fixture(scope="module")
def matrix(engine):
    return engine.risk_matrix(EXAMPLE, MARKET)


def test_is_a_margin_engine(engine):
    assert isinstance(engine, MarginEngine)
    assert engine.margin(EXAMPLE, MARKET).engine == "Deribit-style"


def test_bucket_grid(engine):
    assert engine.price_buckets("BTC") == pytest.approx(
        [-0.16, -0.12, -0.08, -0.04, 0.0, 0.04, 0.08, 0.12, 0.16], abs=1e-15
    )


@pytest.mark.parametrize(
    ("row", "expected"),
    [("BTC-PERPETUAL", PERP_CELLS), ("BTC-28JUN24", FUTURE_CELLS)],
)
def test_ex_drb_1_position_vectors(matrix, row, expected):
    standard = matrix.loc[row].to_numpy()[:27].reshape(9, 3)
    for vol in range(3):  # the three volatility slots of a delta-one position are equal
        np.testing.assert_allclose(standard[:, vol], expected, rtol=0, atol=CELL)
    extended = matrix.loc[row].to_numpy()[27:]
    np.testing.assert_allclose(extended, [expected[0]] * 2 + [expected[-1]] * 6, rtol=0, atol=CELL)


def test_ex_drb_1_aggregated_vector(matrix):
    aggregated = matrix.loc["aggregated BTC/BTC"].to_numpy()
    np.testing.assert_allclose(aggregated[:27].reshape(9, 3)[:, 1], AGGREGATED, rtol=0, atol=CELL)
    np.testing.assert_array_equal(aggregated[27:], np.zeros(8))


def test_ex_drb_1_margin_fields(engine):
    fields = engine.requirements(EXAMPLE, MARKET, additive={"BTC": 0.06 + 0.000018212}).loc[
        "BTC/BTC"
    ]
    assert fields["worst_case"] == pytest.approx(0.05968587238095239, abs=CELL)
    assert fields["worst_cell"] == "BTC/BTC -16.0% vol same"  # the middle of three equal cells
    assert fields["roll_shock"] == pytest.approx(0.00315725898, abs=TOTAL)
    assert fields["delta_shock"] == 0.0
    assert fields["risk_matrix_margin"] == pytest.approx(0.06284313098, abs=TOTAL)
    assert fields["initial_margin"] == pytest.approx(0.122861343, abs=TOTAL)
    assert fields["maintenance_margin"] == pytest.approx(0.050274504784, abs=TOTAL)


def test_assembly_function_reproduces_the_published_sum():
    fields = deribit_requirements(
        0.05968587238095239, 0.00315725898, 0.0, 0.0, 0.0, 0.06, 0.000018212, 0.8
    )
    assert fields["risk_matrix_margin"] == pytest.approx(0.06284313136, abs=1e-12)
    assert fields["initial_margin"] == pytest.approx(0.122861343, abs=TOTAL)
    assert fields["maintenance_margin"] == pytest.approx(0.8 * 0.06284313136, abs=1e-12)


def test_engine_margin_in_usd(engine):
    rmm = 0.05968587238095239 + 0.01 * (0.314538364 + 0.001187534)
    initial = engine.margin(EXAMPLE, MARKET)
    assert initial.cross == pytest.approx(rmm * INDEX, rel=1e-12)
    assert initial.driver == "BTC/BTC -16.0% vol same"
    maintenance = DeribitEngine(engine.parameters, requirement="maintenance").margin(
        EXAMPLE, MARKET
    )
    assert maintenance.cross == pytest.approx(0.8 * rmm * INDEX, rel=1e-12)


def test_isolated_margins(engine):
    # the perp alone loses 0.16/0.84 of its coins at -16%; the short future 0.16/1.16 at +16%
    isolated = engine.margin(EXAMPLE, MARKET).isolated
    q_perp, q_fut = 0.314538364, 0.001187534
    assert isolated["BTC-PERPETUAL"] == pytest.approx(
        (q_perp * 0.16 / 0.84 + 0.01 * q_perp) * INDEX, rel=1e-12
    )
    assert isolated["BTC-28JUN24"] == pytest.approx(
        (q_fut * 0.16 / 1.16 + 0.01 * q_fut) * INDEX, rel=1e-12
    )


def test_book_equals_portfolios(engine):
    other = Portfolio([Position(PERP, 500.0, "short")], name="short")
    book = PortfolioBook.from_portfolios([EXAMPLE, other])
    result = engine.margin_book(book, MARKET)
    for p in (EXAMPLE, other):
        assert result.cross[p.name] == pytest.approx(engine.margin(p, MARKET).cross, rel=1e-14)


ETH_MARKET = Market(spot={"ETH": 2_000.0, "BTC": 60_000.0}, valuation_date="2026-02-15")


def test_pnl_offset_scales_gains_only():
    # ETH pnl_offset 0.6 (captured 2026-02-15 set): gains x 0.6, losses unchanged
    engine = DeribitEngine(VenueParameters.load("deribit_2026-02-15"))
    p = Portfolio([Position(InversePerpetual("ETH", 1.0), 2_000.0)])  # 1 ETH
    m = engine.risk_matrix(p, ETH_MARKET)
    pre = m.loc["pre-aggregated ETH/ETH"].dropna().to_numpy()
    agg = m.loc["aggregated ETH/ETH"].dropna().to_numpy()
    s = np.repeat(0.18 * (np.arange(9) - 4) / 4, 3)
    np.testing.assert_allclose(pre[:27], s / (1 + s), rtol=0, atol=CELL)
    np.testing.assert_allclose(agg[:27], np.where(s > 0, 0.6, 1.0) * s / (1 + s), atol=CELL)
    fields = engine.requirements(p, ETH_MARKET).loc["ETH/ETH"]
    assert fields["worst_case"] == pytest.approx(0.18 / 0.82, abs=CELL)
    assert fields["roll_shock"] == pytest.approx(0.005, abs=CELL)


def test_linear_perpetual_settles_in_usd():
    engine = DeribitEngine(VenueParameters.load("deribit_2026-02-15"))
    p = Portfolio([Position(LinearPerpetual("BTC"), 2.0, "short")])
    fields = engine.requirements(p, ETH_MARKET).loc["BTC/USD"]
    assert fields["currency"] == "USD" and fields["to_usd"] == 1.0
    assert fields["worst_case"] == pytest.approx(2 * 60_000.0 * 0.16, rel=1e-12)
    assert fields["roll_shock"] == pytest.approx(0.01 * 2 * 60_000.0, rel=1e-12)
    assert engine.margin(p, ETH_MARKET).cross == pytest.approx(2 * 60_000.0 * 0.17, rel=1e-12)


def _black76(forward, strike, t, vol, call):
    d1 = (math.log(forward / strike) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    if call:
        return forward * norm.cdf(d1) - strike * norm.cdf(d2)
    return strike * norm.cdf(-d2) - forward * norm.cdf(-d1)


@pytest.mark.parametrize(("days", "power"), [(7.0, 0.3), (60.0, 0.13)])
def test_option_cells_under_the_volatility_shocks(engine, days, power):
    # coin-settled call: cell = V(S', sigma')/S' - V(S, sigma)/S with an independent Black-76
    market = Market(spot={"BTC": 60_000.0}, valuation_date="2026-01-01", volatility={"BTC": 0.6})
    t = days / 365.0
    call = EuropeanOption("BTC", 65_000.0, t, "call", name="C")
    cells = engine.risk_matrix(Portfolio([Position(call, 1.0)]), market).loc["C"].to_numpy()
    v0 = _black76(60_000.0, 65_000.0, t, 0.6, True) / 60_000.0
    scale = (30.0 / days) ** power
    vols = (max(0.6 * (1 + 0.5 * scale), 0.5), 0.6, max(0.6 * (1 - 0.25 * scale), 0.0))
    for b, s in enumerate(0.16 * (np.arange(9) - 4) / 4):
        spot = 60_000.0 * (1 + s)
        for v, vol in enumerate(vols):
            expected = _black76(spot, 65_000.0, t, vol, True) / spot - v0
            assert cells[3 * b + v] == pytest.approx(expected, abs=CELL)
    for k, s in enumerate([-0.66, -0.33, 0.5, 1, 2, 3, 4, 5]):
        spot = 60_000.0 * (1 + s)
        expected = _black76(spot, 65_000.0, t, vols[0], True) / spot - v0
        assert cells[27 + k] == pytest.approx(expected, abs=CELL)


def test_min_vol_floor_binds_for_a_low_vol_option(engine):
    # 30 days: up shock 0.2 x 1.5 = 0.3 < floor 0.5
    market = Market(spot={"BTC": 60_000.0}, valuation_date="2026-01-01", volatility={"BTC": 0.2})
    t = 30 / 365
    put = EuropeanOption("BTC", 60_000.0, t, "put", name="P")
    cell = engine.risk_matrix(Portfolio([Position(put, 1.0)]), market).loc["P"].iloc[12]
    expected = (
        _black76(60_000.0, 60_000.0, t, 0.5, False) - _black76(60_000.0, 60_000.0, t, 0.2, False)
    ) / 60_000.0
    assert cell == pytest.approx(expected, abs=CELL)


def test_extended_dampener_on_a_large_short_put(engine):
    # far out-of-the-money short puts lose most at -66%; the dampener (100,000 USD) is taken off
    market = Market(spot={"BTC": 60_000.0}, valuation_date="2026-01-01", volatility={"BTC": 0.6})
    t = 60 / 365
    put = EuropeanOption("BTC", 30_000.0, t, "put", name="P")
    p = Portfolio([Position(put, 100.0, "short")])
    m = engine.risk_matrix(p, market)
    pre = m.loc["pre-aggregated BTC/BTC"].to_numpy()[27]
    agg = m.loc["aggregated BTC/BTC"].to_numpy()[27]
    assert pre < -100_000.0 / 60_000.0
    assert agg == pytest.approx(pre + 100_000.0 / 60_000.0, abs=CELL)
    assert engine.requirements(p, market).loc["BTC/BTC", "worst_cell"] == "BTC/BTC extended -66%"


def test_delta_beyond_the_threshold_warns(engine):
    big = Portfolio([Position(InversePerpetual("BTC", 10.0), 3_000_000.0)])  # 30M USD
    with pytest.warns(ResearchWarning, match="delta shock"):
        engine.margin(big, MARKET)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine.margin(EXAMPLE, MARKET)


def test_bad_input_names_the_position(engine):
    sol = Portfolio([Position(InversePerpetual("SOL", 10.0, name="SOL-PERPETUAL"), 1.0)])
    market = Market(spot={"BTC": INDEX, "SOL": 150.0}, valuation_date="2024-06-17")
    with pytest.raises(UnknownUnderlyingError, match="'SOL-PERPETUAL'.*currency 'SOL'"):
        engine.margin(sol, market)
    expired = Portfolio([Position(EuropeanOption("BTC", 60_000.0, "2024-06-14", name="OLD"), 1.0)])
    with pytest.raises(ExpiredInstrumentError, match="'OLD'.*expired"):
        engine.margin(
            expired,
            Market(spot={"BTC": INDEX}, valuation_date="2024-06-17", volatility={"BTC": 0.5}),
        )
    with pytest.raises(DataError, match="'BTC-PERPETUAL'.*no price for 'BTC'"):
        engine.margin(EXAMPLE, Market(spot={"ETH": 2_000.0}))
    with pytest.raises(DataError, match="spot price of 'BTC' is -1"):
        Market(spot={"BTC": -1.0})
    with pytest.raises(DataError, match="implied_vol of .* is -0.1"):
        EuropeanOption("BTC", 60_000.0, 0.1, implied_vol=-0.1)
    with pytest.raises(ParameterError, match="no position settles in"):
        engine.requirements(EXAMPLE, MARKET, additive={"ETH": 1.0})


def test_missing_and_foreign_parameters(engine):
    data = engine.parameters.to_dict()
    del data["values"]["pairs"]["BTC"]["price_range"]
    broken = DeribitEngine(VenueParameters.from_dict(data))
    with pytest.raises(ParameterError, match=r"'pairs\.BTC\.price_range'.*'BTC-PERPETUAL'"):
        broken.margin(EXAMPLE, MARKET)
    data = engine.parameters.to_dict()
    data["values"]["currencies"]["BTC"]["pnl_offset"] = 1.5
    with pytest.raises(ParameterError, match=r"currencies\.BTC\.pnl_offset is 1\.5"):
        DeribitEngine(VenueParameters.from_dict(data)).margin(EXAMPLE, MARKET)
    data = {**engine.parameters.to_dict(), "methodology": "OKX-style"}
    with pytest.raises(ParameterError, match="given the 'OKX-style' parameter set"):
        DeribitEngine(VenueParameters.from_dict(data))


def test_isolated_shortcut_equals_each_holding_margined_alone():
    # the closed form from one unit's extreme cells against _cross of the holding alone,
    # with options, the dampener binding and gains offset (ETH pnl_offset 0.6)
    engine = DeribitEngine(VenueParameters.load("deribit_2026-02-15"), requirement="maintenance")
    market = Market(
        spot={"BTC": 60_000.0, "ETH": 2_000.0},
        valuation_date="2026-01-01",
        volatility={"BTC": 0.6, "ETH": 0.8},
    )
    instruments = (
        InversePerpetual("BTC", 10.0),
        DatedFuture("ETH", 0.1),
        EuropeanOption("ETH", 1_000.0, 0.2, "put"),
        EuropeanOption("BTC", 70_000.0, 0.05, "call"),
        LinearPerpetual("ETH"),
        Spot("BTC"),
    )
    rng = np.random.default_rng(5)
    q = rng.standard_normal((40, len(instruments))) * [1e4, 50.0, 3e3, 20.0, 10.0, 2.0]
    q[rng.random(q.shape) < 0.3] = 0.0
    book = PortfolioBook(instruments, pd.DataFrame(q, columns=[i.label for i in instruments]))
    prep = engine._venue_prepare(book, market)
    shortcut = engine._isolated(q, prep)
    generic = VenueEngine._isolated(engine, q, prep)
    np.testing.assert_allclose(shortcut, generic, rtol=1e-12, atol=1e-9)
    assert (shortcut[q == 0] == 0).all()


@pytest.mark.parametrize(("days", "shift"), [(15.0, 0.467835), (30.0, 0.38)])
def test_ex_drb_3_legacy_volatility_change(engine, days, shift):
    # legacy page: maximum IV change (30/DTE)^0.30 x 38% -> 46.7835% at 15 days (tol 1e-4)
    assert 0.38 * (30.0 / days) ** 0.3 == pytest.approx(shift, abs=1e-4)
    data = engine.parameters.to_dict()
    data["values"]["pairs"]["BTC"].update(
        volatility_range_up=0.38, min_volatility_for_shock_up=0.0, short_term_vega_power=0.3
    )
    legacy = DeribitEngine(VenueParameters.from_dict(data))
    market = Market(spot={"BTC": 60_000.0}, valuation_date="2026-01-01", volatility={"BTC": 0.6})
    t = days / 365.0
    call = EuropeanOption("BTC", 60_000.0, t, "call", name="C")
    cell = legacy.risk_matrix(Portfolio([Position(call, 1.0)]), market).loc["C"].iloc[12]
    v0 = _black76(60_000.0, 60_000.0, t, 0.6, True)
    expected = _black76(60_000.0, 60_000.0, t, 0.6 * (1 + 0.38 * (30 / days) ** 0.3), True) - v0
    assert cell == pytest.approx(expected / 60_000.0, abs=CELL)
