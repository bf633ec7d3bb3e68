"""Load a routine: YAML text to a validated `Routine`, reporting every problem with its location."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Loc, Problem, RoutineError
from ..lang.i18n import known_language, language_problem
from ..model import (
    Defaults,
    Guidance,
    Narration,
    Pronunciation,
    Routine,
    SoundRef,
    Sounds,
    Step,
)
from .durations import MAX_SESSION_MS, format_duration
from .fields import (
    Bad,
    Reader,
    boolean,
    choice,
    duration,
    duration_or_zero,
    integer,
    number,
    text,
    text_list,
    unknown,
)
from .pronounce import check_pronunciation, check_word
from .steps import (
    BUILTIN_SOUNDS,
    SOUND_SUFFIXES,
    TIMINGS,
    StepReader,
    announce_next,
    guidance,
    pause,
    settle,
)

__all__ = ["BUILTIN_BEDS", "BUILTIN_SOUNDS", "load_routine", "parse_routine"]

log = logging.getLogger(__name__)

BUILTIN_BEDS = ("drone", "ocean", "rain", "air")
BED_LEVELS = (-40.0, -6.0)
MAX_COUNTDOWN_MS = 60_000
MAX_ROUTINE_BYTES = 1 << 20
"""Routines are a few kilobytes; a larger file is almost certainly not one."""


def countdown(node: Node) -> int:
    ms = duration_or_zero(node)
    if ms > MAX_COUNTDOWN_MS:
        raise Bad(f"a countdown of {format_duration(ms)} is too long: at most 60s")
    return ms


# -- routine structure ------------------------------------------------------------------------

ROUTINE_KEYS = (
    "title", "description", "author", "series", "genre", "year", "track", "language", "cover",
    "engine", "voice", "props", "safety", "sounds", "reminders", "defaults", "intro", "outro",
    "pronounce", "timing", "get_ready", "halfway", "steps",
)  # fmt: skip
DEFAULT_KEYS = (
    "narration", "length", "rate", "countdown", "breath_cues", "settle", "switch_settle",
    "pause_after", "guidance", "bed", "bed_level",
)  # fmt: skip
SOUND_KEYS = ("start", "transition", "end")
ROUTINE_ENGINES = ("piper", "gtts")
"""Engines a routine may name (the fake one is for tests, on the command line only)."""


class _RoutineReader(StepReader):
    def bed(self, node: Node) -> SoundRef:
        """A built-in bed, `none`, or a sound file that decodes to some sound."""
        name = text(node)
        loc = self.loc(node)
        if name.lower() == "none":
            return SoundRef("", None, loc)
        if name in BUILTIN_BEDS:
            return SoundRef(name, None, loc)
        if "/" in name or "\\" in name or name.lower().endswith(SOUND_SUFFIXES):
            path = (self.base / name).resolve()
            if not name.lower().endswith(SOUND_SUFFIXES):
                raise Bad(f"bed file '{name}' must be one of: {', '.join(SOUND_SUFFIXES)}")
            if not path.is_file():
                raise Bad(f"bed file '{name}' not found (looked at {path})")
            from ..media.beds import (
                probe_bed_file,  # decoding needs numpy: only for routines with beds
            )

            problem = probe_bed_file(path)
            if problem:
                raise Bad(problem)
            return SoundRef(name, str(path), loc)
        raise Bad(unknown(f"bed '{name}'", name, (*BUILTIN_BEDS, "none")))

    def sounds(self, node: Node) -> Sounds:
        found = self.mapping(node, "sounds", SOUND_KEYS) or {}
        defaults = {k: SoundRef(v, None, self.loc(node)) for k, v in _DEFAULT_SOUNDS.items()}
        picked = {k: self.field(found, k, self.sound) for k in SOUND_KEYS}
        return Sounds(**{k: picked[k] or defaults[k] for k in SOUND_KEYS})

    def defaults(self, node: Node) -> Defaults:
        found = self.mapping(node, "defaults", DEFAULT_KEYS) or {}
        return Defaults(
            narration=self.field(found, "narration", _narration),
            length_ms=self.field(found, "length", duration),
            rate=self.field(found, "rate", number(0.5, 2.0)),
            countdown_ms=self.field(found, "countdown", countdown),
            breath_cues=self.field(found, "breath_cues", boolean),
            settle_ms=self.field(found, "settle", settle),
            switch_settle_ms=self.field(found, "switch_settle", settle),
            pause_after_ms=self.field(found, "pause_after", pause),
            guidance=self.field(found, "guidance", guidance) or Guidance(),
            bed=self.field(found, "bed", self.bed),
            bed_level=self.field(found, "bed_level", number(*BED_LEVELS)),
        )

    def routine(self, root: Node) -> Routine | None:
        found = self.mapping(root, "the routine", ROUTINE_KEYS, required=("title", "steps"))
        if found is None:
            return None
        steps: list[Step] = []
        steps_node = found.get("steps")
        timing = self.field(found, "timing", choice("timing", TIMINGS))
        if isinstance(steps_node, SequenceNode):
            steps = announce_next(self.entries(steps_node, clock=timing == "clock"))
        elif steps_node is not None:
            self.problem(steps_node, "'steps' must be a list of steps (each line starts with '- ')")
        cover = self.field(found, "cover", self.cover)
        engine = self.field(found, "engine", choice("engine", ROUTINE_ENGINES))
        routine = Routine(
            title=self.field(found, "title", text) or "",
            steps=tuple(steps),
            path=self.path,
            description=self.field(found, "description", text) or "",
            author=self.field(found, "author", text) or "guidecast",
            series=self.field(found, "series", text) or "",
            genre=self.field(found, "genre", text) or "Health & Fitness",
            year=self.field(found, "year", integer(1900, 2999)),
            track=self.field(found, "track", integer(1, 9999)),
            language=self.field(found, "language", self.language) or "en",
            cover=cover,
            engine=engine,
            voice=self.field(found, "voice", text),
            props=self.field(found, "props", text_list) or (),
            safety=self.field(found, "safety", text),
            intro=self.field(found, "intro", text),
            outro=self.field(found, "outro", text),
            reminders=self.field(found, "reminders", text_list) or (),
            sounds=self.sounds(found["sounds"]) if "sounds" in found else _default_sounds(self),
            defaults=self.defaults(found["defaults"]) if "defaults" in found else Defaults(),
            pronounce=self.pronounce(found["pronounce"]) if "pronounce" in found else (),
            get_ready_ms=self.field(found, "get_ready", duration) or 0,
            clock=timing == "clock",
            halfway=self.field(found, "halfway", _halfway),
        )
        if steps_node is not None and not self.problems:
            longest = _longest_ms(routine)
            if longest > MAX_SESSION_MS:
                self.problem(
                    steps_node,
                    f"these steps could run to {format_duration(longest)}; "
                    "guidecast refuses sessions over 12 hours",
                )
        return routine

    def language(self, node: Node) -> str:
        """A language tag: unknown is an error; one guidecast has no phrases in, a warning."""
        tag = text(node)
        if not known_language(tag):
            raise Bad(language_problem(tag) or f"unknown language {tag!r}")
        problem = language_problem(tag)
        if problem:
            self.warnings.append(
                Problem(self.loc(node), f"warning: {problem}; its phrases are said in English")
            )
        return tag

    def pronounce(self, node: Node) -> tuple[Pronunciation, ...]:
        """`pronounce: {Savasana: shuh-VAH-suh-nuh, Om: "[[ˈoʊm]]"}`, each entry checked."""
        if not isinstance(node, MappingNode):
            self.problem(node, "pronounce must be a mapping of words to how to say them")
            return ()
        out: list[Pronunciation] = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            try:
                word = text(key_node)
                say = text(value_node)
            except Bad as bad:
                self.problem(key_node, f"pronounce: {bad.message}")
                continue
            entry = Pronunciation(word, say, self.loc(value_node))
            word_problem = check_word(word)
            if word.lower() in seen:
                word_problem = f"'{word}' is given twice in pronounce"
            seen.add(word.lower())
            say_problem = check_pronunciation(entry)
            if word_problem:
                self.problem(key_node, word_problem)
            elif say_problem:
                self.problem(value_node, say_problem)
            else:
                out.append(entry)
        return tuple(out)

    def cover(self, node: Node) -> str:
        name = text(node)
        path = (self.base / name).resolve()
        if not path.is_file():
            raise Bad(f"cover image '{name}' not found (looked at {path})")
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            raise Bad(f"cover image '{name}' must be a JPEG or PNG file")
        from ..media.cover import cover_problem  # Pillow loads only for routines with a cover

        problem = cover_problem(path)
        if problem:
            raise Bad(f"cover image '{name}' {problem}")
        return str(path)


_DEFAULT_SOUNDS = {"start": "bowl", "transition": "chime", "end": "bowl"}


def _default_sounds(reader: Reader) -> Sounds:
    loc = Loc(reader.path)
    return Sounds(**{k: SoundRef(v, None, loc) for k, v in _DEFAULT_SOUNDS.items()})


HALFWAY = "You are halfway through the session."


def _halfway(node: Node) -> str | None:
    """`halfway: true` (our words), `false`, or the words to say."""
    if isinstance(node, ScalarNode) and node.tag.endswith(":bool"):
        return HALFWAY if boolean(node) else None
    return text(node)


def _narration(node: Node) -> Narration:
    return Narration(choice("narration level", tuple(n.value for n in Narration))(node))


def _longest_ms(routine: Routine) -> int:
    """Upper bound on the silence a routine can hold (speech excluded)."""
    total = 0
    for step in routine.steps:
        sides = max(1, len(step.sides))
        if step.flow is not None:
            total += sides * step.flow.breaths * step.flow.breath_ms
        elif step.breathing is not None:
            total += step.breathing.cycles * step.breathing.cycle_ms
        elif step.hold is not None:
            total += sides * (step.reps * step.hold.max_ms + (step.reps - 1) * step.rest_ms)
    return total


# -- entry points -----------------------------------------------------------------------------


def parse_routine(source: str, path: str = "<routine>", base: Path | None = None) -> Routine:
    """Parse routine text; raise RoutineError listing every problem."""
    reader = _RoutineReader(path, base or Path.cwd())
    try:
        documents = list(yaml.compose_all(source, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        loc = Loc(path, mark.line + 1, mark.column + 1) if mark else Loc(path)
        what = " ".join(filter(None, [e.context, e.problem])) or "invalid YAML"
        raise RoutineError.at(loc, f"YAML syntax error: {what}") from e
    except yaml.reader.ReaderError as e:
        before = source[: e.position]
        loc = Loc(path, before.count("\n") + 1, len(before.rsplit("\n", 1)[-1]) + 1)
        code = ord(e.character) if isinstance(e.character, str) else e.character
        raise RoutineError.at(
            loc, f"the file contains U+{code:04X}, a character YAML does not allow; remove it"
        ) from e
    except yaml.YAMLError as e:
        raise RoutineError.at(Loc(path), f"YAML error: {e}") from e
    except RecursionError:
        raise RoutineError.at(
            Loc(path), "the YAML is nested too deeply to be a routine; check its indentation"
        ) from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise RoutineError.at(Loc(path), "the file is empty: a routine needs 'title' and 'steps'")
    if len(documents) > 1:
        reader.problem(documents[1], "one routine per file: remove the second '---' document")
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
            raise RoutineError.at(Loc(shown), "is not a regular file (a device or a pipe?)")
        with p.open("rb") as f:
            data = f.read(MAX_ROUTINE_BYTES + 1)
    except FileNotFoundError:
        raise RoutineError.at(Loc(shown), "file not found") from None
    except IsADirectoryError:
        raise RoutineError.at(Loc(shown), "is a folder, not a routine file") from None
    except OSError as e:
        raise RoutineError.at(Loc(shown), f"cannot read the file: {e.strerror}") from e
    if len(data) > MAX_ROUTINE_BYTES:
        raise RoutineError.at(
            Loc(shown), f"is over {MAX_ROUTINE_BYTES // 1024} KiB: too large for a routine file"
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
        ) from e
    return parse_routine(source, shown, p.parent)
