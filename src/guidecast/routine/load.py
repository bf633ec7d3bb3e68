"""Load a routine: YAML text to a validated `Routine`, reporting every problem with its location."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import yaml
from yaml.nodes import Node, SequenceNode

from ..errors import Loc, RoutineError
from ..model import Defaults, Guidance, Routine, Sounds, Step
from . import keys as k
from .anchors import merge_keys
from .durations import MAX_SESSION_MS, format_duration
from .keys import DEFAULTS, ROUTINE, SOUNDS
from .placeholders import PLACEHOLDERS, placeholders_in, spoken_texts
from .sounds import BUILTIN_BEDS, BUILTIN_SOUNDS
from .steps import StepReader, announce_next
from .yamltext import compose_documents

__all__ = ["BUILTIN_BEDS", "BUILTIN_SOUNDS", "load_routine", "parse_routine"]

log = logging.getLogger(__name__)

MAX_ROUTINE_BYTES = 1 << 20
"""Routines are a few kilobytes; a larger file is almost certainly not one."""


class _RoutineReader(StepReader):
    """Reads the top level of a routine, its `sounds:` and `defaults:`; steps by `StepReader`."""

    def sounds(self, node: Node | None) -> Sounds:
        """The bells the routine names; guidecast's where it names none (located at `node`)."""
        found = (self.table(node, "sounds", SOUNDS) if node is not None else None) or {}
        loc = self.loc(node) if node is not None else Loc(self.path)
        start, transition, end = (
            self.value(found, key) or replace(key.fallback, loc=loc)
            for key in (k.START, k.TRANSITION, k.END)
        )
        return Sounds(start=start, transition=transition, end=end)

    def defaults(self, node: Node) -> Defaults:
        found = self.table(node, "defaults", DEFAULTS) or {}
        countdown = self.value(found, k.COUNTDOWN)
        count_in = self.value(found, k.COUNT_IN)
        bed = self.value(found, k.BED)
        return Defaults(
            narration=self.value(found, k.NARRATION),
            length_ms=self.value(found, k.LENGTH),
            rate=self.value(found, k.RATE),
            countdown_ms=countdown[0] if countdown else None,
            countdown_beeps=True if countdown and countdown[1] else None,
            breath_cues=self.value(found, k.BREATH_CUES),
            settle_ms=self.value(found, k.SETTLE),
            count_in_ms=count_in[0] if count_in else None,
            count_in_each=bool(count_in and count_in[1]),
            switch_settle_ms=self.value(found, k.SWITCH_SETTLE),
            pause_after_ms=self.value(found, k.PAUSE_AFTER),
            guidance=self.value(found, k.GUIDANCE) or Guidance(),
            bed=bed.work if bed else None,
            bed_rest=bed.rest if bed else None,
            bed_level=self.value(found, k.BED_LEVEL_KEY),
            length_loc=self.loc(found[k.LENGTH.name]) if k.LENGTH.name in found else None,
        )

    def placeholders(self, routine: Routine) -> None:
        """A `{name}` in spoken text that is not a computed value guidecast knows."""
        known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        where = [(Loc(self.path), t) for t in (routine.intro, routine.outro, routine.safety) if t]
        where += [(Loc(self.path), t) for t in routine.reminders]
        seen: set[Loc] = set()
        for step in routine.steps:
            if step.loc not in seen:
                seen.add(step.loc)
                where += [(step.loc, t) for t in spoken_texts(step)]
        for loc, text in where:
            for name in placeholders_in(text):
                if name not in PLACEHOLDERS:
                    self.problem(
                        loc,
                        f"'{{{name}}}' is not a value guidecast computes; use {known}",
                        "bad-value",
                    )

    def routine(self, root: Node) -> Routine | None:
        found = self.table(root, "the routine", ROUTINE)
        if found is None:
            return None
        steps: list[Step] = []
        steps_node = found.get(k.STEPS.name)
        timing = k.TIMING.or_default(self.value(found, k.TIMING))
        if isinstance(steps_node, SequenceNode):
            steps = announce_next(self.entries(steps_node, clock=timing == "clock"))
        elif steps_node is not None:
            self.problem(
                steps_node,
                "'steps' must be a list of steps (each line starts with '- ')",
                "wrong-type",
            )
        cover = self.value(found, k.COVER)
        engine = self.value(found, k.ENGINE)
        routine = Routine(
            title=self.value(found, k.TITLE) or "",
            steps=tuple(steps),
            path=self.path,
            description=self.value(found, k.DESCRIPTION) or "",
            author=k.AUTHOR.or_default(self.value(found, k.AUTHOR)),
            series=self.value(found, k.SERIES) or "",
            genre=k.GENRE.or_default(self.value(found, k.GENRE)),
            year=self.value(found, k.YEAR),
            track=self.value(found, k.TRACK),
            language=k.LANGUAGE.or_default(self.value(found, k.LANGUAGE)),
            cover=cover,
            engine=engine,
            voice=self.value(found, k.VOICE),
            props=self.value(found, k.PROPS) or (),
            safety=self.value(found, k.SAFETY),
            intro=self.value(found, k.INTRO),
            outro=self.value(found, k.OUTRO),
            reminders=self.value(found, k.REMINDERS) or (),
            sounds=self.sounds(found.get(k.SOUNDS_KEY.name)),
            defaults=self.value(found, k.DEFAULTS_KEY, self.defaults) or Defaults(),
            pronounce=self.value(found, k.PRONOUNCE) or (),
            get_ready_ms=self.value(found, k.GET_READY) or 0,
            get_ready_loc=self.loc(found[k.GET_READY.name]) if k.GET_READY.name in found else None,
            clock=timing == "clock",
            halfway=self.value(found, k.HALFWAY),
            phrases=self.value(found, k.PHRASES_KEY) or (),
        )
        self.placeholders(routine)
        self.cue_sounds_fit(routine.steps, routine.get_ready_ms)
        if steps_node is not None and not self.problems:
            longest = _longest_ms(routine)
            if longest > MAX_SESSION_MS:
                self.problem(
                    steps_node,
                    f"these steps could run to {format_duration(longest)}; "
                    "guidecast refuses sessions over 12 hours",
                    "session-too-long",
                )
        return routine


