"""Results do not depend on how many threads or cores the package may use."""

import numpy as np
import pytest

from research._threads import THREADS_VARIABLE, usable_cores
from research.correlation import _kernels as kern


def test_threads_variable_caps_usable_cores(monkeypatch):
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    cores = usable_cores()
    monkeypatch.setenv(THREADS_VARIABLE, "1")
    assert usable_cores() == 1
    monkeypatch.setenv(THREADS_VARIABLE, "not a number")
    assert usable_cores() == cores


@pytest.mark.parametrize("cores", ["1", "3", "64"])
def test_composite_likelihood_is_the_same_bits_for_any_core_count(cores, monkeypatch):
    # before: pairs were cut into 4 chunks per core and the chunk sums added in chunk order,
    # so a worker limited to one core and the parent with two summed differently
    rng = np.random.default_rng(2)
    n = 12
    z = np.ascontiguousarray(rng.standard_normal((300, n)))
    qbar = np.corrcoef(z.T)
    nbar = np.zeros((n, n))
    pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)], dtype=np.int64)
    args = (z, 0.05, 0.9, 0.0, qbar, nbar, 0, 0, 0.0, 0.0, 0.0, True, pairs)
    monkeypatch.setattr(kern, "PARALLEL_MIN_WORK", 0)  # pairs in chunks on threads
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    reference = kern.composite_loglik(*args)
    monkeypatch.setenv(THREADS_VARIABLE, cores)
    # the former per-core chunking read kern.usable_cores
    monkeypatch.setattr(kern, "usable_cores", lambda: int(cores), raising=False)
    other = kern.composite_loglik(*args)
    np.testing.assert_array_equal(other[0], reference[0])
    np.testing.assert_array_equal(other[1], reference[1])
