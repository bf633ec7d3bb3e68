"""The ASGI app: the page, the feed, the show's artwork, the folder's files, variants on demand."""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from ...errors import FeedError
from ...mp3.sessioninfo import SessionFileError, read_session_info
from ...store.atomic import write_atomic
from ...tts import default_cache_dir
from ..episodes import KEPT, VARIANTS, kept_variants, load_published
from ..feed import (
    SHOW_COVER,
    Channel,
    Session,
    build_feed,
    content_version,
    make_channel,
    show_cover,
)
from ..page import (
    COMPACT_FROM,
    MANIFEST,
    SERVICE_WORKER,
    page_text,
    render_page,
    service_worker,
    web_manifest,
)
from .address import lan_address
from .budget import QuotaFull, check_quota
from .config import ServeConfig
from .files import file_response, not_found, resolve
from .guard import MAX_HOST, BadHost, OriginGuard, own_names, parse_host
from .jobs import Busy, Job, Renderer
from .picker import picker_html
from .variants import Catalog, Choice, ChoiceError, parse_choice

__all__ = ["VARIANTS", "Studio", "create_app", "guarded"]

log = logging.getLogger(__name__)


@dataclass
class Studio:
    """What the server serves: a folder of sessions and, optionally, routines on demand."""

    root: Path
    title: str | None = None
    cover: Path | None = None
    """The show's artwork given by the user; else `show.jpg` is generated from the title."""
    owner_email: str = ""
    catalog: Catalog | None = None
    renderer: Renderer | None = None

    def __post_init__(self) -> None:
        self._kept_lock = threading.Lock()

    @classmethod
    def open(cls, config: ServeConfig) -> Studio:
        """Check the folders and the cover at start, so that mistakes show before any phone."""
        directory, routines, cover = config.directory, config.routines, config.cover
        if routines is not None:
            if not routines.is_dir():
                raise FeedError(f"{routines}: no such folder of routines")
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise FeedError(f"{directory}: cannot create the folder: {e.strerror}") from e
        if not directory.is_dir():
            raise FeedError(f"{directory}: no such folder; render a session into it first")
        if cover is not None:
            _show_cover("", cover, _mtime(cover))  # a bad image fails at start, not on a phone
        root = directory.resolve()
        studio = cls(root, config.title, cover, config.owner_email)
        if routines is not None:
            studio.catalog = Catalog(routines.resolve())
            cache = config.cache_dir or _env_cache() or default_cache_dir()
            studio.renderer = Renderer(
                root / VARIANTS,
                engine=config.engine,
                voice=config.voice,
                cache_dir=cache,
                kept=studio.kept,
            )
        return studio

    def sessions(self) -> list[Session]:
        """The folder's sessions and the variants listeners kept, newest first."""
        return load_published(self.root, skip_broken=True)

    def channel(self, sessions: list[Session]) -> Channel:
        return make_channel(
            self.root,
            sessions,
            title=self.title,
            owner_email=self.owner_email,
            own_cover=self.cover is not None,
        )

    def kept(self) -> set[str]:
        """The names of the variants listeners chose to keep in the feed."""
        return kept_variants(self.root)

    def keep(self, name: str, *, kept: bool) -> None:
        """Add a variant to the feed, or take it out; QuotaFull when the feed keeps enough."""
        with self._kept_lock:
            before = self.kept()
            if kept and name not in before:
                check_quota(self.root / VARIANTS, before, name)
            names = before - {name} | ({name} if kept else set())
            if names == before and (self.root / VARIANTS / KEPT).is_file():
                return
            (self.root / VARIANTS).mkdir(exist_ok=True)  # none rendered yet: nothing to take out
            data = json.dumps(sorted(names), indent=1).encode() + b"\n"
            write_atomic(self.root / VARIANTS / KEPT, data)

    def close(self) -> None:
        if self.renderer is not None:
            self.renderer.close()


def _env_cache() -> Path | None:
    value = os.environ.get("GUIDECAST_CACHE_DIR")
    return Path(value) if value else None


def create_app(studio: Studio, *, server_name: str, server_port: int) -> Starlette:
    """Build the app; links use the Host the client sent, else server_name:server_port."""

    def base_url(request: Request) -> str:
        """Build the base URL from the Host the client used, so links work from the phone."""
        host = request.headers.get("host", "").strip()
        try:
            name, port = parse_host(host) if len(host) <= MAX_HOST else ("", None)
        except BadHost:
            name, port = "", None
        if not name:
            name, port = lan_address(server_name), server_port
        authority = f"[{name}]" if ":" in name else name
        return f"http://{authority}" + (f":{port}" if port is not None else "")

    def page(request: Request) -> Response:
        def build() -> bytes:
            sessions = studio.sessions()
            routines = studio.catalog.routines() if studio.catalog else {}
            html = render_page(
                sessions,
                studio.channel(sessions),
                feed_url=base_url(request) + "/feed.xml",
                directory=studio.root,
                makers=picker_html(routines, expanded=len(routines) < COMPACT_FROM),
            )
            return html.encode("utf-8", "replace")

        return _generated("text/html; charset=utf-8", build, request)

    def feed(request: Request) -> Response:
        def build() -> bytes:
            sessions = studio.sessions()
            return build_feed(sessions, base_url(request), studio.channel(sessions))

        return _generated("application/rss+xml; charset=utf-8", build, request)

    def cover(request: Request) -> Response:
        def build() -> bytes:
            image = studio.cover
            if image is not None:
                return _show_cover("", image, _mtime(image))
            return _show_cover(studio.channel(studio.sessions()).title, None, 0)

        return _generated("image/jpeg", build, request)

    def manifest(request: Request) -> Response:
        def build() -> bytes:
            title = page_text(studio.channel(studio.sessions()).title)
            return json.dumps(web_manifest(title), ensure_ascii=False).encode()

        return _generated("application/manifest+json", build, request)

    def worker(request: Request) -> Response:
        return _generated("text/javascript; charset=utf-8", service_worker, request)

    def files(request: Request) -> Response:
        raw = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        file = resolve(studio.root, raw)
        return not_found() if file is None else file_response(request.scope, file)

    routes = [
        Route("/", page, methods=["GET", "HEAD"]),
        Route("/index.html", page, methods=["GET", "HEAD"]),
        Route("/feed.xml", feed, methods=["GET", "HEAD"]),
        Route("/" + SHOW_COVER, cover, methods=["GET", "HEAD"]),
        Route("/" + MANIFEST, manifest, methods=["GET", "HEAD"]),
        Route("/" + SERVICE_WORKER, worker, methods=["GET", "HEAD"]),
        *_variant_routes(studio),
        Route("/{path:path}", files, methods=["GET", "HEAD"]),
    ]
    return Starlette(routes=routes)


