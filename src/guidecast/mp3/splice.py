"""The splice renderer: a session's MP3 assembled from encoded runs and copied silence.

A session without a bed is mostly digital silence with sentences and bells at known times.
Each sound (or a cluster of sounds too close to part, such as a countdown) is encoded once as
a `Run` and kept by its content, gain and format; a render places the runs at the frames
nearest their planned times (within half a frame, 13 ms at 44.1 kHz) and fills the time
between them with copies of the silent frame that ends the run before. A re-render at another
length, narration level or countdown reads runs instead of encoding, so it costs a file copy.

The result is a valid CBR stream: every frame has the session's bitrate, each run starts with
no reference into the frames before it, and the Info header carries the exact frame and byte
counts, the encoder delay and the end padding, so decoders trim it to the planned length.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .. import __version__
from ..media.arrays import Pcm
from ..media.format import AudioFormat
from ..media.loudness import LoudnessMeter
from ..sound.balance import Piece
from ..sound.levels import GAIN_STEP_DB, SPEECH_LUFS
from ..sound.render import PieceAudio, Rendered
from ..sound.voice import Progress, Voice
from ..store.blobs import blob_key
from .frames import EncodeResult, frame_samples, frames_holding, info_frame, split_frames
from .runs import LEAD_FRAMES, Run, RunStore, encode_run, frames_needed, silence_run

__all__ = [
    "Group",
    "nearest_kept_gain",
    "placed_pieces",
    "plan_groups",
    "run_store",
    "splice_mp3",
]

log = logging.getLogger(__name__)

_VERSION = 1
"""Part of every run's key: raise it when what a run holds for the same inputs changes."""


@dataclass(frozen=True)
class Group:
    """Sounds encoded together as one run: a sentence alone, or a cluster too close to part."""

    frame: int
    """The session frame its first sample lands on (its first piece's start, snapped)."""
    first: int
    """The planned start of its first piece, in samples."""
    parts: tuple[tuple[int, int, Piece], ...]
    """(offset from the group's first sample, length, piece), in time order; all samples."""

    @property
    def samples(self) -> int:
        return max(offset + length for offset, length, _ in self.parts)

    @property
    def lead(self) -> int:
        """Silent frames before the sound (fewer at the very start of the session)."""
        return min(LEAD_FRAMES, self.frame)


