"""Exercises on the clock, led like an interval timer: every work period starts on the go tone,
every rest on the rest tone; what comes next is said ahead, in the rest (or the get-ready, or
the last seconds of the period before), so a work period opens with at most one word; the last
seconds are counted down, aloud or in beeps; the closing sentence and the finish tone follow the
session's last work period (or lie inside its last rest). Every period keeps exactly its length.
"""

from __future__ import annotations

from ..lang.speech import sentences
from ..model import Narration, SoundRef, Step
from .poses import hold_cues, setup_lines
from .timed import (
    ANNOUNCE_CLEAR_MS,
    GO,
    Narrator,
    count_in,
    countdown_ms,
    period,
    rest,
    sound_ms,
)
from .timeline import Cue

__all__ = ["announcement", "clock_pose", "cue_sound"]

ANNOUNCE_FROM_MS = 15_000
"""A work period this much longer than its countdown says what comes next in its last seconds,
when no rest comes between."""


def _one_word(text: str | None) -> bool:
    return bool(text) and len((text or "").split()) == 1


def announcement(n: Narrator, index: int, *, first: bool = False) -> tuple[str, ...] | None:
    """What is said ahead of step `index` on the clock ("Round two of four.", "Next: Squats.",
    its cue the first time it comes), or None when it is not a clock-timed exercise."""
    steps = n.routine.steps
    if index >= len(steps):
        return None
    step = steps[index]
    if not announcement_of(step):
        return None
    said: list[str] = []
    round_line = n.round_line(step)
    if round_line and not first:  # the get-ready's "First:" opens round one
        said.append(round_line)
    if not step.say_name:
        pass
    elif first:
        said.append(n.lang.say("First: {name}.", name=step.pose))
    else:
        said.append(n.lang.say("Next: {name}.", name=step.pose))
    if step.cue and not _cued_before(n, index):
        said += sentences(step.cue)
    side = step.sides[0] if step.sides else None
    said += [t for t in (n.first_line(side, step), n.side_cue(step, side)) if t]
    n.announced = index
    return tuple(said)


def _cued_before(n: Narrator, index: int) -> bool:
    """The same exercise came before with the same cue (a later round): its name is enough."""
    step = n.routine.steps[index]
    return any(s.pose == step.pose and s.cue == step.cue for s in n.routine.steps[:index])


def _opening(n: Narrator, index: int, step: Step) -> list[str]:
    """What the first period of a step says at its start, after the go tone."""
    lines: list[str | None]
    if n.announced == index:  # said ahead: the name, when it is one word, and the how-to
        lines = [step.pose] if _one_word(step.pose) and step.say_name else []
        if n.at(Narration.STANDARD):
            lines += setup_lines(step)
        said = [s for line in lines if line for s in sentences(line)]
    else:
        lines = [n.round_line(step), step.pose if step.say_name else None]
        if n.at(Narration.STANDARD):
            lines += setup_lines(step)
        lines.append(step.cue)
        said = [s for line in lines if line for s in sentences(line)]
    return said


def clock_pose(n: Narrator, index: int, step: Step) -> None:
    """An exercise on the clock: each side and repetition one exact work period."""
    hold_ms = n.holds[index]
    assert hold_ms is not None
    sides = step.sides or (None,)
    for side_no, side in enumerate(sides):
        n.chapter(n.chapter_title(step, side), index, step)
        if side_no == 0 and not _counted_into(n, index):
            count_in(n, index, step)
        lines: list[str | None] = []
        if side_no == 0:
            lines += _opening(n, index, step)
        if n.announced != index:  # else said ahead, in the rest or the period before
            side_line = n.first_line(side, step) if side_no == 0 else n.switch_line(step, side)
            lines += [side_line, n.side_cue(step, side)]
        n.announced = None
        for rep in range(step.reps):
            if rep > 0:
                line = n.rep_line(rep, step.reps)
                said_ahead = step.rest_ms > 0
                rest(n, index, step.rest_ms, clock=True, announce=(line,) if said_ahead else None)
                lines = [] if said_ahead else [line]
            last = side_no == len(sides) - 1 and rep == step.reps - 1
            _work(n, index, step, hold_ms, lines, first=side_no == 0 and rep == 0, last=last)
            lines = []
        if step.side_rest_ms and side_no < len(sides) - 1:
            ahead = (n.switch_line(step, sides[side_no + 1]), n.side_cue(step, sides[side_no + 1]))
            rest(n, index, step.side_rest_ms, clock=True, announce=tuple(t for t in ahead if t))
            n.announced = index


def _counted_into(n: Narrator, index: int) -> bool:
    """The period before counts down into this step (a rest or an exercise on the clock, or
    the get-ready): a count-in would count twice."""
    if index == 0:
        return bool(n.routine.get_ready_ms)
    return n.routine.steps[index - 1].clock and n.routine.steps[index].starts_at_ms is None


def _pinned_after(n: Narrator, index: int) -> bool:
    """The next step starts a section pinned to a time: quiet, not a countdown, leads to it."""
    steps = n.routine.steps
    return index + 1 < len(steps) and steps[index + 1].starts_at_ms is not None


def _work(
    n: Narrator,
    index: int,
    step: Step,
    hold_ms: int,
    lines: list[str | None],
    *,
    first: bool,
    last: bool,
) -> None:
    """One work period: the go tone, its opening lines, guidance, and its end: the countdown,
    with what comes next said before it, or the closing sentence and the finish tone."""
    cues = [Cue(0, text, required=True) for text in lines if text]
    cues += hold_cues(n, index, step, hold_ms, first=first, opening=False)
    tone = work_tone(step)
    pinned = last and _pinned_after(n, index)
    counted = 0 if pinned else countdown_ms(n, hold_ms, clock=True, margin=5000)
    then: tuple[int, SoundRef] | None = None
    if last and not pinned and hold_ms >= counted + ANNOUNCE_FROM_MS:
        ahead = announcement(n, index + 1)
        sound = cue_sound(n, index + 1)
        if sound is not None:  # the sound follows what is said, before the count
            at = hold_ms - counted - ANNOUNCE_CLEAR_MS - sound_ms(sound)
            if ahead:
                cues.append(Cue(0, " ".join(ahead), flexible=True, end_by_ms=at))
            then = (at, sound)
        elif ahead:
            end_by = hold_ms - counted - 1500
            cues.append(Cue(end_by, " ".join(ahead), flexible=True, end_by_ms=end_by))
    period(n, index, "hold", hold_ms, cues, tone=tone, counted=counted, then=then)


def cue_sound(n: Narrator, index: int) -> SoundRef | None:
    """The sound that follows the announcement of step `index` on the clock (None: none)."""
    steps = n.routine.steps
    if index >= len(steps) or not announcement_of(steps[index]):
        return None
    sound = steps[index].cue_sound
    return None if sound is None or sound.is_none else sound


def announcement_of(step: Step) -> bool:
    """Step `step` is an exercise on the clock, said ahead of its period."""
    return step.kind == "pose" and step.clock and step.flow is None


def work_tone(step: Step) -> SoundRef | None:
    """What starts each of a step's work periods: its own `sound` (`none`: nothing), else the
    go tone."""
    if step.sound is None:
        return GO
    return None if step.sound.is_none else step.sound
