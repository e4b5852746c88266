"""UnivariateSpec validation and model building."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from research.errors import SpecificationError
from research.volatility import UnivariateSpec


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mean": "ARMA"},
        {"vol": "SV"},
        {"dist": "cauchy"},
        {"p": -1},
        {"q": 1.5},
        {"p": 0, "o": 0},
        {"power": 0.0},
    ],
    ids=["mean", "vol", "dist", "p", "q", "no-arch-terms", "power"],
)
def test_invalid_specifications_raise(kwargs):
    with pytest.raises(SpecificationError):
        UnivariateSpec(**kwargs)


def test_error_lists_valid_choices():
    with pytest.raises(SpecificationError, match="garch, arch, egarch"):
        UnivariateSpec(vol="SV")


def test_frozen_and_replace_revalidates():
    spec = UnivariateSpec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.p = 2
    with pytest.raises(SpecificationError):
        dataclasses.replace(spec, dist="nope")


@pytest.mark.parametrize(
    "spec, n_params",
    [
        (UnivariateSpec(), 4),
        (UnivariateSpec(o=1, dist="t"), 6),
        (UnivariateSpec(mean="AR", lags=2, vol="EGARCH"), 6),
        (UnivariateSpec(mean="Zero", vol="GARCH", dist="skewt"), 5),
    ],
    ids=["garch", "gjr-t", "ar2-egarch", "zero-skewt"],
)
def test_build_passes_options_to_arch(spec, n_params):
    y = pd.Series(np.random.default_rng(0).standard_normal(300))
    model = spec.build(y)
    assert (
        model.num_params + model.volatility.num_params + model.distribution.num_params == n_params
    )
