"""The balance of a session: every distinct piece measured once, bells matched to speech,
and the gain that brings the whole (with its bed, if any) to the loudness target."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .. import __version__
from ..compiler.timeline import Layout, Sound, Speak
from ..media.arrays import F64, Float
from ..media.cores import in_background, work_threads
from ..media.decode import load_sound
from ..media.loudness import (
    SUB_PAD,
    LoudnessMeter,
    blocks_from_subs,
    limit_true_peak,
    sub_block_power,
)
from ..model import SoundRef
from ..store.blobs import BlobStore, blob_key
from .bedschedule import BedSchedule
from .levels import SPEECH_LUFS, bell_gain_db, soft_onset, speech_p95, stepped
from .mix import BedPlan, Mix
from .voice import Voice

if TYPE_CHECKING:
    from ..media.format import AudioFormat

__all__ = [
    "Levels",
    "Measured",
    "Piece",
    "duck_spans",
    "keep_limited",
    "loudness_gap_db",
    "match_bells",
    "measure",
    "measure_gain_db",
    "pieces",
    "session_blocks",
    "session_gain",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Levels:
    """The balance within a session: bell gains against speech, and their onset."""

    bell_gain_db: Mapping[str, float] = field(default_factory=dict)
    """Gain per bell, by piece key (speech is levelled by `Voice`)."""
    bell_onset_ms: int = 0
    speech_p95: float = -math.inf
    """95th percentile of the speech's momentary loudness (LUFS, before the session gain)."""
    speech_ceiling_db: float | None = None
    """True-peak ceiling for speech (dBTP), lower than the format's to leave room for a bed;
    None for the format's own."""
    bell_ceiling_db: float | None = None


@dataclass(frozen=True)
class Piece:
    """A sound actually present in the session: a sentence or a bell, at its start time."""

    start_ms: int
    key: str
    """Same key, same audio: "t:" + the sentence's key or "s:" + sound name."""
    text: str | None = None
    sound: SoundRef | None = None

    def audio(self, voice: Voice, levels: Levels) -> Float:
        """At the output rate and its level in the mix (before the session gain)."""
        if self.text is not None:
            return voice.samples(self.text)
        assert self.sound is not None
        x = soft_onset(load_sound(self.sound, voice.sample_rate), voice.sample_rate,
                       levels.bell_onset_ms)  # fmt: skip
        gain = levels.bell_gain_db.get(self.key, 0.0)
        return x * np.float32(10 ** (gain / 20)) if gain else x

    def identity(self, voice: Voice, levels: Levels) -> list[object]:
        """What the piece's sound depends on (JSON-able): the speech cache's key for a
        sentence; a bell's file, its gain and onset. Keys derived data kept on disk."""
        if self.text is not None:
            return ["t", voice.clip_key(self.text)]
        assert self.sound is not None
        gain = levels.bell_gain_db.get(self.key, 0.0)
        return ["s", voice.sound_stamp(self.sound), round(gain, 4), levels.bell_onset_ms]

    def native(self, voice: Voice, levels: Levels) -> tuple[Float, int]:
        """At the rate it was made at (cheaper to measure: no resampling)."""
        if self.text is not None:
            return voice.levelled(self.text)
        return self.audio(voice, levels), voice.sample_rate


def pieces(lay: Layout) -> list[Piece]:
    """Every sound actually present, in time order."""
    out: list[Piece] = []
    for item in lay.items:
        e = item.event
        if isinstance(e, Speak):
            out.append(Piece(item.start_ms, "t:" + e.key, text=e.key))
        elif isinstance(e, Sound) and not e.sound.is_none:
            out.append(Piece(item.start_ms, f"s:{e.sound.name}:{e.sound.path}", sound=e.sound))
        out.extend(Piece(start, "t:" + cue.key, text=cue.key) for start, _, cue in item.cues)
    return sorted(out, key=lambda p: p.start_ms)


@dataclass(frozen=True, eq=False)
class Measured:
    """One distinct piece of the session, measured once: how loud it is every 100 ms."""

    piece: Piece
    """Where it first plays."""
    count: int
    """How often it plays."""
    subs: F64
    """K-weighted power every 100 ms (see `sub_block_power`), bells before their gain."""
    seconds: float

    @property
    def momentary(self) -> F64:
        with np.errstate(divide="ignore"):
            return np.asarray(-0.691 + 10 * np.log10(blocks_from_subs(self.subs)), np.float64)


