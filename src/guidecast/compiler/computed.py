"""Fill in the computed values an author wrote in spoken text (`{total}`, `{next}`, ...).

The values come from the session itself, so authors never type a total by hand. Each step's
text is filled with its own values (its round, the exercise after it) before it is narrated,
wherever it is then said (in its period, or ahead, in the rest before it). The total is the
planned length with estimated speech, said the way a teacher says a length ("about eleven
minutes"), which the real voice's few seconds of difference do not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..lang.i18n import Language
from ..lang.speech import Estimate, fill
from ..model import Routine, Step
from ..routine.placeholders import placeholders_in, spoken_texts
from .options import Options
from .timeline import Event, layout

__all__ = ["fill_computed"]

Narrate = Callable[[Routine, Options, list[int | None]], tuple[Event, ...]]


def fill_computed(
    routine: Routine,
    options: Options,
    holds: list[int | None],
    lang: Language,
    narrate: Narrate,
) -> Routine:
    """The routine with every placeholder in its spoken text filled in (itself when it has
    none); `narrate` lays the session out once to know its total."""
    texts = [routine.intro, routine.outro, routine.safety, *routine.reminders]
    texts += [t for step in routine.steps for t in spoken_texts(step)]
    if not any(t and "{" in t for t in texts):
        return routine
    total_ms = layout(narrate(routine, options, holds), Estimate(options.rate)).total_ms
    exercises = {s.number for s in routine.steps if s.number and s.kind in ("pose", "breathe")}
    common = {"total": lang.spoken_time(total_ms), "exercises": lang.number(len(exercises))}

    def values(index: int | None) -> dict[str, str]:
        out = dict(common)
        step = routine.steps[index] if index is not None else None
        if step is not None and index is not None:
            hold = holds[index]
            out["time"] = lang.spoken_time(hold) if hold else ""
            if step.round:
                out["round"], out["rounds"] = (lang.number(k) for k in step.round)
        start = 0 if index is None else index + 1
        this = step.number if step is not None else -1
        for j in range(start, len(routine.steps)):
            after = routine.steps[j]
            if after.kind in ("pose", "breathe") and after.pose and after.number != this:
                out["next"] = after.pose
                ms = holds[j]
                out["next_time"] = lang.spoken_time(ms) if ms else ""
                break
        return out

    whole = values(None)
    steps = tuple(_filled_step(step, values(i)) for i, step in enumerate(routine.steps))
    return replace(
        routine,
        steps=steps,
        intro=_filled(routine.intro, whole),
        outro=_filled(routine.outro, {k: whole[k] for k in common}),
        safety=_filled(routine.safety, whole),
        reminders=tuple(_filled(t, whole) or "" for t in routine.reminders),
    )


def _filled_step(step: Step, values: dict[str, str]) -> Step:
    if not any("{" in t for t in spoken_texts(step)):
        return step

    def f(text: str | None) -> str | None:
        return _filled(text, values)

    def fs(texts: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_filled(t, values) or "" for t in texts)

    return replace(
        step,
        cue=f(step.cue),
        why=f(step.why),
        switch=f(step.switch),
        how=fs(step.how),
        say=fs(step.say),
        reminders=fs(step.reminders),
        side_cues=tuple((side, _filled(t, values) or "") for side, t in step.side_cues),
    )


def _filled(text: str | None, values: dict[str, str]) -> str | None:
    """`text` with its placeholders filled; one with no value here (no exercise after the
    last) is left out, with the space before it."""
    if not text or "{" not in text:
        return text
    said = {name: values.get(name, "") for name in placeholders_in(text)}
    return " ".join(fill(text, **said).split())
