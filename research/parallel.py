"""One ``map`` over independent tasks: local processes by default, a Dask cluster when given one.

The same function and the same tasks give identical results on every backend: tasks carry
their own seeds, results come back in task order, and nothing depends on which worker ran what.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from typing import Any, Literal, TypeVar

from research.errors import SpecificationError

__all__ = ["map", "map_tasks"]

T = TypeVar("T")
R = TypeVar("R")

Backend = Literal["auto", "serial", "processes", "dask"]


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
        A picklable (module-level) function of one task.
    tasks : iterable
        The tasks; each must be picklable and carry its own seed if it draws random numbers.
    backend : {"auto", "serial", "processes", "dask"}
        ``"auto"`` uses Dask when ``cluster`` is given, otherwise local processes
        (serial for a single task or a single core).
    cluster : str, distributed.Client, distributed.LocalCluster or None
        A scheduler address (``"tcp://host:8786"``), a client, or a cluster to connect to.
    max_workers : int, optional
        Local processes (default: the number of cores).
    progress : bool
        Show a progress bar (terminal and notebook, through ``tqdm.auto``).
    description : str
        Label of the progress bar.

    Returns
    -------
    list
        ``[func(task) for task in tasks]``, in the order of ``tasks``.

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
        workers = max_workers or os.cpu_count() or 1
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
        return [func(item) for item in _bar(items, progress, description)]
    with ProcessPoolExecutor(max_workers=max_workers) as executor:
        return _map_executor(executor, func, items, progress, description)


def _map_executor(
    executor: Executor, func: Callable[[T], R], items: Sequence[T], progress: bool, description: str
) -> list[R]:
    futures = {executor.submit(func, item): i for i, item in enumerate(items)}
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
        futures = client.map(func, items, pure=False)
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
