"""ID3v2.3 tags and chapters, written and read back: every mutagen call of guidecast is here.

Only mutagen's public API is used, and every failure is a `TagError` naming the file (the
way mediafile wraps mutagen): no mutagen exception leaks out of this module.

Frame order: mutagen's `ID3.save` sorts frames by size, but the chapters must stand in time
order, because readers that ignore the table of contents list CHAP frames in file order
(ffmpeg and ffprobe do). So mutagen serialises each frame on its own, as a one-frame tag, and
this module lays the frames out in the order given, under an ID3v2.3 header of its own.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from mutagen import MutagenError
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
    TXXX,
    USLT,
    CTOCFlags,
    Frame,
    PictureType,
)
from mutagen.mp3 import MP3

from ..errors import GuidecastError
from .sessioninfo import ChapterMark

__all__ = ["Section", "TagError", "Tags", "read_mp3", "tag_bytes"]

UTF8 = 3
"""ID3's text encoding number for UTF-8."""
_HEADER = b"ID3\x03\x00\x00"
"""ID3v2.3, revision 0, no flags (no unsynchronisation, no extended header)."""
_NO_OFFSET = 0xFFFFFFFF
"""A CHAP frame's byte offsets when its times are what counts (ID3v2 chapters, 3.1)."""


class TagError(GuidecastError):
    """An MP3's tag could not be written or read; the message names the file."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class Section:
    """A second-level table of contents: a titled run of chapters (indexes into `chapters`)."""

    title: str
    chapters: tuple[int, ...]


@dataclass(frozen=True)
class Tags:
    """What guidecast writes into an MP3's ID3v2.3 tag, and what it reads back from one."""

    title: str = ""
    artist: str = ""
    album: str = ""
    genre: str = ""
    year: str = ""
    track: str = ""
    comment: str = ""
    """The description (COMM, in English, with no description of its own)."""
    language: str = ""
    """ISO 639-2 code (TLAN), also the language of the lyrics."""
    encoder: str = ""
    """TSSE: the software that wrote the file."""
    extra: tuple[tuple[str, str], ...] = ()
    """User text frames (TXXX) as (description, text)."""
    lyrics: str = ""
    """Unsynchronised lyrics (USLT): the transcript."""
    cover: bytes = b""
    """A JPEG front cover (APIC)."""
    chapters: tuple[ChapterMark, ...] = ()
    """In time order; read back in the order of the top-level table of contents."""
    sections: tuple[Section, ...] = ()

    def user_text(self, description: str) -> str:
        """The text of the TXXX frame with this description; empty when absent."""
        return next((text for desc, text in self.extra if desc == description), "")


def tag_bytes(tags: Tags, *, padding: int = 1024) -> bytes:
    """The ID3v2.3 tag as bytes, frames in a fixed order (chapters in time order), with
    `padding` zero bytes so tag editors can change it in place."""
    body = b"".join(_frame_bytes(frame) for frame in _frames(tags))
    return _HEADER + _syncsafe(len(body) + padding) + body + bytes(padding)


def _frames(tags: Tags) -> list[Frame]:
    """The tag's frames in the order they are written: text, tables of contents, chapters,
    and the picture last (the largest frame: a reader that wants the text stops before it)."""
    frames: list[Frame] = [
        TIT2(encoding=UTF8, text=[tags.title]),
        TPE1(encoding=UTF8, text=[tags.artist]),
    ]
    if tags.album:
        frames.append(TALB(encoding=UTF8, text=[tags.album]))
    frames.append(TCON(encoding=UTF8, text=[tags.genre]))
    if tags.year:
        frames.append(TDRC(encoding=UTF8, text=[tags.year]))
    if tags.track:
        frames.append(TRCK(encoding=UTF8, text=[tags.track]))
    if tags.comment:
        frames.append(COMM(encoding=UTF8, lang="eng", desc="", text=[tags.comment]))
    if tags.language:
        frames.append(TLAN(encoding=UTF8, text=[tags.language]))
    if tags.encoder:
        frames.append(TSSE(encoding=UTF8, text=[tags.encoder]))
    frames += [TXXX(encoding=UTF8, desc=desc, text=[text]) for desc, text in tags.extra]
    if tags.lyrics:
        frames.append(USLT(encoding=UTF8, lang=tags.language or "eng", desc="", text=tags.lyrics))
    ids = [f"chp{i}" for i in range(len(tags.chapters))]
    sections = [f"sec{k}" for k in range(len(tags.sections))] if ids else []
    if ids:
        # Every chapter stays in the flat top-level table (players that read only it, Apple's
        # and Overcast among them, show them all); a second-level table per section groups
        # its chapters for readers that show nesting, and the top-level table lists those
        # tables after the chapters (ID3v2 chapters 1.0, 3.2: a CTOC's children may be CTOCs)
        # so such readers reach them from the root.
        top = ids + sections
        frames.append(_toc("toc", CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, top, "Chapters"))
    for k, section in enumerate(tags.sections):
        members = [ids[i] for i in section.chapters]
        frames.append(_toc(f"sec{k}", CTOCFlags.ORDERED, members, section.title))
    for element_id, chapter in zip(ids, tags.chapters, strict=True):
        frames.append(
            CHAP(
                element_id=element_id,
                start_time=chapter.start_ms,
                end_time=chapter.end_ms,
                start_offset=_NO_OFFSET,
                end_offset=_NO_OFFSET,
                sub_frames=[TIT2(encoding=UTF8, text=[chapter.title])],
            )
        )
    if tags.cover:
        frames.append(
            APIC(
                encoding=UTF8,
                mime="image/jpeg",
                type=PictureType.COVER_FRONT,
                desc="Cover",
                data=tags.cover,
            )
        )
    return frames


