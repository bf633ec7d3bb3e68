"""No dead air by default: every seed and example renders with a faint bed under its holds.

A listener cannot tell a long stretch of digital silence from a stopped player; with the
default bed no stretch of it is longer than 10 s, while `--bed none` (or `bed: none`) still
gives the digital silence of before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from guidecast.compiler.options import resolve_options
from guidecast.routine.keys import DEFAULT_BED
from guidecast.routine.load import load_routine
from guidecast.sound.mix import resolve_mix
from guidecast.sound.render import AudioFormat, render, stream_pcm
from render_fixtures import RATE, decode, fake_voice, run_main

ROOT = Path(__file__).resolve().parent.parent
ROUTINES = sorted((ROOT / "routines").glob("*.yaml")) + sorted((ROOT / "examples").glob("*.yaml"))


def longest_zero_run_s(x: npt.NDArray[np.generic]) -> float:
    """The longest stretch of samples that are exactly zero, in seconds."""
    zero = np.concatenate([[False], x == 0, [False]])
    edges = np.flatnonzero(np.diff(zero.astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]
    return float((ends - starts).max(initial=0)) / RATE


@pytest.mark.parametrize("path", ROUTINES, ids=lambda p: p.stem)
def test_a_default_render_has_no_digital_silence_over_10_s(path: Path, tmp_path: Path) -> None:
    routine = load_routine(path)
    voice = fake_voice(tmp_path / "cache")
    mix = resolve_mix(routine)
    assert mix.bed is not None and mix.bed.name == DEFAULT_BED
    options = resolve_options(routine, rate=voice.rate)
    rendered = render(routine, options, voice=voice, fmt=AudioFormat(), mix=mix)
    pcm = np.concatenate(list(stream_pcm(rendered, voice, AudioFormat())))
    assert longest_zero_run_s(pcm) <= 10.0


def test_the_default_bed_is_in_the_file_and_bed_none_turns_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = ROOT / "examples" / "body-scan.yaml"
    args = ["-q", "render", routine, "-e", "fake", "--cache-dir", tmp_path / "cache"]
    code, _, err = run_main([*args, "-o", tmp_path / "bed"], monkeypatch, capsys)
    assert code == 0, err
    code, _, err = run_main([*args, "-o", tmp_path / "none", "--bed", "none"], monkeypatch, capsys)
    assert code == 0, err
    with_bed = decode(tmp_path / "bed" / "body-scan.mp3")
    without = decode(tmp_path / "none" / "body-scan.mp3")
    assert len(with_bed) == len(without)
    assert longest_zero_run_s(with_bed) <= 10.0
    assert longest_zero_run_s(without) > 30.0  # the holds of a minute or two, as before
