"""Atomic file writes: a temporary file beside the target, renamed over it only when complete.

A set of files (a session: the MP3 and its sidecars) is swapped in as one unit with
`replace_all`, which puts the previous files back if any rename fails. Temporary files that a
killed process left behind are removed by `sweep_stale` at the next write of the same target.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: staleness is judged by age alone
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "STALE_AFTER_S",
    "SwapError",
    "atomic_file",
    "replace_all",
    "staged",
    "sweep_stale",
    "sweep_temporary_folders",
    "temporary_folder",
    "write_atomic",
]

log = logging.getLogger(__name__)

PART = ".part"
"""Suffix of a file being written: `.NAME.XXXX.part` beside NAME."""
OLD = ".old"
"""Suffix of a previous file kept while a set is swapped in: `.NAME.XXXX.old`."""
STALE_AFTER_S = 5.0
"""A temporary file this old that no process holds locked was left by a killed run.

The lock tells a live writer's file from a dead one's; the age covers the moments a live file
is unlocked: just made and not yet locked, or closed and about to be renamed into place."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()
"""Finished files get the mode a plain open() would give (mkstemp alone makes 0600)."""


def _lock(fd: int) -> bool:
    """Take an exclusive, non-blocking lock; True when taken (or locks are unsupported)."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def staged(path: Path, *, sync: bool = True) -> Iterator[tuple[BinaryIO, Path]]:
    """Yield (file, temp path) beside `path`; the temp file is removed if the block fails.

    The caller renames it into place (`os.replace`) when everything it belongs with is ready.
    The file stays locked while it is open, so `sweep_stale` never takes a live one.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=PART)
    tmp = Path(name)
    try:
        os.chmod(fd, _MODE)
        _lock(fd)
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


class SwapError(OSError):
    """A file of a set could not be put in place; `target` names it, the set was rolled back."""

    def __init__(self, target: Path, reason: str) -> None:
        super().__init__(reason)
        self.target = target
        self.reason = reason


def _keep_old(target: Path) -> Path | None:
    """Keep a second name for the file at `target` (a hard link, else a copy); None if absent."""
    if not target.is_symlink():
        if not target.exists():
            return None
        if not target.is_file():
            kind = "a folder" if target.is_dir() else "not a regular file"
            raise SwapError(target, f"{kind} is in the way")
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=OLD)
    os.close(fd)
    old = Path(name)
    try:
        os.unlink(old)
        os.link(target, old, follow_symlinks=False)
    except OSError:
        shutil.copy2(target, old)
    return old


def replace_all(pairs: Sequence[tuple[Path, Path]]) -> None:
    """Rename each (temp, target) pair into place, all or none, in the order given.

    The previous files stay readable under their names until each is replaced; if any rename
    fails (or the process is interrupted) the targets already replaced get their previous
    files back, and the error names the target that failed as `SwapError.target`.
    Temp files are removed whatever happens.
    """
    done: list[tuple[Path, Path | None]] = []
    current = pairs[0][1] if pairs else Path()
    try:
        for tmp, target in pairs:
            current = target
            old = _keep_old(target)
            done.append((target, old))
            os.replace(tmp, target)
    except BaseException as error:
        for target, old in reversed(done):
            with contextlib.suppress(OSError):
                if old is None:
                    target.unlink(missing_ok=True)
                else:
                    os.replace(old, target)
                    # rename() between two links to one file does nothing: drop the spare.
                    old.unlink(missing_ok=True)
        for tmp, _ in pairs:
            tmp.unlink(missing_ok=True)
        if isinstance(error, OSError) and not isinstance(error, SwapError):
            raise SwapError(current, error.strerror or str(error)) from error
        raise
    for _, old in done:
        if old is not None:
            old.unlink(missing_ok=True)


def sweep_stale(target: Path, *, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove temp files a killed run left beside `target` (`.NAME.*.part`, `.NAME.*.old`).

    A file is stale when it is older than `older_than_s` and no process holds it locked: a
    concurrent writer's file is locked while open and young while being renamed.
    """
    removed = []
    now = time.time()
    try:
        candidates = [
            p
            for p in target.parent.glob(f".{glob.escape(target.name)}.*")
            if p.name.endswith((PART, OLD))
        ]
    except OSError:
        return []
    for path in candidates:
        try:
            if not path.is_file() or path.is_symlink():
                continue
            if now - path.stat().st_mtime < older_than_s:
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                if not _lock(fd):
                    continue
                path.unlink()
            finally:
                os.close(fd)
        except OSError as e:
            log.debug("cannot sweep %s: %s", path, e)
            continue
        log.info("removed %s, left by an interrupted run", path)
        removed.append(path)
    return removed


LOCK = ".lock"
"""A file inside a temporary folder, locked while the folder is in use."""
SCRATCH = "guidecast-nocache-"
"""Prefix of the temporary folders `temporary_folder` makes."""
_TEMP_NAME = re.compile(r"guidecast-(nocache-)?[a-z0-9_]{8}")
"""Our folders, and those of versions before the lock (`guidecast-` and mkdtemp's 8 letters)."""
LEGACY_STALE_S = 24 * 3600.0
"""A folder without a lock file is swept only this old: no render takes a day."""


@contextlib.contextmanager
def temporary_folder() -> Iterator[Path]:
    """Yield a fresh folder in the system's temp folder, removed afterwards.

    A killed process cannot remove its folder: `sweep_temporary_folders` removes those.
    """
    sweep_temporary_folders()
    folder = Path(tempfile.mkdtemp(prefix=SCRATCH, dir=tempfile.gettempdir()))
    try:
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
            yield folder
        finally:
            os.close(fd)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep_temporary_folders() -> None:
    """Remove this user's temporary folders that killed runs left.

    A folder is left over when no process holds its lock file; one with no lock file (made
    before there was one) when it is a day old.
    """
    parent = Path(tempfile.gettempdir())
    now = time.time()
    try:
        folders = [p for p in parent.glob("guidecast-*") if _TEMP_NAME.fullmatch(p.name)]
    except OSError:
        return
    for folder in folders:
        try:
            info = folder.lstat()
            if not folder.is_dir() or folder.is_symlink() or info.st_uid != os.getuid():
                continue
            try:
                fd = os.open(folder / LOCK, os.O_RDONLY)
            except FileNotFoundError:
                if now - info.st_mtime < LEGACY_STALE_S:
                    continue  # another run's, older than the lock or not yet locked
            else:
                try:
                    if not _lock(fd):
                        continue
                finally:
                    os.close(fd)
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        log.info("removed %s, left by an interrupted run", folder)
