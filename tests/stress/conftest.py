"""Seeded simulated return panels with known calm and stress correlations."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

ASSETS = ["a", "b", "c", "d"]
CALM_CORR = np.array(
    [
        [1.0, 0.5, 0.3, -0.4],
        [0.5, 1.0, 0.4, -0.2],
        [0.3, 0.4, 1.0, 0.1],
        [-0.4, -0.2, 0.1, 1.0],
    ]
)
STRESS_CORR = np.array(
    [
        [1.0, 0.85, 0.7, 0.1],
        [0.85, 1.0, 0.75, 0.05],
        [0.7, 0.75, 1.0, 0.3],
        [0.1, 0.05, 0.3, 1.0],
    ]
)
STRESS_START, STRESS_END = pd.Timestamp("2020-02-20"), pd.Timestamp("2020-04-07")
STRESS_VOL_MULTIPLIER = 3.0


def simulate_regimes(seed: int, n_obs: int = 1000) -> pd.DataFrame:
    """Gaussian returns (percent) with CALM_CORR, and STRESS_CORR x3 vol inside the stress dates."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2018-06-01", periods=n_obs)
    stress = (index >= STRESS_START) & (index <= STRESS_END)
    calm_draw = rng.standard_normal((n_obs, 4)) @ np.linalg.cholesky(CALM_CORR).T
    stress_draw = rng.standard_normal((n_obs, 4)) @ np.linalg.cholesky(STRESS_CORR).T
    values = np.where(stress[:, None], STRESS_VOL_MULTIPLIER * stress_draw, calm_draw)
    return pd.DataFrame(values, index=index, columns=ASSETS)


@pytest.fixture(scope="session")
def regimes() -> pd.DataFrame:
    return simulate_regimes(11)


# A correlation matrix out of any estimator is PSD up to LAPACK rounding (see PSD_TOLERANCE).
EIG_TOL = 1e-10


def _assert_correlation_matrix(matrix: pd.DataFrame, eig_tol: float = EIG_TOL) -> None:
    """Symmetric, unit diagonal, entries in [-1, 1], smallest eigenvalue >= -eig_tol."""
    values = matrix.to_numpy()
    assert list(matrix.index) == list(matrix.columns)
    np.testing.assert_array_equal(values, values.T)
    np.testing.assert_array_equal(np.diag(values), 1.0)
    assert np.abs(values).max() <= 1.0 + eig_tol
    assert np.linalg.eigvalsh(values)[0] >= -eig_tol


@pytest.fixture(scope="session")
def assert_correlation_matrix():
    """The checker every estimator output must pass."""
    return _assert_correlation_matrix


@pytest.fixture(scope="session")
def truth() -> SimpleNamespace:
    """The parameters behind the simulated panels."""
    return SimpleNamespace(
        assets=ASSETS,
        calm_corr=CALM_CORR,
        stress_corr=STRESS_CORR,
        stress_start=STRESS_START,
        stress_end=STRESS_END,
        vol_multiplier=STRESS_VOL_MULTIPLIER,
    )


@pytest.fixture(scope="session")
def simulate():
    """Factory of simulated regime panels: simulate(seed, n_obs=1000)."""
    return simulate_regimes
