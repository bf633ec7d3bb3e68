"""Read the steps of a routine: poses, plain speech, pauses, breathwork, and blocks of rounds.

Blocks are unrolled here, so the rest of guidecast sees a flat list of steps: each copy knows
its round, and the rests between rounds and between exercises are steps of their own. Every
mapping is read by its table in `step_keys`.
"""

from __future__ import annotations

from dataclasses import replace

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Loc
from ..lang.speech import NOMINAL_SOUND_MS
from ..model import BedChoice, Guidance, Hold, Speaker, Step
from . import step_keys as sk
from .breaths import BreathReader, Found
from .durations import format_duration
from .fields import misspelt
from .keys import COUNT_IN, GUIDANCE, PACE, PAUSE_AFTER, SETTLE, SWITCH_SETTLE
from .sounds import BUILTIN_SOUNDS
from .speaker_keys import SPEAK_LANGUAGE, SPEAK_RATE, SPEAK_VOICE
from .table import Table

__all__ = ["StepReader", "announce_next"]

ONLY_FOR_HOLDS = {
    "flow": "'{key}' applies to holds; a flow sets 'breaths' instead",
    "move": "'{key}' applies to holds, not to free movement",
    "breathe": "'{key}' applies to holds, not to breathwork",
}
"""What a key that `STEP.excludes` beside a kind of step says."""
NEEDS = {
    "rest": "'rest' only applies between repetitions; add reps: 2 or more",
    "side_rest": "'side_rest' needs 'sides'",
    "rep_sound": "'rep_sound' sounds as each repetition starts; add reps: 2 or more",
}
"""What a key says when the key it needs (`STEP.needs`) is missing."""
ANNOUNCED_REST_MS = 3000 + 600 + 3000
"""Beside its tone and a `cue_sound`, a rest on the clock holds the announcement (3 s at
least), 0.6 s clear, and the countdown (3 s): the compiler's `timed.announced` lays it out."""