def measure(lay: Layout, voice: Voice, onset_ms: int) -> dict[str, Measured]:
    """Measure every distinct sentence (levelled, at its own rate) and bell once."""
    counts: dict[str, int] = {}
    first: dict[str, Piece] = {}
    for piece in pieces(lay):
        counts[piece.key] = counts.get(piece.key, 0) + 1
        first.setdefault(piece.key, piece)
    out: dict[str, Measured] = {}
    for key, piece in first.items():
        if piece.text is not None:
            subs, seconds = voice.levelled_subs(piece.text)
        else:
            assert piece.sound is not None
            subs, seconds = voice.sound_subs(piece.sound, onset_ms)
        out[key] = Measured(piece, counts[key], subs, seconds)
    return out


def match_bells(measures: dict[str, Measured], mix: Mix) -> Levels:
    """Match every bell to the loud end of the session's speech."""
    p95 = speech_p95((m.momentary, m.count) for m in measures.values() if m.piece.text)
    # In half-dB steps: a session at another length says a few other sentences, which move
    # the speech's loud end by a tenth of a dB or so; its bells then stay as they were, and
    # so do their encoded runs.
    p95 = round(p95 * 2) / 2 if math.isfinite(p95) else p95
    gains: dict[str, float] = {}
    for key, m in measures.items():
        if m.piece.sound is not None:
            gains[key] = stepped(bell_gain_db(m.momentary, p95))
            log.info("sound %s: %+.1f dB to sit under loud speech", m.piece.sound.name, gains[key])
    return Levels(gains, mix.bell_onset_ms, p95)


