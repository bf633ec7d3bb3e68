"""Render: real (fake-engine) speech lengths laid out to the millisecond, the clip cache, streaming.

Speech comes from `FakeEngine`, which speaks every word as 250 ms of tone plus 200 ms, so
every length below can be worked out by hand.
"""

from __future__ import annotations

import itertools
import logging
import re
import tracemalloc
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from guidecast.compiler.fit import compile_routine
from guidecast.compiler.narrate import END_MS, ITEM_GAP_MS
from guidecast.compiler.options import resolve_options
from guidecast.compiler.timeline import Silence, Sound, Speak, layout
from guidecast.errors import AudioError, Loc
from guidecast.lang.messages import WORDINGS
from guidecast.lang.speech import Estimate
from guidecast.media.decode import load_sound
from guidecast.model import Narration, SoundRef
from guidecast.routine.keys import PAUSE_AFTER_MS, SETTLE_MS, SWITCH_SETTLE_MS
from guidecast.sound.render import AudioFormat, stream_pcm
from guidecast.tts import ClipCache, FakeEngine
from render_fixtures import (
    RATE,
    SMALL,
    decode,
    export_to,
    fake_voice,
    holds,
    render_routine,
    routine_from,
    silent_runs,
    sounding,
    tone_mp3,
)

BUILTIN_SOUNDS = (
    "bowl", "chime", "gong", "woodblock", "go", "rest", "beeps", "finish", "rise", "fall", "steady"
)  # fmt: skip


def said(text: str) -> int:
    """How long the fake engine takes to say `text` at rate 1, in ms."""
    return len(text.split()) * FakeEngine.WORD_MS + FakeEngine.TAIL_MS


# -- layout in milliseconds -------------------------------------------------------------------

TINY = """\
title: Tiny
sounds: {start: none, transition: none, end: none}
steps:
  - pose: Mountain
    cue: Stand tall.
    hold: 30s
  - pose: Warrior
    hold: 20s
    sides: true
"""


def test_holds_and_chapters_are_exact_milliseconds(tmp_path: Path) -> None:
    routine = routine_from(tmp_path, TINY)
    voice = fake_voice(tmp_path / "cache")
    lay = render_routine(routine, voice).layout

    mountain_hold = said("Mountain.") + ITEM_GAP_MS + said("Stand tall.") + SETTLE_MS
    mountain_end = mountain_hold + 30_000
    mountain_out = mountain_end + said(WORDINGS["release"][0]) + PAUSE_AFTER_MS
    right_hold = mountain_out + said("Warrior.") + ITEM_GAP_MS + said("Begin on the right side.")
    right_hold += SETTLE_MS
    right_end = right_hold + 20_000
    left_hold = right_end + said("Gently release, and switch to the left side.")
    left_hold += SWITCH_SETTLE_MS
    left_end = left_hold + 20_000
    total = left_end + said(WORDINGS["release"][1]) + PAUSE_AFTER_MS + END_MS

    assert [(start, ms) for start, ms, _ in holds(lay)] == [
        (mountain_hold, 30_000),
        (right_hold, 20_000),
        (left_hold, 20_000),
    ]
    assert [(c.title, c.start_ms, c.end_ms) for c in lay.chapters] == [
        ("Mountain", 0, mountain_out),
        ("Warrior (right side)", mountain_out, right_end),
        ("Warrior (left side)", right_end, total),
    ]
    assert lay.total_ms == total
    for item in lay.items:
        if isinstance(item.event, Speak):
            assert item.ms == said(item.event.text), item.event.text


def test_every_hold_starts_where_the_last_instruction_ends(tmp_path: Path) -> None:
    routine = routine_from(tmp_path, SMALL)
    lay = render_routine(routine, fake_voice(tmp_path / "cache")).layout
    items = list(lay.items)
    checked = 0
    for i, item in enumerate(items):
        if not (isinstance(item.event, Silence) and item.event.kind == "hold"):
            continue
        settle, spoken = items[i - 1], items[i - 2]
        assert isinstance(settle.event, Silence) and settle.event.kind == "settle"
        assert settle.ms in (SETTLE_MS, SWITCH_SETTLE_MS)
        assert isinstance(spoken.event, Speak)
        assert item.start_ms == spoken.start_ms + spoken.ms + settle.ms
        assert spoken.ms == said(spoken.event.text)
        checked += 1
    assert checked == 1 + 2 + 3


