"""The `guidecast` command line: the only module that imports click."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .compiler import compile_routine, resolve_options
from .durations import parse_duration
from .errors import GuidecastError, RoutineError
from .model import Narration, Routine
from .plan import plan_json, plan_table
from .routine import load_routine
from .speech import Estimate
from .timeline import Options, layout

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


class DurationType(click.ParamType):
    """A duration such as 20m, 1h5m, 45s or 90 (seconds)."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            ms = parse_duration(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)
        return ms


DURATION = DurationType()


def _setup_logging(quiet: bool, verbose: int) -> None:
    level = logging.ERROR if quiet else logging.INFO if verbose == 1 else logging.WARNING
    if verbose >= 2:
        level = logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="guidecast")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("-v", "--verbose", count=True, help="Say more (-vv for debugging detail).")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: int) -> None:
    """Turn guided-session scripts (yoga, stretching, meditation) into narrated audio.

    \b
    Typical use:
      guidecast check routines/love-your-spine.yaml
      guidecast plan routines/love-your-spine.yaml --length 30m
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
            type=DURATION,
            help="Target session length, e.g. 20m or 1h5m: holds given as ranges stretch or "
            "shrink to fit, in proportion to their spans.",
        ),
        click.option(
            "--rate",
            "-r",
            type=click.FloatRange(0.5, 2.0),
            help="Speaking rate: 1.0 is the voice's natural pace, 0.8 slower, 1.2 faster.",
        ),
        click.option(
            "--countdown",
            type=DURATION,
            help="Count down the last seconds of every hold, e.g. --countdown 5s (0 = off).",
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


def options_for(routine: Routine, params: dict[str, Any]) -> Options:
    """Resolve command-line narration options against the routine's defaults."""
    narration = params.get("narration")
    return resolve_options(
        routine,
        narration=Narration(narration) if narration else None,
        length_ms=params.get("length"),
        rate=params.get("rate"),
        countdown_ms=params.get("countdown"),
        breath_cues=params.get("breath_cues"),
    )


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def check(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Check routine files and report every mistake as file:line:col: message.

    \b
    Examples:
      guidecast check routines/love-your-spine.yaml
      guidecast check routines/*.yaml

    Exits 0 when every file is clean and 2 when any file has problems.
    """
    failed = False
    for path in files:
        try:
            load_routine(path)
        except RoutineError as e:
            failed = True
            click.echo(str(e), err=False)
        else:
            if not ctx.obj["quiet"]:
                click.echo(f"{path}: ok", err=True)
    if failed:
        ctx.exit(2)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@narration_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (times in ms).")
@click.pass_context
def plan(ctx: click.Context, /, file: Path, as_json: bool, **params: Any) -> None:
    """Show the session's timeline without rendering audio.

    Speech lengths are estimated from word counts here; `render` uses the real ones.

    \b
    Examples:
      guidecast plan routines/love-your-spine.yaml
      guidecast plan routines/love-your-spine.yaml --length 30m --narration full
      guidecast plan routines/back-stiffness.yaml --json | jq .total_ms
    """
    routine = load_routine(file)
    options = options_for(routine, params)
    durations = Estimate(options.rate)
    timeline = compile_routine(routine, options, durations)
    lay = layout(timeline, durations)
    if as_json:
        click.echo(json.dumps(plan_json(timeline, lay), indent=2, ensure_ascii=False))
    else:
        click.echo(plan_table(timeline, lay, verbose=ctx.obj["verbose"] > 0))


def main() -> None:
    """Run the command line, turning GuidecastError into a message and an exit code."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except GuidecastError as e:
        click.echo(f"error: {e}" if not isinstance(e, RoutineError) else str(e), err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
