"""Row blocks on threads (research._threads): coverage, private scratch, errors, BLAS limit."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from research._threads import run_row_blocks, single_threaded_blas, usable_cores


@pytest.mark.parametrize("parallel", [True, False])
@pytest.mark.parametrize(("n_rows", "rows_per_block"), [(0, 4), (1, 4), (10, 3), (1000, 7)])
def test_every_row_is_processed_exactly_once(n_rows, rows_per_block, parallel):
    seen = np.zeros(n_rows, dtype=int)
    lock = threading.Lock()

    def work(start, stop, scratch):
        assert 0 < stop - start <= rows_per_block
        with lock:
            seen[start:stop] += 1

    run_row_blocks(n_rows, rows_per_block, work, parallel=parallel)
    np.testing.assert_array_equal(seen, 1)


def test_scratch_is_private_to_each_thread():
    owners: dict[int, set[int]] = {}
    lock = threading.Lock()

    def work(start, stop, scratch):
        scratch.setdefault("owner", threading.get_ident())
        with lock:
            owners.setdefault(id(scratch), set()).add(scratch["owner"])

    run_row_blocks(500, 1, work)
    assert all(len(threads) == 1 for threads in owners.values())
    assert 1 <= len(owners) <= usable_cores()


def test_the_first_error_is_raised_on_the_calling_thread():
    def work(start, stop, scratch):
        if start >= 40:
            raise ValueError(f"bad block at {start}")

    with pytest.raises(ValueError, match="bad block"):
        run_row_blocks(100, 10, work)


def test_blas_is_limited_to_one_thread_while_blocks_run_in_parallel():
    blas = [info for info in threadpool_info() if info["user_api"] == "blas"]
    if not blas or usable_cores() < 2:
        pytest.skip("needs a threaded BLAS and two cores to observe the limit")

    def blas_threads(start, stop, scratch, seen):
        seen.append(max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"))

    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    limited, free = [], []
    run_row_blocks(10, 1, lambda a, b, s: blas_threads(a, b, s, limited), blas=True)
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before
    run_row_blocks(10, 1, lambda a, b, s: blas_threads(a, b, s, free))
    assert set(limited) == {1}
    assert min(free) > 1  # kernels that do not call BLAS leave its threads alone
    with single_threaded_blas():
        assert max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas") == 1
