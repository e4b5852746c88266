"""The t copula's fast quantiles: closed forms, scipy's stdtrit, and the Hermite kernel."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from research.correlation import _kernels as kern
from research.correlation.copula import copula_residuals, student_quantiles


def _uniforms() -> np.ndarray:
    rng = np.random.default_rng(3)
    u = np.concatenate(
        [
            special.ndtr(rng.uniform(-8.3, 8.3, 20_000)),
            0.5 + rng.uniform(-1e-3, 1e-3, 500),
            np.logspace(-16.5, -1.0, 500),
            1.0 - np.logspace(-12.0, -1.0, 500),
        ]
    )
    return u[(u > 0.0) & (u < 1.0)]


def test_odd_quintic_hermite_reproduces_an_odd_quintic() -> None:
    step = 0.25
    nodes = np.arange(9) * step
    values, slopes, curves = (
        nodes**5 - 2.0 * nodes**3 + nodes,
        5.0 * nodes**4 - 6.0 * nodes**2 + 1.0,
        20.0 * nodes**3 - 12.0 * nodes,
    )
    x = np.linspace(-2.0, 2.0, 101)
    out = np.empty_like(x)
    kern.odd_quintic_hermite(x, step, values, slopes, curves, out)
    np.testing.assert_allclose(out, x**5 - 2.0 * x**3 + x, rtol=0.0, atol=1e-13)


def test_student_quantiles_match_closed_forms() -> None:
    u = _uniforms()
    lower = u[u < 0.5]
    # nu = 1: the Cauchy quantile, -cot(pi u) (exact in the lower tail); the heaviest tail,
    # below the copula's nu range, is the hardest case for the interpolation: 1e-11
    cauchy = -1.0 / np.tan(np.pi * lower)
    np.testing.assert_allclose(student_quantiles(lower, 1.0), cauchy, rtol=1e-11)
    # nu = 2: (2u - 1) / sqrt(2 u (1 - u))
    closed = (2.0 * u - 1.0) / np.sqrt(2.0 * u * (1.0 - u))
    np.testing.assert_allclose(student_quantiles(u, 2.0), closed, rtol=1e-12, atol=1e-15)
    # nu = 4: 2 sign(u - 1/2) sqrt(q - 1), q = cos(arccos(sqrt(a)) / 3) / sqrt(a), a = 4u(1-u)
    away = u[np.abs(u - 0.5) > 0.01]
    a = 4.0 * away * (1.0 - away)
    q = np.cos(np.arccos(np.sqrt(a)) / 3.0) / np.sqrt(a)
    four = 2.0 * np.sign(away - 0.5) * np.sqrt(q - 1.0)
    # (the closed form loses ~1e-14 absolute near the median: arccos near 0)
    np.testing.assert_allclose(student_quantiles(away, 4.0), four, rtol=1e-13, atol=5e-14)


@pytest.mark.parametrize("nu", [2.1, 2.5, 3.3, 6.0, 15.0, 55.0, 200.0])
def test_student_quantiles_match_stdtrit(nu: float) -> None:
    u = _uniforms()
    expected = special.stdtrit(nu, u)
    ours = student_quantiles(u.reshape(-1, 1), nu, special.ndtri(u).reshape(-1, 1))
    assert ours.shape == (len(u), 1)
    scale = np.maximum(1.0, np.abs(expected))
    assert np.max(np.abs(ours[:, 0] - expected) / scale) < 5e-13


def test_off_grid_and_non_finite_uniforms_go_to_stdtrit() -> None:
    u = np.array([1e-30, 1e-300, 0.0, 1.0, np.nan, 0.3])
    np.testing.assert_array_equal(student_quantiles(u, 5.0)[:5], special.stdtrit(5.0, u[:5]))
    assert student_quantiles(u, 5.0)[5] == pytest.approx(special.stdtrit(5.0, 0.3), rel=1e-13)
    y = copula_residuals(u[5:].reshape(1, 1), "t", 5.0)
    assert y[0, 0] == pytest.approx(special.stdtrit(5.0, 0.3) * np.sqrt(3.0 / 5.0), rel=1e-13)
