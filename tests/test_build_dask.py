"""`guidecast build --scheduler` on a real Dask cluster: a `dask scheduler` and two `dask worker`
processes on 127.0.0.1 (no mock). The same sessions as a local build; a worker killed in the
middle of a build, and the build still finishes with every variant whole."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mutagen.mp3 import MP3

from guidecast.build.catalog import build_catalog
from guidecast.build.project import load_project
from render_fixtures import STRETCH, write_routine
from test_build import sessions_of

pytest.importorskip("distributed", reason="the dask extra: pip install -e '.[test]'")

PROJECT = """\
title: Cluster Catalog
base_url: https://example.org/cluster/
engine: fake
routines: [routines/*.yaml]
variants:
  narration: [brief, standard, full]
  length: [natural, 3m, 4m]
"""
DASK = Path(sys.executable).with_name("dask")


class Cluster:
    """A scheduler and workers started as the documentation says, each its own process."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.file = folder / "scheduler.json"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []

    def start(self, workers: int) -> str:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        self._spawn(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(self.file)],
            env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not self.file.exists():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        address = str(json.loads(self.file.read_text())["address"])
        for k in range(workers):
            self.workers.append(
                self._spawn(
                    [str(DASK), "worker", "--scheduler-file", str(self.file), "--nthreads", "1",
                     "--no-nanny", "--no-dashboard", "--name", f"w{k}", "--host", "127.0.0.1",
                     "--memory-limit", "0"],
                    env,
                )
            )  # fmt: skip
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(workers, timeout=60)
        return address

    def _spawn(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Cluster, str]]:
    folder = tmp_path / "cluster"
    folder.mkdir()
    running = Cluster(folder)
    try:
        yield running, running.start(workers=2)
    finally:
        running.stop()


def project_in(folder: Path) -> Path:
    write_routine(folder / "routines", STRETCH, "stretch")
    path = folder / "guidecast.yaml"
    path.write_text(PROJECT, encoding="utf-8")
    return path


def test_a_dask_build_makes_the_same_sessions_as_a_local_one(
    tmp_path: Path, cluster: tuple[Cluster, str]
) -> None:
    _, address = cluster
    local, remote = project_in(tmp_path / "local"), project_in(tmp_path / "dask")
    build_catalog(load_project(local), cache_dir=tmp_path / "local-cache", jobs=1)
    report = build_catalog(
        load_project(remote), cache_dir=tmp_path / "dask-cache", scheduler=address
    )
    assert report.where.startswith(f"Dask at {address} (2 workers")
    assert len(report.built) == 9 and report.failed == []
    assert report.synthesized > 0  # the workers spoke, into the shared store
    assert sessions_of(tmp_path / "local" / "site") == sessions_of(tmp_path / "dask" / "site")


def test_a_worker_killed_mid_build_does_not_stop_the_build(
    tmp_path: Path, cluster: tuple[Cluster, str]
) -> None:
    running, address = cluster
    path = project_in(tmp_path)
    killed: list[int] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "variants" and done == 2 and not killed:
            victim = running.workers[0]
            victim.send_signal(signal.SIGKILL)
            killed.append(victim.pid)

    report = build_catalog(
        load_project(path), cache_dir=tmp_path / "cache", scheduler=address, progress=progress
    )
    assert killed, "the build finished before a worker could be killed"
    assert running.workers[0].wait(timeout=10) == -signal.SIGKILL
    assert report.failed == [] and len(report.built) == 9
    site = tmp_path / "site"
    manifest = json.loads((site / "manifest.json").read_text())
    for entry in manifest["variants"]:
        audio = MP3(site / entry["files"][0])
        assert abs(audio.info.length * 1000 - entry["duration_ms"]) < 100
        info = json.loads((site / f"{entry['name']}.session.json").read_text())
        assert info["duration_ms"] == entry["duration_ms"] and info["chapters"]
    assert not (site / ".build").exists()
    shutil.rmtree(tmp_path / "cache")
