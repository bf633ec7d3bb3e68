"""Where this computer can be reached on the local network, and a QR code to get there."""

from __future__ import annotations

import io
import socket

import segno

__all__ = ["lan_address", "terminal_qr"]


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
