"""Where a build's tasks run: in this process, on a process pool over the cores, or on a Dask
cluster. Each runner maps a task function over items and yields results as they finish."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from ..errors import GuidecastError

__all__ = ["DaskRunner", "InProcess", "PoolRunner", "Runner", "make_runner"]

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


class Runner(Protocol):
    """Runs tasks somewhere; `workers` says how many run at once."""

    workers: int
    where: str

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Run `fn` on every item; yield the results as they finish (in any order)."""
        ...

    def close(self) -> None: ...


class InProcess:
    """`--jobs 1`: every task in this process, one after another."""

    workers = 1
    where = "this process"

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)

    def close(self) -> None:
        return None


class PoolRunner:
    """A process pool over the cores: each process loads a voice once and keeps it."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.where = f"{workers} processes"
        # forkserver: workers start from a clean process, not a copy of one with threads.
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else None
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        pending: set[Future[R]] = {self._pool.submit(fn, item) for item in items}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskRunner:
    """A Dask cluster (`--scheduler tcp://host:8786`): tasks go to its workers, and a task
    whose worker dies runs again on another one."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client  # type: ignore[import-untyped, unused-ignore]
        except ImportError:
            raise GuidecastError(
                "building on a Dask cluster needs the dask extra: pip install 'guidecast[dask]'"
            ) from None
        try:
            self._client: Any = Client(address, timeout="10s")  # type: ignore[no-untyped-call, unused-ignore]
        except (OSError, TimeoutError) as e:
            raise GuidecastError(
                f"cannot reach the Dask scheduler at {address}. Probable cause: {e}"
            ) from None
        info = self._client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info["workers"].values()))
        self.where = f"Dask at {address} ({len(info['workers'])} workers)"

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        from distributed import as_completed  # type: ignore[import-untyped, unused-ignore]

        futures = [self._client.submit(fn, item, pure=False) for item in items]
        try:
            for future in as_completed(futures):  # type: ignore[no-untyped-call, unused-ignore]
                yield future.result()
        finally:
            self._client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        self._client.close()


def make_runner(jobs: int | None, scheduler: str | None) -> Runner:
    """Dask when a scheduler is named (or `DASK_SCHEDULER_ADDRESS` is set), else a pool of
    `jobs` processes (all cores by default), or this process alone for `--jobs 1`."""
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        return DaskRunner(address)
    jobs = jobs or os.cpu_count() or 1
    return InProcess() if jobs == 1 else PoolRunner(jobs)
