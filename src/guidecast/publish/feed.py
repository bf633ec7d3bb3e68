"""Publish rendered sessions as a podcast feed: RSS 2.0 with iTunes and Podcasting 2.0 tags."""

from __future__ import annotations

import logging
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from ..errors import ExportError, FeedError
from ..media.cover import cover_jpeg
from ..mp3.sessioninfo import (
    SESSION_FORMAT,
    ChapterMark,
    SessionInfo,
)
from ..mp3.sidecars import timestamp
from ..store.atomic import sweep_stale, write_atomic
from .episodes import Session, content_version, load_published, load_sessions

__all__ = [
    "SESSION_FORMAT",
    "Channel",
    "ChapterMark",
    "Session",
    "SessionInfo",
    "build_feed",
    "content_version",
    "file_url",
    "load_sessions",
    "make_channel",
    "podcast_guid",
    "show_cover",
    "show_title",
    "write_feed",
]

log = logging.getLogger(__name__)

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
PSC = "http://podlove.org/simple-chapters"
PODCAST_LEGACY = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
"""The Podcasting 2.0 namespace's first URI: gPodder's parser knows `podcast:transcript` only
under it, so one transcript is repeated there (other apps skip an unknown namespace)."""
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
"""The Podcasting 2.0 namespace for `podcast:guid` (a UUIDv5 of the feed URL)."""
CHANNEL_COVER = "cover.jpg"
"""A channel cover the user may put in the folder; else the generated show artwork is used."""
SHOW_COVER = "show.jpg"
"""The show's own artwork: generated from the feed's title, or the image given with --cover."""

for _prefix, _uri in (
    ("itunes", ITUNES),
    ("podcast", PODCAST),
    ("atom", ATOM),
    ("psc", PSC),
    ("podcastgh", PODCAST_LEGACY),
):
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True)
class Channel:
    """Feed-wide metadata."""

    title: str
    description: str
    language: str
    author: str
    cover: str | None
    """File name of the channel's square cover, relative to the folder."""
    category: str = "Health & Fitness"
    subcategory: str = "Alternative Health"
    owner_email: str = ""
    """The owner's e-mail for `itunes:owner` and `podcast:locked`; left out when empty."""
    copyright: str = ""


# -- channel and feed ------------------------------------------------------------------------


def make_channel(
    directory: Path,
    sessions: Sequence[Session],
    *,
    title: str | None = None,
    description: str | None = None,
    author: str | None = None,
    language: str | None = None,
    owner_email: str = "",
    own_cover: bool = False,
) -> Channel:
    """Choose the channel's metadata: what the caller gives, else what the sessions share.

    The show's artwork is `cover.jpg` when the folder has one (and `own_cover`, a cover
    given by the user, is false), else `show.jpg`, which `write_feed` and the server make.
    """
    title = title or show_title(sessions)
    if description is None:
        description = f"{title}: guided sessions rendered by guidecast."
    folder_cover = not own_cover and (directory / CHANNEL_COVER).is_file()
    author = author or _common(s.author for s in sessions) or "guidecast"
    years = sorted({s.first_rendered.year for s in sessions} or {datetime.now(UTC).year})
    span = str(years[0]) if years[0] == years[-1] else f"{years[0]}-{years[-1]}"
    return Channel(
        title=title,
        description=description,
        language=language or _common(s.language for s in sessions) or "en",
        author=author,
        cover=CHANNEL_COVER if folder_cover else SHOW_COVER,
        owner_email=owner_email,
        copyright=f"\u00a9 {span} {author}",
    )


def show_cover(title: str, image: Path | None = None) -> bytes:
    """The show's artwork: a square JPEG made from the image, else generated from the title.

    The same title always gives the same bytes, so the artwork does not change with renders.
    """
    try:
        return cover_jpeg(title, "", None if image is None else str(image))
    except ExportError as e:
        raise FeedError(str(e)) from None


def podcast_guid(feed_url: str) -> str:
    """The Podcasting 2.0 `podcast:guid`: a UUIDv5 of the feed URL without scheme and slashes."""
    parts = urlsplit(feed_url)
    bare = urlunsplit(("", parts.netloc, parts.path, parts.query, "")).lstrip("/").rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def show_title(sessions: Sequence[Session]) -> str:
    """The show's title when none is given: the series the sessions share, else the names of
    their series (or their titles, for sessions in none), in alphabetical order so that the
    title and its artwork do not change with every render."""
    series = _common(s.series for s in sessions)
    if series:
        return series
    names = sorted({(s.series or s.title).strip() for s in sessions} - {""})
    if not names:
        return "guidecast sessions"
    if len(names) == 1:
        return names[0]
    if len(names) <= 3:
        return f"{', '.join(names[:-1])} & {names[-1]}"
    return f"{names[0]}, {names[1]} & {len(names) - 2} more"


