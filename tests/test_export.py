"""`guidecast render` as a user runs it: the MP3, its tags and chapters read back by two readers
(mutagen and ffmpeg), the sidecars, and atomic output when a render fails half-way."""

from __future__ import annotations

import errno
import io
import itertools
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from click.testing import CliRunner
from mutagen.id3 import ID3, CTOCFlags, PictureType
from mutagen.mp3 import MP3, BitrateMode
from PIL import Image

import guidecast.cli.rendering
import guidecast.mp3.export
import guidecast.mp3.splice
import guidecast.session
import guidecast.store.atomic
from guidecast.cli import cli
from guidecast.compiler.timeline import Layout, Speak
from guidecast.errors import EngineError, ExportError
from guidecast.model import Narration, Routine
from guidecast.mp3.export import export_session, session_files
from guidecast.routine.load import load_routine
from guidecast.sound.render import AudioFormat, stream_pcm
from guidecast.tts import FakeEngine
from render_fixtures import (
    RATE,
    SIDECARS,
    SMALL,
    FailingEngine,
    block_network,
    decode,
    fake_voice,
    ffmetadata,
    ffmpeg_errors,
    render_routine,
    run_main,
    snapshot,
    write_routine,
)


def render_cli(routine: Path, out: Path, cache: Path, *extra: str) -> tuple[int, str]:
    """`guidecast render ROUTINE -o OUT --engine fake --cache-dir CACHE ...` through click."""
    args = ["render", str(routine), "-o", str(out), "--engine", "fake", "--cache-dir", str(cache)]
    result = CliRunner().invoke(cli, [*args, *extra])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def planned(routine: Routine, cache: Path, narration: Narration | None = None) -> Layout:
    """The layout the render used, recomputed from the (now full) clip cache."""
    return render_routine(routine, fake_voice(cache), narration=narration).layout


@dataclass(frozen=True)
class Session:
    routine: Routine
    layout: Layout
    mp3: Path
    output: str

    def sidecar(self, suffix: str) -> Path:
        return self.mp3.with_name(self.mp3.stem + suffix)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    folder = tmp_path_factory.mktemp("export")
    path = write_routine(folder, SMALL, "small-flow")
    with pytest.MonkeyPatch.context() as patch:
        block_network(patch)
        code, output = render_cli(path, folder / "out", folder / "cache")
    assert code == 0, output
    routine = load_routine(path)
    mp3 = folder / "out" / "small-flow.mp3"
    return Session(routine, planned(routine, folder / "cache"), mp3, output)


# -- the files --------------------------------------------------------------------------------


def test_render_writes_the_mp3_and_every_sidecar_and_nothing_else(session: Session) -> None:
    names = sorted(p.name for p in session.mp3.parent.iterdir())
    assert names == sorted(["small-flow.mp3", *(f"small-flow{s}" for s in SIDECARS)])
    for path in session.mp3.parent.iterdir():
        assert path.stat().st_size > 0, path
    assert str(session.mp3) in session.output
    assert f"{len(session.layout.chapters)} chapters" in session.output


def test_mp3_decodes_without_a_single_error(session: Session) -> None:
    assert ffmpeg_errors(session.mp3) == ""


def test_decoded_length_is_exactly_the_planned_duration(session: Session) -> None:
    # The LAME/Info header tells decoders the encoder delay and padding to trim.
    assert len(decode(session.mp3)) == session.layout.total_ms * RATE // 1000


def test_stream_info_is_cbr_64k_mono_44100(session: Session) -> None:
    info = MP3(session.mp3).info
    assert info.sample_rate == 44_100
    assert info.channels == 1
    # Copied silent frames are all padded ones (see mp3._Frames), so the average runs a few
    # bit/s over the nominal rate; within 0.1 % is what players need to seek by byte.
    assert abs(info.bitrate - 64_000) <= 64
    assert info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)
    assert abs(info.length - session.layout.total_ms / 1000) < 0.05
    assert set(frame_bitrates(session.mp3)) == {64}  # every frame, the Info frame too


_MPEG1_L3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)


def frame_bitrates(path: Path) -> list[int]:
    """Walk the MPEG-1 Layer III frames after the ID3 tag and list each frame's bitrate."""
    data = path.read_bytes()
    assert data[:3] == b"ID3"
    size = data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]
    at = 10 + size
    rates = []
    while at + 4 <= len(data):
        b1, b2 = data[at + 1], data[at + 2]
        assert data[at] == 0xFF and b1 & 0xFE == 0xFA, f"lost frame sync at byte {at}"
        kbps = _MPEG1_L3_KBPS[b2 >> 4]
        rate = (44_100, 48_000, 32_000)[(b2 >> 2) & 3]
        rates.append(kbps)
        at += 144 * kbps * 1000 // rate + ((b2 >> 1) & 1)
    assert at == len(data), "trailing bytes after the last frame"
    return rates


