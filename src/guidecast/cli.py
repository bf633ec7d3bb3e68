"""The `guidecast` command line: the only module that imports click."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .bed import bed_ref
from .compiler import compile_routine, resolve_options
from .durations import MAX_SESSION_MS, format_clock, format_duration, parse_duration
from .errors import AudioError, GuidecastError, RoutineError
from .feed import write_feed
from .mix import resolve_mix
from .model import Narration, Routine, SoundRef
from .plan import plan_json, plan_table
from .render import AudioFormat, Progress, Voice
from .routine import BED_LEVELS, MAX_COUNTDOWN_MS, load_routine
from .serve import ready_message
from .serve import serve as serve_directory
from .session import render_session
from .speech import Estimate
from .timeline import Options, layout
from .tts import ENGINES, ClipCache, bundled_voices, default_cache_dir, make_engine

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


class DurationType(click.ParamType):
    """A duration such as 20m, 1h5m, 45s or 90 (seconds)."""

    name = "duration"

    def __init__(self, *, zero: bool = False, most_ms: int = MAX_SESSION_MS) -> None:
        self.zero = zero
        self.most_ms = most_ms

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            ms = parse_duration(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)
        if ms == 0 and not self.zero:
            self.fail(f"'{value}' is zero: give a positive duration", param, ctx)
        if ms > self.most_ms:
            self.fail(f"'{value}' is more than {format_duration(self.most_ms)}", param, ctx)
        return ms


DURATION = DurationType()
COUNTDOWN = DurationType(zero=True, most_ms=MAX_COUNTDOWN_MS)


class BedType(click.ParamType):
    """A built-in bed name, `none`, or a sound file that decodes to some sound."""

    name = "NAME|FILE"

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


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="guidecast")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("-v", "--verbose", count=True, help="Say more (-vv for debugging detail).")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: int) -> None:
    """Turn guided-session scripts (yoga, stretching, meditation) into narrated audio.

    \b
    Examples:
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
            type=COUNTDOWN,
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
            label = {"speech": "speech  ", "encode": "encoding"}.get(stage, stage)
            state.update(stage=stage, done=0)
            state["bar"] = click.progressbar(
                length=total,
                label=label,
                file=sys.stderr,
                show_pos=stage == "speech",
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


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("output"),
    show_default=True,
    help="Folder for the sessions, or an .mp3 path for one routine.",
)
@narration_options
@click.option(
    "--engine",
    "-e",
    type=click.Choice(ENGINES),
    help="Speech engine: piper (offline, default), gtts (online), fake (test tone).",
)
@click.option(
    "--voice",
    help="Engine voice: a Piper voice name or .onnx path; gtts: a Google "
    "domain for the accent, e.g. co.uk. See `guidecast voices`.",
)
@click.option(
    "--bitrate",
    type=click.Choice(["32", "48", "64", "96", "128"]),
    default="64",
    show_default=True,
    help="Constant MP3 bitrate in kbit/s.",
)
@click.option(
    "--sample-rate",
    type=click.Choice(["22050", "44100", "48000"]),
    default="44100",
    show_default=True,
    help="Output sample rate in Hz.",
)
@click.option("--stereo", is_flag=True, help="Write two (identical) channels instead of mono.")
@click.option(
    "--loudness",
    type=click.FloatRange(-30, -10),
    help="Integrated loudness target in LUFS. [default: -19 mono, -16 stereo]",
)
@click.option(
    "--bed",
    type=BED,
    help="An ambience bed under the whole session, ducked under speech: drone, ocean, rain, "
    "air, any sound file (looped), or none. [default: the routine's `bed`, else none]",
)
@click.option(
    "--bed-level",
    type=click.FloatRange(*BED_LEVELS),
    help="Bed loudness in LU relative to the speech, e.g. -25 for a faint bed. [default: -20]",
)
@click.option("--soft-bells", is_flag=True, help="Let bells swell in instead of striking.")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    envvar="GUIDECAST_CACHE_DIR",
    help="Where synthesized clips are kept. [default: the user cache folder; "
    "env GUIDECAST_CACHE_DIR]",
)
@click.option("--no-cache", is_flag=True, help="Synthesize everything afresh and keep nothing.")
@click.pass_context
def render(ctx: click.Context, /, files: tuple[Path, ...], output: Path, **params: Any) -> None:
    """Render routines to narrated, chaptered MP3 sessions with transcripts.

    Writes NAME.mp3 (CBR, ID3v2.3 tags, one chapter per pose and side, cover art, transcript)
    and beside it NAME.chapters.json, NAME.vtt, NAME.srt, NAME.jpg and NAME.session.json
    (for `guidecast feed`). Speech is cached, so a second render with another --length or
    --narration only synthesizes new sentences. Files are replaced only when complete.

    \b
    Examples:
      guidecast render routines/love-your-spine.yaml
      guidecast render routines/*.yaml -o output/ --narration brief
      guidecast render routines/love-your-spine.yaml -o spine-30.mp3 --length 30m --rate 0.9
      guidecast render routines/back-stiffness.yaml --engine gtts --voice co.uk
      guidecast render routines/love-your-spine.yaml --bed ocean --bed-level -22
    """
    if len(files) > 1 and output.suffix.lower() == ".mp3":
        raise click.UsageError(
            "-o names one .mp3 file but several routines were given; give a folder instead"
        )
    routines = [load_routine(f) for f in files]  # check everything before any long work
    with contextlib.ExitStack() as stack:
        if params["no_cache"]:
            cache_root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="guidecast-")))
        else:
            cache_root = params["cache_dir"] or default_cache_dir()
        for routine in routines:
            _render_one(ctx, routine, output, ClipCache(cache_root), params)


