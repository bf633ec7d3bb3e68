"""`NAME.session.json`: what a render records about a session, for the feed, the page and the
next render. One typed `SessionInfo` reads and writes it; a damaged or tampered file is a
`SessionFileError` naming the key, never a traceback."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeGuard

from .sidecars import Caption

__all__ = [
    "MAX_SESSION_FILE_BYTES",
    "SESSION_FORMAT",
    "STAMP",
    "ChapterMark",
    "SessionFileError",
    "SessionInfo",
    "read_session_info",
]

SESSION_FORMAT = "guidecast-session/1"
MAX_SESSION_FILE_BYTES = 16 * 1024 * 1024
"""A real session file is a few tens of kilobytes; anything this big is not one."""
MAX_DURATION_MS = 7 * 24 * 3_600_000
"""Longer than any session could be: a bigger number is damage, not a duration."""
MAX_GUID = 256
STAMP = "%Y-%m-%dT%H:%M:%SZ"
"""How a moment is written in session files and tags: UTC, to the second."""
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""Characters no render writes (the loader refuses them in routines): a sign of tampering."""


class SessionFileError(ValueError):
    """A session file that is not one guidecast wrote; the message names the key."""


@dataclass(frozen=True)
class ChapterMark:
    """A chapter of a session, in milliseconds from the start of the audio."""

    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, kw_only=True)
