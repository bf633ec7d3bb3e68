"""The compiler: golden timelines for the cases in tests/cases, and properties of every routine.

Each `tests/cases/NAME.yaml` is compiled at brief, standard and full narration, plus any extra
variant its comments declare (`# variant NAME: length=9m narration=full`), and compared with
`tests/cases/NAME.VARIANT.timeline.txt`. Adding a case is adding a file; after an intended
change, regenerate the expected files with `pytest tests/test_compiler.py --update-goldens`
and review the diff.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from guidecast.compiler.fit import LENGTH_TOLERANCE_MS, compile_routine, length_bounds
from guidecast.compiler.options import Options, resolve_options
from guidecast.compiler.plan import plan_table
from guidecast.compiler.timeline import Layout, Silence, Speak, Timeline, layout
from guidecast.errors import LengthError
from guidecast.lang.speech import Estimate
from guidecast.model import Narration, Routine, SoundRef
from guidecast.routine.durations import format_clock, format_duration, parse_duration
from guidecast.routine.keys import SWITCH_SETTLE_MS
from guidecast.routine.load import load_routine

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases"
ROUTINES = sorted((ROOT / "routines").glob("*.yaml"))
LEVELS = list(Narration)
_VARIANT = re.compile(r"^#\s*variant\s+([\w-]+)\s*:(.*)$")


# -- golden files -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    case: Path
    name: str
    options: dict[str, Any]

    @property
    def golden(self) -> Path:
        return self.case.with_name(f"{self.case.stem}.{self.name}.timeline.txt")

    @property
    def id(self) -> str:
        return f"{self.case.stem}.{self.name}"


def _option(key: str, value: str) -> tuple[str, Any]:
    """One `key=value` of a variant line, as a keyword of `resolve_options`."""
    if key == "narration":
        return "narration", Narration(value)
    if key in ("length", "countdown"):
        return f"{key}_ms", parse_duration(value)
    if key == "rate":
        return "rate", float(value)
    if key == "breath_cues":
        return "breath_cues", {"true": True, "false": False}[value]
    raise ValueError(f"unknown variant option {key!r}")


def variants(case: Path) -> list[Variant]:
    """brief, standard and full, then the variants declared in the case's comments."""
    found = [Variant(case, level.value, {"narration": level}) for level in Narration]
    for line in case.read_text(encoding="utf-8").splitlines():
        match = _VARIANT.match(line)
        if match:
            pairs = (item.split("=", 1) for item in match.group(2).split())
            found.append(Variant(case, match.group(1), dict(_option(k, v) for k, v in pairs)))
    return found


ALL_VARIANTS = [v for case in sorted(CASES.glob("*.yaml")) for v in variants(case)]


def dump(timeline: Timeline) -> str:
    """A deterministic text form of a timeline laid out with estimated speech lengths."""
    lay = layout(timeline, Estimate(timeline.options.rate))
    o = timeline.options
    holds = [format_duration(ms) if ms is not None else "flow" for ms in timeline.holds_ms]
    lines = [
        plan_table(timeline, lay, verbose=True),
        "",
        f"options: narration={o.narration.value} length_ms={o.length_ms} rate={o.rate:g} "
        f"countdown_ms={o.countdown_ms} breath_cues={o.breath_cues}",
        f"holds: {' '.join(holds)}",
        f"total_ms: {lay.total_ms}",
        "chapters:",
        *(f"  {c.start_ms:>8} {c.end_ms:>8}  {c.title}" for c in lay.chapters),
    ]
    if lay.dropped_cues:
        lines += ["dropped cues:", *(f"  “{c.text}”" for c in lay.dropped_cues)]
    return "\n".join(lines) + "\n"


def compile_variant(variant: Variant) -> Timeline:
    routine = load_routine(variant.case)
    options = resolve_options(routine, **variant.options)
    return compile_routine(routine, options, Estimate(options.rate))


@pytest.mark.parametrize("variant", ALL_VARIANTS, ids=[v.id for v in ALL_VARIANTS])
def test_golden_timeline(variant: Variant, request: pytest.FixtureRequest) -> None:
    actual = dump(compile_variant(variant))
    if request.config.getoption("--update-goldens"):
        variant.golden.write_text(actual, encoding="utf-8")
    assert variant.golden.is_file(), f"no {variant.golden.name}: run pytest --update-goldens"
    expected = variant.golden.read_text(encoding="utf-8")
    assert actual == expected, f"{variant.golden.name} differs: run pytest --update-goldens"


