"""`guidecast feed` and `guidecast serve`: publish rendered sessions to phones and apps."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..publish.episodes import load_sessions
from ..publish.feed import write_feed
from ..publish.serve import ServeConfig, ready_message
from ..publish.serve import serve as serve_directory
from ..tts import ENGINES, make_engine
from .app import F, cache_dir_option, cli

log = logging.getLogger(__name__)


def show_options(f: F) -> F:
    """The show's artwork and owner, shared by `feed` and `serve`."""
    f = click.option(
        "--owner-email", default="", help="The owner's e-mail for podcast directories."
    )(f)
    return click.option(
        "--cover",
        type=click.Path(path_type=Path, dir_okay=False),
        help="The show's artwork (JPEG or PNG, cropped square). [default: cover.jpg in "
        "DIRECTORY, else one generated from the title]",
    )(f)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("output"))
@click.option(
    "--base-url",
    required=True,
    help="Where DIRECTORY will be published, e.g. https://example.org/yoga/.",
)
@click.option("--title", help="Podcast title. [default: the sessions' common series]")
@show_options
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
        episodes = len(load_sessions(directory))
        click.echo(f"wrote {path} ({episodes} episode{'' if episodes == 1 else 's'})")


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
    "--routines",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also offer the routines (*.yaml) of this folder: a listener picks the length, "
    "narration, pace and sound on the page, and the server renders that session into "
    "DIRECTORY/variants/.",
)
@click.option(
    "--engine",
    "-e",
    type=click.Choice(ENGINES),
    default="piper",
    show_default=True,
    help="Speech engine for sessions made on request (piper is offline).",
)
@click.option("--voice", help="Engine voice for them. [default: each routine's, else Piper's]")
@click.option(
    "--name",
    "names",
    multiple=True,
    metavar="HOST",
    help="Another name this computer is reached by (a router's DNS name, e.g. "
    "desk.fritz.box); the page makes and keeps sessions only at the computer's own names "
    "and addresses. Repeatable.",
)
@cache_dir_option
@show_options
def serve(
    directory: Path,
    host: str,
    port: int,
    title: str | None,
    routines: Path | None,
    engine: str,
    voice: str | None,
    names: tuple[str, ...],
    cache_dir: Path | None,
    cover: Path | None,
    owner_email: str,
) -> None:
    """Serve DIRECTORY to phones on the same network: a page to play sessions and a feed.

    Prints the address to open and a QR code of the feed: scan it with the phone's camera,
    or paste the feed URL into a podcast app ("add by URL"). The page plays each session
    with its chapters and transcript. Press Ctrl-C to stop.

    With --routines, the page also lists those routines: pick a length (only those the
    routine allows), narration, pace and sound, and press play; the first time, the server
    renders it while the page shows its progress, then it plays at once. "Keep in my feed"
    adds that session to the podcast feed.

    \b
    Examples:
      guidecast serve output/
      guidecast serve output/ --routines routines/
      guidecast serve output/ --port 8080
      guidecast serve output/ --host 127.0.0.1
    """
    # Folders that are not there are a mistake on the command line (exit 2), seen at once.
    if routines is not None and not routines.is_dir():
        raise click.BadParameter(f"{routines}: no such folder of routines", param_hint="--routines")
    if routines is None and not directory.is_dir():
        raise click.BadParameter(
            f"{directory}: no such folder; render a session into it first",
            param_hint="DIRECTORY",
        )
    try:
        make_engine(engine, voice)  # an unknown voice fails now, not on the phone
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    config = ServeConfig(
        directory,
        host=host,
        port=port,
        title=title,
        cover=cover,
        owner_email=owner_email,
        routines=routines,
        engine=engine,
        voice=voice,
        cache_dir=cache_dir,
        names=names,
    )
    serve_directory(config, on_ready=lambda info: click.echo(ready_message(info)))
    click.echo("Stopped.", err=True)