def test_sides_and_reps_structure(tmp_path: Path) -> None:
    routine = routine_from(tmp_path, SMALL)
    lay = render_routine(routine, fake_voice(tmp_path / "cache")).layout

    titles = [c.title for c in lay.chapters]
    assert titles == ["Start", "Mountain", "Lunge (right side)", "Lunge (left side)", "Bridge"]
    assert lay.chapters[0].start_ms == 0
    for before, after in itertools.pairwise(lay.chapters):
        assert before.end_ms == after.start_ms and before.start_ms < before.end_ms
    assert lay.chapters[-1].end_ms == lay.total_ms

    def inside(title: str, kind: str) -> list[int]:
        chapter = next(c for c in lay.chapters if c.title == title)
        return [ms for s, ms, _ in holds(lay, kind) if chapter.start_ms <= s < chapter.end_ms]

    assert inside("Mountain", "hold") == [6000]
    assert inside("Lunge (right side)", "hold") == [5000]
    assert inside("Lunge (left side)", "hold") == [5000]
    assert inside("Bridge", "hold") == [4000, 4000, 4000]  # N holds
    assert inside("Bridge", "rest") == [2000, 2000]  # N-1 rests
    spoken = [i.event.text for i in lay.items if isinstance(i.event, Speak)]
    assert spoken.count("Release and rest.") == 2
    reps = [t for t in spoken if t.startswith("Repetition")]
    assert reps == [
        "Repetition one of three.",
        "Repetition two of three.",
        "Repetition three of three.",
    ]
    right = next(c for c in lay.chapters if c.title == "Lunge (left side)")
    switch = next(i for i in lay.items if i.start_ms == right.start_ms)
    assert isinstance(switch.event, Speak)
    assert switch.event.text == "Gently release, and switch to the left side."


def test_decoded_silences_match_planned_holds(tmp_path: Path) -> None:
    routine = routine_from(tmp_path, SMALL)
    voice = fake_voice(tmp_path / "cache")
    rendered = render_routine(routine, voice)
    result = export_to(tmp_path / "out", routine, rendered, voice)
    audio = decode(result.files.mp3)
    runs = silent_runs(audio, RATE, min_ms=1000)

    # The planned quiet in each hold or rest: from the end of a sound to the start of the next,
    # where that stretch reaches into the hold (the gap after the last instruction belongs to
    # it; the cue that starts a hold ends a stretch).
    audible = sounding(rendered.layout)
    periods = holds(rendered.layout) + holds(rendered.layout, "rest")
    planned = [
        (end / 1000, start / 1000)
        for (_, end), (start, _) in itertools.pairwise(audible)
        if start - end >= 1000 and any(s < start and end < s + ms for s, ms, _ in periods)
    ]
    assert len(planned) >= 6 + 2
    for quiet_from, quiet_to in planned:
        match = [r for r in runs if abs(r[0] - quiet_from) < 0.1 and abs(r[1] - quiet_to) < 0.1]
        assert len(match) == 1, (quiet_from, quiet_to, runs)


# -- --length with real lengths ---------------------------------------------------------------

WORDY = """\
title: Wordy
sounds: {start: none, transition: none, end: chime}
steps:
"""
for _name in ("Cat", "Cow", "Sphinx"):
    WORDY += f"""\
  - pose: {_name}
    hold: 20-90s
    why: {_name} keeps your back supple.
    how:
      - Place both of your hands flat on the floor right below your shoulders and spread fingers.
      - Let your knees rest on the mat right below your hips, about a hand width apart.
      - Lengthen your spine from the crown of your head down to your tailbone as you breathe.
      - Soften your shoulders away from your ears and keep your neck long and relaxed.
"""


class _SlowSpeaker(FakeEngine):
    """A voice much slower than the planning estimate, as another engine or voice may be."""

    WORD_MS = 450