def _longest_ms(routine: Routine) -> int:
    """Upper bound on the silence a routine can hold (speech excluded)."""
    total = 0
    for step in routine.steps:
        sides = max(1, len(step.sides))
        if step.flow is not None:
            total += sides * step.flow.breaths * step.flow.breath_ms
        elif step.breathing is not None:
            b = step.breathing
            total += b.cycles * b.cycle_ms + (b.cycles - 1) * b.pause_ms
        elif step.hold is not None:
            total += sides * (step.reps * step.hold.max_ms + (step.reps - 1) * step.rest_ms)
    return total


# -- entry points -----------------------------------------------------------------------------


def parse_routine(source: str, path: str = "<routine>", base: Path | None = None) -> Routine:
    """Parse routine text; raise RoutineError listing every problem."""
    reader = _RoutineReader(path, base or Path.cwd())
    try:
        composed = compose_documents(source)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        loc = Loc(path, mark.line + 1, mark.column + 1) if mark else Loc(path)
        what = " ".join(filter(None, [e.context, e.problem])) or "invalid YAML"
        raise RoutineError.at(loc, f"YAML syntax error: {what}", "yaml-syntax") from e
    except yaml.reader.ReaderError as e:
        before = source[: e.position]
        loc = Loc(path, before.count("\n") + 1, len(before.rsplit("\n", 1)[-1]) + 1)
        code = ord(e.character) if isinstance(e.character, str) else e.character
        raise RoutineError.at(
            loc,
            f"the file contains U+{code:04X}, a character YAML does not allow; remove it",
            "bad-character",
        ) from e
    except yaml.YAMLError as e:
        raise RoutineError.at(Loc(path), f"YAML error: {e}", "yaml-syntax") from e
    except RecursionError:
        raise RoutineError.at(
            Loc(path),
            "the YAML is nested too deeply to be a routine; check its indentation",
            "yaml-syntax",
        ) from None
    documents = [d for d in composed if d is not None]
    if not documents:
        raise RoutineError.at(
            Loc(path), "the file is empty: a routine needs 'title' and 'steps'", "empty-file"
        )
    if len(documents) > 1:
        reader.problem(
            documents[1],
            "one routine per file: remove the second '---' document",
            "multiple-documents",
        )
    for problem in merge_keys(documents[0], path):
        reader.problems.append(problem)
    routine = reader.routine(documents[0])
    if reader.problems or routine is None:
        raise RoutineError(reader.problems)
    return replace(routine, warnings=tuple(sorted(reader.warnings)))


def load_routine(path: Path | str) -> Routine:
    """Read and validate a routine file."""
    p = Path(path)
    shown = str(path)
    try:
        if p.is_dir():
            raise IsADirectoryError
        if p.exists() and not p.is_file():
            raise RoutineError.at(
                Loc(shown), "is not a regular file (a device or a pipe?)", "unreadable"
            )
        with p.open("rb") as f:
            data = f.read(MAX_ROUTINE_BYTES + 1)
    except FileNotFoundError:
        raise RoutineError.at(Loc(shown), "file not found", "unreadable") from None
    except IsADirectoryError:
        raise RoutineError.at(Loc(shown), "is a folder, not a routine file", "unreadable") from None
    except OSError as e:
        raise RoutineError.at(
            Loc(shown), f"cannot read the file: {e.strerror}", "unreadable"
        ) from e
    if len(data) > MAX_ROUTINE_BYTES:
        raise RoutineError.at(
            Loc(shown),
            f"is over {MAX_ROUTINE_BYTES // 1024} KiB: too large for a routine file",
            "unreadable",
        )
    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        before = data[: e.start]
        line = before.count(b"\n") + 1
        col = len(before.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")) + 1
        raise RoutineError.at(
            Loc(shown, line, col),
            f"the file is not UTF-8 text (byte 0x{data[e.start]:02x}); save it as UTF-8",
            "bad-encoding",
        ) from e
    return parse_routine(source, shown, p.parent)
