"""Absurd inputs to the margin engines (issue 13, item 8): the package's own errors naming the
engine, portfolio, instrument and value, or a correct finite margin; never NaN or inf."""

import math

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError, NotPositiveDefiniteError, ParameterError
from research.margin import (
    CorrelationEngine,
    CrossAccount,
    FilteredHistoricalSimulation,
    OffsetPolicy,
    RiskWeightEngine,
    ewma_volatility,
    fhs_scenarios,
    position_pnl_paths,
)
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    LinearPerpetual,
    Market,
    Portfolio,
    PortfolioBook,
    Position,
    Scenarios,
)

from .conftest import RHO

CLOSED_FORM = 1e-12


def book_of(*holdings, name="p"):
    """One-portfolio book from (instrument, signed quantity) pairs."""
    instruments = tuple(i for i, _ in holdings)
    q = pd.DataFrame(
        [[q for _, q in holdings]], index=[name], columns=[i.label for i in instruments]
    )
    return PortfolioBook(instruments, q)


@pytest.mark.parametrize("quantity", [1e155, -1e300])  # squares overflow; the product overflows
def test_huge_quantity_is_refused_by_every_engine(engine, market, quantity):
    book = book_of((LinearPerpetual("BTC"), quantity), (LinearPerpetual("ETH"), 1.0))
    with pytest.raises(
        DataError, match=f"{engine.name} engine: holding .* x 'BTC linear perp' in "
    ):
        engine.margin_book(book, market)


def test_huge_price_is_refused_by_every_engine(engine, market):
    prices = market.spot.to_dict() | {"ETH": 1e300}
    huge = Market(prices, market.valuation_date, market.volatility, market.rate)
    book = book_of((LinearPerpetual("BTC"), 1.0), (LinearPerpetual("ETH"), -1.0))
    with pytest.raises(DataError, match="one unit of 'ETH linear perp' is worth 1e\\+300"):
        engine.margin_book(book, huge)


@pytest.mark.parametrize(
    "instrument,spot",
    [
        (LinearPerpetual("BTC", contract_size=1e300), 1e10),  # contract size x price = inf
        (DatedFuture("BTC", 1_000.0), 60_000.0),  # exp(carry x T) = inf
    ],
    ids=["contract_size", "carry_growth"],
)
def test_overflowing_notional_is_refused(engine, market, instrument, spot):
    overflow = Market({"BTC": spot, "ETH": 3_000.0}, market.valuation_date, carry={"BTC": 1.0})
    book = book_of((instrument, 1.0), (LinearPerpetual("ETH"), 1.0))
    with np.errstate(over="ignore"), pytest.raises(DataError, match="of one unit of .* is inf"):
        engine.margin_book(book, overflow)


def test_book_without_instruments_is_refused(engine, market):
    empty = PortfolioBook((), pd.DataFrame(index=["p"]))
    with pytest.raises(DataError, match=f"{engine.name} engine: the book has no instruments"):
        engine.margin_book(empty, market)


def test_book_without_portfolios_has_no_margins(engine, market):
    none = PortfolioBook((LinearPerpetual("BTC"),), pd.DataFrame(columns=["BTC linear perp"]))
    result = engine.margin_book(none, market)
    assert result.cross.empty and result.isolated.shape == (0, 1)


def test_tiny_prices_and_quantities_give_correct_finite_margins(market):
    tiny = Market({"BTC": 1e-300, "ETH": 3_000.0}, market.valuation_date)
    book = book_of((LinearPerpetual("BTC"), 1.0), (LinearPerpetual("ETH"), 1e-300))
    result = RiskWeightEngine({"BTC": 0.15, "ETH": 0.2}).margin_book(book, tiny)
    expected = [0.15 * 1e-300, 0.2 * 1e-300 * 3_000.0]
    np.testing.assert_allclose(result.isolated.loc["p"], expected, rtol=CLOSED_FORM)
    assert result.cross["p"] == pytest.approx(sum(expected), rel=CLOSED_FORM, abs=0.0)


