"""The options a routine is compiled with: the three narration knobs and their extras, resolved
from the command line and the routine's `defaults:` (the command line wins)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from ..model import Narration, Routine

__all__ = ["Options", "resolve_options"]

T = TypeVar("T")


@dataclass(frozen=True)
class Options:
    """How to compile: the three narration knobs and their extras."""

    narration: Narration = Narration.STANDARD
    length_ms: int | None = None
    """Target session length; None keeps each range at its midpoint."""
    rate: float = 1.0
    """Speaking rate: 1.0 is the voice's natural pace, 0.8 slower, 1.2 faster."""
    countdown_ms: int = 0
    """Count down the last seconds of every hold (0 = off)."""
    breath_cues: bool = False
    """Guide the first breaths of every long hold."""


def resolve_options(
    routine: Routine,
    *,
    narration: Narration | None = None,
    length_ms: int | None = None,
    rate: float | None = None,
    countdown_ms: int | None = None,
    breath_cues: bool | None = None,
) -> Options:
    """Combine command-line choices with the routine's defaults (the command line wins)."""
    d = routine.defaults
    return Options(
        narration=_first(narration, d.narration, Narration.STANDARD),
        length_ms=length_ms if length_ms is not None else d.length_ms,
        rate=_first(rate, d.rate, 1.0),
        countdown_ms=_first(countdown_ms, d.countdown_ms, 0),
        breath_cues=_first(breath_cues, d.breath_cues, False),
    )


def _first(given: T | None, default: T | None, fallback: T) -> T:
    """The command line's value, else the routine's default, else guidecast's."""
    if given is not None:
        return given
    return default if default is not None else fallback