class StepReader(BreathReader):
    """Reads step entries by their tables; a routine reader adds the top level."""

    # -- entries: steps and blocks ------------------------------------------------------------

    numbered = 0
    """Steps read so far, as the file counts them: in the order written, a block's steps once
    however many rounds it has."""

    def entries(self, node: SequenceNode, *, clock: bool, depth: int = 0) -> list[Step]:
        """The steps of a `steps:` list, blocks unrolled."""
        if not node.value:
            self.problem(node, "'steps' is empty: add at least one step", "empty-value")
        steps: list[Step] = []
        for item in node.value:
            keys = _keys(item)
            if sk.BLOCK_NAME.name in keys:
                steps += self.block(item, clock=clock, depth=depth + 1)
                continue
            if sk.SECTION_NAME.name in keys:
                steps += self.section(item, clock=clock, depth=depth)
                continue
            self.numbered += 1
            index = self.numbered
            if sk.SAY.name in keys:
                step = self.say_step(item, index)
            elif sk.PAUSE.name in keys and sk.POSE.name not in keys:
                step = self.pause_step(item, index)
            elif sk.REST_ALONE.name in keys and sk.POSE.name not in keys:
                step = self.rest_step(item, index)
            else:
                step = self.pose_step(item, index)
            if step is not None:
                # A rest written on the clock is a period like the rests a block adds: exact,
                # started on the rest tone and counted down.
                timed = clock and step.kind in ("pose", "rest")
                if timed:
                    self.clock_sound(step)
                steps.append(replace(step, clock=timed or step.clock, number=index))
        return steps

    def clock_sound(self, step: Step) -> None:
        """On the clock a step's sound starts each of its work periods, inside the period: it
        must be one whose length is known, and shorter than the period. A sound after its
        announcement lies inside the period before: its length must be known too; each
        repetition starts on the step's `sound`, not on a `rep_sound`."""
        if step.rep_sound is not None:
            self.problem(
                step.rep_sound.loc,
                "on the clock every repetition starts on the step's tone: set 'sound' (the "
                "go tone unless you choose one) rather than 'rep_sound'",
                "conflicting-keys",
            )
        if step.cue_sound is not None and step.cue_sound.path is not None:
            self.problem(
                step.cue_sound.loc,
                "on the clock the sound after an announcement lies inside the period before "
                f"the step: use one of guidecast's sounds ({', '.join(BUILTIN_SOUNDS)}), whose "
                "length is known, so the period keeps its length",
                "bad-value",
            )
        sound = step.sound
        if sound is None or sound.is_none:
            return
        if sound.path is not None:
            self.problem(
                sound.loc,
                "on the clock a step's sound starts each of its periods, inside it: use one of "
                f"guidecast's ({', '.join(BUILTIN_SOUNDS)}), whose length is known, so the "
                "period keeps its length",
                "bad-value",
            )
        elif step.hold is not None and step.hold.min_ms < NOMINAL_SOUND_MS[sound.name] + 1000:
            length = format_duration(NOMINAL_SOUND_MS[sound.name])
            self.problem(
                sound.loc,
                f"'{sound.name}' lasts {length}: too long to start a period of "
                f"{format_duration(step.hold.min_ms)} on the clock; choose a shorter sound",
                "bad-value",
            )

    def cue_sounds_fit(self, steps: tuple[Step, ...], get_ready_ms: int) -> None:
        """On the clock a step's `cue_sound` follows what is said ahead of it in the rest (or
        the get-ready) before it, and ends before that period's countdown: the period must
        hold its tone, the announcement, the sound and the countdown."""
        seen: set[Loc] = set()
        for k, step in enumerate(steps):
            sound = step.cue_sound
            said_ahead = step.clock and step.kind == "pose" and step.flow is None
            if not said_ahead or sound is None or sound.is_none:
                continue  # a flow on the clock is led as paced: its sound follows its cue
            if sound.path is not None or sound.loc in seen:
                continue  # a file is an error of its own; a block's rounds are checked once
            before = steps[k - 1] if k else None
            if before is not None and before.kind == "rest" and before.hold is not None:
                ms, what = before.hold.min_ms, "the rest before the step"
            elif before is None and get_ready_ms:
                ms, what = get_ready_ms, "the get-ready"
            else:
                continue  # after an exercise, or not announced ahead
            need = NOMINAL_SOUND_MS["rest"] + NOMINAL_SOUND_MS[sound.name] + ANNOUNCED_REST_MS
            if ms < need:
                seen.add(sound.loc)
                self.problem(
                    sound.loc,
                    f"'{sound.name}' after the announcement does not fit {what}: it lasts "
                    f"{format_duration(ms)}, and the rest tone, what is said, the sound and "
                    f"the countdown need {format_duration(need)}; lengthen it or leave the "
                    "sound out",
                    "period-too-short",
                )

    def block(self, node: Node, *, clock: bool, depth: int) -> list[Step]:
        """A block of steps repeated `rounds` times, rests between rounds and between steps."""
        found = self.table(node, "block", sk.BLOCK)
        if found is None:
            return []
        if depth > sk.MAX_BLOCK_DEPTH:
            self.problem(node, f"blocks nest at most {sk.MAX_BLOCK_DEPTH} deep", "bad-nesting")
            return []
        self.value(found, sk.BLOCK_NAME)  # the name is for the reader of the routine
        speaker = self.speaker(found)
        rounds = sk.ROUNDS.or_default(self.value(found, sk.ROUNDS))
        rest_ms = self.value(found, sk.ROUND_REST) or 0
        between_ms = self.value(found, sk.BETWEEN) or 0
        timing = self.value(found, sk.BLOCK_TIMING)
        clock = clock if timing is None else timing == "clock"
        steps_node = found.get(sk.BLOCK_STEPS.name)
        if not isinstance(steps_node, SequenceNode):
            if steps_node is not None:
                self.problem(steps_node, "a block's 'steps' must be a list of steps", "wrong-type")
            return []
        body = self.entries(steps_node, clock=clock, depth=depth)
        if not body:
            return []
        bed, level = self.value(found, sk.SPAN_BED), self.value(found, sk.SPAN_BED_LEVEL)
        # A rest the block adds is located on the key that asks for it.
        rest_loc = self.loc(found[sk.ROUND_REST.name]) if rest_ms else self.loc(node)
        between_loc = self.loc(found[sk.BETWEEN.name]) if between_ms else self.loc(node)
        out: list[Step] = []
        for k in range(1, rounds + 1):
            for j, step in enumerate(body):
                first = j == 0
                if rounds > 1:
                    step = replace(step, round=(k, rounds), round_start=first)
                out.append(step)
                last_of_round = j == len(body) - 1
                if between_ms and not last_of_round:
                    out.append(_rest(between_ms, between_loc, _named(body[j + 1]), clock))
            if rest_ms and k < rounds:
                out.append(_rest(rest_ms, rest_loc, _named(body[0]), clock, long=True))
        out = [replace(s, speaker=s.speaker.over(speaker)) for s in out]
        # The block's bed is its steps' (unless they name their own) and its rests'.
        return _with_bed(out, bed, level)

    def section(self, node: Node, *, clock: bool, depth: int) -> list[Step]:
        """`{section: Warm-up, steps: [...]}`: steps grouped under a name in the chapters."""
        found = self.table(node, "section", sk.SECTION)
        if found is None:
            return []
        name = self.value(found, sk.SECTION_NAME)
        at_ms = self.value(found, sk.SECTION_AT)
        pace = self.value(found, PACE)
        speaker = self.speaker(found)
        steps_node = found.get(sk.SECTION_STEPS.name)
        if name is None or not isinstance(steps_node, SequenceNode):
            if steps_node is not None and not isinstance(steps_node, SequenceNode):
                self.problem(
                    steps_node, "a section's 'steps' must be a list of steps", "wrong-type"
                )
            return []
        body = self.entries(steps_node, clock=clock, depth=depth)
        body = _with_bed(body, self.value(found, sk.SPAN_BED), self.value(found, sk.SPAN_BED_LEVEL))
        inner = [s for s in body if s.section is not None]
        if inner:
            self.problem(
                node, "sections do not nest: a section holds steps and blocks", "bad-nesting"
            )
        out = [
            replace(
                step,
                section=name,
                pace=step.pace if step.pace is not None else pace,
                speaker=step.speaker.over(speaker),
            )
            for step in body
        ]
        if out and at_ms is not None:
            out[0] = replace(out[0], starts_at_ms=at_ms)
        return out

    def speaker(self, found: Found) -> Speaker:
        """The `rate`, `voice` and `language` a step, block or section sets (each located)."""
        voice = found.get(SPEAK_VOICE.name)
        language = found.get(SPEAK_LANGUAGE.name)
        return Speaker(
            self.value(found, SPEAK_RATE),
            self.value(found, SPEAK_VOICE),
            self.value(found, SPEAK_LANGUAGE),
            self.loc(voice) if voice is not None else None,
            self.loc(language) if language is not None else None,
        )

    def say_step(self, node: Node, index: int) -> Step | None:
        """Plain speech, for meditation: said as written, with an optional unspoken title."""
        found = self.table(node, f"step {index}", sk.SAY_STEP)
        if found is None:
            return None
        before = len(self.problems)
        said = self.value(found, sk.SAY) or ()
        title = self.value(found, sk.CHAPTER)
        step = Step(
            pose=title or "",
            loc=self.loc(node),
            kind="say",
            say=said,
            chapter=title is not None,
            hold=self.value(found, sk.SAY_HOLD),
            pause_after_ms=self.value(found, sk.SAY_PAUSE_AFTER),
            sound=self.value(found, sk.SAY_SOUND),
            cue_sound=self.value(found, sk.SAY_CUE_SOUND),
            pace=self.value(found, PACE),
            speaker=self.speaker(found),
        )
        return step if len(self.problems) == before else None

    def pause_step(self, node: Node, index: int) -> Step | None:
        """A quiet pause, with an optional chapter title and a bell inside it, at its start."""
        found = self.table(node, f"step {index}", sk.PAUSE_STEP)
        if found is None:
            return None
        before = len(self.problems)
        title = self.value(found, sk.CHAPTER)
        step = Step(
            pose=title or "",
            loc=self.loc(node),
            kind="pause",
            chapter=title is not None,
            hold=self.value(found, sk.PAUSE),
            sound=self.value(found, sk.PAUSE_SOUND),
        )
        bell_ms = NOMINAL_SOUND_MS.get(step.sound.name, 0) if step.sound else 0
        if step.sound and step.hold and step.hold.min_ms < bell_ms:  # a file's: see layout
            self.problem(
                step.sound.loc,
                f"'{step.sound.name}' lasts {format_duration(bell_ms)}: longer than the pause "
                f"it starts ({format_duration(step.hold.min_ms)}); choose a shorter sound or "
                "a longer pause",
                "bad-value",
            )
        return step if len(self.problems) == before and step.hold else None

    def rest_step(self, node: Node, index: int) -> Step | None:
        """`- rest: 10s`: a rest between exercises; it announces what comes next."""
        found = self.table(node, f"step {index}", sk.REST_STEP)
        rest_ms = self.value(found or {}, sk.REST_ALONE)
        if rest_ms is None:
            return None
        loc = self.loc(node)
        return Step(
            pose="Rest", loc=loc, kind="rest", chapter=False, hold=Hold(rest_ms, rest_ms, loc)
        )

    def pose_step(self, node: Node, index: int) -> Step | None:
        what = f"step {index}"
        table = sk.STEP
        found = self.table(node, what, table)
        if found is None:
            return None
        before = len(self.problems)
        pose = self.value(found, sk.POSE)
        hold = self.value(found, sk.HOLD)
        move = self.value(found, sk.MOVE)
        flow = self.value(found, sk.FLOW_KEY, self.flow)
        breathing = self.value(found, sk.BREATHE_KEY, self.breathe)
        kinds = [k for k in table.one_of if k in found]
        if len(kinds) > 1:
            self.problem(
                found[kinds[1]],
                f"{what} has both '{kinds[0]}' and '{kinds[1]}'; keep one",
                "conflicting-keys",
            )
        elif not kinds and not any(misspelt(node, k, table.names) for k in table.one_of):
            self.problem(
                node,
                f"{what} needs a 'hold' (e.g. hold: 1m), a 'flow', a 'move' (free movement) "
                "or 'breathe' (a breathing pattern)",
                "missing-key",
            )
        count_in = self.value(found, COUNT_IN)
        step = Step(
            pose=pose or "",
            loc=self.loc(node),
            sanskrit=self.value(found, sk.SANSKRIT),
            cue=self.value(found, sk.CUE),
            how=self.value(found, sk.HOW) or (),
            why=self.value(found, sk.WHY),
            props=self.value(found, sk.PROPS) or (),
            reminders=self.value(found, sk.REMINDERS) or (),
            hold=hold or move,
            move=move is not None,
            sides=self.value(found, sk.SIDES) or (),
            switch=self.value(found, sk.SWITCH),
            reps=sk.REPS.or_default(self.value(found, sk.REPS)),
            rest_ms=self.value(found, sk.REST) or 0,
            flow=flow,
            breathing=breathing,
            kind="breathe" if breathing is not None else "pose",
            sound=self.value(found, sk.SOUND),
            cue_sound=self.value(found, sk.CUE_SOUND),
            rep_sound=self.value(found, sk.REP_SOUND),
            settle_ms=self.value(found, SETTLE),
            switch_settle_ms=self.value(found, SWITCH_SETTLE),
            pause_after_ms=self.value(found, PAUSE_AFTER),
            guidance=self.value(found, GUIDANCE) or Guidance(),
            time_left_ms=self.value(found, sk.TIME_LEFT) or (),
            side_rest_ms=self.value(found, sk.SIDE_REST) or 0,
            side_cues=self.value(found, sk.SIDE_CUES) or (),
            count_in_ms=count_in[0] if count_in else None,
            count_in_each=bool(count_in and count_in[1]),
            say_name=sk.SAY_NAME.or_default(self.value(found, sk.SAY_NAME)),
            pace=self.value(found, PACE),
            speaker=self.speaker(found),
            bed=self.value(found, sk.SPAN_BED),
            bed_level=self.value(found, sk.SPAN_BED_LEVEL),
        )
        self.across(table, found, given=set(found) - ({sk.SIDES.name} if not step.sides else set()))
        if step.side_cues and {s for s, _ in step.side_cues} != set(step.sides):
            sides = ", ".join(step.sides) or "none"
            self.problem(
                found[sk.SIDE_CUES.name], f"'side_cues' must name each side ({sides})", "bad-value"
            )
        return step if len(self.problems) == before else None

    def across(self, table: Table, found: Found, *, given: set[str]) -> None:
        """The table's rules across keys: a key beside a kind it does not apply to, or
        without the key it needs (`given`: the keys present with a value that counts)."""
        for kind, excluded in table.excludes:
            for name in excluded:
                if kind in found and name in found:
                    message = ONLY_FOR_HOLDS[kind].format(key=name)
                    self.problem(found[name], message, "conflicting-keys")
        for name, needed in table.needs:
            if name in found and needed not in given:
                self.problem(found[name], NEEDS[name], "conflicting-keys")


def _with_bed(steps: list[Step], bed: BedChoice | None, level: float | None) -> list[Step]:
    """A block's or section's bed and level, on each of its steps that names none."""
    if bed is None and level is None:
        return steps
    return [
        replace(
            step,
            bed=step.bed if step.bed is not None else bed,
            bed_level=step.bed_level if step.bed_level is not None else level,
        )
        for step in steps
    ]


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


def _named(step: Step) -> str:
    """The name a rest announces the step by ("" when the step's name is not said)."""
    return step.pose if step.say_name else ""


def announce_next(steps: list[Step]) -> list[Step]:
    """Give every rest the name of the exercise after it, to announce during the rest."""
    out = list(steps)
    for i, step in enumerate(out):
        if step.kind != "rest" or step.next_up:
            continue
        after = next((s for s in out[i + 1 :] if s.kind != "rest" and s.pose), None)
        if after is not None and after.say_name:
            out[i] = replace(step, next_up=after.pose)
    return out
