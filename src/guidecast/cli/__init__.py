"""The `guidecast` command line: the only place that imports click.

`app` holds the group and the shared option types; `routines` checks, plans and previews
routines; `rendering` renders them; `publish` the feed and the server; `voices` the voices.
"""

from __future__ import annotations

from . import publish, rendering, routines, voices  # noqa: F401 - register their commands
from .app import cli, main

__all__ = ["cli", "main"]
