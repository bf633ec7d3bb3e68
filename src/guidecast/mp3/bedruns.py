"""Where a session's runs over a bed go: which frames are encoded, and where a steady bed
starts its loop again.

Under a bed every frame that is not the steady bed alone (a sound, the bed ducking and coming
back, its fades) belongs to a run, with the frames either side that its content reaches; runs
are merged where their encoders would overlap. A steady bed (`media.beds.STEADY_BEDS`) starts
its loop again where each run's encoder starts, and the sounds of each run are moved together
(by under half a frame) so that the first starts on a frame: a run is then the same sound
wherever it lands, and is kept and copied like a sentence (`mp3.bedsplice`). Only the
fade-out, which ends on the session's last sample, differs at every length: the last sounds
before it keep a run of their own, and a joined run (no new start of the loop) carries it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..media.format import AudioFormat
from ..sound.balance import Piece
from ..sound.mix import BedPlan, ducks
from ..sound.render import Rendered
from ..sound.voice import Voice
from .frames import DECODER_DELAY, ENCODER_DELAY, frame_samples, frames_holding
from .lame import PRE_FRAMES
from .splice import placed_pieces

__all__ = [
    "CONTEXT_FRAMES",
    "POST_FRAMES",
    "BedRun",
    "bed_runs",
    "encoder_start",
    "padding_period",
    "place_bed",
]

CONTEXT_FRAMES = 2
"""Frames either side of a sound or a change of the bed's gain whose content it reaches
(the encoder's filter bank and overlapping transforms): they belong to its run."""
POST_FRAMES = 4
"""Frames of input after the last kept frame, so that the encoder has written it."""


@dataclass(frozen=True)
class BedRun:
    """Frames [first, end) of the session, encoded from its sound with the bed under it."""

    first: int
    end: int
    parts: tuple[tuple[int, int, Piece], ...]
    """(start sample, length, piece) of every sound whose samples reach into its input."""
    joined: bool = False
    """It starts where the run before it ends, and the bed's loop does not start again under
    it (the fade-out, apart from the last sounds under a steady bed: see `bed_runs`)."""


def padding_period(fmt: AudioFormat) -> int:
    """Frames after which LAME's CBR padding (a frame of one byte more) repeats, counted from
    the encoder's first frame: an encoder started on a multiple of it pads as a whole-session
    encode does."""
    per_frame = (144 if fmt.sample_rate >= 32000 else 72) * fmt.bitrate * 1000
    return fmt.sample_rate // math.gcd(per_frame % fmt.sample_rate, fmt.sample_rate)


def encoder_start(first: int, fmt: AudioFormat, *, steady: bool = False) -> int:
    """The frame a run's encoder starts on: `PRE_FRAMES` before its first frame over a steady
    bed (which starts its loop again there); else `PRE_FRAMES` or more before it, on a whole
    padding period (or the session's start)."""
    start = first - PRE_FRAMES
    if steady:
        return max(0, start)
    return max(0, start - start % padding_period(fmt))


def bed_runs(
    placed: list[tuple[int, int, Piece]], bed: BedPlan, fmt: AudioFormat, frames: int
) -> list[BedRun]:
    """The runs of a session: every frame whose sound is not the steady bed alone, in
    stretches that include the frames they reach, merged where they would touch.

    The fade-out ends on the session's last sample, at another place in its frame at every
    length: under a steady bed, a last run it would merge into ends instead where the sounds
    before the fade-out's reach do (its own end, or where one of its later sounds or ducks
    begins), and a joined run carries the rest. That run is encoded again at each length; the
    one before it stays the same sound, and is kept.
    """
    fs = frame_samples(fmt.sample_rate)
    delay = ENCODER_DELAY + DECODER_DELAY

    def reach(start: int, end: int) -> tuple[int, int]:
        """The frames a stretch of samples reaches."""
        a = max(0, (start + delay) // fs - CONTEXT_FRAMES)
        return a, min(frames, -(-(end + delay) // fs) + CONTEXT_FRAMES)

    spans = bed.changing() + [(start, start + length) for start, length, _ in placed]
    # A run is encoded from PRE_FRAMES before its first frame; those must not be another's.
    # Over a steady bed, whose loop starts again there, nor may the previous run's input
    # (to POST_FRAMES after its end) reach them: each run hears its own stretch of bed only.
    apart = PRE_FRAMES + (POST_FRAMES if bed.loop.steady else 0)
    merged: list[list[int]] = []
    joints: list[list[int]] = []  # where each run's later stretches begin
    for start, end in sorted(spans):
        a, b = reach(start, end)
        if merged and a <= merged[-1][1] + apart:
            joints[-1].append(a)
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
            joints.append([])
    fade = bed.fade_out_start()
    tail = [reach(fade, bed.total)[0], frames]
    joined = False
    if merged and tail[0] <= merged[-1][1] + apart:
        last = merged[-1]
        # Where the last run may end, its input (to POST_FRAMES after) short of the fade.
        ends = [j for j in (*joints[-1], last[1]) if last[0] < j and (j + POST_FRAMES) * fs <= fade]
        if bed.loop.steady and ends:
            last[1] = tail[0] = max(ends)
            joined = True
        else:
            while merged and tail[0] <= merged[-1][1] + apart:
                tail[0] = min(tail[0], merged.pop()[0])
    if tail[0] < tail[1]:
        merged.append(tail)
    runs: list[BedRun] = []
    at = 0
    for i, (a, b) in enumerate(merged):
        lo = encoder_start(a, fmt, steady=bed.loop.steady) * fs
        hi = (b + POST_FRAMES) * fs
        while at < len(placed) and placed[at][0] + placed[at][1] <= lo:
            at += 1
        parts = tuple(p for p in placed[at:] if p[0] < hi and p[0] + p[1] > lo)
        runs.append(BedRun(a, b, parts, joined=joined and i == len(merged) - 1))
    return runs


def place_bed(rendered: Rendered, voice: Voice, fmt: AudioFormat) -> Rendered:
    """The session laid for the splice renderer over a steady bed: each run the same wherever
    it lands, so that a session at a new length encodes only what it says anew.

    The sounds of each run move together (by under half a frame, as the splice renderer moves
    them without a bed) so that the first starts on a frame, the others where their planned
    times put them from it; the bed ducks where they now are, and its loop starts again where
    each run's encoder starts. Any other bed plays through, its sounds on their planned
    samples, and its runs are made again where they move.

    Give the PCM stream the same laid session, so that both ways of encoding make one sound.
    """
    bed = rendered.bed
    if bed is None or not bed.loop.steady:
        return rendered
    rate = fmt.sample_rate
    fs = frame_samples(rate)
    frames = frames_holding(rendered.layout.total_ms * rate // 1000, fs)
    placed = placed_pieces(rendered, voice, fmt)
    index = {id(piece): i for i, (_, _, piece) in enumerate(placed)}
    starts = [start for start, _, _ in placed]
    for run in bed_runs(placed, bed, fmt, frames):
        own = [index.pop(id(piece)) for _, _, piece in run.parts if id(piece) in index]
        if not own:
            continue
        anchor = placed[own[0]][2].start_ms
        first = (starts[own[0]] + fs // 2) // fs * fs
        for i in own:
            starts[i] = first + (placed[i][2].start_ms - anchor) * rate // 1000
    moved = replace(rendered, starts=tuple(starts))
    placed = placed_pieces(moved, voice, fmt)
    spans = [
        (start, start + length)
        for start, length, piece in placed
        if piece.text is not None or bed.mix.duck_bells
    ]
    bed = replace(bed, ducks=ducks(bed.mix, spans, rate))
    runs = bed_runs(placed, bed, fmt, frames)
    encoders = (encoder_start(run.first, fmt, steady=True) * fs for run in runs if not run.joined)
    restarts = tuple(r for r in encoders if r > ENCODER_DELAY)
    return replace(moved, bed=replace(bed, restarts=restarts, restart_lead=ENCODER_DELAY))
