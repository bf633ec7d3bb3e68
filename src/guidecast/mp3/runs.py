"""Encoded runs: a stretch of sound encoded once into MP3 frames that splice anywhere.

A run is encoded by a fresh LAME encoder from `LEAD_FRAMES` frames of digital silence, through
its sound, until the encoder's frames settle into repeating digital silence. Its first frame
points into no earlier frame (a fresh encoder has no bit reservoir), its sound decodes exactly
as the frames' own samples say, and it ends on the silent frame that repeats after it; so runs
can follow one another at any frame, with copies of that silent frame between them. The lead-in
lets the encoder start the sound with the same full bit reservoir it has after any silence.

Runs are kept on disk by the content they were made from (`RunStore`), so a re-render that
places the same sentences at other times copies their frames instead of encoding again.
"""

from __future__ import annotations

import logging
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

import lameenc
import numpy as np

from ..media.arrays import F64, Pcm
from ..media.decode import to_float
from ..media.format import AudioFormat
from ..media.loudness import blocks_from_subs, sub_block_power
from ..store.blobs import BlobStore
from .frames import SETTLE_SAMPLES, frame_format, frame_samples, frames_holding, split_frames

__all__ = ["LEAD_FRAMES", "Run", "RunStore", "encode_run", "frames_needed", "silence_run"]

log = logging.getLogger(__name__)

LEAD_FRAMES = 2
"""Frames of silence a run's encoder takes in before the sound (and that the run starts with)."""
_MAX_TAIL_FRAMES = 64
"""A run whose encoder has not settled this long after its sound is refused (never seen)."""
_HEAD = struct.Struct(">IIIII")  # frames, frames in the cycle, their sizes, 400 ms blocks


