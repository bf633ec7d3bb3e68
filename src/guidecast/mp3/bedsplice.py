"""Splicing a session with an ambience bed: the loop encoded once, runs encoded over it.

Under a bed no frame is silent, so the splice renderer's copies of a silent frame cannot fill
the holds. Instead, the bed loop (a whole number of frames long, see `media.beds`) is encoded
once at the session's level into frames that repeat under any steady stretch, and everything
else (speech and bells with the bed ducked under them, the ramps of the bed going down and
coming back, the fades at both ends) is encoded in runs over the bed (`mp3.bedruns` says
where they go, and where a steady bed starts its loop again).

Both are encoded without a bit reservoir (`mp3.lame`), so every frame stands on its own, and
each from `PRE_FRAMES` frames before the first one it keeps, fed with the session's own sound
there: at the bed's LAME quality (7) the encoder has then settled. Under a bed played through
the frames are the ones a reservoir-free encode of the whole session makes, byte for byte;
under a steady bed each run is the same wherever it lands, so a session at a new length
copies every run that says what an earlier one said. Loop frames and runs are kept in the run
store by what they are made of: the bed, its level and loop phase, the gain curve over the
run, and each sound's identity and offset.
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

import numpy as np

from .. import __version__
from ..media.arrays import Float, Pcm
from ..media.cores import work_threads
from ..media.decode import INT16_MAX
from ..media.format import AudioFormat
from ..media.loudness import LoudnessMeter
from ..sound.levels import SPEECH_LUFS
from ..sound.mix import BedPlan
from ..sound.render import PieceAudio, Rendered, at_gain
from ..sound.voice import Progress, Voice
from ..store.blobs import BlobStore, blob_key
from .bedruns import POST_FRAMES, BedRun, bed_runs, encoder_start, padding_period
from .frames import (
    EncodeResult,
    frame_samples,
    frames_holding,
    info_frame,
)
from .lame import PRE_FRAMES, encode_frames
from .runs import RunStore
from .splice import nearest_kept_gain, placed_pieces

__all__ = ["splice_bed_mp3"]

log = logging.getLogger(__name__)

_VERSION = 1
"""Part of every key here: raise it when what is encoded for the same inputs changes."""
_COUNT = struct.Struct(">I")


class _BedFrames:
    """The loop's frames and the runs, from the store when kept, else encoded (and kept)."""

    def __init__(
        self, rendered: Rendered, voice: Voice, fmt: AudioFormat, store: RunStore, quality: int
    ) -> None:
        assert rendered.bed is not None
        self.bed = rendered.bed
        self.fmt = fmt
        self.quality = quality
        self.fs = frame_samples(fmt.sample_rate)
        self.total = rendered.layout.total_ms * fmt.sample_rate // 1000
        self.loop_frames = self.bed.loop.size // self.fs
        self.audio = PieceAudio(rendered, voice, fmt)
        self.store = BlobStore(store.blobs.root, b"GCBEDRUN", ".bedrun")
        self.voice = voice
        self.levels = rendered.levels
        f = fmt
        self.common = [
            "bed",
            _VERSION,
            __version__,
            [f.sample_rate, f.channels, f.bitrate, quality],
            list(self.bed.loop.identity),
            round(20 * math.log10(self.bed.scale), 4) if self.bed.scale > 0 else None,
        ]
        self.gain = [
            SPEECH_LUFS,
            round(rendered.gain_db, 4),
            [round(self.audio.speech_ceiling, 4), round(self.audio.bell_ceiling, 4)],
        ]
        self.hits = self.made = 0

    # -- the loop ---------------------------------------------------------------------------

    def loop(self) -> tuple[bytes, list[int]]:
        """One pass of the loop as frames, and where each starts in it (one more at the end)."""
        key = blob_key(["loop", *self.common])
        body = self.store.get(key)
        if body is not None and len(body) >= _COUNT.size:
            (count,) = _COUNT.unpack_from(body)
            head = _COUNT.size + 4 * (count + 1)
            offsets = list(struct.unpack_from(f">{count + 1}I", body, _COUNT.size))
            if count == self.loop_frames and offsets[-1] == len(body) - head:
                self.hits += 1
                return body[head:], offsets
            self.store.discard(key, "its frames do not add up")
        lead = self._loop_lead() * self.fs
        frames = self._encode(-lead, lead + self.bed.loop.size, steady=True)
        offsets = [0, *np.cumsum([len(f) for f in frames]).tolist()]
        data = b"".join(frames)
        count = len(frames)
        self.store.put(key, _COUNT.pack(count) + struct.pack(f">{count + 1}I", *offsets) + data)
        self.made += 1
        return data, offsets

    def _loop_lead(self) -> int:
        """Frames of the loop's end its encoder takes in first: `PRE_FRAMES`, or a whole
        padding period where the loop is whole periods long (then every frame pads as a
        whole-session encode's frame does at that place)."""
        period = padding_period(self.fmt)
        if self.loop_frames % period:
            return PRE_FRAMES
        return -(-PRE_FRAMES // period) * period

    # -- runs -------------------------------------------------------------------------------

    def key(self, run: BedRun) -> str:
        lo, hi = self._input(run)
        parts = [
            [start - lo, length, piece.identity(self.voice, self.levels)]
            for start, length, piece in run.parts
        ]
        phase = self.bed.phase(lo) // self.fs
        shape = [hi - lo, run.first - lo // self.fs, run.end - run.first, hi >= self.total]
        return blob_key(
            ["run", *self.common, *self.gain, phase, shape, self.bed.describe(lo, hi), parts]
        )

    def _input(self, run: BedRun) -> tuple[int, int]:
        """The samples a run's encoder takes in: from PRE_FRAMES before its first frame (or
        the session's start) to a few frames after its last (or the session's end)."""
        lo = encoder_start(run.first, self.fmt, steady=self.bed.loop.steady) * self.fs
        return lo, min(self.total, (run.end + POST_FRAMES) * self.fs)

    def has(self, run: BedRun) -> bool:
        """Whether a run is kept (not checked until it is read)."""
        return self.store.has(self.key(run))

    def run(self, run: BedRun) -> bytes:
        key = self.key(run)
        body = self.store.get(key)
        if body is not None and len(body) >= _COUNT.size:
            (count,) = _COUNT.unpack_from(body)
            if count == run.end - run.first:
                self.hits += 1
                return body[_COUNT.size :]
            self.store.discard(key, "its frame count is wrong")
        self.made += 1
        return self._make(run, key)

    def make_missing(self, runs: list[BedRun]) -> dict[int, bytes]:
        """The runs not kept yet (by index), encoded side by side and kept: LAME runs
        outside the GIL, so a new length's few new runs take the time of the longest."""
        todo: dict[str, list[int]] = {}  # a session may say the same run twice
        for i, run in enumerate(runs):
            if not self.has(run):
                todo.setdefault(self.key(run), []).append(i)
        if len(todo) < 2 or work_threads() < 2:
            return {}
        self.bed.loop.samples  # read once, before the threads  # noqa: B018
        with ThreadPoolExecutor(work_threads(len(todo))) as pool:
            made = pool.map(lambda k: self._make(runs[todo[k][0]], k), todo)
            out = {i: data for at, data in zip(todo.values(), made, strict=True) for i in at}
        self.made += len(todo)
        self.hits += len(out) - len(todo)
        return out

    def _make(self, run: BedRun, key: str | None = None) -> bytes:
        """Encode a run and keep it."""
        lo, hi = self._input(run)
        frames = self._encode(lo, hi - lo, run=run)
        keep = run.end - run.first
        if len(frames) < keep:
            raise RuntimeError("the MP3 encoder wrote fewer frames than the run needs")
        data = b"".join(frames[:keep])
        self.store.put(key or self.key(run), _COUNT.pack(keep) + data)
        return data

    def _encode(
        self, lo: int, n: int, *, run: BedRun | None = None, steady: bool = False
    ) -> list[bytes]:
        """Frames from a fresh encoder fed `n` samples of the session from sample `lo`, less
        those made before `lo` reached the first frame kept (PRE_FRAMES, or none at 0)."""
        fs = self.fs
        if steady:  # the loop alone at full level, a few frames past its end
            skip = -lo // fs
            positions = np.arange(lo, lo + n + POST_FRAMES * fs) % self.bed.loop.size
            bed = self.bed.loop.samples[positions] * np.float32(self.bed.scale)
            pcm = _int16(bed * np.float32(INT16_MAX))
            end_of_session = False
        else:
            assert run is not None
            skip = run.first - lo // fs
            bed = self.bed.segment(lo, lo + n) * np.float32(INT16_MAX)
            pcm = _int16(self._pieces(run, lo, n) + bed)
            end_of_session = lo + n >= self.total
        if self.fmt.channels > 1:
            pcm = np.repeat(pcm, self.fmt.channels)
        frames = encode_frames(pcm, self.fmt, self.quality, flush=end_of_session)
        kept = frames[skip:]
        if steady:
            kept = kept[: self.loop_frames]
            if len(kept) < self.loop_frames:
                raise RuntimeError("the MP3 encoder wrote fewer frames than the loop has")
        return kept

    def _pieces(self, run: BedRun, lo: int, n: int) -> Float:
        """The run's sounds over samples [lo, lo + n), laid as the PCM stream lays them."""
        out = np.zeros(n, np.float32)
        cursor = 0
        for start, length, piece in run.parts:
            pcm = self.audio(piece)[: max(0, min(length, self.total - start))]
            begin = max(start, cursor, lo)  # an earlier sound plays on over a later one
            end = min(start + len(pcm), lo + n)
            if end > begin:
                out[begin - lo : end - lo] = pcm[begin - start : end - start]
            cursor = max(cursor, start + len(pcm))
        return out


def _kept_gain(
    rendered: Rendered,
    runs: list[BedRun],
    voice: Voice,
    fmt: AudioFormat,
    store: RunStore,
    quality: int,
) -> Rendered:
    """The session at its own gain, or at the nearest within `REUSE_DB` at which most of its
    runs are kept already (`mp3.splice.nearest_kept_gain`, as without a bed): a session at
    another length measures a few hundredths of a dB louder or softer than the one before,
    which, across a step of the gain, would make every run and the loop anew."""
    sample = runs[:: max(1, len(runs) // 8)]
    if not sample or store.blobs.root is None:
        return rendered

    def kept(gain: float) -> bool:
        frames = _BedFrames(at_gain(rendered, gain, fmt), voice, fmt, store, quality)
        return 2 * sum(frames.has(run) for run in sample) >= len(sample)

    gain = nearest_kept_gain(rendered.gain_db, kept)
    return rendered if gain == rendered.gain_db else at_gain(rendered, gain, fmt)


def _int16(x: Float) -> Pcm:
    """Sound in int16 units rounded and clipped to int16, as the PCM stream does."""
    mixed = np.rint(x)
    pcm: Pcm = np.clip(mixed, -INT16_MAX - 1, INT16_MAX, out=mixed).astype(np.int16)
    return pcm


def _steady(
    data: bytes, offsets: list[int], bed: BedPlan, first: int, end: int, fs: int
) -> Iterator[bytes]:
    """The loop's frames under session frames [first, end), at the bed's phase there (which
    starts again at each of its restarts)."""
    at = first
    for restart in [r // fs for r in bed.restarts if first * fs < r < end * fs] + [end]:
        yield from _loop_frames(data, offsets, bed.phase(at * fs) // fs, restart - at)
        at = restart


def _loop_frames(data: bytes, offsets: list[int], first: int, count: int) -> Iterator[bytes]:
    """`count` loop frames from loop frame `first` on, wrapping round."""
    size = len(offsets) - 1
    at = first % size
    while count > 0:
        take = min(count, size - at)
        yield data[offsets[at] : offsets[at + take]]
        count -= take
        at = 0


def splice_bed_mp3(
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
    """Write a session with a bed as CBR MP3 frames on a seekable file, Info header first."""
    assert rendered.bed is not None
    quality = fmt.bed_quality if quality is None else quality
    fs = frame_samples(fmt.sample_rate)
    total = rendered.layout.total_ms * fmt.sample_rate // 1000
    frames_total = frames_holding(total, fs)
    runs = bed_runs(placed_pieces(rendered, voice, fmt), rendered.bed, fmt, frames_total)
    rendered = _kept_gain(rendered, runs, voice, fmt, store, quality)
    assert rendered.bed is not None
    kept = _BedFrames(rendered, voice, fmt, store, quality)
    loop, offsets = kept.loop()
    start = out.tell()
    first_header = loop[:4]
    out.write(bytes(len(info_frame(first_header, 0, 0, 0))))
    written = cursor = 0

    def write(data: bytes) -> None:
        nonlocal written
        out.write(data)
        written += len(data)

    bed = rendered.bed
    made = kept.make_missing(runs)
    for i, run in enumerate(runs):
        for data in _steady(loop, offsets, bed, cursor, run.first, fs):
            write(data)
        write(made.pop(i) if i in made else kept.run(run))
        cursor = run.end
        if progress is not None:
            progress("encode", i + 1, len(runs))
    for data in _steady(loop, offsets, bed, cursor, frames_total, fs):
        write(data)
    end = out.tell()
    out.seek(start)
    out.write(info_frame(first_header, frames_total, written, total))
    out.seek(end)
    if meter is not None and rendered.bed.blocks is not None:
        # The session as its gain was set by, at that gain less what the limiter takes (the
        # gain makes up for the limiter, which the blocks, measured before it, do not see).
        heard_db = rendered.gain_db - rendered.limiter_loss_db
        meter.feed_blocks(rendered.bed.blocks * fmt.channels * 10 ** (heard_db / 10))
    log.info(
        "spliced %d runs over the bed (%d kept, %d encoded) into %d frames",
        len(runs),
        kept.hits,
        kept.made,
        frames_total,
    )
    return EncodeResult(total, frames_total, end - start)
