"""The package's front door: the names `import guidecast` offers, used as its docstring shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import feedparser

import guidecast as gc

ROOT = Path(__file__).resolve().parent.parent


def test_the_pipeline_through_the_package_namespace(tmp_path: Path) -> None:
    routine = gc.load_routine(ROOT / "routines" / "back-stiffness.yaml")
    options = gc.resolve_options(routine, length_ms=13 * 60_000)
    voice = gc.Voice(gc.make_engine("fake"), gc.ClipCache(tmp_path / "cache"),
                     rate=options.rate, sample_rate=44_100)  # fmt: skip
    done = gc.render_session(routine, options, voice=voice, output=tmp_path / "out")
    assert done.export.files.mp3 == tmp_path / "out" / "back-stiffness.mp3"
    assert abs(done.export.duration_ms - 13 * 60_000) <= 5000
    assert abs(done.lufs - (-19.0)) <= 1.0
    assert done.synthesized == done.sentences > 0
    feed = feedparser.parse(gc.write_feed(tmp_path / "out", base_url="https://e.org/").read_bytes())
    assert [e.title for e in feed.entries] == [routine.title]


def test_every_advertised_name_exists() -> None:
    for name in gc.__all__:
        assert getattr(gc, name) is not None, name


def test_importing_the_package_loads_no_audio_stack() -> None:
    code = "import sys, guidecast; print('numpy' in sys.modules, 'mutagen' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
