"""Narration on the clock: clock-timed exercises, rests with next-up announcements, the get-ready
lead-in, breathwork, and the steps of plain speech and pauses a meditation is made of.

In a clock-timed step the instructions are said *inside* its period (as cues from its start),
so a 20 s work period lasts exactly 20 s; `check` reports a period too short for its speech.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import Loc
from ..lang.i18n import Language
from ..lang.speech import NOMINAL_SOUND_MS, sentences
from ..model import Narration, Routine, SoundRef, Step
from .options import Options
from .timeline import Chapter, Cue, Event, Silence, SilenceKind, Sound

__all__ = ["get_ready", "narrate_step", "rest", "time_left"]

CLOCK_COUNTDOWN_MS = 3000
"""Rests and lead-ins on the clock count down their last seconds, even without --countdown."""
TIME_LEFT_CLEAR_MS = 3000
"""A time-left cue needs this much of the hold before it."""
PHASE_WORDS = {"in": "Breathe in.", "hold": "Hold.", "out": "Breathe out."}
SHORT_PHASE_WORDS = {"in": "In.", "hold": "Hold.", "out": "Out."}
FULL_PHASE_CYCLES = 2
_TONE = SoundRef("woodblock", None, Loc("guidecast"))
PHASE_TONES = {"in": _TONE, "hold": _TONE, "out": _TONE}
"""With `count: tones`, the soft knock that starts each phase (0.8 s, inside the phase)."""
"""Breathwork says the whole phase words for the first cycles, then the short ones."""


class Narrator(Protocol):
    """What clock-timed narration uses of `narrate.Narrator` (which calls it, so this module
    cannot import it back)."""

    routine: Routine
    options: Options
    holds: list[int | None]
    events: list[Event]
    lang: Language

    def at(self, level: Narration) -> bool: ...
    def say(self, text: str | None, step: int | None = None) -> None: ...
    def quiet(self, ms: int, kind: SilenceKind = "pause", step: int | None = None) -> None: ...
    def cues(self, silence: Silence) -> None: ...
    def sound(self, ref: SoundRef | None) -> None: ...
    def settle(self, step: Step) -> int: ...
    def chapter(self, title: str, index: int, step: Step) -> None: ...
    def chapter_title(self, step: Step, side: str | None = None) -> str: ...
    def pause_after(self, step: Step | None, *, usual: int = ...) -> int: ...
    def round_line(self, step: Step) -> str | None: ...
    def switch_line(self, step: Step, side: str | None) -> str: ...
    def side_cue(self, step: Step, side: str | None) -> str | None: ...
    def first_line(self, side: str | None, step: Step) -> str | None: ...
    def introduce(self, index: int, step: Step) -> None: ...
    def rep_line(self, rep: int, reps: int) -> str: ...
    def hold_cues(
        self, index: int, step: Step, hold_ms: int, *, first: bool
    ) -> tuple[Cue, ...]: ...


def narrate_step(n: Narrator, index: int, step: Step, *, lead_in: bool) -> None:
    """A step that is not a paced pose: speech, a pause, a rest, breathwork, or on the clock."""
    if step.kind == "say":
        _say(n, index, step, lead_in=lead_in)
    elif step.kind == "pause":
        _chapter(n, index, step)
        n.quiet(n.holds[index] or 0, "pause", index)
    elif step.kind == "rest":
        _chapter(n, index, step)
        rest(n, index, n.holds[index] or 0, next_up=step.next_up, counted=step.clock)
    elif step.kind == "breathe":
        _breathe(n, index, step, lead_in=lead_in)
    else:
        _clock_pose(n, index, step)


def _chapter(n: Narrator, index: int, step: Step) -> None:
    if step.chapter and step.pose:
        title = n.lang.say("Rest") if step.kind == "rest" else n.chapter_title(step)
        n.chapter(title, index, step)


def _say(n: Narrator, index: int, step: Step, *, lead_in: bool) -> None:
    """Plain speech with an unspoken title, then the quiet after it (a meditation's pause)."""
    _chapter(n, index, step)
    if lead_in and step.sound is not None:
        n.sound(step.sound)
    for text in step.say:
        n.say(text, index)
    n.quiet(n.holds[index] or 0, "pause", index)
    n.quiet(n.pause_after(step, usual=0), "pause", index)


def countdown_cues(n: Narrator, ms: int, countdown_ms: int) -> list[Cue]:
    """'Three.' 'Two.' 'One.' in the last seconds of a period long enough to hold them."""
    seconds = countdown_ms // 1000
    if not seconds or ms < countdown_ms + 2000:
        return []
    return [Cue(ms - k * 1000, n.lang.countdown(k)) for k in range(seconds, 0, -1)]


def rest(
    n: Narrator,
    index: int | None,
    ms: int,
    *,
    next_up: str | None = None,
    counted: bool = False,
    said: bool = True,
) -> None:
    """A rest: "Rest." at its start, what comes next, and a countdown on the clock."""
    if ms <= 0:
        return
    cues = [Cue(0, n.lang.say("Rest."))] if said else []
    if next_up:
        cues.append(Cue(0, n.lang.say("Next: {name}.", name=next_up), flexible=True))
    countdown = n.options.countdown_ms or (CLOCK_COUNTDOWN_MS if counted else 0)
    cues += countdown_cues(n, ms, countdown)
    n.cues(Silence(ms, "rest", index, tuple(cues)))


def get_ready(n: Narrator) -> None:
    """The lead-in before the first step: get ready, what comes first, counted down."""
    first = next((s for s in n.routine.steps if s.pose and s.kind != "rest"), None)
    ms = n.routine.get_ready_ms
    n.events.append(Chapter(n.lang.say("Get ready")))
    cues = [Cue(0, n.lang.say("Get ready."))]
    if first is not None:
        cues.append(Cue(0, n.lang.say("First: {name}.", name=first.pose), flexible=True))
    cues += countdown_cues(n, ms, n.options.countdown_ms or CLOCK_COUNTDOWN_MS)
    n.cues(Silence(ms, "rest", None, tuple(cues)))


def time_left(n: Narrator, step: Step, hold_ms: int) -> list[Cue]:
    """'One minute left.' at each of the step's `time_left` marks that fits the hold."""
    return [
        Cue(hold_ms - left, _capital(n.lang.say("{time} left.", time=n.lang.spoken_time(left))))
        for left in step.time_left_ms
        if hold_ms >= left + TIME_LEFT_CLEAR_MS
    ]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _instructions(n: Narrator, step: Step) -> list[str]:
    """What a clock-timed step says at the start of its period, by narration level."""
    lines = [n.round_line(step), step.pose, step.cue]
    if n.at(Narration.STANDARD):
        lines += step.how
    return [s for line in lines if line for s in sentences(line)]


def _clock_pose(n: Narrator, index: int, step: Step) -> None:
    """An exercise on the clock: everything is said inside its exact period."""
    hold_ms = n.holds[index]
    assert hold_ms is not None
    sides = step.sides or (None,)
    for side_no, side in enumerate(sides):
        n.chapter(n.chapter_title(step, side), index, step)
        lines: list[str | None] = [*_instructions(n, step)] if side_no == 0 else []
        lines.append(n.first_line(side, step) if side_no == 0 else n.switch_line(step, side))
        lines.append(n.side_cue(step, side))
        for rep in range(step.reps):
            if rep > 0:
                rest(n, index, step.rest_ms, counted=True)
                lines = [n.rep_line(rep, step.reps)]
            said = [Cue(0, text, required=True) for text in lines if text]
            cues = (*said, *n.hold_cues(index, step, hold_ms, first=side_no == 0 and rep == 0))
            n.cues(Silence(hold_ms, "hold", index, cues))
            lines = []
        if step.side_rest_ms and side_no < len(sides) - 1:
            rest(n, index, step.side_rest_ms, counted=True)


def _breathe(n: Narrator, index: int, step: Step, *, lead_in: bool) -> None:
    """A breathing pattern, each phase exactly its count, counted aloud second by second."""
    breathing = step.breathing
    assert breathing is not None
    n.chapter(n.chapter_title(step), index, step)
    if lead_in and not step.clock:
        n.sound(step.sound or n.routine.sounds.transition)
    n.say(n.round_line(step), index)
    n.introduce(index, step)
    if not step.clock:
        n.quiet(n.settle(step), "settle", index)
    for cycle in range(breathing.cycles):
        # Counted aloud, the number lands on each second, so the phase word must be short.
        full = cycle < FULL_PHASE_CYCLES and not breathing.counted
        words = PHASE_WORDS if full else SHORT_PHASE_WORDS
        for name, ms in zip(breathing.names, breathing.phases_ms, strict=True):
            if breathing.tones:
                # The tone is part of the phase, so the phase still lasts exactly its count.
                n.events.append(Sound(PHASE_TONES[name]))
                n.quiet(ms - NOMINAL_SOUND_MS[PHASE_TONES[name].name], "breathe", index)
                continue
            cues = [Cue(0, n.lang.say(words[name]))]
            if breathing.counted:
                cues += [Cue(k * 1000, n.lang.countdown(k + 1)) for k in range(1, ms // 1000)]
            n.cues(Silence(ms, "breathe", index, tuple(cues)))
    n.quiet(n.pause_after(step), "pause", index)
