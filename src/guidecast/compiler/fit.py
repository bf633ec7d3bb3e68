"""Compile a `Routine` and `Options` into a `Timeline`: pure, deterministic, no audio.

`narrate.py` says what happens for given hold lengths; this module chooses the lengths that
fit the target (`options.py` resolves the knobs).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, replace

from ..errors import LengthError, Loc, Problem, Rule
from ..lang.i18n import worded
from ..lang.speech import Estimate
from ..model import Narration, Routine, Step
from ..routine.durations import format_clock, format_duration
from ..routine.values import HALFWAY
from .computed import fill_computed
from .guidance import GUIDE_FROM_MS, TIMED_START_MS
from .narrate import narrate, speaking
from .options import Options, resolve_options
from .poses import LONG_HOLD_MS, fresh_reminders
from .timeline import Durations, Layout, Silence, Timeline
from .timeline import layout as layout_events

__all__ = [
    "LENGTH_TOLERANCE_MS",
    "compile_and_lay_out",
    "compile_routine",
    "crowded_cues",
    "every_text",
    "length_bounds",
]

LENGTH_TOLERANCE_MS = 5000

log = logging.getLogger(__name__)


_EMITTED: OrderedDict[tuple[int, Options, tuple[int | None, ...]], tuple[Routine, Timeline]] = (
    OrderedDict()
)
"""Recent timelines by routine, options and holds: a render compiles the same ones twice (a
draft with estimated speech, then with the real clips), and narration does not depend on
how long speech takes."""


def _emit(routine: Routine, options: Options, holds: list[int | None]) -> Timeline:
    key = (id(routine), options, tuple(holds))
    found = _EMITTED.get(key)
    if found is not None and found[0] is routine:
        _EMITTED.move_to_end(key)
        return found[1]
    timeline = _narrated(routine, options, holds)
    _EMITTED[key] = (routine, timeline)
    while len(_EMITTED) > 16:
        _EMITTED.popitem(last=False)
    return timeline


def _narrated(routine: Routine, options: Options, holds: list[int | None]) -> Timeline:
    halfway = routine.halfway
    if halfway == HALFWAY:
        halfway = worded(speaking(routine.language), routine.phrases).say(HALFWAY)
    said = fill_computed(routine, options, holds, speaking(routine.language), narrate)
    events = narrate(said, options, holds)
    return Timeline(routine, options, events, tuple(holds), halfway)


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


def _fit(
    routine: Routine, options: Options, durations: Durations, target: int
) -> tuple[list[int | None], Layout | None]:
    """Share the slack between ranges in proportion to their spans, then trim rounding.

    Returns the holds, and the layout they make when the last step of the fit laid it out."""
    # Whether a length is accepted is decided on estimated speech, whatever the cache holds:
    # `plan` and the page know only the estimate, and a render with and without kept clips
    # must answer alike. The real clips then fit the holds as near the target as they allow.
    estimate = durations if isinstance(durations, Estimate) else Estimate(options.rate)
    allowed = length_bounds(routine, options, estimate)
    level = options.narration.value
    if not _within(target, allowed):
        raise LengthError(
            f"{routine.path}: cannot make a {format_clock(target)} session: at {level} narration "
            f"this routine runs from {format_clock(allowed.shortest_ms)} to "
            f"{format_clock(allowed.longest_ms)}"
        )
    bounds = allowed if durations is estimate else length_bounds(routine, options, durations)
    if not _within(target, bounds):
        log.warning(
            "%s: with this voice the routine runs from %s to %s at %s narration; the session "
            "is made as near %s as that allows",
            routine.path,
            format_clock(bounds.shortest_ms),
            format_clock(bounds.longest_ms),
            level,
            format_clock(target),
        )
    spread = bounds.longest_ms - bounds.shortest_ms
    fraction = min(1.0, max(0.0, (target - bounds.shortest_ms) / spread)) if spread else 0.0
    holds = _holds_at(routine, fraction)
    ranged = [i for i, s in enumerate(routine.steps) if s.hold is not None and s.hold.is_range]
    ranged.sort(key=lambda i: -_repeats(routine.steps[i]))
    for _ in range(3):
        laid = layout_events(_emit(routine, options, holds), durations)
        error = target - laid.total_ms
        if abs(error) < 1000:
            return holds, laid
        for i in ranged:
            step, hold = routine.steps[i], holds[i]
            assert step.hold is not None and hold is not None
            seconds = round(error / 1000 / _repeats(step))
            new = min(step.hold.max_ms, max(step.hold.min_ms, hold + seconds * 1000))
            error -= (new - hold) * _repeats(step)
            holds[i] = new
    return holds, None


def _within(target: int, bounds: Bounds) -> bool:
    low, high = bounds.shortest_ms, bounds.longest_ms
    return low - LENGTH_TOLERANCE_MS <= target <= high + LENGTH_TOLERANCE_MS


def _repeats(step: Step) -> int:
    return max(1, len(step.sides)) * step.reps


def compile_routine(
    routine: Routine, options: Options | None = None, durations: Durations | None = None
) -> Timeline:
    """Compile a routine into a timeline, fitting holds to the target length if one is set.

    `durations` measures speech for the fit; by default it is estimated from word counts.
    """
    return _compiled(routine, options or Options(), durations)[0]


def compile_and_lay_out(
    routine: Routine, options: Options, durations: Durations
) -> tuple[Timeline, Layout]:
    """`compile_routine`, and the timeline laid out with `durations` (the length's fit has
    usually laid it out already)."""
    timeline, laid = _compiled(routine, options, durations)
    return timeline, laid if laid is not None else layout_events(timeline, durations)


def _compiled(
    routine: Routine, options: Options, durations: Durations | None
) -> tuple[Timeline, Layout | None]:
    durations = durations or Estimate(options.rate)
    laid = None
    if options.length_ms is None:
        holds = _holds_at(routine, 0.5)
    else:
        holds, laid = _fit(routine, options, durations, options.length_ms)
    return _emit(routine, options, holds), laid


def crowded_cues(routine: Routine, durations: Durations | None = None) -> list[Problem]:
    """Cues that find no room inside their period, at any narration level, sorted by line.

    An instruction of a clock-timed period with no room is an error (the period is too short
    for what it must say); a guidance cue or reminder with no room is a warning (it is left
    out). Checked with the routine's own defaults, as `render` without options uses them, its
    own narration level first; a step's reminder that no hold has room for is a warning too.
    """
    found: dict[tuple[Loc, str], Problem] = {}
    own = routine.defaults.narration or Narration.STANDARD
    for level in sorted(Narration, key=lambda n: n != own):
        options = resolve_options(routine, narration=level)
        speech = durations or Estimate(options.rate)
        try:
            timeline = compile_routine(routine, options, speech)
        except LengthError:
            if level is own:  # the file as written cannot render: say so at its `length`
                _length_unmade(routine, options, speech, found)
            continue
        at = f"{level.value} narration" + (
            f" and rate {options.rate:g}" if options.rate != 1 else ""
        )
        laid = layout_events(timeline, speech)
        _late_sections(routine, laid, at, found)
        _stretched_phases(routine, laid, at, found)
        for d in laid.dropped_cues:
            loc, where = _where(routine, d.step, d.silence_ms)
            step = routine.steps[d.step] if d.step is not None else None
            room = format_duration(d.silence_ms)
            rule: Rule = "period-too-short" if d.cue.required else "no-room"
            if d.cue.required:
                message = (
                    f"{where}: its {room} period is too short to say “{d.text}” at {at}; "
                    "lengthen the period or say less"
                )
            else:
                if step is None:
                    advice = "lengthen get_ready or shorten the cue"
                elif step.kind == "breathe":
                    advice = "a count needs its second: a faster rate, or count: false"
                elif step.kind == "rest":
                    advice = "lengthen the rest"
                else:
                    advice = "lengthen the hold or shorten the cue"
                message = (
                    f"warning: {where}: no room for “{d.text}” inside its {room} at {at}; "
                    f"it is left out ({advice})"
                )
            found.setdefault((loc, d.text), Problem(loc, message, rule))  # once for all rounds
        if level is Narration.FULL:
            _unsaid_reminders(routine, set(every_text(routine, options)), found)
    return sorted(found.values(), key=lambda p: p.loc)


def _length_unmade(
    routine: Routine, options: Options, speech: Durations, found: dict[tuple[Loc, str], Problem]
) -> None:
    """The routine's own `length` that its ranges cannot reach, at its own narration level."""
    loc = routine.defaults.length_loc or Loc(routine.path)
    target = options.length_ms or 0
    allowed = length_bounds(routine, options, speech)
    message = (
        f"length {format_clock(target)} cannot be made: at {options.narration.value} narration "
        f"this routine runs from {format_clock(allowed.shortest_ms)} to "
        f"{format_clock(allowed.longest_ms)}; choose a length in between or widen the ranges"
    )
    found[(loc, "length")] = Problem(loc, message, "out-of-range")