def test_length_fit_lands_within_five_seconds_with_real_lengths(tmp_path: Path) -> None:
    routine = routine_from(tmp_path, WORDY)
    voice = fake_voice(tmp_path / "cache", _SlowSpeaker())
    target = 4 * 60_000
    rendered = render_routine(routine, voice, length_ms=target)
    assert abs(rendered.layout.total_ms - target) <= 5000
    midpoint = render_routine(routine, voice).timeline.holds_ms
    assert rendered.timeline.holds_ms != midpoint  # the fit moved the holds

    # Fitting with estimated speech lengths would miss: the real lengths matter here.
    options = resolve_options(routine, length_ms=target)
    estimated = compile_routine(routine, options, Estimate(options.rate))
    assert abs(layout(estimated, voice).total_ms - target) > 5000


# -- the clip cache ---------------------------------------------------------------------------


def test_cache_synthesizes_each_sentence_once_then_never_again(tmp_path: Path) -> None:
    routine = routine_from(tmp_path, SMALL)
    first = FakeEngine()
    rendered = render_routine(routine, fake_voice(tmp_path / "cache", first))
    texts = rendered.timeline.texts()
    assert sorted(first.calls) == sorted(texts)  # every distinct sentence, each exactly once

    again = FakeEngine()
    rendered_again = render_routine(routine, fake_voice(tmp_path / "cache", again))
    assert again.calls == []
    assert rendered_again.layout == rendered.layout


def test_cache_another_length_or_narration_synthesizes_only_new_text(tmp_path: Path) -> None:
    routine = routine_from(tmp_path, WORDY)
    cache = tmp_path / "cache"
    first = render_routine(routine, fake_voice(cache), length_ms=200_000)

    longer = FakeEngine()
    second = render_routine(routine, fake_voice(cache, longer), length_ms=290_000)
    # Only guidance changes with the length: how long a hold lasts, and which holds are long
    # enough for a halfway or last-breaths cue (wordings are used in turn).
    new = set(second.timeline.texts()) - set(first.timeline.texts())
    wordings = {text for bank in WORDINGS.values() for text in bank}
    # What was synthesized anew (the fit's draft included) is guidance, nothing else.
    assert all(t in wordings or re.search(r"\b(seconds|minutes?)\b", t) for t in longer.calls)
    assert all(t in wordings or re.search(r"\b(seconds|minutes?)\b", t) for t in new), new
    assert second.layout.total_ms > first.layout.total_ms + 50_000

    full = FakeEngine()
    third = render_routine(routine, fake_voice(cache, full), narration=Narration.FULL)
    new = set(third.timeline.texts()) - set(first.timeline.texts())
    whys = {s.why for s in routine.steps}
    assert whys <= new  # full narration adds each step's "why", and more guidance
    assert all(t in whys or t in wordings or re.search(r"\b(seconds|minutes?)\b", t) for t in new)
    assert set(full.calls) <= new

    slower = FakeEngine()
    slow = render_routine(routine, fake_voice(cache, slower, rate=0.8))
    assert set(slow.timeline.texts()) <= set(slower.calls)  # the rate is part of the key


