"""`guidecast render`: routines to sessions, several at once, going on past a failing one."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import click

from ..compiler.options import Options
from ..errors import GuidecastError, RoutineError, printable
from ..model import Routine
from ..routine.durations import format_clock
from ..routine.keys import BED_LEVEL, BED_LEVELS, CLOCK_BED_LEVEL, DEFAULT_BED, DEFAULT_BED_LEVEL
from ..routine.load import load_routine
from ..session import prepare_every_length, render_session
from ..sound.mix import resolve_mix
from ..sound.render import AudioFormat, Voice
from ..sound.speakers import check_speakers
from ..store.atomic import sweep_temporary_folders, temporary_folder
from ..tts import (
    ENGINES,
    ClipCache,
    Engine,
    default_cache_dir,
    make_engine,
)
from .app import BED, FiniteRange, _bar, cache_dir_option, cli, narration_options, options_for
from .report import Report

log = logging.getLogger(__name__)


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
    "air, any sound file (looped), a folder of sound files (music/: played through in name "
    "order, crossfaded), or none (digital silence between sounds). It replaces the routine's "
    "session bed; beds its sections, blocks and steps name still play there. "
    f"[default: the routine's `bed`, else {DEFAULT_BED}, faint]",
)
@click.option(
    "--bed-level",
    type=FiniteRange(*BED_LEVELS),
    help="Bed loudness in LU relative to the speech, e.g. -25 for a faint bed. "
    f"[default: {BED_LEVEL:g}; the default bed {DEFAULT_BED_LEVEL:g}, or {CLOCK_BED_LEVEL:g} "
    "on the clock]",
)
@click.option("--soft-bells", is_flag=True, help="Let bells swell in instead of striking.")
@cache_dir_option
@click.option("--no-cache", is_flag=True, help="Synthesize everything afresh and keep nothing.")
@click.pass_context
def render(ctx: click.Context, /, files: tuple[Path, ...], output: Path, **params: Any) -> None:
    """Render routines to narrated, chaptered MP3 sessions with transcripts.

    Writes NAME.mp3 (CBR, ID3v2.3 tags, one chapter per pose and side, cover art, transcript)
    and beside it NAME.chapters.json, NAME.vtt, NAME.srt, NAME.jpg and NAME.session.json
    (for `guidecast feed`). Speech and its encoded sound are cached, so a second render with
    another --length or --narration only makes what it has not said before: without a bed it
    takes well under a second. Files are replaced only when complete.

    \b
    Examples:
      guidecast render routines/love-your-spine.yaml
      guidecast render routines/*.yaml -o output/ --narration brief
      guidecast render routines/love-your-spine.yaml -o spine-45.mp3 --length 45m --rate 0.9
      guidecast render routines/back-stiffness.yaml --engine gtts --voice co.uk
      guidecast render routines/love-your-spine.yaml --bed ocean --bed-level -22
    """
    if len(files) > 1 and output.suffix.lower() == ".mp3":
        raise click.UsageError(
            "-o names one .mp3 file but several routines were given; give a folder instead"
        )
    report = Report()
    if len(files) == 1:
        routines = [load_routine(files[0])]
        _engine_for(routines[0], params)  # the voice is installed (cheap: no model load)
    else:
        routines = _loadable(files, params, report)
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
                report.failed(routine.path, e)
                click.echo(f"error: {e}", err=True)
            else:
                report.done(routine.path)
    if report.failure_count:
        click.echo(str(report), err=True)
        ctx.exit(report.return_code)


def _loadable(files: tuple[Path, ...], params: dict[str, Any], report: Report) -> list[Routine]:
    """The routines that load and have a voice; the others are reported."""
    routines: list[Routine] = []
    for path in files:  # check everything before any long work
        try:
            routine = load_routine(path)
            _engine_for(routine, params)
        except GuidecastError as e:
            click.echo(str(e) if isinstance(e, RoutineError) else f"error: {e}", err=True)
            report.failed(str(path), e)
            continue
        routines.append(routine)
    return routines


def _engine_for(routine: Routine, params: dict[str, Any]) -> Engine:
    """The routine's engine and voice; Piper picks one for its language when none is named."""
    engine_name = params["engine"] or routine.engine or "piper"
    try:
        engine = make_engine(engine_name, params["voice"] or routine.voice, routine.language)
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    # The voices of the routine's parts are installed too (located in the routine if not).
    check_speakers(routine, lambda voice, language: make_engine(engine_name, voice, language))
    return engine


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
    if done.synthesized and engine.local and not params["no_cache"]:
        _prepare_other_lengths(ctx, routine, options, voice, done.loudness_gap_db, fmt)


def _prepare_other_lengths(
    ctx: click.Context,
    routine: Routine,
    options: Options,
    voice: Voice,
    loudness_gap_db: float | None,
    fmt: AudioFormat,
) -> None:
    """After a routine's first render, what its other lengths say: then any `--length` is a
    splice of kept speech (no voice to load). The session is complete before this starts."""
    bar = _bar(ctx)
    try:
        made = prepare_every_length(
            routine,
            options,
            voice=voice,
            progress=lambda _, done, total: bar("lengths", done, total),
            loudness_gap_db=loudness_gap_db,
            fmt=fmt,
        )
    except KeyboardInterrupt:
        click.echo(
            "Stopped before the other lengths were prepared; the session is complete.", err=True
        )
        return
    if made and not ctx.obj["quiet"]:
        click.echo(f"  {made} sentences kept for other lengths: any --length now renders at once")
