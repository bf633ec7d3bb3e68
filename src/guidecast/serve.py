"""Serve a folder of sessions to phones on the local network: page, feed and byte ranges."""

from __future__ import annotations

import errno
import functools
import io
import logging
import os
import re
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import unquote, urlsplit

import segno

from .errors import FeedError
from .feed import (
    SHOW_COVER,
    Channel,
    Session,
    build_feed,
    load_sessions,
    make_channel,
    show_cover,
)
from .page import render_page

__all__ = [
    "GuidecastServer",
    "RangeNotSatisfiable",
    "ServerInfo",
    "lan_address",
    "make_server",
    "parse_byte_range",
    "ready_message",
    "serve",
    "terminal_qr",
]

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
_HOST = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_MAX_HOST = 261
"""A DNS name of at most 253 characters, or a bracketed IPv6 address, and a port."""
_TYPES = {
    ".mp3": "audio/mpeg",
    ".json": "application/json",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".xml": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class ServerInfo:
    """Where a running server can be reached."""

    directory: Path
    host: str
    """The address the server listens on (0.0.0.0: every interface)."""
    port: int
    address: str
    """The host a phone on the same network should use, e.g. 192.168.1.23."""
    page_url: str
    feed_url: str
    qr: str
    """A QR code of feed_url drawn with block characters for the terminal."""
    sessions: int
    """How many sessions the folder held at start."""


class RangeNotSatisfiable(Exception):
    """Signal that a Range header asks only for bytes past the end of the file."""


def lan_address(host: str = "0.0.0.0") -> str:
    """Return the IP address other machines on the network can reach this one at."""
    if host not in ("", "0.0.0.0", "::"):
        return host
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            # Connecting a UDP socket sends nothing: it only picks the outward interface.
            probe.connect(("10.254.254.254", 1))
            address: str = probe.getsockname()[0]
            if not address.startswith("0."):
                return address
    except OSError:
        pass
    try:
        address = socket.gethostbyname(socket.gethostname())
        if not address.startswith("127."):
            return address
    except OSError:
        pass
    return "127.0.0.1"


def terminal_qr(url: str) -> str:
    """Draw a QR code of a URL with block characters for a terminal."""
    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True)
    return out.getvalue()


def ready_message(info: ServerInfo) -> str:
    """Describe a running server for the terminal: URLs, QR code and how to stop."""
    return (
        f"Serving {info.sessions} session{'s' if info.sessions != 1 else ''} "
        f"from {info.directory}\n"
        f"Page (open it on a phone on the same Wi-Fi): {info.page_url}\n"
        f"Podcast feed (scan to subscribe):            {info.feed_url}\n"
        f"{info.qr}"
        "Press Ctrl-C to stop."
    )


_DIGITS = re.compile(r"[0-9]+")
_BIG = 1 << 62
"""Byte positions beyond any file: longer numbers are read as this (int() of 5,000 digits fails)."""


def _position(text: str) -> int | None:
    """Read an ASCII decimal byte position ('²' and other Unicode digits are not one)."""
    if not _DIGITS.fullmatch(text):
        return None
    return int(text) if len(text) <= 18 else _BIG


def parse_byte_range(header: str, size: int) -> tuple[int, int] | None:
    """Return the inclusive byte span a single-range header asks for, None to send it all."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None  # unknown units and multiple ranges get the whole file
    first_text, dash, last_text = spec.strip().partition("-")
    first, last = _position(first_text), _position(last_text)
    malformed = (first_text and first is None) or (last_text and last is None)
    if not dash or malformed or (first is None and last is None):
        return None  # a malformed range is ignored (RFC 9110): the whole file
    if first is None:
        assert last is not None
        if last == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - last), size - 1
    if last is not None and last < first:
        return None
    end = last if last is not None else size - 1
    if first >= size:
        raise RangeNotSatisfiable
    return first, min(end, size - 1)


class GuidecastServer(ThreadingHTTPServer):
    """An HTTP server for one folder of sessions, one thread per connection.

    Slow or stuck clients cannot starve the others: a connection that sends nothing for
    `_Handler.timeout` seconds is closed, and one address holds at most
    `connections_per_client` connections at once (more are closed at once), so a phone on
    the network is served while another device misbehaves.
    """

    daemon_threads = True
    request_queue_size = 64  # a page load opens several connections at once
    connections_per_client = 32

    def __init__(
        self,
        directory: Path,
        address: tuple[str, int],
        *,
        title: str | None,
        cover: Path | None = None,
        owner_email: str = "",
    ) -> None:
        self.root = directory.resolve()
        self.title = title
        self._open: dict[str, int] = {}
        self._open_lock = threading.Lock()
        self.cover = cover
        """The show's artwork given by the user; else `show.jpg` is generated from the title."""
        self.owner_email = owner_email
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on a broken DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def info(self) -> ServerInfo:
        """Describe where this server can be reached."""
        address = lan_address(self.server_name)
        authority = f"[{address}]" if ":" in address else address
        base = f"http://{authority}:{self.server_port}"
        return ServerInfo(
            directory=self.root,
            host=self.server_name,
            port=self.server_port,
            address=address,
            page_url=base + "/",
            feed_url=base + "/feed.xml",
            qr=terminal_qr(base + "/feed.xml"),
            sessions=len(load_sessions(self.root, skip_broken=True)),
        )

    def process_request(self, request: Any, client_address: Any) -> None:
        host = str(client_address[0])
        with self._open_lock:
            if self._open.get(host, 0) >= self.connections_per_client:
                log.debug("%s has %d connections open; closing another", host, self._open[host])
                self.shutdown_request(request)
                return
            self._open[host] = self._open.get(host, 0) + 1
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            host = str(client_address[0])
            with self._open_lock:
                self._open[host] -= 1
                if not self._open[host]:
                    del self._open[host]

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            log.debug("%s went away: %s", client_address, error)
        else:
            log.exception("error while answering %s", client_address)