def _at(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


CORRUPTIONS = {
    "truncated": lambda data: data[: len(data) // 2],
    "garbage": lambda data: b"this is not a WAV file at all" * 10,
    "empty": lambda data: b"",
    "header only": lambda data: data[:44],
    "flipped byte": lambda data: _at(data, len(data) // 2, bytes([data[len(data) // 2] ^ 0x5A])),
    "zeroed samples": lambda data: _at(data, 100, bytes(400)),
    "rate 8000": lambda data: _at(data, 24, (8000).to_bytes(4, "little")),
    "rate 0": lambda data: _at(data, 24, (0).to_bytes(4, "little")),
    "rate 1": lambda data: _at(data, 24, (1).to_bytes(4, "little")),
}


@pytest.mark.parametrize("damage", CORRUPTIONS, ids=list(CORRUPTIONS))
def test_corrupt_cache_entry_is_resynthesized_with_a_warning(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    routine = routine_from(tmp_path, SMALL)
    cache_dir = tmp_path / "cache"
    first = render_routine(routine, fake_voice(cache_dir))
    victim = "Lift your hips."
    key = ClipCache.key(FakeEngine().identity(), 1.0, victim)
    entry = ClipCache(cache_dir).path(key)
    good = entry.read_bytes()
    entry.write_bytes(CORRUPTIONS[damage](good))

    engine = FakeEngine()
    voice = fake_voice(cache_dir, engine)
    with caplog.at_level(logging.WARNING):
        second = render_routine(routine, voice)  # lengths and loudness come from the measures
        assert engine.calls == []
        list(stream_pcm(second, voice, AudioFormat()))  # the sound is read, checked, remade
    assert engine.calls == [victim]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any(entry.name in r.getMessage() for r in warnings), [r.getMessage() for r in warnings]
    assert second.layout == first.layout
    assert entry.read_bytes() == good  # repaired with the same (deterministic) clip


def test_a_folder_in_place_of_a_cache_entry_is_made_again(tmp_path: Path) -> None:
    routine = routine_from(tmp_path, SMALL)
    cache_dir = tmp_path / "cache"
    first = render_routine(routine, fake_voice(cache_dir))
    entry = ClipCache(cache_dir).path(
        ClipCache.key(FakeEngine().identity(), 1.0, "Lift your hips.")
    )
    entry.unlink()
    entry.mkdir()
    engine = FakeEngine()
    voice = fake_voice(cache_dir, engine)
    second = render_routine(routine, voice)
    assert second.layout == first.layout
    list(stream_pcm(second, voice, AudioFormat()))
    assert engine.calls == ["Lift your hips."] and entry.is_file()


def test_a_cache_that_cannot_be_written_is_skipped_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A file where the cache folder should be: every write fails, as on a full disk.
    _unwritable_cache(tmp_path, caplog, lambda cache: (cache.rmdir(), cache.write_bytes(b"x")))


def _unwritable_cache(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, spoil: Callable[[Path], object]
) -> None:
    routine = routine_from(tmp_path, SMALL)
    cache = tmp_path / "cache"
    cache.mkdir()
    spoil(cache)
    with caplog.at_level(logging.WARNING):
        rendered = render_routine(routine, fake_voice(cache))
    assert rendered.layout.total_ms > 0
    said = [
        r.getMessage() for r in caplog.records if "cannot write the speech cache" in r.getMessage()
    ]
    assert len(said) == 1, said


# -- streaming --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample_rate", "channels", "block_ms"), [(44_100, 1, 500), (22_050, 2, 1000), (48_000, 1, 333)]
)
def test_stream_yields_exactly_the_layout_in_bounded_blocks(
    tmp_path: Path, sample_rate: int, channels: int, block_ms: int
) -> None:
    routine = routine_from(tmp_path, SMALL)
    fmt = AudioFormat(sample_rate=sample_rate, channels=channels)
    voice = fake_voice(tmp_path / "cache", sample_rate=sample_rate)
    rendered = render_routine(routine, voice, fmt)
    limit = block_ms * sample_rate // 1000 * channels
    total = 0
    for block in stream_pcm(rendered, voice, fmt, block_ms=block_ms):
        assert block.dtype == np.int16
        assert 0 < len(block) <= limit
        total += len(block)
    assert total == rendered.layout.total_ms * sample_rate // 1000 * channels


def _stream_peak(tmp_path: Path, hold: str) -> tuple[int, int]:
    routine = routine_from(tmp_path, SMALL.replace("hold: 6s", f"hold: {hold}"), name=hold)
    voice = fake_voice(tmp_path / "cache")
    fmt = AudioFormat()
    rendered = render_routine(routine, voice, fmt)
    list(stream_pcm(rendered, voice, fmt))  # warm the sounds' and clips' caches
    tracemalloc.start()
    try:
        samples = sum(len(b) for b in stream_pcm(rendered, voice, fmt))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return samples, peak


def test_stream_memory_does_not_grow_with_session_length(tmp_path: Path) -> None:
    short_samples, short_peak = _stream_peak(tmp_path, "10s")
    long_samples, long_peak = _stream_peak(tmp_path, "20m")
    assert long_samples > 10 * short_samples
    assert long_samples * 2 > 50 * 2**20  # the whole long session would be over 50 MB
    assert long_peak < short_peak + 2**20, (short_peak, long_peak)


# -- sounds -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN_SOUNDS)
def test_builtin_sounds_load_at_both_rates(name: str) -> None:
    ref = SoundRef(name, None, Loc("test"))
    full = load_sound(ref, 44_100)
    half = load_sound(ref, 22_050)
    assert full.dtype == np.float32 and half.dtype == np.float32
    assert len(full) >= 44_100 // 2  # at least half a second
    assert abs(len(full) - 2 * len(half)) <= 1
    for x in (full, half):
        assert np.isfinite(x).all()
        assert 0.1 < float(np.abs(x).max()) <= 1.0
        tail = x[-len(x) // 50 :]
        assert float(np.sqrt(np.mean(tail**2))) < 10 ** (-50 / 20)  # rings out to quiet


def test_bells_are_never_cut_off_in_the_decoded_audio(tmp_path: Path) -> None:
    routine = routine_from(tmp_path, SMALL)
    voice = fake_voice(tmp_path / "cache")
    rendered = render_routine(routine, voice)
    audio = decode(export_to(tmp_path / "out", routine, rendered, voice).files.mp3)
    audible = sounding(rendered.layout)
    bells = [i for i in rendered.layout.items if isinstance(i.event, Sound)]
    assert [b.event.sound.name for b in bells] == ["bowl", "chime", "chime", "bowl"]

    window = RATE // 20  # 50 ms
    for item in bells:
        assert isinstance(item.event, Sound)
        bell = load_sound(item.event.sound, RATE).astype(np.float64)
        start = item.start_ms * RATE // 1000
        end = start + len(bell)
        following = [s for s, _ in audible if s > item.start_ms]
        if following:  # the next sound starts only once the bell has rung out
            assert min(following) * RATE // 1000 >= end
        heard = audio[start:end]
        assert len(heard) == len(bell)
        scale = float(np.dot(heard, bell) / np.dot(bell, bell))
        assert scale > 0.05
        n = len(bell) // window
        want = np.sqrt(np.mean((scale * bell[: n * window]).reshape(n, window) ** 2, axis=1))
        got = np.sqrt(np.mean(heard[: n * window].reshape(n, window) ** 2, axis=1))
        audible_part = want > 1e-3  # down to about -60 dBFS, the whole audible decay
        assert audible_part.sum() >= n // 2
        ratio_db = 20 * np.log10(got[audible_part] / want[audible_part])
        assert np.abs(ratio_db).max() < 3.0, (item.event.sound.name, ratio_db.round(1))


def _tone_wav(path: Path, rate: int, seconds: float, hz: float) -> None:
    t = np.arange(int(rate * seconds)) / rate
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((0.4 * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes())


def _tone_mp3(path: Path, rate: int, seconds: float, hz: float) -> None:
    path.write_bytes(tone_mp3(seconds, rate=rate, hz=hz, bitrate=96, level=0.4))


@pytest.mark.parametrize("suffix", [".wav", ".mp3"])
def test_a_sound_file_loads_at_the_output_rate(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"bell{suffix}"
    (_tone_wav if suffix == ".wav" else _tone_mp3)(path, 22_050, 1.0, 660.0)
    sound = load_sound(SoundRef(path.name, str(path), Loc("test")), 44_100)
    # MP3 adds the encoder's delay and padding (there is no gapless header here).
    assert 44_100 <= len(sound) <= 44_100 * 1.1
    spectrum = np.abs(np.fft.rfft(sound * np.hanning(len(sound))))
    assert abs(np.fft.rfftfreq(len(sound), 1 / 44_100)[spectrum.argmax()] - 660) < 3


def test_a_broken_sound_file_is_a_one_line_audio_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp3"
    path.write_bytes(b"this is no MP3 at all" * 50)
    with pytest.raises(AudioError) as info:
        load_sound(SoundRef(path.name, str(path), Loc("test")), 44_100)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
