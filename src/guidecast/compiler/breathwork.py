"""Breathwork: a breathing pattern whose every phase lasts exactly its count, its phase words
said (or its seconds counted aloud, or a tone played) at the start of each phase."""

from __future__ import annotations

from ..model import Breathing, Step
from .timed import Narrator, after, builtin, count_in, period
from .timeline import Cue, Silence

__all__ = ["PHASE_TONES", "breathe"]

PHASE_WORDS = {"in": "Breathe in.", "hold": "Hold.", "out": "Breathe out."}
SHORT_PHASE_WORDS = {"in": "In.", "hold": "Hold.", "out": "Out."}
FULL_PHASE_CYCLES = 2
"""Breathwork says the whole phase words for the first cycles, then the short ones."""
PHASE_TONES = {"in": builtin("rise"), "hold": builtin("steady"), "out": builtin("fall")}
"""With `count: tones`, the tone that starts each phase (0.8 s, inside the phase): rising to
breathe in, falling to breathe out, steady to hold."""


def breathe(n: Narrator, index: int, step: Step, *, lead_in: bool) -> None:
    """A breathing pattern, each phase exactly its count, counted aloud second by second."""
    breathing = step.breathing
    assert breathing is not None
    n.chapter(n.chapter_title(step), index, step)
    if lead_in and not step.clock:
        n.sound(step.sound or n.routine.sounds.transition)
    n.say(n.round_line(step), index)
    n.instructions(index, step)
    after(n, step.cue_sound)
    if not step.clock:
        n.quiet(n.settle(step), "settle", index)
    count_in(n, index, step)
    for cycle in range(breathing.cycles):
        # Counted aloud, the number lands on each second, so the phase word must be short.
        full = cycle < FULL_PHASE_CYCLES and not breathing.counted
        words = PHASE_WORDS if full else SHORT_PHASE_WORDS
        for name, ms in zip(breathing.names, breathing.phases_ms, strict=True):
            if breathing.tones:
                # The tone is part of the phase, so the phase still lasts exactly its count.
                period(n, index, "breathe", ms, (), tone=PHASE_TONES[name])
                continue
            cues = [Cue(0, n.lang.say(words[name]))]
            if breathing.counted:
                cues += [
                    Cue(k * 1000, n.lang.countdown(k + 1), beat=True) for k in range(1, ms // 1000)
                ]
            n.cues(Silence(ms, "breathe", index, tuple(cues)))
        if breathing.pause_ms and cycle < breathing.cycles - 1:
            _between_cycles(n, index, breathing)
    n.quiet(n.pause_after(step), "pause", index)


def _between_cycles(n: Narrator, index: int, breathing: Breathing) -> None:
    """The pause between two cycles, ending on "Again." (or the author's words) when asked."""
    again = breathing.again
    said = n.lang.say("Again.") if again is True else again or None
    ms = breathing.pause_ms
    cues = (Cue(ms, said, flexible=True, end_by_ms=ms),) if said else ()
    n.cues(Silence(ms, "pause", index, cues))
