"""The `guidecast` command line: the only module that imports click."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .atomic import sweep_temporary_folders, temporary_folder
from .bed import bed_ref
from .compiler import compile_routine, crowded_cues, resolve_options
from .durations import MAX_SESSION_MS, format_clock, format_duration, parse_duration
from .errors import AudioError, GuidecastError, RoutineError, printable
from .feed import write_feed
from .mix import resolve_mix
from .model import Narration, Routine, SoundRef
from .plan import plan_json, plan_table
from .pronounce import Lexicon
from .render import AudioFormat, Progress, Voice
from .routine import BED_LEVELS, MAX_COUNTDOWN_MS, load_routine
from .serve import ready_message
from .serve import serve as serve_directory
from .session import render_session
from .speech import Estimate
from .timeline import Options, layout
from .tts import (
    ENGINES,
    ClipCache,
    Engine,
    PiperEngine,
    default_cache_dir,
    fetch_catalog,
    install_voice,
    installed_voices,
    make_engine,
    remove_voice,
    voices_dir,
    write_wav,
)
from .tts.voices import DEFAULT_VOICE, find_installed, speaks

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


HINTS = {
    "offline": "use --engine piper to render offline, with the voice installed on this computer",
    "port": "choose another port with --port, or --port 0 for any free one",
    "host": "check --host: an address of this computer, e.g. 0.0.0.0 or 127.0.0.1",
}
"""What a user can do about a library error, by its `hint` (the advice names options)."""


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


class FiniteRange(click.FloatRange):
    """A number in a range; `nan` and `inf` are refused (they pass a plain range check)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


DURATION = DurationType()
COUNTDOWN = DurationType(zero=True, most_ms=MAX_COUNTDOWN_MS)


