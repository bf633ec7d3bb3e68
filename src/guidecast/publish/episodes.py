"""Find the rendered sessions of a folder: session files, and MP3s whose session file is lost."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, fields, replace
from pathlib import Path

from ..errors import FeedError
from ..mp3.recover import recover
from ..mp3.sessioninfo import SessionFileError, SessionInfo, read_session_info

__all__ = [
    "KEPT",
    "VARIANTS",
    "Session",
    "content_version",
    "kept_variants",
    "load_published",
    "load_sessions",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Session(SessionInfo):
    """A rendered session found in a folder: its session file plus what the folder holds.

    Optional files (cover, chapters, transcripts) that are missing are None here.
    """

    path: Path
    """The session.json file itself (which may be lost: then the MP3 itself was read)."""
    mp3_bytes: int
    version: str = ""
    """A short hash of the MP3's bytes: changes whenever the content does."""


def load_sessions(directory: Path, *, skip_broken: bool = False) -> list[Session]:
    """Read every `*.session.json` in a folder whose MP3 exists, newest first.

    A damaged session file is a FeedError, or with `skip_broken` a warning and left out
    (the server: one bad file must not take down the page and the feed).
    """
    if not directory.is_dir():
        raise FeedError(f"{directory}: no such folder; render a session into it first")
    sessions = []
    for path in sorted(directory.glob("*.session.json")):
        if path.name.startswith("."):
            continue
        try:
            session = _load_session(path)
        except FeedError as e:
            if not skip_broken:
                raise
            log.warning("%s; left out", e)
            continue
        if session is not None:
            sessions.append(session)
    sessions += _orphans(directory, {s.mp3 for s in sessions})
    sessions.sort(key=lambda s: (s.first_rendered, s.title), reverse=True)
    return sessions


VARIANTS = "variants"
"""The subfolder that `guidecast serve --routines` renders sessions on request into."""
KEPT = "kept.json"
"""The list (in `VARIANTS`) of the sessions made on request that listeners keep in the feed."""


def kept_variants(directory: Path) -> set[str]:
    """The names (file stems) of the variants listeners chose to keep in the feed."""
    try:
        names = json.loads((directory / VARIANTS / KEPT).read_text("utf-8"))
    except (OSError, ValueError):
        return set()
    return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()


def load_published(directory: Path, *, skip_broken: bool = False) -> list[Session]:
    """The folder's sessions and the variants kept in its feed (`variants/`), newest first.

    `guidecast feed` and `guidecast serve` list the same episodes from the same folder.
    """
    sessions = load_sessions(directory, skip_broken=skip_broken)
    kept = kept_variants(directory)
    folder = directory / VARIANTS
    if kept and folder.is_dir():
        for s in load_sessions(folder, skip_broken=True):
            if Path(s.mp3).stem in kept:
                sessions.append(_inside(s, VARIANTS))
    sessions.sort(key=lambda s: (s.first_rendered, s.title), reverse=True)
    return sessions


def _inside(s: Session, folder: str) -> Session:
    """A session of a subfolder, its file names made relative to the served folder."""

    def moved(name: str | None) -> str | None:
        return None if name is None else f"{folder}/{name}"

    return replace(
        s,
        mp3=f"{folder}/{s.mp3}",
        cover=moved(s.cover),
        chapters_json=moved(s.chapters_json),
        vtt=moved(s.vtt),
        srt=moved(s.srt),
    )


def _orphans(directory: Path, known: set[str]) -> list[Session]:
    """Sessions whose session.json is lost, rebuilt from their MP3's own tags."""
    found = []
    for mp3 in sorted(directory.glob("*.mp3")):
        if mp3.name.startswith(".") or mp3.name in known or not mp3.is_file():
            continue
        if mp3.with_name(mp3.stem + ".session.json").exists():
            continue  # a damaged session file: reported (or left out) above, not guessed over
        try:
            info = recover(mp3)
            mp3_bytes, version = mp3.stat().st_size, content_version(mp3)
        except (OSError, SessionFileError) as e:
            log.debug("%s: not a session (%s)", mp3, e)
            continue
        log.warning("%s: no session file; rebuilt the episode from the MP3's tags", mp3)
        values = {f.name: getattr(info, f.name) for f in fields(SessionInfo)}
        path = mp3.with_name(mp3.stem + ".session.json")
        found.append(Session(**values, path=path, mp3_bytes=mp3_bytes, version=version))
    return found


_VERSIONS: dict[tuple[Path, int, int], str] = {}
"""Content hashes by (file, size, mtime): the server rebuilds the feed on every request."""


def content_version(path: Path) -> str:
    """A short hash of a file's bytes, for `?v=` in its URLs."""
    stat = path.stat()
    key = (path.resolve(), stat.st_size, stat.st_mtime_ns)
    version = _VERSIONS.get(key)
    if version is None:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        version = digest.hexdigest()[:12]
        if len(_VERSIONS) > 1024:  # server threads may race here: at worst a hash is redone
            _VERSIONS.clear()
        _VERSIONS[key] = version
    return version


def _load_session(path: Path) -> Session | None:
    """Read one session.json; None when its MP3 is missing."""
    try:
        info = read_session_info(path)
    except OSError as e:
        raise FeedError(f"{path}: cannot read the file: {e.strerror}") from e
    except SessionFileError as e:
        raise FeedError(f"{path}: {e}; render the session again") from e
    try:
        mp3_bytes = (path.parent / info.mp3).stat().st_size
        version = content_version(path.parent / info.mp3)
    except OSError:
        log.warning("%s: skipped, its MP3 %s is missing", path, info.mp3)
        return None
    present = {key: _present(path, key, getattr(info, key)) for key in _OPTIONAL_FILES}
    values = {f.name: getattr(info, f.name) for f in fields(SessionInfo)}
    return Session(**{**values, **present}, path=path, mp3_bytes=mp3_bytes, version=version)


_OPTIONAL_FILES = ("cover", "chapters_json", "vtt", "srt")


def _present(path: Path, key: str, name: str | None) -> str | None:
    """The file's name when it is beside the session file, else None (with a warning)."""
    if name is not None and not (path.parent / name).is_file():
        log.warning("%s: %s %s is missing; leaving it out of the feed", path, key, name)
        return None
    return name
