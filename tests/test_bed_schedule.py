"""Beds that follow the session: per section, block or step, one for work and one for rest, a
folder of music played through; crossfaded where they change, the session still on target.

Levels are read from the rendered sound itself: the beds alone are the session minus the same
session without them, and a bed's tone is told apart from another's by its frequency.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyloudnorm
import pytest

from guidecast.compiler.options import resolve_options
from guidecast.compiler.timeline import Sound
from guidecast.errors import Loc, RoutineError
from guidecast.media.playlist import READ_SUFFIXES, Playlist
from guidecast.routine.load import load_routine
from guidecast.routine.sounds import READ_SUFFIXES as ROUTINE_SUFFIXES
from guidecast.session import render_session
from guidecast.sound.bedschedule import CROSSFADE_S, bed_stretches, needs_schedule
from guidecast.sound.mix import BedPlan, resolve_mix
from guidecast.sound.render import AudioFormat, Rendered, Voice, render, stream_pcm
from render_fixtures import (
    decode,
    fake_voice,
    periods_end,
    routine_from,
    run_main,
    true_peak_dbtp,
    write_wav,
)

Array = npt.NDArray[np.float64]
RATE = 44_100


def tone(hz: float, seconds: float, level: float = 0.2) -> Array:
    t = np.arange(int(seconds * RATE)) / RATE
    return level * np.sin(2 * np.pi * hz * t)


def band_db(x: Array, hz: float) -> float:
    """Power (dB) of `x` within 30 Hz of `hz` (a Hann-windowed spectrum)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return float(10 * np.log10(spectrum[np.abs(freqs - hz) < 30].sum() + 1e-20))


def at(x: Array, seconds: float, width: float = 0.4) -> Array:
    """`width` seconds of x centred on `seconds`."""
    mid = int(seconds * RATE)
    return x[mid - int(width * RATE / 2) : mid + int(width * RATE / 2)]


def pcm(rendered: Rendered, voice: Voice) -> Array:
    return (
        np.concatenate(list(stream_pcm(rendered, voice, AudioFormat()))).astype(np.float64) / 32768
    )


def beds_alone(rendered: Rendered, voice: Voice) -> Array:
    """The beds of a rendered session alone: the session minus the same without them."""
    return pcm(rendered, voice) - pcm(dataclasses.replace(rendered, schedule=None), voice)


def render_text(folder: Path, text: str) -> tuple[Rendered, Voice]:
    routine = routine_from(folder, text)
    voice = fake_voice(folder / "cache")
    options = resolve_options(routine)
    return render(routine, options, voice=voice, fmt=AudioFormat(), mix=resolve_mix(routine)), voice


