"""Whether a path names a file, as a message for the user rather than an OSError."""

from __future__ import annotations

import errno
import os
from pathlib import Path

__all__ = ["NAME_MAX", "found_file", "is_file", "missing_file", "shown_name"]

NAME_MAX = 255
"""Bytes a file name may have on the usual file systems (ext4, APFS, NTFS in UTF-16 units)."""


def missing_file(path: Path) -> str | None:
    """None when `path` is a file; else why not, fit to follow "file 'NAME' ..." in a message.

    A name too long for the file system (or a path too long) is said as such, never raised:
    `Path.is_file` raises OSError for it.
    """
    too_long = [p for p in path.parts if len(os.fsencode(p)) > NAME_MAX]
    if too_long:
        size = len(os.fsencode(too_long[0]))
        return f"has a name of {size} bytes: file names have at most {NAME_MAX}"
    try:
        found = path.is_file()
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG:
            return "has a path too long for the file system"
        return f"cannot be read ({e.strerror or e})"
    return None if found else f"not found (looked at {path})"


def is_file(path: Path) -> bool:
    """`Path.is_file` that says False, instead of raising, for names the system refuses."""
    return missing_file(path) is None


def found_file(path: Path) -> tuple[Path, str | None]:
    """The file `path` names, resolved, and None; or `path` and why it is not a file (as
    `missing_file` says it)."""
    problem = missing_file(path)
    if problem is None:
        path = path.resolve()
        problem = missing_file(path)
    return path, problem


def shown_name(name: str, limit: int = 60) -> str:
    """A file name as a message shows it: a very long one cut short."""
    return name if len(name) <= limit else name[:limit] + "…"
