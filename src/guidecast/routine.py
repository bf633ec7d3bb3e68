"""Load a routine: YAML text to a validated `Routine`, reporting every problem with its location."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml
from yaml.nodes import Node, ScalarNode, SequenceNode

from .durations import MAX_SESSION_MS, format_duration, parse_range
from .errors import Loc, RoutineError
from .model import Defaults, Flow, Hold, Narration, Routine, SoundRef, Sounds, Step
from .yamlfields import (
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
    number,
    text,
    text_list,
    unknown,
)

__all__ = ["BUILTIN_BEDS", "BUILTIN_SOUNDS", "load_routine", "parse_routine"]

log = logging.getLogger(__name__)

BUILTIN_SOUNDS = ("bowl", "chime", "gong", "woodblock")
BUILTIN_BEDS = ("drone", "ocean", "rain", "air")
BED_LEVELS = (-40.0, -6.0)
SOUND_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aiff", ".aif")
DEFAULT_SIDES = ("right", "left")
MAX_COUNTDOWN_MS = 60_000


def countdown(node: Node) -> int:
    ms = duration_or_zero(node)
    if ms > MAX_COUNTDOWN_MS:
        raise Bad(f"a countdown of {format_duration(ms)} is too long: at most 60s")
    return ms


# -- routine structure ------------------------------------------------------------------------

ROUTINE_KEYS = (
    "title", "description", "author", "series", "genre", "year", "track", "language", "cover",
    "engine", "voice", "props", "safety", "sounds", "reminders", "defaults", "intro", "outro",
    "steps",
)  # fmt: skip
STEP_KEYS = (
    "pose", "sanskrit", "cue", "how", "why", "props", "reminders", "hold", "sides", "switch",
    "reps", "rest", "flow", "sound",
)  # fmt: skip
FLOW_KEYS = ("breaths", "cues", "breath")
DEFAULT_KEYS = ("narration", "length", "rate", "countdown", "breath_cues", "bed", "bed_level")
SOUND_KEYS = ("start", "transition", "end")
ENGINES = ("piper", "gtts")


class _RoutineReader(Reader):
    def __init__(self, path: str, base: Path) -> None:
        super().__init__(path)
        self.base = base

    def hold(self, node: Node) -> Hold:
        raw = duration_text(node)
        try:
            low, high = parse_range(raw)
        except ValueError as e:
            raise Bad(str(e)) from None
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
            return SoundRef(name, str(path), loc)
        raise Bad(unknown(f"sound '{name}'", name, (*BUILTIN_SOUNDS, "none")))

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
            from .bed import probe_bed_file  # decoding needs numpy: only for routines with beds

            problem = probe_bed_file(path)
            if problem:
                raise Bad(problem)
            return SoundRef(name, str(path), loc)
        raise Bad(unknown(f"bed '{name}'", name, (*BUILTIN_BEDS, "none")))

    def sides(self, node: Node) -> tuple[str, ...]:
        if isinstance(node, ScalarNode) and node.tag.endswith(":bool"):
            return DEFAULT_SIDES if boolean(node) else ()
        names = text_list(node)
        if len(names) != 2 or names[0].lower() == names[1].lower():
            raise Bad("sides must be true or a list of two different sides, e.g. [right, left]")
        return names

    def sounds(self, node: Node) -> Sounds:
        found = self.mapping(node, "sounds", SOUND_KEYS) or {}
        defaults = {k: SoundRef(v, None, self.loc(node)) for k, v in _DEFAULT_SOUNDS.items()}
        picked = {k: self.field(found, k, self.sound) for k in SOUND_KEYS}
        return Sounds(**{k: picked[k] or defaults[k] for k in SOUND_KEYS})

    def flow(self, node: Node) -> Flow:
        found = self.mapping(node, "flow", FLOW_KEYS, required=("breaths", "cues"))
        if found is None:
            raise Reported
        breaths = self.field(found, "breaths", integer(1, 100))
        cues = self.field(found, "cues", text_list)
        breath_ms = self.field(found, "breath", duration) or 6000
        if breaths is None or cues is None:
            raise Reported
        if breath_ms < 1000 * len(cues):
            self.problem(found["breath"], "a breath this short leaves under 1s for each cue")
        return Flow(breaths, cues, breath_ms, self.loc(node))

    def step(self, node: Node, index: int) -> Step | None:
        what = f"step {index}"
        found = self.mapping(node, what, STEP_KEYS, required=("pose",))
        if found is None:
            return None
        before = len(self.problems)
        pose = self.field(found, "pose", text)
        hold = self.field(found, "hold", self.hold)
        flow = self.field(found, "flow", self.flow)
        reps = self.field(found, "reps", integer(1, 100)) or 1
        rest_ms = self.field(found, "rest", duration) or 0
        if "hold" in found and "flow" in found:
            self.problem(found["flow"], f"{what} has both 'hold' and 'flow'; keep one")
        elif "hold" not in found and "flow" not in found and not misspelt(node, "hold"):
            self.problem(node, f"{what} needs a 'hold' (e.g. hold: 1m) or a 'flow'")
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
            hold=hold,
            sides=self.field(found, "sides", self.sides) or (),
            switch=self.field(found, "switch", text),
            reps=reps,
            rest_ms=rest_ms,
            flow=flow,
            sound=self.field(found, "sound", self.sound),
        )
        return step if len(self.problems) == before else None

    def defaults(self, node: Node) -> Defaults:
        found = self.mapping(node, "defaults", DEFAULT_KEYS) or {}
        return Defaults(
            narration=self.field(found, "narration", _narration),
            length_ms=self.field(found, "length", duration),
            rate=self.field(found, "rate", number(0.5, 2.0)),
            countdown_ms=self.field(found, "countdown", countdown),
            breath_cues=self.field(found, "breath_cues", boolean),
            bed=self.field(found, "bed", self.bed),
            bed_level=self.field(found, "bed_level", number(*BED_LEVELS)),
        )

    def routine(self, root: Node) -> Routine | None:
        found = self.mapping(root, "the routine", ROUTINE_KEYS, required=("title", "steps"))
        if found is None:
            return None
        steps: list[Step] = []
        steps_node = found.get("steps")
        if isinstance(steps_node, SequenceNode):
            if not steps_node.value:
                self.problem(steps_node, "'steps' is empty: add at least one step")
            for i, item in enumerate(steps_node.value, start=1):
                step = self.step(item, i)
                if step is not None:
                    steps.append(step)
        elif steps_node is not None:
            self.problem(steps_node, "'steps' must be a list of steps (each line starts with '- ')")
        cover = self.field(found, "cover", self.cover)
        engine = self.field(found, "engine", choice("engine", ENGINES))
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
            language=self.field(found, "language", text) or "en",
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

    def cover(self, node: Node) -> str:
        name = text(node)
        path = (self.base / name).resolve()
        if not path.is_file():
            raise Bad(f"cover image '{name}' not found (looked at {path})")
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            raise Bad(f"cover image '{name}' must be a JPEG or PNG file")
        return str(path)


_DEFAULT_SOUNDS = {"start": "bowl", "transition": "chime", "end": "bowl"}


def _default_sounds(reader: Reader) -> Sounds:
    loc = Loc(reader.path)
    return Sounds(**{k: SoundRef(v, None, loc) for k, v in _DEFAULT_SOUNDS.items()})


def _narration(node: Node) -> Narration:
    return Narration(choice("narration level", tuple(n.value for n in Narration))(node))


def _longest_ms(routine: Routine) -> int:
    """Upper bound on the silence a routine can hold (speech excluded)."""
    total = 0
    for step in routine.steps:
        sides = max(1, len(step.sides))
        if step.flow is not None:
            total += sides * step.flow.breaths * step.flow.breath_ms
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
        raise RoutineError.at(loc, f"YAML syntax error: {what}") from None
    except yaml.reader.ReaderError as e:
        before = source[: e.position]
        loc = Loc(path, before.count("\n") + 1, len(before.rsplit("\n", 1)[-1]) + 1)
        code = ord(e.character) if isinstance(e.character, str) else e.character
        raise RoutineError.at(
            loc, f"the file contains U+{code:04X}, a character YAML does not allow; remove it"
        ) from None
    except yaml.YAMLError as e:
        raise RoutineError.at(Loc(path), f"YAML error: {e}") from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise RoutineError.at(Loc(path), "the file is empty: a routine needs 'title' and 'steps'")
    if len(documents) > 1:
        reader.problem(documents[1], "one routine per file: remove the second '---' document")
    routine = reader.routine(documents[0])
    if reader.problems or routine is None:
        raise RoutineError(reader.problems)
    return routine


def load_routine(path: Path | str) -> Routine:
    """Read and validate a routine file."""
    p = Path(path)
    shown = str(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise RoutineError.at(Loc(shown), "file not found") from None
    except IsADirectoryError:
        raise RoutineError.at(Loc(shown), "is a folder, not a routine file") from None
    except OSError as e:
        raise RoutineError.at(Loc(shown), f"cannot read the file: {e.strerror}") from None
    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        before = data[: e.start]
        line = before.count(b"\n") + 1
        col = len(before.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")) + 1
        raise RoutineError.at(
            Loc(shown, line, col),
            f"the file is not UTF-8 text (byte 0x{data[e.start]:02x}); save it as UTF-8",
        ) from None
    return parse_routine(source, shown, p.parent)
