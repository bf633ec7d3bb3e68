"""Periods of exact length and the steps made of them: rests with next-up announcements, the
get-ready lead-in, and the steps of plain speech and pauses a meditation is made of.

A period keeps its length whatever is said or played in it: a tone at its start (an interval
timer's "go" or "rest"), cues inside it, and at its end a countdown, said or beeped, or the
session's finish tone. `clock.py` builds clock-timed exercises from these periods.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from ..errors import Loc
from ..lang.i18n import Language
from ..lang.speech import NOMINAL_SOUND_MS
from ..model import Guidance, Narration, Routine, SoundRef, Step
from .guidance import Phrases
from .options import Options
from .timeline import Chapter, Cue, Event, Silence, SilenceKind, Sound

__all__ = [
    "ANNOUNCE_ROOM_MS",
    "BEEPS",
    "FINISH",
    "GO",
    "REST",
    "after",
    "announced",
    "builtin",
    "count_in",
    "countdown_cues",
    "get_ready",
    "narrate_step",
    "period",
    "rest",
    "time_left",
]

CLOCK_COUNTDOWN_MS = 3000
"""Rests and lead-ins on the clock count down their last seconds, even without --countdown."""
COUNT_IN_WORDS_FROM_MS = 5000
"""A count-in this long says "Get ready." before its count."""
TIME_LEFT_CLEAR_MS = 3000
"""A time-left cue needs this much of the hold before it."""
REST_WORD_FROM_MS = 20_000
"""A rest (or get-ready) on the clock this long says "Rest." ("Get ready.") after its tone,
before what comes next; in a shorter one the tone says it, and its seconds are for what is
next."""
ANNOUNCE_CLEAR_MS = 600
"""An announcement in a rest ends this long before the countdown, or it is left out."""
SOUND_GAP_MS = 1200
"""Quiet after a `say` step's sound when no `hold` follows it, before the voice comes in (as
after a bell)."""
ANNOUNCE_ROOM_MS = 3000
"""A sound after an announcement leaves at least this long before it, for the announcement."""


def builtin(name: str) -> SoundRef:
    return SoundRef(name, None, Loc("guidecast"))


GO = builtin("go")
"""Starts every work period on the clock."""
REST = builtin("rest")
"""Starts every rest (and the get-ready) on the clock."""
BEEPS = builtin("beeps")
"""`countdown: beeps`: three beeps in the last three seconds of a period."""
FINISH = builtin("finish")
"""Ends a session on the clock or of breathing, after its closing sentence."""


def sound_ms(ref: SoundRef) -> int:
    """A built-in tone's length (a test keeps it equal to the file)."""
    return NOMINAL_SOUND_MS[ref.name]


class Narrator(Protocol):
    """What the narration of periods and steps uses of `narrate.Narrator` (which calls it, so
    these modules cannot import it back)."""

    routine: Routine
    options: Options
    holds: list[int | None]
    events: list[Event]
    lang: Language
    phrases: Phrases
    section: str | None
    """The section of the last chapter opened."""
    announced: int | None
    """The step whose instructions were said ahead of its period (in a rest, the get-ready, or
    the period before), so that its period starts with its tone and at most one word."""

    def at(self, level: Narration) -> bool: ...
    def say(self, text: str | None, step: int | None = None, *, joined: bool = False) -> None: ...
    def quiet(self, ms: int, kind: SilenceKind = "pause", step: int | None = None) -> None: ...
    def cues(self, silence: Silence) -> None: ...
    def sound(self, ref: SoundRef | None) -> None: ...
    def settle(self, step: Step) -> int: ...
    def switch_settle(self, step: Step) -> int: ...
    def chapter(self, title: str, index: int, step: Step) -> None: ...
    def chapter_title(self, step: Step, side: str | None = None) -> str: ...
    def pause_after(self, step: Step | None, *, usual: int = ...) -> int: ...
    def count_in(self, step: Step, *, again: bool = ...) -> int: ...
    def guidance(self, step: Step) -> Guidance: ...
    def round_line(self, step: Step) -> str | None: ...
    def switch_line(self, step: Step, side: str | None) -> str: ...
    def side_cue(self, step: Step, side: str | None) -> str | None: ...
    def first_line(self, side: str | None, step: Step) -> str | None: ...
    def rep_line(self, rep: int, reps: int) -> str: ...
    def instructions(self, index: int, step: Step) -> None: ...
    def closing(self) -> str: ...
    def ends_here(self, index: int) -> bool: ...