@dataclass(frozen=True)
class Run:
    """Whole MPEG frames from a fresh encoder: a silent lead-in, the sound, settled silence."""

    frames: bytes
    count: int
    """Frames in `frames`."""
    cycle: tuple[bytes, ...]
    """The run's last frames: settled silence that repeats after it, byte for byte (one frame,
    or two where the frame size alternates with the padding bit, as at 96 kbit/s)."""
    blocks: F64
    """K-weighted power of each 400 ms block of the sound (mono, 100 ms apart; see
    `LoudnessMeter.feed_blocks`): how loud the run is, known without decoding it."""

    def __post_init__(self) -> None:
        if not 1 <= len(self.cycle) <= 2 or not self.frames.endswith(b"".join(self.cycle)):
            raise ValueError("a run must end with its repeating frames")

    def silence(self, frames: int) -> bytes:
        """`frames` frames of the settled silence that follows the run."""
        period = len(self.cycle)
        return b"".join(self.cycle) * (frames // period) + b"".join(self.cycle[: frames % period])


def _parse(body: bytes, fmt: AudioFormat | None) -> Run:
    """A run from its stored form; ValueError unless every part of it is consistent."""
    count, period, first, second, blocks = _HEAD.unpack_from(body)
    at = _HEAD.size + 8 * blocks
    if period not in (1, 2) or len(body) < at or not first or (period == 2) != bool(second):
        raise ValueError("a malformed run")
    power = np.frombuffer(body[_HEAD.size : at], ">f8").astype(np.float64)
    if not np.isfinite(power).all() or (power < 0).any():
        raise ValueError("loudness blocks that are not powers")
    frames = body[at:]
    whole, rest = split_frames(frames)
    if rest or len(whole) != count or count < period:
        raise ValueError(f"{len(whole)} whole frames where the run has {count}")
    formats = {frame_format(f) for f in whole}
    if len(formats) != 1:
        raise ValueError("frames of different formats")
    if fmt is not None and formats != {(fmt.bitrate, fmt.sample_rate, fmt.channels)}:
        raise ValueError("frames of another format than the session's")
    end = len(frames) - (second if period == 2 else 0)
    cycle = (frames[end - first : end],) + ((frames[end:],) if period == 2 else ())
    if tuple(len(c) for c in cycle) != tuple(len(f) for f in whole[-period:]):
        raise ValueError("its repeating frames are not whole frames")
    return Run(frames, count, cycle, power)


def _encoder(fmt: AudioFormat, quality: int) -> lameenc.Encoder:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(fmt.bitrate)
    encoder.set_in_sample_rate(fmt.sample_rate)
    encoder.set_channels(fmt.channels)
    encoder.set_quality(quality)
    encoder.set_out_sample_rate(fmt.sample_rate)
    return encoder


def frames_needed(samples: int, fmt: AudioFormat) -> int:
    """An upper estimate of a run's frames after its lead-in, for `samples` of sound."""
    fs = frame_samples(fmt.sample_rate)
    return frames_holding(samples + SETTLE_SAMPLES, fs) + 4


def encode_run(pcm: Pcm, fmt: AudioFormat, quality: int, *, lead: int = LEAD_FRAMES) -> Run:
    """Encode int16 PCM (interleaved when stereo) as a run, after `lead` frames of silence."""
    mono = pcm[:: fmt.channels] if len(pcm) else np.zeros(1, np.int16)
    blocks = blocks_from_subs(sub_block_power(to_float(mono), fmt.sample_rate))
    fs = frame_samples(fmt.sample_rate)
    encoder = _encoder(fmt, quality)
    silent = np.zeros(lead * fs * fmt.channels, np.int16)
    pending = bytes(encoder.encode(np.concatenate([silent, pcm]).astype("<i2").tobytes()))
    frames: list[bytes] = []
    sound = lead * fs + len(pcm) // fmt.channels + SETTLE_SAMPLES
    silence = bytes(fs * fmt.channels * 2)
    while True:
        whole, rest = split_frames(pending)
        frames += whole
        pending = rest
        # Only past the sound and the encoder's settling time can a repeat be settled silence.
        first = max(2, sound // fs)
        for j in range(first, len(frames)):
            if frames[j] == frames[j - 1]:
                return Run(b"".join(frames[:j]), j, (frames[j - 1],), blocks)
            if j + 1 < len(frames) and frames[j : j + 2] == frames[j - 2 : j]:
                return Run(b"".join(frames[:j]), j, (frames[j - 2], frames[j - 1]), blocks)
        if len(frames) * fs > sound + _MAX_TAIL_FRAMES * fs:
            raise RuntimeError("the MP3 encoder did not settle into silence")
        pending += bytes(encoder.encode(silence))


def silence_run(fmt: AudioFormat, quality: int) -> Run:
    """A run with no sound: how a session that starts quietly begins."""
    return encode_run(np.zeros(0, np.int16), fmt, quality)


class RunStore:
    """Runs kept on disk by key (see `BlobStore`): a damaged one is encoded again."""

    def __init__(self, root: Path | None) -> None:
        self.blobs = BlobStore(root, b"GCRUN2", ".run")
        self.hits = 0
        self.made = 0

    def has(self, key: str) -> bool:
        """Whether a run is kept under `key` (not checked until it is read)."""
        path = self.blobs.path(key)
        try:
            return path is not None and stat.S_ISREG(os.lstat(path).st_mode)
        except OSError:
            return False

    def get(self, key: str, *, counted: bool = True, fmt: AudioFormat | None = None) -> Run | None:
        """The run kept under `key` (None when there is none, or it is damaged).

        A run is checked whole before it is used: its checksum, and then its frames, cycle
        and loudness blocks, so a malformed body (or one for another `fmt`) is made again.
        """
        body = self.blobs.get(key)
        if body is None:
            return None
        try:
            run = _parse(body, fmt)
        except (ValueError, struct.error) as e:
            self.blobs.discard(key, str(e))
            return None
        self.hits += counted
        return run

    def put(self, key: str, run: Run, *, counted: bool = True) -> None:
        self.made += counted
        sizes = [len(f) for f in run.cycle] + [0]
        head = _HEAD.pack(run.count, len(run.cycle), sizes[0], sizes[1], len(run.blocks))
        self.blobs.put(key, head + run.blocks.astype(">f8").tobytes() + run.frames)
