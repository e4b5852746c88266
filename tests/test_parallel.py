import numpy as np
import pytest

from research import parallel
from research.errors import SpecificationError


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
