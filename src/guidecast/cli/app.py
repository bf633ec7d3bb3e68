"""The `guidecast` command line: the only module that imports click."""

from __future__ import annotations

import importlib
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import click

from .. import __version__
from ..compiler.options import Options, resolve_options
from ..errors import AudioError, GuidecastError, RoutineError, printable
from ..media.cores import share_one_heap
from ..model import Narration, Routine, SoundRef
from ..routine.durations import MAX_SESSION_MS, format_duration, is_bare_number, parse_duration
from ..routine.keys import MAX_COUNTDOWN_MS, RATE_RANGE
from ..routine.sounds import bed_ref
from ..sound.render import Progress
from .report import INTERRUPTED, OK

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


HINTS = {
    "offline": "use --engine piper to render offline, with the voice installed on this computer",
    "port": "choose another port with --port, or --port 0 for any free one",
    "host": "check --host: an address of this computer, e.g. 0.0.0.0 or 127.0.0.1",
}
"""What a user can do about a library error, by its `hint` (the advice names options)."""


class DurationType(click.ParamType):
    """A duration such as 20m, 14min, 1h5m, 45s or (when `bare`) 90 for seconds."""

    name = "duration"

    def __init__(
        self, *, zero: bool = False, most_ms: int = MAX_SESSION_MS, bare: bool = True
    ) -> None:
        self.zero = zero
        self.most_ms = most_ms
        self.bare = bare

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            ms = parse_duration(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)
        if ms and not self.bare and is_bare_number(str(value)):
            # A session length is minutes to people (the page offers 45 meaning 45m): a bare
            # number read as seconds would silently make a 45 s session.
            number = str(value).strip()
            self.fail(f"'{number}' has no unit: did you mean {number}m? (or {number}s)", param, ctx)
        if ms == 0 and not self.zero:
            self.fail(f"'{value}' is zero: give a positive duration", param, ctx)
        if ms > self.most_ms:
            self.fail(f"'{value}' is more than {format_duration(self.most_ms)}", param, ctx)
        return ms


class FiniteRange(click.FloatRange):
    """A number in a range; `nan` and `inf` are refused (they pass a plain range check).

    Every number the command line takes uses it: a NaN level would pass a range check and
    make a silent session.
    """

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


class CountdownType(DurationType):
    """A countdown: a duration from 0 (off) to a minute, or `beeps`."""

    name = "countdown"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.strip().lower() == "beeps":
            return BEEPS
        return super().convert(value, param, ctx)


BEEPS = "beeps"
LENGTH = DurationType(bare=False)
"""A session length: a unit is required."""
COUNTDOWN = CountdownType(zero=True, most_ms=MAX_COUNTDOWN_MS)


def _printable_args(record: logging.LogRecord) -> bool:
    """Show values in log lines (titles, file names) without their control characters."""
    if isinstance(record.args, tuple):
        record.args = tuple(
            printable(str(a)) if isinstance(a, str | Path) else a for a in record.args
        )
    return True


class BedType(click.ParamType):
    """A built-in bed name, `none`, a sound file that decodes to some sound, or a folder of
    them: what a routine's `bed:` takes, read by the same resolver (relative to the current
    folder)."""

    name = "NAME|FILE|FOLDER/"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> SoundRef:
        if isinstance(value, SoundRef):
            return value
        try:
            return bed_ref(str(value))
        except AudioError as e:
            self.fail(str(e), param, ctx)


BED = BedType()


def _setup_logging(quiet: bool, verbose: int) -> None:
    level = logging.ERROR if quiet else logging.INFO if verbose == 1 else logging.WARNING
    if verbose >= 2:
        level = logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        if _printable_args not in handler.filters:
            handler.addFilter(_printable_args)


class _LazyGroup(click.Group):
    """Loads a command's module only when that command runs (or help lists them all), so
    `guidecast render` never imports the feed, the server or the voice catalog."""

    modules: ClassVar[dict[str, str]] = {
        "check": "routines",
        "plan": "routines",
        "say": "routines",
        "render": "rendering",
        "feed": "publish",
        "serve": "publish",
        "voices": "voices",
        "build": "build",
        "schema": "routines",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.modules) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.modules:
            importlib.import_module(f"{__package__}.{self.modules[cmd_name]}")
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="guidecast")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("-v", "--verbose", count=True, help="Say more (-vv for debugging detail).")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: int) -> None:
    """Turn guided-session scripts (yoga, stretching, meditation) into narrated audio.

    \b
    Examples:
      guidecast check routines/love-your-spine.yaml
      guidecast plan routines/love-your-spine.yaml --length 45m
      guidecast render routines/love-your-spine.yaml -o output/
      guidecast serve output/

    Exit codes: 0 success, 1 a failure while working (speech engine, disk),
    2 a mistake in a routine or on the command line, 130 interrupted.
    """
    _setup_logging(quiet, verbose)
    ctx.obj = {"quiet": quiet, "verbose": verbose}