# -- tags and chapters through mutagen ----------------------------------------------------


def test_id3v23_tags_round_trip(session: Session) -> None:
    assert session.mp3.read_bytes()[:5] == b"ID3\x03\x00"
    tags = ID3(session.mp3)
    assert tags.version == (2, 3, 0)
    assert tags["TIT2"].text == ["Small Flow"]
    assert tags["TPE1"].text == ["Test Teacher"]
    assert tags["TALB"].text == ["Test Series"]
    assert tags["TCON"].text == ["Health & Fitness"]
    assert tags["TRCK"].text == ["7"]
    assert str(tags["TDRC"].text[0]) == "2024"
    [comment] = tags.getall("COMM")
    assert comment.text == ["A short test session with sides and repetitions."]

    [picture] = tags.getall("APIC")
    assert picture.mime == "image/jpeg"
    assert picture.type == PictureType.COVER_FRONT
    assert picture.data == session.sidecar(".jpg").read_bytes()
    with Image.open(io.BytesIO(picture.data)) as image:
        assert image.format == "JPEG"
        assert image.size == (1400, 1400)
        assert image.mode == "RGB"

    [lyrics] = tags.getall("USLT")
    said = [i.event.text for i in session.layout.items if isinstance(i.event, Speak)]
    assert said
    for sentence in said:
        assert sentence in lyrics.text
    for chapter in session.layout.chapters:
        assert chapter.title in lyrics.text


def test_chap_and_ctoc_frames_round_trip(session: Session) -> None:
    tags = ID3(session.mp3)
    chaps = tags.getall("CHAP")
    assert len(chaps) == len(session.layout.chapters)
    by_time = sorted(chaps, key=lambda c: c.start_time)
    assert [(c.sub_frames["TIT2"].text[0], c.start_time, c.end_time) for c in by_time] == [
        (c.title, c.start_ms, c.end_ms) for c in session.layout.chapters
    ]
    [toc] = tags.getall("CTOC")
    assert toc.flags & CTOCFlags.TOP_LEVEL and toc.flags & CTOCFlags.ORDERED
    assert toc.child_element_ids == [c.element_id for c in by_time]

    # The chapters tile the file: no gap, no overlap, from 0 to the decoded end.
    assert by_time[0].start_time == 0
    for before, after in itertools.pairwise(by_time):
        assert before.end_time == after.start_time
    assert by_time[-1].end_time == session.layout.total_ms
    assert abs(by_time[-1].end_time - MP3(session.mp3).info.length * 1000) < 50


def test_ffmpeg_reads_the_same_tags_and_chapters_as_mutagen(session: Session) -> None:
    meta = ffmetadata(session.mp3)
    tags = ID3(session.mp3)
    assert meta.tags["title"] == tags["TIT2"].text[0]
    assert meta.tags["artist"] == tags["TPE1"].text[0]
    assert meta.tags["album"] == tags["TALB"].text[0]
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [(c.title, c.start_ms, c.end_ms) for c in meta.chapters] == [
        (c.sub_frames["TIT2"].text[0], c.start_time, c.end_time) for c in chaps
    ]
    starts = [c.start_ms for c in meta.chapters]  # ffmpeg lists CHAP frames in file order
    assert starts == sorted(starts)


# -- sidecars ---------------------------------------------------------------------------------


def test_chapters_json_is_podcasting_2_0(session: Session) -> None:
    data = json.loads(session.sidecar(".chapters.json").read_text("utf-8"))
    assert data["version"] == "1.2.0"
    chapters = data["chapters"]
    assert [c["title"] for c in chapters] == [c.title for c in session.layout.chapters]
    starts = [c["startTime"] for c in chapters]
    assert all(isinstance(s, float) for s in starts)
    assert starts[0] == 0
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert [round(s * 1000) for s in starts] == [c.start_ms for c in session.layout.chapters]


_CUE = re.compile(
    r"^(\d\d):(\d\d):(\d\d)[.,](\d{3}) --> (\d\d):(\d\d):(\d\d)[.,](\d{3})$", re.MULTILINE
)


def _ms(h: str, m: str, s: str, ms: str) -> int:
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)


def parse_cues(text: str, sep: str) -> list[tuple[int, int, str]]:
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        timing = next(i for i, line in enumerate(lines) if "-->" in line)
        match = _CUE.match(lines[timing])
        assert match, lines[timing]
        assert sep in lines[timing] and ("." if sep == "," else ",") not in lines[timing]
        g = match.groups()
        cues.append((_ms(*g[:4]), _ms(*g[4:]), "\n".join(lines[timing + 1 :])))
    return cues


