"""Render the server's home page: every session with its player, chapters and transcript."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape, unescape
from importlib.resources import files
from pathlib import Path
from string import Template
from urllib.parse import quote, urlsplit

import segno

from ..routine.durations import format_clock
from .feed import Channel, Session

__all__ = [
    "CHEVRON",
    "COMPACT_FROM",
    "MANIFEST",
    "SERVICE_WORKER",
    "PageCue",
    "html_text",
    "isolated",
    "page_text",
    "parse_vtt",
    "player_clock",
    "qr_svg",
    "render_page",
    "routine_row_html",
    "service_worker",
    "variant_html",
    "web_manifest",
]

log = logging.getLogger(__name__)

_TIMESTAMP = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})")
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters, and the bidi embeddings, overrides and isolates a title could use to
show text in another order than it is (U+202E); marks (U+200E, U+200F) stay."""


def page_text(text: str) -> str:
    """Text from a file, a tag or the command line as the page may show it: no control
    characters, no bidi overrides (a title can reorder only itself, see `isolated`)."""
    return _HIDDEN.sub("", text)


def html_text(text: str) -> str:
    """`page_text`, escaped for HTML text or a quoted attribute."""
    return escape(page_text(text))


def isolated(text: str) -> str:
    """`html_text` in a `<bdi>`: a right-to-left title does not reorder what is around it."""
    return f"<bdi>{html_text(text)}</bdi>"


@dataclass(frozen=True)
class PageCue:
    """One transcript cue, in seconds."""

    start: float
    end: float
    text: str


