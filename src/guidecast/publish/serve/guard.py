"""Who may ask the server for what: a well-formed Host, and changes only from its own page.

Reading (GET, HEAD) is open to any client on the network, as a podcast app needs. Requests
that change something (POST, DELETE: render a variant, keep it in the feed) are accepted only
when the Host is one of the server's own names or addresses (a page of another site whose name
was rebound to this computer's address is answered 421) and, when the browser says where the
request comes from, the Origin is the page the server itself served (else 403).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
import socket
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["MAX_HOST", "SAFE_METHODS", "BadHost", "OriginGuard", "own_names", "parse_host"]

log = logging.getLogger(__name__)

MAX_HOST = 261
"""A DNS name of at most 253 characters, or a bracketed IPv6 address, and a port."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_PORT = re.compile(r"[0-9]{1,5}")


class BadHost(ValueError):
    """A Host header that names no host: the message says what is wrong, in one line."""


def parse_host(value: str) -> tuple[str, int | None]:
    """Split a Host header into a lower-case host (an IPv6 address without brackets) and a port.

    BadHost when it is not a DNS name, an IPv4 address or a bracketed IPv6 address, with an
    optional port from 1 to 65535.
    """
    text = value.strip()
    if text.startswith("["):
        inner, bracket, rest = text[1:].partition("]")
        if not bracket:
            raise BadHost("an IPv6 address without its closing bracket")
        try:
            host = str(ipaddress.IPv6Address(inner))
        except ValueError:
            raise BadHost("only an IPv6 address may stand in brackets") from None
        port_text = rest.removeprefix(":") if rest.startswith(":") else None
        if rest and port_text is None:
            raise BadHost("text after the closing bracket")
    else:
        host, colon, port_text_or_empty = text.partition(":")
        port_text = port_text_or_empty if colon else None
        if not _NAME.fullmatch(host):
            raise BadHost("not a host name or an address")
        if host.replace(".", "").isdigit():
            try:
                host = str(ipaddress.IPv4Address(host))
            except ValueError:
                raise BadHost("not an IPv4 address") from None
        host = host.rstrip(".").lower()
    if port_text is None:
        return host, None
    if not _PORT.fullmatch(port_text) or not 1 <= int(port_text) <= 65535:
        raise BadHost("the port must be a number from 1 to 65535")
    return host, int(port_text)


def own_names(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names this computer answers to, besides its addresses (checked per request)."""
    names = {"localhost", "localhost.localdomain", *extra}
    if bound not in ("", "0.0.0.0", "::"):
        names.add(bound.lower())
    try:
        hostname = socket.gethostname().lower()
        names |= {hostname, hostname.split(".")[0] + ".local", socket.getfqdn().lower()}
    except OSError:
        pass
    return frozenset(n for n in names if n)


@functools.lru_cache(maxsize=64)
def _is_local_address(host: str) -> bool:
    """Tell whether an IP address belongs to this computer (it can be bound to)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if address.is_unspecified or address.is_multicast:
        return False
    if address.is_loopback:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))  # the kernel refuses an address that is not this machine's
    except OSError:
        return False
    return True


class OriginGuard:
    """ASGI middleware: a malformed Host gets 400; a change from elsewhere 421 or 403."""

    def __init__(self, app: ASGIApp, *, names: frozenset[str]) -> None:
        self.app = app
        self.names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, message = refusal
        log.info("%s %s refused (%d): %s", scope["method"], scope["path"], status, message)
        response = PlainTextResponse(message + "\n", status, headers={"Connection": "close"})
        await response(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """Why a request is refused, as (status, message), or None when it may go on."""
        headers = Headers(scope=scope)
        raw_host = headers.get("host", "")
        host: tuple[str, int | None] | None = None
        if raw_host and len(raw_host) <= MAX_HOST:
            try:
                host = parse_host(raw_host)
            except BadHost as e:
                return 400, f"bad Host header: {e}"
        if scope["method"] in SAFE_METHODS:
            return None
        if host is None or not self.is_own(host[0], scope):
            return 421, "this server answers changes only at its own address; open its page"
        origin = headers.get("origin")
        if origin is not None and not _same_origin(origin, host):
            return 403, "changes are accepted only from this server's own page"
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return 403, "changes are accepted only from this server's own page"
        return None

    def is_own(self, host: str, scope: Scope) -> bool:
        """Tell whether a Host names this server: one of its names or addresses."""
        if host in self.names:
            return True
        server = scope.get("server")
        if server and str(server[0]).lower() == host:
            return True  # the very address the client connected to
        return _is_local_address(host)


def _same_origin(origin: str, host: tuple[str, int | None]) -> bool:
    """Tell whether a browser's Origin header is this server's page at the Host asked for."""
    scheme, separator, authority = origin.strip().partition("://")
    if scheme.lower() != "http" or not separator or len(authority) > MAX_HOST:
        return False  # "null" (a sandboxed or file page), https: another site
    try:
        name, port = parse_host(authority)
    except BadHost:
        return False
    return (name, port or 80) == (host[0], host[1] or 80)
