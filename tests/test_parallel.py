import numpy as np
import pytest

from research import parallel
from research.errors import SpecificationError
from tests import _parallel_tasks as tasks


def seeded_draw(task):
    seed, n = task
    return float(np.random.default_rng(seed).normal(size=n).sum())


TASKS = [(seed, 1000) for seed in range(6)]
EXPECTED = [seeded_draw(t) for t in TASKS]


def test_serial_and_process_backends_agree_in_task_order():
    assert parallel.map(seeded_draw, TASKS, backend="serial", progress=False) == EXPECTED
    assert (
        parallel.map(seeded_draw, TASKS, backend="processes", max_workers=2, progress=False)
        == EXPECTED
    )


def test_dask_local_cluster_gives_identical_results():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        assert parallel.map(seeded_draw, TASKS, cluster=cluster, progress=False) == EXPECTED
        with distributed.Client(cluster) as client:
            assert parallel.map(seeded_draw, TASKS, cluster=client, progress=True) == EXPECTED


def test_bad_backend_and_missing_cluster_are_errors():
    with pytest.raises(SpecificationError, match="backend"):
        parallel.map(seeded_draw, TASKS, backend="threads")
    with pytest.raises(SpecificationError, match="needs a cluster"):
        parallel.map(seeded_draw, TASKS, backend="dask")
    with pytest.raises(SpecificationError, match="cluster was given"):
        parallel.map(seeded_draw, TASKS, backend="serial", cluster="tcp://127.0.0.1:1")


@pytest.fixture(scope="module")
def local_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


def _on_every_backend(func, items, cluster):
    serial = parallel.map(func, items, backend="serial", progress=False)
    processes = parallel.map(func, items, backend="processes", max_workers=2, progress=False)
    dask = parallel.map(func, items, cluster=cluster, progress=False)
    return serial, processes, dask


@pytest.mark.slow
def test_dcc_fit_and_simulation_are_bit_identical_on_every_backend(local_cluster):
    # before: the parent's BLAS ran two threads and Dask's workers one; the DCC
    # log-likelihood differed by 7e-6 and the simulated returns by 3e-6
    for func, items in ((tasks.dcc_fit_task, ["dcc", "cdcc"]), (tasks.simulation_task, [0, 1])):
        serial, processes, dask = _on_every_backend(func, items, local_cluster)
        for s, p, d in zip(serial, processes, dask, strict=True):
            np.testing.assert_array_equal(p, s)
            np.testing.assert_array_equal(d, s)


def test_every_backend_runs_tasks_with_one_blas_thread(local_cluster):
    serial, processes, dask = _on_every_backend(tasks.blas_threads_task, [0, 1], local_cluster)
    assert serial == processes == dask == [1, 1]


def test_processes_backend_works_after_a_threaded_numba_kernel():
    # the parent runs the parallel (OpenMP) simulation kernel; forking after it killed the
    # workers ("fork() called from a process already using GNU OpenMP"): BrokenProcessPool
    expected = tasks.simulation_task(3)
    got = parallel.map(
        tasks.simulation_task, [3, 3], backend="processes", max_workers=2, progress=False
    )
    for g in got:
        np.testing.assert_array_equal(g, expected)


def test_processes_backend_starts_workers_without_fork():
    assert parallel.worker_context().get_start_method() in ("forkserver", "spawn")


def test_processes_backend_refuses_functions_workers_cannot_import():
    with pytest.raises(SpecificationError, match="module level"):
        parallel.map(lambda x: x, [1, 2], backend="processes", progress=False)
