"""The folder's own files: only regular, visible files under it, with validators and ranges."""

from __future__ import annotations

import logging
import os
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.types import Scope

from .ranges import RangeNotSatisfiable, parse_byte_range

__all__ = ["CONTENT_TYPES", "file_response", "not_found", "resolve"]

log = logging.getLogger(__name__)

CONTENT_TYPES = {
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


def not_found() -> Response:
    """A plain 404."""
    return Response(b"Not found\n", 404, media_type="text/plain; charset=utf-8")


def resolve(root: Path, raw: str) -> Path | None:
    """Map a raw (still percent-encoded) request path to a visible regular file under root."""
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
    try:
        file = root.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not file.is_relative_to(root) or not file.is_file():
        return None  # a symlink leading out of the folder, or a folder
    if any(part.startswith(".") for part in file.relative_to(root).parts):
        return None
    return file


def file_response(scope: Scope, file: Path) -> Response:
    """Answer for a file: 304 when the client's copy is current, a range, or all of it.

    FileResponse streams the bytes and honours If-Range; the Range header is normalised to
    one plain span first (see `ranges`), and 304 is decided here, as FileResponse does not.
    """
    try:
        stat = os.stat(file)
    except OSError:
        return not_found()
    content_type = CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")
    response = FileResponse(
        file, stat_result=stat, media_type=content_type, headers={"Cache-Control": "no-cache"}
    )
    headers = Headers(scope=scope)
    if _not_modified(headers, response.headers):
        kept = {k: response.headers[k] for k in ("etag", "last-modified", "cache-control")}
        return Response(status_code=304, headers=kept)
    wanted = headers.get("range")
    if wanted is not None:
        try:
            span = parse_byte_range(wanted, stat.st_size)
        except RangeNotSatisfiable:
            validators = {k: response.headers[k] for k in ("etag", "last-modified")}
            unsatisfiable = {"Content-Range": f"bytes */{stat.st_size}", **validators}
            return Response(status_code=416, headers=unsatisfiable)
        _set_range(scope, span)
    return response


def _set_range(scope: Scope, span: tuple[int, int] | None) -> None:
    """Replace the request's Range by the one span it asks for, or drop it (send it all)."""
    kept = [(k, v) for k, v in scope["headers"] if k.lower() != b"range"]
    if span is not None:
        kept.append((b"range", f"bytes={span[0]}-{span[1]}".encode()))
    scope["headers"] = kept


def _not_modified(request: Headers, response: Headers) -> bool:
    """Tell whether the client's cached copy is current (If-None-Match, If-Modified-Since)."""
    if_none_match = request.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or response["etag"] in tags
    since = _http_date(request.get("if-modified-since"))
    modified = _http_date(response["last-modified"])
    return since is not None and modified is not None and modified <= since


def _http_date(text: str | None) -> int | None:
    """Parse an HTTP date into a Unix time, None when absent or malformed."""
    if not text:
        return None
    try:
        return int(parsedate_to_datetime(text).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