@pytest.mark.parametrize(
    "engine_of,message",
    [
        (lambda: RiskWeightEngine({"BTC": 1e300, "ETH": 0.2}), "portfolio margin .* is 6e\\+304"),
        (
            lambda: CorrelationEngine({"BTC": 1e300, "ETH": 0.2}, RHO),
            "portfolio margin .* is 6e\\+304",
        ),
        (
            lambda: CorrelationEngine(
                {"BTC": 0.15, "ETH": 0.2}, RHO, concentration_threshold=1e-250
            ),
            "portfolio margin of portfolio 'p' is [0-9.]+e\\+1[0-9]{2} ",
        ),
    ],
    ids=["risk_weight", "correlation", "concentration"],
)
def test_absurd_parameters_give_a_parameter_error(market, engine_of, message):
    book = book_of((LinearPerpetual("BTC"), 1.0), (LinearPerpetual("ETH"), 1.0))
    engine = engine_of()
    with pytest.raises(ParameterError, match=f"{engine.name} engine: the {message}"):
        engine.margin_book(book, market)


def test_absurd_scenario_moves_are_refused(market):
    engine = FilteredHistoricalSimulation(
        Scenarios.from_array(np.full((200, 1), 1e300), ["BTC"], kind="relative"), level=0.99
    )
    book = book_of((LinearPerpetual("BTC"), -1.0))  # a short loses 6e304 in every scenario
    with pytest.raises(ParameterError, match="fhs engine: the portfolio margin of .* is 6e\\+304"):
        engine.margin_book(book, market)
    paths = np.full((2, 3, 1), 800.0)  # exp(800) overflows
    with pytest.raises(DataError, match="log move 800 of 'BTC' in scenario 0"):
        position_pnl_paths(
            Portfolio([Position(LinearPerpetual("BTC"), 1.0)]), market, paths, ["BTC"]
        )


@pytest.mark.parametrize(
    "matrix,error,message",
    [
        (pd.DataFrame(), DataError, "empty"),
        (
            pd.DataFrame([["1", "x"], ["x", "1"]], index=["BTC", "ETH"], columns=["BTC", "ETH"]),
            DataError,
            "non-numeric",
        ),
        (
            pd.DataFrame([[1.0, 0.5], [0.5, 1.0]], index=["BTC", "BTC"], columns=["BTC", "BTC"]),
            DataError,
            "unique; repeated: \\['BTC'\\]",
        ),
        (
            pd.DataFrame(
                [[1.0, 1e300], [1e300, 1.0]], index=["BTC", "ETH"], columns=["BTC", "ETH"]
            ),
            NotPositiveDefiniteError,
            "\\('BTC', 'ETH'\\) is 1e\\+300, outside \\[-1, 1\\]",
        ),
        (
            pd.DataFrame(
                [[1.0, np.nan], [np.nan, 1.0]], index=["BTC", "ETH"], columns=["BTC", "ETH"]
            ),
            DataError,
            "first: \\('BTC', 'ETH'\\) = nan",
        ),
    ],
    ids=["empty", "non_numeric", "duplicate_labels", "1e300", "nan"],
)
def test_bad_correlation_matrices(matrix, error, message):
    with pytest.raises(error, match=message):
        CorrelationEngine({"BTC": 0.15, "ETH": 0.2}, matrix)


def test_singular_correlation_gives_the_fully_netted_margin(market):
    ones = pd.DataFrame(np.ones((2, 2)), index=["BTC", "ETH"], columns=["BTC", "ETH"])
    engine = CorrelationEngine({"BTC": 0.15, "ETH": 0.2}, ones)
    book = book_of((LinearPerpetual("BTC"), 1.0), (LinearPerpetual("ETH"), -10.0))
    # rho = 1 everywhere: M = |WS_BTC + WS_ETH| = |0.15 * 60000 - 0.2 * 30000|
    assert engine.margin_book(book, market).cross["p"] == pytest.approx(3_000.0, rel=CLOSED_FORM)


