"""How a process's audio work uses the machine: how many threads it keeps busy, and how its
C allocator keeps the memory they free.

A render has the machine to itself and uses every core: sentences synthesized side by side,
pieces measured through the limiter, runs encoded, PCM made ahead of the encoder. A catalog
build runs one task per core in each of its processes (`--jobs`), so each of those uses one:
`--jobs 1` is then one core, as it says, and a pool's processes do not crowd each other.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["in_background", "one_core", "share_one_heap", "tune_allocator", "work_threads"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

_limit: int | None = None


def work_threads(most: int = 4) -> int:
    """Threads to run side by side here: the cores (at most `most`), or the process's limit."""
    return max(1, min(most, _limit or os.cpu_count() or 1))


def one_core(task: Callable[P, R]) -> Callable[P, R]:
    """`task` with this process's audio work kept to one thread while it runs: a catalog
    build's processes each run one task per core."""

    @functools.wraps(task)
    def on_one_core(*args: P.args, **kwargs: P.kwargs) -> R:
        global _limit
        before, _limit = _limit, 1
        try:
            return task(*args, **kwargs)
        finally:
            _limit = before

    return on_one_core


_BACKGROUND_NICE = 10


def in_background() -> None:
    """Lower the calling thread's priority, for work done ahead for later (a pool thread's
    initializer; never the main thread's): a render someone waits for meanwhile keeps the
    cores. Linux only, where a thread is scheduled on its own; its priority stays low until it
    ends, as an unprivileged thread cannot raise it again."""
    if (
        sys.platform.startswith("linux")
        and threading.current_thread() is not threading.main_thread()
    ):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _BACKGROUND_NICE)


_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_KEEP_BYTES = 64 << 20


def _mallopt(*settings: tuple[int, int]) -> bool:
    """Set glibc's allocator options; False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return all(libc.mallopt(option, value) == 1 for option, value in settings)
    except (OSError, AttributeError):
        return False


@functools.cache
def share_one_heap() -> None:
    """Let this process's threads allocate from one heap, as its main thread does.

    glibc gives each new thread a heap of its own, and memory one thread frees is not reused by
    another: a render that measures its new sentences in the main thread and then encodes their
    runs on two threads peaked at 85 MB where the same work in one heap peaks at 78 MB (a new
    length of the 30-minute benchmark routine). Numpy's few large allocations barely contend.
    """
    if _mallopt((_M_ARENA_MAX, 1)):
        log.debug("threads share one heap")


@functools.cache
def tune_allocator() -> None:
    """Let this worker's C allocator keep freed memory, as it does by default.

    A Dask nanny starts its workers with `MALLOC_TRIM_THRESHOLD_=65536`, which also fixes
    glibc's mmap threshold at 128 KiB: every array a task makes and frees (a clip, a stretch
    of bed) is then a fresh mmap, paid in page faults. Measured on a catalog of 8 variants on
    2 cores: the workers spent 40 s in the kernel against 4 s in a process pool, and the build
    took 1.4x as long. Arrays up to 32 MiB come from the heap again, and up to 64 MiB of free
    heap is kept; a worker still stays under 600 MB.
    """
    if os.environ.get("MALLOC_TRIM_THRESHOLD_") is None:
        return
    if _mallopt((_M_MMAP_THRESHOLD, _KEEP_BYTES // 2), (_M_TRIM_THRESHOLD, _KEEP_BYTES)):
        log.debug("allocator keeps up to %d MiB of freed memory", _KEEP_BYTES >> 20)
