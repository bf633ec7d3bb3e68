"""Computed values an author may write in any spoken text: `{total}`, `{next}`... (the
compiler fills them in; the loader refuses a name it does not know, located)."""

from __future__ import annotations

import re

from ..model import Step

__all__ = ["PLACEHOLDERS", "placeholders_in", "spoken_texts"]

PLACEHOLDERS = {
    "total": "the session's length, as spoken ('about eleven minutes')",
    "exercises": "how many exercises the routine has (its steps with a hold, flow, move or "
    "breathing, each counted once however many rounds)",
    "time": "this step's hold ('thirty seconds')",
    "next": "the name of the next exercise",
    "next_time": "the next exercise's hold",
    "round": "this step's round in its block ('two')",
    "rounds": "how many rounds its block has ('four')",
}
"""Each placeholder and what it says."""

_HOLE = re.compile(r"{([^{}]*)}")


def placeholders_in(text: str) -> list[str]:
    """The placeholder names written in `text`, in order."""
    return _HOLE.findall(text)


def spoken_texts(step: Step) -> list[str]:
    """The texts of a step that are said as written (where placeholders may be)."""
    return [
        *filter(None, (step.cue, step.why, step.switch)),
        *step.how,
        *step.say,
        *step.reminders,
        *(text for _, text in step.side_cues),
    ]
