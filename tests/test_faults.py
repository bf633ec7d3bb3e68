"""Faults around the output folder: a session is replaced as one unit, a killed run leaves
nothing that the next one does not sweep, and Ctrl-C at any moment is a clean exit 130."""

from __future__ import annotations

import fcntl
import importlib.abc
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import guidecast.__main__
import guidecast.cli.rendering
import guidecast.store.atomic
from guidecast.store.atomic import (
    LEGACY_STALE_S,
    STALE_AFTER_S,
    replace_all,
    staged,
    sweep_stale,
    temporary_folder,
)
from render_fixtures import SIDECARS, SMALL, run_main, snapshot, write_routine

NAME = "small-flow"


def _render(
    routine: Path,
    out: Path,
    cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *extra: str,
) -> tuple[int, str, str]:
    args = ["-q", "render", routine, "-o", out, "--engine", "fake", "--cache-dir", cache, *extra]
    return run_main(args, monkeypatch, capsys)


@pytest.fixture
def rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, Path, Path, dict[str, bytes]]:
    """A good render in tmp_path/out: (routine, output folder, cache, files before)."""
    routine = write_routine(tmp_path, SMALL, NAME)
    out, cache = tmp_path / "out", tmp_path / "cache"
    code, _, stderr = _render(routine, out, cache, monkeypatch, capsys)
    assert code == 0, stderr
    before = snapshot(out)
    assert len(before) == 1 + len(SIDECARS)
    return routine, out, cache, before


# -- finding 7: all or nothing, and the real culprit named ------------------------------------


