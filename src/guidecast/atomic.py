"""Atomic file writes: a temporary file beside the target, renamed over it only when complete."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_file", "staged", "write_atomic"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()
"""Finished files get the mode a plain open() would give (mkstemp alone makes 0600)."""


@contextlib.contextmanager
def staged(path: Path, *, sync: bool = True) -> Iterator[tuple[BinaryIO, Path]]:
    """Yield (file, temp path) beside `path`; the temp file is removed if the block fails.

    The caller renames it into place (`os.replace`) when everything it belongs with is ready.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(name)
    try:
        os.chmod(fd, _MODE)
        with os.fdopen(fd, "w+b") as f:
            yield f, tmp
            f.flush()
            if sync:
                os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_file(path: Path, *, sync: bool = True) -> Iterator[BinaryIO]:
    """Write `path` whole or not at all: readers see the old file until the new one is done."""
    with staged(path, sync=sync) as (f, tmp):
        yield f
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically."""
    with atomic_file(path) as f:
        f.write(data)
