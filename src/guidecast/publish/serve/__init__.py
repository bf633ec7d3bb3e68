"""Serve a folder of sessions to phones on the local network: page, feed, files, variants.

`server` binds and runs uvicorn, `app` answers (Starlette), `files` and `ranges` serve the
folder's own files, `variants` and `jobs` render routines on demand.
"""

from __future__ import annotations

from .address import lan_address, terminal_qr
from .app import VARIANTS, Studio, create_app
from .config import ServeConfig
from .ranges import RangeNotSatisfiable, parse_byte_range
from .server import GuidecastServer, ServerInfo, make_server, ready_message, serve
from .variants import BEDS, RATES, Choice, ChoiceError, parse_choice

__all__ = [
    "BEDS",
    "RATES",
    "VARIANTS",
    "Choice",
    "ChoiceError",
    "GuidecastServer",
    "RangeNotSatisfiable",
    "ServeConfig",
    "ServerInfo",
    "Studio",
    "create_app",
    "lan_address",
    "make_server",
    "parse_byte_range",
    "parse_choice",
    "ready_message",
    "serve",
    "terminal_qr",
]
