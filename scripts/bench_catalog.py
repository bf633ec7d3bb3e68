#!/usr/bin/env python3
"""Benchmark `guidecast build`: the four seed routines x 3 lengths x 2 narration levels (24
variants) with the default offline Piper voice.

Prints, each from an empty cache and site: the cold build on one process (`--jobs 1`), on a
process pool over all cores, and on a Dask LocalCluster of 2 single-thread worker processes;
then a no-op rebuild and a rebuild after editing one routine (whole-process wall times), the
peak RSS of the largest worker process, and a first render of a built routine at a length
never built (whole process wall time and peak RSS). Goals on a 2-core machine: pool <= 0.6x
of --jobs 1; Dask within 1.2x of the pool; no-op <= 1 s; one edit in proportion to its
variants; <= 600 MB per worker; new length <= 0.6 s and <= 80 MB.

    python scripts/bench_catalog.py              # all of it (about 10 minutes on 2 cores)
    python scripts/bench_catalog.py --skip-serial --skip-dask
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import with_bytecode

ROOT = Path(__file__).resolve().parent.parent
GUIDECAST = [sys.executable, "-m", "guidecast"]

PROJECT = """\
title: Benchmark Catalog
base_url: https://example.org/bench/
routines: [routines/*.yaml]
variants:
  narration: [brief, standard]
  length: [shortest, natural, longest]
"""


def make_project(folder: Path) -> Path:
    (folder / "routines").mkdir(parents=True)
    for seed in sorted((ROOT / "routines").glob("*.yaml")):
        shutil.copy(seed, folder / "routines" / seed.name)
    (folder / "guidecast.yaml").write_text(PROJECT)
    return folder


MEASURED = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(done.returncode)"
)
"""Runs a command and prints the peak RSS (KiB) of the largest process it made, worker
processes included (Linux counts every waited-for descendant)."""


def _descendants_rss(root: int) -> dict[int, int]:
    """Resident KiB of `root` and every process below it, read from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        found = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        rss[int(entry.name)] = int(found[0].split()[1]) if found else 0
    out = {}
    for pid in parents:
        up = pid
        while up > 1 and up != root:
            up = parents.get(up, 0)
        if up == root:
            out[pid] = rss[pid]
    return out


def run(args: list[str]) -> tuple[float, float, str]:
    """Run a command in a fresh process: (wall seconds, peak RSS MB of the largest process it
    made, worker processes included, sampled from /proc every 0.2 s; its last line of output)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe: it never fills up
        proc = subprocess.Popen(
            [sys.executable, "-c", MEASURED, *args], stdout=log, stderr=log, text=True
        )
        peak = 0
        while proc.poll() is None:
            peak = max(peak, *_descendants_rss(proc.pid).values(), 0)
            time.sleep(0.2)
        wall = time.perf_counter() - started
        log.seek(0)
        err = log.read()
    if proc.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{err}")
    lines = err.strip().splitlines()
    peak = max(peak, int(lines[-1]))  # the kernel's own peak of each waited-for process
    return wall, peak / 1024, lines[-2] if len(lines) > 1 else ""


def cold_build(work: Path, name: str, *extra: str) -> float:
    folder = make_project(work / name)
    wall, peak, summary = run(
        [*GUIDECAST, "build", str(folder), "--cache-dir", str(folder / "cache"), *extra]
    )
    print(f"cold build, {name:10s} {wall:7.1f} s   (largest process {peak:.0f} MB)")
    print(f"    {summary}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-serial", action="store_true", help="no --jobs 1 build")
    parser.add_argument("--skip-dask", action="store_true", help="no Dask LocalCluster build")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.2f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with_bytecode(work)
        serial = None if args.skip_serial else cold_build(work, "jobs-1", "--jobs", "1")
        pool = cold_build(work, "pool")
        if serial:
            print(f"    pool / --jobs 1: {pool / serial:.2f}")
        if not args.skip_dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
                dask = cold_build(work, "dask", "--scheduler", cluster.scheduler_address)
            print(f"    dask / pool: {dask / pool:.2f}")
        folder = work / "pool"
        cache = ["--cache-dir", str(folder / "cache")]
        wall, _, summary = run([*GUIDECAST, "build", str(folder), *cache])
        print(f"no-op rebuild           {wall:7.2f} s   {summary}")
        routine = folder / "routines" / "back-stiffness.yaml"
        text = routine.read_text()
        title = next(line for line in text.splitlines() if line.startswith("title:"))
        routine.write_text(text.replace(title, f"{title} (edited)", 1))
        wall, _, summary = run([*GUIDECAST, "build", str(folder), *cache])
        print(f"one routine edited      {wall:7.2f} s   {summary}")
        seed = folder / "routines" / "love-your-spine.yaml"
        wall, peak, summary = run(
            [*GUIDECAST, "render", str(seed), "-o", str(work / "new"), "--length", "47m", *cache]
        )
        print(f"new length of a built routine: {wall:.2f} s, peak RSS {peak:.0f} MB")
        print(f"    {summary}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
