"""Sensitivity sweep: grid handling, hold-out coverage on simulated data, local vs Dask identity."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.backtest import SweepGrid, SweepResult, sensitivity_sweep
from research.backtest.sweep import _blocks
from research.calibration.config import CalibrationConfig
from research.calibration.offsets import OffsetCalibrator
from research.calibration.parameters import MarginParameters
from research.errors import DataError, InsufficientDataError, ParameterError

N_DAYS = 1500
RHO = 0.8
SIGMA = np.array([1.0, 2.0, 1.5])  # daily volatility in percent


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    """Seeded iid normal returns: A and B correlated at RHO, C independent of both."""
    rng = np.random.default_rng(20240601)
    corr = np.array([[1.0, RHO, 0.0], [RHO, 1.0, 0.0], [0.0, 0.0, 1.0]])
    z = rng.standard_normal((N_DAYS, 3)) @ np.linalg.cholesky(corr).T
    index = pd.bdate_range("2012-01-02", periods=N_DAYS)
    return pd.DataFrame(z * SIGMA, index=index, columns=["A", "B", "C"])


@pytest.fixture(scope="module")
def grid() -> SweepGrid:
    return SweepGrid(
        level=(0.99,),
        mpor=(1, 2),
        lookback=(500,),
        ewma_lambda=(None, 0.97),
        stress_weight=(None,),
        offset_cap=(0.5, 0.8),
    )


@pytest.fixture(scope="module")
def local(returns: pd.DataFrame, grid: SweepGrid) -> SweepResult:
    return sensitivity_sweep(
        returns,
        grid,
        pairs=[("A", "B"), ("A", "C")],
        holdout=0.3,
        backend="processes",
        max_workers=2,
        progress=False,
    )


def test_grid_points_and_round_trip(grid: SweepGrid) -> None:
    assert grid.size == 8 == len(grid.points())
    assert SweepGrid.from_dict(grid.to_dict()) == grid
    assert grid.points()[0] == {
        "level": 0.99,
        "mpor": 1,
        "lookback": 500,
        "ewma_lambda": None,
        "stress_weight": None,
        "offset_cap": 0.5,
    }
    with pytest.raises(ParameterError, match="empty"):
        SweepGrid(level=())
    with pytest.raises(ParameterError, match="repeats"):
        SweepGrid(mpor=(2, 2))
    with pytest.raises(ParameterError, match="unknown sweep axes"):
        SweepGrid.from_dict({"alpha": [0.1]})


@pytest.mark.parametrize(
    ("axes", "match"),
    [
        ({"level": "abc"}, r"'level' must be a list of values, got 'abc'"),
        ({"level": (0.99, 1.0)}, r"sweep\.level\[1\] must lie in \(0\.5, 1\)"),
        ({"mpor": (2.5,)}, r"sweep\.mpor\[0\] must be a whole number >= 1"),
        ({"lookback": ("500",)}, r"sweep\.lookback\[0\] must be a number"),
        ({"ewma_lambda": (None, 1.0)}, r"sweep\.ewma_lambda\[1\] must lie in \(0, 1\)"),
        ({"stress_weight": (-0.1,)}, r"sweep\.stress_weight\[0\] must lie in \[0, 1\]"),
        ({"offset_cap": (float("nan"),)}, r"sweep\.offset_cap\[0\] must be finite"),
    ],
)
def test_grid_values_are_checked_by_axis(axes, match) -> None:
    with pytest.raises(ParameterError, match=match):
        SweepGrid(**axes)


def test_table_has_one_row_per_point_with_parameters(local: SweepResult, grid: SweepGrid) -> None:
    assert len(local.table) == grid.size == len(local.parameters)
    assert all(isinstance(p, MarginParameters) for p in local.parameters)
    first = local.parameters[0]
    assert first.offset_cap == 0.5 and first.mpor == 1
    assert first.risk_weights["A"] == pytest.approx(local.table.loc[0, "rw_A"])
    assert local.table["holdout_moves_dropped"].eq(0).all()


def test_uncorrelated_pair_gets_no_credit_correlated_pair_capped(local: SweepResult) -> None:
    assert (local.table["credit_A/C"] == 0.0).all()
    # credit of A/B is cap * (1 - sqrt(2 - 2 rho_hat) / 2) * (1 - haircut) <= cap
    assert (local.table["credit_A/B"] > 0).all()
    assert (local.table["credit_A/B"] <= local.table["offset_cap"]).all()
    assert (local.table["pairs_credited"] == 1).all()


def test_risk_weight_recovers_normal_quantile(local: SweepResult) -> None:
    # Unfiltered 1-day VaR at 99% of N(0, sigma^2) is z * sigma; with 500 observations the
    # empirical quantile's standard error is sqrt(p(1-p)/n)/phi(z) * sigma ~ 0.17 sigma, so we
    # allow 4 standard errors.
    z = stats.norm.ppf(0.99)
    se = math.sqrt(0.99 * 0.01 / 500) / stats.norm.pdf(z)
    row = local.table[(local.table["mpor"] == 1) & local.table["ewma_lambda"].isna()].iloc[0]
    for asset, sigma in zip("ABC", SIGMA, strict=True):
        assert row[f"rw_{asset}"] == pytest.approx(z * sigma / 100, abs=4 * se * sigma / 100)


def test_holdout_coverage_consistent_with_level(local: SweepResult) -> None:
    # Correctly specified iid data: the Kupiec test should not reject at 0.1% for any point
    # (8 points, pooled sides; a reject at 0.1% would signal a counting error, not chance).
    assert (local.table["outright_pvalue"] > 0.001).all()
    assert (local.table["outright_coverage"] > 0.97).all()
    n_test = round(0.3 * N_DAYS)
    mpor1 = local.table[local.table["mpor"] == 1]
    assert (mpor1["outright_observations"] == 2 * 3 * n_test).all()


def test_local_and_dask_runs_are_identical(
    returns: pd.DataFrame, grid: SweepGrid, local: SweepResult
) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=None, processes=True
    ) as cluster:
        remote = sensitivity_sweep(
            returns,
            grid,
            pairs=[("A", "B"), ("A", "C")],
            holdout=0.3,
            cluster=cluster,
            progress=False,
        )
    pd.testing.assert_frame_equal(remote.table, local.table, check_exact=True)
    assert remote.parameters == local.parameters


def test_serial_equals_processes(returns: pd.DataFrame, local: SweepResult) -> None:
    grid = SweepGrid(level=(0.99,), mpor=(1,), lookback=(500,), offset_cap=(0.5,))
    serial = sensitivity_sweep(
        returns, grid, pairs=[("A", "B"), ("A", "C")], holdout=0.3, backend="serial", progress=False
    )
    match = local.table[
        (local.table["mpor"] == 1)
        & local.table["ewma_lambda"].isna()
        & (local.table["offset_cap"] == 0.5)
    ].reset_index(drop=True)
    pd.testing.assert_frame_equal(serial.table, match, check_exact=True)


def test_pivot_summary_and_heatmap(local: SweepResult) -> None:
    pivot = local.pivot("outright_coverage", "mpor", "ewma_lambda")
    assert pivot.shape == (2, 2)
    assert list(pivot.columns) == [0.97, "none"] or set(pivot.columns) == {0.97, "none"}
    assert (local.summary()["target"] == 0.99).all()
    assert local.plot_heatmap("mean_credit", "offset_cap", "mpor").axes
    with pytest.raises(ParameterError, match="not a sweep column"):
        local.pivot("nope", "mpor", "level")


def test_bad_sweep_input(returns: pd.DataFrame) -> None:
    grid = SweepGrid(lookback=(250,))
    with pytest.raises(ParameterError, match="holdout"):
        sensitivity_sweep(returns, grid, holdout=1.0, backend="serial", progress=False)
    with pytest.raises(InsufficientDataError, match="hold-out"):
        sensitivity_sweep(returns.head(300), grid, holdout=0.1, backend="serial", progress=False)
    with pytest.raises(DataError):
        sensitivity_sweep(returns.to_numpy(), grid, backend="serial", progress=False)
    assert OffsetCalibrator().cap == 0.8


def test_decimal_returns_are_refused_before_any_point_runs(returns: pd.DataFrame) -> None:
    # before: each grid point's calibration raised inside the workers; the hold-out was never
    # checked
    with pytest.raises(DataError, match="sweep returns look like decimals"):
        sensitivity_sweep(returns / 100.0, SweepGrid(), backend="serial", progress=False)


def test_holdout_blocks_are_the_data_stage_mpor_sums_with_gaps_dropped(
    returns: pd.DataFrame,
) -> None:
    gappy = returns.iloc[-23:].copy()
    gappy.iloc[5, 1] = np.nan
    blocks, dropped = _blocks(gappy, 3)
    # disjoint 3-day blocks anchored at the last date: 7 complete windows, 2 oldest days unused
    assert dropped == 1 and len(blocks) == 6
    assert blocks.index[-1] == gappy.index[-1] and gappy.index[7] not in blocks.index
    last = gappy.iloc[-3:].sum()
    np.testing.assert_allclose(blocks.iloc[-1].to_numpy(), last.to_numpy(), rtol=1e-14)


def test_config_sweep_is_plain_data_that_builds_the_grid(grid: SweepGrid) -> None:
    config = CalibrationConfig(sweep=grid.to_dict())
    assert config.sweep == {k: tuple(v) for k, v in grid.to_dict().items()}
    assert SweepGrid.from_dict(config.sweep) == grid
    assert CalibrationConfig.from_yaml(config.to_yaml()) == config


def test_an_infeasible_point_is_skipped_with_its_reason(returns: pd.DataFrame) -> None:
    # Issue 16: a 180-day lookback holds 180 one-day moves, fewer than the 200 the 99.5%
    # quantile needs; the whole sweep (and the crypto review) failed on that one point.
    grid = SweepGrid(level=(0.99, 0.995), mpor=(1,), lookback=(180,))
    result = sensitivity_sweep(returns, grid, pairs=[("A", "B")], backend="serial", progress=False)
    ran, skipped = result.table.iloc[0], result.table.iloc[1]
    assert ran["skipped"] == "" and ran["outright_observations"] > 0
    assert skipped["level"] == 0.995 and "at least 200" in skipped["skipped"]
    assert math.isnan(skipped["outright_coverage"]) and math.isnan(skipped["mean_risk_weight"])
    assert result.parameters[1] is None and isinstance(result.parameters[0], MarginParameters)
    assert any(w.startswith("point 1: skipped:") for w in result.warnings)
    assert result.summary()["skipped"].tolist() == ["", skipped["skipped"]]
    assert result.pivot("outright_coverage", "level", "mpor").shape == (1, 1)
    with pytest.raises(InsufficientDataError, match="no point of the sweep can be calibrated"):
        sensitivity_sweep(
            returns,
            SweepGrid(level=(0.995,), mpor=(1,), lookback=(180,)),
            backend="serial",
            progress=False,
        )
