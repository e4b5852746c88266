"""Correlation and covariance paths written in place from the Q recursion, and their memory.

The in-place / blocked computations are pinned bit for bit against the straightforward
reference (the whole Q path, then the normalisation as whole-array numpy expressions), and
their peak memory is measured in a fresh process by ``benchmarks/memory.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.correlation import DCC
from research.correlation import simulate as simulate_module
from research.correlation._kernels import KIND_CODES, dcc_q_path
from research.correlation.forecast import DCCState
from research.correlation.simulate import decorrelate_residuals
from research.errors import SpecificationError
from research.volatility import UnivariateFits

ROOT = Path(__file__).resolve().parents[2]
KINDS = ["dcc", "cdcc", "adcc", "ccc"]
# peak memory of a path (target of issue 13): below this multiple of the returned array
PEAK_RATIO = 2.0


def _fit(kind: str, n: int = 4, t: int = 400):
    rng = np.random.default_rng(5)
    z = rng.standard_normal((t, n)) @ np.linalg.cholesky(0.5 * np.eye(n) + 0.5).T
    dates = pd.bdate_range("2018-01-01", periods=t)
    assets = [f"A{i}" for i in range(n)]
    sigma = pd.DataFrame(0.5 + rng.random((t, n)), index=dates, columns=assets)
    uni = UnivariateFits.from_arrays(pd.DataFrame(z, index=dates, columns=assets), sigma)
    return DCC(kind=kind, std_errors=False).fit(univariate=uni)


@pytest.fixture(scope="module", params=KINDS)
def result(request):
    return _fit(request.param)


def _reference(res):
    """The path as computed before: store every Q_t, then whole-array numpy expressions."""
    a, b, g, _ = res.problem.unpack(res.params.to_numpy())
    nbar = res.nbar if res.nbar is not None else np.zeros_like(res.qbar)
    q = dcc_q_path(res.problem.z, a, b, g, res.qbar, nbar, KIND_CODES[res.kind])[:-1]
    d = np.sqrt(np.einsum("tii->ti", q))
    r = q / (d[:, :, None] * d[:, None, :])
    s = res.univariate.sigma.to_numpy(dtype=float)
    return r, r * s[:, :, None] * s[:, None, :]


def test_paths_equal_the_reference_bit_for_bit(result):
    r, h = _reference(result)
    np.testing.assert_array_equal(result.correlation_array, r)
    np.testing.assert_array_equal(result.covariance_path(), h)
    np.testing.assert_array_equal(result.correlation.to_numpy(), r.reshape(-1, r.shape[2]))
    np.testing.assert_array_equal(result.covariance.to_numpy(), h.reshape(-1, h.shape[2]))


def test_float32_paths_are_the_float64_values_rounded_once(result):
    r, h = _reference(result)
    r32, h32 = result.correlation_path(np.float32), result.covariance_path(dtype="float32")
    assert r32.dtype == h32.dtype == np.float32
    np.testing.assert_array_equal(r32, r.astype(np.float32))
    np.testing.assert_array_equal(h32, h.astype(np.float32))


def test_correlation_frame_is_a_read_only_view_of_the_array(result):
    arr = result.correlation_array
    assert not arr.flags.writeable
    assert np.shares_memory(result.correlation.to_numpy(), arr)
    fresh = result.correlation_path()
    assert fresh.flags.writeable and not np.shares_memory(fresh, arr)


def test_path_dtype_other_than_float_is_refused(result):
    with pytest.raises(SpecificationError, match="float64 or float32"):
        result.correlation_path(dtype=np.int64)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("block_elements", [1, 16 * 7, 10**9])
def test_blocked_decorrelation_equals_the_whole_path_reference(kind, block_elements, monkeypatch):
    res = _fit(kind, n=4, t=301)
    a, b, g, _ = res.problem.unpack(res.params.to_numpy())
    nbar = res.nbar if res.nbar is not None else np.zeros_like(res.qbar)
    state = DCCState(
        kind=kind,
        a=a,
        b=b,
        g=g,
        nu=None,
        qbar=res.qbar,
        nbar=nbar,
        q_next=res.q_next,
        assets=tuple(res.assets),
        std_resid=res.std_resid,
        univariate={},
    )
    z = res.problem.z
    r, _ = _reference(res)
    expected = np.linalg.solve(np.linalg.cholesky(r), z[:, :, None])[:, :, 0]
    # 1 entry: one day per block; 112 entries: 7 days per block and a ragged last block
    monkeypatch.setattr(simulate_module, "DECORRELATE_BLOCK_ELEMENTS", block_elements)
    np.testing.assert_array_equal(decorrelate_residuals(state), expected)


def _peak(case: str, n: int, t: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "memory.py"), "--case", case]
        + ["--n", str(n), "--t", str(t)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self")
@pytest.mark.parametrize("case", ["correlation_array", "covariance"])
def test_path_peak_memory_is_below_twice_the_returned_array(case):
    # before: 3.0x (correlation_array: Q path + denominators + result) and 4.0x (covariance)
    row = _peak(case, n=80, t=4000)
    assert row["peak"] < PEAK_RATIO * row["returned"], row


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self")
def test_fhs_simulation_never_holds_a_whole_correlation_path():
    # before: the Q path, R path and Cholesky factors of the whole history at once (3x path)
    row = _peak("fhs_simulate", n=60, t=10_000)
    assert row["peak"] < row["path"], row


def test_pair_path_from_its_own_recursion_equals_the_full_path(result):
    fresh = result.fix(result.params)  # nothing cached yet
    pair = fresh.correlation_pair("A3", "A1")
    assert "correlation_array" not in fresh.__dict__
    np.testing.assert_array_equal(pair.to_numpy(), _reference(fresh)[0][:, 3, 1])
    np.testing.assert_array_equal(
        result.correlation_pair("A3", "A1").to_numpy(), result.correlation_array[:, 3, 1]
    )
    with pytest.raises(SpecificationError, match="unknown assets"):
        result.correlation_pair("A1", "B")
