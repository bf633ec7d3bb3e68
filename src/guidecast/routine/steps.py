"""Read the steps of a routine: poses, plain speech, pauses, breathwork, and blocks of rounds.

Blocks are unrolled here, so the rest of guidecast sees a flat list of steps: each copy knows
its round, and the rests between rounds and between exercises are steps of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Loc
from ..model import (
    GUIDANCE_MOMENTS,
    Breathing,
    Flow,
    Guidance,
    Hold,
    SoundRef,
    Step,
)
from .durations import format_duration, parse_range
from .fields import (
    Bad,
    Reader,
    Reported,
    boolean,
    check_span,
    choice,
    duration,
    duration_or_zero,
    duration_text,
    integer,
    misspelt,
    text,
    text_list,
    unknown,
)

__all__ = ["BUILTIN_SOUNDS", "MAX_BLOCK_DEPTH", "StepReader"]

BUILTIN_SOUNDS = ("bowl", "chime", "gong", "woodblock")
SOUND_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aiff", ".aif")
DEFAULT_SIDES = ("right", "left")
DEFAULT_BREATH_MS = 6000
"""One whole breath of a flow when the routine gives none."""
MAX_SETTLE_MS = 120_000
MAX_PAUSE_MS = 600_000
MAX_BLOCK_DEPTH = 3
"""Blocks inside blocks inside blocks, and no deeper: a deeper routine is almost surely a slip."""
TIMINGS = ("paced", "clock")


def _at_most(most_ms: int, what: str) -> Callable[[Node], int]:
    def parse(node: Node) -> int:
        ms = duration_or_zero(node)
        if ms > most_ms:
            raise Bad(
                f"{what} of {format_duration(ms)} is too long: at most {format_duration(most_ms)}"
            )
        return ms

    return parse


settle = _at_most(MAX_SETTLE_MS, "a settle time")
pause = _at_most(MAX_PAUSE_MS, "a pause")


def guidance(node: Node) -> Guidance:
    """`{length: false, release: Slowly roll to your side.}`: each moment true, false or a text."""
    if not isinstance(node, MappingNode):
        raise Bad("guidance must be a mapping, e.g. {halfway: false, release: Roll to your side.}")
    found: dict[str, bool | str] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else ""
        if key not in GUIDANCE_MOMENTS:
            raise Bad(unknown(f"guidance moment '{key}'", str(key), GUIDANCE_MOMENTS))
        if key in found:
            raise Bad(f"duplicate guidance moment '{key}'")
        if isinstance(value_node, ScalarNode) and value_node.tag.endswith(":bool"):
            found[key] = boolean(value_node)
            continue
        said = text(value_node)
        holes = set(re.findall(r"{([^{}]*)}", said))
        if holes - {"time"} or (holes and key != "length") or said.count("{") != len(holes):
            raise Bad(
                f"guidance '{key}' text may not contain braces"
                + (" other than {time}" if key == "length" else "")
            )
        found[key] = said
    return Guidance(**found)


def time_left(node: Node) -> tuple[int, ...]:
    """`time_left: [1m, 10s]`: say how much is left at these times before a hold ends."""
    items = node.value if isinstance(node, SequenceNode) else [node]
    return tuple(sorted({duration(item) for item in items}, reverse=True))


def _count(node: Node) -> tuple[bool, bool]:
    """`count: true` (aloud), `false` (phase words only) or `tones`: (counted, tones)."""
    if isinstance(node, ScalarNode) and str(node.value).strip().lower() == "tones":
        return False, True
    try:
        return boolean(node), False
    except Bad:
        raise Bad("count is true (aloud), false (phase words only) or tones") from None


def breath_pattern(node: Node) -> tuple[int, ...]:
    """`4-7-8`, `4-4-4-4` or `[4, 7, 8]`: seconds per phase (in, hold, out, hold)."""
    if isinstance(node, SequenceNode):
        raw = [str(scalar.value) for scalar in node.value if isinstance(scalar, ScalarNode)]
    else:
        raw = str(text(node)).split("-")
    if not 2 <= len(raw) <= 4 or not all(re.fullmatch(r"\d{1,2}", r.strip()) for r in raw):
        raise Bad(
            "a breathing pattern is 2 to 4 whole seconds: in-out (4-6), in-hold-out (4-7-8) "
            "or in-hold-out-hold (4-4-4-4)"
        )
    seconds = [int(r) for r in raw]
    if any(not 1 <= n <= 30 for n in seconds):
        raise Bad("each breathing phase lasts 1 to 30 seconds")
    return tuple(n * 1000 for n in seconds)


STEP_KEYS = (
    "pose", "sanskrit", "cue", "how", "why", "props", "reminders", "hold", "move", "sides",
    "switch", "reps", "rest", "flow", "breathe", "sound", "settle", "switch_settle",
    "pause_after", "guidance", "time_left", "side_rest", "side_cues",
)  # fmt: skip
FLOW_KEYS = ("breaths", "cues", "breath", "short")
SAY_KEYS = ("say", "chapter", "hold", "pause_after", "sound")
PAUSE_KEYS = ("pause", "chapter")
BREATHE_KEYS = ("pattern", "cycles", "for", "count")
BLOCK_KEYS = ("block", "rounds", "rest", "between", "timing", "steps")
SECTION_KEYS = ("section", "steps")
ENTRY_KINDS = ("block", "say", "pause")


class StepReader(Reader):
    """Reads step entries; a routine reader adds the top level."""

    def __init__(self, path: str, base: Path) -> None:
        super().__init__(path)
        self.base = base

    # -- entries: steps and blocks ------------------------------------------------------------

    def entries(
        self, node: SequenceNode, *, clock: bool, depth: int = 0, numbered: int = 0
    ) -> list[Step]:
        """The steps of a `steps:` list, blocks unrolled; `numbered`: steps read before."""
        if not node.value:
            self.problem(node, "'steps' is empty: add at least one step")
        steps: list[Step] = []
        for item in node.value:
            index = numbered + len(steps) + 1
            keys = _keys(item)
            if "block" in keys:
                steps += self.block(item, clock=clock, depth=depth + 1, numbered=index - 1)
                continue
            if "section" in keys:
                steps += self.section(item, clock=clock, depth=depth, numbered=index - 1)
                continue
            if "say" in keys:
                step = self.say_step(item, index)
            elif "pause" in keys and "pose" not in keys:
                step = self.pause_step(item, index)
            elif "rest" in keys and "pose" not in keys:
                step = self.rest_step(item, index)
            else:
                step = self.pose_step(item, index)
            if step is not None:
                steps.append(replace(step, clock=clock) if clock and step.kind == "pose" else step)
        return steps

    def block(self, node: Node, *, clock: bool, depth: int, numbered: int) -> list[Step]:
        """A block of steps repeated `rounds` times, rests between rounds and between steps."""
        found = self.mapping(node, "block", BLOCK_KEYS, required=("steps",))
        if found is None:
            return []
        if depth > MAX_BLOCK_DEPTH:
            self.problem(node, f"blocks nest at most {MAX_BLOCK_DEPTH} deep")
            return []
        self.field(found, "block", text)  # the name is for the reader of the routine
        rounds = self.field(found, "rounds", integer(1, 100)) or 1
        rest_ms = self.field(found, "rest", duration) or 0
        between_ms = self.field(found, "between", duration) or 0
        timing = self.field(found, "timing", choice("timing", TIMINGS))
        clock = clock if timing is None else timing == "clock"
        steps_node = found.get("steps")
        if not isinstance(steps_node, SequenceNode):
            if steps_node is not None:
                self.problem(steps_node, "a block's 'steps' must be a list of steps")
            return []
        body = self.entries(steps_node, clock=clock, depth=depth, numbered=numbered)
        if not body:
            return []
        loc = self.loc(node)
        out: list[Step] = []
        for k in range(1, rounds + 1):
            for j, step in enumerate(body):
                first = j == 0
                if rounds > 1:
                    step = replace(step, round=(k, rounds), round_start=first)
                out.append(step)
                last_of_round = j == len(body) - 1
                if between_ms and not last_of_round:
                    out.append(_rest(between_ms, loc, body[j + 1].pose, clock))
            if rest_ms and k < rounds:
                out.append(_rest(rest_ms, loc, body[0].pose, clock, long=True))
        return out

    def section(self, node: Node, *, clock: bool, depth: int, numbered: int) -> list[Step]:
        """`{section: Warm-up, steps: [...]}`: steps grouped under a name in the chapters."""
        found = self.mapping(node, "section", SECTION_KEYS, required=("section", "steps"))
        if found is None:
            return []
        name = self.field(found, "section", text)
        steps_node = found.get("steps")
        if name is None or not isinstance(steps_node, SequenceNode):
            if steps_node is not None and not isinstance(steps_node, SequenceNode):
                self.problem(steps_node, "a section's 'steps' must be a list of steps")
            return []
        body = self.entries(steps_node, clock=clock, depth=depth, numbered=numbered)
        inner = [s for s in body if s.section is not None]
        if inner:
            self.problem(node, "sections do not nest: a section holds steps and blocks")
        return [replace(step, section=name) for step in body]

    def say_step(self, node: Node, index: int) -> Step | None:
        """Plain speech, for meditation: said as written, with an optional unspoken title."""
        found = self.mapping(node, f"step {index}", SAY_KEYS)
        if found is None:
            return None
        before = len(self.problems)
        said = self.field(found, "say", text_list) or ()
        title = self.field(found, "chapter", text)
        step = Step(
            pose=title or "",
            loc=self.loc(node),
            kind="say",
            say=said,
            chapter=title is not None,
            hold=self.field(found, "hold", self.hold),
            pause_after_ms=self.field(found, "pause_after", pause),
            sound=self.field(found, "sound", self.sound),
        )
        return step if len(self.problems) == before else None

    def pause_step(self, node: Node, index: int) -> Step | None:
        """A quiet pause, with an optional chapter title."""
        found = self.mapping(node, f"step {index}", PAUSE_KEYS)
        if found is None:
            return None
        before = len(self.problems)
        title = self.field(found, "chapter", text)
        step = Step(
            pose=title or "",
            loc=self.loc(node),
            kind="pause",
            chapter=title is not None,
            hold=self.field(found, "pause", self.hold),
        )
        return step if len(self.problems) == before and step.hold else None

    def rest_step(self, node: Node, index: int) -> Step | None:
        """`- rest: 10s`: a rest between exercises; it announces what comes next."""
        found = self.mapping(node, f"step {index}", ("rest",))
        rest_ms = self.field(found or {}, "rest", duration)
        if rest_ms is None:
            return None
        loc = self.loc(node)
        return Step(
            pose="Rest", loc=loc, kind="rest", chapter=False, hold=Hold(rest_ms, rest_ms, loc)
        )

    def breathe(self, node: Node) -> Breathing:
        """`breathe: {pattern: 4-7-8, cycles: 8}` or `{pattern: 4-4-4-4, for: 2m}`."""
        found = self.mapping(node, "breathe", BREATHE_KEYS, required=("pattern",))
        if found is None:
            raise Reported
        phases = self.field(found, "pattern", breath_pattern)
        cycles = self.field(found, "cycles", integer(1, 500))
        lasting = self.field(found, "for", duration)
        count = self.field(found, "count", _count)
        if phases is None:
            raise Reported
        if cycles is not None and lasting is not None:
            self.problem(found["for"], "give 'cycles' or 'for', not both")
        if lasting is not None:
            cycles = lasting // sum(phases)
            if cycles < 1:
                self.problem(found["for"], "shorter than one breathing cycle")
                raise Reported
        counted, tones = count or (True, False)
        return Breathing(phases, cycles or 5, counted, self.loc(node), tones)

    def side_cues(self, node: Node) -> tuple[tuple[str, str], ...]:
        """`side_cues: {right: Step your right foot forward., left: ...}`."""
        if not isinstance(node, MappingNode):
            raise Bad("side_cues must map each side to what to say, e.g. {right: ..., left: ...}")
        return tuple((text(k), text(v)) for k, v in node.value)

    def hold(self, node: Node) -> Hold:
        raw = duration_text(node)
        try:
            low, high = parse_range(raw)
        except ValueError as e:
            raise Bad(str(e)) from e
        if low <= 0 and "-" in raw:
            raise Bad(f"the shortest hold in '{raw}' is zero: a range must start above 0")
        check_span(low, raw)
        check_span(high, raw)
        if low > high:
            raise Bad(
                f"range '{raw}' runs backwards: {format_duration(low)} is more than "
                f"{format_duration(high)}"
            )
        return Hold(low, high, self.loc(node))

    def sound(self, node: Node) -> SoundRef:
        name = text(node)
        loc = self.loc(node)
        if name.lower() == "none":
            return SoundRef("", None, loc)
        if name in BUILTIN_SOUNDS:
            return SoundRef(name, None, loc)
        if "/" in name or "\\" in name or name.lower().endswith(SOUND_SUFFIXES):
            path = (self.base / name).resolve()
            if not name.lower().endswith(SOUND_SUFFIXES):
                raise Bad(f"sound file '{name}' must be one of: {', '.join(SOUND_SUFFIXES)}")
            if not path.is_file():
                raise Bad(f"sound file '{name}' not found (looked at {path})")
            from ..media.decode import (
                sound_file_problem,  # numpy loads only for routines with sounds
            )

            problem = sound_file_problem(path)
            if problem:
                raise Bad(f"sound file '{name}' {problem}")
            return SoundRef(name, str(path), loc)
        raise Bad(unknown(f"sound '{name}'", name, (*BUILTIN_SOUNDS, "none")))

    def sides(self, node: Node) -> tuple[str, ...]:
        if isinstance(node, ScalarNode) and node.tag.endswith(":bool"):
            return DEFAULT_SIDES if boolean(node) else ()
        names = text_list(node)
        if len(names) != 2 or names[0].lower() == names[1].lower():
            raise Bad("sides must be true or a list of two different sides, e.g. [right, left]")
        return names

    def flow(self, node: Node) -> Flow:
        found = self.mapping(node, "flow", FLOW_KEYS, required=("breaths", "cues"))
        if found is None:
            raise Reported
        breaths = self.field(found, "breaths", integer(1, 100))
        cues = self.field(found, "cues", text_list)
        breath_ms = self.field(found, "breath", duration) or DEFAULT_BREATH_MS
        if breaths is None or cues is None:
            raise Reported
        if breath_ms < 1000 * len(cues):
            self.problem(found["breath"], "a breath this short leaves under 1s for each cue")
        short = self.field(found, "short", text_list) or ()
        if short and len(short) != len(cues):
            self.problem(
                found["short"],
                f"'short' needs one cue per phase: {len(cues)} like 'cues', found {len(short)}",
            )
        return Flow(breaths, cues, breath_ms, self.loc(node), short)

    def pose_step(self, node: Node, index: int) -> Step | None:
        what = f"step {index}"
        found = self.mapping(node, what, STEP_KEYS, required=("pose",))
        if found is None:
            return None
        before = len(self.problems)
        pose = self.field(found, "pose", text)
        hold = self.field(found, "hold", self.hold)
        move = self.field(found, "move", self.hold)
        flow = self.field(found, "flow", self.flow)
        breathing = self.field(found, "breathe", self.breathe)
        reps = self.field(found, "reps", integer(1, 100)) or 1
        rest_ms = self.field(found, "rest", duration) or 0
        kinds = [k for k in ("hold", "flow", "move", "breathe") if k in found]
        if len(kinds) > 1:
            self.problem(
                found[kinds[1]], f"{what} has both '{kinds[0]}' and '{kinds[1]}'; keep one"
            )
        elif not kinds and not any(
            misspelt(node, k, STEP_KEYS) for k in ("hold", "flow", "move", "breathe")
        ):
            self.problem(
                node,
                f"{what} needs a 'hold' (e.g. hold: 1m), a 'flow', a 'move' (free movement) "
                "or 'breathe' (a breathing pattern)",
            )
        for key in ("reps", "sides"):
            for kind, what_it_is in (("move", "free movement"), ("breathe", "breathwork")):
                if kind in found and key in found:
                    self.problem(found[key], f"'{key}' applies to holds, not to {what_it_is}")
        if "rest" in found and reps == 1 and "reps" not in found:
            self.problem(
                found["rest"], "'rest' only applies between repetitions; add reps: 2 or more"
            )
        if "flow" in found and "reps" in found:
            self.problem(found["reps"], "'reps' applies to holds; a flow sets 'breaths' instead")
        step = Step(
            pose=pose or "",
            loc=self.loc(node),
            sanskrit=self.field(found, "sanskrit", text),
            cue=self.field(found, "cue", text),
            how=self.field(found, "how", text_list) or (),
            why=self.field(found, "why", text),
            props=self.field(found, "props", text_list) or (),
            reminders=self.field(found, "reminders", text_list) or (),
            hold=hold or move,
            move=move is not None,
            sides=self.field(found, "sides", self.sides) or (),
            switch=self.field(found, "switch", text),
            reps=reps,
            rest_ms=rest_ms,
            flow=flow,
            breathing=breathing,
            kind="breathe" if breathing is not None else "pose",
            sound=self.field(found, "sound", self.sound),
            settle_ms=self.field(found, "settle", settle),
            switch_settle_ms=self.field(found, "switch_settle", settle),
            pause_after_ms=self.field(found, "pause_after", pause),
            guidance=self.field(found, "guidance", guidance) or Guidance(),
            time_left_ms=self.field(found, "time_left", time_left) or (),
            side_rest_ms=self.field(found, "side_rest", duration) or 0,
            side_cues=self.field(found, "side_cues", self.side_cues) or (),
        )
        if step.side_cues and {s for s, _ in step.side_cues} != set(step.sides):
            sides = ", ".join(step.sides) or "none"
            self.problem(found["side_cues"], f"'side_cues' must name each side ({sides})")
        if "side_rest" in found and not step.sides:
            self.problem(found["side_rest"], "'side_rest' needs 'sides'")
        return step if len(self.problems) == before else None


def _keys(node: Node) -> set[str]:
    if not isinstance(node, MappingNode):
        return set()
    return {k.value for k, _ in node.value if isinstance(k, ScalarNode)}


def _rest(ms: int, loc: Loc, next_up: str, clock: bool, *, long: bool = False) -> Step:
    """A rest inside a block, announcing what comes next."""
    return Step(
        pose="Rest",
        loc=loc,
        kind="rest",
        chapter=long,
        hold=Hold(ms, ms, loc),
        next_up=next_up or None,
        clock=clock,
    )


def announce_next(steps: list[Step]) -> list[Step]:
    """Give every rest the name of the exercise after it, to announce during the rest."""
    out = list(steps)
    for i, step in enumerate(out):
        if step.kind != "rest" or step.next_up:
            continue
        after = next((s for s in out[i + 1 :] if s.kind != "rest" and s.pose), None)
        if after is not None:
            out[i] = replace(step, next_up=after.pose)
    return out