def _common(values: Any) -> str:
    """Return the value all sessions share, or the empty string when they differ."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else ""


def file_url(base_url: str, name: str, version: str = "") -> str:
    """Join a base URL and a file name, quoting the name; `?v=version` when given."""
    url = f"{base_url.rstrip('/')}/{quote(name)}"
    return f"{url}?v={version}" if version else url


def build_feed(sessions: Sequence[Session], base_url: str, channel: Channel) -> bytes:
    """Build the RSS document for sessions whose files live under base_url."""
    base_url = _check_base_url(base_url)
    rss = ET.Element("rss", {"version": "2.0"})
    ch = ET.SubElement(rss, "channel")
    _text(ch, "title", channel.title)
    _text(ch, "link", base_url + "/")
    _text(ch, "description", channel.description)
    _text(ch, "language", channel.language)
    _text(ch, "generator", "guidecast")
    newest = max((s.rendered for s in sessions), default=datetime.now(UTC))
    _text(ch, "lastBuildDate", format_datetime(newest.astimezone(UTC), usegmt=True))
    ET.SubElement(
        ch,
        f"{{{ATOM}}}link",
        {"href": file_url(base_url, "feed.xml"), "rel": "self", "type": "application/rss+xml"},
    )
    _text(ch, "copyright", channel.copyright or f"\u00a9 {newest.year} {channel.author}")
    _text(ch, f"{{{ITUNES}}}author", channel.author)
    owner = ET.SubElement(ch, f"{{{ITUNES}}}owner")
    _text(owner, f"{{{ITUNES}}}name", channel.author)
    if channel.owner_email:
        _text(owner, f"{{{ITUNES}}}email", channel.owner_email)
    _text(ch, f"{{{ITUNES}}}summary", channel.description)
    _text(ch, f"{{{ITUNES}}}type", "episodic")
    _text(ch, f"{{{ITUNES}}}explicit", "false")
    _text(ch, f"{{{PODCAST}}}guid", podcast_guid(file_url(base_url, "feed.xml")))
    locked = _text(ch, f"{{{PODCAST}}}locked", "no")
    if channel.owner_email:
        locked.set("owner", channel.owner_email)
    if channel.cover:
        cover_url = file_url(base_url, channel.cover)
        ET.SubElement(ch, f"{{{ITUNES}}}image", {"href": cover_url})
        image = ET.SubElement(ch, "image")
        for tag, text in (("url", cover_url), ("title", channel.title), ("link", base_url + "/")):
            _text(image, tag, text)
    category = ET.SubElement(ch, f"{{{ITUNES}}}category", {"text": channel.category})
    ET.SubElement(category, f"{{{ITUNES}}}category", {"text": channel.subcategory})
    for session in sessions:
        _item(ch, session, base_url)
    _xml_safe(rss)
    ET.indent(rss)
    document: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _item(channel: ET.Element, s: Session, base_url: str) -> None:
    """Append one episode to the channel."""
    item = ET.SubElement(channel, "item")
    _text(item, "title", s.title)
    _text(item, "description", s.description or s.title)
    if s.description:
        _text(item, f"{{{ITUNES}}}summary", s.description)
    # The content version in every URL: an app that kept the old MP3 must not pair it with
    # fresh chapters of another render (the guid stays, so the app updates the episode).
    v = s.version
    ET.SubElement(
        item,
        "enclosure",
        {"url": file_url(base_url, s.mp3, v), "length": str(s.mp3_bytes), "type": "audio/mpeg"},
    )
    _text(item, "guid", s.guid).set("isPermaLink", "false")
    _text(item, "pubDate", format_datetime(s.first_rendered.astimezone(UTC), usegmt=True))
    _text(item, f"{{{ITUNES}}}title", s.title)
    _text(item, f"{{{ITUNES}}}duration", str(round(s.duration_ms / 1000)))
    _text(item, f"{{{ITUNES}}}episodeType", "full")
    _text(item, f"{{{ITUNES}}}explicit", "true" if s.explicit else "false")
    if s.cover:
        ET.SubElement(item, f"{{{ITUNES}}}image", {"href": file_url(base_url, s.cover)})
    if s.chapters_json:
        ET.SubElement(
            item,
            f"{{{PODCAST}}}chapters",
            {"url": file_url(base_url, s.chapters_json, v), "type": "application/json+chapters"},
        )
    for name, mime, rel in ((s.vtt, "text/vtt", "captions"), (s.srt, "application/x-subrip", "")):
        if name:
            attrs = {"url": file_url(base_url, name, v), "type": mime, "language": s.language}
            if rel:
                attrs["rel"] = rel
            ET.SubElement(item, f"{{{PODCAST}}}transcript", attrs)
    legacy = next(
        ((n, m) for n, m in ((s.vtt, "text/vtt"), (s.srt, "application/x-subrip")) if n), None
    )
    if legacy is not None:
        url = file_url(base_url, legacy[0], v)
        ET.SubElement(item, f"{{{PODCAST_LEGACY}}}transcript", {"url": url, "type": legacy[1]})
    if s.chapters:  # Podlove Simple Chapters, for clients that read no podcast:chapters
        psc = ET.SubElement(item, f"{{{PSC}}}chapters", {"version": "1.2"})
        for mark in s.chapters:
            ET.SubElement(
                psc, f"{{{PSC}}}chapter", {"start": timestamp(mark.start_ms), "title": mark.title}
            )


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot hold at all (control characters, lone surrogates, U+FFFE/FFFF)."""


