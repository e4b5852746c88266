"""Parameter recovery on simulated DCC-GARCH data with known parameters.

Each case simulates T = 3,000 days of N assets from ``_dcc_simulator`` (seeded) and checks
|theta_hat - theta| <= 4 se for every correlation parameter, se being our two-step sandwich
standard error (STYLE 4.4: the tolerance is the estimator's own sampling error). With
about 15 parameter checks in total the chance of any false failure is < 0.1 %.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from research.correlation import DCC

_spec = importlib.util.spec_from_file_location(
    "_dcc_simulator", Path(__file__).with_name("_dcc_simulator.py")
)
_sim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sim)
simulate_dcc_garch = _sim.simulate_dcc_garch

#: Recovery tolerance in standard errors.
N_SE = 4.0
T_OBS = 3000

CASES = [
    ("dcc", {"a": 0.05, "b": 0.90}, 5, 11, "normal", "full"),
    ("dcc", {"a": 0.05, "b": 0.90}, 5, 12, "normal", "full"),
    ("cdcc", {"a": 0.05, "b": 0.90}, 5, 13, "normal", "full"),
    ("cdcc", {"a": 0.04, "b": 0.93}, 5, 14, "normal", "full"),
    ("adcc", {"a": 0.03, "b": 0.90, "g": 0.06}, 5, 15, "normal", "full"),
    ("adcc", {"a": 0.03, "b": 0.90, "g": 0.06}, 5, 16, "normal", "full"),
    ("dcc", {"a": 0.05, "b": 0.90, "nu": 8.0}, 5, 17, "t", "full"),
    ("dcc", {"a": 0.05, "b": 0.90}, 8, 18, "normal", "composite-all"),
    ("dcc", {"a": 0.05, "b": 0.90}, 8, 19, "normal", "composite-adjacent"),
]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[4]}-{c[5]}-seed{c[3]}")
def case(request):
    kind, truth, n_assets, seed, dist, estimation = request.param
    nu = truth.get("nu")
    returns = simulate_dcc_garch(kind, truth, n_assets, T_OBS, seed, nu=nu)
    res = DCC(kind=kind, distribution=dist, estimation=estimation).fit(returns)
    return truth, res


def test_estimates_within_sampling_error(case):
    truth, res = case
    for name, value in truth.items():
        se = res.std_errors[name]
        assert np.isfinite(se) and se > 0
        assert abs(res.params[name] - value) <= N_SE * se, (name, res.params[name], value, se)


def test_converged(case):
    _, res = case
    assert res.converged
    assert res.optimization.success