def _late_sections(
    routine: Routine, laid: Layout, at: str, found: dict[tuple[Loc, str], Problem]
) -> None:
    """A section pinned to a time that the steps before it run past."""
    for item in laid.items:
        e = item.event
        if isinstance(e, Silence) and e.until_ms is not None and item.start_ms > e.until_ms:
            step = routine.steps[e.step] if e.step is not None else None
            if step is None or (step.loc, "at") in found:
                continue
            message = (
                f"section '{step.section}' is pinned to start at {format_clock(e.until_ms)}, "
                f"but the steps before it run to {format_clock(item.start_ms)} at {at}; "
                "pin it later or shorten what comes before"
            )
            found[(step.loc, "at")] = Problem(step.loc, message, "section-too-late")


def _stretched_phases(
    routine: Routine, laid: Layout, at: str, found: dict[tuple[Loc, str], Problem]
) -> None:
    """A timed flow's phase shorter than its own cue takes as long as the cue needs, so the
    flow runs longer than its phases: a warning at the step's `flow`, once per step, naming
    the first. guidecast's own words in a flow (its quiet rounds) are not the routine's."""
    extra: dict[int, int] = {}
    first: dict[int, tuple[int, int, str]] = {}
    for item in laid.items:
        e = item.event
        if isinstance(e, Silence) and e.kind == "breath" and e.step is not None and e.cues:
            flow = routine.steps[e.step].flow
            said = e.cues[0].text
            own = flow is not None and any(said in c for c in (*flow.cues, *flow.short))
            own = own and flow is not None and flow.timed
            if own and item.ms > e.ms:
                extra[e.step] = extra.get(e.step, 0) + item.ms - e.ms
                first.setdefault(e.step, (e.ms, item.ms, e.cues[0].text))
    for index, more in extra.items():
        step = routine.steps[index]
        loc = step.flow.loc if step.flow is not None else step.loc
        if (loc, "stretched") in found:
            continue
        _, where = _where(routine, index, 0)
        phase, took, text = first[index]
        message = (
            f"warning: {where}: its {format_duration(phase)} phase takes "
            f"{format_duration(took)} to say “{text}” at {at}, so the flow runs "
            f"{format_duration(more)} longer than its phases; lengthen the phase or shorten "
            "the cue"
        )
        found[(loc, "stretched")] = Problem(loc, message, "stretched-phase")