def make_server(
    directory: Path,
    *,
    host: str = "0.0.0.0",
    port: int = 8000,
    title: str | None = None,
    cover: Path | None = None,
    owner_email: str = "",
) -> GuidecastServer:
    """Bind a server for directory (port 0 picks a free port); run it with serve_forever()."""
    if not directory.is_dir():
        raise FeedError(f"{directory}: no such folder; render a session into it first")
    if cover is not None:
        _show_cover("", cover, _mtime(cover))  # a bad image fails at start, not on a phone
    try:
        return GuidecastServer(
            directory, (host, port), title=title, cover=cover, owner_email=owner_email
        )
    except socket.gaierror as e:
        raise FeedError(f"cannot listen on {host!r}: {e.strerror}").with_hint("host") from e
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise FeedError(f"port {port} is already in use").with_hint("port") from e
        raise FeedError(f"cannot listen on {host}:{port}: {e.strerror}") from e


def serve(
    directory: Path,
    *,
    host: str = "0.0.0.0",
    port: int = 8000,
    title: str | None = None,
    cover: Path | None = None,
    owner_email: str = "",
    on_ready: Callable[[ServerInfo], None] | None = None,
) -> None:
    """Serve directory until Ctrl-C, calling on_ready once the server listens."""
    with make_server(
        directory, host=host, port=port, title=title, cover=cover, owner_email=owner_email
    ) as server:
        info = server.info
        if on_ready is not None:
            on_ready(info)
        else:
            log.info("%s", ready_message(info))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            log.info("stopped serving %s", directory)