def player_clock(ms: int) -> str:
    """Milliseconds the way audio players show them: 9:34 (whole seconds gone by), 1:02:03.

    Players count whole seconds down from the start (a 574.6 s session shows 9:34), and
    leave out the hours under an hour.
    """
    return format_clock(max(0, ms) // 1000 * 1000)


def parse_vtt(text: str) -> list[PageCue]:
    """Read the cues of a WebVTT (or SRT) transcript, ignoring styling and notes."""
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = block.strip("\n").split("\n")
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue
        start_text, _, end_text = lines[timing].partition("-->")
        start, end = _TIMESTAMP.search(start_text), _TIMESTAMP.search(end_text)
        if start is None or end is None:
            continue
        words = " ".join(line.strip() for line in lines[timing + 1 :] if line.strip())
        words = re.sub(r"<[^>]*>", "", words)  # cue tags such as <v Narrator>
        words = unescape(words)  # &amp; &lt; &gt; and the other character references
        if words:
            cues.append(PageCue(_seconds(start), _seconds(end), words))
    return cues


def _seconds(match: re.Match[str]) -> float:
    hours, minutes, seconds, millis = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


@lru_cache(maxsize=16)
def qr_svg(url: str) -> str:
    """Draw a QR code of a URL as an inline SVG element; nothing when the URL is too long."""
    try:
        code = segno.make(url, error="m")
    except segno.DataOverflowError:
        log.warning("the feed URL is too long for a QR code (%d characters)", len(url))
        return ""
    svg: str = code.svg_inline(
        scale=1, omitsize=True, title=f"QR code of {url}", svgclass="qr", lineclass=None
    )
    return svg


CHEVRON = '<span class="chevron" aria-hidden="true"></span>'
"""Shows whether a row is open; hidden from screen readers, which hear aria-expanded."""


def routine_row_html(title: str, heading: str, body: str, meta: str, *, expanded: bool) -> str:
    """A routine's row on the page: its play button, and its title that opens its choices
    (`title` and `meta` escaped)."""
    return f"""<div class="row">
    <button type="button" class="play" data-action="play" aria-label="Play {title}">
      <span aria-hidden="true">▶</span></button>
    <div class="what">
      <h2 id="{heading}"><button type="button" class="toggle" aria-controls="{body}"
        aria-expanded="{"true" if expanded else "false"}">{title}{CHEVRON}</button></h2>
      <p class="meta">{meta}</p>
    </div>
  </div>"""


def variant_html(title: str) -> str:
    """Where a chosen session's chapters and transcript appear once it plays (`title` escaped)."""
    return f"""<div class="variant" hidden>
      <h3>Chapters</h3>
      <ol class="chapters"></ol>
      <h3>Transcript</h3>
      <div class="cues" tabindex="0" aria-label="Transcript of {title}"></div>
    </div>"""


MANIFEST = "manifest.webmanifest"
"""The web app manifest: the page can be added to a phone's home screen."""
SERVICE_WORKER = "sw.js"
"""The service worker: the page and the sessions played last open and play offline."""


def web_manifest(title: str) -> dict[str, object]:
    """The web app manifest of a show's page (paths relative to the page)."""
    return {
        "name": title,
        "short_name": title[:30],
        "start_url": "./",
        "scope": "./",
        "display": "standalone",
        "background_color": "#f7f5f0",
        "theme_color": "#2f6f5e",
        "icons": [
            {"src": "show.jpg", "sizes": "1400x1400", "type": "image/jpeg", "purpose": "any"}
        ],
    }


def service_worker() -> bytes:
    """The service worker's script."""
    return (files("guidecast") / "web" / SERVICE_WORKER).read_bytes()


COMPACT_FROM = 3
"""With this many sessions or more, each starts as a closed row (title, length, play)."""


def render_page(
    sessions: Sequence[Session],
    channel: Channel,
    *,
    feed_url: str,
    directory: Path,
    makers: str = "",
) -> str:
    """Render the HTML page listing the sessions found in directory.

    `makers` is the HTML of the routines listeners can render on demand, shown first.
    """
    template = Template((files("guidecast") / "web" / "index.html").read_text("utf-8"))
    expanded = len(sessions) < COMPACT_FROM
    items = "\n".join(_session_html(s, i, directory, expanded) for i, s in enumerate(sessions))
    if not items and not makers:
        items = (
            '<p class="empty">No sessions here yet. Render one with '
            "<code>guidecast render ROUTINE -o FOLDER</code>, then reload this page.</p>"
        )
    if items and makers:
        items = f'<h2 class="section">Your sessions</h2>\n{items}'
    parts = urlsplit(feed_url)
    podcast_url = f"podcast://{parts.netloc}{parts.path}"
    return template.substitute(
        lang=html_text(channel.language),
        title=html_text(channel.title),
        heading=isolated(channel.title),
        description=isolated(channel.description),
        makers=makers,
        sessions=items,
        qr=qr_svg(feed_url),
        feed_url=escape(feed_url),
        podcast_url=escape(podcast_url),
    )


def _session_html(s: Session, index: int, directory: Path, expanded: bool) -> str:
    """Render one session as a row (play, title, length) that opens on its player."""
    e = html_text
    heading, body = f"session-{index}", f"session-body-{index}"
    cover = (
        f'<img class="cover" src="{escape(quote(s.cover))}" alt="Cover of {e(s.title)}" '
        'width="1400" height="1400" loading="lazy">'
        if s.cover
        else ""
    )
    meta = [player_clock(s.duration_ms)]
    meta += [part for part in (s.series, s.narration and f"{s.narration} narration") if part]
    chapters = "\n".join(
        f'<li><button type="button" data-start="{c.start_ms / 1000:.3f}" '
        f'data-end="{c.end_ms / 1000:.3f}" aria-label="Play {e(c.title)} at '
        f'{player_clock(c.start_ms)}"><span class="time">{player_clock(c.start_ms)}</span> '
        f'<span class="name">{isolated(c.title)}</span></button></li>'
        for c in s.chapters
    )
    desc = f'<p class="desc">{isolated(s.description)}</p>' if s.description else ""
    src = escape(quote(s.mp3) + (f"?v={s.version}" if s.version else ""))
    return f"""<article class="session" aria-labelledby="{heading}">
  <div class="row">
    <button type="button" class="play" data-action="play" aria-label="Play {e(s.title)}">
      <span aria-hidden="true">▶</span></button>
    <div class="what">
      <h2 id="{heading}"><button type="button" class="toggle" aria-controls="{body}"
        aria-expanded="{"true" if expanded else "false"}">{isolated(s.title)}{CHEVRON}</button></h2>
      <p class="meta">{" · ".join(isolated(m) for m in meta)}</p>
    </div>
  </div>
  <div class="body" id="{body}"{"" if expanded else " hidden"}>
    <div class="head">{cover}{desc}</div>
    <audio controls preload="metadata" src="{src}" aria-label="Play {e(s.title)}"
      data-duration="{s.duration_ms / 1000:.3f}">Your browser cannot play MP3 audio;
      <a href="{src}">download the session</a>.</audio>
    {f'<h3>Chapters</h3><ol class="chapters">{chapters}</ol>' if chapters else ""}
    {_transcript_html(s, directory)}
  </div>
</article>"""


def _cues(s: Session, directory: Path) -> list[PageCue]:
    """The session's captions from its session file; from its VTT for files made before."""
    if s.captions:
        return [PageCue(c.start_ms / 1000, c.end_ms / 1000, c.text) for c in s.captions]
    if not s.vtt:
        return []
    try:
        return parse_vtt((directory / s.vtt).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        log.warning("%s: cannot read the transcript: %s", s.vtt, error)
        return []


def _transcript_html(s: Session, directory: Path) -> str:
    """Render the transcript of a session, or nothing: open, in a box that scrolls."""
    cues = _cues(s, directory)
    if not cues:
        return ""
    lines = "\n".join(
        f'<p class="cue" data-start="{c.start:.3f}" data-end="{c.end:.3f}">'
        f'<span class="time">{player_clock(int(c.start * 1000))}</span> {isolated(c.text)}</p>'
        for c in cues
    )
    title = html_text(s.title)
    return f"""<h3>Transcript</h3>
    <div class="cues" tabindex="0" aria-label="Transcript of {title}">{lines}</div>"""
