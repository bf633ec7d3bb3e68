"""Export: stream PCM into an MP3 with ID3v2.3 tags and chapters, plus sidecars; all atomic."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .. import __version__
from ..compiler.timeline import Layout
from ..errors import ExportError
from ..lang.i18n import id3_language
from ..media.arrays import Pcm
from ..media.cover import cover_jpeg
from ..media.format import AudioFormat
from ..model import Routine
from ..store.atomic import SwapError, replace_all, staged, sweep_stale
from ..store.paths import NAME_MAX
from .frames import EncodeResult, encode_mp3
from .id3 import Section, TagError, Tags, tag_bytes
from .recover import derived_guid, identity, recover
from .sessioninfo import ChapterMark, SessionFileError, SessionInfo, read_session_info
from .sidecars import Caption, captions, chapters_json, srt, transcript_text, vtt

__all__ = ["ExportResult", "SessionFiles", "export_session", "prepare_output", "session_files"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionFiles:
    """Where one session's files go: `<name>.mp3` and its sidecars in one folder."""

    mp3: Path

    def sidecar(self, suffix: str) -> Path:
        return self.mp3.with_name(self.mp3.stem + suffix)

    @property
    def all(self) -> list[Path]:
        return [self.mp3] + [self.sidecar(s) for s in SIDECARS]


SIDECARS = (".chapters.json", ".vtt", ".srt", ".jpg", ".session.json")


def session_files(out: Path, routine_path: str) -> SessionFiles:
    """`-o` may name a folder (the MP3 is named after the routine) or an .mp3 file."""
    if out.suffix.lower() == ".mp3":
        return SessionFiles(out)
    return SessionFiles(out / (Path(routine_path).stem + ".mp3"))


@dataclass(frozen=True)
class ExportResult:
    files: SessionFiles
    duration_ms: int
    chapters: int
    bytes: int


def _tags(routine: Routine, lay: Layout, cover: bytes, info: SessionInfo) -> Tags:
    """What the MP3's tag says: the routine, the transcript, the chapters and the identity
    that lets a feed keep the episode's guid if session.json is lost."""
    return Tags(
        title=routine.title,
        artist=routine.author,
        album=routine.series,
        genre=routine.genre,
        year=str(routine.year or info.rendered.year),
        track=str(routine.track) if routine.track else "",
        comment=routine.description,
        language=_iso639_2(routine.language),
        encoder=f"guidecast {__version__}",
        extra=identity(info.guid, info.first_rendered, routine.language),
        lyrics=transcript_text(lay),
        cover=cover,
        chapters=info.chapters,
        sections=_sections(lay),
    )


def _sections(lay: Layout) -> tuple[Section, ...]:
    """Each run of chapters in one section, in time order."""
    out: list[tuple[str, list[int]]] = []
    for i, chapter in enumerate(lay.chapters):
        if chapter.section is None:
            continue
        if out and out[-1][0] == chapter.section:
            out[-1][1].append(i)
        else:
            out.append((chapter.section, [i]))
    return tuple(Section(title, tuple(members)) for title, members in out)


def _iso639_2(language: str) -> str:
    """The ID3 language code (ISO 639-2), from a maintained registry: 'spa', 'deu', 'nor'."""
    return id3_language(language)


def _previous(files: SessionFiles) -> SessionInfo | None:
    """The session file of the previous render, if there is a sound one.

    Without one, the previous MP3's own tags keep the guid and first-render date.
    """
    path = files.sidecar(".session.json")
    try:
        return read_session_info(path)
    except FileNotFoundError:
        return _previous_mp3(files.mp3)
    except (OSError, SessionFileError) as e:
        log.warning("%s: ignored (%s); the guid and first-render date start afresh", path, e)
        return None


def _previous_mp3(mp3: Path) -> SessionInfo | None:
    """What the previous MP3 recorded of its identity, if it is a readable MP3."""
    if not mp3.is_file():
        return None
    try:
        return recover(mp3)
    except (OSError, SessionFileError) as e:
        log.warning("%s: ignored (%s); the guid and first-render date start afresh", mp3, e)
        return None


