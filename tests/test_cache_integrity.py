"""The cache trusts an entry only under its own key, as a regular file, whole and well formed:
anything else is made again, never fatal and never followed."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mutagen.id3 import ID3

import guidecast
from guidecast.compiler.options import resolve_options
from guidecast.model import Routine
from guidecast.mp3.runs import _HEAD as RUN_HEAD
from guidecast.session import SessionResult, render_session
from guidecast.sound.mix import resolve_mix
from guidecast.store.blobs import BlobStore
from guidecast.tts import ClipCache, FakeEngine
from render_fixtures import SMALL, fake_voice, routine_from


def _render(tmp: Path, routine: Routine, cache: Path, engine: FakeEngine) -> SessionResult:
    voice = fake_voice(cache, engine)
    options = resolve_options(routine)
    mix = resolve_mix(routine, bed="none")  # the speech runs' format (a bed's are checked alike)
    return render_session(routine, options, voice=voice, output=tmp / "out" / "s.mp3", mix=mix)


def _audio(result: SessionResult) -> bytes:
    path = result.export.files.mp3
    return path.read_bytes()[ID3(path).size :]


def _clip_path(cache: Path, text: str) -> Path:
    return ClipCache(cache).path(ClipCache.key(FakeEngine().identity(), 1.0, text))


@pytest.fixture
def first(tmp_path: Path) -> tuple[Routine, Path, bytes]:
    """A routine rendered once into tmp_path/cache: (routine, cache, its MPEG audio)."""
    routine = routine_from(tmp_path, SMALL)
    cache = tmp_path / "cache"
    done = _render(tmp_path, routine, cache, FakeEngine())
    return routine, cache, _audio(done)


def test_a_clip_copied_to_another_key_is_made_again(
    first: tuple[Routine, Path, bytes], tmp_path: Path
) -> None:
    routine, cache, audio = first
    source, victim = (
        _clip_path(cache, "Stand tall and breathe."),
        _clip_path(cache, "Lift your hips."),
    )
    shutil.copyfile(source, victim)
    shutil.copyfile(source.with_suffix(".json"), victim.with_suffix(".json"))
    for run in (cache / "runs").rglob("*.run"):
        run.unlink()  # so the clips are read again
    engine = FakeEngine()
    again = _render(tmp_path, routine, cache, engine)
    assert "Lift your hips." in engine.calls
    assert _audio(again) == audio


def test_a_run_moved_to_another_key_is_encoded_again(
    first: tuple[Routine, Path, bytes], tmp_path: Path
) -> None:
    routine, cache, audio = first
    runs = sorted((cache / "runs").rglob("*.run"), key=lambda p: p.stat().st_size)
    small, large = runs[0], runs[-1]
    moved = small.read_bytes()
    large.write_bytes(moved)
    again = _render(tmp_path, routine, cache, FakeEngine())
    assert _audio(again) == audio
    assert large.read_bytes() != moved


def test_a_malformed_run_with_a_good_checksum_is_encoded_again(
    first: tuple[Routine, Path, bytes], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    routine, cache, audio = first
    store = BlobStore(cache / "runs", b"GCRUN2", ".run")
    run = max((cache / "runs").rglob("*.run"), key=lambda p: p.stat().st_size)
    key = run.stem
    body = store.get(key)
    assert body is not None
    count, *rest = RUN_HEAD.unpack_from(body)
    store.put(key, RUN_HEAD.pack(count + 3, *rest) + body[RUN_HEAD.size :])  # a wrong count
    with caplog.at_level(logging.WARNING):
        again = _render(tmp_path, routine, cache, FakeEngine())
    assert _audio(again) == audio
    assert any(run.name in r.getMessage() for r in caplog.records)
    fixed = store.get(key)
    assert fixed is not None and RUN_HEAD.unpack_from(fixed)[0] == count


def test_links_in_the_cache_are_not_followed(
    first: tuple[Routine, Path, bytes], tmp_path: Path
) -> None:
    routine, cache, audio = first
    clip = _clip_path(cache, "Lift your hips.")
    run = max((cache / "runs").rglob("*.run"), key=lambda p: p.stat().st_size)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    links = []
    for entry in (clip, clip.with_suffix(".json"), run):
        target = outside / entry.name
        shutil.move(entry, target)
        entry.symlink_to(target)
        links.append((entry, target, target.read_bytes()))
    engine = FakeEngine()
    again = _render(tmp_path, routine, cache, engine)
    assert _audio(again) == audio
    assert "Lift your hips." in engine.calls  # remade, not read through the link
    for entry, target, data in links:
        assert not entry.is_symlink() and entry.is_file()
        assert target.read_bytes() == data  # nothing written through the link


def test_a_run_linked_to_dev_zero_is_refused_without_reading_it(tmp_path: Path) -> None:
    """In a child process with 1 GB of address space: following the link would exhaust it."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    store = BlobStore(tmp_path, b"GCRUN2", ".run")
    key = "ab" + "0" * 62
    path = store.path(key)
    assert path is not None
    path.parent.mkdir()
    path.symlink_to("/dev/zero")
    code = textwrap.dedent(f"""
        import resource
        from pathlib import Path
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from guidecast.store.blobs import BlobStore
        print(BlobStore(Path({str(tmp_path)!r}), b"GCRUN2", ".run").get({key!r}))
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(guidecast.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "None"
    assert not path.is_symlink()


def test_a_clip_without_its_measures_is_measured_once_not_made_again(
    first: tuple[Routine, Path, bytes], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    routine, cache, audio = first
    clip = _clip_path(cache, "Lift your hips.")
    clip.with_suffix(".json").unlink()
    for run in (cache / "runs").rglob("*.run"):
        run.unlink()
    engine = FakeEngine()
    with caplog.at_level(logging.WARNING):
        again = _render(tmp_path, routine, cache, engine)
    assert engine.calls == []
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert clip.with_suffix(".json").is_file()
    assert _audio(again) == audio
    third = FakeEngine()
    _render(tmp_path, routine, cache, third)
    assert third.calls == []


def test_a_cache_that_cannot_be_written_synthesizes_each_sentence_once(tmp_path: Path) -> None:
    routine = routine_from(tmp_path, SMALL)
    blocked = tmp_path / "file"
    blocked.write_bytes(b"x")  # a file where the cache folder should be
    engine = FakeEngine()
    done = _render(tmp_path, routine, blocked / "cache", engine)
    assert sorted(engine.calls) == sorted(set(engine.calls))
    assert done.synthesized == len(engine.calls) <= done.sentences