@pytest.mark.parametrize(
    "weight", [1e-200, 1e-250]
)  # squares of the weighted sensitivity underflow
def test_tiny_risk_weights_are_not_lost_in_the_aggregation(market, weight):
    engine = CorrelationEngine({"BTC": weight, "ETH": weight}, RHO)
    book = book_of((LinearPerpetual("BTC"), 1.0), (LinearPerpetual("ETH"), 1.0))
    # sqrt(WS' rho WS) with WS = weight * (60000, 3000) and rho_BTC,ETH = 0.8
    ws = weight * np.array([60_000.0, 3_000.0])
    expected = ws[0] * math.sqrt(1.0 + 2 * 0.8 * (ws[1] / ws[0]) + (ws[1] / ws[0]) ** 2)
    margin = engine.margin_book(book, market).cross["p"]
    assert margin == pytest.approx(expected, rel=CLOSED_FORM, abs=0.0)


def test_at_the_money_option_at_zero_volatility_has_a_finite_delta_margin():
    flat = Market({"BTC": 60_000.0}, "2026-01-02", volatility={"BTC": 0.0}, rate=0.03)
    option = EuropeanOption("BTC", 60_000.0, 0.5)
    book = book_of((option, 2.0))
    engine = CorrelationEngine({"BTC": 0.1}, pd.DataFrame([[1.0]], ["BTC"], ["BTC"]))
    # delta -> 0.5 exp(-rT) as the volatility -> 0 at the money
    expected = 0.1 * 2.0 * 0.5 * math.exp(-0.03 * 0.5) * 60_000.0
    assert engine.margin_book(book, flat).cross["p"] == pytest.approx(expected, rel=CLOSED_FORM)
    delta_basis = RiskWeightEngine({"BTC": 0.1}, basis="delta").margin_book(book, flat)
    assert delta_basis.cross["p"] == pytest.approx(expected, rel=CLOSED_FORM)


@pytest.fixture
def returns() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2024-01-01", periods=80)
    return pd.DataFrame(rng.normal(0.0, 1.0, (80, 2)), index=index, columns=["BTC", "ETH"])


@pytest.mark.parametrize("value", [1e300, np.inf])
def test_absurd_returns_are_named_by_asset_and_date(returns, value):
    returns.iloc[40, 1] = value
    day = returns.index[40]
    with pytest.raises(DataError, match=f"'ETH'.* on {day}"):
        fhs_scenarios(returns, 5)
    with pytest.raises(DataError, match=f"'ETH'.* on {day}"):
        ewma_volatility(returns)


def test_infinite_volatility_does_not_zero_the_scenarios(returns):
    sigma = returns.abs() + 1.0
    sigma.iloc[10, 0] = np.inf
    with pytest.raises(DataError, match=f"volatility of 'BTC' on {returns.index[10]} is inf"):
        fhs_scenarios(returns, 5, volatility=sigma)
    with pytest.raises(DataError, match="current volatility of 'ETH' is inf"):
        fhs_scenarios(returns, 5, current=pd.Series({"BTC": 1.0, "ETH": np.inf}))


def test_offset_policy_refuses_non_finite_margins():
    with pytest.raises(DataError, match="cross margin of portfolio 1 is nan"):
        OffsetPolicy().apply(np.array([10.0, 10.0]), np.array([5.0, np.nan]))


def test_account_inputs_are_named():
    with pytest.raises(ParameterError, match="collateral is inf"):
        CrossAccount(np.inf, 1.0)
    result = RiskWeightEngine({"BTC": 0.15}).margin(
        Portfolio([Position(LinearPerpetual("BTC"), 1.0)]), Market({"BTC": 60_000.0})
    )
    with pytest.raises(ParameterError, match="buffer is nan"):
        CrossAccount.from_margin(result, buffer=np.nan)
