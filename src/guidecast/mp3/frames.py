"""CBR MP3 encoding with lameenc, plus the LAME/Info header LAME's library would write itself."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

import lameenc
import numpy as np

from ..media.arrays import Pcm
from ..media.format import AudioFormat

__all__ = [
    "DECODER_DELAY",
    "ENCODER_DELAY",
    "EncodeResult",
    "encode_mp3",
    "frame_format",
    "frame_samples",
    "frames_holding",
    "info_frame",
    "split_frames",
]

log = logging.getLogger(__name__)

ENCODER_DELAY = 576
"""Samples LAME puts before the audio; written in the LAME tag so decoders trim them."""
DECODER_DELAY = 529
"""Samples a decoder's synthesis filter bank delays the audio by (528 + 1): the last frames
must reach that far past the end."""
_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000)}


@dataclass(frozen=True)
class _Header:
    version: int  # 1 for MPEG-1, 2 for MPEG-2 (and 2.5)
    bitrate: int
    sample_rate: int
    padding: int
    mono: bool

    @classmethod
    def parse(cls, b: bytes) -> _Header:
        if len(b) < 4 or b[0] != 0xFF or (b[1] & 0xE0) != 0xE0:
            raise ValueError("lost MPEG frame sync")
        version = 1 if (b[1] >> 3) & 3 == 3 else 2
        if b[2] >> 4 in (0, 15) or (b[2] >> 2) & 3 == 3:
            raise ValueError("a free or reserved bitrate or sample rate")
        rate = _RATES[version][(b[2] >> 2) & 3]
        if (b[1] >> 3) & 3 == 0:  # MPEG-2.5
            rate //= 2
        return cls(version, _BITRATES[version][b[2] >> 4], rate, (b[2] >> 1) & 1, b[3] >> 6 == 3)

    @property
    def size(self) -> int:
        return (144 if self.version == 1 else 72) * self.bitrate * 1000 // self.sample_rate + (
            self.padding
        )

    @property
    def samples(self) -> int:
        return 1152 if self.version == 1 else 576

    @property
    def side_info(self) -> int:
        if self.version == 1:
            return 17 if self.mono else 32
        return 9 if self.mono else 17


class _Frames:
    """Splits an encoder's output into whole MPEG frames, counting them as they stream by.

    LAME's output can stop part-way through a frame; the partial frame waits here for the
    rest. `steady` is the last whole frame when it repeats the one before it exactly, as the
    frames of a settled run of digital silence do.

    Copies are always of the padded frame: an unpadded one would shift the bit reservoir that
    the frames after it point into. So a long silence runs a few bit/s over the nominal rate
    (64005 instead of 64000 at 64 kbit/s, 44.1 kHz); every frame header still says 64 kbit/s
    and the Info header carries the exact frame and byte counts.
    """

    def __init__(self) -> None:
        self.frames = 0
        self.first: bytes | None = None
        self.steady: bytes | None = None
        self._last: bytes | None = None
        self._buf = bytearray()

    def whole(self, data: bytes) -> bytes:
        """Take encoder output; return the frames it completes."""
        self._buf += data
        at = 0
        while at + 4 <= len(self._buf):
            header = bytes(self._buf[at : at + 4])
            size = _Header.parse(header).size
            if at + size > len(self._buf):
                break
            frame = bytes(self._buf[at : at + size])
            self.first = self.first or header
            self.steady = frame if frame == self._last else None
            self._last = frame
            self.frames += 1
            at += size
        done = bytes(self._buf[:at])
        del self._buf[:at]
        return done

    def copies(self, count: int) -> bytes:
        """`count` more copies of the steady frame, counted as frames."""
        assert self.steady is not None
        self.frames += count
        return self.steady * count

    def rest(self) -> bytes:
        """Whatever is left after the encoder's final flush."""
        done = self.whole(b"")
        if self._buf:
            raise ValueError("the encoder ended part-way through a frame")
        return done


def frame_samples(sample_rate: int) -> int:
    """Samples (per channel) in one MPEG layer III frame at this rate."""
    return 1152 if sample_rate >= 32000 else 576


