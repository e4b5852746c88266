"""One ``map`` over independent tasks: local processes by default, a Dask cluster when given one.

The same function and the same tasks give bit-identical results on every backend: tasks carry
their own seeds, results come back in task order, nothing depends on which worker ran what, and
every task runs with single-threaded BLAS whatever the backend (a BLAS product's rounding depends
on how many threads split it; measured before this rule: a DCC log-likelihood 7e-6 apart between
the parent with two BLAS threads and Dask workers with one).

Local worker processes are started with ``forkserver`` (``spawn`` where that is unavailable),
never ``fork``: a process that has run a threaded numba kernel (GNU OpenMP) is killed by the
OpenMP runtime when it forks, which broke the pool (``BrokenProcessPool``). Each worker limits
BLAS, OpenMP and numba to one thread, since the pool already runs one process per core.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from functools import partial
from typing import Any, Literal, TypeVar

from research._threads import THREADS_VARIABLE, single_threaded_blas, usable_cores
from research.errors import SpecificationError

__all__ = ["limit_worker_threads", "map", "map_tasks", "run_task", "worker_context"]

T = TypeVar("T")
R = TypeVar("R")

Backend = Literal["auto", "serial", "processes", "dask"]

#: Thread-count variables a local worker sets to 1: BLAS, OpenMP, numba and the package's own
#: row-block threads.
WORKER_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    THREADS_VARIABLE,
)


def map_tasks(
    func: Callable[[T], R],
    tasks: Iterable[T],
    *,
    backend: Backend = "auto",
    cluster: Any = None,
    max_workers: int | None = None,
    progress: bool = True,
    description: str = "tasks",
) -> list[R]:
    """Apply ``func`` to every task and return the results in task order.

    Parameters
    ----------
    func : callable
        A function of one task, defined at module level in an importable module (worker
        processes import it by name; a function typed into an interactive session is refused
        by the processes backend).
    tasks : iterable
        The tasks; each must be picklable and carry its own seed if it draws random numbers.
    backend : {"auto", "serial", "processes", "dask"}
        ``"auto"`` uses Dask when ``cluster`` is given, otherwise local processes
        (serial for a single task or a single core).
    cluster : str, distributed.Client, distributed.LocalCluster or None
        A scheduler address (``"tcp://host:8786"``), a client, or a cluster to connect to.
    max_workers : int, optional
        Local processes (default: the number of usable cores).
    progress : bool
        Show a progress bar (terminal and notebook, through ``tqdm.auto``).
    description : str
        Label of the progress bar.

    Returns
    -------
    list
        ``[func(task) for task in tasks]``, in the order of ``tasks``.

    Raises
    ------
    SpecificationError
        Unknown backend, a cluster with a non-Dask backend, Dask without a cluster, or a
        function the processes backend cannot send to its workers.

    Notes
    -----
    Every backend (serial included) runs each task with BLAS limited to one thread, so the
    three give bit-identical results; numba's compiled kernels do not depend on their thread
    count. Local workers start with ``forkserver`` or ``spawn`` (never ``fork``, which the
    OpenMP runtime of numba's parallel kernels forbids) and import ``func`` by module name;
    a worker's start-up (importing the package and loading compiled kernels) costs a few
    seconds, so for a handful of quick tasks ``backend="serial"`` is faster.

    Examples
    --------
    >>> from research.parallel import map_tasks
    >>> map_tasks(abs, [-1, 2, -3], backend="serial", progress=False)
    [1, 2, 3]
    """
    items = list(tasks)
    if backend not in ("auto", "serial", "processes", "dask"):
        raise SpecificationError(
            f"backend must be 'auto', 'serial', 'processes' or 'dask', got {backend!r}"
        )
    if backend == "auto":
        workers = max_workers or usable_cores()
        if cluster is not None:
            backend = "dask"
        elif len(items) <= 1 or workers == 1:
            backend = "serial"
        else:
            backend = "processes"
    if backend == "dask":
        return _map_dask(func, items, cluster, progress, description)
    if cluster is not None:
        raise SpecificationError(
            f"a cluster was given but backend={backend!r}; use 'dask' or 'auto'"
        )
    if backend == "serial":
        return [run_task(func, item) for item in _bar(items, progress, description)]
    _check_importable(func)
    with ProcessPoolExecutor(
        max_workers=max_workers or usable_cores(),
        mp_context=worker_context(),
        initializer=limit_worker_threads,
    ) as executor:
        return _map_executor(executor, func, items, progress, description)


def run_task(func: Callable[[T], R], item: T) -> R:
    """Run one task with single-threaded BLAS (the rule every backend follows).

    Parameters
    ----------
    func : callable
        The task function.
    item : object
        The task.

    Returns
    -------
    object
        ``func(item)``.
    """
    with single_threaded_blas():
        return func(item)


def worker_context() -> multiprocessing.context.BaseContext:
    """Start method of local workers: ``forkserver`` where available, otherwise ``spawn``.

    Returns
    -------
    multiprocessing.context.BaseContext
    """
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def limit_worker_threads() -> None:
    """Limit a local worker (the pool initializer) to one thread per native library.

    BLAS, OpenMP, numba and the package's own row blocks each get one thread.

    The environment variables take effect for libraries the worker loads afterwards; numba,
    if already imported (e.g. by a preloaded main module), is limited directly.
    """
    for name in WORKER_THREAD_VARIABLES:
        os.environ[name] = "1"
    if "numba" in sys.modules:
        sys.modules["numba"].set_num_threads(1)


def _check_importable(func: Callable[..., Any]) -> None:
    """Refuse a function that worker processes cannot import by name."""
    module = sys.modules.get(getattr(func, "__module__", None) or "")
    qualname = getattr(func, "__qualname__", "")
    interactive = module is not None and module.__name__ == "__main__"
    interactive = interactive and not hasattr(module, "__file__")
    if interactive or "<lambda>" in qualname or "<locals>" in qualname:
        raise SpecificationError(
            f"the processes backend cannot send {qualname or func!r} to its workers: they "
            "import the task function by name; define it at module level in an importable "
            "module, or use backend='serial'"
        )


def _map_executor(
    executor: Executor, func: Callable[[T], R], items: Sequence[T], progress: bool, description: str
) -> list[R]:
    futures = {executor.submit(run_task, func, item): i for i, item in enumerate(items)}
    results: list[Any] = [None] * len(items)
    for future in _bar(as_completed(futures), progress, description, total=len(items)):
        results[futures[future]] = future.result()
    return results


def _map_dask(
    func: Callable[[T], R], items: Sequence[T], cluster: Any, progress: bool, description: str
) -> list[R]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_as_completed
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise SpecificationError(
            "the dask backend needs the 'dask' extra: pip install 'research[dask]'"
        ) from exc
    if cluster is None:
        raise SpecificationError(
            "backend='dask' needs a cluster: an address, a Client or a LocalCluster"
        )
    owns_client = not isinstance(cluster, Client)
    client = Client(cluster) if owns_client else cluster
    try:
        futures = client.map(partial(run_task, func), items, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        results: list[Any] = [None] * len(items)
        for future in _bar(dask_as_completed(futures), progress, description, total=len(items)):
            results[index[future.key]] = future.result()
        return results
    finally:
        if owns_client:
            client.close()


def _bar(iterable: Iterable[Any], progress: bool, description: str, total: int | None = None):
    if not progress:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=description, leave=False)


#: ``research.parallel.map`` is the name used in studies and the design document.
map = map_tasks  # noqa: A001