def problems(folder: Path, text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(RoutineError) as e:
        routine_from(folder, text)
    return [(p.loc.line, p.loc.col, p.message) for p in e.value.problems]


# -- the keys -----------------------------------------------------------------------------------

PHASES = """\
title: Phases
timing: clock
defaults: {bed: {work: drone, rest: ocean}, bed_level: -18}
steps:
  - section: Warm-up
    bed: air
    steps:
      - pose: March
        hold: 20s
  - block: Circuit
    rounds: 2
    between: 10s
    bed_level: -14
    steps:
      - pose: Squats
        hold: 20s
      - pose: Lunges
        hold: 20s
        bed: rain
  - section: Cool-down
    bed: none
    steps:
      - pose: Stretch
        hold: 20s
"""


def test_a_span_names_its_bed_and_level_and_its_steps_and_rests_inherit_them(
    tmp_path: Path,
) -> None:
    routine = routine_from(tmp_path, PHASES)
    d = routine.defaults
    assert (d.bed and d.bed.name, d.bed_rest and d.bed_rest.name) == ("drone", "ocean")
    beds = [(s.pose, s.bed and (s.bed.work.name, s.bed.rest), s.bed_level) for s in routine.steps]
    assert beds == [
        ("March", ("air", None), None),
        ("Squats", None, -14.0),
        ("Rest", None, -14.0),  # a rest the block adds plays the block's
        ("Lunges", ("rain", None), -14.0),  # a step's own bed wins over its block's
        ("Squats", None, -14.0),
        ("Rest", None, -14.0),
        ("Lunges", ("rain", None), -14.0),
        ("Stretch", ("", None), None),  # none: quiet here
    ]


def test_which_bed_plays_where_work_rest_sections_blocks_and_none(tmp_path: Path) -> None:
    rendered, _ = render_text(tmp_path, PHASES)
    mix = resolve_mix(rendered.timeline.routine)
    stretches = bed_stretches(rendered.timeline, rendered.layout, mix, RATE)
    got = [(s.bed.name if s.bed else None, s.level) for s in stretches]
    assert got == [
        ("air", -18.0),  # the warm-up's own, from the start bell that leads into it
        ("drone", -14.0),  # Squats: work, at the block's level
        ("ocean", -14.0),  # the rest between
        ("rain", -14.0),  # Lunges' own
        ("drone", -14.0),
        ("ocean", -14.0),
        ("rain", -14.0),
        (None, 0.0),  # the cool-down: bed none, to the end bell and the quiet after it
    ]
    # The stretches tile the session.
    assert stretches[0].start == 0 and stretches[-1].end == rendered.layout.total_ms * RATE // 1000
    assert all(a.end == b.start for a, b in itertools.pairwise(stretches))
    assert rendered.bed is None and rendered.schedule is not None


def test_one_bed_for_the_whole_session_stays_the_single_bed_path(tmp_path: Path) -> None:
    single = "title: One\ndefaults: {bed: ocean}\nsteps:\n  - pose: A\n    hold: 10s\n"
    rendered, _ = render_text(tmp_path, single)
    assert isinstance(rendered.bed, BedPlan) and rendered.schedule is None
    routine = routine_from(tmp_path, single)
    assert not needs_schedule(routine, resolve_mix(routine))
    # The command line's bed replaces the routine's pair, its rest bed too.
    pair = single.replace("{bed: ocean}", "{bed: {work: drone, rest: ocean}}")
    routine = routine_from(tmp_path, pair)
    assert needs_schedule(routine, resolve_mix(routine))
    assert not needs_schedule(routine, resolve_mix(routine, bed="rain"))


BAD_PAIR = """\
title: Bad
steps:
  - block: Circuit
    bed: {work: drone}
    steps:
      - pose: A
        hold: 10s
  - section: Main
    bed: {work: drone, rest: oecan, walk: air}
    steps:
      - pose: B
        hold: 10s
        bed_level: 3
"""


def test_mistakes_in_a_bed_are_located(tmp_path: Path) -> None:
    found = problems(tmp_path, BAD_PAIR)
    assert (4, 10, "bed is missing 'rest'") in found
    assert any(p[:2] == (9, 30) and "did you mean 'ocean'" in p[2] for p in found), found
    assert any(p[:2] == (9, 37) and "unknown key 'walk' in bed" in p[2] for p in found), found
    assert any(p[:2] == (13, 20) and "out of range" in p[2] for p in found), found


def test_a_bed_folder_that_is_empty_or_holds_a_bad_file_is_located(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not music")
    text = "title: F\nsteps:\n  - pose: A\n    hold: 10s\n    bed: empty/\n"
    assert problems(tmp_path, text) == [
        (5, 10, "bed folder 'empty/' holds no sound files (" + ", ".join(READ_SUFFIXES) + ")")
    ]
    write_wav(tmp_path / "music" / "01.wav", tone(440, 2))
    (tmp_path / "music" / "02.mp3").write_bytes(b"this is not an mp3 file" * 40)
    found = problems(tmp_path, text.replace("empty/", "music/"))
    assert len(found) == 1 and found[0][:2] == (5, 10), found
    assert "bed folder 'music/' has '02.mp3', which cannot be decoded" in found[0][2]
    write_wav(tmp_path / "short" / "01.wav", tone(440, 0.5))
    short = problems(tmp_path, text.replace("empty/", "short/"))
    assert short == [(5, 10, "bed folder 'short/' has '01.wav', which is 0.50 s long; each file "
                      "of a bed folder needs at least 1 s")]  # fmt: skip
    missing = problems(tmp_path, text.replace("empty/", "nowhere/"))
    assert missing == [(5, 10, "bed folder 'nowhere/' not found")]


def test_the_folder_and_the_routine_read_the_same_suffixes() -> None:
    assert READ_SUFFIXES == ROUTINE_SUFFIXES


# -- the switch ---------------------------------------------------------------------------------

SWITCH = """\
title: Switch
timing: clock
sounds: {start: none, transition: none, end: none}
defaults: {bed: {work: low.wav, rest: high.wav}, bed_level: -12}
steps:
  - pose: Squats
    hold: 20s
  - rest: 20s
  - pose: Lunges
    hold: 20s
"""
LOW, HIGH = 220.0, 1760.0


def test_the_bed_switches_at_the_rest_with_an_equal_power_crossfade(tmp_path: Path) -> None:
    write_wav(tmp_path / "low.wav", tone(LOW, 6))
    write_wav(tmp_path / "high.wav", tone(HIGH, 6))
    rendered, voice = render_text(tmp_path, SWITCH)
    items = rendered.layout.items
    first = next(i for i, item in enumerate(items) if getattr(item.event, "step", None) == 1)
    while first and isinstance(items[first - 1].event, Sound):
        first -= 1  # a tone that leads into the rest plays over the rest's bed
    boundary = items[first].start_ms * RATE // 1000
    assert rendered.schedule is not None
    assert [s.start for s in rendered.schedule.segments][1] == boundary

    beds = beds_alone(rendered, voice)
    t = boundary / RATE
    half = CROSSFADE_S / 2
    before, after, middle = at(beds, t - half - 0.5), at(beds, t + half + 0.5), at(beds, t, 0.2)
    assert band_db(before, LOW) - band_db(before, HIGH) > 30
    assert band_db(after, HIGH) - band_db(after, LOW) > 30
    # Halfway through the crossfade both are 3 dB down (equal power, no dip and no bump): they
    # differ there by what their levels differ by (each set to the same loudness, and the
    # K-weighting counts the high tone louder).
    work, rest = rendered.schedule.segments[:2]
    apart = 20 * np.log10(work.gain / rest.gain)
    assert 2 < apart < 4
    assert abs(band_db(middle, LOW) - band_db(middle, HIGH) - apart) < 1.0
    assert band_db(at(beds, t - half - 0.1, 0.2), HIGH) < band_db(middle, HIGH) - 20
    # And back to work after the rest.
    back = rendered.schedule.segments[2].start / RATE
    assert band_db(at(beds, back + 2.5), LOW) - band_db(at(beds, back + 2.5), HIGH) > 30


# -- a folder -----------------------------------------------------------------------------------


def _folder(path: Path, names: dict[str, tuple[float, float, float]]) -> Path:
    for name, (hz, seconds, level) in names.items():
        write_wav(path / name, tone(hz, seconds, level))
    (path / "cover.txt").write_text("not a sound")
    return path


def test_a_folder_plays_in_name_order_levelled_crossfaded_and_round_again(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "music", {"10-c.wav": (900, 4, 0.3), "01-a.wav": (400, 4, 0.05),
                                         "02-b.wav": (600, 4, 0.4)})  # fmt: skip
    playlist = Playlist(folder, RATE)
    assert [t.path.name for t in playlist.tracks] == ["01-a.wav", "02-b.wav", "10-c.wav"]
    fade = playlist.fade
    assert fade == 4 * RATE // 3  # 3 s, cut to a third of the shortest file
    x = playlist.samples(0, 3 * playlist.cycle).astype(np.float64)
    starts = [s / RATE for s in playlist.starts]
    cycle = playlist.cycle / RATE
    middles = [s + 2.0 for s in starts]
    for hz, mid in zip((400, 600, 900), middles, strict=True):
        window = at(x, mid)
        others = [band_db(window, f) for f in (400, 600, 900) if f != hz]
        assert band_db(window, hz) - max(others) > 30, hz
        assert band_db(at(x, mid + cycle), hz) - max(others) > 30, hz  # round again
    # Each file levelled to the same loudness, whatever it was recorded at.
    levels = [band_db(at(x, m), hz) for hz, m in zip((400, 600, 900), middles, strict=True)]
    assert max(levels) - min(levels) < 1.5, levels
    # In each crossfade, from the last file into the first too, both sides at equal power.
    for (f1, f2), join in (((400, 600), starts[1]), ((600, 900), starts[2]), ((900, 400), cycle)):
        middle = at(x, join + fade / RATE / 2, 0.2)
        assert abs(band_db(middle, f1) - band_db(middle, f2)) < 1.5, (f1, f2)
        assert abs(10 * np.log10(np.mean(middle**2) / np.mean(at(x, join - 1.0) ** 2))) < 1.0


def test_a_long_playlist_is_never_held_whole(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "music", {f"{i:02}.wav": (300 + 50 * i, 3, 0.2) for i in range(8)})
    playlist = Playlist(folder, RATE)
    biggest = max(t.size for t in playlist.tracks) * 4
    block = 2 * RATE
    for a in range(0, 2 * playlist.cycle, block):
        playlist.samples(a, a + block)
        assert playlist.held <= 2
        assert sum(x.nbytes for x in playlist._decoded.values()) <= 2 * biggest


MUSIC = """\
title: Music
timing: clock
defaults: {bed: {work: music/, rest: rain}, bed_level: -10}
steps:
  - block: Intervals
    rounds: 3
    between: 10s
    steps:
      - pose: Squats
        hold: 30s
      - pose: Lunges
        hold: 30s
"""


def test_sessions_with_changing_beds_meet_loudness_and_true_peak(tmp_path: Path) -> None:
    _folder(tmp_path / "music", {"a.wav": (330, 7, 0.3), "b.wav": (550, 9, 0.1)})
    routine = routine_from(tmp_path, MUSIC)
    voice = fake_voice(tmp_path / "cache")
    options = resolve_options(routine)
    done = render_session(routine, options, voice=voice, output=tmp_path / "out" / "m.mp3")
    audio = decode(done.export.files.mp3)
    target = AudioFormat().target_lufs
    measured = pyloudnorm.Meter(RATE).integrated_loudness(audio)
    assert abs(measured - target) <= 1.0, measured
    assert abs(done.lufs - measured) <= 0.5
    assert true_peak_dbtp(audio) <= -1.0


def test_a_folder_bed_from_the_command_line_plays_under_the_whole_session(tmp_path: Path) -> None:
    _folder(tmp_path / "music", {"a.wav": (330, 5, 0.3), "b.wav": (550, 5, 0.3)})
    routine = routine_from(tmp_path, "title: T\nsteps:\n  - pose: A\n    hold: 30s\n")
    mix = resolve_mix(routine, bed=str(tmp_path / "music") + "/")
    assert needs_schedule(routine, mix)
    voice = fake_voice(tmp_path / "cache")
    rendered = render(routine, resolve_options(routine), voice=voice, fmt=AudioFormat(), mix=mix)
    assert rendered.schedule is not None and len(rendered.schedule.segments) == 1
    beds = beds_alone(rendered, voice)
    assert band_db(at(beds, 2.5), 330) - band_db(at(beds, 2.5), 550) > 30
    assert band_db(at(beds, 5.8), 550) - band_db(at(beds, 5.8), 330) > 30  # b: 3.3 s to 8.3 s


# -- the docs and the example -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _doc_blocks() -> list[str]:
    """The yaml blocks of docs/routines.md's "Beds that follow the session"."""
    text = (ROOT / "docs" / "routines.md").read_text(encoding="utf-8")
    part = text.split("### Beds that follow the session", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```yaml\n(.*?)^```", part, re.MULTILINE | re.DOTALL)


def test_the_docs_examples_load_and_play_their_beds(tmp_path: Path) -> None:
    whole, snippet = _doc_blocks()
    rendered, _ = render_text(tmp_path, whole)
    mix = resolve_mix(rendered.timeline.routine)
    names = [s.bed.name if s.bed else None for s in bed_stretches(rendered.timeline,
             rendered.layout, mix, RATE)]  # fmt: skip
    assert names == ["air", *["drone", "ocean"] * 4, "rain"]
    _folder(tmp_path / "music", {"a.wav": (330, 3, 0.3)})
    routine = routine_from(tmp_path, "title: S\n" + snippet + "steps:\n  - pose: A\n    hold: 9s\n")
    d = routine.defaults
    assert d.bed is not None and d.bed.path == str((tmp_path / "music").resolve())
    assert d.bed_rest is not None and d.bed_rest.name == "rain" and d.bed_level == -14


def test_the_example_plays_a_bed_per_phase(tmp_path: Path) -> None:
    routine = load_routine(ROOT / "examples" / "intervals-with-beds.yaml")
    voice = fake_voice(tmp_path / "cache")
    rendered = render(routine, resolve_options(routine), voice=voice, fmt=AudioFormat(),
                      mix=resolve_mix(routine))  # fmt: skip
    assert periods_end(rendered.layout) == 6 * 60_000  # then the closing, over the last bed
    assert rendered.layout.total_ms < 6 * 60_000 + 10_000
    mix = resolve_mix(routine)
    stretches = bed_stretches(rendered.timeline, rendered.layout, mix, RATE)
    got = [(s.bed.name if s.bed else None, s.level) for s in stretches]
    assert got == [("air", -18.0), *[("drone", -15.0), ("ocean", -15.0)] * 4, ("rain", -26.0)]
    # Each work period and rest has its own bed from its first second to its last.
    works = [s for s in stretches if s.bed is not None and s.bed.name == "drone"]
    assert [round((s.end - s.start) / RATE) for s in works] == [40] * 4


GLIDE = """\
title: Glide
timing: clock
sounds: {start: none, transition: none, end: none}
defaults: {bed: low.wav, bed_level: -12, countdown: 0}
steps:
  - pose: Up
    say_name: false
    hold: 20s
  - pose: Down
    say_name: false
    hold: 20s
    bed_level: -24
"""


def test_a_new_level_of_the_same_bed_glides_without_a_bump(tmp_path: Path) -> None:
    write_wav(tmp_path / "low.wav", tone(LOW, 6))
    rendered, voice = render_text(tmp_path, GLIDE)
    assert rendered.schedule is not None
    up, down = rendered.schedule.segments[:2]
    assert up.source == down.source and down.glide_in and up.glide_out
    beds = beds_alone(rendered, voice)
    t = down.start / RATE
    steps = np.arange(t - 2.5, t + 2.5, 0.1)
    level = np.array([10 * np.log10(np.mean(at(beds, s, 0.1) ** 2)) for s in steps])
    assert level[0] - level[-1] == pytest.approx(12, abs=1.0)
    # It only ever goes down: one play of the bed at a gliding gain, no bump and no dip.
    assert np.all(np.diff(level) < 0.3), np.diff(level).max()


def test_paced_rests_and_what_is_said_outside_the_steps_play_the_rest_bed(tmp_path: Path) -> None:
    paced = """\
title: Paced
sounds: {start: none, transition: none, end: none}
defaults: {bed: {work: drone, rest: ocean}}
intro: Welcome.
outro: Well done.
steps:
  - pose: Bridge
    cue: Lift your hips.
    hold: 10s
    reps: 3
    rest: 8s
"""
    rendered, _ = render_text(tmp_path, paced)
    stretches = bed_stretches(
        rendered.timeline, rendered.layout, resolve_mix(rendered.timeline.routine), RATE
    )
    names = [s.bed.name if s.bed else None for s in stretches]
    # The introduction and the outro play the rest bed, as the rests between repetitions do.
    assert names == ["ocean", "drone", "ocean", "drone", "ocean", "drone", "ocean"]
    assert [round((s.end - s.start) / RATE) for s in stretches[2:-1:2]] == [8, 8]


def test_a_folders_measures_are_kept_so_a_re_render_decodes_only_what_it_plays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guidecast.media import playlist as module
    from guidecast.media.decode import sound_stamp
    from guidecast.model import SoundRef
    from guidecast.sound.render import bed_store

    folder = _folder(tmp_path / "music", {"a.wav": (330, 3, 0.3), "b.wav": (550, 3, 0.1)})
    store = bed_store(tmp_path / "cache")
    first = Playlist(folder, RATE, store=store)
    reads: list[str] = []
    real = module._read
    monkeypatch.setattr(module, "_read", lambda p, r: reads.append(p.name) or real(p, r))
    again = Playlist(folder, RATE, store=store)
    assert reads == []
    assert [(t.size, t.gain, t.peak) for t in again.tracks] == [
        (t.size, t.gain, t.peak) for t in first.tracks
    ]
    assert np.array_equal(again.tracks[1].subs, first.tracks[1].subs)
    again.samples(0, RATE)
    assert reads == ["a.wav"]
    # A catalog keys a variant by its files: a folder's stamp changes with any file in it.
    ref = SoundRef("music/", str(folder), Loc("test"))
    before = sound_stamp(ref)
    write_wav(folder / "b.wav", tone(550, 4, 0.1))
    assert sound_stamp(ref) != before


def test_check_locates_a_bad_bed_folder(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from guidecast.cli import cli

    (tmp_path / "music").mkdir()
    path = tmp_path / "r.yaml"
    path.write_text(
        "title: R\ndefaults: {bed: {work: music/, rest: rain}}\nsteps:\n  - pose: A\n    hold: 9s\n"
    )
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}:2:24: bed folder 'music/' holds no sound files" in result.output


def test_naming_the_routines_own_bed_keeps_its_rest_bed_and_its_folder(tmp_path: Path) -> None:
    _folder(tmp_path / "music", {"a.wav": (330, 3, 0.3)})
    routine = routine_from(tmp_path, MUSIC)
    # As the server's picker and a catalog name a routine's bed: by its name.
    mix = resolve_mix(routine, bed="music/")
    assert mix.bed == routine.defaults.bed and mix.bed_rest is not None
    assert mix.bed_rest.name == "rain"
    assert resolve_mix(routine, bed="drone").bed_rest is None


def test_render_command_with_a_folder_bed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _folder(tmp_path / "music", {"a.wav": (330, 4, 0.3), "b.wav": (550, 4, 0.3)})
    path = tmp_path / "r.yaml"
    path.write_text(
        "title: R\nsounds: {start: none, transition: none, end: none}\n"
        "steps:\n  - pose: A\n    cue: Stand tall.\n    hold: 20s\n"
    )
    monkeypatch.chdir(tmp_path)
    args = ["-q", "render", path, "-e", "fake", "--cache-dir", tmp_path / "cache"]
    code, _, err = run_main([*args, "-o", tmp_path / "out", "--bed", "music/"], monkeypatch, capsys)
    assert code == 0, err
    audio = decode(tmp_path / "out" / "r.mp3")
    # Both files play in turn, round again, in the quiet of the hold: each 4 s, overlapping
    # by 1.33 s, so a pass lasts 5.33 s; the third pass has a alone from 12 s, b from 14.67 s.
    a, b = at(audio, 12.67, 1.0), at(audio, 15.33, 1.0)
    assert band_db(a, 330) - band_db(a, 550) > 20
    assert band_db(b, 550) - band_db(b, 330) > 20
    code, _, err = run_main([*args, "-o", tmp_path / "x", "--bed", "nothing/"], monkeypatch, capsys)
    assert code == 2 and "bed folder 'nothing/' not found" in err