def test_a_folder_in_place_of_a_sidecar_is_named_and_nothing_is_replaced(
    rendered: tuple[Path, Path, Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    routine, out, cache, before = rendered
    vtt = out / f"{NAME}.vtt"
    vtt.unlink()
    vtt.mkdir()
    code, _, stderr = _render(routine, out, cache, monkeypatch, capsys, "--narration", "full")
    assert code == 1
    assert stderr.count("\n") == 1 and stderr.startswith(f"error: {vtt}: is a folder"), stderr
    assert "Traceback" not in stderr
    del before[f"{NAME}.vtt"]
    assert snapshot(out) == before  # the old session untouched, no temporary files


@pytest.mark.parametrize("failing", [1, 3, 6], ids=["first", "middle", "mp3"])
def test_a_rename_failing_half_way_puts_the_previous_session_back(
    rendered: tuple[Path, Path, Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    failing: int,
) -> None:
    routine, out, cache, before = rendered
    real = os.replace
    calls: list[Path] = []

    def replace(src: str | Path, dst: str | Path) -> None:
        if Path(dst).parent == out and Path(src).name.endswith(".part"):
            calls.append(Path(dst))
            if len(calls) == failing:
                raise PermissionError(13, "Permission denied")
        real(src, dst)

    monkeypatch.setattr(guidecast.store.atomic.os, "replace", replace)
    code, _, stderr = _render(routine, out, cache, monkeypatch, capsys, "--narration", "full")
    assert code == 1
    culprit = calls[-1]
    assert stderr.startswith(f"error: {culprit}: cannot replace it (Permission denied)"), stderr
    assert snapshot(out) == before


def test_replace_all_without_previous_files_removes_the_new_ones_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    targets = [tmp_path / n for n in ("a.txt", "b.txt", "c.txt")]
    pairs = []
    for target in targets:
        with staged(target) as (f, tmp):
            f.write(b"new")
        pairs.append((tmp, target))
    (tmp_path / "c.txt").mkdir()
    with pytest.raises(guidecast.store.atomic.SwapError) as info:
        replace_all(pairs)
    assert info.value.target == tmp_path / "c.txt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]


# -- finding 6: what a killed run leaves is swept ----------------------------------------------


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_stale_temporary_files_are_swept_at_the_next_render(
    rendered: tuple[Path, Path, Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    routine, out, cache, _ = rendered
    stale = [out / f".{NAME}.mp3.k1ll3d.part", out / f".{NAME}.vtt.r0llb4ck.old"]
    young = out / f".{NAME}.srt.l1ve.part"  # a concurrent render is writing it
    held = out / f".{NAME}.mp3.h3ld.part"  # an old file a live process still holds
    other = out / ".someone-else.mp3.x.part"  # not this session's
    for path in [*stale, young, held, other]:
        path.write_bytes(b"half")
        if path is not young:
            _age(path, STALE_AFTER_S + 5)
    with held.open("rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        code, _, stderr = _render(routine, out, cache, monkeypatch, capsys)
    assert code == 0, stderr
    left = {p.name for p in out.iterdir() if p.name.startswith(".")}
    assert left == {young.name, held.name, other.name}


def test_sweep_ignores_names_with_glob_characters(tmp_path: Path) -> None:
    target = tmp_path / "a[b]*.mp3"
    part = tmp_path / ".a[b]*.mp3.x.part"
    decoy = tmp_path / ".ab.mp3.x.part"
    for path in (part, decoy):
        path.write_bytes(b"")
        _age(path, STALE_AFTER_S + 5)
    assert sweep_stale(target) == [part]
    assert decoy.exists()


def test_no_cache_folders_of_killed_runs_are_swept(
    rendered: tuple[Path, Path, Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    routine, out, cache, _ = rendered
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    old = temp / "guidecast-k1ll3d0l"  # an older version's, a day old, with no lock
    (old / "ab").mkdir(parents=True)
    _age(old, LEGACY_STALE_S + 5)
    recent = temp / "guidecast-r3c3nt00"  # an older version's, maybe still running
    recent.mkdir()
    _age(recent, STALE_AFTER_S + 5)
    unlocked = temp / "guidecast-nocache-unl0cked"  # a killed run's: its lock file is free
    unlocked.mkdir()
    (unlocked / ".lock").write_bytes(b"")
    bench = temp / "guidecast-bench-12345678"  # someone else's
    bench.mkdir()
    _age(bench, LEGACY_STALE_S + 5)
    with temporary_folder() as live:  # a concurrent run's
        seen: list[Path] = []
        real = guidecast.cli.rendering.ClipCache

        def cache_spy(root: Path) -> object:
            seen.append(root)
            return real(root)

        monkeypatch.setattr(guidecast.cli.rendering, "ClipCache", cache_spy)
        code, _, stderr = _render(routine, out, cache, monkeypatch, capsys, "--no-cache")
        assert code == 0, stderr
        assert seen and seen[0].parent == temp and not seen[0].exists()
        assert sorted(temp.iterdir()) == sorted([live, recent, bench])
    assert sorted(temp.iterdir()) == sorted([recent, bench])


def test_kill_9_during_renders_keeps_the_previous_set_and_the_next_run_sweeps(
    rendered: tuple[Path, Path, Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    routine, out, cache, before = rendered
    rng = random.Random(6)
    command = [sys.executable, "-m", "guidecast", "-q", "render", str(routine), "-o", str(out)]
    command += ["--engine", "fake", "--cache-dir", str(cache), "--narration", "full"]
    for _ in range(3):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.8, 3.5))
        process.kill()
        process.wait(timeout=30)
        visible = {k: v for k, v in snapshot(out).items() if not k.startswith(".")}
        if visible != before:  # the kill came after the render finished: a new, whole set
            assert visible.keys() == before.keys()
            before = visible
    for leftover in out.iterdir():  # as if the next run came a while later
        _age(leftover, STALE_AFTER_S + 1)
    code, _, stderr = _render(routine, out, cache, monkeypatch, capsys)
    assert code == 0, stderr
    assert sorted(snapshot(out)) == sorted(before)  # nothing hidden left


# -- finding 6: Ctrl-C while the command is still starting ------------------------------------


class _InterruptingImport(importlib.abc.MetaPathFinder):
    """Ctrl-C arriving while `guidecast.cli` and its dependencies load."""

    def find_spec(self, name: str, *args: object) -> None:
        if name == "guidecast.cli":
            raise KeyboardInterrupt


def test_ctrl_c_while_the_command_loads_is_a_clean_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delitem(sys.modules, "guidecast.cli")
    monkeypatch.setattr(sys, "meta_path", [_InterruptingImport(), *sys.meta_path])
    with pytest.raises(SystemExit) as info:
        guidecast.__main__.main()
    assert info.value.code == 130
    assert capsys.readouterr().err == "Interrupted.\n"


@pytest.mark.parametrize("delay", [0.3, 0.6])
def test_ctrl_c_while_starting_is_a_clean_exit_130(tmp_path: Path, delay: float) -> None:
    routine = write_routine(tmp_path, SMALL, NAME)
    # What the installed `guidecast` command runs.
    command = "import sys; from guidecast.__main__ import main; sys.exit(main())"
    args = [sys.executable, "-c", command, "render", str(routine), "-o", str(tmp_path / "o")]
    process = subprocess.Popen(
        [*args, "--engine", "fake", "--cache-dir", str(tmp_path / "c")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stderr, stderr
    assert process.returncode in (130, 0), stderr  # interrupted, or finished already
    if process.returncode == 130:
        assert stderr.strip().endswith("Interrupted.")
