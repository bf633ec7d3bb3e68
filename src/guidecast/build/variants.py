"""A catalog's variants: the matrix expanded per routine, each with its file name and its key.

A variant's key is a content address: a digest of everything its sound and tags are made from
(the routine file and every sound and image it names, the resolved options, the mix, the
output format, the voice's identity and the guidecast version). The timeline, each clip's key
and the encoded runs all follow from these, so two builds with the same key make the same
files, and a build keeps every variant whose key its manifest already has.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..compiler.options import Options, resolve_options
from ..media.decode import sound_stamp
from ..media.format import AudioFormat
from ..model import Narration, Routine, SoundRef
from ..routine.durations import format_duration
from ..sound.mix import Mix, resolve_mix
from .project import Project

__all__ = ["Variant", "expand", "variant_key"]


@dataclass(frozen=True)
class Variant:
    """One session of the catalog: a routine at one choice of every listed dimension."""

    routine: Path
    narration: Narration | None = None
    length_ms: int | str | None = None
    """A target, None (as written), or `shortest` / `longest` (found with the real voice)."""
    rate: float | None = None
    bed: str | None = None
    voice: str | None = None

    def name(self, listed: tuple[str, ...]) -> str:
        """The file name's stem: the routine's, then each listed dimension's value, e.g.
        `love-your-spine_standard_20m_1x_rain` (stable, so a rebuild keeps its podcast guid)."""
        parts = [_safe(self.routine.stem)]
        for key in listed:
            parts.append(_token(key, self.value(key)))
        return "_".join(parts)

    def value(self, key: str) -> Any:
        return getattr(self, "length_ms" if key == "length" else key)

    def label(self, routine: Routine, options: Options) -> str:
        """How the variant is told apart in a podcast app: '20 min · standard · rain'."""
        bits = []
        if isinstance(self.length_ms, int):
            bits.append(f"{round(self.length_ms / 60_000)} min")
        elif self.length_ms:
            bits.append(self.length_ms.removesuffix("est"))  # short, long
        bits.append(options.narration.value)
        if options.rate != 1.0:
            bits.append(f"{options.rate:g}x")
        if self.bed and self.bed != "none":
            bits.append(Path(self.bed).stem)
        if self.voice:
            bits.append(Path(self.voice).stem)
        return " · ".join(bits)

    def options(self, routine: Routine) -> Options:
        target = self.length_ms if isinstance(self.length_ms, int) else None
        return resolve_options(routine, narration=self.narration, length_ms=target, rate=self.rate)

    def mix(self, routine: Routine) -> Mix:
        return resolve_mix(routine, bed=self.bed)


def expand(project: Project) -> list[Variant]:
    """Every combination of the project's lists, for every routine, in a stable order."""
    return [
        Variant(path, narration, length, rate, bed, voice)
        for path in project.routines
        for narration, length, rate, bed, voice in itertools.product(
            project.narration, project.length_ms, project.rate, project.bed, project.voice
        )
    ]


def variant_key(
    variant: Variant,
    routine: Routine,
    *,
    title: str,
    fmt: AudioFormat,
    voice_identity: str,
    routine_digest: str,
) -> str:
    """The content address of a variant: what its sound and tags are made from."""
    options = variant.options(routine)
    made_of = {
        "guidecast": __version__,
        "routine": routine_digest,
        "files": [sound_stamp(ref) for ref in _sounds(routine)] + [_stamp(routine.cover)],
        "title": title,
        "options": dataclasses.asdict(options),
        "length": variant.length_ms,
        "mix": repr(variant.mix(routine)),
        "format": dataclasses.asdict(fmt),
        "voice": voice_identity,
    }
    blob = json.dumps(made_of, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sounds(node: object) -> list[SoundRef]:
    """Every sound a routine names (bells, step sounds, a bed), wherever it sits."""
    if isinstance(node, SoundRef):
        return [] if node.is_none else [node]
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return [s for f in dataclasses.fields(node) for s in _sounds(getattr(node, f.name))]
    if isinstance(node, tuple):
        return [s for item in node for s in _sounds(item)]
    return []


def _stamp(path: str | None) -> list[object]:
    if not path:
        return []
    try:
        st = Path(path).stat()
    except OSError:
        return [path]
    return [path, st.st_size, st.st_mtime_ns]


def _token(key: str, value: Any) -> str:
    if value is None:
        return "natural" if key == "length" else "default"
    if key == "length" and isinstance(value, str):
        return value
    if key == "length":  # in minutes, as the project lists them: 90m, not 1h30m
        minutes, rest = divmod(value, 60_000)
        return f"{minutes}m" if not rest else format_duration(value).replace(" ", "")
    if key == "rate":
        return f"{value:g}x"
    if key in ("bed", "voice"):
        value = Path(str(value)).stem
    return _safe(str(value))


def _safe(text: str) -> str:
    """A file-name part that needs no escaping in a URL or a shell."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-.") or "x"