def frames_holding(samples: int, frame: int) -> int:
    """How many frames of `frame` samples hold `samples` of audio, delays included."""
    return -(-(samples + ENCODER_DELAY + DECODER_DELAY) // frame)


def frame_format(frame: bytes) -> tuple[int, int, int]:
    """An MPEG frame's bitrate (kbit/s), sample rate and channels, from its header."""
    h = _Header.parse(frame)
    return h.bitrate, h.sample_rate, 1 if h.mono else 2


def split_frames(data: bytes) -> tuple[list[bytes], bytes]:
    """Whole MPEG frames at the start of `data`, and the partial frame left after them."""
    frames: list[bytes] = []
    at = 0
    while at + 4 <= len(data):
        size = _Header.parse(data[at : at + 4]).size
        if at + size > len(data):
            break
        frames.append(data[at : at + size])
        at += size
    return frames, data[at:]


def _crc16(data: bytes) -> int:
    """CRC-16 (polynomial 0x8005, reflected) as LAME computes its tag checksum."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def info_frame(first: bytes, frames: int, stream_bytes: int, samples: int) -> bytes:
    """A 'Info' frame (the CBR Xing header) with LAME's extension: length, delay and padding."""
    h = _Header.parse(first)
    index = list(_BITRATES[h.version]).index(h.bitrate)
    while True:  # the tag needs about 190 bytes: borrow a higher bitrate at very low ones
        probe = _Header(h.version, _BITRATES[h.version][index], h.sample_rate, 0, h.mono)
        if probe.size >= 4 + probe.side_info + 156:
            break
        index += 1
    header = bytes([first[0], first[1], (index << 4) | (first[2] & 0x0C), first[3]])
    size = probe.size
    total_bytes = stream_bytes + size
    padding = frames * h.samples - ENCODER_DELAY - samples
    toc = bytes(min(255, i * 256 // 100) for i in range(100))
    tag = b"Info" + struct.pack(">III", 0x0F, frames, total_bytes) + toc + struct.pack(">I", 0)
    lame = bytearray(b"LAME3.100")
    lame += bytes([0x01, 0])  # revision 0, CBR; lowpass unknown
    lame += bytes(8)  # no ReplayGain
    lame += bytes([0, min(255, h.bitrate)])
    lame += (ENCODER_DELAY << 12 | max(0, padding)).to_bytes(3, "big")
    lame += bytes([0, 0, 0, 0])  # misc, MP3 gain, preset and surround
    lame += struct.pack(">IH", total_bytes, 0)
    frame = bytearray(header + bytes(probe.side_info) + tag + lame)
    frame += struct.pack(">H", _crc16(bytes(frame[:190])))
    return bytes(frame + bytes(size - len(frame)))


@dataclass(frozen=True)
class EncodeResult:
    samples: int
    """Samples per channel, as decoders will return them."""
    frames: int
    bytes: int


SETTLE_SAMPLES = 8 * 1152
"""Digital silence the encoder must have taken in before its frames repeat exactly."""


def encode_mp3(
    blocks: Iterable[Pcm],
    out: BinaryIO,
    fmt: AudioFormat,
    *,
    quality: int | None = None,
) -> EncodeResult:
    """Encode PCM blocks to CBR MP3 on a seekable file, Info header first; constant memory.

    Guided sessions are mostly silence. Once the encoder has settled on a run of digital
    silence its CBR frames repeat byte for byte, so whole frames of a silent block are copied
    rather than encoded (several times faster); the encoder still sees enough of every
    silence to stay in step, and the decoded audio is the same.
    """
    sample_rate, channels, bitrate = fmt.sample_rate, fmt.channels, fmt.bitrate
    quality = fmt.quality if quality is None else quality
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(channels)
    encoder.set_quality(quality)
    encoder.set_out_sample_rate(sample_rate)  # LAME would otherwise resample at low bitrates
    start = out.tell()
    frames = _Frames()
    samples = written = copied = 0
    silent_run = 0  # zero samples (per channel) the encoder has taken in since the last sound
    placeholder: int | None = None
    per_frame = frame_samples(sample_rate)

    def emit(data: bytes) -> None:
        nonlocal placeholder, written
        if not data:
            return
        if placeholder is None:
            placeholder = len(info_frame(data[:4], 0, 0, 0))
            out.write(bytes(placeholder))
        out.write(data)
        written += len(data)

    for block in blocks:
        n = len(block) // channels
        samples += n
        if not block.any():
            left = n
            if silent_run < SETTLE_SAMPLES:  # let the encoder settle into the silence first
                lead = min(left, SETTLE_SAMPLES - silent_run)
                emit(frames.whole(bytes(encoder.encode(bytes(lead * channels * 2)))))
                left -= lead
            whole = left // per_frame
            if whole and frames.steady:
                # The copies go in after the last whole frame; the frame LAME has only
                # partly written follows them, as silent as the frames it now comes after.
                emit(frames.copies(whole))
                copied += whole
                left -= whole * per_frame
            if left:
                emit(frames.whole(bytes(encoder.encode(bytes(left * channels * 2)))))
            silent_run += n
        else:
            emit(frames.whole(bytes(encoder.encode(block.astype("<i2").tobytes()))))
            loud = np.flatnonzero(block)
            silent_run = n - (int(loud[-1]) // channels + 1)
    emit(frames.whole(bytes(encoder.flush())))
    emit(frames.rest())
    if placeholder is None:
        raise ValueError("the encoder produced no audio")
    assert frames.first is not None
    end = out.tell()
    out.seek(start)
    out.write(info_frame(frames.first, frames.frames, written, samples))
    out.seek(end)
    log.debug("%d of %d frames were silence copied, not encoded", copied, frames.frames)
    return EncodeResult(samples, frames.frames, written + placeholder)
