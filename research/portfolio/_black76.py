"""Black (1976) prices and Greeks of European options on a forward, vectorised over numpy arrays.

All functions broadcast their array arguments. ``is_call`` is a boolean (array); ``rate`` is the
continuously compounded discount rate and ``expiry`` the year fraction to expiry (> 0).
Greeks are with respect to the forward ``F`` (delta, gamma), the volatility (vega, per 1.00 of
volatility) and the time to expiry (``dV/dT`` at fixed forward).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from research._typing import Float64Array

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _d1_d2(forward, strike, expiry, vol):
    """``d1`` and ``d2``; at zero volatility their limits (+inf/-inf in/out of the money, 0 at)."""
    sd = vol * np.sqrt(expiry)
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = (np.log(forward / strike) + 0.5 * sd * sd) / sd
    limit = np.where(forward > strike, np.inf, np.where(forward < strike, -np.inf, 0.0))
    d1 = np.where(sd > 0, d1, limit)
    return d1, d1 - sd


def price(forward, strike, expiry, vol, rate, is_call) -> Float64Array:
    """Black-76 premium ``exp(-rT) w [F N(w d1) - K N(w d2)]``, ``w = 1`` (call) or ``-1`` (put)."""
    d1, d2 = _d1_d2(forward, strike, expiry, vol)
    return _price(d1, d2, forward, strike, expiry, vol, rate, is_call)


def _price(d1, d2, forward, strike, expiry, vol, rate, is_call) -> Float64Array:
    w = np.where(is_call, 1.0, -1.0)
    undiscounted = w * (forward * ndtr(w * d1) - strike * ndtr(w * d2))
    # zero volatility: the discounted intrinsic value of the forward
    intrinsic = np.maximum(w * (forward - strike), 0.0)
    undiscounted = np.where(vol * np.sqrt(expiry) > 0, undiscounted, intrinsic)
    return np.exp(-rate * expiry) * undiscounted


def delta_forward(forward, strike, expiry, vol, rate, is_call) -> Float64Array:
    """``dV/dF = exp(-rT) N(d1)`` for calls and ``exp(-rT) (N(d1) - 1)`` for puts."""
    d1, _ = _d1_d2(forward, strike, expiry, vol)
    return np.exp(-rate * expiry) * (ndtr(d1) - np.where(is_call, 0.0, 1.0))


def gamma_forward(forward, strike, expiry, vol, rate) -> Float64Array:
    """``d2V/dF2 = exp(-rT) phi(d1) / (F vol sqrt(T))`` (calls and puts alike).

    At zero volatility the payoff's kink gives 0 away from the strike and +inf at it.
    """
    d1, _ = _d1_d2(forward, strike, expiry, vol)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    sd = vol * np.sqrt(expiry)
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = pdf / (forward * sd)
    gamma = np.where(sd > 0, gamma, np.where(d1 == 0, np.inf, 0.0))
    return np.exp(-rate * expiry) * gamma


def vega(forward, strike, expiry, vol, rate) -> Float64Array:
    """``dV/dvol = exp(-rT) F phi(d1) sqrt(T)`` per 1.00 of volatility."""
    d1, _ = _d1_d2(forward, strike, expiry, vol)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    return np.exp(-rate * expiry) * forward * pdf * np.sqrt(expiry)


def dvalue_dexpiry(forward, strike, expiry, vol, rate, is_call) -> Float64Array:
    """``dV/dT`` at a fixed forward: ``-r V + exp(-rT) F phi(d1) vol / (2 sqrt(T))``."""
    d1, _ = _d1_d2(forward, strike, expiry, vol)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    value = price(forward, strike, expiry, vol, rate, is_call)
    return -rate * value + np.exp(-rate * expiry) * forward * pdf * vol / (2.0 * np.sqrt(expiry))


def greeks(forward, strike, expiry, vol, rate, is_call) -> tuple[Float64Array, ...]:
    """``(delta_forward, gamma_forward, vega, dvalue_dexpiry)`` from one ``d1``/``d2``.

    The same numbers, bit for bit, as the four functions above, which each recompute ``d1``.
    """
    d1, d2 = _d1_d2(forward, strike, expiry, vol)
    discount = np.exp(-rate * expiry)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    sd = vol * np.sqrt(expiry)
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = pdf / (forward * sd)
    gamma = np.where(sd > 0, gamma, np.where(d1 == 0, np.inf, 0.0))
    value = _price(d1, d2, forward, strike, expiry, vol, rate, is_call)
    return (
        discount * (ndtr(d1) - np.where(is_call, 0.0, 1.0)),
        discount * gamma,
        discount * forward * pdf * np.sqrt(expiry),
        -rate * value + discount * forward * pdf * vol / (2.0 * np.sqrt(expiry)),
    )
