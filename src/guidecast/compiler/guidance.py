"""What a teacher says inside and after a long hold: how long, halfway, the last breaths, and
how to come out. Pure text and timing; the compiler decides where it goes.

Each moment has several wordings. They are used in turn, so a session never says the same
guidance sentence twice in a row, and the same routine always says the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..lang.i18n import Language, language_for
from ..lang.speech import fill as fill_in
from ..model import Guidance, Narration
from .timeline import Cue

__all__ = ["GUIDE_FROM_MS", "TIMED_START_MS", "Phrases", "guide_cues", "start_cue"]

GUIDE_FROM_MS: dict[str, dict[Narration, int | None]] = {
    "length": {Narration.BRIEF: 60_000, Narration.STANDARD: 30_000, Narration.FULL: 30_000},
    "halfway": {Narration.BRIEF: None, Narration.STANDARD: 90_000, Narration.FULL: 60_000},
    "ending": {Narration.BRIEF: 90_000, Narration.STANDARD: 45_000, Narration.FULL: 45_000},
    "release": {Narration.BRIEF: 60_000, Narration.STANDARD: 20_000, Narration.FULL: 20_000},
}
"""The shortest hold that gets each moment, by narration level (None: never)."""

ENDING_BEFORE_MS = 12_000
"""The last-breaths cue ends this long before the hold does (two or three slow breaths)."""
SHORT_ENDING_BEFORE_MS = 8_000
"""... or this long, in holds under 90 s."""
TIMED_START_MS = 10_000
"""A side's first hold this long says its length as it starts, even when short."""
COUNTDOWN_CLEAR_MS = 1500
"""Quiet between the last-breaths cue and a countdown."""


class Phrases:
    """Wordings in turn, per moment, in the session's language; the routine's own text where it
    gives one."""

    def __init__(self, lang: Language | None = None) -> None:
        self.lang = lang or language_for("en")
        self.turn: dict[str, int] = {}

    def say(self, moment: str, choice: bool | str | None, **fill: str) -> str | None:
        """The sentence for `moment`, or None when it is turned off."""
        if choice is False:
            return None
        if isinstance(choice, str):
            return fill_in(choice, **fill) if fill else choice
        k = self.turn.get(moment, 0)
        self.turn[moment] = k + 1
        return self.lang.wording(moment, k, **fill)


@dataclass(frozen=True)
class HoldPlan:
    """What to say in one hold."""

    hold_ms: int
    level: Narration
    guidance: Guidance
    first: bool
    """The first hold of its side (the length is said there, and not again for its next
    repetitions)."""
    moving: bool = False
    countdown_ms: int = 0
    opening: bool = False
    """Say something at its start even when its length is not said ("And hold."), so a
    listener hears the hold begin."""


def wanted(moment: str, level: Narration, hold_ms: int, guidance: Guidance) -> bool:
    """Whether a hold this long gets `moment` at this level (a routine's text always does)."""
    choice = guidance.get(moment)
    if choice is False:
        return False
    least = GUIDE_FROM_MS[moment][level]
    if isinstance(choice, str) or choice is True:
        least = min(least or 20_000, 20_000)
    return least is not None and hold_ms >= least


def start_cue(plan: HoldPlan, phrases: Phrases) -> str:
    """What starts a hold whose length guidance does not: its length in a few words on a side's
    first hold ("Hold here for fifteen seconds."), else a word or two ("And hold.")."""
    timed = plan.first and plan.guidance.length is not False and plan.hold_ms >= TIMED_START_MS
    if timed:
        text = phrases.say("hold", None, time=phrases.lang.spoken_time(plan.hold_ms))
    else:
        text = phrases.say("hold_again", None)
    assert text is not None
    return text


def guide_cues(plan: HoldPlan, phrases: Phrases) -> list[Cue]:
    """The guidance cues inside one hold, most important first (the layout places them)."""
    ms, g = plan.hold_ms, plan.guidance
    cues: list[Cue] = []
    prefix = "move_" if plan.moving else ""
    said_length = plan.first and wanted("length", plan.level, ms, g)
    if said_length:
        text = phrases.say(prefix + "length", g.length, time=phrases.lang.spoken_time(ms))
        if text:
            cues.append(Cue(0, text, flexible=True))
    elif plan.opening and not plan.moving:
        cues.append(Cue(0, start_cue(plan, phrases), flexible=True))
    if wanted("ending", plan.level, ms, g):
        before = ENDING_BEFORE_MS if ms >= 90_000 else SHORT_ENDING_BEFORE_MS
        if plan.countdown_ms:
            before = max(before, plan.countdown_ms + COUNTDOWN_CLEAR_MS)
        text = phrases.say(prefix + "ending", g.ending)
        if text:
            cues.append(Cue(ms - before, text, flexible=True, end_by_ms=ms - before))
    if not plan.moving and wanted("halfway", plan.level, ms, g):
        text = phrases.say("halfway", g.halfway)
        if text:
            cues.append(Cue(ms // 2, text, flexible=True))
    return cues
