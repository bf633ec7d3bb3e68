"""The compiler's output: a timeline of symbolic events, and its layout with real durations."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from ..lang.said import said
from ..model import Routine, SoundRef, Speaker
from .options import Options

__all__ = [
    "Chapter",
    "Cue",
    "Dropped",
    "Durations",
    "Event",
    "Layout",
    "Placed",
    "PlacedChapter",
    "Silence",
    "Sound",
    "Speak",
    "Timeline",
    "cue_gap",
    "layout",
]

SilenceKind = Literal["pause", "settle", "count", "hold", "move", "rest", "breath", "breathe"]


@dataclass(frozen=True)
class Speak:
    """Say one sentence; lasts as long as the synthesized clip."""

    text: str
    step: int | None = None
    """Index of the step it belongs to; None for intro and outro."""
    speaker: Speaker | None = None
    """Its own rate, voice or language (its step's); None: the session's."""

    @property
    def key(self) -> str:
        """The sentence's identity: its text, and its speaker when not the session's."""
        return said(self.text, self.speaker)


@dataclass(frozen=True)
class Cue:
    """A sentence said inside a silence, `at_ms` after it starts (the silence keeps its length).

    A fixed cue (countdown, breath cues) is said at its time or after the cue before it (left
    out if it would not end by `end_by_ms`); a flexible one (guidance, reminders) moves to the
    nearest free moment, and one with `end_by_ms` should finish by then rather than start at
    `at_ms`.
    """

    at_ms: int
    text: str
    flexible: bool = False
    end_by_ms: int | None = None
    required: bool = False
    """An instruction said inside a clock-timed period: without room for it, the routine is
    wrong (a `check` error), not just quieter."""
    beat: bool = False
    """A count on its second ("Two." in a breath phase): said after the cue before with no
    quiet added (a clip's own quiet is enough), so every count keeps its second at any rate
    where it can."""
    speaker: Speaker | None = None
    """Its own rate, voice or language (its step's); None: the session's."""

    @property
    def key(self) -> str:
        """The sentence's identity: its text, and its speaker when not the session's."""
        return said(self.text, self.speaker)


@dataclass(frozen=True)
class Silence:
    """Quiet for exactly `ms`: a pause, a hold, a rest, or one breath phase."""

    ms: int
    kind: SilenceKind = "pause"
    step: int | None = None
    cues: tuple[Cue, ...] = ()
    period_ms: int = 0
    """The whole period it is part of, with the tones in it (0: just this silence)."""
    until_ms: int | None = None
    """Lengthened to end at this time of the session (a section pinned to a start time)."""
    align_ms: int = 0
    """Lengthened to end on a multiple of this from the session's start (0: exact): the quiet
    before a clock's first period, so every period starts on a whole second of the file."""
    after: SoundRef | None = None
    """The sound just before it that starts the same period (a pause's bell): the silence is
    shortened by the sound's real length, so the period keeps `ms` (none: at least the sound)."""


@dataclass(frozen=True)
class Sound:
    """Play a bell to its natural end."""

    sound: SoundRef


@dataclass(frozen=True)
class Chapter:
    """A chapter starts here (zero length)."""

    title: str
    step: int | None = None
    section: str | None = None
    """The section (warm-up, main, cool-down...) it belongs to, if the routine has them."""


Event = Speak | Silence | Sound | Chapter


@dataclass(frozen=True)
class Timeline:
    """A compiled session: events in order, ready to lay out and render."""

    routine: Routine
    options: Options
    events: tuple[Event, ...]
    holds_ms: tuple[int | None, ...] = ()
    """The hold chosen for each step (None for flows)."""
    halfway: str | None = None
    """Said at the middle of the session (the routine's `halfway`, in its language)."""

    def texts(self) -> list[str]:
        """Every sentence the session says (by its key), in order, without repeats."""
        seen: dict[str, None] = {}
        if self.halfway:
            seen[self.halfway] = None
        for event in self.events:
            if isinstance(event, Speak):
                seen[event.key] = None
            elif isinstance(event, Silence):
                seen.update((c.key, None) for c in event.cues)
        return list(seen)


class Durations(Protocol):
    """How long speech and sounds last: estimated when planning, measured when rendering."""

    def speech_ms(self, text: str) -> int:
        """How long a sentence lasts, by its key (`Speak.key`: text and speaker)."""
        ...

    def sound_ms(self, sound: SoundRef) -> int: ...


@dataclass(frozen=True)
class Placed:
    """An event at its start time; spoken cues inside a silence carry their own start times."""

    start_ms: int
    ms: int
    event: Speak | Silence | Sound
    cues: tuple[tuple[int, int, Cue], ...] = ()
    """(start_ms, length_ms, cue) for each cue that fits."""


@dataclass(frozen=True)
class PlacedChapter:
    title: str
    start_ms: int
    end_ms: int
    step: int | None
    section: str | None = None


@dataclass(frozen=True)
class Dropped:
    """A cue left out: no room for it inside its silence."""

    cue: Cue
    step: int | None
    silence_ms: int

    @property
    def text(self) -> str:
        return self.cue.text


@dataclass(frozen=True)
class Layout:
    """A timeline with times: what plays when, the chapters that tile it, and its length."""

    items: tuple[Placed, ...]
    chapters: tuple[PlacedChapter, ...]
    total_ms: int
    dropped_cues: tuple[Dropped, ...] = field(default=())


CUE_GAP_MS = 250
"""Least quiet between two one-word cues said inside one silence ("Three." "Two." "One.")."""
SENTENCE_CUE_GAP_MS = 600
"""Least quiet between two cues when either says more than one word, so each stands apart."""
GUIDE_GAP_MS = 1500
"""Least quiet around a flexible cue: before the next cue, and before its silence ends."""


def cue_gap(before: str, after: str) -> int:
    """Least quiet between two cues: a countdown's words may follow closely, sentences not."""
    one_word = len(before.split()) == 1 and len(after.split()) == 1
    return CUE_GAP_MS if one_word else SENTENCE_CUE_GAP_MS


def _silence_ms(silence: Silence, durations: Durations) -> int:
    """A breath phase lasts at least as long as its cue takes to say, with room after it
    before the next phase's cue; other silences are exact."""
    if silence.kind != "breath" or not silence.cues:
        return silence.ms
    need = max(c.at_ms + durations.speech_ms(c.key) for c in silence.cues)
    # One word ("Down.") needs only a beat after it, as a count does; a sentence, a pause.
    one_word = all(len(c.text.split()) == 1 for c in silence.cues)
    return max(silence.ms, need + (CUE_GAP_MS if one_word else SENTENCE_CUE_GAP_MS))


def _place_cues(
    silence: Silence, ms: int, start: int, durations: Durations, dropped: list[Dropped]
) -> tuple[tuple[int, int, Cue], ...]:
    """Fixed cues first, in time order; then flexible ones, in the order given, into free time."""
    placed: list[tuple[int, int, Cue]] = []
    for cue in sorted((c for c in silence.cues if not c.flexible), key=lambda c: c.at_ms):
        length = durations.speech_ms(cue.key)
        at = cue.at_ms
        if placed:
            last_at, last_ms, last = placed[-1]
            gap = 0 if cue.beat else cue_gap(last.text, cue.text)
            at = max(at, last_at + last_ms + gap)
        if at + length > (ms if cue.end_by_ms is None else min(ms, cue.end_by_ms)):
            dropped.append(Dropped(cue, silence.step, silence.period_ms or ms))
            continue
        placed.append((at, length, cue))
    taken = _Taken(ms, [(at, at + n) for at, n, _ in placed])
    for cue in (c for c in silence.cues if c.flexible):
        length = durations.speech_ms(cue.key)
        want = cue.at_ms if cue.end_by_ms is None else cue.end_by_ms - length
        slot = taken.nearest(want, length)
        if slot is None:
            dropped.append(Dropped(cue, silence.step, silence.period_ms or ms))
        else:
            placed.append((slot, length, cue))
            taken.add(slot, slot + length)
    return tuple(sorted(((start + at, n, c) for at, n, c in placed), key=lambda p: p[0]))


class _Taken:
    """The spans of a silence that cues take, in time order, and the free time between them.

    A flexible cue goes to the start nearest the one it wants where it stays `GUIDE_GAP_MS`
    from every other cue and from the end. The free time is a list of gaps between taken
    spans, so finding that start looks at the gaps next to it, not at every pair of cues: a
    12-hour hold with 2,000 reminders lays out in linear time, not cubic.
    """

    def __init__(self, ms: int, spans: list[tuple[int, int]]) -> None:
        self.ms = ms
        self.spans = sorted(spans)
        self.starts = [a for a, _ in self.spans]

    def add(self, start: int, end: int) -> None:
        k = bisect.bisect_left(self.starts, start)
        self.starts.insert(k, start)
        self.spans.insert(k, (start, end))

    def _gap(self, k: int, length: int) -> tuple[int, int]:
        """Where a cue of `length` may start in the gap before span k (after the last when k
        is their number): (lowest, highest), empty when the lowest is the higher."""
        low = self.spans[k - 1][1] + GUIDE_GAP_MS if k > 0 else 0
        high = self.ms - GUIDE_GAP_MS - length
        if k < len(self.spans):
            high = min(high, self.spans[k][0] - GUIDE_GAP_MS - length)
        return max(low, 0), high

    def nearest(self, want: int, length: int) -> int | None:
        """The start nearest `want` (the earlier of two as near) that clears every taken
        span and the end; None when there is none."""
        best: tuple[int, int] | None = None

        def consider(k: int) -> bool:
            nonlocal best
            low, high = self._gap(k, length)
            if low > high:
                return False
            at = min(max(want, low), high)
            if best is None or (abs(at - want), at) < best:
                best = (abs(at - want), at)
            return True

        here = bisect.bisect_right(self.starts, want)  # the gap before span `here` holds want
        consider(here)
        for k in range(here - 1, -1, -1):  # every gap further left is further from want
            if consider(k):
                break
        for k in range(here + 1, len(self.spans) + 1):
            if consider(k):
                break
        return None if best is None else best[1]


QUIET_KINDS = ("hold", "rest", "pause", "move")


def _add_halfway(
    items: list[Placed], text: str, total_ms: int, durations: Durations, dropped: list[Dropped]
) -> None:
    """Say `text` at the middle of the session, in the quiet period that spans it (or the one
    right after a tone that starts a period there)."""
    mid = total_ms // 2
    for k, item in enumerate(items):
        e = item.event
        if isinstance(e, Sound) and item.start_ms <= mid < item.start_ms + item.ms:
            mid = item.start_ms + item.ms
            continue
        if item.start_ms <= mid < item.start_ms + item.ms:
            if isinstance(e, Silence) and e.kind in QUIET_KINDS:
                cue = Cue(mid - item.start_ms, text, flexible=True)
                silence = replace(e, cues=(*e.cues, cue))
                cues = _place_cues(silence, item.ms, item.start_ms, durations, dropped)
                items[k] = Placed(item.start_ms, item.ms, silence, cues)
            else:
                dropped.append(Dropped(Cue(0, text), None, 0))
            return


def layout(timeline: Timeline | Sequence[Event], durations: Durations) -> Layout:
    """Give every event its start time and length; chapters run from marker to marker."""
    events = timeline.events if isinstance(timeline, Timeline) else tuple(timeline)
    now = 0
    items: list[Placed] = []
    marks: list[Chapter] = []
    starts: list[int] = []
    dropped: list[Dropped] = []
    for event in events:
        if isinstance(event, Chapter):
            if starts and starts[-1] == now:
                marks.pop()  # an empty chapter gives way to the one that follows it
                starts.pop()
            marks.append(event)
            starts.append(now)
            continue
        if isinstance(event, Speak):
            ms = durations.speech_ms(event.key)
            items.append(Placed(now, ms, event))
        elif isinstance(event, Silence):
            ms = _silence_ms(event, durations)
            if event.after is not None:
                ms = max(0, ms - durations.sound_ms(event.after))
            if event.align_ms:
                ms += -(now + ms) % event.align_ms
            if event.until_ms is not None:
                ms = max(ms, event.until_ms - now)
            items.append(Placed(now, ms, event, _place_cues(event, ms, now, durations, dropped)))
        else:
            ms = durations.sound_ms(event.sound)
            items.append(Placed(now, ms, event))
        now += ms
    halfway = timeline.halfway if isinstance(timeline, Timeline) else None
    if halfway:
        _add_halfway(items, halfway, now, durations, dropped)
    if not starts or starts[0] != 0:
        marks.insert(0, Chapter("Start"))
        starts.insert(0, 0)
    ends = [*starts[1:], now]
    chapters = tuple(
        PlacedChapter(c.title, start, end, c.step, c.section)
        for c, start, end in zip(marks, starts, ends, strict=True)
    )
    return Layout(tuple(items), chapters, now, tuple(dropped))