def _toc(element_id: str, flags: int, children: list[str], title: str) -> Frame:
    return CTOC(
        element_id=element_id,
        flags=flags,
        child_element_ids=children,
        sub_frames=[TIT2(encoding=UTF8, text=[title])],
    )


def _frame_bytes(frame: Frame) -> bytes:
    """One frame as ID3v2.3 bytes, written by mutagen's public `save` as a one-frame tag."""
    tag = ID3()
    tag.add(frame)
    tag.update_to_v23()  # TDRC becomes TYER, in chapters' sub-frames too
    buffer = io.BytesIO()
    try:
        tag.save(buffer, v2_version=3, padding=lambda _: 0)
    except (MutagenError, ValueError) as e:
        raise TagError("<ID3 tag>", f"cannot write the {frame.FrameID} frame: {e}") from e
    data = buffer.getvalue()
    # The frames follow the 10-byte header (none for an empty text frame, which mutagen
    # leaves out); v2.3 frame sizes are plain 32-bit numbers.
    frames = data[10:]
    at = 0
    while at + 10 <= len(frames):
        at += 10 + int.from_bytes(frames[at + 4 : at + 8], "big")
    if data[:6] != _HEADER or at != len(frames):
        reason = f"mutagen wrote the {frame.FrameID} frame in a form this module does not know"
        raise TagError("<ID3 tag>", reason)
    return frames


def _syncsafe(n: int) -> bytes:
    """An ID3v2 tag size: four bytes of seven bits each."""
    return bytes((n >> shift) & 0x7F for shift in (21, 14, 7, 0))


def read_mp3(path: Path) -> tuple[Tags, float | None]:
    """An MP3's tags and its length in seconds (None when mutagen finds no audio frames).

    Chapters come in the order of the top-level table of contents, else in time order.
    """
    try:
        audio = MP3(path)
    except (MutagenError, OSError) as e:
        raise TagError(path, f"not a readable MP3 ({e})") from None
    tag = audio.tags if isinstance(audio.tags, ID3) else ID3()
    length = getattr(audio.info, "length", None)
    tags = Tags(
        title=_text(tag, "TIT2"),
        artist=_text(tag, "TPE1"),
        album=_text(tag, "TALB"),
        genre=_text(tag, "TCON"),
        comment=_text(tag, "COMM::eng") or _comment(tag),
        language=_text(tag, "TLAN"),
        encoder=_text(tag, "TSSE"),
        extra=tuple((frame.desc, _first(frame)) for frame in tag.getall("TXXX")),
        chapters=_chapters(tag),
    )
    return tags, length if isinstance(length, float) else None


def _first(frame: Frame | None) -> str:
    """The first text of a frame, stripped; empty when absent."""
    texts = getattr(frame, "text", None)
    return str(texts[0]).strip() if texts else ""


def _text(tag: ID3, key: str) -> str:
    return _first(tag.get(key))


def _comment(tag: ID3) -> str:
    """The first description-less comment in any language."""
    for frame in tag.getall("COMM"):
        if not frame.desc and frame.text:
            return str(frame.text[0]).strip()
    return ""


def _chapters(tag: ID3) -> tuple[ChapterMark, ...]:
    """The CHAP frames in the order of the top-level CTOC (else in time order)."""
    chaps = {frame.element_id: frame for frame in tag.getall("CHAP")}
    order = next(
        (
            list(toc.child_element_ids)
            for toc in tag.getall("CTOC")
            if toc.flags & CTOCFlags.TOP_LEVEL
        ),
        [],
    )
    frames = [chaps[i] for i in order if i in chaps] or sorted(
        chaps.values(), key=lambda f: f.start_time
    )
    marks = []
    for frame in frames:
        title = frame.sub_frames.get("TIT2")
        name = str(title.text[0]) if title else frame.element_id
        marks.append(ChapterMark(name, frame.start_time, frame.end_time))
    return tuple(marks)