def plan_groups(placed: list[tuple[int, int, Piece]], fmt: AudioFormat) -> list[Group]:
    """Group (start sample, length, piece) into runs that cannot overlap once encoded."""
    fs = frame_samples(fmt.sample_rate)
    groups: list[tuple[int, int, list[tuple[int, int, Piece]]]] = []  # (frame, first, parts)
    for start, length, piece in placed:
        frame = (start + fs // 2) // fs
        if groups:
            first_frame, first, parts = groups[-1]
            end = max(offset + n for offset, n, _ in parts)
            if frame - min(LEAD_FRAMES, frame) < first_frame + frames_needed(end, fmt):
                parts.append((start - first, length, piece))
                continue
        groups.append((frame, start, [(0, length, piece)]))
    return [Group(frame, first, tuple(parts)) for frame, first, parts in groups]


def _merge(a: Group, b: Group) -> Group:
    shift = b.first - a.first
    return Group(a.frame, a.first, a.parts + tuple((shift + o, n, p) for o, n, p in b.parts))


class _Runs:
    """Runs for groups: from the store when kept, else encoded (and kept)."""

    def __init__(
        self, rendered: Rendered, voice: Voice, fmt: AudioFormat, store: RunStore, quality: int
    ) -> None:
        self.rendered = rendered
        self.voice = voice
        self.fmt = fmt
        self.store = store
        self.quality = quality
        self.audio = PieceAudio(rendered, voice, fmt)

    def key(self, group: Group) -> str:
        f, levels = self.fmt, self.rendered.levels
        return blob_key(
            [
                "run",
                _VERSION,
                __version__,
                SPEECH_LUFS,
                [f.sample_rate, f.channels, f.bitrate, self.quality],
                round(self.rendered.gain_db, 4),
                [self.audio.speech_ceiling, self.audio.bell_ceiling],
                group.lead,
                [
                    [offset, length, p.identity(self.voice, levels)]
                    for offset, length, p in group.parts
                ],
            ]
        )

    def silence(self) -> Run:
        """A fresh encoder's digital silence: how a session that starts quietly begins."""
        f = self.fmt
        key = blob_key(["silence", _VERSION, [f.sample_rate, f.channels, f.bitrate, self.quality]])
        run = self.store.get(key, counted=False, fmt=f)
        if run is None:
            run = silence_run(f, self.quality)
            self.store.put(key, run, counted=False)
        return run

    def __call__(self, group: Group) -> Run:
        key = self.key(group)
        run = self.store.get(key, fmt=self.fmt)
        if run is None:
            run = encode_run(self.pcm(group), self.fmt, self.quality, lead=group.lead)
            self.store.put(key, run)
        return run

    def pcm(self, group: Group) -> Pcm:
        """The group's sound as int16 (interleaved when stereo), laid as a full encode lays it:
        where two pieces overlap, the earlier one plays on and the later one's start is cut."""
        out = np.zeros(group.samples, np.int16)
        cursor = 0
        for offset, length, piece in group.parts:
            pcm = self.audio(piece)[:length]
            skip = max(0, cursor - offset)
            out[offset + skip : offset + len(pcm)] = pcm[skip:]
            cursor = max(cursor, offset + len(pcm))
        return np.repeat(out, self.fmt.channels) if self.fmt.channels > 1 else out


def placed_pieces(
    rendered: Rendered, voice: Voice, fmt: AudioFormat
) -> list[tuple[int, int, Piece]]:
    """Every sound of the session as (start sample, length in samples, piece)."""
    out: list[tuple[int, int, Piece]] = []
    for start, piece in rendered.piece_starts(fmt.sample_rate):
        if piece.text is not None:
            length = voice.output_samples(piece.text)
        else:
            assert piece.sound is not None
            length = voice.sound_samples(piece.sound)
        out.append((start, length, piece))
    return out


def splice_mp3(
    rendered: Rendered,
    voice: Voice,
    fmt: AudioFormat,
    out: BinaryIO,
    *,
    store: RunStore,
    quality: int | None = None,
    progress: Progress | None = None,
    meter: LoudnessMeter | None = None,
) -> EncodeResult:
    """Write the session as CBR MP3 frames on a seekable file, Info header first.

    `meter`, if given, is fed the loudness of every run as placed (kept with each run)."""
    quality = fmt.quality if quality is None else quality
    fs = frame_samples(fmt.sample_rate)
    total = rendered.layout.total_ms * fmt.sample_rate // 1000
    frames_total = frames_holding(total, fs)
    groups = plan_groups(placed_pieces(rendered, voice, fmt), fmt)
    gain = kept_gain(rendered, groups, voice, fmt, store, quality)
    if gain != rendered.gain_db:
        log.info("gain %+.1f dB, of kept runs, for %+.1f dB", gain, rendered.gain_db)
        rendered = replace(rendered, gain_db=gain)
    runs = _Runs(rendered, voice, fmt, store, quality)
    head = runs.silence()
    head_frames, _ = split_frames(head.frames)
    start = out.tell()
    out.write(bytes(len(info_frame(head.frames[:4], 0, 0, 0))))
    written = cursor = 0
    before: Run | None = None

    def fill(frames: int) -> None:
        nonlocal written, cursor
        if frames <= 0:
            return
        if before is None:  # the session starts quietly: a fresh encoder's silence
            lead = b"".join(head_frames[:frames])
            data = lead + head.silence(frames - min(frames, len(head_frames)))
        else:
            data = before.silence(frames)
        out.write(data)
        written += len(data)
        cursor += frames

    i = 0
    while i < len(groups):
        group = groups[i]
        run = runs(group)
        first = group.frame - group.lead
        if i + 1 < len(groups):
            after = groups[i + 1]
            if after.frame - after.lead < first + run.count:  # longer than planned: join them
                groups[i : i + 2] = [_merge(group, after)]
                continue
        fill(first - cursor)
        take = min(run.count, frames_total - cursor)
        data = run.frames if take == run.count else b"".join(split_frames(run.frames)[0][:take])
        out.write(data)
        written += len(data)
        cursor += take
        before = run
        if meter is not None:
            meter.feed_blocks(run.blocks * fmt.channels)
        i += 1
        if progress is not None:
            progress("encode", min(i, len(groups)), len(groups))
    fill(frames_total - cursor)
    end = out.tell()
    out.seek(start)
    out.write(info_frame(head.frames[:4], cursor, written, total))
    out.seek(end)
    log.info(
        "spliced %d runs (%d kept, %d encoded) into %d frames",
        len(groups),
        store.hits,
        store.made,
        cursor,
    )
    return EncodeResult(total, cursor, end - start)


REUSE_DB = 0.3
"""How far from its own gain (dB) a variant may take the gain of runs already kept."""


def kept_gain(
    rendered: Rendered,
    groups: list[Group],
    voice: Voice,
    fmt: AudioFormat,
    store: RunStore,
    quality: int,
) -> float:
    """The session gain to splice at: its own, or the nearest within `REUSE_DB` at which
    most of its runs are kept already.

    Every sentence is levelled alike, yet a variant at another narration level or countdown
    measures a few hundredths to tenths of a dB louder or softer than the one before, which
    would make every run anew; a loudness within a third of a dB of the target is kept instead.
    """
    sample = groups[:: max(1, len(groups) // 8)]
    if not sample or store.blobs.root is None:
        return rendered.gain_db

    def kept(gain: float) -> bool:
        runs = _Runs(replace(rendered, gain_db=gain), voice, fmt, store, quality)
        return 2 * sum(store.has(runs.key(group)) for group in sample) >= len(sample)

    return nearest_kept_gain(rendered.gain_db, kept)


def nearest_kept_gain(gain_db: float, kept: Callable[[float], bool]) -> float:
    """`gain_db`, or the nearest gain within `REUSE_DB` (in steps of `GAIN_STEP_DB`) at which
    `kept` finds most of a session's runs kept already."""
    steps = round(REUSE_DB / GAIN_STEP_DB)
    for k in sorted(range(-steps, steps + 1), key=lambda k: (abs(k), k)):
        gain = round(gain_db + k * GAIN_STEP_DB, 6)
        if kept(gain):
            if k:
                log.info(
                    "gain %+.1f dB, at which its runs are kept (its own %+.1f dB)", gain, gain_db
                )
            return gain
    return gain_db


def run_store(cache_root: Path) -> RunStore:
    """Where encoded runs are kept: beside the speech cache they are made from."""
    return RunStore(cache_root / "runs")
