"""What `guidecast serve` is told, in one frozen object built by the command line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["CONNECTIONS_PER_CLIENT", "MAX_CONNECTIONS", "SILENT_TIMEOUT_S", "ServeConfig"]

SILENT_TIMEOUT_S = 15.0
"""Seconds a connection may wait without finishing a request (silent, or sent too slowly),
and stay idle between requests, before it is closed."""
MAX_CONNECTIONS = 4096
"""Connections open at once; past it, uvicorn answers 503 (memory stays bounded)."""
CONNECTIONS_PER_CLIENT = 32
"""Connections one address may hold; more are closed at once, so one misbehaving device
cannot use up the server while a phone is served."""


@dataclass(frozen=True)
class ServeConfig:
    """A folder to serve, where to listen, the show, routines on demand, connection limits."""

    directory: Path
    """The folder of rendered sessions."""
    host: str = "0.0.0.0"
    """The address to listen on (0.0.0.0: every interface)."""
    port: int = 8000
    """The TCP port; 0 picks a free one."""
    title: str | None = None
    """The podcast's title; None: the sessions' common series."""
    cover: Path | None = None
    """The show's artwork; None: `show.jpg` is generated from the title."""
    owner_email: str = ""
    routines: Path | None = None
    """A folder of routines listeners can render on demand into `directory/variants/`."""
    engine: str = "piper"
    """The speech engine of sessions rendered on demand."""
    voice: str | None = None
    """Their voice; None: each routine's, else the engine's choice for its language."""
    cache_dir: Path | None = None
    """The speech cache; None: GUIDECAST_CACHE_DIR, else the user cache folder."""
    names: tuple[str, ...] = ()
    """More names this computer is reached by (a router's DNS name): like its own host name
    and addresses, a page opened at one of them may make and keep sessions."""
    max_connections: int = MAX_CONNECTIONS
    connections_per_client: int = CONNECTIONS_PER_CLIENT
    silent_timeout: float = SILENT_TIMEOUT_S
