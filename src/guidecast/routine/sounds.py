"""Name a bell or a bed: a built-in sound, `none`, or a sound file, found and checked one way.

A routine's `sounds:`, a step's `sound:`, the `bed:` of its `defaults:` and the command line's
`--bed` all come here, so a name means the same wherever it is written and a mistake is worded
the same way (only the folder a file is found in differs: the routine's, or the current one).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import AudioError, Loc, Rule
from ..model import SoundRef
from ..store.paths import found_file, is_file, shown_name
from .fields import suggest

__all__ = [
    "BUILTIN_BEDS",
    "BUILTIN_SOUNDS",
    "COMMAND_LINE",
    "READ_SUFFIXES",
    "SOUND_SUFFIXES",
    "SoundError",
    "bed_ref",
    "is_folder",
    "sound_ref",
]

BUILTIN_SOUNDS = (
    "bowl", "chime", "gong", "woodblock", "go", "rest", "beeps", "finish", "rise", "fall",
    "steady",
)  # fmt: skip
"""Bells, and the interval-timer tones sessions on the clock play (any of them can be named)."""
BUILTIN_BEDS = ("drone", "ocean", "rain", "air")
"""The beds `media.beds` makes (a test keeps the two lists equal; this one loads no numpy)."""
READ_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac", ".aiff", ".aif")
"""The sound files guidecast decodes (what the docs and the schema offer)."""
SOUND_SUFFIXES = (*READ_SUFFIXES, ".m4a")
"""Names read as sound files: an .m4a is one too, so that `check` says it cannot be decoded
rather than that it is an unknown built-in sound."""
COMMAND_LINE = Loc("<command line>")


class SoundError(AudioError):
    """A sound or bed guidecast cannot use; `rule` says what kind of mistake it is."""

    def __init__(self, message: str, rule: Rule) -> None:
        super().__init__(message)
        self.rule: Rule = rule


def _is_file_name(name: str) -> bool:
    return "/" in name or "\\" in name or name.lower().endswith(SOUND_SUFFIXES)


def _sound_file(what: str, name: str, base: Path) -> Path:
    """The file `name` names, relative to `base`: it must exist and have a sound's suffix."""
    shown = shown_name(name)
    if not name.lower().endswith(SOUND_SUFFIXES):
        raise SoundError(
            f"{what} file '{shown}' must be one of: {', '.join(SOUND_SUFFIXES)}", "bad-file"
        )
    path, problem = found_file(base / Path(name).expanduser())
    if problem:
        raise SoundError(f"{what} file '{shown}' {problem}", "bad-file")
    return path


def sound_ref(text: str, *, base: Path, loc: Loc) -> SoundRef:
    """A bell: a built-in sound, `none` (silence), or a WAV/MP3/... file relative to `base`."""
    name = text.strip()
    if name.lower() == "none":
        return SoundRef("", None, loc)
    if name in BUILTIN_SOUNDS:
        return SoundRef(name, None, loc)
    if _is_file_name(name):
        path = _sound_file("sound", name, base)
        from ..media.decode import sound_file_problem  # numpy loads only for sound files

        problem = sound_file_problem(path)
        if problem:
            raise SoundError(f"sound file '{name}' {problem}", "bad-file")
        return SoundRef(name, str(path), loc)
    choices = (*BUILTIN_SOUNDS, "none")
    close = suggest(name, choices)
    hint = f"; did you mean '{close}'?" if close else f" (expected one of: {', '.join(choices)})"
    raise SoundError(f"unknown sound '{name}'{hint}", "unknown-value")


def bed_ref(text: str, *, base: Path | None = None, loc: Loc = COMMAND_LINE) -> SoundRef:
    """An ambience bed: a built-in bed, `none` (no bed), a sound file relative to `base` (the
    current folder by default) that decodes to at least a second of sound, or a folder of
    sound files (a playlist, its path ending in `/`).

    The one resolver of `--bed` and of a routine's `defaults: {bed: ...}`: SoundError says what
    is wrong, in the same words for both.
    """
    name = text.strip()
    if name.lower() == "none":
        return SoundRef("", None, loc)
    if name in BUILTIN_BEDS:
        return SoundRef(name, None, loc)
    folder = base or Path.cwd()
    if name.endswith(("/", "\\")) or is_folder(folder / Path(name).expanduser()):
        return _bed_folder(name, folder, loc)
    if _is_file_name(name) or is_file(folder / Path(name).expanduser()):
        path = _sound_file("bed", name, folder)
        from ..media.beds import probe_bed_file  # decoding needs numpy: only for bed files

        problem = probe_bed_file(path)
        if problem:
            raise SoundError(problem, "bad-file")
        return SoundRef(name, str(path), loc)
    choices = ", ".join((*BUILTIN_BEDS, "none"))
    close = suggest(name, (*BUILTIN_BEDS, "none"))
    hint = f"; did you mean '{close}'?" if close else ""
    raise SoundError(
        f"'{name}' is neither a built-in bed ({choices}) nor a sound file{hint}", "unknown-value"
    )


def _bed_folder(name: str, base: Path, loc: Loc) -> SoundRef:
    """A folder of sound files played as a bed: it must hold some, each of them decodable."""
    shown = shown_name(name)
    path = (base / Path(name).expanduser()).resolve()
    if not is_folder(path):
        raise SoundError(f"bed folder '{shown}' not found", "bad-file")
    from ..media.playlist import playlist_problem  # decoding needs numpy: only for folders

    problem = playlist_problem(path)
    if problem:
        raise SoundError(f"bed folder '{shown}' {problem}", "bad-file")
    return SoundRef(name, str(path), loc)


def is_folder(path: Path) -> bool:
    """`Path.is_dir` that says False, instead of raising, for names the system refuses."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False
