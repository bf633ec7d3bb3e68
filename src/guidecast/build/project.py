"""A catalog's project file (`guidecast.yaml`): its routines and the variants to build of each.

Read like a routine: the YAML is composed into nodes, every value is checked with the same
parsers, and every problem is reported as `file:line:col: message` (a `RoutineError`).
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Loc, RoutineError
from ..model import Narration
from ..routine.fields import Bad, Reader, choice, duration, number, text
from ..routine.load import MAX_ROUTINE_BYTES
from ..routine.sounds import SoundError, bed_ref

__all__ = ["PROJECT_FILE", "VARIANT_KEYS", "Project", "find_project", "load_project"]

PROJECT_FILE = "guidecast.yaml"
T = TypeVar("T")

PROJECT_KEYS = (
    "title",
    "description",
    "author",
    "email",
    "base_url",
    "routines",
    "variants",
    "output",
    "engine",
    "bitrate",
)
VARIANT_KEYS = ("narration", "length", "rate", "bed", "voice")
"""The dimensions of the matrix: every combination of their lists is one variant."""
_FIELDS = {
    "narration": "narration",
    "length": "length_ms",
    "rate": "rate",
    "bed": "bed",
    "voice": "voice",
}
ENGINES = ("piper", "gtts", "fake")
BITRATES = ("32", "48", "64", "96", "128")
RATES = (0.5, 2.0)


@dataclass(frozen=True)
class Project:
    """A catalog: what to build, from which routines, and where it goes."""

    path: Path
    title: str
    routines: tuple[Path, ...]
    """The routine files the globs found, sorted, each once."""
    output: Path
    description: str = ""
    author: str = ""
    email: str = ""
    base_url: str = ""
    """Where the site is published; the feeds need it (absolute enclosure URLs)."""
    engine: str = "piper"
    bitrate: int = 64
    narration: tuple[Narration | None, ...] = (None,)
    """None: the routine's own default (a dimension the project does not list)."""
    length_ms: tuple[int | str | None, ...] = (None,)
    """A target in ms, None for the routine as written, or `shortest` / `longest`: every
    ranged hold at its least or its most, whatever length that makes."""
    rate: tuple[float | None, ...] = (None,)
    bed: tuple[str | None, ...] = (None,)
    """A built-in bed, `none`, or an absolute path to a sound file."""
    voice: tuple[str | None, ...] = (None,)
    listed: tuple[str, ...] = ()
    """The dimensions the project lists: they name the variants' files."""


def find_project(where: Path) -> Path:
    """The project file: `where` itself, or `guidecast.yaml` inside a folder."""
    return where / PROJECT_FILE if where.is_dir() else where


def load_project(path: Path) -> Project:
    """Read and check a project file; raise RoutineError listing every problem."""
    shown = str(path)
    try:
        data = path.read_bytes()[: MAX_ROUTINE_BYTES + 1]
    except FileNotFoundError:
        raise RoutineError.at(
            Loc(shown), f"no project file here; write a {PROJECT_FILE} (see docs/catalog.md)"
        ) from None
    except OSError as e:
        raise RoutineError.at(Loc(shown), f"cannot read the project file: {e.strerror}") from e
    try:
        root = yaml.compose(data.decode("utf-8-sig"), Loader=yaml.SafeLoader)
    except UnicodeDecodeError:
        raise RoutineError.at(Loc(shown), "the file is not UTF-8 text; save it as UTF-8") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        loc = Loc(shown, mark.line + 1, mark.column + 1) if mark else Loc(shown)
        what = " ".join(filter(None, [e.context, e.problem])) or "invalid YAML"
        raise RoutineError.at(loc, f"YAML syntax error: {what}") from e
    except yaml.YAMLError as e:
        raise RoutineError.at(Loc(shown), f"YAML error: {e}") from e
    if root is None:
        raise RoutineError.at(
            Loc(shown), "the file is empty: a project needs 'title' and 'routines'"
        )
    reader = _ProjectReader(shown, path.parent)
    project = reader.project(root)
    if reader.problems or project is None:
        raise RoutineError(reader.problems)
    return project


