"""Load a routine: YAML text to a validated `Routine`, reporting every problem with its location."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .durations import MAX_SESSION_MS, format_duration, parse_duration, parse_range
from .errors import Loc, Problem, RoutineError
from .model import Defaults, Flow, Hold, Narration, Routine, SoundRef, Sounds, Step

__all__ = ["BUILTIN_SOUNDS", "load_routine", "parse_routine"]

log = logging.getLogger(__name__)

BUILTIN_SOUNDS = ("bowl", "chime", "gong", "woodblock")
SOUND_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aiff", ".aif")
DEFAULT_SIDES = ("right", "left")
T = TypeVar("T")


class _Reader:
    """Walks the YAML node tree, collecting problems instead of stopping at the first."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def loc(self, node: Node) -> Loc:
        return Loc(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def problem(self, node: Node | Loc, message: str) -> None:
        loc = node if isinstance(node, Loc) else self.loc(node)
        self.problems.append(Problem(loc, message))

    def mapping(
        self, node: Node, what: str, keys: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Node] | None:
        """Return a mapping's value nodes by key, reporting unknown, duplicate and missing keys."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping of keys to values")
            return None
        found: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self.problem(key_node, f"{what} keys must be plain names")
            elif key in found:
                self.problem(key_node, f"duplicate key '{key}' in {what}")
            elif key not in keys:
                self.problem(key_node, _unknown(f"key '{key}' in {what}", key, keys))
            else:
                found[key] = value_node
        for key in required:
            if key not in found and not _misspelt(node, key):
                self.problem(node, f"{what} is missing '{key}'")
        return found

    def field(self, found: dict[str, Node], key: str, parse: Callable[[Node], T]) -> T | None:
        """Parse one optional value; a problem leaves it None."""
        node = found.get(key)
        if node is None:
            return None
        try:
            return parse(node)
        except _Reported:
            return None
        except _Bad as bad:
            self.problem(node, bad.message)
            return None


class _Bad(Exception):
    """A value is wrong; the message says how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Reported(Exception):
    """A value is wrong and its problems are already recorded."""


def _misspelt(node: Node, key: str) -> bool:
    """Whether a mapping has another key close to `key`: reported once, as a misspelling."""
    if not isinstance(node, MappingNode):
        return False
    names = [k.value for k, _ in node.value if isinstance(k, ScalarNode)]
    return any(n != key and difflib.get_close_matches(n, (key,), cutoff=0.6) for n in names)


def _unknown(what: str, word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f" (expected one of: {', '.join(choices)})"
    return f"unknown {what}{hint}"


# -- scalar parsers ---------------------------------------------------------------------------


def _scalar(node: Node, expected: str) -> ScalarNode:
    if not isinstance(node, ScalarNode):
        kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
        raise _Bad(f"expected {expected}, found {kind}")
    return node


def text(node: Node) -> str:
    """Any scalar as the text written: `no` stays the word "no" (YAML 1.1 would say False)."""
    scalar = _scalar(node, "text")
    value = str(scalar.value).strip()
    if not value or (scalar.tag.endswith(":null") and scalar.style is None):
        raise _Bad("expected text, found nothing")
    return " ".join(value.split())


def text_list(node: Node) -> tuple[str, ...]:
    """A list of text, or one text as a list of one."""
    if isinstance(node, SequenceNode):
        if not node.value:
            raise _Bad("the list is empty")
        return tuple(text(item) for item in node.value)
    return (text(node),)


def integer(low: int, high: int) -> Callable[[Node], int]:
    def parse(node: Node) -> int:
        raw = _scalar(node, "a whole number").value
        if node.tag.endswith(":int") and ":" in raw:
            raise _Bad(f"'{raw}' reads as a YAML 1.1 sexagesimal number; write a plain number")
        if not node.tag.endswith(":int") or not raw.lstrip("+-").isdigit():
            raise _Bad(f"expected a whole number, found '{raw}'")
        value = int(raw)
        if not low <= value <= high:
            raise _Bad(f"{value} is out of range: expected {low} to {high}")
        return value

    return parse


def number(low: float, high: float) -> Callable[[Node], float]:
    def parse(node: Node) -> float:
        raw = _scalar(node, "a number").value
        try:
            if ":" in raw:
                raise ValueError
            value = float(raw)
        except ValueError:
            raise _Bad(f"expected a number, found '{raw}'") from None
        if not low <= value <= high:
            raise _Bad(f"{raw} is out of range: expected {low} to {high}")
        return value

    return parse


def boolean(node: Node) -> bool:
    raw = str(_scalar(node, "true or false").value)
    if raw.lower() in ("true", "false") and node.tag.endswith(":bool"):
        return raw.lower() == "true"
    if raw.lower() in ("yes", "no", "on", "off", "y", "n"):
        raise _Bad(
            f"write true or false, not '{raw}' (YAML readers disagree on what '{raw}' means)"
        )
    raise _Bad(f"expected true or false, found '{raw}'")


def _duration_text(node: Node) -> str:
    raw = str(_scalar(node, "a duration").value).strip()
    if node.tag.endswith((":int", ":float")) and ":" in raw:
        # 1:30 means 1m30s, 1:02:03 means 1h2m3s
        parts = raw.split(":")
        if len(parts) > 3:
            raise _Bad(f"'{raw}' reads as a YAML 1.1 sexagesimal number; write e.g. 1h2m3s")
        pairs = list(zip(parts, ("h", "m", "s")[-len(parts) :], strict=True))
        said = " ".join(f"{n} {'min' if u == 'm' else u}" for n, u in pairs)
        meant = "".join(f"{n}{u}" for n, u in pairs)
        raise _Bad(f"'{raw}' reads as a YAML 1.1 sexagesimal number, not {said}; write {meant}")
    if not raw:
        raise _Bad("expected a duration, found nothing")
    return raw


def _check_span(ms: int, raw: str, *, zero_ok: bool = False) -> int:
    if ms <= 0 and not (zero_ok and ms == 0):
        raise _Bad(f"'{raw}' is {'negative' if ms < 0 else 'zero'}: a duration must be positive")
    if ms > MAX_SESSION_MS:
        raise _Bad(f"'{raw}' is longer than 12 hours; guidecast refuses sessions that long")
    return ms


def duration(node: Node) -> int:
    raw = _duration_text(node)
    try:
        return _check_span(parse_duration(raw), raw)
    except ValueError as e:
        raise _Bad(str(e)) from None


def duration_or_zero(node: Node) -> int:
    raw = _duration_text(node)
    try:
        return _check_span(parse_duration(raw), raw, zero_ok=True)
    except ValueError as e:
        raise _Bad(str(e)) from None


MAX_COUNTDOWN_MS = 60_000


def countdown(node: Node) -> int:
    ms = duration_or_zero(node)
    if ms > MAX_COUNTDOWN_MS:
        raise _Bad(f"a countdown of {format_duration(ms)} is too long: at most 60s")
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
DEFAULT_KEYS = ("narration", "length", "rate", "countdown", "breath_cues")
SOUND_KEYS = ("start", "transition", "end")
ENGINES = ("piper", "gtts")


class _RoutineReader(_Reader):
    def __init__(self, path: str, base: Path) -> None:
        super().__init__(path)
        self.base = base

    def hold(self, node: Node) -> Hold:
        raw = _duration_text(node)
        try:
            low, high = parse_range(raw)
        except ValueError as e:
            raise _Bad(str(e)) from None
        if low <= 0 and "-" in raw:
            raise _Bad(f"the shortest hold in '{raw}' is zero: a range must start above 0")
        _check_span(low, raw)
        _check_span(high, raw)
        if low > high:
            raise _Bad(
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
                raise _Bad(f"sound file '{name}' must be one of: {', '.join(SOUND_SUFFIXES)}")
            if not path.is_file():
                raise _Bad(f"sound file '{name}' not found (looked at {path})")
            return SoundRef(name, str(path), loc)
        raise _Bad(_unknown(f"sound '{name}'", name, (*BUILTIN_SOUNDS, "none")))

    def sides(self, node: Node) -> tuple[str, ...]:
        if isinstance(node, ScalarNode) and node.tag.endswith(":bool"):
            return DEFAULT_SIDES if boolean(node) else ()
        names = text_list(node)
        if len(names) != 2 or names[0].lower() == names[1].lower():
            raise _Bad("sides must be true or a list of two different sides, e.g. [right, left]")
        return names

    def sounds(self, node: Node) -> Sounds:
        found = self.mapping(node, "sounds", SOUND_KEYS) or {}
        defaults = {k: SoundRef(v, None, self.loc(node)) for k, v in _DEFAULT_SOUNDS.items()}
        picked = {k: self.field(found, k, self.sound) for k in SOUND_KEYS}
        return Sounds(**{k: picked[k] or defaults[k] for k in SOUND_KEYS})

    def flow(self, node: Node) -> Flow:
        found = self.mapping(node, "flow", FLOW_KEYS, required=("breaths", "cues"))
        if found is None:
            raise _Reported
        breaths = self.field(found, "breaths", integer(1, 100))
        cues = self.field(found, "cues", text_list)
        breath_ms = self.field(found, "breath", duration) or 6000
        if breaths is None or cues is None:
            raise _Reported
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
        elif "hold" not in found and "flow" not in found and not _misspelt(node, "hold"):
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
        engine = self.field(found, "engine", _choice("engine", ENGINES))
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
            raise _Bad(f"cover image '{name}' not found (looked at {path})")
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            raise _Bad(f"cover image '{name}' must be a JPEG or PNG file")
        return str(path)


_DEFAULT_SOUNDS = {"start": "bowl", "transition": "chime", "end": "bowl"}


def _default_sounds(reader: _Reader) -> Sounds:
    loc = Loc(reader.path)
    return Sounds(**{k: SoundRef(v, None, loc) for k, v in _DEFAULT_SOUNDS.items()})


def _narration(node: Node) -> Narration:
    return Narration(_choice("narration level", tuple(n.value for n in Narration))(node))


def _choice(what: str, choices: tuple[str, ...]) -> Callable[[Node], str]:
    def parse(node: Node) -> str:
        value: str = text(node)
        if value not in choices:
            raise _Bad(_unknown(f"{what} '{value}'", value, choices))
        return value

    return parse


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
