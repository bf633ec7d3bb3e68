"""Even sound: levelled speech, bells matched to speech, and ambience beds ducked under it.

Measured with references independent of guidecast's meter: pyloudnorm for integrated loudness,
and its K-weighting filters run through scipy for momentary (400 ms) and short-term (3 s)
loudness. Speech comes from a fake voice whose clips are deliberately uneven.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyloudnorm
import pytest
from scipy.signal import lfilter

from guidecast.compiler.options import resolve_options
from guidecast.compiler.timeline import Layout, Sound, Speak
from guidecast.errors import AudioError, Loc
from guidecast.media.beds import BUILTIN_BEDS, LOOP_S, crossfade_loop, load_bed, make_builtin_bed
from guidecast.model import SoundRef
from guidecast.routine.keys import DEFAULT_BED
from guidecast.routine.load import BUILTIN_BEDS as ROUTINE_BEDS
from guidecast.sound.mix import Mix, resolve_mix
from guidecast.sound.render import AudioFormat, Rendered, Voice, render, stream_pcm
from guidecast.tts import Clip, ClipCache, FakeEngine
from render_fixtures import (
    RATE,
    decode,
    export_to,
    fake_voice,
    holds,
    routine_from,
    run_main,
    true_peak_dbtp,
    write_wav,
)

Array = npt.NDArray[np.float64]

EVEN = """\
title: Even Sound
intro: Welcome. Find a comfortable seat and let your shoulders soften away from your ears.
steps:
  - pose: Mountain
    cue: Stand tall.
    how: [Press the feet into the floor and lengthen through the crown of the head.]
    hold: 30s
  - pose: Child's Pose
    cue: Rest the forehead on the mat and let the back widen with every breath.
    hold: 25s
outro: Thank you.
defaults:
  countdown: 5s
"""

BEDDED = """\
title: Bedded
intro: Welcome. Find a comfortable seat and let your shoulders soften away from your ears.
steps:
  - pose: Mountain
    cue: Stand tall and breathe.
    hold: 40s
  - pose: Child's Pose
    cue: Rest the forehead on the mat.
    hold: 40s
outro: Thank you for practising today.
"""


class UnevenEngine(FakeEngine):
    """The fake voice at a different level for every sentence, numbers the loudest (as Piper's
    peak-normalised short clips are)."""

    def synthesize(self, text: str, *, rate: float) -> Clip:
        clip = super().synthesize(text, rate=rate)
        if len(text.split()) == 1:
            level = 1.9  # "Five." and the pose names
        else:
            level = 0.1 + 1.5 * (int(hashlib.sha256(text.encode()).hexdigest()[:4], 16) % 100) / 99
        x = np.clip(clip.samples.astype(np.float64) * level, -32768, 32767)
        return Clip(x.astype(np.int16), clip.sample_rate)


# -- independent measures ---------------------------------------------------------------------


def k_weighted(x: Array, rate: int = RATE) -> Array:
    """x through pyloudnorm's BS.1770 K-weighting filters (run by scipy)."""
    for f in pyloudnorm.Meter(rate)._filters.values():
        x = lfilter(f.b, f.a, x)
    return x


def windows(x: Array, width_s: float, hop_s: float = 0.1, rate: int = RATE) -> Array:
    """Loudness (LUFS, ungated) of `width_s` windows of x every `hop_s` (K-weighted)."""
    power = k_weighted(x, rate) ** 2
    width, hop = int(width_s * rate), int(hop_s * rate)
    sums = np.concatenate([[0.0], np.cumsum(power)])
    starts = np.arange(0, max(1, len(x) - width + 1), hop)
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10((sums[starts + width] - sums[starts]) / width)


