"""The options a routine is compiled with: the three narration knobs and their extras, resolved
from the command line and the routine's `defaults:` (the command line wins)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from ..model import Narration, Routine
from ..routine.keys import BREATH_CUES, COUNTDOWN, NARRATION, RATE
from ..routine.values import BEEPS_MS

__all__ = ["Options", "first", "resolve_options"]

T = TypeVar("T")


@dataclass(frozen=True)
class Options:
    """How to compile: the three narration knobs and their extras."""

    narration: Narration = NARRATION.fallback
    length_ms: int | None = None
    """Target session length; None keeps each range at its midpoint."""
    rate: float = RATE.fallback
    """Speaking rate: 1.0 is the voice's natural pace, 0.8 slower, 1.2 faster."""
    countdown_ms: int = COUNTDOWN.fallback[0]
    """Count down the last seconds of every hold (0 = off)."""
    countdown_beeps: bool = COUNTDOWN.fallback[1]
    """... with the `beeps` tone (the last three seconds) instead of numbers said aloud."""
    countdown_off: bool = False
    """0 was chosen: no countdown at all, not even the clock's last three seconds."""
    breath_cues: bool = BREATH_CUES.fallback
    """Guide the first breaths of every long hold."""


def resolve_options(
    routine: Routine,
    *,
    narration: Narration | None = None,
    length_ms: int | None = None,
    rate: float | None = None,
    countdown_ms: int | None = None,
    breath_cues: bool | None = None,
    countdown_beeps: bool | None = None,
) -> Options:
    """Combine command-line choices with the routine's defaults (the command line wins).

    A countdown is one choice: `--countdown 5s` replaces a routine's `countdown: beeps`."""
    d = routine.defaults
    if countdown_ms is not None or countdown_beeps:
        beeps = bool(countdown_beeps)
    else:
        beeps = bool(d.countdown_beeps)
    counted = first(
        BEEPS_MS if countdown_beeps else countdown_ms, d.countdown_ms, Options.countdown_ms
    )
    chosen = countdown_ms is not None or d.countdown_ms is not None or bool(countdown_beeps)
    return Options(
        narration=first(narration, d.narration, Options.narration),
        length_ms=length_ms if length_ms is not None else d.length_ms,
        rate=first(rate, d.rate, Options.rate),
        countdown_ms=counted,
        countdown_off=chosen and counted == 0,
        breath_cues=first(breath_cues, d.breath_cues, Options.breath_cues),
        countdown_beeps=beeps,
    )


def first(*chosen: T | None) -> T:
    """The first choice made: the command line's (or a step's), else the routine's default,
    else guidecast's (the last, never None)."""
    value = next((c for c in chosen if c is not None), None)
    assert value is not None, "guidecast's own default is missing"
    return value
