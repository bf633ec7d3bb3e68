"""Run the app on the local network with uvicorn: bind, cap connections, announce, stop."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ...errors import FeedError
from .address import lan_address, terminal_qr
from .app import Studio, create_app, guarded
from .config import ServeConfig

__all__ = [
    "GuidecastServer",
    "ServerInfo",
    "lan_address",
    "make_server",
    "ready_message",
    "serve",
    "terminal_qr",
]

log = logging.getLogger(__name__)


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
    routines: int = 0
    """How many routines listeners can render on demand."""


def ready_message(info: ServerInfo) -> str:
    """Describe a running server for the terminal: URLs, QR code and how to stop."""
    what = f"{info.sessions} session{'s' if info.sessions != 1 else ''}"
    if info.routines:
        what += f" and {info.routines} routine{'s' if info.routines != 1 else ''} on demand"
    return (
        f"Serving {what} from {info.directory}\n"
        f"Page (open it on a phone on the same Wi-Fi): {info.page_url}\n"
        f"Podcast feed (scan to subscribe):            {info.feed_url}\n"
        f"{info.qr}"
        "Press Ctrl-C to stop."
    )


def _protocol(per_client: int, silent_timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a per-address cap and a deadline for each whole request.

    uvicorn times out only idle keep-alive connections after a response, and forgets that
    timer on every byte a client sends; a connection that trickles its request (a byte every
    few seconds) would stay open for good and count against the cap. Here the deadline starts
    with a connection or with the first byte of a request and is never moved: the request's
    head and body must have arrived `silent_timeout` seconds later, or the connection closes.
    """
    open_by_host: Counter[str] = Counter()
    finished = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED)

    class Protocol(H11Protocol):
        _host = ""
        _refused = False
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            peer = transport.get_extra_info("peername")
            self._host = str(peer[0]) if peer else ""
            if open_by_host[self._host] >= per_client:
                log.debug("%s has %d connections open; closing another", self._host, per_client)
                self._refused = True
                transport.close()
                return
            open_by_host[self._host] += 1
            super().connection_made(transport)
            self._arm()  # a connection that sends nothing at all

        def connection_lost(self, exc: Exception | None) -> None:
            if self._refused:
                return
            open_by_host[self._host] -= 1
            if open_by_host[self._host] <= 0:
                del open_by_host[self._host]
            self._disarm()
            if exc is not None:
                log.debug("%s went away: %s", self._host, exc)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._follow()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._follow()

        def _follow(self) -> None:
            """Keep the deadline while a request is unfinished; drop it once it has arrived."""
            state = self.conn.their_state
            if state in finished or (state is h11.IDLE and not self.conn.trailing_data[0]):
                self._disarm()  # answered or being answered; uvicorn's keep-alive takes over
            elif self._deadline is None:
                self._arm()  # the first byte of a request: its clock starts, once

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(silent_timeout, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if self.conn.their_state not in finished and not self.transport.is_closing():
                log.debug("%s sent no whole request in %gs; closing", self._host, silent_timeout)
                self.transport.close()

    return Protocol


class GuidecastServer:
    """A bound socket and the uvicorn server that answers on it (run it with serve_forever)."""

    def __init__(self, sock: socket.socket, studio: Studio, config: ServeConfig) -> None:
        self.socket = sock
        self.studio = studio
        self.root = studio.root
        self.connections_per_client = config.connections_per_client
        host, port = sock.getsockname()[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.server_address = (self.server_name, self.server_port)
        answering = uvicorn.Config(
            guarded(
                create_app(studio, server_name=self.server_name, server_port=self.server_port),
                server_name=self.server_name,
                names=config.names,
            ),
            http=_protocol(config.connections_per_client, config.silent_timeout),
            lifespan="off",
            log_config=None,
            access_log=log.isEnabledFor(logging.INFO),
            limit_concurrency=config.max_connections,
            timeout_keep_alive=int(config.silent_timeout),
            timeout_graceful_shutdown=2,
            server_header=False,
        )
        self._uvicorn = uvicorn.Server(answering)
        self._stopped = threading.Event()

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
            sessions=len(self.studio.sessions()),
            routines=len(self.studio.catalog.routines()) if self.studio.catalog else 0,
        )

    @property
    def open_connections(self) -> int:
        """Connections the server holds right now (those refused at once not counted)."""
        return len(self._uvicorn.server_state.connections)

    def serve_forever(self) -> None:
        """Answer requests until shutdown() (or, in the main thread, Ctrl-C)."""
        self._stopped.clear()
        try:
            self._uvicorn.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serve_forever (from another thread) and wait for it to return."""
        self._uvicorn.should_exit = True
        self._stopped.wait(timeout=10)

    def server_close(self) -> None:
        """Close the listening socket and stop the render worker."""
        self.socket.close()
        self.studio.close()

    def __enter__(self) -> GuidecastServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server_close()


def _bind(host: str, port: int) -> socket.socket:
    """Listen on host:port (0 picks a free port), turning failures into FeedError."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)  # a flood of connections waits here for the event loop, not refused
    except socket.gaierror as e:
        sock.close()
        raise FeedError(f"cannot listen on {host!r}: {e.strerror}").with_hint("host") from e
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise FeedError(f"port {port} is already in use").with_hint("port") from e
        raise FeedError(f"cannot listen on {host}:{port}: {e.strerror}") from e
    sock.setblocking(False)
    return sock


def make_server(config: ServeConfig) -> GuidecastServer:
    """Bind a server as configured (port 0 picks a free port); run it with serve_forever().

    With `config.routines`, listeners can also render the routines of that folder on demand
    (see `Studio`).
    """
    studio = Studio.open(config)
    return GuidecastServer(_bind(config.host, config.port), studio, config)


def _room_for_connections(connections: int) -> None:
    """Let this process open a file per connection (often only 1,024 by default).

    Past the limit the event loop cannot accept, and every phone waits.
    """
    try:
        import resource  # Unix only
    except ImportError:
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = connections + 256
        if soft != resource.RLIM_INFINITY and soft < wanted:
            limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    except (OSError, ValueError) as e:
        log.debug("cannot raise the open-file limit: %s", e)


def serve(config: ServeConfig, *, on_ready: Callable[[ServerInfo], None] | None = None) -> None:
    """Serve as configured until Ctrl-C, calling on_ready once the server listens."""
    _room_for_connections(config.max_connections)
    with make_server(config) as server:
        info = server.info
        if on_ready is not None:
            on_ready(info)
        else:
            log.info("%s", ready_message(info))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            log.info("stopped serving %s", config.directory)