def test_every_golden_file_belongs_to_a_case(request: pytest.FixtureRequest) -> None:
    expected = {v.golden.name for v in ALL_VARIANTS}
    stale = sorted(p for p in CASES.glob("*.timeline.txt") if p.name not in expected)
    if request.config.getoption("--update-goldens"):
        for path in stale:
            path.unlink()
        stale = []
    assert not stale, f"golden files without a case variant: {[p.name for p in stale]}"


def test_cases_cover_every_kind_of_step() -> None:
    routines = [load_routine(case) for case in sorted(CASES.glob("*.yaml"))]
    steps = [step for routine in routines for step in routine.steps]
    assert any(step.sides for step in steps)
    assert any(step.reps > 1 and step.rest_ms for step in steps)
    assert any(step.flow for step in steps)
    assert any(step.reminders for step in steps)
    assert any(step.sound and step.sound.path for step in steps)
    assert any(r.defaults.countdown_ms for r in routines)
    assert any(r.defaults.breath_cues for r in routines)
    assert any(r.intro and r.outro and r.safety and r.props for r in routines)
    assert any(v.options.get("length_ms") for v in ALL_VARIANTS)


# -- what each level says (a few facts the golden files show, stated directly) ----------------


def _said(routine: Routine, **options: Any) -> list[str]:
    return compile_routine(routine, Options(**options)).texts()


def test_levels_add_what_the_docs_say() -> None:
    routine = load_routine(CASES / "all-features.yaml")
    brief = _said(routine, narration=Narration.BRIEF)
    standard = _said(routine, narration=Narration.STANDARD)
    full = _said(routine, narration=Narration.FULL)
    everywhere = ["Settle in.", "Stop if you feel sharp pain.", "Well done."]
    everywhere += ["Easy Pose.", "Sit tall.", "Begin on the right side."]
    everywhere += ["Gently release, and switch to the left side."]
    everywhere += ["Inhale and arch.", "Exhale and round.", "Release and rest."]
    for said in (brief, standard, full):
        assert set(everywhere) <= set(said)
    assert {"Begin.", "Again."} <= set(brief)
    standard_only = ["Props for this session: blanket.", "Cross your legs.", "Rest your hands."]
    standard_only += ["Repetition one of three.", "Repetition three of three."]
    assert not set(standard_only) & set(brief)
    assert set(standard_only) <= set(standard) and set(standard_only) <= set(full)
    full_only = ["In Sanskrit, Sukhasana.", "It calms the breath.", "Breathe into your back."]
    full_only += ["Soften your jaw."]
    assert not set(full_only) & set(standard)
    assert set(full_only) <= set(full)


def test_command_line_options_win_over_routine_defaults() -> None:
    routine = load_routine(CASES / "countdown.yaml")
    assert resolve_options(routine).countdown_ms == 5000
    assert resolve_options(routine, countdown_ms=0).countdown_ms == 0
    assert resolve_options(routine) == Options(countdown_ms=5000)
    breath = load_routine(CASES / "breath-cues.yaml")
    assert resolve_options(breath).breath_cues is True
    assert resolve_options(breath, breath_cues=False).breath_cues is False


def test_without_a_length_ranges_sit_at_their_midpoint() -> None:
    routine = load_routine(CASES / "sides.yaml")
    assert compile_routine(routine).holds_ms == (30_000, 30_000, 15_000)


def test_compile_is_deterministic() -> None:
    routine = load_routine(CASES / "all-features.yaml")
    options = Options(narration=Narration.FULL, length_ms=600_000, breath_cues=True)
    assert compile_routine(routine, options) == compile_routine(routine, options)


# -- properties of every routine --------------------------------------------------------------


@pytest.fixture(scope="module", params=ROUTINES, ids=lambda p: p.name)
def routine(request: pytest.FixtureRequest) -> Routine:
    path: Path = request.param
    return load_routine(path)