class _Handler(BaseHTTPRequestHandler):
    """Answer GET and HEAD for the page, the feed and the files of the folder."""

    server_version = "guidecast"
    protocol_version = "HTTP/1.1"
    timeout = 15
    """Seconds a connection may stay silent (an idle keep-alive, or a request sent too slowly)
    before it is closed."""

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)

    @property
    def _server(self) -> GuidecastServer:
        return cast(GuidecastServer, self.server)

    def _answer(self, *, body: bool) -> None:
        target = self.path
        if not target.startswith("/"):  # absolute-form: http://host/path
            target = urlsplit(target).path or "/"
        path = target.split("?", 1)[0].split("#", 1)[0]
        try:
            if path in ("/", "/index.html"):
                self._send_generated("text/html; charset=utf-8", self._page, body)
            elif path == "/feed.xml":
                self._send_generated("application/rss+xml; charset=utf-8", self._feed, body)
            elif path == "/" + SHOW_COVER:
                self._send_generated("image/jpeg", self._show_cover, body)
            else:
                self._send_file(path, body)
        except (BrokenPipeError, ConnectionResetError) as e:
            log.debug("%s went away: %s", self.address_string(), e)
            self.close_connection = True

    def _base_url(self) -> str:
        """Build the base URL from the Host the client used, so links work from the phone."""
        host = self.headers.get("Host", "").strip()
        if len(host) > _MAX_HOST or not _HOST.fullmatch(host):
            info_host = lan_address(self._server.server_name)
            authority = f"[{info_host}]" if ":" in info_host else info_host
            host = f"{authority}:{self._server.server_port}"
        return f"http://{host}"

    def _channel(self) -> tuple[list[Session], Channel]:
        server = self._server
        sessions = load_sessions(server.root, skip_broken=True)
        channel = make_channel(
            server.root,
            sessions,
            title=server.title,
            owner_email=server.owner_email,
            own_cover=server.cover is not None,
        )
        return sessions, channel

    def _feed(self) -> bytes:
        sessions, channel = self._channel()
        return build_feed(sessions, self._base_url(), channel)

    def _show_cover(self) -> bytes:
        cover = self._server.cover
        _, channel = self._channel()
        return _show_cover("" if cover else channel.title, cover, _mtime(cover) if cover else 0)

    def _page(self) -> bytes:
        root = self._server.root
        sessions, channel = self._channel()
        feed_url = self._base_url() + "/feed.xml"
        page = render_page(sessions, channel, feed_url=feed_url, directory=root)
        return page.encode("utf-8", "replace")

    def _send_generated(self, content_type: str, build: Callable[[], bytes], body: bool) -> None:
        try:
            data, status = build(), HTTPStatus.OK
        except FeedError as e:
            log.error("%s", e)
            data, status = f"{e}\n".encode(errors="replace"), HTTPStatus.INTERNAL_SERVER_ERROR
            content_type = "text/plain; charset=utf-8"
        except Exception:  # a bug must cost one answer, not the connection without a reply
            log.exception("cannot build %s", self.path)
            data, status = b"Internal error\n", HTTPStatus.INTERNAL_SERVER_ERROR
            content_type = "text/plain; charset=utf-8"
        self._send_bytes(status, content_type, data, body)

    def _send_bytes(self, status: HTTPStatus, content_type: str, data: bytes, body: bool) -> None:
        headers = {"Content-Type": content_type, "Content-Length": str(len(data))}
        self._send_head(status, {**headers, "Cache-Control": "no-cache"})
        if body:
            self.wfile.write(data)

    def _resolve(self, raw: str) -> Path | None:
        """Map a request path to a visible regular file under the folder, or None."""
        lowered = raw.lower()
        if any(code in lowered for code in ("%2f", "%5c", "%00")):
            return None
        try:
            path = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if not path.startswith("/") or "\\" in path or "\x00" in path:
            return None
        parts = path[1:].split("/")
        if any(not part or part.startswith(".") or ":" in part for part in parts):
            return None  # empty segments (//etc), dot segments, hidden files, drive letters
        root = self._server.root
        try:
            file = root.joinpath(*parts).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not file.is_relative_to(root) or not file.is_file():
            return None  # a symlink leading out of the folder, or a folder
        if any(part.startswith(".") for part in file.relative_to(root).parts):
            return None
        return file

    def _send_file(self, raw: str, body: bool) -> None:
        file = self._resolve(raw)
        try:
            handle = file.open("rb") if file else None
        except OSError:
            handle = None
        if file is None or handle is None:
            self._send_bytes(
                HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"Not found\n", body
            )
            return
        with handle:
            stat = os.fstat(handle.fileno())
            size, mtime = stat.st_size, int(stat.st_mtime)
            etag = f'"{size:x}-{stat.st_mtime_ns:x}"'
            validators = {"ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True)}
            if self._not_modified(etag, mtime):
                self._send_head(HTTPStatus.NOT_MODIFIED, validators)
                return
            headers = {
                "Content-Type": _TYPES.get(file.suffix.lower(), "application/octet-stream"),
                "Accept-Ranges": "bytes",
                "Cache-Control": "no-cache",
                **validators,
            }
            span = None
            wanted = self.headers.get("Range")
            if wanted is not None and self._if_range_holds(etag, mtime):
                try:
                    span = parse_byte_range(wanted, size)
                except RangeNotSatisfiable:
                    headers = {"Content-Range": f"bytes */{size}", "Content-Length": "0"}
                    self._send_head(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, headers)
                    return
            start, end = span or (0, size - 1)
            headers["Content-Length"] = str(end - start + 1)
            if span:
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            self._send_head(HTTPStatus.PARTIAL_CONTENT if span else HTTPStatus.OK, headers)
            if body:
                self._copy(handle, start, end - start + 1)

    def _send_head(self, status: HTTPStatus, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _copy(self, handle: BinaryIO, start: int, length: int) -> None:
        """Stream part of a file in chunks, never holding the whole file in memory."""
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:  # the file shrank: the promised length cannot be kept
                self.close_connection = True
                return
            self.wfile.write(chunk)
            length -= len(chunk)

    def _not_modified(self, etag: str, mtime: int) -> bool:
        """Tell whether the client's cached copy is current (If-None-Match, If-Modified-Since)."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
            return "*" in tags or etag in tags
        since = _http_date(self.headers.get("If-Modified-Since"))
        return since is not None and mtime <= since

    def _if_range_holds(self, etag: str, mtime: int) -> bool:
        """Tell whether a Range applies: no If-Range, or one naming the current version."""
        condition = self.headers.get("If-Range")
        if condition is None:
            return True
        condition = condition.strip()
        if condition.startswith('"'):
            return condition == etag
        return _http_date(condition) == mtime


@functools.lru_cache(maxsize=8)
def _show_cover(title: str, image: Path | None, mtime_ns: int) -> bytes:
    """The show's artwork, made once per title or image version (mtime_ns is in the key)."""
    return show_cover(title, image)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _http_date(text: str | None) -> int | None:
    """Parse an HTTP date into a Unix time, None when absent or malformed."""
    if not text:
        return None
    try:
        return int(parsedate_to_datetime(text).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
