"""`guidecast check`, `plan`, `say` and `schema`: routines checked, planned, previewed and
described for editors."""

from __future__ import annotations

import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any

import click

from ..compiler.fit import compile_routine, crowded_cues
from ..compiler.plan import plan_json, plan_table
from ..compiler.timeline import layout
from ..errors import Problem, RoutineError, printable
from ..lang.speech import Estimate
from ..routine.keys import DEFAULT_RATE, RATE_RANGE
from ..routine.load import load_routine
from ..routine.pronounce import Lexicon
from ..routine.schema import schema_text
from ..store.atomic import write_atomic
from ..tts import (
    ENGINES,
    PiperEngine,
    make_engine,
    write_wav,
)
from .app import FiniteRange, cli, narration_options, options_for
from .report import Report

log = logging.getLogger(__name__)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "form",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: file:line:col: message [rule], one a line; json: a list of problems.",
)
@click.pass_context
def check(ctx: click.Context, files: tuple[Path, ...], form: str) -> None:
    """Check routine files and report every mistake as file:line:col: message [rule].

    The rule in brackets names the kind of mistake (unknown-key, bad-duration, yaml-boolean...;
    docs/routines.md lists them all).

    \b
    Examples:
      guidecast check routines/love-your-spine.yaml
      guidecast check routines/*.yaml
      guidecast check routines/*.yaml --format json | jq '.[].rule'

    Warnings (a cue with no room inside its hold, at some narration level) are printed
    as file:line:col: warning: message and do not change the exit code.

    Exits 0 when every file is clean and 2 when any file has problems.
    """
    report = Report(noun="files", verb="checked")
    found: list[Problem] = []
    for path in files:
        try:
            routine = load_routine(path)
        except RoutineError as e:
            problems = list(e.problems)
            report.failed(str(path), e)
        else:
            problems = sorted([*routine.warnings, *crowded_cues(routine)], key=lambda p: p.loc)
            warnings = [p for p in problems if p.message.startswith("warning:")]
            if len(warnings) < len(problems):
                report.failed(str(path), RoutineError(problems))
            else:
                report.done(str(path))
                if not ctx.obj["quiet"]:
                    plural = "s" if len(warnings) > 1 else ""
                    note = f" ({len(warnings)} warning{plural})" if warnings else ""
                    click.echo(f"{printable(str(path))}: ok{note}", err=True)
        found += problems
        if form == "text":
            for problem in problems:
                click.echo(problem.shown)
    if form == "json":
        click.echo(json.dumps([_as_json(p) for p in found], indent=2, ensure_ascii=False))
    if report.failure_count:
        ctx.exit(report.return_code)


def _as_json(problem: Problem) -> dict[str, Any]:
    warning = problem.message.startswith("warning: ")
    return {
        "path": problem.loc.path,
        "line": problem.loc.line,
        "column": problem.loc.col,
        "severity": "warning" if warning else "error",
        "rule": problem.rule,
        "message": problem.message.removeprefix("warning: "),
    }


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
      guidecast plan routines/love-your-spine.yaml --length 45m --narration full
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


@cli.command()
@click.argument("text")
@click.option(
    "--routine",
    "routine_file",
    type=click.Path(path_type=Path),
    help="Say it with this routine's pronounce: map, engine and voice.",
)
@click.option("--phonemes", is_flag=True, help="Print the phonemes the voice will use (Piper).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The WAV file to write. [default: a file named after TEXT in the temporary folder, "
    "so nothing is left in the current one]",
)
@click.option("--engine", "-e", type=click.Choice(ENGINES), help="Speech engine. [default: piper]")
@click.option("--voice", help="Engine voice (see `guidecast voices`).")
@click.option(
    "--rate", "-r", type=FiniteRange(*RATE_RANGE), default=DEFAULT_RATE, show_default=True
)
@click.pass_context
def say(
    ctx: click.Context,
    /,
    text: str,
    routine_file: Path | None,
    phonemes: bool,
    output: Path | None,
    **params: Any,
) -> None:
    """Preview how the voice says TEXT: the phonemes it uses, and a WAV to listen to.

    Use it to fix a name the voice gets wrong: try a respelling or phonemes, then put the
    one that sounds right in the routine's `pronounce:` map (see docs/routines.md).

    \b
    Examples:
      guidecast say "Savasana" --phonemes
      guidecast say "Gomukhasana" --routine routines/love-your-spine.yaml -o gomukha.wav
      guidecast say "[[ɡˌoʊmʊkˈɑːsənə]]" --phonemes
    """
    routine = load_routine(routine_file) if routine_file else None
    name = params["engine"] or (routine.engine if routine else None) or "piper"
    try:
        voice = params["voice"] or (routine.voice if routine else None)
        engine = make_engine(name, voice, routine.language if routine else "en")
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    lexicon = Lexicon(routine.pronounce if routine else ())
    spoken = lexicon.spoken(text, phonemes=engine.phonemes)
    if spoken != text and not ctx.obj["quiet"]:
        click.echo(f"voice reads: {spoken}")
    if phonemes:
        if not isinstance(engine, PiperEngine):
            raise click.UsageError("--phonemes works with Piper voices only")
        click.echo(f"phonemes:    {engine.phonemize(spoken)}")
    clip = engine.synthesize(spoken, rate=params["rate"])
    if output is None:
        output = say_path(text)
        output.parent.mkdir(exist_ok=True)
    try:
        write_wav(output, clip)
    except OSError as e:
        raise click.FileError(str(output), e.strerror) from e
    if not ctx.obj["quiet"]:
        click.echo(f"wrote {output} ({clip.ms / 1000:.1f}s)", err=True)


def say_path(text: str) -> Path:
    """Where `say` writes when no -o is given: the temporary folder, named after the text."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "say"
    return Path(tempfile.gettempdir()) / "guidecast-say" / f"{slug}.wav"


@cli.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file instead of printing it.",
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of routine files, for editors and validators.

    Made from the same table of keys the loader reads routines with: every key with what it
    means, its default, its limits and examples, so an editor with yaml-language-server
    completes keys and shows their docs. schema/routine.schema.json is its output.

    \b
    Examples:
      guidecast schema > routine.schema.json
      guidecast schema -o schema/routine.schema.json
    And as the first line of a routine file:
      # yaml-language-server: $schema=../schema/routine.schema.json
    """
    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            write_atomic(output, text.encode("utf-8"))
        except OSError as e:
            raise click.FileError(str(output), e.strerror) from e