def narrate_step(
    n: Narrator,
    index: int,
    step: Step,
    *,
    lead_in: bool,
    announce: tuple[str, ...] | None,
    then: SoundRef | None = None,
) -> None:
    """Speech, a pause, or a rest (saying `announce` ahead of what comes next, on the clock,
    and then the sound `then`)."""
    if step.kind == "say":
        _say(n, index, step, lead_in=lead_in)
    elif step.kind == "pause":
        _chapter(n, index, step)
        bell = step.sound if step.sound is not None and not step.sound.is_none else None
        if bell is None:
            n.quiet(n.holds[index] or 0, "pause", index)
        else:  # struck as the pause starts, inside it
            n.events += [Sound(bell), Silence(n.holds[index] or 0, "pause", index, after=bell)]
    else:
        _chapter(n, index, step)
        ms = n.holds[index] or 0
        last = n.ends_here(index)
        rest(
            n,
            index,
            ms,
            next_up=step.next_up,
            clock=step.clock,
            announce=announce,
            last=last,
            then=then,
        )


def _chapter(n: Narrator, index: int, step: Step) -> None:
    """The chapter a step with a title opens; a section's first step opens one all the same,
    named after the section, so that every section shows where it starts."""
    if step.chapter and step.pose:
        title = n.lang.say("Rest") if step.kind == "rest" else n.chapter_title(step)
        n.chapter(title, index, step)
    elif step.section and step.section != n.section:
        n.chapter("", index, step)


def _say(n: Narrator, index: int, step: Step, *, lead_in: bool) -> None:
    """Plain speech with an unspoken title, then the quiet after it (a meditation's pause)."""
    _chapter(n, index, step)
    if lead_in and step.sound is not None:
        n.sound(step.sound)
    for text in step.say:
        n.say(text, index)
    after(n, step.cue_sound)
    hold = n.holds[index] or 0
    if step.cue_sound is not None and not step.cue_sound.is_none and not hold:
        hold = SOUND_GAP_MS  # the next voice does not come in on the sound's tail
    n.quiet(hold, "pause", index)
    n.quiet(n.pause_after(step, usual=0), "pause", index)


def after(n: Narrator, ref: SoundRef | None) -> None:
    """A sound right after what was just said (a step's `cue_sound`): what follows it, quiet or
    speech, is timed from its end."""
    if ref is not None and not ref.is_none:
        n.events.append(Sound(ref))


def count_in(n: Narrator, index: int, step: Step, *, again: bool = False) -> None:
    """The step's count-in: "Get ready." when it is long enough, then its last seconds counted
    ("Three. Two. One."), or beeped with `countdown: beeps`; the step starts as it ends.
    `again`: before a later side or repetition, when the count-in comes before each."""
    ms = n.count_in(step, again=again)
    if ms < 1000:
        return
    counted = min(CLOCK_COUNTDOWN_MS, ms - ms % 1000)
    cues = [Cue(0, n.lang.say("Get ready."))] if ms >= COUNT_IN_WORDS_FROM_MS else []
    if n.options.countdown_beeps and counted == CLOCK_COUNTDOWN_MS:
        period(n, index, "count", ms, cues, counted=counted)
        return
    n.cues(Silence(ms, "count", index, (*cues, *countdown_cues(n, ms, counted))))