def narration_options(f: F) -> F:
    """The three narration knobs shared by `plan` and `render`."""
    decorators = [
        click.option(
            "--narration",
            "-n",
            type=click.Choice([n.value for n in Narration]),
            help="How much is said: brief (pose and one cue), standard (+ how-to steps), "
            "full (+ Sanskrit, why it helps, reminders in long holds). [default: standard]",
        ),
        click.option(
            "--length",
            "-l",
            type=LENGTH,
            help="Target session length with its unit, e.g. 20m, 14min or 1h5m: holds given as "
            "ranges stretch or shrink to fit, in proportion to their spans.",
        ),
        click.option(
            "--rate",
            "-r",
            type=FiniteRange(*RATE_RANGE),
            help="Speaking rate: 1.0 is the voice's natural pace, 0.8 slower, 1.2 faster.",
        ),
        click.option(
            "--countdown",
            type=COUNTDOWN,
            help="Count down the last seconds of every hold, e.g. --countdown 5s (0 = off), or "
            "--countdown beeps for three beeps instead of numbers.",
        ),
        click.option(
            "--breath-cues/--no-breath-cues",
            default=None,
            help="Guide the first breaths of every hold of 20s or more.",
        ),
    ]
    for decorate in reversed(decorators):
        f = decorate(f)
    return f


cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    envvar="GUIDECAST_CACHE_DIR",
    help="Where synthesized speech and what is made from it are kept. [default: the user "
    "cache folder; env GUIDECAST_CACHE_DIR]",
)
"""The speech cache's folder, for every command that renders."""


def options_for(routine: Routine, params: dict[str, Any]) -> Options:
    """Resolve command-line narration options against the routine's defaults."""
    narration = params.get("narration")
    countdown = params.get("countdown")
    return resolve_options(
        routine,
        narration=Narration(narration) if narration else None,
        length_ms=params.get("length"),
        rate=params.get("rate"),
        countdown_ms=None if countdown == BEEPS else countdown,
        breath_cues=params.get("breath_cues"),
        countdown_beeps=countdown == BEEPS or None,
    )


def _bar(ctx: click.Context) -> Progress:
    """A progress callback drawing click progress bars on stderr (a terminal, not quiet mode)."""
    state: dict[str, Any] = {}
    shown = not ctx.obj["quiet"] and sys.stderr.isatty()

    def progress(stage: str, done: int, total: int) -> None:
        if not shown or total <= 1:
            return
        if state.get("stage") != stage:
            if "bar" in state:
                state["bar"].render_finish()
            label = {
                "speech": "speech  ",
                "encode": "encoding",
                "variants": "sessions",
                "lengths": "lengths ",
            }.get(stage, stage)
            state.update(stage=stage, done=0)
            state["bar"] = click.progressbar(
                length=total,
                label=label,
                file=sys.stderr,
                show_pos=stage in ("speech", "variants", "lengths"),
                show_eta=True,
            )
        bar = state["bar"]
        bar.update(done - state["done"])
        state["done"] = done
        if done >= total:
            bar.render_finish()
            del state["bar"]
            state.pop("stage", None)

    return progress


def main() -> None:
    """Run the command line, turning GuidecastError into a message and an exit code."""
    share_one_heap()  # before any thread starts
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(INTERRUPTED)
    except click.ClickException as e:
        e.message = printable(e.message)
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except GuidecastError as e:
        # A routine's problems are one per line, each made printable; others are one line.
        click.echo(
            str(e) if isinstance(e, RoutineError) else f"error: {printable(str(e))}", err=True
        )
        if e.hint in HINTS:
            click.echo(f"hint: {HINTS[e.hint].format(**e.details)}", err=True)
        log.debug("what led to it (-vv):", exc_info=e)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(INTERRUPTED)
    sys.exit(code if isinstance(code, int) else OK)
