"""How a process's audio work uses the machine: threads, and the memory they free."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import guidecast
from guidecast.media.cores import in_background, one_core, work_threads


def test_a_build_task_keeps_to_one_thread_while_it_runs() -> None:
    cores = max(1, min(4, os.cpu_count() or 1))
    assert work_threads() == cores and work_threads(1) == 1
    inside = one_core(work_threads)()  # as each task of a catalog build runs
    assert inside == 1
    assert work_threads() == cores  # and after it, the process has every core again


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_threads_reuse_the_memory_the_main_thread_freed() -> None:
    """The main thread measures, then two threads encode: in one heap, what the first frees
    serves the others (each thread had a heap of its own, and the peak was their sum)."""
    child = textwrap.dedent("""
        import re, sys, threading
        import numpy as np
        from guidecast.media.cores import share_one_heap

        def peak() -> int:
            status = open("/proc/self/status").read()
            return int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1))

        if sys.argv[1] == "shared":
            share_one_heap()
        np.ones(2 << 20).sum()  # 16 MiB: freed from an mmap, which raises glibc's threshold
        np.ones(2 << 20).sum()  # now from the heap, and kept there when freed
        before = peak()
        for _ in range(2):
            worker = threading.Thread(target=lambda: np.ones(2 << 20).sum())
            worker.start()
            worker.join()
        print(peak() - before)
    """)
    src = Path(guidecast.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.pop("MALLOC_ARENA_MAX", None)
    grew = {}
    for how in ("own", "shared"):
        done = subprocess.run(
            [sys.executable, "-c", child, how], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        grew[how] = int(done.stdout) / 1024
    assert grew["own"] > 12, grew  # MiB: the thread's own heap
    assert grew["shared"] < 4, grew


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads scheduled alone")
def test_work_done_ahead_runs_behind_and_the_main_thread_keeps_its_priority() -> None:
    here = os.getpriority(os.PRIO_PROCESS, 0)
    seen: list[tuple[int, int]] = []

    def pooled() -> None:
        tid = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, tid)
        in_background()
        seen.append((before, os.getpriority(os.PRIO_PROCESS, tid)))

    worker = threading.Thread(target=pooled)
    worker.start()
    worker.join()
    in_background()  # in the main thread: nothing changes
    assert seen == [(here, min(19, here + 10))]
    assert os.getpriority(os.PRIO_PROCESS, 0) == here
