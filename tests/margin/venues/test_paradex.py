"""Paradex-style portfolio margin against the published examples and an independent revaluation.

EX-PDX-1 (minimum delta, $1,400) and EX-PDX-2 (volatility shock) are from the Paradex
Portfolio Margin page (``../shared/research/venues.md`` section 3.4); EX-PDX-3 is the documented
assembly ``MMR = 50% x net IMR + provisions``. The option SCAN is checked against a Black-76
written here with scipy, independent of ``research.portfolio``.
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.stats import norm

from research.errors import (
    DataError,
    ExpiredInstrumentError,
    ParameterError,
    UnknownUnderlyingError,
)
from research.margin.venues import VenueParameters
from research.margin.venues.paradex import (
    N_SCENARIOS,
    ParadexEngine,
    min_delta_risk,
    scenario_table,
    shocked_volatility,
)
from research.portfolio import (
    EuropeanOption,
    LinearPerpetual,
    Market,
    Portfolio,
    PortfolioBook,
    Position,
    Spot,
)

CLOSED_FORM = 1e-9  # relative: the same arithmetic in another order
PRINTED = 1e-6  # EX-PDX-2 is printed to 6 decimals


@pytest.mark.parametrize(
    ("vol_shock", "dte", "expected"),
    [(0.40, 7.0, 0.971380), (-0.22, 7.0, 0.395741), (0.40, 60.0, 0.819320)],
    ids=["up-7d", "down-7d", "up-60d"],
)
def test_ex_pdx_2_volatility_shock(vol_shock, dte, expected):
    assert abs(float(shocked_volatility(0.6, vol_shock, dte)) - expected) < PRINTED


def test_vega_power_switches_at_30_days_and_dte_is_floored_at_1():
    assert float(shocked_volatility(0.5, 0.4, 30.0)) == pytest.approx(0.5 * 1.4, rel=1e-15)
    just_below = float(shocked_volatility(0.5, 0.4, 29.999999))
    assert just_below == pytest.approx(0.5 * (1 + 0.4 * (30 / 29.999999) ** 0.30), rel=1e-15)
    assert float(shocked_volatility(0.5, 0.4, 0.25)) == float(shocked_volatility(0.5, 0.4, 1.0))
    assert float(shocked_volatility(0.5, 0.4, 1.0)) == pytest.approx(
        0.5 * (1 + 0.4 * 30**0.3), rel=1e-15
    )


def test_min_vol_shock_up_floors_upward_shocks_only():
    low = 0.2
    up = 0.2 * (1 + 0.4 * 0.5**0.13)
    assert float(shocked_volatility(low, 0.4, 60.0, min_vol_shock_up=0.4)) == 0.4
    assert float(shocked_volatility(low, -0.22, 60.0, min_vol_shock_up=0.4)) < low
    assert float(shocked_volatility(low, 0.4, 60.0)) == pytest.approx(up, rel=1e-15)
    as_shock = shocked_volatility(low, 0.4, 60.0, min_vol_shock_up=0.4, floor_applies_to="shock")
    assert float(as_shock) == pytest.approx(low * 1.4, rel=1e-15)


def test_ex_pdx_1_min_delta_formula():
    assert float(min_delta_risk(1 - 5 * 0.3, 1 + 5 * 0.3, 70_000.0, 0.02, 0.01)) == pytest.approx(
        1400.0, rel=CLOSED_FORM
    )


def _market(spot=70_000.0, vol=0.6):
    return Market(spot={"BTC": spot}, valuation_date="2026-01-01", volatility={"BTC": vol})


def test_ex_pdx_1_min_delta_through_the_engine_with_perpetuals():
    book = Portfolio(
        [
            Position(LinearPerpetual("BTC"), 1.0),
            Position(LinearPerpetual("BTC", name="BTC perp 2"), 1.5, "short"),
        ]
    ).to_book()
    terms = ParadexEngine().requirements(book, _market())
    assert terms["min_delta"].iloc[0] == pytest.approx(1400.0, rel=CLOSED_FORM)


def test_ex_pdx_1_min_delta_through_the_engine_with_calls_of_delta_0_3():
    market = _market()

    def delta_minus(strike):
        return EuropeanOption("BTC", strike, 30 / 365).greeks(market).delta - 0.3

    call = EuropeanOption("BTC", brentq(delta_minus, 70_000.0, 200_000.0, xtol=1e-10), 30 / 365)
    assert call.greeks(market).delta == pytest.approx(0.3, abs=1e-12)
    book = Portfolio(
        [Position(LinearPerpetual("BTC"), 1.0), Position(call, 5.0, "short")]
    ).to_book()
    terms = ParadexEngine().requirements(book, market)
    assert terms["min_delta"].iloc[0] == pytest.approx(1400.0, rel=1e-9)


def test_scenario_table_is_the_dated_version():
    table = scenario_table("BTC")
    assert len(table) == N_SCENARIOS == 24
    assert table.loc[1].tolist() == [0.16, 0.40, 1.0]
    assert table.loc[16].tolist() == [-0.16, 0.40, 1.0]
    assert table.loc[9].tolist() == [0.0, -0.22, 1.0]
    tails = table.loc[17:24]
    assert tails["spot_shock"].tolist() == [-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert tails["weight"].tolist() == [0.18, 0.36, 0.24, 0.12, 0.06, 0.04, 0.03, 0.024]
    assert (tails["vol_shock"] == 0.40).all()
    assert scenario_table("ETH").equals(table)
    hype = scenario_table("HYPE")
    assert hype.loc[1].tolist() == [0.28, 0.64, 1.0]
    assert hype.loc[17:24, "weight"].tolist() == [0.30, 0.50, 0.40, 0.20, 0.10, 0.07, 0.05, 0.04]
    params = VenueParameters.load("paradex_2026-07-13")
    assert params.effective_date == "2026-07-13" and params.methodology == "Paradex-style"


@pytest.mark.parametrize("direction", ["long", "short"])
def test_a_perpetual_is_charged_its_16_percent_move(direction):
    spot = 100_000.0
    book = Portfolio([Position(LinearPerpetual("BTC"), 2.0, direction)]).to_book()
    initial = ParadexEngine().margin_book(book, _market(spot)).cross.iloc[0]
    maintenance = (
        ParadexEngine(requirement="maintenance").margin_book(book, _market(spot)).cross.iloc[0]
    )
    assert initial == pytest.approx(0.16 * spot * 2.0, rel=CLOSED_FORM)
    assert maintenance == pytest.approx(0.5 * initial, rel=CLOSED_FORM)


def _black76_call(forward, strike, t, vol):
    d1 = (np.log(forward / strike) + 0.5 * vol**2 * t) / (vol * np.sqrt(t))
    return forward * norm.cdf(d1) - strike * norm.cdf(d1 - vol * np.sqrt(t))


@pytest.mark.parametrize("dte", [3.0, 45.0])
def test_short_call_scan_matches_an_independent_black76(dte):
    spot, iv, strike = 70_000.0, 0.55, 75_000.0
    t = dte / 365.0
    call = EuropeanOption("BTC", strike, t, implied_vol=iv)
    book = Portfolio([Position(call, 3.0, "short")]).to_book()
    terms = ParadexEngine().requirements(book, _market(spot))
    table = scenario_table("BTC")
    power = 0.30 if dte < 30 else 0.13
    expected_scan = 0.0
    for _, row in table.iterrows():
        shocked = iv * (1 + row.vol_shock * (30 / max(1.0, dte)) ** power)
        if row.vol_shock > 0:
            shocked = max(shocked, 0.40)
        value = _black76_call(spot * (1 + row.spot_shock), strike, t, shocked)
        loss = 3.0 * (value - _black76_call(spot, strike, t, iv))
        expected_scan = max(expected_scan, row.weight * loss)
    assert terms["scan"].iloc[0] == pytest.approx(expected_scan, rel=1e-9)


def test_ex_pdx_3_assembly_with_provisions():
    # long 0.1875 BTC at 100,000: SCAN = 16% x 18,750 = 3,000 > min delta 2% x 18,750 = 375
    spot, size, rate, fee = 100_000.0, 0.1875, 1e-4, 5e-4
    book = Portfolio([Position(LinearPerpetual("BTC"), size)]).to_book()
    engine = ParadexEngine(funding_rates={"BTC": rate}, taker_fee=fee)
    terms = engine.requirements(book, _market(spot)).iloc[0]
    notional = size * spot
    assert terms["scan"] == pytest.approx(3000.0, rel=CLOSED_FORM)
    assert terms["min_delta"] == pytest.approx(375.0, rel=CLOSED_FORM)
    assert terms["net_initial"] == pytest.approx(3000.0, rel=CLOSED_FORM)
    provisions = notional * rate + notional * fee
    assert terms["funding_provision"] + terms["fee_provision"] == pytest.approx(
        provisions, rel=CLOSED_FORM
    )
    assert terms["initial"] == pytest.approx(3000.0 + provisions, rel=CLOSED_FORM)
    assert terms["maintenance"] == pytest.approx(1500.0 + provisions, rel=CLOSED_FORM)
    charged = replace(engine, requirement="maintenance").margin_book(book, _market(spot))
    assert charged.cross.iloc[0] == pytest.approx(terms["maintenance"], rel=CLOSED_FORM)


def test_a_short_receiving_funding_has_no_funding_provision():
    book = Portfolio([Position(LinearPerpetual("BTC"), 1.0, "short")]).to_book()
    terms = ParadexEngine(funding_rates={"BTC": 1e-4}).requirements(book, _market())
    assert terms["funding_provision"].iloc[0] == 0.0


def test_min_delta_binds_for_a_delta_neutral_book_with_no_scan_loss():
    book = Portfolio(
        [Position(LinearPerpetual("BTC"), 1.0), Position(Spot("BTC"), 1.0, "short")]
    ).to_book()
    result = ParadexEngine().margin_book(book, _market(70_000.0))
    assert result.cross.iloc[0] == pytest.approx(0.01 * 1.0 * 70_000.0, rel=CLOSED_FORM)
    assert result.driver.iloc[0] == "BTC min delta"


def test_book_rows_equal_single_portfolios_and_isolated_is_each_position_alone():
    rng = np.random.default_rng(7)
    market = Market(
        spot={"BTC": 90_000.0, "ETH": 3_000.0},
        valuation_date="2026-01-01",
        volatility={"BTC": 0.5, "ETH": 0.7},
    )
    instruments = (
        LinearPerpetual("BTC"),
        LinearPerpetual("ETH"),
        EuropeanOption("BTC", 95_000.0, 20 / 365, "call"),
        EuropeanOption("ETH", 2_800.0, 60 / 365, "put"),
    )
    q = rng.normal(0, 2, (6, 4))
    book = PortfolioBook(instruments, pd_frame(q, [i.label for i in instruments]))
    engine = ParadexEngine()
    result = engine.margin_book(book, market)
    for name in book.quantities.index:
        single = engine.margin(book.portfolio(name), market)
        assert single.cross == pytest.approx(result.cross.loc[name], rel=1e-12)
        for label, value in single.isolated.items():
            alone = engine.margin(book.portfolio(name).subset([label]), market).cross
            assert value == pytest.approx(alone, rel=1e-12)


def pd_frame(values, columns):
    return pd.DataFrame(values, index=[f"p{k}" for k in range(len(values))], columns=columns)


def test_unknown_currency_names_the_position_and_asset_tables_map_it():
    market = Market(spot={"SOL": 150.0})
    book = Portfolio([Position(LinearPerpetual("SOL"), 10.0)]).to_book()
    with pytest.raises(UnknownUnderlyingError, match="SOL linear perp"):
        ParadexEngine().margin_book(book, market)
    mapped = ParadexEngine(asset_tables={"SOL": "HYPE"}).margin_book(book, market)
    assert mapped.cross.iloc[0] == pytest.approx(0.28 * 1500.0, rel=CLOSED_FORM)


def test_unsupported_instrument_and_expired_option_are_refused_by_name():
    class Bond:
        underlying = "BTC"
        label = "a bond"

        def pnl(self, market, spot, vol_shift=0.0):
            return spot * 0

        def greeks(self, market):
            raise AssertionError

    book = PortfolioBook((Bond(),), pd_frame([[1.0]], ["a bond"]))
    with pytest.raises(DataError, match="a bond"):
        ParadexEngine().margin_book(book, _market())
    expired = EuropeanOption("BTC", 70_000.0, "2025-12-01", name="old call")
    with pytest.raises(ExpiredInstrumentError, match="old call"):
        ParadexEngine().margin(Portfolio([Position(expired, 1.0)]), _market())


def test_negative_prices_are_refused():
    with pytest.raises(DataError, match="BTC"):
        Market(spot={"BTC": -1.0})


def _without(path, key):
    data = VenueParameters.load("paradex_2026-07-13").to_dict()
    node = data["values"]
    for p in path:
        node = node[p]
    del node[key]
    return VenueParameters.from_dict(data)


def test_missing_or_malformed_parameters_are_named():
    with pytest.raises(ParameterError, match="mmr_factor"):
        ParadexEngine(_without((), "mmr_factor"))
    with pytest.raises(ParameterError, match="assets.BTC.weight"):
        ParadexEngine(_without(("assets", "BTC"), "weight"))
    data = VenueParameters.load("paradex_2026-07-13").to_dict()
    data["values"]["assets"]["ETH"]["spot_shock"] = data["values"]["assets"]["ETH"]["spot_shock"][
        :23
    ]
    with pytest.raises(ParameterError, match="assets.ETH.spot_shock has 23"):
        ParadexEngine(VenueParameters.from_dict(data))
    with pytest.raises(ParameterError, match="taker_fee"):
        ParadexEngine(taker_fee=-0.1)
    with pytest.raises(ParameterError, match="XRP"):
        ParadexEngine(asset_tables={"SOL": "XRP"})


def test_compiled_scan_equals_a_dense_numpy_revaluation():
    rng = np.random.default_rng(5)
    market = Market(
        spot={"BTC": 90_000.0, "ETH": 3_000.0, "HYPE": 40.0},
        valuation_date="2026-01-01",
        volatility={"BTC": 0.5, "ETH": 0.7, "HYPE": 0.9},
    )
    instruments = (
        LinearPerpetual("BTC"),
        EuropeanOption("BTC", 95_000.0, 20 / 365, "call"),
        LinearPerpetual("ETH"),
        EuropeanOption("ETH", 2_800.0, 60 / 365, "put"),
        Spot("ETH"),
        LinearPerpetual("HYPE", 10.0),
    )
    q = rng.normal(0, 3, (40, len(instruments)))
    q[rng.random(q.shape) < 0.3] = 0.0
    book = PortfolioBook(instruments, pd_frame(q, [i.label for i in instruments]))
    engine = ParadexEngine(funding_rates={"BTC": 2e-4, "HYPE": -1e-4}, taker_fee=3e-4)
    terms = engine.requirements(book, market)
    # dense numpy revaluation, asset by asset
    units = [i.greeks(market) for i in instruments]
    scan, min_delta, net_initial = (np.zeros(len(q)) for _ in range(3))
    for asset in ("BTC", "ETH", "HYPE"):
        cols = [j for j, i in enumerate(instruments) if i.underlying == asset]
        table = engine._table_of(asset, "")
        pnl = sum(np.outer(q[:, j], engine._unit_pnl(instruments[j], market, table)) for j in cols)
        asset_scan = np.maximum(-pnl.min(axis=1), 0.0)
        deltas = np.column_stack([q[:, j] * units[j].delta for j in cols])
        factors = (0.03, 0.015) if asset == "HYPE" else (0.02, 0.01)
        asset_delta = min_delta_risk(
            deltas.sum(axis=1), np.abs(deltas).sum(axis=1), market.spot_of(asset), *factors
        )
        scan += asset_scan
        min_delta += asset_delta
        net_initial += np.maximum(asset_scan, asset_delta)
    notional = np.array([u.notional for u in units])
    funding = np.maximum(q @ (notional * np.array([2e-4, 0, 0, 0, 0, -1e-4])), 0.0)
    fee = np.abs(q) @ (3e-4 * np.abs(notional))
    for column, expected in (
        ("scan", scan),
        ("min_delta", min_delta),
        ("net_initial", net_initial),
        ("funding_provision", funding),
        ("fee_provision", fee),
    ):
        assert terms[column].to_numpy() == pytest.approx(expected, rel=1e-12, abs=1e-9), column
