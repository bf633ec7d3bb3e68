"""Every seed routine renders with the real Piper voice at every narration level, to standard.

Checked with readers independent of guidecast: ffmpeg decodes the MP3 without a single error and
lists one chapter per step and side; its EBU R128 filter measures the loudness and true peak;
the holds planned are digital silence in the decoded audio.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from guidecast.compiler.timeline import Speak
from guidecast.model import Narration, Routine
from guidecast.mp3.export import ExportResult
from guidecast.routine.load import load_routine
from guidecast.sound.mix import Mix
from guidecast.sound.render import AudioFormat, Rendered, Voice
from guidecast.tts import PiperEngine
from render_fixtures import (
    RATE,
    decode,
    ebur128,
    export_to,
    ffmetadata,
    holds,
    render_routine,
)

ROOT = Path(__file__).resolve().parent.parent
ROUTINES = sorted((ROOT / "routines").glob("*.yaml"))
LEVELS = list(Narration)
SMEAR_MS = 50

pytestmark = pytest.mark.slow


def _expected_chapters(routine: Routine) -> list[str]:
    titles = ["Introduction"] if routine.intro or routine.safety else []
    for step in routine.steps:
        titles += [f"{step.pose} ({side} side)" for side in step.sides] or [step.pose]
    return titles + (["Closing"] if routine.outro else [])


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
@pytest.mark.parametrize("path", ROUTINES, ids=lambda p: p.stem)
def test_seed_routine_renders_to_standard(
    path: Path, level: Narration, piper_voice: Voice, tmp_path: Path
) -> None:
    routine = load_routine(path)
    # Without the default bed, so that the holds can be checked for silence.
    rendered: Rendered = render_routine(routine, piper_voice, narration=level, mix=Mix())
    result: ExportResult = export_to(tmp_path, routine, rendered, piper_voice)
    mp3 = result.files.mp3

    audio = decode(mp3)  # fails on any decoder message
    assert len(audio) == rendered.layout.total_ms * RATE // 1000

    meta = ffmetadata(mp3)
    assert [c.title for c in meta.chapters] == _expected_chapters(routine)
    assert meta.chapters[0].start_ms == 0
    assert meta.chapters[-1].end_ms == rendered.layout.total_ms

    loudness, peak = ebur128(mp3)
    assert abs(loudness - AudioFormat().target_lufs) <= 1.0, loudness
    assert peak <= -1.0, peak

    # Each hold is silent for its planned length, apart from cues said in it, to within the
    # 0.1 s the standard allows: MP3 smears a sound's onset over up to one frame (26 ms), so
    # SMEAR_MS at each edge is left out of the check.
    said = [(s, s + ms) for item in rendered.layout.items for s, ms, _ in item.cues]
    for start, ms, _ in holds(rendered.layout):
        quiet = np.zeros(ms, dtype=bool)
        quiet[SMEAR_MS : ms - SMEAR_MS] = True
        for a, b in said:
            quiet[max(0, a - start - SMEAR_MS) : max(0, min(ms, b - start + SMEAR_MS))] = False
        edges = (start + np.arange(ms + 1)) * RATE // 1000
        per_ms = np.maximum.reduceat(np.abs(audio[: edges[-1]]), edges[:-1])
        assert per_ms[quiet].max(initial=0.0) < 1e-3, (routine.title, start, ms)


# -- pace, with the real voice ----------------------------------------------------------------


def _words_per_minute(rendered: Rendered) -> float:
    """Words said per minute of speech (every spoken clip, cues inside holds included)."""
    words = ms = 0
    for item in rendered.layout.items:
        if isinstance(item.event, Speak):
            words, ms = words + len(item.event.text.split()), ms + item.ms
        for _, length, cue in item.cues:
            words, ms = words + len(cue.text.split()), ms + length
    return words * 60_000 / ms


@pytest.mark.parametrize("path", ROUTINES, ids=lambda p: p.stem)
def test_seed_routine_is_spoken_at_a_teachers_pace(path: Path, piper_voice: Voice) -> None:
    rendered = render_routine(load_routine(path), piper_voice, narration=Narration.STANDARD)
    assert 140 <= _words_per_minute(rendered) <= 165


def test_a_slower_rate_lengthens_speech_in_proportion() -> None:
    engine = PiperEngine()
    texts = [
        "Sit tall, close your eyes, and let your breath slow down.",
        "Keep your hips high and let your chest sink toward the floor.",
        "Stay here for about two minutes.",
        "Slowly and gently, come out of the pose.",
        "Press your sit bones down and feel that support rise up through your spine.",
        "Five.",
    ]
    normal = sum(engine.synthesize(t, rate=1.0).ms for t in texts)
    slower = sum(engine.synthesize(t, rate=0.8).ms for t in texts)
    assert 1.22 <= slower / normal <= 1.28, slower / normal


def test_say_shows_the_lexicon_stress_with_the_real_voice(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from guidecast.cli import cli

    result = CliRunner().invoke(
        cli, ["say", "Savasana.", "--phonemes", "-o", str(tmp_path / "s.wav")]
    )
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("phonemes:")]
    phonemes = line.split(":", 1)[1].strip()
    # stress on the second syllable (shuh-VAH-suh-nuh), not espeak's sav-a-SAH-na
    assert re.fullmatch(r"ʃ\S*vˈɑː\S*\.", phonemes), phonemes