def duck_spans(lay: Layout, rate: int, *, bells: bool) -> list[tuple[int, int]]:
    """Sample spans of the speech (and bells) the bed ducks under."""
    spans: list[tuple[int, int]] = []
    for item in lay.items:
        e = item.event
        if isinstance(e, Speak) or (bells and isinstance(e, Sound) and not e.sound.is_none):
            spans.append((item.start_ms * rate // 1000, (item.start_ms + item.ms) * rate // 1000))
        spans.extend((s * rate // 1000, (s + ms) * rate // 1000) for s, ms, _ in item.cues)
    return spans


def session_gain(
    measures: dict[str, Measured],
    voice: Voice,
    fmt: AudioFormat,
    levels: Levels,
    bed: BedPlan | BedSchedule | None = None,
) -> tuple[float, float, float]:
    """Source loudness, the gain (dB) that brings the limited sound to the target, and the
    limiter's loss the gain makes up for.

    The loudness of the sound present comes from each distinct piece, measured once (weighted
    by how often it plays) at the clips' own rate; with a bed, from the session's power map.
    The limiter's small loss is then measured on every piece (each kept once measured) and
    made up.
    """
    meter = LoudnessMeter(fmt.sample_rate, fmt.channels)
    if bed is not None and bed.blocks is not None:
        meter.feed_blocks(bed.blocks * fmt.channels)
    else:
        for key, m in measures.items():
            power = 10 ** (levels.bell_gain_db.get(key, 0.0) / 10) * fmt.channels
            meter.feed_blocks(blocks_from_subs(m.subs) * power, m.count)
    source = meter.integrated()
    if not math.isfinite(source):
        return source, 0.0, 0.0
    target = fmt.target_lufs - fmt.encoder_gain_db
    gain = measure_gain_db(loudness_gap_db(source, fmt))
    # Every piece: a sample (tried first) put the loss 0.3-0.5 dB apart at two lengths of
    # one routine, and so its gain; each piece's limited blocks are kept, so a session at
    # another length measures only what it says anew.
    keys = list(measures)
    plain = LoudnessMeter(fmt.sample_rate, fmt.channels)
    limited = LoudnessMeter(fmt.sample_rate, fmt.channels)
    store = _limit_store(voice)
    limit_keys = [_limit_key(measures[key].piece, voice, levels, gain, fmt) for key in keys]

    def blocks(at: int) -> tuple[F64, F64]:
        return _limited_blocks(measures[keys[at]].piece, voice, levels, gain, fmt, limit_keys[at])

    # On all cores (the FFTs release the GIL) when there is much to measure, as on a first
    # render; a new length measures its few new sentences in this thread (each thread's FFTs
    # raise the peak of memory by about 15 MB).
    threads = work_threads()
    if threads > 1 and sum(not store.has(key) for key in limit_keys) > _MEASURED_HERE:
        with ThreadPoolExecutor(threads) as pool:
            found = list(pool.map(blocks, range(len(keys))))
    else:
        found = [blocks(at) for at in range(len(keys))]
    for key, (before, after) in zip(keys, found, strict=True):
        plain.feed_blocks(before * fmt.channels, measures[key].count)
        limited.feed_blocks(after * fmt.channels, measures[key].count)
    loss = plain.integrated() - limited.integrated()
    loss = loss if math.isfinite(loss) else 0.0
    return source, target - source + loss, loss


_MEASURED_HERE = 8
"""New pieces a session measures through the limiter in its own thread; more go on all cores."""


def loudness_gap_db(source_lufs: float, fmt: AudioFormat) -> float:
    """How far a session with this loudness is from the target, in dB."""
    return fmt.target_lufs - fmt.encoder_gain_db - source_lufs


def measure_gain_db(gap_db: float) -> float:
    """The gain a session this far from the target measures its pieces through the limiter at.

    To the nearest half dB, so that the limiter's work is kept and reused across variants
    (whose gains differ by a tenth or two); a few tenths of a dB make no difference to how
    much it takes off.
    """
    return round(gap_db * 2) / 2


def keep_limited(texts: Iterable[str], voice: Voice, fmt: AudioFormat, gap_db: float) -> int:
    """Measure sentences through the limiter and keep what `session_gain` reads, on every
    core: the sentences a routine says at its other lengths, after its first render, so that
    a new length measures nothing. At both half-dB steps around the first render's `gap_db`,
    since another length measures a few tenths of a dB louder or softer and may round to
    either. Returns how many measures were made."""
    store, levels = _limit_store(voice), Levels()
    steps = sorted({math.floor(gap_db * 2) / 2, math.ceil(gap_db * 2) / 2})
    todo = []
    for text in dict.fromkeys(texts):
        piece = Piece(0, "t:" + text, text=text)
        for gain_db in steps:
            key = _limit_key(piece, voice, levels, gain_db, fmt)
            if not store.has(key):
                todo.append((piece, gain_db, key))

    def blocks(job: tuple[Piece, float, str]) -> tuple[F64, F64]:
        return _limited_blocks(job[0], voice, levels, job[1], fmt, job[2])

    # Behind any render someone waits for meanwhile (the server's next tap).
    with ThreadPoolExecutor(work_threads(), initializer=in_background) as pool:
        list(pool.map(blocks, todo))
    return len(todo)


def _limit_store(voice: Voice) -> BlobStore:
    return BlobStore(voice.cache.root / "measures", b"GCLIMIT1", ".limit")


def _limit_key(piece: Piece, voice: Voice, levels: Levels, gain_db: float, fmt: AudioFormat) -> str:
    return blob_key(["limit", __version__, SPEECH_LUFS, piece.identity(voice, levels), gain_db,
                     fmt.true_peak, fmt.sample_rate])  # fmt: skip


def _limited_blocks(
    piece: Piece, voice: Voice, levels: Levels, gain_db: float, fmt: AudioFormat, key: str
) -> tuple[F64, F64]:
    """A piece's 400 ms block powers at `gain_db`, plain and through the true-peak limiter
    (mono); kept beside the speech cache, since the limiter is the costly part of a render."""
    store = _limit_store(voice)
    body = store.get(key)
    if body is not None and len(body) % 16 == 0:
        both = np.frombuffer(body, ">f8").astype(np.float64).reshape(2, -1)
        return both[0], both[1]
    x = piece.audio(voice, levels) * np.float32(10 ** (gain_db / 20))
    rate = fmt.sample_rate
    plain = blocks_from_subs(sub_block_power(x, rate))
    y = limit_true_peak(x, fmt.true_peak, rate)
    limited = plain if y is x else blocks_from_subs(sub_block_power(y, rate))  # x if untouched
    store.put(key, np.concatenate([plain, limited]).astype(">f8").tobytes())
    return plain, limited


def session_blocks(
    lay: Layout, measures: dict[str, Measured], levels: Levels, bed: BedPlan | BedSchedule
) -> F64:
    """The 400 ms block powers of the whole session with its bed (before the session gain).

    With a bed, much of the session sits near BS.1770's relative gate, so its loudness is
    worked out on the session's own timeline: the bed's power every 100 ms, plus each piece's
    (measured once, placed wherever it plays, to the nearest 100 ms).
    """
    step = bed.loop.rate // 10
    subs = np.concatenate([bed.sub_block_power(step), np.zeros(2 * SUB_PAD)])
    starts: dict[str, list[int]] = {}
    for piece in pieces(lay):
        starts.setdefault(piece.key, []).append(piece.start_ms)
    for key, m in measures.items():
        power = m.subs * 10 ** (levels.bell_gain_db.get(key, 0.0) / 10)
        for start_ms in starts.get(key, []):
            at = round(start_ms / 100) - SUB_PAD
            lo, hi = max(0, at), min(len(subs), at + len(power))
            if hi > lo:
                subs[lo:hi] += power[lo - at : hi - at]
    return blocks_from_subs(subs)