def _render_one(
    ctx: click.Context, routine: Routine, output: Path, cache: ClipCache, params: dict[str, Any]
) -> None:
    options = options_for(routine, params)
    fmt = AudioFormat(
        sample_rate=int(params["sample_rate"]),
        channels=2 if params["stereo"] else 1,
        bitrate=int(params["bitrate"]),
        loudness=params["loudness"],
    )
    engine_name = params["engine"] or routine.engine or "piper"
    try:
        engine = make_engine(engine_name, params["voice"] or routine.voice, routine.language)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    voice = Voice(engine, cache, rate=options.rate, sample_rate=fmt.sample_rate)
    mix = resolve_mix(
        routine, bed=params["bed"], bed_level=params["bed_level"], soft_bells=params["soft_bells"]
    )
    done = render_session(
        routine, options, voice=voice, output=output, fmt=fmt, mix=mix, progress=_bar(ctx)
    )
    if not ctx.obj["quiet"]:
        files = done.export
        click.echo(
            f"{files.files.mp3}  {format_clock(files.duration_ms)}  {files.chapters} chapters  "
            f"{done.lufs:.1f} LUFS  true peak <= {fmt.true_peak:g} dBTP  "
            f"({done.synthesized} sentences synthesized, "
            f"{done.sentences - done.synthesized} from cache)"
        )


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("output"))
@click.option(
    "--base-url",
    required=True,
    help="Where DIRECTORY will be published, e.g. https://example.org/yoga/.",
)
@click.option("--title", help="Podcast title. [default: the sessions' common series]")
@click.pass_context
def feed(ctx: click.Context, /, directory: Path, base_url: str, title: str | None) -> None:
    """Write DIRECTORY/feed.xml: a podcast feed of the sessions rendered there.

    Each item keeps the guid it got at its first render, so podcast apps never see a
    session twice. Run it again after every render to update the feed.

    \b
    Examples:
      guidecast feed output/ --base-url https://example.org/yoga/
      guidecast feed output/ --base-url https://example.org/yoga/ --title "Back Care"

    To listen on a phone on the same Wi-Fi without publishing anything, use
    `guidecast serve` instead: it builds the feed on the fly.
    """
    path = write_feed(directory, base_url=base_url, title=title)
    if not ctx.obj["quiet"]:
        click.echo(f"wrote {path}")


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("output"))
@click.option(
    "--host",
    default="0.0.0.0",
    show_default=True,
    help="Address to listen on; 127.0.0.1 keeps it to this computer.",
)
@click.option(
    "--port",
    "-p",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="TCP port (0 picks a free one).",
)
@click.option("--title", help="Podcast title. [default: the sessions' common series]")
def serve(directory: Path, host: str, port: int, title: str | None) -> None:
    """Serve DIRECTORY to phones on the same network: a page to play sessions and a feed.

    Prints the address to open and a QR code of the feed: scan it with the phone's camera,
    or paste the feed URL into a podcast app ("add by URL"). The page plays each session
    with its chapters and transcript. Press Ctrl-C to stop.

    \b
    Examples:
      guidecast serve output/
      guidecast serve output/ --port 8080
      guidecast serve output/ --host 127.0.0.1
    """
    serve_directory(
        directory,
        host=host,
        port=port,
        title=title,
        on_ready=lambda info: click.echo(ready_message(info)),
    )
    click.echo("Stopped.", err=True)


@cli.command()
def voices() -> None:
    """List speech engines and their voices.

    \b
    Examples:
      guidecast voices
      guidecast render routines/back-stiffness.yaml --voice ~/voices/en_GB-alba-medium.onnx
    """
    click.echo("piper  (offline, default)")
    for name, path in bundled_voices().items():
        click.echo(f"  {name:<10} {path.name} (bundled, default)")
    click.echo("  PATH.onnx  any Piper voice file with its .onnx.json beside it")
    click.echo("gtts   (online: needs internet)")
    click.echo("  com        Google voice for the routine's language; other domains change")
    click.echo("             the accent: co.uk, com.au, ca, co.in, ie, co.za")
    click.echo("fake   (for tests: a tone sized by word count)")


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