def _lay(timeline: Timeline) -> Layout:
    return layout(timeline, Estimate(timeline.options.rate))


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_every_routine_plans_at_every_level(routine: Routine, level: Narration) -> None:
    timeline = compile_routine(routine, Options(narration=level))
    lay = _lay(timeline)
    table = plan_table(timeline, lay)
    assert table.splitlines()[-1].startswith(f"total {format_clock(lay.total_ms)} · ")
    assert lay.total_ms > 5 * 60_000
    for index, step in enumerate(routine.steps):
        assert f"{step.pose}." in timeline.texts(), step.pose
        assert (timeline.holds_ms[index] is None) == (step.flow is not None)


@pytest.mark.parametrize("path", ROUTINES, ids=lambda p: p.name)
def test_every_written_cue_is_said(path: Path) -> None:
    routine = load_routine(path)
    for level in LEVELS:
        lay = _lay(compile_routine(routine, Options(narration=level)))
        assert not [cue.text for cue in lay.dropped_cues], level.value


def _words(routine: Routine, level: Narration) -> int:
    events = compile_routine(routine, Options(narration=level)).events
    return sum(len(e.text.split()) for e in events if isinstance(e, Speak))


def test_brief_says_less_than_standard_says_less_than_full(routine: Routine) -> None:
    brief, standard, full = (_words(routine, level) for level in LEVELS)
    assert brief < standard < full


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_chapters_tile_the_session(routine: Routine, level: Narration) -> None:
    lay = _lay(compile_routine(routine, Options(narration=level, breath_cues=True)))
    chapters = lay.chapters
    assert chapters[0].start_ms == 0
    for before, after in itertools.pairwise(chapters):
        assert before.end_ms == after.start_ms
    assert chapters[-1].end_ms == lay.total_ms
    assert all(c.start_ms < c.end_ms for c in chapters)
    two_sided = sum(len(s.sides) for s in routine.steps if s.sides)
    one_sided = sum(1 for s in routine.steps if not s.sides)
    assert len([c for c in chapters if c.step is not None]) == two_sided + one_sided


def test_a_hold_starts_after_time_to_settle_into_it(routine: Routine) -> None:
    lay = _lay(compile_routine(routine, Options(narration=Narration.FULL)))
    holds = 0
    for i, item in enumerate(lay.items):
        if not (isinstance(item.event, Silence) and item.event.kind == "hold"):
            continue
        holds += 1
        settle, said = lay.items[i - 1], lay.items[i - 2]
        assert isinstance(settle.event, Silence) and settle.event.kind == "settle"
        assert settle.ms >= SWITCH_SETTLE_MS - 1000, "at least 3 s to move"
        assert isinstance(said.event, Speak) and said.event.step == item.event.step
        assert item.start_ms == said.start_ms + said.ms + settle.ms
    assert holds >= sum(1 for s in routine.steps if s.hold is not None and not s.move)


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
@pytest.mark.parametrize("fraction", [0.0, 0.137, 0.5, 0.771, 1.0])
def test_length_fitting_hits_the_target(
    routine: Routine, level: Narration, fraction: float
) -> None:
    estimate = Estimate(1.0)
    bounds = length_bounds(routine, Options(narration=level), estimate)
    assert bounds.shortest_ms < bounds.longest_ms
    # an odd number of milliseconds, so no target lands on a whole second by luck
    target = round(bounds.shortest_ms + fraction * (bounds.longest_ms - bounds.shortest_ms)) + 437
    target = min(target, bounds.longest_ms)
    timeline = compile_routine(routine, Options(narration=level, length_ms=target), estimate)
    assert abs(layout(timeline, estimate).total_ms - target) <= LENGTH_TOLERANCE_MS
    for step, hold in zip(routine.steps, timeline.holds_ms, strict=True):
        if step.hold is None:
            assert hold is None
        else:
            assert hold is not None and step.hold.min_ms <= hold <= step.hold.max_ms, step.pose
            assert hold % 1000 == step.hold.min_ms % 1000, "holds move in whole seconds"


def test_length_fitting_moves_every_range_to_the_same_fraction(routine: Routine) -> None:
    estimate = Estimate(1.0)
    bounds = length_bounds(routine, Options(), estimate)
    target = (bounds.shortest_ms + bounds.longest_ms) // 2
    timeline = compile_routine(routine, Options(length_ms=target), estimate)
    for step, hold in zip(routine.steps, timeline.holds_ms, strict=True):
        if step.hold is not None and step.hold.is_range:
            assert hold is not None
            share = (hold - step.hold.min_ms) / (step.hold.max_ms - step.hold.min_ms)
            assert abs(share - 0.5) < 0.1, step.pose