def _xml_safe(root: ET.Element) -> None:
    """Replace characters XML cannot hold with U+FFFD, so one odd title cannot break the feed."""
    for element in root.iter():
        if element.text:
            element.text = _NOT_XML.sub("\ufffd", element.text)
        for key, value in element.attrib.items():
            element.attrib[key] = _NOT_XML.sub("\ufffd", value)


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


_URL_SAFE = "/:@!$&'()*+,;=-._~"
"""Characters a URL path holds as they are (RFC 3986); anything else is percent-encoded."""
_ESCAPE = re.compile("%[0-9A-Fa-f]{2}")


def _check_base_url(base_url: str) -> str:
    """Return the base URL percent-encoded, without its trailing slash; FeedError if not absolute.

    A space or other unsafe character in the path is encoded (`my yoga` -> `my%20yoga`);
    escapes already there are kept, so an encoded URL comes out the same.
    """
    try:
        parts = urlsplit(base_url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        parts = urlsplit("")
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or re.search(r"[\s<>\"{}|\\^`]", parts.netloc)
    ):
        raise FeedError(
            f"base URL {base_url!r} must be absolute, like https://example.com/yoga "
            "or http://192.168.1.20:8000"
        )
    path = "".join(
        piece if _ESCAPE.fullmatch(piece) else quote(piece, safe=_URL_SAFE)
        for piece in re.split("(%[0-9A-Fa-f]{2})", parts.path)
    )
    netloc = _ascii_netloc(parts.netloc, base_url)
    return urlunsplit((parts.scheme.lower(), netloc, path, "", "")).rstrip("/")


def _ascii_netloc(netloc: str, base_url: str) -> str:
    """Write an international host name in its ASCII (IDNA) form: bücher.example -> xn--..."""
    if netloc.isascii():
        return netloc
    user, at, host_port = netloc.rpartition("@")
    host, colon, port = host_port.partition(":")
    try:
        host = host.lower().encode("idna").decode("ascii")
    except UnicodeError:
        raise FeedError(f"base URL {base_url!r} has a host name that cannot be encoded") from None
    return f"{user}{at}{host}{colon}{port}"


# -- writing ---------------------------------------------------------------------------------


def write_feed(
    directory: Path,
    *,
    base_url: str,
    title: str | None = None,
    description: str | None = None,
    author: str | None = None,
    language: str | None = None,
    owner_email: str = "",
    cover: Path | None = None,
) -> Path:
    """Write `DIR/feed.xml` for the sessions rendered in DIR and return its path.

    The variants listeners kept with `guidecast serve --routines` are in it too, as in the
    served feed.

    Also writes `DIR/show.jpg`, the show's artwork (from `cover`, else generated from the
    title), unless the folder has a `cover.jpg` and no `cover` is given.
    """
    base_url = _check_base_url(base_url)
    sessions = load_published(directory)
    if not sessions:
        raise FeedError(
            f"{directory}: no rendered sessions (no MP3 with its *.session.json or its "
            "guidecast tags); run 'guidecast render' first"
        )
    channel = make_channel(
        directory,
        sessions,
        title=title,
        description=description,
        author=author,
        language=language,
        owner_email=owner_email,
        own_cover=cover is not None,
    )
    if channel.cover == SHOW_COVER:
        _write_show_cover(directory / SHOW_COVER, show_cover(channel.title, cover))
    target = directory / "feed.xml"
    _write_atomically(target, build_feed(sessions, base_url, channel))
    log.info("wrote %s with %d sessions", target, len(sessions))
    return target


def _write_show_cover(target: Path, data: bytes) -> None:
    """Write the show's artwork, leaving an identical file untouched (its date included)."""
    try:
        if target.is_file() and target.read_bytes() == data:
            return
    except OSError:
        pass
    _write_atomically(target, data)


def _write_atomically(target: Path, data: bytes) -> None:
    """Replace the feed whole, or leave the old one; a failure is a FeedError."""
    sweep_stale(target)
    try:
        write_atomic(target, data)
    except OSError as e:
        raise FeedError(f"{target}: cannot write the feed: {e.strerror}") from e