def countdown_ms(n: Narrator, ms: int, *, clock: bool, margin: int) -> int:
    """How many of a period's last milliseconds are counted down (0: none): the option's, or
    three seconds on the clock, when the period is at least `margin` longer; none at all
    when the countdown is switched off (0)."""
    if n.options.countdown_off:
        return 0
    counted = n.options.countdown_ms or (CLOCK_COUNTDOWN_MS if clock else 0)
    counted -= counted % 1000
    return counted if counted and ms >= counted + margin else 0


def countdown_cues(n: Narrator, ms: int, counted: int) -> list[Cue]:
    """'Three.' 'Two.' 'One.' in the last seconds of a period of `ms`."""
    return [
        Cue(ms - k * 1000, n.lang.countdown(k), beat=True) for k in range(counted // 1000, 0, -1)
    ]


def period(
    n: Narrator,
    index: int | None,
    kind: SilenceKind,
    ms: int,
    cues: list[Cue] | tuple[Cue, ...],
    *,
    tone: SoundRef | None = None,
    counted: int = 0,
    finish: bool = False,
    then: tuple[int, SoundRef] | None = None,
) -> None:
    """A period of exactly `ms`: `tone` at its start, `cues` (timed from its start) inside it,
    `then` (a sound `at` ms from its start, after an announcement), and at its end the
    countdown of its last `counted` ms (numbers said, or the beeps tone) or, with `finish`, the
    finish tone. Tones lie inside the period, so it keeps its length."""
    head = sound_ms(tone) if tone is not None else 0
    tail: SoundRef | None = None
    if finish and ms - head - sound_ms(FINISH) >= 1000:  # else too short to hold it
        tail = FINISH
    elif counted and n.options.countdown_beeps:
        tail = BEEPS
    elif counted:
        cues = [*cues, *countdown_cues(n, ms, counted)]
    body = ms - head - (sound_ms(tail) if tail is not None else 0)
    if tone is not None:
        n.events.append(Sound(tone))
    shifted = tuple(_shift(c, head, body) for c in cues)
    whole = ms if body != ms or then is not None else 0
    if then is None:
        n.cues(Silence(body, kind, index, shifted, whole))
    else:
        _split(n, index, kind, body, shifted, then[0] - head, then[1], whole)
    if tail is not None:
        n.events.append(Sound(tail))


def _split(
    n: Narrator,
    index: int | None,
    kind: SilenceKind,
    body: int,
    cues: tuple[Cue, ...],
    cut: int,
    ref: SoundRef,
    whole: int,
) -> None:
    """A period's silence of `body` ms with the sound `ref` inside it, `cut` ms from its start:
    the cues before the sound are said before it (and end by it), the others after it."""
    ms = sound_ms(ref)
    before = tuple(
        replace(c, end_by_ms=cut if c.end_by_ms is None else min(c.end_by_ms, cut))
        for c in cues
        if c.at_ms < cut
    )
    after = tuple(
        replace(
            c,
            at_ms=max(0, c.at_ms - cut - ms),
            end_by_ms=None if c.end_by_ms is None else c.end_by_ms - cut - ms,
        )
        for c in cues
        if c.at_ms >= cut
    )
    n.cues(Silence(cut, kind, index, before, whole))
    n.events.append(Sound(ref))
    n.cues(Silence(body - cut - ms, kind, index, after, whole))


def finishes(n: Narrator) -> bool:
    """The session's last period ends on the finish tone: the routine has no end sound."""
    end = n.routine.sounds.end
    return end is None or end.is_none


def _shift(cue: Cue, by: int, body: int) -> Cue:
    """A cue timed from a period's start, timed from its silence's start instead."""
    if not by and cue.end_by_ms is None:
        return cue
    end_by = None if cue.end_by_ms is None else min(cue.end_by_ms - by, body)
    return replace(cue, at_ms=max(0, cue.at_ms - by), end_by_ms=end_by)


def rest(
    n: Narrator,
    index: int | None,
    ms: int,
    *,
    next_up: str | None = None,
    clock: bool = False,
    said: bool = True,
    announce: tuple[str, ...] | None = None,
    last: bool = False,
    then: SoundRef | None = None,
) -> None:
    """A rest: "Rest." at its start, then what comes next; on the clock it starts on the rest
    tone and is counted down. `announce` (the next period's instructions, in order) replaces
    the plain "Next: ..." line, followed by the sound `then`; the session's `last` rest on the
    clock closes it instead."""
    if ms <= 0:
        return
    if clock and last:
        cues = [Cue(0, n.closing())]
        period(n, index, "rest", ms, cues, tone=REST, finish=finishes(n))
        return
    counted = countdown_ms(n, ms, clock=clock, margin=2000)
    # On the clock a short rest's tone says "rest": its seconds are for what comes next.
    said = said and not (clock and announce and ms < REST_WORD_FROM_MS)
    cues = [Cue(0, n.lang.say("Rest."))] if said else []
    tone = REST if clock else None
    sound = None
    if announce is not None:
        ahead, sound = announced(announce, ms, counted, tone, then)
        cues += ahead
    elif next_up:
        cues.append(Cue(0, n.lang.say("Next: {name}.", name=next_up), flexible=True))
    period(n, index, "rest", ms, cues, tone=tone, counted=counted, then=sound)


def announced(
    announce: tuple[str, ...],
    ms: int,
    counted: int,
    tone: SoundRef | None,
    then: SoundRef | None,
) -> tuple[list[Cue], tuple[int, SoundRef] | None]:
    """What a period of `ms` says ahead of the next one, ending before its countdown; with a
    sound (`then`), the sound ends `ANNOUNCE_CLEAR_MS` before the countdown and the
    announcement, said as one, ends just before the sound (left out when it does not fit)."""
    end_by = ms - counted - ANNOUNCE_CLEAR_MS
    at = end_by - (sound_ms(then) if then is not None else 0)
    head = sound_ms(tone) if tone is not None else 0
    if then is None or then.is_none or at - head < ANNOUNCE_ROOM_MS:
        return [Cue(0, text, end_by_ms=end_by) for text in announce], None
    said = " ".join(announce)
    return ([Cue(0, said, flexible=True, end_by_ms=at)] if said else []), (at, then)


def get_ready(
    n: Narrator,
    announce: tuple[str, ...] | None,
    *,
    on_clock: bool,
    then: SoundRef | None = None,
) -> None:
    """The lead-in before the first step: get ready, what comes first, counted down; on the
    clock it starts on the rest tone and announces the first period's instructions."""
    ms = n.routine.get_ready_ms
    n.events.append(Chapter(n.lang.say("Get ready")))
    counted = countdown_ms(n, ms, clock=True, margin=2000)
    said = announce is None or ms >= REST_WORD_FROM_MS  # else the tone says it
    cues = [Cue(0, n.lang.say("Get ready."))] if said else []
    tone = REST if on_clock else None
    sound = None
    if announce is not None:
        ahead, sound = announced(announce, ms, counted, tone, then)
        cues += ahead
    else:
        first = next((s for s in n.routine.steps if s.pose and s.kind != "rest"), None)
        if first is not None and first.say_name:
            cues.append(Cue(0, n.lang.say("First: {name}.", name=first.pose), flexible=True))
    period(n, None, "rest", ms, cues, tone=tone, counted=counted, then=sound)


def time_left(n: Narrator, step: Step, hold_ms: int) -> list[Cue]:
    """'One minute left.' at each of the step's `time_left` marks that fits the hold."""
    return [
        Cue(hold_ms - left, _capital(n.lang.say("{time} left.", time=n.lang.spoken_time(left))))
        for left in step.time_left_ms
        if hold_ms >= left + TIME_LEFT_CLEAR_MS
    ]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
