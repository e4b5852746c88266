"""Every estimator returns a symmetric, unit-diagonal, PSD matrix in a StressedCorrelation."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest

import research.stress as stress

STRESS = ("2020-02-20", "2020-04-07")
CALM = ("2018-06-01", "2019-12-31")


def _path(returns: pd.DataFrame) -> pd.DataFrame:
    """A rolling 60-day sample-correlation path in DCCResult.correlation layout."""
    dates = returns.index[59::5]
    blocks = [returns.loc[:d].iloc[-60:].corr() for d in dates]
    return pd.concat(blocks, keys=dates, names=["date", "asset"])


ESTIMATORS = {
    "sample": lambda r: stress.sample_correlation(r, STRESS, n_boot=100, seed=0),
    "ewma": lambda r: stress.ewma_correlation(r, STRESS),
    "ledoit_wolf": lambda r: stress.shrunk_correlation(r, STRESS),
    "oas": lambda r: stress.shrunk_correlation(r, STRESS, method="oas"),
    "dcc-mean": lambda r: stress.dcc_correlation(_path(r), STRESS),
    "dcc-upper": lambda r: stress.dcc_correlation(_path(r), STRESS, statistic="upper"),
    "exceedance": lambda r: stress.exceedance_correlation(r, 0.5),
    "forbes-rigobon": lambda r: stress.forbes_rigobon_correlation(r, STRESS, CALM),
    "loretan-english": lambda r: stress.loretan_english_correlation(r, STRESS, CALM, source="a"),
    "blend": lambda r: stress.blend_correlation(
        stress.sample_correlation(r, STRESS), stress.ewma_correlation(r)
    ),
    "conservative": lambda r: stress.conservative_correlation(
        [stress.sample_correlation(r, STRESS), stress.sample_correlation(r, CALM)],
        pd.Series({"a": 1.0, "b": -1.0, "c": 1.0, "d": -1.0}),
    ),
}


@pytest.mark.filterwarnings("ignore::research.errors.PSDRepairWarning")
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_output_is_a_correlation_matrix(name, regimes, assert_correlation_matrix):
    result = ESTIMATORS[name](regimes)
    assert isinstance(result, stress.StressedCorrelation)
    assert_correlation_matrix(result.matrix)
    assert result.assets == ["a", "b", "c", "d"]
    assert result.repaired == (result.repair is not None)
    assert len(result.pairs()) == 6
    summary = result.summary()
    assert summary["method"] == result.method and summary["repaired"] == result.repaired
    assert result.method in str(result)


def test_result_is_immutable(regimes):
    result = stress.sample_correlation(regimes, STRESS)
    with pytest.raises(AttributeError):
        result.nobs = 3
    with pytest.raises(TypeError):
        result.info["x"] = 1


def test_pairs_table_with_band(regimes):
    result = stress.sample_correlation(regimes, STRESS, n_boot=100, seed=1)
    table = result.pairs()
    assert list(table.columns) == ["asset_1", "asset_2", "correlation", "lower", "upper"]
    assert table.loc[0, "correlation"] == result.matrix.loc["a", "b"]


MODULES = [
    "research.stress.nearest",
    "research.stress.windows",
    "research.stress.estimators",
    "research.stress.heteroskedasticity",
    "research.stress.detection",
]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module):
    failures, _ = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert failures == 0


def test_public_names_are_exported():
    for name in stress.__all__:
        assert getattr(stress, name).__doc__ or isinstance(getattr(stress, name), float)
    assert (
        stress.nearest_correlation
        is importlib.import_module("research.stress.nearest").nearest_correlation
    )
    assert np.isclose(stress.EMIR_STRESSED_WEIGHT, 0.25)