def guarded(app: ASGIApp, *, server_name: str, names: tuple[str, ...] = ()) -> ASGIApp:
    """The app behind the Host and Origin checks (see `guard`); `names` are more of the
    computer's own names."""
    return OriginGuard(app, names=own_names(server_name, (n.lower().rstrip(".") for n in names)))


def _variant_routes(studio: Studio) -> list[Route]:
    """The JSON endpoints of sessions on demand: ask for a variant, follow it, keep it."""

    def choice_of(request: Request) -> tuple[Choice, Any]:
        if studio.catalog is None or studio.renderer is None:
            raise ChoiceError("this server has no routines to render (start it with --routines)")
        routines = studio.catalog.routines()
        choice = parse_choice(routines, request.query_params)
        return choice, routines[choice.routine]

    def answer(choice: Choice, job: Job | None) -> JSONResponse:
        body: dict[str, Any] = {"name": choice.name, "query": choice.query(), "state": "new"}
        if job is not None:
            body |= {"state": job.state, "progress": job.progress, "stage": job.stage}
            body |= {"error": job.error} if job.error else {}
            body |= {"seconds": round(job.seconds, 3)} if job.seconds else {}
            if job.state == "queued" and studio.renderer is not None:
                body["ahead"] = studio.renderer.ahead(choice)
        if job is not None and job.state == "ready":
            session = _variant_session(studio.root / VARIANTS, choice.name)
            if session is None:
                body["state"] = "new"
            else:
                body |= {"session": session, "kept": choice.name in studio.kept()}
        return JSONResponse(body, 202 if body["state"] in ("queued", "rendering") else 200)

    def variant(request: Request) -> Response:
        try:
            choice, routine = choice_of(request)
        except ChoiceError as e:
            return PlainTextResponse(f"{e}\n", 400)
        assert studio.catalog is not None and studio.renderer is not None
        modified = studio.catalog.modified_ns(choice.routine)
        if request.method == "POST":
            try:
                client = request.client.host if request.client else ""
                job = studio.renderer.request(choice, routine, modified, client=client)
            except Busy as e:
                retry = {"Retry-After": str(e.retry_after)}
                return PlainTextResponse(f"{e}\n", 429, headers=retry)
            return answer(choice, job)
        return answer(choice, studio.renderer.status(choice, modified))

    def keep(request: Request) -> Response:
        try:
            choice, _ = choice_of(request)
        except ChoiceError as e:
            return PlainTextResponse(f"{e}\n", 400)
        assert studio.catalog is not None and studio.renderer is not None
        modified = studio.catalog.modified_ns(choice.routine)
        job = studio.renderer.status(choice, modified)
        if request.method == "POST" and (job is None or job.state != "ready"):
            return PlainTextResponse("render this variant before keeping it\n", 409)
        try:
            studio.keep(choice.name, kept=request.method == "POST")
        except QuotaFull as e:
            return PlainTextResponse(f"{e}\n", 507)
        return answer(choice, job)

    return [
        Route("/api/variant", variant, methods=["GET", "POST"]),
        Route("/api/keep", keep, methods=["POST", "DELETE"]),
    ]


def _variant_session(folder: Path, name: str) -> dict[str, Any] | None:
    """What the page needs to play a rendered variant, or None when its files are gone."""
    try:
        info = read_session_info(folder / f"{name}.session.json")
        version = content_version(folder / info.mp3)
    except (OSError, SessionFileError) as e:
        log.warning("%s: cannot read the variant: %s", name, e)
        return None
    return {
        "title": page_text(info.title),
        "mp3": f"{VARIANTS}/{quote(info.mp3)}?v={version}",
        "duration_ms": info.duration_ms,
        "chapters": [
            {"title": page_text(c.title), "start_ms": c.start_ms, "end_ms": c.end_ms}
            for c in info.chapters
        ],
        "captions": [
            {"start_ms": c.start_ms, "end_ms": c.end_ms, "text": page_text(c.text)}
            for c in info.captions
        ],
    }


def _generated(content_type: str, build: Callable[[], bytes], request: Request) -> Response:
    """A page, feed or image made for this request; an error costs one answer, not the server."""
    try:
        return Response(build(), media_type=content_type, headers={"Cache-Control": "no-cache"})
    except FeedError as e:
        log.error("%s", e)
        message = f"{e}\n"
    except Exception:
        log.exception("cannot build %s", request.url.path)
        message = "Internal error\n"
    return PlainTextResponse(message, 500, headers={"Cache-Control": "no-cache"})


@functools.lru_cache(maxsize=8)
def _show_cover(title: str, image: Path | None, mtime_ns: int) -> bytes:
    """The show's artwork, made once per title or image version (mtime_ns is in the key)."""
    return show_cover(title, image)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