def spoken(lay: Layout) -> list[tuple[int, int, str]]:
    """What the layout says, with real start and end times."""
    out = []
    for item in lay.items:
        if isinstance(item.event, Speak):
            out.append((item.start_ms, item.start_ms + item.ms, item.event.text))
        out.extend((start, start + ms, cue.text) for start, ms, cue in item.cues)
    return sorted(out)


def test_vtt_has_each_sentence_at_its_real_time(session: Session) -> None:
    text = session.sidecar(".vtt").read_text("utf-8")
    assert text.startswith("WEBVTT\n\n")
    cues = parse_cues(text.removeprefix("WEBVTT\n\n"), ".")
    assert cues == spoken(session.layout)
    for start, end, _ in cues:
        assert 0 <= start < end <= session.layout.total_ms
    assert [c[0] for c in cues] == sorted(c[0] for c in cues)


def test_srt_is_numbered_and_matches_the_vtt(session: Session) -> None:
    text = session.sidecar(".srt").read_text("utf-8")
    blocks = text.strip().split("\n\n")
    assert [b.split("\n")[0] for b in blocks] == [str(i) for i in range(1, len(blocks) + 1)]
    vtt = session.sidecar(".vtt").read_text("utf-8").removeprefix("WEBVTT\n\n")
    assert parse_cues(text, ",") == parse_cues(vtt, ".")


def test_session_json_describes_the_render(session: Session) -> None:
    info = json.loads(session.sidecar(".session.json").read_text("utf-8"))
    assert info["duration_ms"] == session.layout.total_ms
    assert info["mp3"] == session.mp3.name
    assert [(c["title"], c["start_ms"], c["end_ms"]) for c in info["chapters"]] == [
        (c.title, c.start_ms, c.end_ms) for c in session.layout.chapters
    ]


# -- atomic output ----------------------------------------------------------------------------


@pytest.fixture
def rendered_once(tmp_path: Path) -> tuple[Path, Path, Path, dict[str, bytes]]:
    """A good render in tmp_path/out: (routine, output folder, cache, files before)."""
    routine = write_routine(tmp_path, SMALL, "small-flow")
    out, cache = tmp_path / "out", tmp_path / "cache"
    code, output = render_cli(routine, out, cache)
    assert code == 0, output
    before = snapshot(out)
    assert len(before) == 1 + len(SIDECARS)
    return routine, out, cache, before


def test_engine_failure_keeps_the_previous_session_and_the_rerun_reuses_clips(
    rendered_once: tuple[Path, Path, Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    routine, out, cache, before = rendered_once
    standard = planned(load_routine(routine), cache)
    # Plan the full render on a scratch cache, keeping the real one as the first render left it.
    full = planned(load_routine(routine), out.parent / "scratch", Narration.FULL)
    new = {t for *_, t in spoken(full)} - {t for *_, t in spoken(standard)}
    assert len(new) >= 3, new

    failing = FailingEngine(fail_at=3)
    monkeypatch.setattr(guidecast.cli.rendering, "make_engine", lambda *a, **k: failing)
    args = ["-q", "render", routine, "-o", out, "--cache-dir", cache, "--narration", "full"]
    code, stdout, stderr = run_main(args, monkeypatch, capsys)
    assert code == 1
    assert stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    assert "crashed" in stderr and "Traceback" not in stderr
    assert snapshot(out) == before  # byte for byte, and no temporary files left
    assert len(failing.calls) == 3

    rerun = FakeEngine()
    monkeypatch.setattr(guidecast.cli.rendering, "make_engine", lambda *a, **k: rerun)
    code, _, stderr = run_main(args, monkeypatch, capsys)
    assert code == 0, stderr
    assert sorted(rerun.calls) == sorted(new - set(failing.calls[:2]))
    after = snapshot(out)
    assert after.keys() == before.keys()
    assert after["small-flow.mp3"] != before["small-flow.mp3"]


def _interrupted(
    blocks: Iterator[npt.NDArray[np.int16]], error: BaseException, after: int
) -> Iterator[npt.NDArray[np.int16]]:
    """Pass blocks through, then fail with `error` as block number `after` is asked for."""
    for i, block in enumerate(blocks):
        if i == after:
            raise error
        yield block


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (KeyboardInterrupt(), KeyboardInterrupt),
        (EngineError("speech engine 'fake' crashed"), EngineError),
        (OSError(errno.ENOSPC, "No space left on device"), ExportError),
    ],
    ids=["ctrl-c", "engine", "disk full"],
)
def test_failure_inside_the_pcm_stream_keeps_the_previous_session(
    rendered_once: tuple[Path, Path, Path, dict[str, bytes]],
    error: BaseException,
    raised: type[BaseException],
) -> None:
    routine_path, out, cache, before = rendered_once
    routine = load_routine(routine_path)
    voice = fake_voice(cache)
    fmt = AudioFormat()
    rendered = render_routine(routine, voice, fmt, narration=Narration.FULL)
    with pytest.raises(raised) as info:
        export_session(
            routine,
            rendered.layout,
            _interrupted(stream_pcm(rendered, voice, fmt, block_ms=500), error, after=20),
            files=session_files(out, routine.path),
            fmt=fmt,
        )
    if raised is ExportError:
        assert "No space left on device" in str(info.value)
    assert snapshot(out) == before


