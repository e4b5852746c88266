"""Exceedance correlations and the bivariate-normal benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.errors import InsufficientDataError, SpecificationError
from research.stress import (
    exceedance_correlation,
    exceedance_curve,
    gaussian_exceedance_correlation,
)

# Same quantity computed two ways (different operation order): only floating-point
# rounding differs, far below 1e-12 for numbers of order one.
ROUNDING_TOL = 1e-12

# The benchmark is accurate to ~1e-13 and a 300 x 300 Gauss-Legendre rule on a smooth
# density to ~1e-14; 1e-10 leaves room for cancellation in the variance formulas.
QUADRATURE_TOL = 1e-10


def reference_by_2d_quadrature(rho: float, h: float) -> float:
    """corr(X, Y | X > h, Y > h) from a 2-D tensor Gauss-Legendre rule on the joint density.

    Independent of the implementation, which integrates conditional moments in one
    dimension: here the bivariate normal density itself is integrated over [h, h + 10]^2.
    """
    nodes, weights = np.polynomial.legendre.leggauss(300)
    x = 5.0 * nodes + h + 5.0
    w = 5.0 * weights
    xx, yy = np.meshgrid(x, x, indexing="ij")
    q2 = 1.0 - rho * rho
    density = np.exp(-(xx * xx - 2 * rho * xx * yy + yy * yy) / (2 * q2)) / (
        2 * np.pi * np.sqrt(q2)
    )
    mass = np.outer(w, w) * density
    m0, mx, my = mass.sum(), (mass * xx).sum(), (mass * yy).sum()
    mxx, myy, mxy = (mass * xx * xx).sum(), (mass * yy * yy).sum(), (mass * xx * yy).sum()
    vx, vy = mxx / m0 - (mx / m0) ** 2, myy / m0 - (my / m0) ** 2
    return (mxy / m0 - mx * my / m0**2) / np.sqrt(vx * vy)


@pytest.mark.parametrize(("rho", "h"), [(0.5, 0.0), (0.5, 1.0), (-0.3, 0.5), (0.9, 2.0)])
def test_benchmark_against_2d_quadrature(rho, h):
    assert gaussian_exceedance_correlation(rho, h, "upper") == pytest.approx(
        reference_by_2d_quadrature(rho, h), abs=QUADRATURE_TOL
    )


def test_benchmark_limits_and_symmetry():
    assert gaussian_exceedance_correlation(0.0, 1.0) == pytest.approx(0.0, abs=ROUNDING_TOL)
    assert gaussian_exceedance_correlation(1.0, 2.0) == 1.0
    assert np.isnan(gaussian_exceedance_correlation(-1.0, 0.5))
    for rho in (0.3, 0.8):
        assert gaussian_exceedance_correlation(rho, 0.7, "lower") == pytest.approx(
            gaussian_exceedance_correlation(rho, 0.7, "upper"), abs=ROUNDING_TOL
        )


@pytest.mark.parametrize("rho", [0.2, 0.5, 0.9])
def test_benchmark_declines_with_threshold(rho):
    values = [gaussian_exceedance_correlation(rho, h) for h in np.linspace(0.0, 3.0, 13)]
    assert np.all(np.diff(values) < 0)
    assert 0.0 < values[-1] < values[0] < rho


def test_benchmark_bad_arguments():
    with pytest.raises(SpecificationError, match="rho"):
        gaussian_exceedance_correlation(1.2, 1.0)
    with pytest.raises(SpecificationError, match="threshold"):
        gaussian_exceedance_correlation(0.5, -1.0)
    with pytest.raises(SpecificationError, match="tail"):
        gaussian_exceedance_correlation(0.5, 1.0, "left")


def test_simulated_normals_follow_the_benchmark():
    """Mean of R independent estimates within 4 standard errors (of that mean) of theory."""
    rho, n_obs, n_reps = 0.5, 20_000, 40
    rng = np.random.default_rng(2024)
    chol = np.linalg.cholesky([[1.0, rho], [rho, 1.0]])
    thresholds = (0.0, 0.5, 1.0, 1.5)
    estimates = {(t, tail): [] for t in thresholds for tail in ("lower", "upper")}
    for _ in range(n_reps):
        draws = rng.standard_normal((n_obs, 2)) @ chol.T
        frame = pd.DataFrame(
            draws, index=pd.date_range("2000-01-01", periods=n_obs), columns=["x", "y"]
        )
        curve = exceedance_curve(frame, thresholds, standardize=False)
        for row in curve.itertuples():
            estimates[(row.threshold, row.tail)].append(row.correlation)
    for (threshold, tail), values in estimates.items():
        values = np.asarray(values)
        se_of_mean = values.std(ddof=1) / np.sqrt(n_reps)
        expected = gaussian_exceedance_correlation(rho, threshold, tail)
        assert abs(values.mean() - expected) <= 4.0 * se_of_mean, (threshold, tail)


def test_matrix_entries_match_hand_selection(regimes):
    result = exceedance_correlation(regimes, 0.5, tail="lower", min_exceedances=20)
    z = (regimes - regimes.mean()) / regimes.std(ddof=1)
    both = (z["a"] < -0.5) & (z["b"] < -0.5)
    expected = np.corrcoef(z.loc[both, "a"], z.loc[both, "b"])[0, 1]
    assert result.info["exceedances"].loc["a", "b"] == both.sum()
    assert not result.repaired
    assert result.matrix.loc["a", "b"] == pytest.approx(expected, abs=ROUNDING_TOL)
    gaussian = result.info["gaussian"].loc["a", "b"]
    rho = z.corr().loc["a", "b"]
    assert gaussian == pytest.approx(gaussian_exceedance_correlation(rho, 0.5), abs=ROUNDING_TOL)
    assert result.method == "exceedance-lower" and result.info["threshold"] == 0.5


def test_matrix_bootstrap_band(regimes):
    result = exceedance_correlation(regimes, 0.0, tail="upper", n_boot=100, seed=3)
    assert result.band is not None and result.band.n_samples == 100
    assert np.all(result.band.lower.to_numpy() <= result.band.upper.to_numpy())


def test_too_few_exceedances(regimes):
    with pytest.raises(InsufficientDataError, match="joint lower-tail exceedances"):
        exceedance_correlation(regimes, 3.0)


def test_matrix_bad_arguments(regimes):
    with pytest.raises(SpecificationError, match="tail"):
        exceedance_correlation(regimes, 1.0, tail="both")
    with pytest.raises(SpecificationError, match="threshold"):
        exceedance_correlation(regimes, -1.0)


def test_curve_layout_and_nan_below_min(regimes):
    curve = exceedance_curve(regimes, (0.0, 2.5), pairs=[("a", "b")], min_exceedances=25)
    assert len(curve) == 4
    assert list(curve.columns) == [
        "asset_1",
        "asset_2",
        "tail",
        "threshold",
        "signed_threshold",
        "exceedances",
        "correlation",
        "gaussian",
    ]
    far = curve.loc[curve["threshold"] == 2.5]
    assert (far["exceedances"] < 25).all() and far["correlation"].isna().all()
    assert (curve.loc[curve["tail"] == "lower", "signed_threshold"] <= 0).all()
    with pytest.raises(SpecificationError, match="unknown assets"):
        exceedance_curve(regimes, pairs=[("a", "q")])
    with pytest.raises(SpecificationError, match="non-negative"):
        exceedance_curve(regimes, (-0.5,))
