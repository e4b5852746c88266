"""CME SPAN worked examples (venues.md section 5.3): EX-SPAN-1 and EX-SPAN-2, exact.

Source: https://cmegroup.com/clearing/margins/spread-calc.html [P]. The examples give outright
margins, not prices, so each contract is built with a price and a price scan range whose scan
risk (``range x price``, the loss at -1 range) is the published outright margin: prices are
multiples of 4 and the ranges 0.25, so every product is exact in binary floating point.
"""

import pytest

from research.errors import ParameterError
from research.margin import IntraSpread, ScenarioGridEngine, SpreadCredit
from research.portfolio import DatedFuture, Market, Portfolio, Position

SCAN = 0.25


def test_ex_span_1_inter_commodity_credit_each_leg():
    # Corn vs soybeans 2:1 at 55%: outright corn 1,750 and soybeans 2,500 per contract
    market = Market(spot={"CORN": 7_000.0, "SOY": 10_000.0})
    corn, soy = DatedFuture("CORN", 0.25), DatedFuture("SOY", 0.25)
    spread = Portfolio([Position(corn, 2.0), Position(soy, 1.0, "short")], name="spread")
    engine = ScenarioGridEngine(
        {"CORN": SCAN, "SOY": SCAN},
        spreads=[SpreadCredit("CORN", "SOY", 0.55, 2.0, 1.0, basis="each leg")],
    )
    outright = ScenarioGridEngine({"CORN": SCAN, "SOY": SCAN}).margin(spread, market)
    assert outright.cross == 6_000.0
    assert outright.isolated.tolist() == [3_500.0, 2_500.0]
    result = engine.margin(spread, market)
    assert outright.cross - result.cross == 3_300.0
    assert result.cross == 2_700.0


def test_ex_span_1_smaller_leg_basis_differs():
    # the package's default SPAN basis credits 55% of the smaller leg only
    market = Market(spot={"CORN": 7_000.0, "SOY": 10_000.0})
    spread = Portfolio(
        [Position(DatedFuture("CORN", 0.25), 2.0), Position(DatedFuture("SOY", 0.25), 1.0, "short")]
    )
    engine = ScenarioGridEngine(
        {"CORN": SCAN, "SOY": SCAN}, spreads=[SpreadCredit("CORN", "SOY", 0.55, 2.0, 1.0)]
    )
    assert engine.margin(spread, market).cross == 6_000.0 - 0.55 * 2_500.0


# EX-SPAN-2: months 2/3/4 with outright margins 500/500/750; tier charges 2v3 200, 2v4 50, 3v4 0
MONTHS = {
    "M2": DatedFuture("GRAIN", 2 / 12, name="M2"),
    "M3": DatedFuture("GRAIN", 3 / 12, name="M3"),
    "M4": DatedFuture("GRAIN", 4 / 12, contract_size=1.5, name="M4"),
}
INTRA = [
    IntraSpread("M2", "M3", 200.0),
    IntraSpread("M2", "M4", 50.0),
    IntraSpread("M3", "M4", 0.0),
]
GRAIN = Market(spot={"GRAIN": 2_000.0})


@pytest.mark.parametrize(
    ("long", "short", "expected"), [("M2", "M3", 200.0), ("M2", "M4", 300.0), ("M3", "M4", 250.0)]
)
def test_ex_span_2_intra_commodity_spreads(long, short, expected):
    engine = ScenarioGridEngine({"GRAIN": SCAN}, intra_spreads=INTRA)
    p = Portfolio([Position(MONTHS[long], 1.0), Position(MONTHS[short], 1.0, "short")])
    result = engine.margin(p, GRAIN)
    outrights = {"M2": 500.0, "M3": 500.0, "M4": 750.0}
    assert result.isolated.tolist() == [outrights[long], outrights[short]]
    assert result.cross == expected


def test_intra_spreads_form_in_priority_order_and_consume_quantities():
    # +2 M2 against -1 M3 and -1 M4: 2v3 first (200), then 2v4 (50) plus the scan of the rest
    engine = ScenarioGridEngine({"GRAIN": SCAN}, intra_spreads=INTRA)
    p = Portfolio(
        [
            Position(MONTHS["M2"], 2.0),
            Position(MONTHS["M3"], 1.0, "short"),
            Position(MONTHS["M4"], 1.0, "short"),
        ]
    )
    # net risk array: 2 x 500 - 500 - 750 = -250 per range -> scan 250 (up move)
    assert engine.margin(p, GRAIN).cross == 250.0 + 200.0 + 50.0
    reversed_priority = [
        IntraSpread("M2", "M4", 50.0, priority=0),
        IntraSpread("M2", "M3", 200.0, priority=1),
    ]
    engine = ScenarioGridEngine({"GRAIN": SCAN}, intra_spreads=reversed_priority)
    assert engine.margin(p, GRAIN).cross == 250.0 + 50.0 + 200.0
    same_side = Portfolio([Position(MONTHS["M2"], 1.0), Position(MONTHS["M3"], 1.0)])
    assert engine.margin(same_side, GRAIN).cross == 1_000.0


def test_extreme_multiple_and_cover_are_parameters():
    # a long future: extreme loss = fraction x multiple x range x price; 0.35 x 3 > 1 range
    p = Portfolio([Position(MONTHS["M2"], 1.0)])
    cme = ScenarioGridEngine({"GRAIN": 0.125}, extreme_multiple=3.0, extreme_fraction=0.35)
    nsccl = ScenarioGridEngine({"GRAIN": 0.125}, extreme_multiple=2.0, extreme_fraction=0.35)
    full = ScenarioGridEngine({"GRAIN": 0.125}, extreme_multiple=3.0, extreme_fraction=1.0)
    assert cme.margin(p, GRAIN).cross == pytest.approx(0.35 * 3 * 250.0, rel=1e-15)
    assert cme.margin(p, GRAIN).driver == "GRAIN scenario 16"
    assert nsccl.margin(p, GRAIN).cross == 250.0
    assert full.margin(p, GRAIN).cross == 750.0


def test_bad_spread_definitions():
    with pytest.raises(ParameterError, match="basis"):
        SpreadCredit("CORN", "SOY", 0.55, basis="both")
    with pytest.raises(ParameterError, match="two different legs"):
        IntraSpread("M2", "M2", 10.0)
    with pytest.raises(ParameterError, match="charge of M2/M3 is -1"):
        IntraSpread("M2", "M3", -1.0)