@pytest.mark.parametrize("path", ["splice", "splice over a bed"])
def test_ctrl_c_while_encoding_exits_130_and_keeps_the_previous_session(
    rendered_once: tuple[Path, Path, Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    path: str,
) -> None:
    routine, out, cache, before = rendered_once
    args = ["-q", "render", routine, "-o", out, "--engine", "fake", "--cache-dir", cache]
    if path == "splice":  # the runs of a session without a bed
        args += ["--bed", "none"]
        real_run = guidecast.mp3.splice._Runs.__call__
        calls = iter(range(1_000_000))

        def interrupted(self: Any, group: Any) -> Any:
            if next(calls) == 5:
                raise KeyboardInterrupt
            return real_run(self, group)

        monkeypatch.setattr(guidecast.mp3.splice._Runs, "__call__", interrupted)
    else:  # the runs over a bed
        real_bed_run = guidecast.mp3.bedsplice._BedFrames.run
        bed_calls = iter(range(1_000_000))

        def interrupted_bed(self: Any, run: Any) -> Any:
            if next(bed_calls) == 3:
                raise KeyboardInterrupt
            return real_bed_run(self, run)

        monkeypatch.setattr(guidecast.mp3.bedsplice._BedFrames, "run", interrupted_bed)
        args += ["--bed", "air"]
    code, _, stderr = run_main([*args, "--narration", "brief"], monkeypatch, capsys)
    assert code == 130
    assert "Interrupted." in stderr and "Traceback" not in stderr
    assert snapshot(out) == before


# -- command-line mistakes and unwritable places ------------------------------------------------


def test_one_mp3_path_for_two_routines_is_a_usage_error(tmp_path: Path) -> None:
    first = write_routine(tmp_path, SMALL, "first")
    second = write_routine(tmp_path, SMALL, "second")
    result = CliRunner().invoke(
        cli, ["render", str(first), str(second), "-o", str(tmp_path / "one.mp3"), "-e", "fake"]
    )
    assert result.exit_code == 2
    assert "-o" in result.output and "folder" in result.output
    assert not (tmp_path / "one.mp3").exists()


def test_an_mp3_path_names_the_session_and_its_sidecars(tmp_path: Path) -> None:
    routine = write_routine(tmp_path, SMALL, "small-flow")
    code, output = render_cli(routine, tmp_path / "out" / "morning.mp3", tmp_path / "cache")
    assert code == 0, output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(["morning.mp3", *(f"morning{s}" for s in SIDECARS)])


def test_output_under_a_file_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = write_routine(tmp_path, SMALL, "small-flow")
    (tmp_path / "taken").write_text("a file, not a folder")
    out = tmp_path / "taken" / "sessions"
    args = ["-q", "render", routine, "-o", out, "--engine", "fake", "--cache-dir", tmp_path / "c"]
    code, _, stderr = run_main(args, monkeypatch, capsys)
    assert code == 1
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    assert str(out) in stderr and "Traceback" not in stderr


def test_unwritable_output_folder_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = write_routine(tmp_path, SMALL, "small-flow")
    out = tmp_path / "read-only"
    out.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: refuse new files in `out` the way the OS would
        real = tempfile.mkstemp

        def mkstemp(*args: object, **kwargs: object) -> tuple[int, str]:
            if Path(str(kwargs.get("dir", ""))) == out:
                raise PermissionError(errno.EACCES, "Permission denied")
            return real(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

        monkeypatch.setattr(guidecast.store.atomic.tempfile, "mkstemp", mkstemp)
    else:
        out.chmod(0o500)
    try:
        args = ["-q", "render", routine, "-o", out, "-e", "fake", "--cache-dir", tmp_path / "c"]
        code, _, stderr = run_main(args, monkeypatch, capsys)
    finally:
        out.chmod(0o700)
    assert code == 1
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    assert "Permission denied" in stderr and "Traceback" not in stderr
    assert list(out.iterdir()) == []
