"""Compile a `Routine` and `Options` into a `Timeline`: pure, deterministic, no audio."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from .durations import format_clock
from .errors import LengthError
from .model import Narration, Routine, SoundRef, Step
from .speech import Estimate, join_words, number_words, sentences
from .timeline import Chapter, Cue, Durations, Event, Options, Silence, Sound, Speak, Timeline
from .timeline import layout as layout_events

__all__ = ["LENGTH_TOLERANCE_MS", "compile_routine", "length_bounds", "resolve_options"]

T = TypeVar("T")
LENGTH_TOLERANCE_MS = 5000
GAP_MS = 600
"""Quiet between two spoken items, so instructions do not run together."""
SETTLE_MS = 1200
"""Quiet after a bell before the voice comes in."""
END_MS = 3000
"""Quiet after the final bell, so the session does not stop abruptly."""
REMINDER_EVERY_MS = 45_000
LONG_HOLD_MS = 60_000
BREATH_CUE_HOLD_MS = 20_000


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


class _Emitter:
    """Builds the event list for one set of hold lengths."""

    def __init__(self, routine: Routine, options: Options, holds: list[int | None]) -> None:
        self.routine = routine
        self.options = options
        self.holds = holds
        self.events: list[Event] = []

    def at(self, level: Narration) -> bool:
        return self.options.narration.rank >= level.rank

    def say(self, text: str | None, step: int | None = None) -> None:
        if not text:
            return
        if self.events and isinstance(self.events[-1], Speak):
            self.events.append(Silence(GAP_MS))
        self.events.extend(Speak(s, step) for s in sentences(text))

    def sound(self, ref: SoundRef | None) -> None:
        if ref is not None and not ref.is_none:
            self.events.append(Sound(ref))
            self.events.append(Silence(SETTLE_MS))

    def run(self) -> tuple[Event, ...]:
        r = self.routine
        opening = r.intro or r.safety or (r.props and self.at(Narration.STANDARD))
        if opening:
            self.events.append(Chapter("Introduction"))
        self.sound(r.sounds.start)
        self.say(r.intro)
        if r.props and self.at(Narration.STANDARD):
            self.say(f"Props for this session: {join_words(list(r.props))}.")
        self.say(r.safety)
        for index, step in enumerate(r.steps):
            self.step(index, step, lead_in=index > 0 or bool(opening))
        if r.outro:
            self.events.append(Silence(GAP_MS))
            self.events.append(Chapter("Closing"))
            self.say(r.outro)
            self.events.append(Silence(GAP_MS))
        self.sound(r.sounds.end)
        self.events.append(Silence(END_MS))
        return tuple(self.events)

    def step(self, index: int, step: Step, *, lead_in: bool) -> None:
        sides = step.sides or (None,)
        for side_no, side in enumerate(sides):
            title = f"{step.pose} ({side} side)" if side else step.pose
            self.events.append(Chapter(title, index))
            if side_no == 0:
                if lead_in:
                    self.sound(step.sound or self.routine.sounds.transition)
                self.introduce(index, step)
                if side:
                    self.say(f"Begin on the {side} side.", index)
            else:
                self.say(step.switch or f"Gently release, and switch to the {side} side.", index)
            self.body(index, step)

    def introduce(self, index: int, step: Step) -> None:
        self.say(f"{step.pose}.", index)
        if step.sanskrit and self.at(Narration.FULL):
            self.say(f"In Sanskrit, {step.sanskrit}.", index)
        if step.props and self.at(Narration.STANDARD):
            self.say(f"For this pose, use {join_words(list(step.props))}.", index)
        self.say(step.cue, index)
        if self.at(Narration.STANDARD):
            for line in step.how:
                self.say(line, index)
        if self.at(Narration.FULL):
            self.say(step.why, index)

    def body(self, index: int, step: Step) -> None:
        if step.flow is not None:
            phase_ms = step.flow.breath_ms // len(step.flow.cues)
            self.events.append(Silence(GAP_MS))
            for _ in range(step.flow.breaths):
                for text in step.flow.cues:
                    self.events.append(Silence(phase_ms, "breath", index, (Cue(0, text),)))
            return
        hold_ms = self.holds[index]
        assert hold_ms is not None
        for rep in range(step.reps):
            if step.reps > 1:
                self.say(self.rep_line(rep, step.reps), index)
            self.events.append(Silence(GAP_MS))
            self.events.append(Silence(hold_ms, "hold", index, self.hold_cues(step, hold_ms)))
            if rep + 1 < step.reps and step.rest_ms:
                self.say("Release and rest.", index)
                self.events.append(Silence(step.rest_ms, "rest", index))

    def rep_line(self, rep: int, reps: int) -> str:
        if not self.at(Narration.STANDARD):
            return "Begin." if rep == 0 else "Again."
        return f"Repetition {number_words(rep + 1)} of {number_words(reps)}."

    def hold_cues(self, step: Step, hold_ms: int) -> tuple[Cue, ...]:
        cues: list[Cue] = []
        if self.options.breath_cues and hold_ms >= BREATH_CUE_HOLD_MS:
            cues += [Cue(0, "Breathe in."), Cue(4000, "Breathe out."), Cue(8000, "In again.")]
            cues += [Cue(12000, "And out.")]
        reminders = step.reminders or self.routine.reminders
        if self.at(Narration.FULL) and reminders and hold_ms >= LONG_HOLD_MS:
            count = min(len(reminders), hold_ms // REMINDER_EVERY_MS)
            for k in range(count):
                cues.append(Cue(hold_ms * (k + 1) // (count + 1), reminders[k]))
        countdown = self.options.countdown_ms // 1000
        if countdown and hold_ms >= self.options.countdown_ms + 5000:
            for n in range(countdown, 0, -1):
                cues.append(Cue(hold_ms - n * 1000, f"{number_words(n).capitalize()}."))
        return tuple(cues)


def _emit(routine: Routine, options: Options, holds: list[int | None]) -> Timeline:
    events = _Emitter(routine, options, holds).run()
    return Timeline(routine, options, events, tuple(holds))


def _holds_at(routine: Routine, fraction: float) -> list[int | None]:
    """Each range at the same fraction of its span (whole seconds); fixed holds stay fixed."""
    out: list[int | None] = []
    for step in routine.steps:
        if step.hold is None:
            out.append(None)
        else:
            span = step.hold.max_ms - step.hold.min_ms
            out.append(step.hold.min_ms + round(span * fraction / 1000) * 1000)
    return out


@dataclass(frozen=True)
class Bounds:
    """The shortest and longest sessions a routine allows at these options."""

    shortest_ms: int
    longest_ms: int


def length_bounds(routine: Routine, options: Options, durations: Durations) -> Bounds:
    """Total length with every range at its minimum, and at its maximum."""
    low = layout_events(_emit(routine, options, _holds_at(routine, 0.0)), durations).total_ms
    high = layout_events(_emit(routine, options, _holds_at(routine, 1.0)), durations).total_ms
    return Bounds(low, high)


def _fit(routine: Routine, options: Options, durations: Durations, target: int) -> list[int | None]:
    """Share the slack between ranges in proportion to their spans, then trim rounding."""
    bounds = length_bounds(routine, options, durations)
    if (
        not bounds.shortest_ms - LENGTH_TOLERANCE_MS
        <= target
        <= bounds.longest_ms + (LENGTH_TOLERANCE_MS)
    ):
        level = options.narration.value
        raise LengthError(
            f"{routine.path}: cannot make a {format_clock(target)} session: at {level} narration "
            f"this routine runs from {format_clock(bounds.shortest_ms)} to "
            f"{format_clock(bounds.longest_ms)}"
        )
    spread = bounds.longest_ms - bounds.shortest_ms
    fraction = min(1.0, max(0.0, (target - bounds.shortest_ms) / spread)) if spread else 0.0
    holds = _holds_at(routine, fraction)
    ranged = [i for i, s in enumerate(routine.steps) if s.hold is not None and s.hold.is_range]
    ranged.sort(key=lambda i: -_repeats(routine.steps[i]))
    for _ in range(3):
        error = target - layout_events(_emit(routine, options, holds), durations).total_ms
        if abs(error) < 1000:
            break
        for i in ranged:
            step, hold = routine.steps[i], holds[i]
            assert step.hold is not None and hold is not None
            seconds = round(error / 1000 / _repeats(step))
            new = min(step.hold.max_ms, max(step.hold.min_ms, hold + seconds * 1000))
            error -= (new - hold) * _repeats(step)
            holds[i] = new
    return holds


def _repeats(step: Step) -> int:
    return max(1, len(step.sides)) * step.reps


def compile_routine(
    routine: Routine, options: Options | None = None, durations: Durations | None = None
) -> Timeline:
    """Compile a routine into a timeline, fitting holds to the target length if one is set.

    `durations` measures speech for the fit; by default it is estimated from word counts.
    """
    options = options or Options()
    durations = durations or Estimate(options.rate)
    if options.length_ms is None:
        holds = _holds_at(routine, 0.5)
    else:
        holds = _fit(routine, options, durations, options.length_ms)
    return _emit(routine, options, holds)
