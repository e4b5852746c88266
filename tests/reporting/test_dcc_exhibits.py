"""Exhibits of the DCC estimation study: comparison tables, LR tests, figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from research.correlation import DCC, compare, lr_tests
from research.errors import SpecificationError
from research.reporting.dcc_exhibits import (
    forecast_comparison,
    plot_correlation_fan,
    plot_pair_correlations,
    plot_portfolio_fan,
)

# the first forecast step is exact under both methods; the simulated one is a mean of
# identical values over the paths (rounding ~ paths * eps)
FIRST_STEP_TOL = 1e-10


@pytest.fixture(scope="module")
def fits():
    rng = np.random.default_rng(3)
    chol = np.linalg.cholesky(0.5 * np.eye(3) + 0.5)
    x = rng.standard_normal((600, 3)) @ chol.T
    returns = pd.DataFrame(
        x, index=pd.bdate_range("2018-01-01", periods=600), columns=["A", "B", "C"]
    )
    return {kind: DCC(kind=kind).fit(returns) for kind in ("ccc", "dcc", "adcc")}


def test_compare(fits):
    table = compare(fits)
    assert list(table.index) == ["ccc", "dcc", "adcc"]
    assert table.loc["dcc", "a"] == fits["dcc"].params["a"]
    assert table.loc["adcc", "se(g)"] == fits["adcc"].std_errors["g"]
    assert np.isnan(table.loc["ccc", "a"])
    assert table.loc["dcc", "BIC"] == fits["dcc"].bic
    assert list(table.columns[:6]) == ["a", "se(a)", "b", "se(b)", "g", "se(g)"]


def test_lr_tests(fits):
    tests = lr_tests(fits)
    assert list(zip(tests["null"], tests["alternative"], strict=True)) == [
        ("ccc", "dcc"),
        ("ccc", "adcc"),
        ("dcc", "adcc"),
    ]
    dcc_vs_adcc = tests.iloc[2]
    expected = 2 * (fits["adcc"].loglikelihood_correlation - fits["dcc"].loglikelihood_correlation)
    assert dcc_vs_adcc["statistic"] == pytest.approx(expected, rel=1e-12)
    assert dcc_vs_adcc["df"] == 1


def test_figures(fits):
    fig = plot_pair_correlations(fits, [("A", "B"), ("B", "C")])
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 3
    with pytest.raises(SpecificationError):
        plot_pair_correlations(fits, [("A", "Z")])
    sim = fits["dcc"].simulate(horizon=5, paths=300, seed=1, store_correlation=True)
    fan = plot_correlation_fan(
        sim,
        "A",
        "B",
        history=fits["dcc"].correlation_pair("A", "B"),
        forecast=fits["dcc"].forecast(horizon=5),
    )
    assert len(fan.axes) == 1
    port = plot_portfolio_fan(sim, {"A": 0.5, "B": 0.5})
    assert len(port.axes) == 1


def test_forecast_comparison(fits):
    res = fits["dcc"]
    analytic = res.forecast(horizon=3)
    simulated = res.forecast(horizon=3, method="simulation", simulations=400, seed=2)
    table = forecast_comparison(analytic, simulated, pairs=[("A", "C")])
    assert list(table.index) == [1, 2, 3]
    assert table.index.name == "periods ahead"
    assert table.loc[1, "max |difference|"] < FIRST_STEP_TOL
    assert table.loc[2, "A/C analytic"] == analytic.correlation_matrix(2).loc["A", "C"]