class SessionInfo:
    """A rendered session as recorded in its `NAME.session.json`."""

    title: str
    description: str = ""
    author: str = "guidecast"
    series: str = ""
    language: str = "en"
    genre: str = ""
    explicit: bool = False
    duration_ms: int
    guid: str
    """Stable across re-renders, so podcast apps never list the session twice."""
    first_rendered: datetime
    """When the session was first rendered (UTC): the episode's publication date."""
    rendered: datetime
    mp3: str
    """File names are relative to the session's folder; optional ones are None if absent."""
    cover: str | None = None
    chapters_json: str | None = None
    vtt: str | None = None
    srt: str | None = None
    chapters: tuple[ChapterMark, ...] = ()
    captions: tuple[Caption, ...] = ()
    """Every sentence said at its real time (empty in files written before captions were)."""
    narration: str = ""
    source: str = ""
    """The routine file's name."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to `NAME.session.json`."""
        return {
            "format": SESSION_FORMAT,
            "title": self.title,
            "description": self.description,
            "author": self.author,
            "series": self.series,
            "language": self.language,
            "genre": self.genre,
            "explicit": self.explicit,
            "duration_ms": self.duration_ms,
            "guid": self.guid,
            "first_rendered": self.first_rendered.astimezone(UTC).strftime(STAMP),
            "rendered": self.rendered.astimezone(UTC).strftime(STAMP),
            "mp3": self.mp3,
            "cover": self.cover,
            "chapters_json": self.chapters_json,
            "vtt": self.vtt,
            "srt": self.srt,
            "chapters": [
                {"title": c.title, "start_ms": c.start_ms, "end_ms": c.end_ms}
                for c in self.chapters
            ],
            "captions": [
                {"start_ms": c.start_ms, "end_ms": c.end_ms, "text": c.text} for c in self.captions
            ],
            "narration": self.narration,
            "source": self.source,
        }

    def to_json(self) -> bytes:
        """The file's bytes."""
        return (json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_dict(cls, data: object) -> SessionInfo:
        """Read a parsed session file, checking every value; raise SessionFileError."""
        if not isinstance(data, dict):
            raise SessionFileError("not a valid session file (expected a JSON object)")
        if data.get("format") != SESSION_FORMAT:
            shown = _short(data.get("format"))
            raise SessionFileError(f"unsupported format {shown} (expected {SESSION_FORMAT!r})")
        f = _Fields(data)
        first = f.time("first_rendered")
        return cls(
            title=f.text("title", required=True),
            description=f.text("description"),
            author=f.text("author") or "guidecast",
            series=f.text("series"),
            language=f.text("language") or "en",
            genre=f.text("genre"),
            explicit=f.boolean("explicit"),
            duration_ms=f.count("duration_ms"),
            guid=f.guid(),
            first_rendered=first,
            rendered=f.time("rendered") if data.get("rendered") is not None else first,
            mp3=f.file("mp3", required=True) or "",
            cover=f.file("cover"),
            chapters_json=f.file("chapters_json"),
            vtt=f.file("vtt"),
            srt=f.file("srt"),
            chapters=f.chapters(),
            captions=f.captions(),
            narration=f.text("narration"),
            source=f.text("source"),
        )


def read_session_info(path: Path) -> SessionInfo:
    """Read and check a session file; OSError when unreadable, SessionFileError when damaged."""
    if path.exists() and not path.is_file():
        raise SessionFileError("not a regular file")  # a folder, a device, a pipe
    with path.open("rb") as f:
        raw = f.read(MAX_SESSION_FILE_BYTES + 1)
    if len(raw) > MAX_SESSION_FILE_BYTES:
        raise SessionFileError(f"not a valid session file (over {MAX_SESSION_FILE_BYTES} bytes)")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise SessionFileError("not a valid session file (not UTF-8 text)") from None
    except json.JSONDecodeError as e:
        raise SessionFileError(f"not a valid session file ({e})") from e
    except ValueError:  # NaN or Infinity, or an integer of thousands of digits
        raise SessionFileError("not a valid session file (a number out of range)") from None
    except RecursionError:
        raise SessionFileError("not a valid session file (nested too deeply)") from None
    return SessionInfo.from_dict(data)


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def _short(value: object, limit: int = 40) -> str:
    """A value for a message: quoted (no raw control characters), cut to a readable length."""
    if not isinstance(value, str | None | bool):
        return f"of type {type(value).__name__}"  # repr() of a huge int would itself fail
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _is_count(value: object, most: int = MAX_DURATION_MS) -> TypeGuard[int]:
    """Tell whether a JSON value is a whole number from zero to `most`."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most


class _Fields:
    """Typed access to a session file's object, raising SessionFileError naming the key."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @staticmethod
    def fail(key: str, what: str) -> SessionFileError:
        return SessionFileError(f"'{key}' {what}")

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(key, "is missing" if value is None else "must be a non-empty string")
        if _CONTROL.search(value):
            raise self.fail(key, "contains control characters")
        return value

    def guid(self) -> str:
        value = self.text("guid", required=True)
        if len(value) > MAX_GUID or value != value.strip() or "\n" in value:
            raise self.fail("guid", f"must be one line of at most {MAX_GUID} characters")
        return value

    def count(self, key: str) -> int:
        value = self.data.get(key)
        if not _is_count(value):
            raise self.fail(key, "must be a whole number of milliseconds, up to a week")
        return value

    def boolean(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def time(self, key: str) -> datetime:
        value = self.data.get(key)
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
            if moment is not None:
                moment = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
        except (ValueError, OverflowError):
            moment = None
        if moment is None or not 1970 <= moment.year <= 9998:
            raise self.fail(key, "must be an ISO 8601 time such as 2026-11-25T15:40:00Z")
        return moment

    def file(self, key: str, *, required: bool = False) -> str | None:
        name = self.data.get(key)
        if name is None and not required:
            return None
        if (
            not isinstance(name, str)
            or not name
            or len(name) > 255
            or name[0] == "."
            or set(name) & {"/", "\\"}
            or _CONTROL.search(name)
        ):
            raise self.fail(key, "must be a file name in the same folder")
        return name

    def items(self, key: str) -> list[Any]:
        items = self.data.get(key, [])
        if not isinstance(items, list):
            raise self.fail(key, "must be a list")
        return items

    def chapters(self) -> tuple[ChapterMark, ...]:
        marks = []
        for item in self.items("chapters"):
            if not (
                isinstance(item, dict)
                and isinstance(item.get("title"), str)
                and not _CONTROL.search(item["title"])
                and _is_count(item.get("start_ms"))
                and _is_count(item.get("end_ms"))
                and item["start_ms"] <= item["end_ms"]
            ):
                raise self.fail("chapters", "must hold {title, start_ms, end_ms} objects")
            marks.append(ChapterMark(item["title"], item["start_ms"], item["end_ms"]))
        return tuple(marks)

    def captions(self) -> tuple[Caption, ...]:
        caps = []
        for item in self.items("captions"):
            if not (
                isinstance(item, dict)
                and isinstance(item.get("text"), str)
                and not _CONTROL.search(item["text"])
                and _is_count(item.get("start_ms"))
                and _is_count(item.get("end_ms"))
                and item["start_ms"] <= item["end_ms"]
            ):
                raise self.fail("captions", "must hold {start_ms, end_ms, text} objects")
            caps.append(Caption(item["start_ms"], item["end_ms"], item["text"]))
        return tuple(caps)