def isolated_momentary(x: Array) -> Array:
    """Momentary loudness of a piece set in silence, blocks under -70 LUFS left out."""
    pad = np.zeros(RATE // 2)
    m = windows(np.concatenate([pad, x, pad]), 0.4)
    return m[m > -70]


def integrated(x: Array, rate: int = RATE) -> float:
    """Integrated loudness by pyloudnorm, a short piece set in a little silence."""
    pad = np.zeros(rate // 4)
    return float(pyloudnorm.Meter(rate).integrated_loudness(np.concatenate([pad, x, pad])))


def pcm(rendered: Rendered, voice: Voice, fmt: AudioFormat | None = None) -> Array:
    blocks = list(stream_pcm(rendered, voice, fmt or AudioFormat()))
    return np.concatenate(blocks).astype(np.float64) / 32768


def spans(rendered: Rendered, kind: type) -> list[tuple[int, int]]:
    """Sample spans of speech (Speak, with cues said in holds) or of bells (Sound)."""
    out = []
    for item in rendered.layout.items:
        if isinstance(item.event, kind):
            out.append((item.start_ms, item.ms))
        if kind is Speak:
            out.extend((s, ms) for s, ms, _ in item.cues)
    return [(s * RATE // 1000, (s + ms) * RATE // 1000) for s, ms in out]


def render_with(
    folder: Path, text: str, mix: Mix, voice: Voice | None = None
) -> tuple[Rendered, Voice]:
    routine = routine_from(folder, text)
    voice = voice or fake_voice(folder / "cache", UnevenEngine())
    options = resolve_options(routine, rate=voice.rate)
    return render(routine, options, voice=voice, fmt=AudioFormat(), mix=mix), voice


def bed_ref(name: str) -> SoundRef:
    return SoundRef(name, None, Loc("test"))


# -- even speech ------------------------------------------------------------------------------


def test_speech_clips_span_at_most_3_lu_after_levelling(tmp_path: Path) -> None:
    rendered, voice = render_with(tmp_path, EVEN, Mix())
    raw = [voice.clip(t) for t in rendered.timeline.texts()]
    before = [integrated(c.samples / 32768, c.sample_rate) for c in raw]
    assert max(before) - min(before) > 9, "the test voice should be uneven to begin with"
    out = pcm(rendered, voice)
    after = {integrated(out[a:b]) for a, b in spans(rendered, Speak)}
    assert any(len(t.split()) == 1 for t in rendered.timeline.texts())  # countdown numbers
    assert max(after) - min(after) <= 3.0, sorted(after)


def test_clip_loudness_is_measured_once_and_cached_beside_the_clip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered, voice = render_with(tmp_path, EVEN, Mix())
    cache = voice.cache
    text = rendered.timeline.texts()[0]
    key = ClipCache.key(voice.identity, voice.rate, text)
    stored = json.loads(cache.measures_path(key).read_text())
    assert stored["frames"] == len(voice.clip(text).samples)
    assert cache.get(key) is not None and cache.get(key).loudness == stored["lufs"]  # type: ignore[union-attr]

    import guidecast.sound.voice as voice_module

    calls: list[int] = []
    real = voice_module.clip_loudness
    monkeypatch.setattr(voice_module, "clip_loudness", lambda x, r: calls.append(1) or real(x, r))
    warm = fake_voice(tmp_path / "cache", UnevenEngine())
    render_with(tmp_path, EVEN, Mix(), warm)
    assert calls == [] and warm.synthesized == 0

    # A cache made before clips were measured: measured once more, then remembered.
    for path in (tmp_path / "cache").rglob("*.json"):
        path.unlink()
    render_with(tmp_path, EVEN, Mix(), fake_voice(tmp_path / "cache", UnevenEngine()))
    assert calls and len(list((tmp_path / "cache").rglob("*.json"))) == len(calls)


def test_cache_get_and_put_keep_working_without_a_loudness(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    clip = Clip(np.arange(100, dtype=np.int16), 22050)
    cache.put("ab" * 32, clip)
    got = cache.get("ab" * 32)
    assert got is not None and got.loudness is None
    assert np.array_equal(got.samples, clip.samples)
    cache.put("ab" * 32, dataclasses.replace(clip, loudness=-23.5))
    assert cache.get("ab" * 32).loudness == -23.5  # type: ignore[union-attr]
    cache.put("ab" * 32, Clip(np.arange(50, dtype=np.int16), 22050))  # re-made: stale measure
    assert cache.get("ab" * 32).loudness is None  # type: ignore[union-attr]


# -- bells ------------------------------------------------------------------------------------


def _bell_and_speech(rendered: Rendered, out: Array) -> tuple[float, float]:
    speech = np.concatenate([isolated_momentary(out[a:b]) for a, b in spans(rendered, Speak)])
    bells = [float(isolated_momentary(out[a:b]).max()) for a, b in spans(rendered, Sound)]
    return max(bells), float(np.percentile(speech, 95))


SOUND_SETS = [
    "{start: bowl, transition: chime, end: gong}",
    "{start: woodblock, transition: loud.wav, end: bowl}",
]


@pytest.mark.parametrize("sounds", SOUND_SETS)
def test_bells_peak_no_louder_than_loud_speech(tmp_path: Path, sounds: str) -> None:
    t = np.arange(2 * RATE) / RATE
    write_wav(tmp_path / "loud.wav", 0.99 * np.sign(np.sin(2 * np.pi * 880 * t)) * np.exp(-t))
    rendered, voice = render_with(tmp_path, EVEN + f"sounds: {sounds}\n", Mix())
    bell, speech_p95 = _bell_and_speech(rendered, pcm(rendered, voice))
    assert bell <= speech_p95, (bell, speech_p95)
    assert bell >= speech_p95 - 3, "bells stay audible: matched, not buried"


def test_soft_bells_swell_in(tmp_path: Path) -> None:
    routine = EVEN + "sounds: {start: chime, transition: none, end: none}\n"
    hard, voice = render_with(tmp_path, routine, Mix())
    soft, _ = render_with(tmp_path, routine, Mix(bell_onset_ms=120), voice)
    (a, _), = spans(hard, Sound)  # fmt: skip
    onset = slice(a, a + RATE // 50)  # the first 20 ms
    hard_rms = np.sqrt(np.mean(pcm(hard, voice)[onset] ** 2))
    soft_rms = np.sqrt(np.mean(pcm(soft, voice)[onset] ** 2))
    assert soft_rms < 0.2 * hard_rms


# -- beds -------------------------------------------------------------------------------------


def test_builtin_bed_names_agree() -> None:
    assert tuple(BUILTIN_BEDS) == ROUTINE_BEDS


@pytest.mark.parametrize("name", list(BUILTIN_BEDS))
def test_builtin_beds_are_seamless_steady_deterministic_loops(name: str) -> None:
    loop = make_builtin_bed(name, RATE)
    x = loop.samples.astype(np.float64)
    # Whole MP3 frames and whole cycles of the CBR padding pattern (49 frames at 44.1 kHz).
    assert len(x) % (49 * 1152) == 0 and abs(len(x) - LOOP_S * RATE) <= 25 * 1152
    make_builtin_bed.cache_clear()
    assert np.array_equal(make_builtin_bed(name, RATE).samples, loop.samples)
    # Played twice over: the join is no different from any other pair of samples.
    twice = np.concatenate([x, x])
    steps = np.abs(np.diff(twice))
    assert steps[len(x) - 1] <= np.percentile(steps, 99.9)
    # Steady: every 3 s window of the repeating loop within 2 LU of the loop's loudness.
    short = windows(np.concatenate([x, x, x[: 3 * RATE]]), 3.0, 0.5)[len(x) // (RATE // 2) :]
    assert np.all(np.abs(short - loop.lufs) <= 2.0), (
        short.min() - loop.lufs,
        short.max() - loop.lufs,
    )


def _bed_part(rendered: Rendered, voice: Voice) -> tuple[Array, Array]:
    """(the whole session with its bed, the bed alone: the same session minus it without)."""
    mixed = pcm(rendered, voice)
    plain = pcm(dataclasses.replace(rendered, bed=None), voice)
    return mixed, mixed - plain


@pytest.mark.parametrize("bed", [*BUILTIN_BEDS, "file"])
def test_bed_level_ducking_fades_and_no_clicks(tmp_path: Path, bed: str) -> None:
    if bed == "file":
        rng = np.random.default_rng(3)
        noise = lfilter([1.0], [1.0, -0.95], rng.standard_normal(7 * RATE))
        write_wav(tmp_path / "creek.wav", 0.05 * noise / np.std(noise))
        ref = SoundRef("creek.wav", str(tmp_path / "creek.wav"), Loc("test"))
    else:
        ref = bed_ref(bed)
    rendered, voice = render_with(tmp_path, BEDDED, Mix(bed=ref, bed_level=-20))
    mixed, part = _bed_part(rendered, voice)
    plain = mixed - part

    # The speech level: its sentences of a second or more (BS.1770 gating reads the shortest,
    # a single word, a little differently depending on the silence around it).
    speech = np.concatenate([plain[a:b] for a, b in spans(rendered, Speak) if b - a >= RATE])
    wanted = integrated(speech) - 20

    # In the holds, away from every sentence (guidance said inside a hold ducks the bed too):
    # the level asked for, within 2 LU.
    said = sorted((s, s + n) for item in rendered.layout.items for s, n, _ in item.cues)
    measured = []
    for start, ms, _ in holds(rendered.layout):
        edges = [start, *[x for s, e in said if start <= s < start + ms for x in (s, e)]]
        edges.append(start + ms)
        for quiet_from, quiet_to in zip(edges[0::2], edges[1::2], strict=True):
            # The bed comes back over 3.4 s (hold and release) after the last word.
            a, b = (quiet_from + 3500) * RATE // 1000, (quiet_to - 500) * RATE // 1000
            if b - a < 4 * RATE:
                continue
            short = windows(part[a:b], 3.0, 1.0)
            assert np.all(np.abs(short - wanted) <= 2.0), (
                short.min() - wanted,
                short.max() - wanted,
            )
            measured.append(float(np.mean(short)))
    assert measured, "the test session has quiet stretches in its holds"
    hold_level = float(np.mean(measured))

    # Under speech, at least 15 LU further down.
    under = np.concatenate([part[a:b] for a, b in spans(rendered, Speak)])
    under_level = -0.691 + 10 * np.log10(np.mean(k_weighted(under) ** 2))
    assert hold_level - under_level >= 15, (hold_level, under_level)

    # No clicks: the bed never jumps by more than 0.05 of full scale between two samples.
    assert np.abs(np.diff(part)).max() <= 0.05
    assert np.abs(np.diff(mixed)).max() <= 0.05 + np.abs(np.diff(plain)).max()

    # Faded in from nothing and out to nothing.
    rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
    full = rms(part[5 * RATE : 7 * RATE])
    assert abs(part[0]) < 1e-4 and rms(part[: RATE // 5]) < 0.05 * full
    assert abs(part[-1]) < 1e-4 and rms(part[-RATE // 5 :]) < 0.05 * full


BREATHING = """\
title: Breathing Bed
intro: Welcome. Find a comfortable seat. Let your shoulders soften away from your ears.
steps:
  - pose: Mountain
    cue: Stand tall and breathe.
    how:
      - Press the feet into the floor.
      - Lengthen through the crown of the head.
      - Let the arms hang heavy by your sides.
    hold: 40s
outro: Thank you for practising today.
"""


def _power_db(x: Array) -> float:
    return float(10 * np.log10(np.mean(x**2) + 1e-20))


def test_the_bed_stays_down_between_sentences_and_comes_up_slowly_in_holds(
    tmp_path: Path,
) -> None:
    """Measured on the bed alone (the session minus the same session without it)."""
    rendered, voice = render_with(
        tmp_path, BREATHING, Mix(bed=bed_ref("rain"), bed_level=-20), fake_voice(tmp_path / "c")
    )
    _, part = _bed_part(rendered, voice)
    said = sorted(spans(rendered, Speak))
    window = RATE // 5
    gaps = 0
    for (_, end), (start, _) in itertools.pairwise(said):
        if not 0.3 * RATE <= start - end < 3 * RATE:
            continue
        under = _power_db(part[end - RATE // 2 : end])  # the bed under the sentence before
        rise = max(
            _power_db(part[a : a + window]) - under for a in range(end, start - window, window // 2)
        )
        assert rise <= 4.0, (end / RATE, start / RATE, rise)
        gaps += 1
    assert gaps >= 4, "the session has short gaps between the sentences of an instruction"

    # In the hold: still well down a second after the last sentence, back to full later.
    start, ms, _ = holds(rendered.layout)[0]
    last = max(e for s, e in said if s < (start + ms) * RATE // 1000)
    full = _power_db(part[last + 6 * RATE : last + 10 * RATE])
    assert full - _power_db(part[last + RATE : last + RATE + window]) >= 10
    assert full - _power_db(part[last + 4 * RATE : last + 4 * RATE + window]) <= 2


def _between_cues(layout: Layout, start: int, ms: int, margin: int) -> list[tuple[int, int]]:
    """The stretches of a hold (in samples) with nothing said in them, `margin` ms clear of
    any sound (a spliced session places a sound up to half an MP3 frame early)."""
    edges = [start]
    for item in layout.items:
        edges += [x for s, n, _ in item.cues if start <= s < start + ms for x in (s, s + n)]
    edges.append(start + ms)
    return [
        ((a + margin) * RATE // 1000, (b - margin) * RATE // 1000)
        for a, b in zip(edges[0::2], edges[1::2], strict=True)
        if b - a > 2 * margin
    ]


def test_without_a_bed_holds_are_digital_silence(tmp_path: Path) -> None:
    rendered, voice = render_with(tmp_path, BEDDED, Mix())
    out = pcm(rendered, voice)
    for start, ms, _ in holds(rendered.layout):
        for a, b in _between_cues(rendered.layout, start, ms, 100):
            assert not out[a:b].any()


@pytest.mark.parametrize("level", [-20.0, -8.0])
def test_session_with_a_bed_meets_loudness_and_true_peak(tmp_path: Path, level: float) -> None:
    routine = routine_from(tmp_path, BEDDED)
    voice = fake_voice(tmp_path / "cache", UnevenEngine())
    options = resolve_options(routine)
    mix = Mix(bed=bed_ref("rain"), bed_level=level)
    rendered = render(routine, options, voice=voice, fmt=AudioFormat(), mix=mix)
    result = export_to(tmp_path / "out", routine, rendered, voice)
    audio = decode(result.files.mp3)
    assert abs(integrated(audio) - AudioFormat().target_lufs) <= 1.0
    assert true_peak_dbtp(audio) <= -1.0


def test_file_bed_loop_crossfade_keeps_its_level(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    noise = rng.standard_normal(4 * RATE) * 0.1
    loop = crossfade_loop(noise.astype(np.float32), 2 * RATE // 2)
    twice = np.concatenate([loop, loop]).astype(np.float64)
    level = windows(twice, 0.4, 0.05)
    assert level.max() - level.min() <= 1.5 + 1.0  # noise itself wanders under 1 dB
    seam = len(loop) // int(0.05 * RATE)
    around = level[max(0, seam - 40) : seam + 40]
    assert np.median(level) - around.min() <= 1.5
    # The loop point itself is as smooth as the noise.
    assert abs(twice[len(loop)] - twice[len(loop) - 1]) <= np.abs(np.diff(noise)).max()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "not found"),
        (lambda p: p.write_bytes(b"RIFF garbage, not a sound"), "cannot decode"),
        (lambda p: write_wav(p, np.zeros(3 * RATE)), "is silent"),
        (lambda p: write_wav(p, 0.1 * np.ones(RATE // 4)), "at least 1 s"),
    ],
    ids=["missing", "unreadable", "silent", "short"],
)
def test_a_bad_bed_file_is_one_clear_error_naming_it(
    tmp_path: Path,
    make: object,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "bed.wav"
    make(path)  # type: ignore[operator]
    with pytest.raises(AudioError, match=message) as info:
        load_bed(SoundRef("bed.wav", str(path), Loc("x")), RATE)
    assert str(path) in str(info.value)

    routine = tmp_path / "r.yaml"
    routine.write_text(BEDDED + "defaults:\n  bed: bed.wav\n")
    code, out, err = run_main(["check", routine], monkeypatch, capsys)
    assert code == 2
    line = [x for x in (out + err).splitlines() if "bed" in x]
    where = f"{routine}:{BEDDED.count(chr(10)) + 2}:8: "
    assert len(line) == 1 and line[0].startswith(where) and message in line[0], line

    plain = tmp_path / "plain.yaml"
    plain.write_text(BEDDED)
    code, out, err = run_main(
        ["render", plain, "--engine", "fake", "-o", tmp_path / "out", "--bed", path],
        monkeypatch,
        capsys,
    )
    assert code == 2 and "bed" in err and "bed.wav" in err
    assert not (tmp_path / "out").exists()


def test_routine_defaults_choose_the_bed_and_the_command_line_wins(tmp_path: Path) -> None:
    routine = routine_from(tmp_path, BEDDED + "defaults:\n  bed: ocean\n  bed_level: -25\n")
    mix = resolve_mix(routine)
    assert mix.bed is not None and mix.bed.name == "ocean" and mix.bed_level == -25
    assert resolve_mix(routine, bed=bed_ref("rain"), bed_level=-18).bed.name == "rain"  # type: ignore[union-attr]
    assert resolve_mix(routine, bed=SoundRef("", None, Loc("cli"))).bed is None
    # Without one named, the default bed, faint (fainter on the clock); `none` turns it off.
    plain = routine_from(tmp_path, BEDDED)
    mix = resolve_mix(plain)
    assert mix.bed is not None and (mix.bed.name, mix.bed_level) == (DEFAULT_BED, -24)
    assert resolve_mix(plain, bed=DEFAULT_BED).bed_level == -24  # named as the default is
    assert resolve_mix(plain, bed="rain").bed_level == -20
    assert resolve_mix(plain, bed_level=-30).bed_level == -30
    assert resolve_mix(plain, bed="none").bed is None
    clock = routine_from(tmp_path, BEDDED.replace("steps:", "timing: clock\nsteps:"), "clock")
    assert resolve_mix(clock).bed_level == -28
    off = routine_from(tmp_path, BEDDED + "defaults:\n  bed: none\n", "off")
    assert resolve_mix(off).bed is None


def test_render_command_with_a_bed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = tmp_path / "r.yaml"
    routine.write_text(BEDDED)
    args = ["render", routine, "--engine", "fake", "-o", tmp_path / "out", "--bed", "air"]
    code, _, err = run_main([*args, "--bed-level", "-24", "--soft-bells"], monkeypatch, capsys)
    assert code == 0, err
    audio = decode(tmp_path / "out" / "r.mp3")
    first, last = holds(render_with(tmp_path, BEDDED, Mix())[0].layout)[0][:2]
    hold = audio[(first + 2000) * RATE // 1000 : (first + last - 1000) * RATE // 1000]
    assert np.abs(hold).max() > 1e-3  # the bed plays in the holds

    code, _, err = run_main([*args[:-1], "waves"], monkeypatch, capsys)
    assert code == 2 and "waves" in err


def test_bed_none_on_the_command_line_turns_off_the_routines_bed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = tmp_path / "r.yaml"
    routine.write_text(BEDDED + "defaults:\n  bed: rain\n")
    out = tmp_path / "out"
    code, _, err = run_main(
        ["render", routine, "--engine", "fake", "-o", out, "--bed", "none"], monkeypatch, capsys
    )
    assert code == 0, err
    audio = decode(out / "r.mp3")
    layout = render_with(tmp_path, BEDDED, Mix())[0].layout
    first, ms, _ = holds(layout)[0]
    for a, b in _between_cues(layout, first, ms, 500):
        assert np.abs(audio[a:b]).max() < 1e-3


def test_stereo_sessions_carry_the_bed_on_both_channels(tmp_path: Path) -> None:
    rendered, voice = render_with(tmp_path, BEDDED, Mix(bed=bed_ref("air")))
    fmt = AudioFormat(channels=2)
    stereo = np.concatenate(list(stream_pcm(rendered, voice, fmt))).reshape(-1, 2)
    assert np.array_equal(stereo[:, 0], stereo[:, 1])
    assert len(stereo) == rendered.layout.total_ms * RATE // 1000
    start, ms, _ = holds(rendered.layout)[0]
    assert np.abs(stereo[(start + ms // 2) * RATE // 1000 :][:RATE]).max() > 30


@pytest.mark.parametrize("suffix", [".flac", ".ogg", ".mp3"])
def test_bed_files_in_other_formats_loop(tmp_path: Path, suffix: str) -> None:
    import subprocess

    from render_fixtures import FFMPEG

    rng = np.random.default_rng(9)
    wav = write_wav(tmp_path / "noise.wav", 0.1 * rng.standard_normal(3 * RATE))
    path = tmp_path / f"noise{suffix}"
    done = subprocess.run([FFMPEG, "-v", "error", "-i", str(wav), str(path)], capture_output=True)
    if done.returncode:
        pytest.skip(f"this ffmpeg cannot write {suffix}: {done.stderr.decode()[-200:]}")
    loop = load_bed(SoundRef(path.name, str(path), Loc("test")), RATE)
    # Repeated to 10 s or more, and stretched to whole MP3 frames.
    assert 10 * RATE <= len(loop.samples) <= 13.5 * RATE and len(loop.samples) % 1152 == 0
    assert -30 < loop.lufs < -10


@pytest.mark.parametrize("hz", [60.2, 110.3, 441.1])
def test_a_tonal_bed_file_loops_without_a_dip_or_a_swell(tmp_path: Path, hz: float) -> None:
    """A hum's end and start meet in phase: no cancellation, and no 3 dB swell either."""
    t = np.arange(int(3.37 * RATE)) / RATE
    path = write_wav(tmp_path / "hum.wav", 0.3 * np.sin(2 * np.pi * hz * t))
    loop = load_bed(SoundRef(path.name, str(path), Loc("test")), RATE).samples.astype(np.float64)
    twice = np.concatenate([loop, loop, loop])
    width = RATE // 20
    level = 10 * np.log10(np.convolve(twice**2, np.ones(width) / width, "valid"))
    assert np.median(level) - level.min() <= 1.5
    assert level.max() - np.median(level) <= 1.5
    assert np.abs(np.diff(twice)).max() <= 1.05 * 0.3 * 2 * np.pi * hz / RATE


def test_the_library_names_a_bed_by_text(tmp_path: Path) -> None:
    routine = routine_from(tmp_path, BEDDED)
    assert resolve_mix(routine, bed="drone").bed == SoundRef("drone", None, Loc("<command line>"))
    assert resolve_mix(routine, bed="none").bed is None
    with pytest.raises(AudioError, match="neither a built-in bed"):
        resolve_mix(routine, bed="waves")
