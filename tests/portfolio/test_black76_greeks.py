"""The one-pass Black-76 Greeks are the four single Greeks, bit for bit (zero volatility too)."""

from __future__ import annotations

import numpy as np
import pytest

from research.portfolio import _black76


@pytest.mark.parametrize("seed", range(3))
def test_one_pass_greeks_are_the_single_greeks(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    forward, strike = rng.uniform(0.5, 2.0, n), rng.uniform(0.5, 2.0, n)
    expiry, rate = rng.uniform(0.01, 2.0, n), rng.uniform(-0.02, 0.1, n)
    vol = np.where(rng.random(n) < 0.1, 0.0, rng.uniform(0.0, 1.5, n))
    strike[:10] = forward[:10]  # at the money, where the zero-volatility gamma is infinite
    is_call = rng.random(n) < 0.5
    args = (forward, strike, expiry, vol, rate)
    expected = (
        _black76.delta_forward(*args, is_call),
        _black76.gamma_forward(*args),
        _black76.vega(*args),
        _black76.dvalue_dexpiry(*args, is_call),
    )
    for got, want in zip(_black76.greeks(*args, is_call), expected, strict=True):
        np.testing.assert_array_equal(got, want)
