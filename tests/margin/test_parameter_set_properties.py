"""Property-based tests of the parameter-set engine (hypothesis): random sets, books and markets.

Promised for every valid set and book: finite non-negative margins, homogeneity of degree one,
cross margin at most the within-underlying netted margin (so at most the sum of isolated) and at
least ``(1 - offset cap)`` of it, no cross-underlying offset for one underlying, and each
portfolio margined on its own.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research.calibration import MarginParameters
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    InversePerpetual,
    LinearPerpetual,
    Market,
    PortfolioBook,
    Spot,
)

UNDERLYINGS = ("BTC", "ETH", "SOL")
PAIRS = list(combinations(UNDERLYINGS, 2))
ROUNDING = 1e-9
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def cases(draw):
    cap = draw(st.floats(0.0, 1.0))
    credited = draw(st.lists(st.sampled_from(PAIRS), unique=True, max_size=3))
    credits = {pair: draw(st.floats(0.0, cap)) for pair in credited}
    directions = {pair: draw(st.sampled_from(["opposite", "same"])) for pair in credited}
    params = MarginParameters(
        level=0.99,
        mpor=2,
        lookback=250,
        as_of="2026-01-02",
        risk_weights={u: draw(st.floats(1e-4, 2.0)) for u in UNDERLYINGS},
        offset_credits=credits,
        offset_directions=directions,
        offset_cap=cap,
        offset_hedge=draw(st.sampled_from(["equal_risk", "equal_notional"])),
    )
    market = Market(
        {u: draw(st.floats(0.01, 1e5)) for u in UNDERLYINGS},
        "2026-01-02",
        volatility={u: draw(st.floats(0.05, 2.0)) for u in UNDERLYINGS},
    )
    kinds = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["spot", "linear", "inverse", "future", "call", "put"]),
                st.sampled_from(UNDERLYINGS),
            ),
            min_size=1,
            max_size=6,
        )
    )
    instruments = []
    for k, (kind, u) in enumerate(kinds):
        name = f"{k} {u} {kind}"
        spot = market.spot_of(u)
        if kind == "spot":
            instruments.append(Spot(u, name=name))
        elif kind == "linear":
            instruments.append(LinearPerpetual(u, name=name))
        elif kind == "inverse":
            instruments.append(InversePerpetual(u, name=name))
        elif kind == "future":
            instruments.append(DatedFuture(u, 0.25, name=name))
        else:
            strike = spot * draw(st.floats(0.5, 1.5))
            instruments.append(EuropeanOption(u, strike, 0.25, kind, name=name))
    n = draw(st.integers(1, 5))
    q = draw(
        st.lists(
            st.lists(st.floats(-1e3, 1e3), min_size=len(kinds), max_size=len(kinds)),
            min_size=n,
            max_size=n,
        )
    )
    book = PortfolioBook(
        tuple(instruments),
        pd.DataFrame(
            np.array(q),
            index=[f"p{i}" for i in range(n)],
            columns=[i.label for i in instruments],
        ),
    )
    return params, book, market


def _netted(params: MarginParameters, book: PortfolioBook, market: Market) -> pd.Series:
    """Margin netted within each underlying only: the same set without credits."""
    plain = replace(params, offset_credits={}, offset_directions={})
    return plain.engine().margin_book(book, market).cross


@PROPERTY_SETTINGS
@given(cases())
def test_margins_finite_bounded_by_netting_and_the_cap(case):
    params, book, market = case
    res = params.engine().margin_book(book, market)
    netted = _netted(params, book, market)
    gross = res.sum_isolated
    slack = ROUNDING * (1.0 + gross)
    assert np.isfinite(res.cross).all() and (res.cross >= -slack).all()
    assert (res.cross <= netted + slack).all()
    assert (netted <= gross + slack).all()
    assert (res.cross >= (1.0 - params.offset_cap) * netted - slack).all()
    assert (res.portfolio_margin == res.cross).all()  # no policy: the set's credits are the cap


@PROPERTY_SETTINGS
@given(cases(), st.floats(0.01, 100.0))
def test_homogeneous_of_degree_one(case, factor):
    params, book, market = case
    scaled = PortfolioBook(book.instruments, book.quantities * factor)
    base = params.engine().margin_book(book, market).cross
    np.testing.assert_allclose(
        params.engine().margin_book(scaled, market).cross,
        factor * base,
        rtol=1e-9,
        atol=1e-9 * factor * (1.0 + base.abs().max()),
    )


@PROPERTY_SETTINGS
@given(cases())
def test_rows_are_independent_and_one_underlying_earns_no_credit(case):
    params, book, market = case
    engine = params.engine()
    res = engine.margin_book(book, market)
    for name in book.quantities.index:
        alone = PortfolioBook(book.instruments, book.quantities.loc[[name]])
        assert engine.margin_book(alone, market).cross.iloc[0] == res.cross[name]
    offsets = engine.pair_offsets(book, market)
    slack = ROUNDING * (1.0 + res.sum_isolated)
    assert (
        (offsets.sum(axis=1) - (_netted(params, book, market) - res.cross)).abs() <= slack
    ).all()
    u = book.instruments[0].underlying
    mask = [i.underlying == u for i in book.instruments]
    single = PortfolioBook(book.instruments, book.quantities * np.array(mask, dtype=float))
    assert (engine.pair_offsets(single, market).to_numpy() == 0.0).all()
