"""The crypto venue studies' books (research.backtest.portfolios.crypto_books)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from research.backtest.portfolios import crypto_books
from research.errors import DataError, SpecificationError, UnknownUnderlyingError
from research.portfolio import EuropeanOption, LinearPerpetual, Spot

EXACT = 1e-12
"""Closed forms and identities: agreement to rounding."""

ASSETS = ["BTC", "ETH", "SOL"]


@pytest.fixture(scope="module")
def hourly() -> pd.DataFrame:
    """Percent log returns on the 24/7 hourly calendar, volatility 0.5, 0.7 and 1 per hour."""
    rng = np.random.default_rng(1)
    index = pd.date_range("2025-09-01", periods=300, freq="h", tz="UTC", name="date")
    values = rng.standard_normal((300, 3)) * [0.5, 0.7, 1.0]
    return pd.DataFrame(values, index=index, columns=ASSETS)


def _ewma_forecast(r: np.ndarray, decay: float = 0.94) -> np.ndarray:
    """Plain RiskMetrics recursion seeded by the mean square of the first 30 returns."""
    var = np.mean(r[:30] ** 2, axis=0)
    for row in r:
        var = decay * var + (1 - decay) * row**2
    return np.sqrt(var)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def test_the_families_hold_the_documented_notionals(hourly):
    books = crypto_books(hourly, 2.0, n_options=0, n_random=0)
    assert list(books) == ["BTC/ETH perps long-short", "perps long-short", "perp hedged by spot"]
    pair = books["BTC/ETH perps long-short"]
    assert pair.instruments == (LinearPerpetual("BTC"), LinearPerpetual("ETH"))
    np.testing.assert_array_equal(pair.quantities.to_numpy(), [[2, -2], [2, -1], [1, -2]])
    assert list(pair.quantities.index) == ["BTC-ETH 1", "BTC-ETH 2", "BTC-ETH 3"]
    long_short = books["perps long-short"].quantities
    np.testing.assert_array_equal(long_short.to_numpy(), [[2, -2, 0], [2, 0, -2], [0, 2, -2]])
    hedge = books["perp hedged by spot"]
    assert hedge.instruments[:2] == (Spot("BTC"), LinearPerpetual("BTC"))
    np.testing.assert_array_equal(
        hedge.quantities.to_numpy(),
        [[2, -2, 0, 0, 0, 0], [0, 0, 2, -2, 0, 0], [0, 0, 0, 0, 2, -2]],
    )


def test_options_carry_the_ewma_proxy_and_are_delta_hedged_with_the_perpetual(hourly):
    books = crypto_books(hourly, 1e6, n_options=5, n_random=0, iv_premium=0.2, tenor=0.1)
    book = books["options hedged with perps"]
    proxy = _ewma_forecast(hourly.to_numpy()) / 100 * math.sqrt(24 * 365) * 1.2
    options = [i for i in book.instruments if isinstance(i, EuropeanOption)]
    assert [(o.underlying, o.kind, o.strike) for o in options] == [
        ("BTC", "call", 0.9),
        ("ETH", "put", 0.9),
        ("SOL", "call", 0.9),
        ("BTC", "put", 1.0),
        ("ETH", "call", 1.0),
    ]
    for k, (name, row) in enumerate(book.quantities.iterrows()):
        option = options[k]
        sigma = proxy[ASSETS.index(option.underlying)]
        assert option.implied_vol == pytest.approx(sigma, rel=EXACT)
        d1 = (-math.log(option.strike) + 0.5 * sigma**2 * 0.1) / (sigma * math.sqrt(0.1))
        delta = _normal_cdf(d1) - (option.kind == "put")
        assert row[option.label] == 1e6, name
        perp = LinearPerpetual(option.underlying).label
        assert row[perp] == pytest.approx(-delta * 1e6, rel=1e-9), name
        assert row.drop([option.label, perp]).eq(0).all(), name


def test_random_books_follow_the_seed_and_empty_families_are_left_out(hourly):
    first = crypto_books(hourly, n_options=0, n_random=4, seed=3)["random perps"]
    again = crypto_books(hourly, n_options=0, n_random=4, seed=3)["random perps"]
    other = crypto_books(hourly, n_options=0, n_random=4, seed=4)["random perps"]
    pd.testing.assert_frame_equal(first.quantities, again.quantities)
    assert not np.allclose(first.quantities, other.quantities)
    expected = np.random.default_rng(3).normal(0, 1e6, (4, 3))
    np.testing.assert_allclose(first.quantities.to_numpy(), expected, rtol=EXACT)
    one = crypto_books(hourly[["BTC", "ETH"]], n_options=0, n_random=0)
    assert list(one) == ["BTC/ETH perps long-short", "perps long-short", "perp hedged by spot"]
    assert len(one["perps long-short"].quantities) == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"pair": ("BTC", "DOGE")}, UnknownUnderlyingError, "DOGE"),
        ({"pair": ("BTC", "BTC")}, SpecificationError, "two different"),
        ({"notional": 0.0}, SpecificationError, "notional"),
        ({"n_options": -1}, SpecificationError, "n_options"),
        ({"n_random": 1.5}, SpecificationError, "n_random"),
        ({"iv_premium": -1.0}, SpecificationError, "iv_premium"),
    ],
)
def test_bad_specifications_are_named(hourly, kwargs, error, match):
    with pytest.raises(error, match=match):
        crypto_books(hourly, **kwargs)


def test_bad_returns_are_named(hourly):
    with pytest.raises(DataError, match="at least one underlying"):
        crypto_books(hourly.iloc[:0])
    broken = hourly.copy()
    broken.iloc[5, 1] = np.nan
    with pytest.raises(DataError, match="ETH"):
        crypto_books(broken)
