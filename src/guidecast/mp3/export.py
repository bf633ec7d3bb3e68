"""Export: stream PCM into an MP3 with ID3v2.3 tags and chapters, plus sidecars; all atomic."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TLAN,
    TPE1,
    TRCK,
    TSSE,
    USLT,
    CTOCFlags,
    PictureType,
)
from mutagen.id3._tags import save_frame

from .. import __version__
from ..compiler.timeline import Layout
from ..errors import ExportError
from ..lang.i18n import id3_language
from ..media.cover import cover_jpeg
from ..media.format import AudioFormat
from ..model import Routine
from ..store.atomic import SwapError, replace_all, staged, sweep_stale
from .frames import EncodeResult, encode_mp3
from .recover import derived_guid, identity_frames, recover
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


class _ID3(ID3):
    """ID3 that writes frames in the order added (pictures last).

    mutagen sorts frames by size; readers that ignore the CTOC (ffmpeg among them) list CHAP
    frames in file order, so chapters must be written in time order.
    """

    def _write(self, config: Any) -> bytearray:
        frames = sorted(self.values(), key=lambda f: f.FrameID == "APIC")
        return bytearray().join(save_frame(f, config=config) for f in frames)


def _tags(routine: Routine, lay: Layout, cover: bytes, info: SessionInfo) -> ID3:
    tags = _ID3()
    tags.add(TIT2(encoding=3, text=[routine.title]))
    tags.add(TPE1(encoding=3, text=[routine.author]))
    if routine.series:
        tags.add(TALB(encoding=3, text=[routine.series]))
    tags.add(TCON(encoding=3, text=[routine.genre]))
    tags.add(TDRC(encoding=3, text=[str(routine.year or info.rendered.year)]))
    if routine.track:
        tags.add(TRCK(encoding=3, text=[str(routine.track)]))
    if routine.description:
        tags.add(COMM(encoding=3, lang="eng", desc="", text=[routine.description]))
    tags.add(TLAN(encoding=3, text=[_iso639_2(routine.language)]))
    tags.add(TSSE(encoding=3, text=[f"guidecast {__version__}"]))
    for frame in identity_frames(info.guid, info.first_rendered, routine.language):
        tags.add(frame)  # so a feed keeps the episode's identity if session.json is lost
    tags.add(
        APIC(encoding=3, mime="image/jpeg", type=PictureType.COVER_FRONT, desc="Cover", data=cover)
    )
    tags.add(USLT(encoding=3, lang=_iso639_2(routine.language), desc="", text=transcript_text(lay)))
    ids = [f"chp{i}" for i in range(len(lay.chapters))]
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=["Chapters"])],
        )
    )
    # Sections: every chapter stays in the flat top-level table (players that read only it,
    # Apple's and Overcast among them, show them all); a second-level table per section groups
    # its chapters for readers that show nesting.
    for k, (section, members) in enumerate(_sections(lay, ids)):
        tags.add(
            CTOC(
                element_id=f"sec{k}",
                flags=CTOCFlags.ORDERED,
                child_element_ids=members,
                sub_frames=[TIT2(encoding=3, text=[section])],
            )
        )
    for element_id, chapter in zip(ids, lay.chapters, strict=True):
        tags.add(
            CHAP(
                element_id=element_id,
                start_time=chapter.start_ms,
                end_time=chapter.end_ms,
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=3, text=[chapter.title])],
            )
        )
    tags.update_to_v23()
    return tags


def _tag_bytes(routine: Routine, lay: Layout, cover: bytes, info: SessionInfo) -> bytes:
    """The ID3v2.3 tag as bytes, with a little padding so tag editors can change it in place."""
    buffer = io.BytesIO()
    _tags(routine, lay, cover, info).save(buffer, v2_version=3, padding=lambda _: 1024)
    return buffer.getvalue()


def _sections(lay: Layout, ids: list[str]) -> list[tuple[str, list[str]]]:
    """(section, chapter ids) for each run of chapters in one section, in time order."""
    out: list[tuple[str, list[str]]] = []
    for element_id, chapter in zip(ids, lay.chapters, strict=True):
        if chapter.section is None:
            continue
        if out and out[-1][0] == chapter.section:
            out[-1][1].append(element_id)
        else:
            out.append((chapter.section, [element_id]))
    return out


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
        sweep_stale(target)
        if not target.is_symlink() and target.exists() and not target.is_file():
            kind = "a folder" if target.is_dir() else "not a regular file"
            raise ExportError(
                target, f"is {kind}, so the session cannot replace it; move it out of the way"
            )


def export_session(
    routine: Routine,
    lay: Layout,
    audio: Iterable[npt.NDArray[np.int16]] | Callable[[BinaryIO], EncodeResult],
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
            f.write(_tag_bytes(routine, lay, cover, info))
            result = audio(f) if callable(audio) else encode_mp3(audio, f, fmt, quality=quality)
            ready.append((tmp, files.mp3))
            for suffix, data in texts.items():
                g, side_tmp = stack.enter_context(staged(files.sidecar(suffix)))
                g.write(data)
                ready.append((side_tmp, files.sidecar(suffix)))
        # Sidecars first, the MP3 last: a finished MP3 always has its sidecars beside it.
        # All or none: a file that cannot be replaced puts the previous ones back.
        replace_all(list(reversed(ready)))
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