class _ProjectReader(Reader):
    def __init__(self, path: str, base: Path) -> None:
        super().__init__(path)
        self.base = base

    def project(self, node: Node) -> Project | None:
        found = self.mapping(node, "the project", PROJECT_KEYS, required=("title", "routines"))
        if found is None:
            return None
        title = self.field(found, "title", text)
        routines = self.routines(found["routines"]) if "routines" in found else ()
        matrix = self.variants(found["variants"]) if "variants" in found else {}
        base_url = self.field(found, "base_url", text) or ""
        if base_url and not base_url.startswith(("http://", "https://")):
            self.problem(
                found["base_url"], "base_url must be an absolute http(s) address", "bad-value"
            )
        output = self.field(found, "output", text) or "site"
        bitrate = self.field(found, "bitrate", _bitrate)
        if title is None:
            return None
        return Project(
            path=self.base / Path(self.path).name,
            title=title,
            routines=routines,
            output=(self.base / output).resolve(),
            description=self.field(found, "description", text) or "",
            author=self.field(found, "author", text) or "",
            email=self.field(found, "email", text) or "",
            base_url=base_url,
            engine=self.field(found, "engine", choice("engine", ENGINES)) or "piper",
            bitrate=int(bitrate or 64),
            listed=tuple(k for k in VARIANT_KEYS if _FIELDS[k] in matrix),
            **matrix,  # type: ignore[arg-type]
        )

    def routines(self, node: Node) -> tuple[Path, ...]:
        """The files the globs match, relative to the project file; a glob matching nothing is
        a problem (a typo would silently drop a routine)."""
        patterns = self.each(node, text)
        found: dict[Path, None] = {}
        for pattern_node, pattern in patterns:
            matches = sorted(glob.glob(str(self.base / pattern), recursive=True))
            files = [Path(m).resolve() for m in matches if Path(m).is_file()]
            if not files:
                self.problem(pattern_node, f"'{pattern}' matches no routine file", "bad-file")
            found.update(dict.fromkeys(files))
        return tuple(found)

    def variants(self, node: Node) -> dict[str, tuple[object, ...]]:
        found = self.mapping(node, "variants", VARIANT_KEYS)
        if found is None:
            return {}
        parsers: dict[str, Callable[[Node], object]] = {
            "narration": _narration,
            "length": _length,
            "rate": number(*RATES),
            "bed": self.bed,
            "voice": text,
        }
        matrix: dict[str, tuple[object, ...]] = {}
        for key, value in found.items():
            field, parse = _FIELDS[key], parsers[key]
            values = [v for _, v in self.each(value, parse)]
            if len(set(values)) != len(values):
                self.problem(value, f"variants '{key}' lists a value twice", "bad-value")
            matrix[field] = tuple(dict.fromkeys(values)) or (None,)
        return matrix

    def bed(self, node: Node) -> str:
        """A bed as `--bed` takes it (the one resolver), kept as `none`, a name or a path."""
        try:
            ref = bed_ref(text(node), base=self.base, loc=self.loc(node))
        except SoundError as e:
            raise Bad(str(e), e.rule) from None
        return ref.path or ref.name or "none"

    def each(self, node: Node, parse: Callable[[Node], T]) -> list[tuple[Node, T]]:
        """A list's values (a single value is a list of one), each parsed and located."""
        items = node.value if isinstance(node, SequenceNode) else [node]
        if isinstance(node, MappingNode) or not items:
            self.problem(node, "expected a list of values", "wrong-type")
            return []
        out: list[tuple[Node, T]] = []
        for item in items:
            try:
                out.append((item, parse(item)))
            except Bad as bad:
                self.problem(item, bad.message, bad.rule)
        return out


def _narration(node: Node) -> Narration:
    return Narration(choice("narration", tuple(n.value for n in Narration))(node))


LENGTH_WORDS = ("natural", "shortest", "longest")


def _length(node: Node) -> int | str | None:
    word = str(node.value).strip().lower() if isinstance(node, ScalarNode) else ""
    if word in LENGTH_WORDS:
        return None if word == "natural" else word
    if word.isalpha():
        raise Bad(
            f"length '{node.value}': expected a duration such as 20m, "
            f"or one of: {', '.join(LENGTH_WORDS)}"
        )
    return duration(node)


def _bitrate(node: Node) -> str:
    return choice("bitrate", BITRATES)(node)