def _session_info(
    routine: Routine,
    lay: Layout,
    files: SessionFiles,
    caps: list[Caption],
    narration: str,
    now: dt.datetime,
) -> SessionInfo:
    """What the feed and the page need, keeping the guid and date of the first render."""
    previous = _previous(files)
    now = now.replace(microsecond=0)
    guid = derived_guid(files.mp3.name)
    return SessionInfo(
        title=routine.title,
        description=routine.description,
        author=routine.author,
        series=routine.series,
        language=routine.language,
        genre=routine.genre,
        explicit=False,
        duration_ms=lay.total_ms,
        guid=previous.guid if previous else guid,
        first_rendered=previous.first_rendered if previous else now,
        rendered=now,
        mp3=files.mp3.name,
        cover=files.sidecar(".jpg").name,
        chapters_json=files.sidecar(".chapters.json").name,
        vtt=files.sidecar(".vtt").name,
        srt=files.sidecar(".srt").name,
        chapters=tuple(ChapterMark(c.title, c.start_ms, c.end_ms) for c in lay.chapters),
        captions=tuple(caps),
        narration=narration,
        source=Path(routine.path).name,
    )


def prepare_output(files: SessionFiles) -> None:
    """Make the folder, sweep what a killed render left, refuse a target that is not a file.

    Called before any long work, so that a folder in the way is reported at once.
    """
    try:
        files.mp3.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(files.mp3.parent, f"cannot create the folder: {e.strerror}") from e
    for target in files.all:
        name = len(os.fsencode(target.name))
        if name > NAME_MAX:
            raise ExportError(
                target, f"has a name of {name} bytes: file names have at most {NAME_MAX}"
            )
        try:
            sweep_stale(target)
            in_the_way = not target.is_symlink() and target.exists() and not target.is_file()
        except OSError as e:
            raise ExportError(target, f"cannot be written: {e.strerror or e}") from e
        if in_the_way:
            kind = "a folder" if target.is_dir() else "not a regular file"
            raise ExportError(
                target, f"is {kind}, so the session cannot replace it; move it out of the way"
            )


def export_session(
    routine: Routine,
    lay: Layout,
    audio: Iterable[Pcm] | Callable[[BinaryIO], EncodeResult],
    *,
    files: SessionFiles,
    fmt: AudioFormat,
    quality: int | None = None,
    narration: str = "standard",
    cover: bytes | None = None,
) -> ExportResult:
    """Write the MP3 and its sidecars; nothing replaces an existing file until all are ready.

    `audio` is the session as PCM blocks to encode, or a function that writes its MP3 frames
    (the splice renderer) on the open file after the tag. `cover` is the JPEG (made from the
    routine when not given).
    """
    now = dt.datetime.now(dt.UTC)
    prepare_output(files)
    cover = cover or cover_jpeg(routine.title, routine.series, routine.cover)
    caps = captions(lay)
    info = _session_info(routine, lay, files, caps, narration, now)
    texts = {
        ".chapters.json": chapters_json(lay.chapters).encode(),
        ".vtt": vtt(caps).encode(),
        ".srt": srt(caps).encode(),
        ".jpg": cover,
        ".session.json": info.to_json(),
    }
    ready: list[tuple[Path, Path]] = []
    try:
        with contextlib.ExitStack() as stack:
            f, tmp = stack.enter_context(staged(files.mp3))
            # Everything the tag says is known before the audio, so it goes first: adding it
            # afterwards would make mutagen move the whole file.
            f.write(tag_bytes(_tags(routine, lay, cover, info)))
            result = audio(f) if callable(audio) else encode_mp3(audio, f, fmt, quality=quality)
            ready.append((tmp, files.mp3))
            for suffix, data in texts.items():
                g, side_tmp = stack.enter_context(staged(files.sidecar(suffix)))
                g.write(data)
                ready.append((side_tmp, files.sidecar(suffix)))
        # Sidecars first, the MP3 last: a finished MP3 always has its sidecars beside it.
        # All or none: a file that cannot be replaced puts the previous ones back.
        replace_all(list(reversed(ready)))
    except TagError as e:
        raise ExportError(files.mp3, f"cannot write its tag: {e.reason}") from e
    except SwapError as e:
        raise ExportError(
            e.target, f"cannot replace it ({e.reason}); kept the previous session"
        ) from e
    except OSError as e:
        for tmp_path, _ in ready:
            tmp_path.unlink(missing_ok=True)
        raise ExportError(files.mp3, f"cannot write the session: {e.strerror or e}") from e
    except BaseException:
        for tmp_path, _ in ready:
            tmp_path.unlink(missing_ok=True)
        raise
    for _, final in ready:
        log.info("wrote %s", final)
    expected = lay.total_ms * fmt.sample_rate // 1000
    if result.samples != expected:  # pragma: no cover - a broken invariant, not user input
        log.warning("encoded %d samples, layout expects %d", result.samples, expected)
    return ExportResult(files, lay.total_ms, len(lay.chapters), files.mp3.stat().st_size)
