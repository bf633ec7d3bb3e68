"""A seed routine renders with every built-in bed and the real Piper voice, to standard.

Kept short: the routine with the shortest session, brief narration, at its shortest length.
Checked with readers independent of guidecast as in test_seed_sessions: ffmpeg decodes without
an error and lists the chapters; its EBU R128 filter measures loudness and true peak.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from guidecast.compiler.fit import length_bounds
from guidecast.compiler.options import resolve_options
from guidecast.compiler.timeline import Sound, Speak
from guidecast.errors import Loc
from guidecast.media.beds import BUILTIN_BEDS
from guidecast.model import Narration, SoundRef
from guidecast.routine.load import load_routine
from guidecast.sound.mix import resolve_mix
from guidecast.sound.render import AudioFormat, Voice, render, stream_pcm
from render_fixtures import RATE, decode, ebur128, export_to, ffmetadata, holds
from test_mix import integrated, isolated_momentary, spans

ROUTINE = Path(__file__).resolve().parent.parent / "routines" / "back-stiffness.yaml"

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("bed", list(BUILTIN_BEDS))
def test_seed_routine_with_a_bed_renders_to_standard(
    bed: str, piper_voice: Voice, tmp_path: Path
) -> None:
    routine = load_routine(ROUTINE)
    brief = resolve_options(routine, narration=Narration.BRIEF)
    shortest = length_bounds(routine, brief, piper_voice).shortest_ms
    options = resolve_options(routine, narration=Narration.BRIEF, length_ms=shortest)
    mix = resolve_mix(routine, bed=SoundRef(bed, None, Loc("test")))
    fmt = AudioFormat()
    rendered = render(routine, options, voice=piper_voice, fmt=fmt, mix=mix)
    mp3 = export_to(tmp_path, routine, rendered, piper_voice).files.mp3

    audio = decode(mp3)  # fails on any decoder message
    assert len(audio) == rendered.layout.total_ms * RATE // 1000
    chapters = ffmetadata(mp3).chapters
    assert len(chapters) == len(rendered.layout.chapters)
    assert chapters[0].start_ms == 0 and chapters[-1].end_ms == rendered.layout.total_ms

    loudness, peak = ebur128(mp3)
    assert abs(loudness - fmt.target_lufs) <= 1.0, loudness
    assert peak <= -1.0, peak

    start, ms, _ = max(holds(rendered.layout), key=lambda h: h[1])
    middle = audio[(start + ms // 3) * RATE // 1000 : (start + 2 * ms // 3) * RATE // 1000]
    assert np.sqrt(np.mean(middle**2)) > 1e-3, "the bed plays in the holds"
    assert np.abs(audio[-RATE // 10 :]).max() < 0.01, "and fades out at the end"


def test_real_speech_is_even_and_bells_sit_under_it(piper_voice: Voice) -> None:
    """With the real voice (peak-normalised sentences), countdown numbers included."""
    routine = load_routine(ROUTINE)
    options = resolve_options(routine, countdown_ms=5000)
    rendered = render(
        routine, options, voice=piper_voice, fmt=AudioFormat(), mix=resolve_mix(routine)
    )
    out = np.concatenate(list(stream_pcm(rendered, piper_voice, AudioFormat()))) / 32768
    sentences = [integrated(out[a:b]) for a, b in spans(rendered, Speak)]
    assert max(sentences) - min(sentences) <= 3.0
    speech = np.concatenate([isolated_momentary(out[a:b]) for a, b in spans(rendered, Speak)])
    p95 = float(np.percentile(speech, 95))
    for a, b in spans(rendered, Sound):
        assert isolated_momentary(out[a:b]).max() <= p95
