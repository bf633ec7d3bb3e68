"""The `guidecast` command line: the only place that imports click.

`app` holds the group and the shared option types; `routines` checks, plans and previews
routines; `rendering` renders them; `publish` the feed and the server; `voices` the voices.
"""

from __future__ import annotations

from .app import cli, main  # the group loads each command's module when it is used

__all__ = ["cli", "main"]