def test_length_bounds_are_the_sessions_at_minimum_and_maximum(routine: Routine) -> None:
    estimate = Estimate(1.0)
    bounds = length_bounds(routine, Options(), estimate)
    for target, pick in ((bounds.shortest_ms, "min_ms"), (bounds.longest_ms, "max_ms")):
        timeline = compile_routine(routine, Options(length_ms=target), estimate)
        assert layout(timeline, estimate).total_ms == target
        for step, hold in zip(routine.steps, timeline.holds_ms, strict=True):
            if step.hold is not None:
                assert hold == getattr(step.hold, pick)


@pytest.mark.parametrize("outside", ["short", "long"])
def test_impossible_length_names_the_shortest_and_longest(routine: Routine, outside: str) -> None:
    estimate = Estimate(1.0)
    options = Options(narration=Narration.BRIEF)
    bounds = length_bounds(routine, options, estimate)
    if outside == "short":
        target = bounds.shortest_ms - LENGTH_TOLERANCE_MS - 1000
    else:
        target = bounds.longest_ms + LENGTH_TOLERANCE_MS + 1000
    with pytest.raises(LengthError) as info:
        compile_routine(routine, Options(narration=Narration.BRIEF, length_ms=target), estimate)
    message = str(info.value)
    assert format_clock(bounds.shortest_ms) in message
    assert format_clock(bounds.longest_ms) in message
    assert format_clock(target) in message and "brief" in message
    assert info.value.exit_code == 2


def test_a_length_just_inside_the_tolerance_is_accepted(routine: Routine) -> None:
    estimate = Estimate(1.0)
    bounds = length_bounds(routine, Options(), estimate)
    for target in (bounds.shortest_ms - 4000, bounds.longest_ms + 4000):
        timeline = compile_routine(routine, Options(length_ms=target), estimate)
        assert abs(layout(timeline, estimate).total_ms - target) <= LENGTH_TOLERANCE_MS


class SlowSpeech:
    """Stands in for measured clip lengths: twice the estimate, odd bell lengths."""

    def __init__(self) -> None:
        self.estimate = Estimate(1.0)

    def speech_ms(self, text: str) -> int:
        return 2 * self.estimate.speech_ms(text) + 17

    def sound_ms(self, sound: SoundRef) -> int:
        return 4321


def test_the_fit_uses_the_durations_it_is_given(routine: Routine) -> None:
    slow = SlowSpeech()
    bounds = length_bounds(routine, Options(), slow)
    estimated = length_bounds(routine, Options(), Estimate(1.0))
    assert bounds.shortest_ms > estimated.shortest_ms
    # Whether a length is accepted is the estimate's to say (as `plan` says it); inside both
    # ranges the fit reaches the target with the durations given, outside it comes nearest.
    for target in (estimated.shortest_ms, estimated.longest_ms):
        timeline = compile_routine(routine, Options(length_ms=target), slow)
        total = layout(timeline, slow).total_ms
        nearest = min(max(target, bounds.shortest_ms), bounds.longest_ms)
        assert abs(total - nearest) <= LENGTH_TOLERANCE_MS, (target, total, bounds)


def test_fixed_holds_never_change() -> None:
    routine = load_routine(CASES / "all-features.yaml")
    estimate = Estimate(1.0)
    bounds = length_bounds(routine, Options(), estimate)
    fixed = [i for i, s in enumerate(routine.steps) if s.hold is not None and not s.hold.is_range]
    assert fixed
    for target in (bounds.shortest_ms, bounds.longest_ms, 540_000):
        holds = compile_routine(routine, Options(length_ms=target), estimate).holds_ms
        for i in fixed:
            hold = routine.steps[i].hold
            assert hold is not None and holds[i] == hold.min_ms


def test_slower_speech_makes_a_longer_session() -> None:
    routine = load_routine(CASES / "intro-outro-safety.yaml")
    normal = _lay(compile_routine(routine, Options(rate=1.0))).total_ms
    slow = _lay(compile_routine(routine, Options(rate=0.8))).total_ms
    assert slow > normal