def _printable_args(record: logging.LogRecord) -> bool:
    """Show values in log lines (titles, file names) without their control characters."""
    if isinstance(record.args, tuple):
        record.args = tuple(
            printable(str(a)) if isinstance(a, str | Path) else a for a in record.args
        )
    return True


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
    for handler in logging.getLogger().handlers:
        if _printable_args not in handler.filters:
            handler.addFilter(_printable_args)


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
            type=FiniteRange(0.5, 2.0),
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

    Warnings (a cue with no room inside its hold, at some narration level) are printed
    as file:line:col: warning: message and do not change the exit code.

    Exits 0 when every file is clean and 2 when any file has problems.
    """
    failed = False
    for path in files:
        try:
            routine = load_routine(path)
        except RoutineError as e:
            failed = True
            click.echo(str(e), err=False)
        else:
            crowded = [*routine.warnings, *crowded_cues(routine)]
            for problem in crowded:
                click.echo(str(problem), err=False)
            warnings = [p for p in crowded if p.message.startswith("warning:")]
            if len(warnings) < len(crowded):
                failed = True
            elif not ctx.obj["quiet"]:
                note = f" ({len(warnings)} warnings)" if warnings else ""
                click.echo(f"{printable(str(path))}: ok{note}", err=True)
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
    type=FiniteRange(-30, -10),
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
    if len(files) == 1:
        routines = [load_routine(files[0])]
        _engine_for(routines[0], params)  # the voice is installed (cheap: no model load)
    else:
        routines = _loadable(files, params)
    failed: list[tuple[str, GuidecastError]] = []
    sweep_temporary_folders()  # --no-cache folders of killed runs, whatever this run uses
    with contextlib.ExitStack() as stack:
        if params["no_cache"]:
            cache_root = stack.enter_context(temporary_folder())
        else:
            cache_root = params["cache_dir"] or default_cache_dir()
        for routine in routines:
            try:
                _render_one(ctx, routine, output, ClipCache(cache_root), params)
            except GuidecastError as e:
                if len(files) == 1:
                    raise
                failed.append((routine.path, e))
                click.echo(f"error: {e}", err=True)
    if len(files) > 1:
        _summary(ctx, len(files), failed + ctx.obj.get("load_failures", []))


def _loadable(files: tuple[Path, ...], params: dict[str, Any]) -> list[Routine]:
    """The routines that load and have a voice; the others are reported and remembered."""
    ctx = click.get_current_context()
    routines: list[Routine] = []
    failures: list[tuple[str, GuidecastError]] = []
    for path in files:  # check everything before any long work
        try:
            routine = load_routine(path)
            _engine_for(routine, params)
        except GuidecastError as e:
            click.echo(str(e) if isinstance(e, RoutineError) else f"error: {e}", err=True)
            failures.append((str(path), e))
            continue
        routines.append(routine)
    ctx.obj["load_failures"] = failures
    return routines


def _summary(ctx: click.Context, total: int, failed: list[tuple[str, GuidecastError]]) -> None:
    """One line for several routines, and the worst exit code among them."""
    if not failed:
        return
    names = ", ".join(printable(path) for path, _ in failed)
    click.echo(f"{total - len(failed)} of {total} sessions rendered; failed: {names}", err=True)
    ctx.exit(max(e.exit_code for _, e in failed))


def _engine_for(routine: Routine, params: dict[str, Any]) -> Engine:
    """The routine's engine and voice; Piper picks one for its language when none is named."""
    engine_name = params["engine"] or routine.engine or "piper"
    try:
        return make_engine(engine_name, params["voice"] or routine.voice, routine.language)
    except ValueError as e:
        raise click.UsageError(str(e)) from None


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
    engine = _engine_for(routine, params)
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
            f"{printable(str(files.files.mp3))}  {format_clock(files.duration_ms)}  "
            f"{files.chapters} chapters  "
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
@click.option(
    "--cover",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The show's artwork (JPEG or PNG, cropped square). [default: cover.jpg in "
    "DIRECTORY, else one generated from the title]",
)
@click.option("--owner-email", default="", help="The owner's e-mail for podcast directories.")
@click.pass_context
def feed(
    ctx: click.Context,
    /,
    directory: Path,
    base_url: str,
    title: str | None,
    cover: Path | None,
    owner_email: str,
) -> None:
    """Write DIRECTORY/feed.xml: a podcast feed of the sessions rendered there.

    Each item keeps the guid and date it got at its first render, so podcast apps never
    see a session twice; its URLs change with its content. Run it again after every render
    to update the feed. Also writes DIRECTORY/show.jpg, the show's artwork.

    \b
    Examples:
      guidecast feed output/ --base-url https://example.org/yoga/
      guidecast feed output/ --base-url https://example.org/yoga/ --title "Back Care"

    To listen on a phone on the same Wi-Fi without publishing anything, use
    `guidecast serve` instead: it builds the feed on the fly.
    """
    path = write_feed(
        directory, base_url=base_url, title=title, cover=cover, owner_email=owner_email
    )
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
@click.option(
    "--cover",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The show's artwork (JPEG or PNG, cropped square). [default: cover.jpg in "
    "DIRECTORY, else one generated from the title]",
)
@click.option("--owner-email", default="", help="The owner's e-mail for podcast directories.")
def serve(
    directory: Path, host: str, port: int, title: str | None, cover: Path | None, owner_email: str
) -> None:
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
        cover=cover,
        owner_email=owner_email,
        on_ready=lambda info: click.echo(ready_message(info)),
    )
    click.echo("Stopped.", err=True)


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
    type=click.Path(path_type=Path),
    default=Path("say.wav"),
    show_default=True,
    help="The WAV file to write.",
)
@click.option("--engine", "-e", type=click.Choice(ENGINES), help="Speech engine. [default: piper]")
@click.option("--voice", help="Engine voice (see `guidecast voices`).")
@click.option("--rate", "-r", type=FiniteRange(0.5, 2.0), default=1.0, show_default=True)
@click.pass_context
def say(
    ctx: click.Context,
    /,
    text: str,
    routine_file: Path | None,
    phonemes: bool,
    output: Path,
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
        raise click.UsageError(str(e)) from None
    lexicon = Lexicon(routine.pronounce if routine else ())
    spoken = lexicon.spoken(text, phonemes=engine.phonemes)
    if spoken != text and not ctx.obj["quiet"]:
        click.echo(f"voice reads: {spoken}")
    if phonemes:
        if not isinstance(engine, PiperEngine):
            raise click.UsageError("--phonemes works with Piper voices only")
        click.echo(f"phonemes:    {engine.phonemize(spoken)}")
    clip = engine.synthesize(spoken, rate=params["rate"])
    write_wav(output, clip)
    if not ctx.obj["quiet"]:
        click.echo(f"wrote {output} ({clip.ms / 1000:.1f}s)", err=True)


def voice_list_options(f: F) -> F:
    """The options of `voices` and `voices list`."""
    decorators = [
        click.option(
            "--downloadable",
            "-d",
            is_flag=True,
            help="List the Piper voices you can install (needs internet).",
        ),
        click.option(
            "--language",
            "-l",
            metavar="LANG",
            help="Only voices of this language, e.g. es, es-MX, de.",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


@cli.group(invoke_without_command=True)
@voice_list_options
@click.pass_context
def voices(ctx: click.Context, /, downloadable: bool, language: str | None) -> None:
    """List speech engines and their voices; install Piper voices for other languages.

    By itself it lists the voices on this computer (no network needed): the bundled
    English voice joe, and the Piper voices installed by `guidecast voices install`.
    A routine's `language:` picks an installed voice of that language when it names
    no `voice:`.

    \b
    Examples:
      guidecast voices
      guidecast voices --downloadable --language es
      guidecast voices install es_ES-davefx-medium
      guidecast render routines/back-stiffness.yaml --voice es_ES-davefx-medium
      guidecast render routines/back-stiffness.yaml --voice ~/voices/en_GB-alba-medium.onnx
    """
    if ctx.invoked_subcommand is None:
        _list_voices(downloadable, language)


@voices.command("list")
@voice_list_options
def voices_list(downloadable: bool, language: str | None) -> None:
    """List the voices on this computer, or those you can install (--downloadable).

    \b
    Examples:
      guidecast voices list
      guidecast voices list --downloadable --language de
    """
    _list_voices(downloadable, language)


def _list_voices(downloadable: bool, language: str | None) -> None:
    if downloadable:
        _list_downloadable(language)
        return
    click.echo("piper  (offline, default)")
    for voice in installed_voices().values():
        if language and not speaks(voice.language, language):
            continue
        where = (
            f"{voice.model.name} (bundled, default)"
            if voice.name == DEFAULT_VOICE
            else f"{voice.model.name} (bundled)"
            if voice.bundled
            else f"installed in {voice.model.parent}"
        )
        click.echo(f"  {voice.name:<24} {voice.language:<6} {where}")
    click.echo(f"  {'PATH.onnx':<24} any Piper voice file with its .onnx.json beside it")
    click.echo("  more: guidecast voices --downloadable, then guidecast voices install NAME")
    click.echo(f"  (installed voices live in {voices_dir()})")
    if language:
        return
    click.echo("gtts   (online: needs internet)")
    click.echo("  com        Google voice for the routine's language; other domains change")
    click.echo("             the accent: co.uk, com.au, ca, co.in, ie, co.za")
    click.echo("fake   (for tests: a tone sized by word count)")


def _list_downloadable(language: str | None) -> None:
    catalog = fetch_catalog()
    have = installed_voices()
    shown = [v for v in catalog.values() if not language or v.speaks(language)]
    if not shown:
        raise click.UsageError(
            f"no Piper voice in the catalog speaks '{language}'; "
            "try a language code such as es, de or pt-BR"
        )
    for v in shown:
        mark = "  installed" if v.name in have else ""
        click.echo(
            f"{v.name:<32} {v.language:<6} {v.language_name:<28} {v.quality:<7} "
            f"{v.size / 1e6:5.0f} MB{mark}"
        )
    count = f"{len(shown)} voice{'s' if len(shown) > 1 else ''}"
    click.echo(f"{count}; install one: guidecast voices install NAME", err=True)


@voices.command("install")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@click.option("--force", is_flag=True, help="Download again even if it is installed.")
@click.pass_context
def voices_install(ctx: click.Context, /, names: tuple[str, ...], force: bool) -> None:
    """Download Piper voices by name, checked by md5, to speak offline.

    The voice then works offline: give its name to --voice or a routine's `voice:`, or let
    a routine's `language:` pick it. `guidecast voices` shows the folder (set another with
    GUIDECAST_VOICES_DIR, and another catalog address with GUIDECAST_VOICES_URL).

    \b
    Examples:
      guidecast voices install es_ES-davefx-medium
      guidecast voices install de_DE-thorsten-medium fr_FR-siwis-medium
    """
    for name in names:
        have = find_installed(name)
        if have is not None and (not force or have.bundled):
            if not ctx.obj["quiet"]:
                how = "bundled with guidecast" if have.bundled else "already installed"
                click.echo(f"{name} is {how}: {have.model}")
            continue
        voice = install_voice(name, force=force, progress=_bar(ctx))
        if not ctx.obj["quiet"]:
            click.echo(f"installed {voice.name} ({voice.language}): {voice.model}")


@voices.command("remove")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@click.pass_context
def voices_remove(ctx: click.Context, /, names: tuple[str, ...]) -> None:
    """Delete Piper voices installed by `guidecast voices install`.

    \b
    Example:
      guidecast voices remove es_ES-davefx-medium
    """
    for name in names:
        model = remove_voice(name)
        if not ctx.obj["quiet"]:
            click.echo(f"removed {name} ({model})")


def main() -> None:
    """Run the command line, turning GuidecastError into a message and an exit code."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
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
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