def _where(routine: Routine, index: int | None, silence_ms: int) -> tuple[Loc, str]:
    """Where a cue of step `index` (None: outside the steps) belongs, and how to name it: the
    step by its number in the file, a block's rest on the key that asks for it."""
    if index is None:
        if silence_ms and routine.get_ready_loc is not None:  # the one period of no step
            return routine.get_ready_loc, "get_ready"
        return Loc(routine.path), "the session"
    step = routine.steps[index]
    if step.number:
        return step.loc, f"step {step.number} ({step.pose or step.kind})"
    return step.loc, "the rest this block adds"


def _unsaid_reminders(
    routine: Routine, said: set[str], found: dict[tuple[Loc, str], Problem]
) -> None:
    """A step's own reminder that none of its holds says at full narration, at any length
    (too short for reminders, or for as many as it gives): a warning, not a silent loss."""
    for index, step in enumerate(routine.steps):
        for reminder in fresh_reminders(step, step.reminders):
            if reminder in said or (step.loc, reminder) in found:
                continue
            loc, where = _where(routine, index, 0)
            message = (
                f"warning: {where}: no hold has room for the reminder “{reminder}” (reminders "
                f"are said at full narration in holds of {format_duration(LONG_HOLD_MS)} or "
                "more); it is left out"
            )
            found[(step.loc, reminder)] = Problem(loc, message, "no-room")


def every_text(routine: Routine, options: Options) -> list[str]:
    """Every sentence a session of this routine can say at these options, whatever `--length`.

    What a session says depends on its length only through its holds ("Stay here for about two
    and a half minutes", whether a hold is long enough for a halfway cue). Each ranged hold is
    tried at every length that is said differently, and at the edges of every guidance moment,
    with the other holds at their middle; so once these are synthesized, a session of any
    length the routine allows is a splice of kept speech, with no voice to load.
    """
    lang = speaking(routine.language)
    middle = _holds_at(routine, 0.5)
    tried = [_holds_at(routine, 0.0), middle, _holds_at(routine, 1.0)]
    edges = {ms for moment in GUIDE_FROM_MS.values() for ms in moment.values() if ms}
    edges.add(TIMED_START_MS)
    for i, step in enumerate(routine.steps):
        if step.hold is None or not step.hold.is_range:
            continue
        low, high = step.hold.min_ms, step.hold.max_ms
        said: dict[str, int] = {}
        for ms in range(low, high + 1, 1000):
            said.setdefault(lang.spoken_time(ms), ms)
        lengths = set(said.values()) | {
            ms for e in edges for ms in (e - 1000, e) if low <= ms <= high
        }
        for ms in sorted(lengths):
            tried.append([*middle[:i], ms, *middle[i + 1 :]])
    texts: dict[str, None] = {}
    options = replace(options, length_ms=None)
    for holds in tried:
        texts.update(dict.fromkeys(_emit(routine, options, holds).texts()))
    return list(texts)
